//! SQL for server-wide settings: one text value per key.

use roster_core::error::Result;
use roster_core::store::{SettingsRead, SettingsWrite};

use super::decode::params;
use super::SqlTx;

impl SettingsRead for SqlTx<'_> {
    fn setting(&mut self, key: &str) -> Result<Option<String>> {
        let sql = "SELECT value FROM settings WHERE key = $1";
        self.query_opt(sql, &params! { key }, |row| row.get(0))
    }
}

impl SettingsWrite for SqlTx<'_> {
    fn insert_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()> {
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
        self.run(sql, &params! { key, value })
    }
}

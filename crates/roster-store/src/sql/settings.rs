//! SQL for server-wide settings: one text value per key.

use roster_core::error::Result;
use roster_core::store::{SettingsRead, SettingsWrite};

use super::{SqlTx, Value};

impl SettingsRead for SqlTx<'_> {
    fn setting(&mut self, key: &str) -> Result<Option<String>> {
        self.query_opt(
            "SELECT value FROM settings WHERE key = $1",
            &[Value::text(key)],
            |row| row.text(0),
        )
    }
}

impl SettingsWrite for SqlTx<'_> {
    fn insert_setting_if_absent(&mut self, key: &str, value: &str) -> Result<()> {
        self.run(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[Value::text(key), Value::text(value)],
        )
    }
}

//! Timestamps: milliseconds since the Unix epoch in storage and in the core,
//! RFC 3339 on the wire.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self((OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub fn millis(&self) -> i64 {
        self.0
    }

    pub fn secs(&self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus_secs(&self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-22T10:00:00.123Z`.
    pub fn to_rfc3339(&self) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

/// Parses a duration such as `7d`, `12h`, `30m`, `45s` or a bare number of
/// seconds into seconds.
pub fn parse_duration_secs(raw: &str) -> Result<i64, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("not a duration: {raw:?}"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("unknown unit in {raw:?}: use s, m, h, d or w")),
    };
    if n <= 0 {
        return Err(format!("duration must be positive: {raw:?}"));
    }
    Ok(n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_rfc3339_utc() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_500).to_rfc3339(), "1970-01-01T00:00:01.5Z");
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration_secs("7d"), Ok(604_800));
        assert_eq!(parse_duration_secs("90"), Ok(90));
        assert_eq!(parse_duration_secs("2h"), Ok(7_200));
        assert!(parse_duration_secs("0d").is_err());
        assert!(parse_duration_secs("7 days").is_err());
    }
}

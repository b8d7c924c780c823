//! Timestamps as the store keeps them: RFC3339, UTC, millisecond precision, fixed width, so
//! that comparing the text compares the times.

use chrono::{DateTime, SecondsFormat, Utc};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl std::str::FromStr for Timestamp {
    type Err = String;

    /// Accepts any RFC3339 time (any offset) and normalizes it to UTC.
    fn from_str(s: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| Timestamp::from(t.with_timezone(&Utc)))
            .map_err(|e| format!("`{s}` is not an RFC3339 time (like 2026-11-24T18:00:00Z): {e}"))
    }
}

pub fn now() -> Timestamp {
    Timestamp::from(Utc::now())
}

//! How a timestamp column is written (the validate step's `format`): RFC3339 text, a Unix
//! epoch in seconds, milliseconds or microseconds, or a strftime pattern. The model only; the
//! mapping converts columns by it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampFormat {
    Rfc3339,
    UnixSeconds,
    UnixMillis,
    UnixMicros,
    /// A chrono strftime pattern such as `%Y-%m-%d %H:%M:%S` (read as UTC).
    Pattern(String),
}

impl TimestampFormat {
    pub fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "rfc3339" | "iso8601" => TimestampFormat::Rfc3339,
            "unix_seconds" | "unix" => TimestampFormat::UnixSeconds,
            "unix_millis" => TimestampFormat::UnixMillis,
            "unix_micros" => TimestampFormat::UnixMicros,
            p if p.contains('%') => {
                let items = chrono::format::StrftimeItems::new(p);
                if items
                    .clone()
                    .any(|i| matches!(i, chrono::format::Item::Error))
                {
                    return Err(format!(
                        "timestamp format `{p}` is not a valid strftime pattern"
                    ));
                }
                TimestampFormat::Pattern(p.to_owned())
            }
            other => {
                return Err(format!(
                    "unknown timestamp format `{other}`: use rfc3339, unix_seconds, unix_millis, unix_micros or a strftime pattern like \"%Y-%m-%d %H:%M:%S\""
                ));
            }
        })
    }
}

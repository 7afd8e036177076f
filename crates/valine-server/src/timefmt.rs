//! Instants on the wire: RFC 3339 in UTC with millisecond precision.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn iso(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_epoch_millis() {
        assert_eq!(super::iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}

//! Timestamps as the API writes them: RFC 3339 in UTC, to the second.

use serde::Serializer;
use std::time::{SystemTime, UNIX_EPOCH};

/// `2025-03-01T14:05:09Z`; times before 1970 are written as the epoch.
pub fn rfc3339(t: SystemTime) -> String {
    jiff::Timestamp::from_second(unix_seconds(t))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

/// Whole seconds since 1970-01-01T00:00:00Z (0 for earlier times).
pub fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// For `#[serde(serialize_with = "...")]` on a `SystemTime`.
pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// For `#[serde(serialize_with = "...")]` on an `Option<SystemTime>`.
pub fn serialize_opt<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats_known_instants() {
        let at = |s: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(1_740_837_909), "2025-03-01T14:05:09Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }
}

//! The office's wall-clock time: the one place the server reads the clock for a call's
//! scripts (`time.hour`, `time.weekday`), in the plan's `timezone`.

use std::time::SystemTime;
use switchboard_dsl::script::WallTime;

/// `now` in the named IANA time zone (`America/Chicago`). An unknown zone cannot reach
/// here (the check refuses it), but falls back to UTC rather than failing a call.
pub fn wall_time(timezone: &str, now: SystemTime) -> WallTime {
    let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let ts = jiff::Timestamp::try_from(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    WallTime::from_civil(ts.to_zoned(tz).datetime())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn office_time_follows_the_time_zone_and_daylight_saving() {
        // 2026-11-23 16:00 UTC is 10:00 in Chicago (CST, UTC-6), a Monday.
        let t = UNIX_EPOCH + Duration::from_secs(1_795_449_600);
        let w = wall_time("America/Chicago", t);
        assert_eq!(
            (w.year, w.month, w.day, w.hour, w.minute, w.weekday),
            (2026, 11, 23, 10, 0, 1)
        );
        // In July Chicago is UTC-5: 2026-07-06 15:00 UTC is 10:00 there.
        let t = UNIX_EPOCH + Duration::from_secs(1_783_350_000);
        assert_eq!(wall_time("America/Chicago", t).hour, 10);
        assert_eq!(wall_time("UTC", t).hour, 15);
        assert_eq!(wall_time("Not/AZone", t).hour, 15);
    }
}

//! Timestamps in the shape Ansible's command results use (Python's `str()` of
//! `datetime` and `timedelta`), without a date library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2024-05-01 12:34:56.123456` (UTC: the controller's time zone is not looked up).
pub fn format_timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

/// `0:00:00.003210`, like Python's `str(timedelta)` (always with microseconds).
pub fn format_delta(delta: Duration) -> String {
    let secs = delta.as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let clock = format!(
        "{}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        delta.subsec_micros()
    );
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's well-known algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_python_str() {
        let t = UNIX_EPOCH + Duration::from_micros(1_714_566_896_123_456);
        assert_eq!(format_timestamp(t), "2024-05-01 12:34:56.123456");
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01 00:00:00.000000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_timestamp(leap), "2000-02-29 00:00:00.000000");
    }

    #[test]
    fn deltas_match_python_str() {
        assert_eq!(format_delta(Duration::from_micros(3210)), "0:00:00.003210");
        assert_eq!(format_delta(Duration::from_secs(3723)), "1:02:03.000000");
        assert_eq!(
            format_delta(Duration::from_secs(86_400 + 5)),
            "1 day, 0:00:05.000000"
        );
    }
}

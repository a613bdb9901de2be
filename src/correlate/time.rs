//! `eventTime` as seconds since the epoch and back, and durations such as `10m`.
//!
//! CloudTrail writes `2024-05-01T12:34:56Z` (UTC, sometimes with fractions); windows work in
//! whole seconds. Days are converted with the civil-calendar arithmetic of Howard Hinnant's
//! `days_from_civil`, so no date library is needed for this one format.

use crate::alert::time;

/// Seconds since 1970-01-01T00:00:00Z of a CloudTrail `eventTime`; `None` when it is not one.
/// Only CloudTrail's own form (`T`, `Z`, two-digit fields, fractions of digits) is taken; the
/// calendar is [`time::epoch_millis`]'s.
pub fn parse_event_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && b[10] == b'T'
        && b.last() == Some(&b'Z')
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .into_iter()
            .all(digits)
        && (b.len() == 20 || (b[19] == b'.' && digits(20..b.len() - 1)));
    shape
        .then(|| time::epoch_millis(text))?
        .map(|ms| ms.div_euclid(1000))
}

/// `2024-05-01T12:34:56Z` for seconds since the epoch.
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// What [`parse_duration`] reads, for error messages: `is not {DURATION}`.
pub const DURATION: &str = "a duration such as 90s, 20m, 1h or 1d (a whole number above 0)";

/// Seconds of a duration written `30s`, `10m`, `2h` or `1d` (Sigma's `timespan`).
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let n: i64 = text[..text.len() - 1].parse().ok()?;
    (n > 0).then(|| n.checked_mul(unit))?
}

/// [`time::civil_from_days`] as whole numbers.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let (y, m, d) = time::civil_from_days(z);
    (y, i64::from(m), i64::from(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_event_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_event_time("2024-02-29T23:59:59Z"),
            Some(1_709_251_199)
        );
        assert_eq!(
            parse_event_time("2024-02-29T23:59:59.123Z"),
            Some(1_709_251_199)
        );
        for t in [0, 1_709_251_199, 951_782_400, 4_102_444_800] {
            assert_eq!(parse_event_time(&format_time(t)), Some(t), "{t}");
        }
        for bad in [
            "",
            "2024-02-29 23:59:59Z",
            "2024-13-01T00:00:00Z",
            "2024-02-29T23:59:59",
            "x024-02-29T23:59:59Z",
            "2023-02-29T00:00:00Z",
            "2024-02-29T23:59:59.1xZ",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Some(600));
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("45s"), Some(45));
        assert_eq!(parse_duration("2d"), Some(172_800));
        for bad in ["", "m", "10", "-5m", "0m", "1w"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}

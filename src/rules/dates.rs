//! Calendar days as `YYYY-MM-DD` text, for filters' `expires`: no date library for so little.

use crate::alert::time;

use std::time::{SystemTime, UNIX_EPOCH};

/// Why a text is not a date.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a date (YYYY-MM-DD)")]
pub struct NotADate(pub String);

/// Checks a `YYYY-MM-DD` date and returns it as written.
pub fn parse(text: &str) -> Result<String, NotADate> {
    let bad = || NotADate(text.to_owned());
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(bad());
    };
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let (y, m, d) = (
        num(y, 4).ok_or_else(bad)?,
        num(m, 2).ok_or_else(bad)?,
        num(d, 2).ok_or_else(bad)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || from_days(days(y, m, d)) != (y, m, d) {
        return Err(bad());
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// Today (UTC), plus `ahead` days.
pub fn today_plus(ahead: i64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = from_days(secs as i64 / 86_400 + ahead);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today (UTC).
pub fn today() -> String {
    today_plus(0)
}

/// Days since 1970-01-01 of a civil date ([`time::days_from_civil`]); out-of-range months
/// and days give a date that does not round-trip, which [`parse`] refuses.
fn days(y: i64, m: i64, d: i64) -> i64 {
    time::days_from_civil(y, m.clamp(0, 13) as u32, d.clamp(0, 32) as u32)
}

/// The civil date of a day count since 1970-01-01 ([`time::civil_from_days`]).
fn from_days(z: i64) -> (i64, i64, i64) {
    let (y, m, d) = time::civil_from_days(z);
    (y, i64::from(m), i64::from(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(days(1970, 1, 1), 0);
        assert_eq!(from_days(days(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(from_days(days(2026, 12, 31) + 1), (2027, 1, 1));
        assert_eq!(parse("2027-03-01").unwrap(), "2027-03-01");
        for bad in [
            "2027-02-30",
            "2027-13-01",
            "27-01-01",
            "2027/01/01",
            "soon",
            "2023-02-29",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(today_plus(91) > today());
        assert_eq!(today().len(), 10);
    }
}

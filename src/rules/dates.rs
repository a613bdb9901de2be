//! Calendar days as `YYYY-MM-DD` text, for filters' `expires`: no date library for so little.

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

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
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

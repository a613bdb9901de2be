//! Calendar days as `YYYY-MM-DD` text, for filters' `expires`: no date library for so little.

use crate::alert::time;

/// Why a text is not a date.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a date (YYYY-MM-DD)")]
pub struct NotADate(pub String);

/// Checks a `YYYY-MM-DD` date (digits only, a day of the calendar) and returns it as written.
pub fn parse(text: &str) -> Result<String, NotADate> {
    let text = text.trim();
    let b = text.as_bytes();
    let digits = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !digits || time::parse_date(text).is_none() {
        return Err(NotADate(text.to_owned()));
    }
    Ok(text.to_owned())
}

/// Today (UTC), plus `ahead` days.
pub fn today_plus(ahead: i64) -> String {
    let days = (time::now_millis() / 86_400_000) as i64;
    let (y, m, d) = time::civil_from_days(days + ahead);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today (UTC).
pub fn today() -> String {
    today_plus(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        use crate::alert::time::{civil_from_days, days_from_civil};
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(
            civil_from_days(days_from_civil(2026, 12, 31) + 1),
            (2027, 1, 1)
        );
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

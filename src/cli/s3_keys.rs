//! Which keys of a bucket `replay s3://...` reads: CloudTrail's layout
//! (`AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE`), narrowed by `--since`,
//! `--until`, `--account` and `--region`. Digest files (`CloudTrail-Digest/`) and other keys
//! are not deliveries.

use crate::alert::time::{civil_from_days, parse_date};
use crate::delivery::is_delivery_name;

/// Ranges wider than this many days are listed region by region, not day by day.
pub const MAX_LISTED_DAYS: i64 = 400;

/// A bad `s3://` URL, date or duration: names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: {why}")]
pub struct BadInput {
    /// The value as given.
    pub input: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// What keys to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    /// First day kept (days since 1970-01-01).
    pub since: Option<i64>,
    /// Last day kept.
    pub until: Option<i64>,
    /// Accounts kept (all when empty).
    pub accounts: Vec<String>,
    /// Regions kept (all when empty).
    pub regions: Vec<String>,
}

impl KeyFilter {
    /// Refuses what cannot be right, naming the flag and the value: an account id that is not
    /// 12 digits, a region that is not a region name, a range that ends before it starts, a
    /// day after `today` (days since 1970-01-01). A typo would otherwise list nothing and
    /// succeed.
    pub fn check(&self, today: i64) -> Result<(), BadInput> {
        let bad = |input: String, why| Err(BadInput { input, why });
        if let Some(a) = self
            .accounts
            .iter()
            .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            return bad(format!("--account {a}"), "an account id is 12 digits");
        }
        if let Some(r) = self.regions.iter().find(|r| !is_region(r)) {
            return bad(
                format!("--region {r}"),
                "not a region name (like us-east-1)",
            );
        }
        if let (Some(s), Some(u)) = (self.since, self.until) {
            if s > u {
                let range = format!("--since {} --until {}", day(s), day(u));
                return bad(range, "the range ends before it starts");
            }
        }
        for (flag, d) in [("--since", self.since), ("--until", self.until)] {
            if let Some(d) = d.filter(|&d| d > today) {
                return bad(format!("{flag} {}", day(d)), "after today");
            }
        }
        Ok(())
    }
}

/// `YYYY-MM-DD` of a day (days since 1970-01-01).
fn day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whether `r` reads as a region name: `us-east-1`, `us-gov-west-1`, `ap-southeast-2`.
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(lower)
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The parts of a delivery key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey<'a> {
    /// The account the trail logged.
    pub account: &'a str,
    /// The region of the delivery.
    pub region: &'a str,
    /// The day of the delivery (days since 1970-01-01).
    pub day: i64,
}

/// The layout parts of `key`, when it is a delivery in CloudTrail's layout.
pub fn parse_key(key: &str) -> Option<LogKey<'_>> {
    let at = key.find("AWSLogs/")?;
    let mut parts = key[at + "AWSLogs/".len()..].split('/');
    let mut account = parts.next()?;
    if account.starts_with("o-") {
        account = parts.next()?;
    }
    if parts.next()? != "CloudTrail" {
        return None;
    }
    let region = parts.next()?;
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let file = parts.next()?;
    if parts.next().is_some() || !is_delivery_name(file) {
        return None;
    }
    let day = parse_date(&format!("{y}-{m}-{d}"))?;
    Some(LogKey {
        account,
        region,
        day,
    })
}

impl KeyFilter {
    /// Whether `account` is kept.
    pub fn account(&self, account: &str) -> bool {
        self.accounts.is_empty() || self.accounts.iter().any(|a| a == account)
    }

    /// Whether `region` is kept.
    pub fn region(&self, region: &str) -> bool {
        self.regions.is_empty() || self.regions.iter().any(|r| r == region)
    }

    /// Whether `key` is a delivery this filter keeps.
    pub fn matches(&self, key: &str) -> bool {
        parse_key(key).is_some_and(|k| {
            self.account(k.account)
                && self.region(k.region)
                && self.since.is_none_or(|s| k.day >= s)
                && self.until.is_none_or(|u| k.day <= u)
        })
    }

    /// Whether `key` is a digest file this filter keeps (its account, region and day).
    pub fn matches_digest(&self, key: &str) -> bool {
        let Some(p) = crate::digest::KeyParts::parse(key) else {
            return false;
        };
        let crate::digest::KeyKind::Digest { end, .. } = p.kind else {
            return false;
        };
        let day = end.div_euclid(86_400);
        self.account(p.account)
            && self.region(p.region)
            && self.since.is_none_or(|s| day >= s)
            && self.until.is_none_or(|u| day <= u)
    }

    /// The day prefixes (`YYYY/MM/DD/`) to list under a region, when the range is bounded and
    /// short enough; `None` to list the whole region.
    pub fn day_prefixes(&self, today: i64) -> Option<Vec<String>> {
        let since = self.since?;
        let until = self.until.unwrap_or(today);
        if until < since || until - since > MAX_LISTED_DAYS {
            return (until < since).then(Vec::new);
        }
        Some(
            (since..=until)
                .map(|d| {
                    let (y, m, d) = civil_from_days(d);
                    format!("{y:04}/{m:02}/{d:02}/")
                })
                .collect(),
        )
    }
}

/// A `--since`/`--until` value: a date (`2026-11-28`) or a duration back from `today`
/// (`7d`, `2w`).
pub fn parse_when(s: &str, today: i64) -> Result<i64, BadInput> {
    let bad = |why| BadInput {
        input: s.to_owned(),
        why,
    };
    if let Some(days) = parse_date(s) {
        return Ok(days);
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n
        .parse()
        .map_err(|_| bad("expected a date (YYYY-MM-DD) or a duration (7d, 2w)"))?;
    match unit {
        "d" => Ok(today - n),
        "w" => Ok(today - 7 * n),
        _ => Err(bad("a duration counts days (d) or weeks (w)")),
    }
}

/// The bucket and prefix of an `s3://bucket/prefix` URL.
pub fn parse_url(url: &str) -> Result<(String, String), BadInput> {
    let rest = url.strip_prefix("s3://").ok_or(BadInput {
        input: url.to_owned(),
        why: "not an s3:// URL",
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(BadInput {
            input: url.to_owned(),
            why: "no bucket name",
        });
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str =
        "logs/AWSLogs/o-a1b2c3/111122223333/CloudTrail/eu-west-1/2026/11/28/f.json.gz";

    #[test]
    fn typos_in_the_filter_are_refused_naming_the_flag_and_value() {
        let today = parse_date("2026-12-06").unwrap();
        let check = |f: KeyFilter| f.check(today).map_err(|e| e.to_string());
        let ok = KeyFilter {
            since: parse_date("2026-11-01"),
            until: parse_date("2026-12-05"),
            accounts: vec!["111122223333".into()],
            regions: vec!["us-gov-west-1".into(), "eu-west-1".into()],
        };
        assert_eq!(check(ok.clone()), Ok(()));
        let short = KeyFilter {
            accounts: vec!["11112222333".into()],
            ..ok.clone()
        };
        assert_eq!(
            check(short),
            Err("--account 11112222333: an account id is 12 digits".into())
        );
        let region = KeyFilter {
            regions: vec!["us-east1".into()],
            ..ok.clone()
        };
        assert_eq!(
            check(region),
            Err("--region us-east1: not a region name (like us-east-1)".into())
        );
        let backwards = KeyFilter {
            since: parse_date("2026-12-05"),
            until: parse_date("2026-11-01"),
            ..ok.clone()
        };
        assert_eq!(
            check(backwards),
            Err("--since 2026-12-05 --until 2026-11-01: the range ends before it starts".into())
        );
        let future = KeyFilter {
            until: parse_date("2027-01-01"),
            ..ok
        };
        assert_eq!(check(future), Err("--until 2027-01-01: after today".into()));
    }

    #[test]
    fn keys_in_the_layout_and_the_rest() {
        let k = parse_key(ORG).unwrap();
        assert_eq!((k.account, k.region), ("111122223333", "eu-west-1"));
        assert_eq!(Some(k.day), parse_date("2026-11-28"));
        let digest = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/d.json.gz";
        assert_eq!(parse_key(digest), None);
        assert_eq!(
            parse_key("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/x.txt"),
            None
        );
        assert_eq!(parse_key("other/key.json.gz"), None);
    }

    #[test]
    fn filters_and_day_prefixes() {
        let today = parse_date("2026-12-01").unwrap();
        let f = KeyFilter {
            since: Some(parse_when("3d", today).unwrap()),
            until: Some(parse_when("2026-11-29", today).unwrap()),
            accounts: vec!["111122223333".into()],
            regions: vec!["eu-west-1".into()],
        };
        assert!(f.matches(ORG));
        assert!(!f.matches(&ORG.replace("/28/", "/27/")));
        assert!(!f.matches(&ORG.replace("eu-west-1", "us-east-1")));
        assert!(!f.matches(&ORG.replace("111122223333", "444455556666")));
        assert_eq!(
            f.day_prefixes(today).unwrap(),
            ["2026/11/28/", "2026/11/29/"]
        );
        assert_eq!(KeyFilter::default().day_prefixes(today), None);
        assert_eq!(parse_when("7x", today).unwrap_err().input, "7x");
        assert_eq!(parse_when("2w", today).unwrap(), today - 14);
        assert_eq!(
            parse_url("s3://b/p/q/").unwrap(),
            ("b".to_owned(), "p/q/".to_owned())
        );
        assert!(parse_url("s3:///x").is_err());
    }
}

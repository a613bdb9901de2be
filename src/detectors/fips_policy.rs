//! Where FIPS endpoints are required: `--fips-required` / `TRAILWATCH_FIPS_REQUIRED`.
//!
//! A comma list of region globs (`*` matches any run of characters) and 12-digit account ids,
//! or `all`, or `none`. The default is `us-gov-*` (AWS GovCloud).

use crate::glob;
use std::fmt;
use std::str::FromStr;

/// The environment variable the Lambda and the CLI read the policy from.
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub const ENV: &str = "TRAILWATCH_FIPS_REQUIRED";

/// The policy when none is given.
pub const DEFAULT: &str = "us-gov-*";

#[derive(Debug, Clone, PartialEq, Eq)]
/// Where calls must use FIPS endpoints: nowhere, everywhere, or some regions and accounts.
pub enum FipsPolicy {
    /// FIPS is required everywhere.
    All,
    /// FIPS is required nowhere: the detector stays silent.
    None,
    /// FIPS is required where any entry matches the record's region or account.
    Only(Vec<Scope>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A region name or glob, e.g. `us-gov-*`, `us-east-1`.
    Region(String),
    /// A 12-digit account id.
    Account(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("FIPS policy is empty (use `none` to require FIPS nowhere)")]
    Empty,
    #[error("FIPS policy entry `{0}` is neither a region glob (e.g. us-gov-*) nor a 12-digit account id")]
    BadEntry(String),
    /// A region glob that can match no AWS region: a typo would switch the detector off.
    #[error("FIPS policy entry `{0}` matches no AWS region: regions start with {areas} (e.g. us-gov-*, eu-*)", areas = REGION_AREAS.join(", "))]
    NoRegion(String),
    #[error("FIPS policy `{0}` must stand alone, not in a list")]
    KeywordInList(String),
}

impl Default for FipsPolicy {
    fn default() -> FipsPolicy {
        FipsPolicy::Only(vec![Scope::Region(DEFAULT.to_owned())])
    }
}

impl FromStr for FipsPolicy {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<FipsPolicy, PolicyError> {
        let entries: Vec<String> = text
            .split(',')
            .map(|e| e.trim().to_ascii_lowercase())
            .collect();
        if entries.iter().all(String::is_empty) {
            return Err(PolicyError::Empty);
        }
        if let [only] = entries.as_slice() {
            match only.as_str() {
                "all" => return Ok(FipsPolicy::All),
                "none" => return Ok(FipsPolicy::None),
                _ => {}
            }
        }
        let mut scopes = Vec::with_capacity(entries.len());
        for entry in entries {
            if entry == "all" || entry == "none" {
                return Err(PolicyError::KeywordInList(entry));
            }
            scopes.push(parse_scope(&entry)?);
        }
        Ok(FipsPolicy::Only(scopes))
    }
}

/// The first part of every AWS region name (`us` of `us-gov-west-1`, `eu` of `eu-west-1`).
const REGION_AREAS: &[&str] = &[
    "af", "ap", "ca", "cn", "eu", "eusc", "il", "me", "mx", "sa", "us",
];

fn parse_scope(entry: &str) -> Result<Scope, PolicyError> {
    let bad = || PolicyError::BadEntry(entry.to_owned());
    if entry.len() == 12 && entry.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Scope::Account(entry.to_owned()));
    }
    let region_chars = entry
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*');
    let has_letter = entry.bytes().any(|b| b.is_ascii_lowercase() || b == b'*');
    if entry.is_empty() || !region_chars || !has_letter {
        return Err(bad());
    }
    let area = entry.split('-').next().unwrap_or_default();
    if !area.contains('*') && !REGION_AREAS.contains(&area) {
        return Err(PolicyError::NoRegion(entry.to_owned()));
    }
    Ok(Scope::Region(entry.to_owned()))
}

impl FipsPolicy {
    /// Whether calls recorded in `region` for `account` must use FIPS endpoints.
    pub fn requires(&self, region: &str, account: &str) -> bool {
        match self {
            FipsPolicy::All => true,
            FipsPolicy::None => false,
            FipsPolicy::Only(scopes) => scopes.iter().any(|s| match s {
                Scope::Region(pattern) => !region.is_empty() && glob::matches(pattern, region),
                Scope::Account(id) => id == account,
            }),
        }
    }
}

impl fmt::Display for FipsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FipsPolicy::All => f.write_str("all"),
            FipsPolicy::None => f.write_str("none"),
            FipsPolicy::Only(scopes) => {
                let parts: Vec<&str> = scopes
                    .iter()
                    .map(|s| match s {
                        Scope::Region(r) => r.as_str(),
                        Scope::Account(a) => a.as_str(),
                    })
                    .collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_govcloud() {
        let p = FipsPolicy::default();
        assert!(p.requires("us-gov-west-1", "111122223333"));
        assert!(p.requires("us-gov-east-1", ""));
        assert!(!p.requires("us-east-1", "111122223333"));
        assert!(!p.requires("", ""));
        assert_eq!(p.to_string(), "us-gov-*");
        assert_eq!(DEFAULT.parse::<FipsPolicy>().unwrap(), p);
    }

    #[test]
    fn parses_lists_keywords_and_accounts() {
        let p: FipsPolicy = " us-east-*, 444455556666 ,ca-central-1".parse().unwrap();
        assert!(p.requires("us-east-2", "1"));
        assert!(p.requires("eu-west-1", "444455556666"));
        assert!(p.requires("ca-central-1", ""));
        assert!(!p.requires("ca-west-1", "111122223333"));
        assert_eq!(p.to_string(), "us-east-*,444455556666,ca-central-1");
        assert_eq!("ALL".parse::<FipsPolicy>().unwrap(), FipsPolicy::All);
        assert!(FipsPolicy::All.requires("eu-west-1", ""));
        assert!(!"none"
            .parse::<FipsPolicy>()
            .unwrap()
            .requires("us-gov-west-1", ""));
    }

    #[test]
    fn bad_entries_are_named() {
        for (text, named) in [
            ("us-gov-*,us gov", "us gov"),
            ("12345", "12345"),
            ("us_east_1", "us_east_1"),
            ("us-gov-*,,eu-west-1", ""),
            ("all,us-east-1", "all"),
            ("1234567890123", "1234567890123"),
            ("bogus", "bogus"),
            ("usgov-*", "usgov-*"),
        ] {
            let e = text.parse::<FipsPolicy>().unwrap_err().to_string();
            assert!(e.contains(&format!("`{named}`")), "{text}: {e}");
        }
        assert_eq!("".parse::<FipsPolicy>(), Err(PolicyError::Empty));
        assert_eq!(" , ".parse::<FipsPolicy>(), Err(PolicyError::Empty));
        for fine in ["us-gov-*", "eu-*", "*", "*-west-1", "cn-north-1"] {
            assert!(fine.parse::<FipsPolicy>().is_ok(), "{fine}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_and_matching_never_panic(text in "\\PC{0,40}", region in "\\PC{0,20}") {
            if let Ok(p) = text.parse::<FipsPolicy>() {
                let _ = p.requires(&region, &region);
                // What it prints, it parses back to the same policy.
                proptest::prop_assert_eq!(p.to_string().parse::<FipsPolicy>(), Ok(p));
            }
        }
    }
}

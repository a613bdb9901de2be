//! Trusted accounts (`--trusted-accounts`, `TRAILWATCH_TRUSTED_ACCOUNTS`): account ids and
//! organization ids whose grants are not "another account" for `resource-shared`.

use std::str::FromStr;

/// The environment variable the Lambda reads.
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub const ENV: &str = "TRAILWATCH_TRUSTED_ACCOUNTS";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
/// Accounts and organizations whose grants are not "another account".
pub struct TrustedAccounts(Vec<String>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is neither a 12-digit account id nor an organization id (o-...)")]
pub struct TrustedError(pub String);

impl TrustedAccounts {
    /// Whether grants to `who` (an account id or `o-...` organization id) are expected.
    pub fn contains(&self, who: &str) -> bool {
        self.0.iter().any(|t| t.eq_ignore_ascii_case(who))
    }

    /// Whether no account is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedAccounts {
    type Err = TrustedError;

    /// Ids separated by commas or white space; empty means none.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut ids = Vec::new();
        for id in s.split([',', ' ', '\n', '\t']).filter(|i| !i.is_empty()) {
            if !(is_account(id) || is_org(id)) {
                return Err(TrustedError(id.to_owned()));
            }
            ids.push(id.to_ascii_lowercase());
        }
        ids.sort();
        ids.dedup();
        Ok(TrustedAccounts(ids))
    }
}

fn is_account(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `o-` and 10 to 32 lowercase letters or digits.
fn is_org(id: &str) -> bool {
    id.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_accounts_and_organizations() {
        let t: TrustedAccounts = " 444455556666, o-a1b2c3d4e5\n777788889999,,"
            .parse()
            .unwrap();
        assert!(t.contains("444455556666") && t.contains("o-a1b2c3d4e5"));
        assert!(!t.contains("111122223333") && !t.is_empty());
        assert!("".parse::<TrustedAccounts>().unwrap().is_empty());
        for bad in [
            "12345",
            "o-short",
            "arn:aws:iam::444455556666:root",
            "4444-5555-6666",
        ] {
            assert_eq!(
                bad.parse::<TrustedAccounts>(),
                Err(TrustedError(bad.to_owned()))
            );
        }
    }
}

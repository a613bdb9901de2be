//! Where CloudTrail puts its files, read from the key:
//! `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`
//! for a log file, and `.../CloudTrail-Digest/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ.json.gz`
//! for a digest. The layout is read from its `AWSLogs/` segment, so a prefix of any shape
//! (`org/CloudTrail/`) is only a prefix.

use crate::alert::time::days_from_civil;

/// The parts of a CloudTrail key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts<'a> {
    /// What comes before `AWSLogs/` (empty, or ending with `/`).
    pub prefix: &'a str,
    /// The organization (`o-...`) of an organization trail.
    pub org: Option<&'a str>,
    /// The account the files are delivered for.
    pub account: &'a str,
    /// The region they were recorded in.
    pub region: &'a str,
    /// The day of its folder (days since 1970-01-01).
    pub day: i64,
    /// A log file or a digest, and what its name says.
    pub kind: KeyKind<'a>,
}

/// What a key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind<'a> {
    /// A log file, written at `written` (seconds since the epoch, to the minute).
    Log {
        /// The minute in its name; `None` for a name CloudTrail does not write (which no
        /// digest lists).
        written: Option<i64>,
    },
    /// A digest of trail `trail` (home region `home`), ending at `end`.
    Digest {
        /// The trail's name.
        trail: &'a str,
        /// The trail's home region.
        home: &'a str,
        /// The digest's end (seconds since the epoch), from its name.
        end: i64,
        /// A backfill digest (late log files).
        backfill: bool,
    },
}

impl<'a> KeyParts<'a> {
    /// The parts of `key`, when it is in CloudTrail's layout.
    pub fn parse(key: &'a str) -> Option<KeyParts<'a>> {
        let mut from = 0;
        while let Some(i) = key[from..].find("AWSLogs/") {
            let at = from + i;
            if at == 0 || key.as_bytes()[at - 1] == b'/' {
                if let Some(p) = parse_at(key, at) {
                    return Some(p);
                }
            }
            from = at + 1;
        }
        None
    }

    /// Where the trail delivers for this account and region: `prefix/AWSLogs/[o-ORG/]ACCOUNT/REGION`
    /// (the same for its log files and its digests).
    pub fn location(&self) -> String {
        let org = self.org.map(|o| format!("{o}/")).unwrap_or_default();
        format!(
            "{}AWSLogs/{org}{}/{}",
            self.prefix, self.account, self.region
        )
    }

    /// The place without its prefix (`[o-ORG]/ACCOUNT/REGION`): the same for a bucket and a
    /// local copy of it.
    pub fn place(&self) -> String {
        format!(
            "{}/{}/{}",
            self.org.unwrap_or(""),
            self.account,
            self.region
        )
    }

    /// The trail's name, for a digest.
    pub fn trail(&self) -> Option<&'a str> {
        match self.kind {
            KeyKind::Digest { trail, .. } => Some(trail),
            KeyKind::Log { .. } => None,
        }
    }
}

/// Whether `key` (or a path) is a digest file in CloudTrail's layout.
pub fn is_digest(key: &str) -> bool {
    KeyParts::parse(key).is_some_and(|p| matches!(p.kind, KeyKind::Digest { .. }))
}

fn parse_at(key: &str, at: usize) -> Option<KeyParts<'_>> {
    let prefix = &key[..at];
    let mut parts = key[at + "AWSLogs/".len()..].split('/');
    let mut account = parts.next()?;
    let mut org = None;
    if account.starts_with("o-") {
        org = Some(account);
        account = parts.next()?;
    }
    let what = parts.next()?;
    let region = parts.next()?;
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let day = crate::alert::time::parse_date(&format!("{y}-{m}-{d}"))?;
    let file = parts.next()?;
    if parts.next().is_some() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let kind = match what {
        "CloudTrail" => {
            let stem = file
                .strip_suffix(".json.gz")
                .or_else(|| file.strip_suffix(".json"))?;
            let written = stem
                .strip_prefix(&format!("{account}_CloudTrail_{region}_"))
                .and_then(|rest| parse_stamp(rest.split('_').next()?));
            KeyKind::Log { written }
        }
        "CloudTrail-Digest" => {
            let stem = file.strip_suffix(".json.gz")?;
            let rest = stem.strip_prefix(&format!("{account}_CloudTrail-Digest_{region}_"))?;
            let (rest, backfill) = match rest.strip_suffix("_backfill") {
                Some(r) => (r, true),
                None => (rest, false),
            };
            let (rest, stamp) = rest.rsplit_once('_')?;
            let (trail, home) = rest.rsplit_once('_')?;
            if trail.is_empty() || home.is_empty() {
                return None;
            }
            KeyKind::Digest {
                trail,
                home,
                end: parse_stamp(stamp)?,
                backfill,
            }
        }
        _ => return None,
    };
    Some(KeyParts {
        prefix,
        org,
        account,
        region,
        day,
        kind,
    })
}

/// `YYYYMMDDTHHmmZ` or `YYYYMMDDTHHmmSSZ` as seconds since the epoch.
fn parse_stamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if !(b.len() == 14 || b.len() == 16) || b[8] != b'T' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, min) = (num(9..11)?, num(11..13)?);
    let sec = if b.len() == 16 { num(13..15)? } else { 0 };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(y, m as u32, d as u32) * 86_400 + h * 3600 + min * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_and_digest_keys_of_any_prefix() {
        let log = "org/CloudTrail/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1005Z_Mu0KsOhtH1ar15ZZ.json.gz";
        let p = KeyParts::parse(log).unwrap();
        assert_eq!(p.prefix, "org/CloudTrail/");
        assert_eq!(p.org, Some("o-a1b2c3d4e5"));
        assert_eq!((p.account, p.region), ("111122223333", "eu-west-1"));
        assert_eq!(
            p.kind,
            KeyKind::Log {
                written: Some(1_795_860_300)
            }
        );
        assert_eq!(p.day * 86_400, 1_795_824_000);
        let odd = log.replace(
            "111122223333_CloudTrail_eu-west-1_20261128T1005Z_Mu0KsOhtH1ar15ZZ.json.gz",
            "evil.json",
        );
        assert_eq!(
            KeyParts::parse(&odd).unwrap().kind,
            KeyKind::Log { written: None }
        );
        assert_eq!(
            p.location(),
            "org/CloudTrail/AWSLogs/o-a1b2c3d4e5/111122223333/eu-west-1"
        );
        let digest = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/111122223333_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20261128T110531Z.json.gz";
        let d = KeyParts::parse(digest).unwrap();
        assert_eq!(d.trail(), Some("org_trail"));
        let KeyKind::Digest {
            home,
            end,
            backfill,
            ..
        } = d.kind
        else {
            panic!("a digest")
        };
        assert_eq!((home, end, backfill), ("us-east-1", 1_795_863_931, false));
        assert_eq!(d.location(), "AWSLogs/111122223333/eu-west-1");
        let backfill = digest.replace("Z.json.gz", "Z_backfill.json.gz");
        assert!(matches!(
            KeyParts::parse(&backfill).unwrap().kind,
            KeyKind::Digest { backfill: true, .. }
        ));
    }

    #[test]
    fn the_user_guides_digest_name() {
        // The example of the CloudTrail user guide ("CloudTrail digest file structure").
        let key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz";
        let p = KeyParts::parse(key).unwrap();
        assert_eq!(p.trail(), Some("your-trail-name"));
        assert!(matches!(
            p.kind,
            KeyKind::Digest {
                home: "us-east-2",
                end: 1_439_823_691,
                ..
            }
        ));
        assert!(is_digest(key));
    }

    #[test]
    fn other_keys_are_not_cloudtrail_keys() {
        for key in [
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/notes.txt",
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/13/28/a.json.gz",
            "AWSLogs/1111/CloudTrail/eu-west-1/2026/11/28/1111_CloudTrail_eu-west-1_20261128T1005Z_x.json.gz",
            "xAWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1005Z_x.json.gz",
            "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/111122223333_CloudTrail-Digest_eu-west-1_20261128T110531Z.json.gz",
        ] {
            assert_eq!(KeyParts::parse(key), None, "{key}");
        }
    }
}

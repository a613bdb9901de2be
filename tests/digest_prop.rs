//! Property tests of the digest files: keys of any prefix and trail name parse back to their
//! parts; a digest signed as CloudTrail signs it verifies, and no change of its bytes, its
//! period or its place does.

use proptest::prelude::*;
use std::sync::OnceLock;
use trailwatch::correlate::time::format_time;
use trailwatch::digest::sign::testing::{key_pair, sign};
use trailwatch::digest::sign::{check, Signature};
use trailwatch::digest::{Digest, KeyKind, KeyParts, PublicKeys};

fn pair() -> &'static (aws_lc_rs::rsa::KeyPair, PublicKeys) {
    static PAIR: OnceLock<(aws_lc_rs::rsa::KeyPair, PublicKeys)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let (pair, public) = key_pair("fp");
        (pair, PublicKeys(vec![public]))
    })
}

fn stamp(secs: i64) -> String {
    format_time(secs).replace(['-', ':'], "")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn digest_keys_parse_back_to_their_parts(
        prefix in proptest::option::of("[a-z0-9-]{1,8}(/[A-Za-z0-9-]{1,8}){0,2}"),
        org in proptest::option::of("o-[a-z0-9]{10}"),
        account in "[0-9]{12}",
        region in prop::sample::select(vec!["us-east-1", "eu-west-1", "us-gov-west-1", "ap-southeast-3"]),
        trail in "[A-Za-z0-9][A-Za-z0-9._-]{0,30}",
        end in 1_500_000_000i64..2_000_000_000,
        backfill in any::<bool>(),
    ) {
        let prefix = prefix.map(|p| format!("{p}/")).unwrap_or_default();
        let org_part = org.as_ref().map(|o| format!("{o}/")).unwrap_or_default();
        let day = format_time(end)[..10].replace('-', "/");
        let tail = if backfill { "_backfill" } else { "" };
        let key = format!(
            "{prefix}AWSLogs/{org_part}{account}/CloudTrail-Digest/{region}/{day}/{account}_CloudTrail-Digest_{region}_{trail}_us-east-1_{}{tail}.json.gz",
            stamp(end)
        );
        let p = KeyParts::parse(&key).expect("a digest key");
        prop_assert_eq!(p.prefix, prefix.as_str());
        prop_assert_eq!(p.org, org.as_deref());
        prop_assert_eq!((p.account, p.region), (account.as_str(), region));
        prop_assert_eq!(p.day, end.div_euclid(86_400));
        prop_assert_eq!(&p.kind, &KeyKind::Digest { trail: &trail, home: "us-east-1", end, backfill });
        // The log files of the same place: same place, their minute.
        let log = format!(
            "{prefix}AWSLogs/{org_part}{account}/CloudTrail/{region}/{day}/{account}_CloudTrail_{region}_{}Z_x.json.gz",
            &stamp(end)[..13]
        );
        let l = KeyParts::parse(&log).expect("a log key");
        prop_assert_eq!(l.location(), p.location());
        prop_assert_eq!(l.kind, KeyKind::Log { written: Some(end - end % 60) });
    }

    #[test]
    fn a_signed_digest_verifies_and_any_change_does_not(
        files in proptest::collection::vec(("[a-z0-9]{4,12}", "[0-9a-f]{64}"), 0..6),
        end in 1_700_000_000i64..1_900_000_000,
        previous in proptest::option::of("[0-9a-f]{512}"),
        flip in any::<prop::sample::Index>(),
    ) {
        let (pair, keys) = pair();
        let list: Vec<serde_json::Value> = files
            .iter()
            .map(|(name, hash)| serde_json::json!({"s3Bucket": "logs", "s3Object": name, "hashValue": hash, "hashAlgorithm": "SHA-256"}))
            .collect();
        let body = serde_json::json!({"awsAccountId": "111122223333", "digestStartTime": format_time(end - 3600),
            "digestEndTime": format_time(end), "digestS3Bucket": "logs", "digestS3Object": "AWSLogs/d.json.gz",
            "digestPublicKeyFingerprint": "fp", "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestSignature": previous, "logFiles": list});
        let text = serde_json::to_vec(&body).unwrap();
        let digest = Digest::read(&text[..], "d").unwrap();
        prop_assert_eq!(digest.body.log_files.len(), files.len());
        let signature = sign(pair, &digest);
        prop_assert_eq!(check(&digest, Some(&signature), keys), Signature::Valid);
        // Any byte of the digest changed (while it still reads): another hash (or another key
        // named), no signature.
        let mut changed = text.clone();
        let i = flip.index(changed.len());
        changed[i] = if changed[i] == b' ' { b'\n' } else { changed[i] ^ 0x01 };
        if let Ok(other) = Digest::read(&changed[..], "d") {
            prop_assert!(matches!(check(&other, Some(&signature), keys), Signature::Invalid(_)));
        }
        // Another period or another place, signed by nobody.
        let mut moved = digest.clone();
        moved.body.digest_s3_object = "AWSLogs/e.json.gz".into();
        prop_assert!(matches!(check(&moved, Some(&signature), keys), Signature::Invalid(_)));
    }
}

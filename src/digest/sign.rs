//! A digest's signature: RSA PKCS#1 v1.5 over SHA-256 of the signing string, with the region's
//! CloudTrail key named by `digestPublicKeyFingerprint` (`cloudtrail:ListPublicKeys`).

use super::file::Digest;
use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

/// One CloudTrail public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Its fingerprint (hex, as digests name it).
    pub fingerprint: String,
    /// The DER of its PKCS#1 `RSAPublicKey`.
    pub der: Vec<u8>,
}

/// The public keys known, of any region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicKeys(pub Vec<PublicKey>);

impl PublicKeys {
    /// The key of `fingerprint` (compared without regard to case).
    pub fn find(&self, fingerprint: &str) -> Option<&PublicKey> {
        self.0
            .iter()
            .find(|k| k.fingerprint.eq_ignore_ascii_case(fingerprint))
    }
}

/// What the signature of one digest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// It verifies with the key the digest names.
    Valid,
    /// It does not: why.
    Invalid(String),
    /// It could not be checked: why (CloudTrail's keys could not be read, a local copy
    /// without the object's metadata).
    Unchecked(String),
}

/// The string CloudTrail signs for `digest`.
pub fn signing_string(digest: &Digest) -> String {
    let b = &digest.body;
    format!(
        "{}\n{}/{}\n{}\n{}",
        b.digest_end_time,
        b.digest_s3_bucket,
        b.digest_s3_object,
        digest.sha256,
        b.previous_digest_signature.as_deref().unwrap_or("null")
    )
}

/// Checks `signature` (hex, the object's `signature` metadata) of `digest` with `keys`.
pub fn check(digest: &Digest, signature: Option<&str>, keys: &PublicKeys) -> Signature {
    let Some(signature) = signature.filter(|s| !s.is_empty()) else {
        return Signature::Invalid("the digest object has no `signature` metadata".into());
    };
    let algorithm = &digest.body.digest_signature_algorithm;
    if !algorithm.is_empty() && algorithm != "SHA256withRSA" {
        return Signature::Invalid(format!("unknown signature algorithm `{algorithm}`"));
    }
    let Some(bytes) = super::from_hex(signature) else {
        return Signature::Invalid("the signature is not hexadecimal".into());
    };
    let fingerprint = &digest.body.digest_public_key_fingerprint;
    // `keys` are CloudTrail's keys of the digest's region and time: one it does not have
    // did not sign it.
    let Some(key) = keys.find(fingerprint) else {
        return Signature::Invalid(format!(
            "CloudTrail has no public key with fingerprint `{fingerprint}`"
        ));
    };
    let message = signing_string(digest);
    match UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.der)
        .verify(message.as_bytes(), &bytes)
    {
        Ok(()) => Signature::Valid,
        Err(_) => Signature::Invalid(format!(
            "the signature does not verify with CloudTrail's key {fingerprint}"
        )),
    }
}

/// Whether `digest` follows `previous` (its key, the hex SHA-256 of its inflated bytes and its
/// signature): `None` when it does, else why not. Not called when the previous digest is not
/// at hand.
pub fn chain_break(digest: &Digest, previous: (&str, &str, Option<&str>)) -> Option<String> {
    let b = &digest.body;
    let (key, sha, signature) = previous;
    let named = b.previous_digest_s3_object.as_deref().unwrap_or("");
    if named != key {
        return Some(format!(
            "it names `{named}` as the previous digest, not `{key}`"
        ));
    }
    let hash = b.previous_digest_hash_value.as_deref().unwrap_or("");
    if !hash.eq_ignore_ascii_case(sha) {
        return Some(format!(
            "its SHA-256 is {sha}, the next digest names {hash}"
        ));
    }
    match (signature, b.previous_digest_signature.as_deref()) {
        (Some(s), Some(named)) if !s.eq_ignore_ascii_case(named) => {
            Some("the next digest names another signature for it".into())
        }
        _ => None,
    }
}

/// A key pair for tests: signs digests as CloudTrail does (test and simulation use only).
#[doc(hidden)]
pub mod testing {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};

    /// A new RSA key pair and its public key (fingerprint `fingerprint`).
    pub fn key_pair(fingerprint: &str) -> (KeyPair, PublicKey) {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key pair");
        let der = pair.public_key().as_ref().to_vec();
        let public = PublicKey {
            fingerprint: fingerprint.into(),
            der,
        };
        (pair, public)
    }

    /// The hex signature of `digest` with `pair`.
    pub fn sign(pair: &KeyPair, digest: &Digest) -> String {
        let mut sig = vec![0; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_string(digest).as_bytes(),
            &mut sig,
        )
        .expect("a signature");
        super::super::to_hex(&sig)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{key_pair, sign};
    use super::*;
    use crate::digest::file::DigestBody;

    fn digest(previous_signature: Option<&str>) -> Digest {
        let body = DigestBody {
            aws_account_id: "111122223333".into(),
            digest_start_time: "2026-11-28T10:05:31Z".into(),
            digest_end_time: "2026-11-28T11:05:31Z".into(),
            digest_s3_bucket: "logs".into(),
            digest_s3_object: "AWSLogs/111122223333/CloudTrail-Digest/x.json.gz".into(),
            digest_public_key_fingerprint: "FP1".into(),
            digest_signature_algorithm: "SHA256withRSA".into(),
            previous_digest_s3_bucket: None,
            previous_digest_s3_object: Some("prev".into()),
            previous_digest_hash_value: Some("aa".into()),
            previous_digest_signature: previous_signature.map(str::to_owned),
            log_files: Vec::new(),
        };
        Digest {
            body,
            sha256: "bb".into(),
        }
    }

    #[test]
    fn the_signing_string_is_cloudtrails() {
        let d = digest(None);
        assert_eq!(
            signing_string(&d),
            "2026-11-28T11:05:31Z\nlogs/AWSLogs/111122223333/CloudTrail-Digest/x.json.gz\nbb\nnull"
        );
        assert!(signing_string(&digest(Some("cafe"))).ends_with("\nbb\ncafe"));
    }

    #[test]
    fn a_signature_verifies_only_for_the_bytes_it_signed() {
        let (pair, public) = key_pair("fp1");
        let (_, other) = key_pair("FP1");
        let keys = PublicKeys(vec![public]);
        let d = digest(Some("cafe"));
        let sig = sign(&pair, &d);
        assert_eq!(check(&d, Some(&sig), &keys), Signature::Valid);
        // Changed bytes, another end time, another key, no signature, not hex.
        let mut changed = d.clone();
        changed.sha256 = "bc".into();
        assert!(matches!(
            check(&changed, Some(&sig), &keys),
            Signature::Invalid(_)
        ));
        let mut later = d.clone();
        later.body.digest_end_time = "2026-11-28T12:05:31Z".into();
        assert!(matches!(
            check(&later, Some(&sig), &keys),
            Signature::Invalid(_)
        ));
        let forged = PublicKeys(vec![other]);
        assert!(matches!(
            check(&d, Some(&sig), &forged),
            Signature::Invalid(_)
        ));
        assert!(matches!(check(&d, None, &keys), Signature::Invalid(_)));
        assert!(matches!(
            check(&d, Some("zz"), &keys),
            Signature::Invalid(_)
        ));
        let unknown = PublicKeys::default();
        assert!(matches!(
            check(&d, Some(&sig), &unknown),
            Signature::Invalid(_)
        ));
    }

    #[test]
    fn the_chain_names_the_previous_digest_its_hash_and_signature() {
        let d = digest(Some("cafe"));
        assert_eq!(chain_break(&d, ("prev", "AA", Some("CAFE"))), None);
        assert_eq!(chain_break(&d, ("prev", "aa", None)), None);
        assert!(chain_break(&d, ("other", "aa", None))
            .unwrap()
            .contains("`other`"));
        assert!(chain_break(&d, ("prev", "ab", None))
            .unwrap()
            .contains("the next digest names"));
        assert!(chain_break(&d, ("prev", "aa", Some("beef"))).is_some());
    }
}

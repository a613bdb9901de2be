//! One CloudTrail record as a typed, borrowed view.
//!
//! Strings borrow from the record's JSON text unless they contain escapes. The three free-form
//! parts (`requestParameters`, `responseElements`, `additionalEventData`) stay raw JSON until a
//! detector asks; the whole record as a `serde_json::Value` is parsed at most once, on demand.
//! The scan reads records with [`read`]; the serde derive is the reference it is tested against.

pub mod lenient;
mod read;
pub mod text_facts;
pub mod tls;

use crate::record::text_facts::TextFacts;
use crate::scan::split::Tape;
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::OnceCell;

type Text<'a> = Option<Cow<'a, str>>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
/// One CloudTrail record, read from its text: the fields detectors read, borrowed.
pub struct Record<'a> {
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `eventVersion`.
    pub event_version: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `eventTime`.
    pub event_time: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `eventSource`.
    pub event_source: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `eventName`.
    pub event_name: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `awsRegion`.
    pub aws_region: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `recipientAccountId`.
    pub recipient_account_id: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::object")]
    /// `userIdentity`.
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(
        default,
        borrow,
        deserialize_with = "lenient::string",
        rename = "sourceIPAddress"
    )]
    /// `sourceIPAddress`.
    pub source_ip_address: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `userAgent`.
    pub user_agent: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::object")]
    /// `tlsDetails`.
    pub tls_details: Option<TlsDetails<'a>>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `errorCode`.
    pub error_code: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `errorMessage`.
    pub error_message: Text<'a>,
    #[serde(
        default,
        borrow,
        deserialize_with = "lenient::string",
        rename = "eventID"
    )]
    /// `eventID`.
    pub event_id: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `eventType`.
    pub event_type: Text<'a>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    /// `readOnly`.
    pub read_only: Option<bool>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    /// `managementEvent`.
    pub management_event: Option<bool>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `eventCategory`.
    pub event_category: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    /// `vpcEndpointId`.
    pub vpc_endpoint_id: Text<'a>,
    #[serde(default, deserialize_with = "lenient::boolean")]
    /// `sessionCredentialFromConsole`.
    pub session_credential_from_console: Option<bool>,
    #[serde(default, borrow)]
    /// `requestParameters`, unparsed.
    pub request_parameters: Option<RawJson<'a>>,
    #[serde(default, borrow)]
    /// `responseElements`, unparsed.
    pub response_elements: Option<RawJson<'a>>,
    #[serde(default, borrow)]
    /// `additionalEventData`, unparsed.
    pub additional_event_data: Option<RawJson<'a>>,
    /// The record's whole JSON text.
    #[serde(skip)]
    pub raw: &'a str,
    #[serde(skip)]
    json: OnceCell<serde_json::Value>,
    #[serde(skip)]
    facts: TextFacts,
    /// A typed field held null or a value of another type (see [`Record::typed_exact`]).
    #[serde(skip)]
    odd_fields: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(default, borrow, deserialize_with = "lenient::string", rename = "type")]
    pub kind: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub principal_id: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub arn: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub account_id: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub user_name: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub invoked_by: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::object")]
    pub session_context: Option<SessionContext<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    #[serde(default, borrow, deserialize_with = "lenient::object")]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    #[serde(default, borrow, deserialize_with = "lenient::string", rename = "type")]
    pub kind: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub arn: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub user_name: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails<'a> {
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub tls_version: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub cipher_suite: Text<'a>,
    #[serde(default, borrow, deserialize_with = "lenient::string")]
    pub client_provided_host_header: Text<'a>,
}

/// One value of a record kept as its JSON text, unparsed (`requestParameters`...). Its
/// grammar was checked as the record was read; its strings are decoded when it is parsed
/// ([`Record::parse_part`]), and a part that does not parse then is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawJson<'a>(&'a str);

impl<'a> RawJson<'a> {
    /// The JSON text.
    pub fn get(&self) -> &'a str {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&serde_json::value::RawValue>::deserialize(d).map(|raw| RawJson(raw.get()))
    }
}

/// Why one record could not be read. The file goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not valid UTF-8 at byte {0} of the record")]
    Utf8(usize),
    #[error("not a JSON object")]
    NotObject,
    #[error("{0}")]
    Json(#[from] read::Syntax),
}

fn text<'s>(t: &'s Text<'_>) -> Option<&'s str> {
    t.as_deref()
}

impl<'a> Record<'a> {
    /// Parses one record from its JSON text (a JSON object).
    pub fn parse(bytes: &'a [u8]) -> Result<Record<'a>, RecordError> {
        Record::parse_with_tape(bytes, Tape(&[]))
    }

    /// [`Record::parse`], told where the record's strings end by the splitter that cut it.
    pub fn parse_with_tape(bytes: &'a [u8], tape: Tape<'_>) -> Result<Record<'a>, RecordError> {
        let raw = std::str::from_utf8(bytes).map_err(|e| RecordError::Utf8(e.valid_up_to()))?;
        if !raw.trim_start().starts_with('{') {
            return Err(RecordError::NotObject);
        }
        let mut record = Record {
            raw,
            ..Record::default()
        };
        read::record(raw, tape, &mut record)?;
        Ok(record)
    }

    /// The [`TextFacts`] of the record's text (found as it was read).
    pub fn text_facts(&self) -> TextFacts {
        self.facts
    }

    /// Whether no field the typed view reads held null or a value of another type: then a
    /// typed field that is `None` has no value at its path. (A key spelled with dots,
    /// `"userIdentity.type"`, is another way to a value: see [`TextFacts::dotted_keys`].)
    pub fn typed_exact(&self) -> bool {
        !self.odd_fields
    }

    /// `eventName`, or empty.
    pub fn event_name(&self) -> &str {
        text(&self.event_name).unwrap_or("")
    }
    /// `eventSource`, or empty.
    pub fn event_source(&self) -> &str {
        text(&self.event_source).unwrap_or("")
    }
    /// `eventID`, or empty.
    pub fn event_id(&self) -> &str {
        text(&self.event_id).unwrap_or("")
    }
    /// `eventTime`, or empty.
    pub fn event_time(&self) -> &str {
        text(&self.event_time).unwrap_or("")
    }
    /// `awsRegion`, or empty.
    pub fn region(&self) -> &str {
        text(&self.aws_region).unwrap_or("")
    }
    /// `sourceIPAddress`, or empty.
    pub fn source_ip(&self) -> &str {
        text(&self.source_ip_address).unwrap_or("")
    }
    /// `userAgent`, or empty.
    pub fn user_agent(&self) -> &str {
        text(&self.user_agent).unwrap_or("")
    }
    /// `errorCode`, when the call failed.
    pub fn error_code(&self) -> Option<&str> {
        text(&self.error_code).filter(|c| !c.is_empty())
    }

    /// The account the record belongs to: the recipient, else the caller's.
    pub fn account(&self) -> &str {
        text(&self.recipient_account_id)
            .or_else(|| {
                self.user_identity
                    .as_ref()
                    .and_then(|u| text(&u.account_id))
            })
            .unwrap_or("")
    }

    /// Who made the call: the identity ARN, else the service that invoked it, else the type.
    pub fn principal(&self) -> &str {
        let Some(u) = &self.user_identity else {
            return "";
        };
        text(&u.arn)
            .or(text(&u.invoked_by))
            .or(text(&u.principal_id))
            .or(text(&u.kind))
            .unwrap_or("")
    }

    /// The caller's account (`userIdentity.accountId`).
    pub fn identity_account(&self) -> Option<&str> {
        self.user_identity
            .as_ref()
            .and_then(|u| text(&u.account_id))
    }

    /// The AWS service that made the call on the caller's behalf (`userIdentity.invokedBy`).
    pub fn invoked_by(&self) -> Option<&str> {
        self.user_identity
            .as_ref()
            .and_then(|u| text(&u.invoked_by))
    }

    /// `userIdentity.type`.
    pub fn identity_type(&self) -> Option<&str> {
        self.user_identity.as_ref().and_then(|u| text(&u.kind))
    }

    /// `tlsDetails.tlsVersion`.
    pub fn tls_version(&self) -> Option<&str> {
        self.tls_details.as_ref().and_then(|t| text(&t.tls_version))
    }

    /// `tlsDetails.clientProvidedHostHeader`.
    pub fn tls_host(&self) -> Option<&str> {
        self.tls_details
            .as_ref()
            .and_then(|t| text(&t.client_provided_host_header))
    }

    /// The whole record as a JSON value, parsed once on first use.
    pub fn json(&self) -> &serde_json::Value {
        self.json
            .get_or_init(|| serde_json::from_str(self.raw).unwrap_or(serde_json::Value::Null))
    }

    /// One of the free-form parts, parsed on demand (`None` when absent or `null`).
    pub fn parse_part(part: Option<RawJson<'_>>) -> Option<serde_json::Value> {
        part.and_then(|r| serde_json::from_str(r.get()).ok())
            .filter(|v: &serde_json::Value| !v.is_null())
    }
}

/// The string at `path` inside a JSON `value`, if every step exists and the end is a string.
pub fn str_at<'v>(value: &'v serde_json::Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(serde_json::Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_keeps_parts_raw() {
        let text = br#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accountId":"1"},
            "eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",
            "awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","requestParameters":{"bucketName":"b"},
            "tlsDetails":{"tlsVersion":"TLSv1.2","clientProvidedHostHeader":"b.s3.amazonaws.com"},
            "readOnly":true,"sessionCredentialFromConsole":"true","eventID":"e1","unknown":[1,{"x":2}]}"#;
        let r = Record::parse(text).unwrap();
        assert_eq!(r.event_name(), "GetObject");
        assert_eq!(r.principal(), "arn:aws:iam::1:user/a");
        assert_eq!(r.account(), "1");
        assert_eq!(r.tls_version(), Some("TLSv1.2"));
        assert_eq!(r.session_credential_from_console, Some(true));
        assert_eq!(r.request_parameters.unwrap().get(), r#"{"bucketName":"b"}"#);
        assert_eq!(r.json()["eventID"], "e1");
    }

    #[test]
    fn wrong_types_are_absent_not_fatal() {
        let text = br#"{"eventName":42,"userIdentity":"root","tlsDetails":[1],"readOnly":"maybe",
            "eventSource":{"a":[1,2]},"awsRegion":null,"eventID":"e\u0031"}"#;
        let r = Record::parse(text).unwrap();
        assert_eq!(r.event_name(), "");
        assert!(r.user_identity.is_none() && r.tls_details.is_none() && r.read_only.is_none());
        assert_eq!(r.event_source(), "");
        assert_eq!(r.event_id(), "e1");
    }

    #[test]
    fn rejects_non_objects_and_bad_utf8() {
        assert!(Record::parse(b"[1,2]").is_err());
        assert!(matches!(
            Record::parse(b"{\"a\":\"\xff\"}"),
            Err(RecordError::Utf8(6))
        ));
    }
}

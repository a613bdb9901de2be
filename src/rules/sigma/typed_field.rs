//! The record fields a Sigma path can be read from without parsing JSON: the typed view's own.

use crate::record::Record;

/// A field path the typed record holds, resolved once when a rule compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypedField {
    EventName,
    EventSource,
    EventType,
    EventCategory,
    ErrorCode,
    ErrorMessage,
    UserAgent,
    SourceIp,
    AwsRegion,
    RecipientAccountId,
    VpcEndpointId,
    IdentityType,
    IdentityArn,
    IdentityPrincipalId,
    IdentityAccountId,
    IdentityUserName,
    IdentityInvokedBy,
    IssuerType,
    IssuerArn,
    IssuerUserName,
    TlsVersion,
    TlsCipherSuite,
    TlsHost,
}

impl TypedField {
    pub(crate) fn from_path(path: &str) -> Option<TypedField> {
        use TypedField::*;
        Some(match path {
            "eventName" => EventName,
            "eventSource" => EventSource,
            "eventType" => EventType,
            "eventCategory" => EventCategory,
            "errorCode" => ErrorCode,
            "errorMessage" => ErrorMessage,
            "userAgent" => UserAgent,
            "sourceIPAddress" => SourceIp,
            "awsRegion" => AwsRegion,
            "recipientAccountId" => RecipientAccountId,
            "vpcEndpointId" => VpcEndpointId,
            "userIdentity.type" => IdentityType,
            "userIdentity.arn" => IdentityArn,
            "userIdentity.principalId" => IdentityPrincipalId,
            "userIdentity.accountId" => IdentityAccountId,
            "userIdentity.userName" => IdentityUserName,
            "userIdentity.invokedBy" => IdentityInvokedBy,
            "userIdentity.sessionContext.sessionIssuer.type" => IssuerType,
            "userIdentity.sessionContext.sessionIssuer.arn" => IssuerArn,
            "userIdentity.sessionContext.sessionIssuer.userName" => IssuerUserName,
            "tlsDetails.tlsVersion" => TlsVersion,
            "tlsDetails.cipherSuite" => TlsCipherSuite,
            "tlsDetails.clientProvidedHostHeader" => TlsHost,
            _ => return None,
        })
    }

    /// Whether the path has a dot (and so another spelling through a dotted key).
    pub(crate) fn nested(self) -> bool {
        use TypedField::*;
        !matches!(
            self,
            EventName
                | EventSource
                | EventType
                | EventCategory
                | ErrorCode
                | ErrorMessage
                | UserAgent
                | SourceIp
                | AwsRegion
                | RecipientAccountId
                | VpcEndpointId
        )
    }

    /// The string the typed record holds there (`None` when absent or not a string).
    pub(crate) fn get<'r>(self, r: &'r Record<'_>) -> Option<&'r str> {
        use TypedField::*;
        let identity = || r.user_identity.as_ref();
        let issuer = || {
            identity()
                .and_then(|u| u.session_context.as_ref())
                .and_then(|c| c.session_issuer.as_ref())
        };
        let tls = || r.tls_details.as_ref();
        let field = match self {
            EventName => &r.event_name,
            EventSource => &r.event_source,
            EventType => &r.event_type,
            EventCategory => &r.event_category,
            ErrorCode => &r.error_code,
            ErrorMessage => &r.error_message,
            UserAgent => &r.user_agent,
            SourceIp => &r.source_ip_address,
            AwsRegion => &r.aws_region,
            RecipientAccountId => &r.recipient_account_id,
            VpcEndpointId => &r.vpc_endpoint_id,
            IdentityType => &identity()?.kind,
            IdentityArn => &identity()?.arn,
            IdentityPrincipalId => &identity()?.principal_id,
            IdentityAccountId => &identity()?.account_id,
            IdentityUserName => &identity()?.user_name,
            IdentityInvokedBy => &identity()?.invoked_by,
            IssuerType => &issuer()?.kind,
            IssuerArn => &issuer()?.arn,
            IssuerUserName => &issuer()?.user_name,
            TlsVersion => &tls()?.tls_version,
            TlsCipherSuite => &tls()?.cipher_suite,
            TlsHost => &tls()?.client_provided_host_header,
        };
        field.as_deref()
    }
}

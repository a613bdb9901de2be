//! Security Hub: alerts as ASFF findings through `BatchImportFindings`, at most 100 a call,
//! refused findings retried. The finding id is the alert id, so a re-delivered file updates
//! its findings instead of adding new ones.

use super::asff::{finding, Limits};
use super::{send_batches, Output, PublishFuture};
use crate::alert::Alert;
use crate::lambda::retry::{Backoff, CallFailed, Refused, Verdict};
use crate::redact::Redacted;
use aws_sdk_securityhub::types::AwsSecurityFinding;

/// Findings per `BatchImportFindings` call.
pub const MAX_FINDINGS: usize = 100;

/// The Security Hub output.
pub struct SecurityHub {
    client: aws_sdk_securityhub::Client,
    product_arn: String,
    backoff: Backoff,
}

impl SecurityHub {
    /// Imports into the product `product_arn` (the account's default product) with `client`.
    pub fn new(client: aws_sdk_securityhub::Client, product_arn: String) -> Self {
        SecurityHub {
            client,
            product_arn,
            backoff: Backoff::DEFAULT,
        }
    }

    async fn import(&self, findings: Vec<AwsSecurityFinding>) -> Result<Vec<Refused>, CallFailed> {
        let ids: Vec<String> = findings
            .iter()
            .map(|f| f.id().unwrap_or_default().to_owned())
            .collect();
        let out = self
            .client
            .batch_import_findings()
            .set_findings(Some(findings))
            .send()
            .await
            .map_err(|e| CallFailed::from_sdk("BatchImportFindings", &e))?;
        Ok(out
            .failed_findings()
            .iter()
            .filter_map(|f| {
                let index = ids.iter().position(|id| Some(id.as_str()) == f.id())?;
                let code = f.error_code().unwrap_or("error").to_owned();
                let retryable = !code.starts_with("Invalid") && code != "AccessDeniedException";
                let verdict = if retryable {
                    Verdict::Retry
                } else {
                    Verdict::Fail
                };
                Some(Refused {
                    index,
                    code,
                    verdict,
                })
            })
            .collect())
    }
}

impl Output for SecurityHub {
    fn name(&self) -> &'static str {
        "securityhub"
    }

    fn publish<'a>(&'a self, alerts: &'a [Redacted<Alert>]) -> PublishFuture<'a> {
        Box::pin(async move {
            let now = super::asff::now_rfc3339();
            let findings: Vec<AwsSecurityFinding> = alerts
                .iter()
                .map(|a| finding(a, &self.product_arn, &now, &Limits::ASFF))
                .collect();
            let batches: Vec<Vec<AwsSecurityFinding>> =
                findings.chunks(MAX_FINDINGS).map(<[_]>::to_vec).collect();
            send_batches(self.name(), batches, self.backoff, |b| self.import(b)).await
        })
    }
}

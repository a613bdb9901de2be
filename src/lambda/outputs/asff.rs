//! An alert as an ASFF finding (AWS Security Finding Format), within ASFF's limits: field
//! lengths, 50 `ProductFields` of at most 2 KiB and 32 KiB in all, 32 resources.

use crate::alert::resources::resources;
use crate::alert::severity::Severity;
use crate::alert::time::rfc3339;
use crate::alert::Alert;
use crate::lambda::triggers::key_account_region;
use crate::ocsf::partition;
use crate::redact::Redacted;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Recommendation, RecordState, Remediation, Resource, Severity as Sev,
    SeverityLabel, Workflow, WorkflowStatus,
};
use serde_json::Value;

/// ASFF's limits, in characters (a test may make them smaller).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `Title`.
    pub title: usize,
    /// `Description`.
    pub description: usize,
    /// Each `ProductFields` value.
    pub field_value: usize,
    /// `ProductFields` keys and values together.
    pub fields_total: usize,
    /// `ProductFields` pairs.
    pub fields: usize,
    /// `Resources` entries.
    pub resources: usize,
    /// A resource id, the generator id, a URL.
    pub id: usize,
    /// `Remediation.Recommendation.Text`.
    pub recommendation: usize,
}

impl Limits {
    /// What Security Hub accepts.
    pub const ASFF: Limits = Limits {
        title: 256,
        description: 1024,
        field_value: 2048,
        fields_total: 32 * 1024,
        fields: 50,
        resources: 32,
        id: 512,
        recommendation: 512,
    };
}

/// `s` cut to `max` characters, ending in `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The current time as ASFF wants it (`2026-11-28T10:20:00.000Z`).
pub fn now_rfc3339() -> String {
    rfc3339(crate::alert::time::now_millis())
}

/// ASFF `Types` from the detector's tags: ATT&CK tactics as `TTPs/...`, CIS controls as the
/// CIS benchmark, `Effects/Data Exposure` for the exposure detectors.
pub fn types(alert: &Alert) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let add = |out: &mut Vec<String>, t: String| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    if matches!(
        alert.detector.as_str(),
        "resource-public" | "resource-shared" | "protection-disabled" | "sensitive-tag"
    ) {
        add(&mut out, "Effects/Data Exposure".into());
    }
    for tag in &alert.tags {
        if let Some(tactic) = tag.strip_prefix("attack.") {
            let is_technique =
                tactic.starts_with('t') && tactic[1..].starts_with(|c: char| c.is_ascii_digit());
            if !is_technique {
                let words: Vec<String> = tactic
                    .split('-')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next().map_or(String::new(), |f| {
                            if w == "and" {
                                w.to_owned()
                            } else {
                                f.to_uppercase().chain(c).collect()
                            }
                        })
                    })
                    .collect();
                add(&mut out, format!("TTPs/{}", words.join(" ")));
            }
        } else if tag.starts_with("cis.") {
            add(&mut out, "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark".into());
        }
    }
    if out.is_empty() {
        add(
            &mut out,
            "Software and Configuration Checks/AWS Security Best Practices".into(),
        );
    }
    out
}

fn label(s: Severity) -> SeverityLabel {
    match s {
        Severity::Informational => SeverityLabel::Informational,
        Severity::Low => SeverityLabel::Low,
        Severity::Medium => SeverityLabel::Medium,
        Severity::High => SeverityLabel::High,
        Severity::Critical => SeverityLabel::Critical,
    }
}

/// `ProductFields`: the alert fields ASFF has no place for, then its evidence, within limits.
fn product_fields(a: &Alert, l: &Limits) -> Vec<(String, String)> {
    let source = a.source.location();
    let mut pairs: Vec<(String, String)> = vec![
        ("trailwatch/detector".into(), a.detector.clone()),
        ("trailwatch/source".into(), source),
        ("trailwatch/count".into(), a.count.to_string()),
        ("trailwatch/event_names".into(), a.event_names.join(", ")),
        ("trailwatch/event_ids".into(), a.event_ids.join(", ")),
        ("trailwatch/principal".into(), a.principal.clone()),
        ("trailwatch/source_ip".into(), a.source_ip.clone()),
        ("trailwatch/user_agent".into(), a.user_agent.clone()),
    ];
    if a.truncated {
        pairs.push(("trailwatch/truncated".into(), "true".into()));
    }
    for (k, v) in &a.evidence {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        pairs.push((format!("trailwatch/evidence/{}", cut(k, 100)), v));
    }
    let mut total = 0;
    let mut out = Vec::new();
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        let v = cut(&v, l.field_value);
        let size = k.len() + v.len();
        if out.len() + 1 >= l.fields || total + size > l.fields_total {
            out.push(("trailwatch/fields_cut".into(), "true".into()));
            break;
        }
        total += size;
        out.push((k, v));
    }
    out
}

/// The ASFF finding of `alert` in the product `product_arn`, updated at `now`.
pub fn finding(
    alert: &Redacted<Alert>,
    product_arn: &str,
    now: &str,
    l: &Limits,
) -> AwsSecurityFinding {
    let a: &Alert = alert;
    let product_account = product_arn.split(':').nth(4).unwrap_or_default();
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    // Filed under the account the log file was delivered for (its key), not the one a record
    // says: anyone who can write into the trail bucket writes the records.
    let delivered = match &a.source {
        crate::alert::Source::Object { key, .. } => key_account_region(key).0,
        _ => String::new(),
    };
    let account = if is_account(&delivered) {
        delivered.as_str()
    } else if is_account(&a.account) {
        a.account.as_str()
    } else {
        product_account
    };
    let region = if a.region.is_empty() {
        product_arn.split(':').nth(3).unwrap_or_default()
    } else {
        a.region.as_str()
    };
    let partition = partition(region);
    let first = if a.first_seen.is_empty() {
        now
    } else {
        &a.first_seen
    };
    let last = if a.last_seen.is_empty() {
        now
    } else {
        &a.last_seen
    };
    let mut b = AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(cut(&a.id, l.id))
        .product_arn(product_arn)
        .generator_id(cut(&format!("trailwatch/{}", a.detector), l.id))
        .aws_account_id(account)
        .region(region)
        .set_types(Some(types(a)))
        .first_observed_at(first)
        .last_observed_at(last)
        .created_at(first)
        .updated_at(now)
        .severity(Sev::builder().label(label(a.severity)).build())
        .title(cut(&a.title, l.title))
        .description(cut(&a.summary, l.description))
        .workflow(Workflow::builder().status(WorkflowStatus::New).build())
        .record_state(RecordState::Active);
    if let Some(url) = a.references.first().filter(|u| u.len() <= l.id) {
        b = b.source_url(url);
    }
    let mut rec = Recommendation::builder();
    if !a.remediation.is_empty() {
        rec = rec.text(cut(a.remediation.trim(), l.recommendation));
    }
    if let Some(url) = a.references.first().filter(|u| u.len() <= l.id) {
        rec = rec.url(url);
    }
    if !a.remediation.is_empty() || !a.references.is_empty() {
        b = b.remediation(Remediation::builder().recommendation(rec.build()).build());
    }
    for (k, v) in product_fields(a, l) {
        b = b.product_fields(k, v);
    }
    let mut named = resources(a);
    named.truncate(l.resources);
    if named.is_empty() {
        b = b.resources(
            Resource::builder()
                .r#type("AwsAccount")
                .id(format!("AWS::::Account:{account}"))
                .partition(partition.into())
                .region(region)
                .build(),
        );
    }
    for r in named {
        b = b.resources(
            Resource::builder()
                .r#type(r.kind)
                .id(cut(&r.id, l.id))
                .partition(partition.into())
                .region(region)
                .build(),
        );
    }
    b.build()
}

#[cfg(test)]
#[path = "asff_tests.rs"]
mod tests;

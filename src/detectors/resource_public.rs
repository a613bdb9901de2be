//! `resource-public`: a resource policy, ACL, attribute or network rule that lets anyone in.
//!
//! Critical for resources that hold data themselves (S3, snapshots, images, secrets, EFS,
//! Backup), high otherwise. A policy that cannot be read is reported at medium: the change
//! cannot be assessed, so it is not let through. What is covered: [`super::exposure`].

use super::exposure;
use super::exposure_base::Exposure;
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use serde_json::Value;

pub const ID: &str = "resource-public";

/// How many grants evidence lists.
const MAX_GRANTS: usize = 10;

pub struct ResourcePublic;

impl Detector for ResourcePublic {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let Some(e) = exposure::of(record) else {
            return;
        };
        let name = record.event_name();
        let (severity, summary) = if let Some(why) = &e.unreadable {
            let what = format!(
                "{name} set a {} policy that could not be read ({why})",
                e.kind
            );
            (Severity::Medium, on(what, &e))
        } else if let Some(first) = e.public.first() {
            let severity = if e.data_store {
                Severity::Critical
            } else {
                Severity::High
            };
            let mut what = format!("{name} opened {} {} to everyone", e.kind, e.resource);
            what.push_str(&format!(": {} lets {}", first.statement, first.principal));
            if !first.actions.is_empty() {
                what.push_str(&format!(" {}", first.actions.join(", ")));
            }
            (severity, what)
        } else {
            return;
        };
        let grants: Vec<Value> = e
            .public
            .iter()
            .take(MAX_GRANTS)
            .map(|g| g.evidence())
            .collect();
        out.push(
            Finding::new(ID, severity, record, e.resource.clone(), summary)
                .with("resource_type", e.kind)
                .with("resource", e.resource.as_str())
                .with("policy_readable", e.unreadable.is_none())
                .with("public_grants", grants),
        );
    }
}

/// `what`, then the resource when the record names it.
pub fn on(what: String, e: &Exposure) -> String {
    match e.resource.as_str() {
        "" => what,
        r => format!("{what}: {r}"),
    }
}

#[cfg(test)]
#[path = "resource_public_tests.rs"]
mod tests;

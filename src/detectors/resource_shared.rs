//! `resource-shared`: a resource policy or attribute that grants a principal in another
//! account or organization, unless it is a trusted one (`--trusted-accounts`). The same calls
//! as `resource-public` (see [`super::exposure`]); high.

use super::exposure;
use super::trusted::TrustedAccounts;
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use serde_json::Value;

pub const ID: &str = "resource-shared";

/// How many grants evidence lists.
const MAX_GRANTS: usize = 10;

pub struct ResourceShared {
    trusted: TrustedAccounts,
}

impl ResourceShared {
    pub fn new(trusted: TrustedAccounts) -> ResourceShared {
        ResourceShared { trusted }
    }
}

impl Detector for ResourceShared {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let Some(e) = exposure::of(record) else {
            return;
        };
        let shared: Vec<_> = e
            .shared
            .iter()
            .filter(|(who, _)| !self.trusted.contains(who))
            .collect();
        if shared.is_empty() {
            return;
        }
        let mut others: Vec<&str> = shared.iter().map(|(who, _)| who.as_str()).collect();
        others.sort();
        others.dedup();
        let summary = super::resource_public::on(
            format!(
                "{} shared {} with {}",
                record.event_name(),
                e.kind,
                others.join(", ")
            ),
            &e,
        );
        let grants: Vec<Value> = shared
            .iter()
            .take(MAX_GRANTS)
            .map(|(who, g)| {
                let mut v = g.evidence();
                v["with"] = Value::from(who.as_str());
                v
            })
            .collect();
        out.push(
            Finding::new(ID, Severity::High, record, e.resource.clone(), summary)
                .with("resource_type", e.kind)
                .with("resource", e.resource.as_str())
                .with("other_accounts", others)
                .with("shared_grants", grants),
        );
    }
}

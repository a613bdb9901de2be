//! Linking correlation rules to their base rules, once every descriptor is known.
//!
//! Imports [`super::error`] and [`super::descriptor`]. Tested through the catalog that links
//! (`catalog_tests.rs`).

use super::descriptor::Descriptor;
use super::error::CatalogError;
use crate::correlate::link::FINDING_FIELDS;
use crate::correlate::{Correlations, Linked};

/// Links every correlation rule of `descriptors` to its base rules (by detector id, `name`, or
/// Sigma `id`) and checks that the fields it groups by are ones the base rules' findings
/// carry: the engine refuses what it cannot honour.
pub fn link(descriptors: &[Descriptor]) -> Result<Correlations, CatalogError> {
    let mut linked = Vec::new();
    for d in descriptors {
        let Some(c) = d.kind.correlation() else {
            continue;
        };
        let invalid =
            |message: String| CatalogError::invalid(&d.source, format!("correlation: {message}"));
        let mut rule = c.clone();
        let mut bases = Vec::new();
        for name in &mut rule.rules {
            let base = descriptors
                .iter()
                .find(|b| {
                    b.detector_id() == name.as_str() || b.id.as_deref() == Some(name.as_str())
                })
                .ok_or_else(|| invalid(format!("rule `{name}` is not in the catalog")))?;
            if base.kind.correlation().is_some() {
                return Err(invalid(format!(
                    "rule `{name}` is a correlation rule; chaining them is not supported"
                )));
            }
            *name = base.detector_id().to_owned();
            bases.push(base);
        }
        let fields = rule.group_by.iter().chain(&rule.condition.field);
        for field in fields {
            let carried = FINDING_FIELDS.contains(&field.as_str())
                || bases.iter().all(|b| b.group_by.contains(field));
            if !carried {
                return Err(invalid(format!(
                    "field `{field}` is not carried by the findings of {}: list it in their `group_by`",
                    rule.rules.join(", ")
                )));
            }
        }
        linked.push(Linked {
            id: d.detector_id().to_owned(),
            severity: d.severity(),
            meta: d.meta(),
            rule,
        });
    }
    Ok(Correlations::new(linked))
}

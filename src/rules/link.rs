//! Linking correlation rules to their base rules, once every descriptor is known.
//!
//! Imports [`super::error`] and [`super::descriptor`]. Tested through the catalog that links
//! (`catalog_tests.rs`).

use super::descriptor::Descriptor;
use super::error::CatalogError;
use crate::correlate::link::FINDING_FIELDS;
use crate::correlate::{Correlations, Linked};

/// Links every correlation rule of `descriptors` to its base rules (by detector id, `name`, or
/// Sigma `id`). A correlation may group and count by any field of its base rules' records, as
/// the Sigma specification allows: a field the findings do not carry already (a
/// [`FINDING_FIELDS`] one, or in the base rule's `group_by`) is added to the base rule's
/// [`Descriptor::carry`], so that the scan copies it into the findings' evidence. Native
/// detectors' findings carry only their own fields: a correlation needing another is refused.
pub fn link(descriptors: &mut [Descriptor]) -> Result<Correlations, CatalogError> {
    for d in descriptors.iter_mut() {
        d.carry.clear();
    }
    let mut linked = Vec::new();
    let mut carried: Vec<(usize, String)> = Vec::new();
    for d in descriptors.iter() {
        let Some(c) = d.kind.correlation() else {
            continue;
        };
        let invalid =
            |message: String| CatalogError::invalid(&d.source, format!("correlation: {message}"));
        let mut rule = c.clone();
        let mut bases = Vec::new();
        for name in &mut rule.rules {
            let (at, base) = descriptors
                .iter()
                .enumerate()
                .find(|(_, b)| {
                    b.detector_id() == name.as_str() || b.id.as_deref() == Some(name.as_str())
                })
                .ok_or_else(|| invalid(format!("rule `{name}` is not in the catalog")))?;
            if base.kind.correlation().is_some() {
                return Err(invalid(format!(
                    "rule `{name}` is a correlation rule; chaining them is not supported"
                )));
            }
            *name = base.detector_id().to_owned();
            bases.push((at, base));
        }
        let fields = rule.group_by.iter().chain(&rule.condition.field);
        for field in fields {
            if FINDING_FIELDS.contains(&field.as_str()) {
                continue;
            }
            for &(at, base) in &bases {
                if base.group_by.contains(field) {
                    continue;
                }
                if base.kind.native().is_some() {
                    return Err(invalid(format!(
                        "field `{field}` is not carried by the findings of the native detector \
                         `{}` (they carry {}, and the fields of its `group_by`)",
                        base.detector_id(),
                        FINDING_FIELDS.join(", ")
                    )));
                }
                carried.push((at, field.clone()));
            }
        }
        linked.push(Linked {
            id: d.detector_id().to_owned(),
            severity: d.severity(),
            meta: d.meta(),
            rule,
        });
    }
    for (at, field) in carried {
        let carry = &mut descriptors[at].carry;
        if !carry.contains(&field) {
            carry.push(field);
        }
    }
    Ok(Correlations::new(linked))
}

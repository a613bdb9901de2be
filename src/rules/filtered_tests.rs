//! Filters: what is refused when they load, each modifier, expiry, and the wrapper.

use super::*;
use crate::alert::severity::Severity;
use crate::detectors::Settings;
use crate::rules::catalog::Catalog;
use serde_json::json;

const HEAD: &str = "title: t\nreason: known-good\nowner: platform\n";

/// A filter of `rules` with this `filter:` body (indented lines) and extra top-level keys.
fn filter(rules: &str, body: &str, extra: &str) -> Result<Filter, String> {
    let text = format!("{HEAD}{extra}filter:\n  rules: {rules}\n{body}");
    Filter::parse(&text, "dir/deploy-role.yml").map_err(|e| e.to_string())
}

fn not_selection(selection: &str) -> Filter {
    let body = format!("  selection:\n    {selection}\n  condition: not selection\n");
    filter("[security-group-changes]", &body, "").unwrap()
}

#[test]
fn refuses_filters_without_owner_reason_rules_or_values() {
    let body = "  selection:\n    userAgent|contains: terraform\n  condition: not selection\n";
    let text = format!("title: t\nowner: o\nfilter:\n  rules: [a]\n{body}");
    let e = Filter::parse(&text, "f.yml").unwrap_err().to_string();
    assert!(e.starts_with("f.yml: ") && e.contains("`reason`"), "{e}");
    let text = format!("title: t\nreason: r\nowner: ' '\nfilter:\n  rules: [a]\n{body}");
    let e = Filter::parse(&text, "f.yml").unwrap_err().to_string();
    assert!(e.contains("`owner`"), "{e}");
    let e = filter("[]", body, "").unwrap_err();
    assert!(e.contains("names no detector"), "{e}");
    // `condition: selection` would drop every finding without a user agent: refused.
    let e = filter(
        "[a]",
        "  selection:\n    userAgent|contains: terraform\n  condition: selection\n",
        "",
    )
    .unwrap_err();
    assert!(e.contains("write `condition: not selection`"), "{e}");
    // Selections that match any value.
    for sel in [
        "userAgent: '*'",
        "userAgent|exists: true",
        "userAgent|contains: ''",
    ] {
        let body = format!("  selection:\n    {sel}\n  condition: not selection\n");
        let e = filter("[a]", &body, "").unwrap_err();
        assert!(e.contains("any value of its fields"), "{sel}: {e}");
    }
    let e = filter("[a]", "  selection: {}\n  condition: not selection\n", "").unwrap_err();
    assert!(e.contains("deploy-role.yml"), "{e}");
    let e = filter("[a]", body, "expires: next week\n").unwrap_err();
    assert!(e.contains("`expires`") && e.contains("next week"), "{e}");
    let e = filter("[a]", body, "set_severity: low\n").unwrap_err();
    assert!(e.contains("action: lower"), "{e}");
    let e = filter("[a]", body, "colour: red\n").unwrap_err();
    assert!(e.contains("colour"), "{e}");
}

#[test]
fn each_modifier_decides_which_findings_go() {
    let record = json!({
        "userIdentity": {"arn": "arn:aws:sts::111122223333:assumed-role/deploy/ci-42"},
        "userAgent": "APN/1.0 HashiCorp/1.0 Terraform/1.9.8",
        "sourceIPAddress": "10.1.2.3",
        "recipientAccountId": "111122223333"
    });
    let cases = [
        ("userIdentity.arn|endswith: '/ci-42'", true),
        ("userIdentity.arn|contains: ':assumed-role/deploy/'", true),
        ("userIdentity.arn|startswith: 'arn:aws:iam::'", false),
        ("userAgent|contains: terraform", true),
        ("userAgent|re: 'Terraform/1\\.[0-9]+'", true),
        ("sourceIPAddress|cidr: 10.0.0.0/8", true),
        ("sourceIPAddress|cidr: 192.168.0.0/16", false),
        ("recipientAccountId: '111122223333'", true),
        ("recipientAccountId: '444455556666'", false),
        (
            "userIdentity.arn: 'arn:aws:sts::*:assumed-role/deploy/*'",
            true,
        ),
    ];
    for (selection, fires) in cases {
        assert_eq!(
            not_selection(selection).fires(&record),
            fires,
            "{selection}"
        );
    }
    // The negated condition's text pre-test: what a record must hold for the filter to act.
    let screen = not_selection("userAgent|contains: terraform")
        .screen()
        .map(str::to_owned);
    assert!(screen.is_some_and(|s| s.to_lowercase().contains("terraform")));
    assert!(
        not_selection("environment: sandbox").screen().is_none(),
        "account context is not in the record's text"
    );
}

#[test]
fn rules_resolve_to_detector_ids_and_unknown_names_are_refused() {
    let mut catalog = Catalog::load(&[], &[]).unwrap();
    let body = "  selection:\n    userAgent|contains: terraform\n  condition: not selection\n";
    // A rule's Sigma id names its detector.
    let by_uuid = filter("['436ddca3-04ec-435e-ba19-d5ae07c1165f']", body, "").unwrap();
    catalog.filters.push(Arc::new(by_uuid));
    catalog.resolve_filters().unwrap();
    let f = &catalog.filters[0];
    assert_eq!(
        f.detectors.as_deref(),
        Some(&["security-group-changes".to_owned()][..])
    );
    assert!(f.covers("security-group-changes") && !f.covers("root-activity"));
    catalog.filters = vec![Arc::new(filter("[any]", body, "").unwrap())];
    catalog.resolve_filters().unwrap();
    assert!(catalog.filters[0].covers("root-activity"));
    catalog.filters = vec![Arc::new(
        filter("[security-group-change]", body, "").unwrap(),
    )];
    let e = catalog.resolve_filters().unwrap_err().to_string();
    assert!(
        e.starts_with("dir/deploy-role.yml: ") && e.contains("`security-group-change`"),
        "{e}"
    );
}

#[test]
fn expiry_lowering_and_the_wrapper() {
    let catalog = Catalog::load(&[], &[]).unwrap();
    let record = br#"{"eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","eventType":"AwsApiCall","userAgent":"Terraform/1.9","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root"}}"#;
    let run = |filters: Vec<Filter>, today: &str| {
        let mut filters: Vec<Arc<Filter>> = filters.into_iter().map(Arc::new).collect();
        for f in &mut filters {
            Arc::make_mut(f).resolve(&|n| Some(n.to_owned())).unwrap();
        }
        let detectors = catalog.detectors(&Settings::default(), &[]);
        let only = Catalog {
            filters,
            ..Catalog::default()
        };
        let (mut detectors, tally) = wrap(detectors, &only, today);
        let record = crate::record::Record::parse(record).unwrap();
        let mut out = Vec::new();
        for d in detectors.iter_mut() {
            d.inspect(&record, &mut out);
        }
        let mut rest = Vec::new();
        detectors.iter_mut().for_each(|d| d.finish(&mut rest));
        let found: Vec<(String, Severity)> = out
            .iter()
            .map(|f| (f.detector.to_string(), f.severity))
            .collect();
        let tally = tally.lock().unwrap().clone();
        (found, tally)
    };
    let (all, none) = run(Vec::new(), "2026-12-01");
    assert!(none.is_empty());
    let ids: Vec<&str> = all.iter().map(|(d, _)| d.as_str()).collect();
    assert!(
        ids.contains(&"security-group-changes") && ids.contains(&"root-activity"),
        "{ids:?}"
    );
    let tf = "  selection:\n    userAgent|startswith: Terraform/\n  condition: not selection\n";
    let drop = filter("[security-group-changes]", tf, "expires: 2027-01-01\n").unwrap();
    let (found, tally) = run(vec![drop.clone()], "2026-12-01");
    assert_eq!(
        found.len(),
        all.len() - 1,
        "only that detector's finding goes"
    );
    // A filter whose pre-test the record fails leaves it alone, beside one that acts.
    let other = "  selection:\n    userAgent|contains: never-seen\n  condition: not selection\n";
    let idle = filter("[security-group-changes]", other, "name: idle\n").unwrap();
    let (with_idle, _) = run(vec![idle.clone(), drop.clone()], "2026-12-01");
    assert_eq!(with_idle, found);
    let (only_idle, t) = run(vec![idle], "2026-12-01");
    assert_eq!((only_idle.len(), t.is_empty()), (all.len(), true));
    assert!(found.iter().all(|(d, _)| d != "security-group-changes"));
    let key = (
        "security-group-changes".to_owned(),
        "deploy-role".to_owned(),
    );
    assert_eq!(tally.dropped.get(&key), Some(&1));
    assert_eq!(tally.dropped_total(), 1);
    // The day after `expires`: not applied.
    let (found, tally) = run(vec![drop], "2027-01-02");
    assert_eq!((found.len(), tally.is_empty()), (all.len(), true));
    // `action: lower`, to a set severity, and one step down.
    let lower = filter("[root-activity]", tf, "action: lower\nset_severity: low\n").unwrap();
    let (found, tally) = run(vec![lower], "2026-12-01");
    assert!(
        found.contains(&("root-activity".to_owned(), Severity::Low)),
        "{found:?}"
    );
    assert_eq!(tally.lowered.len(), 1);
    let step = filter("[root-activity]", tf, "action: lower\n").unwrap();
    assert_eq!(step.lowered(Severity::High), Severity::Medium);
    assert_eq!(
        step.lowered(Severity::Informational),
        Severity::Informational
    );
}

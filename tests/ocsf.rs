//! `replay --format ocsf`: every alert field has its place in the OCSF Detection Finding, and
//! every line validates against the OCSF 1.1.0 schema (tests/ocsf_check.py, jsonschema).

mod common;
use common::*;
use serde_json::Value;
use std::process::Command;

fn lines(format: &str) -> Vec<Value> {
    let out = trailwatch(
        &[
            "replay",
            "--format",
            format,
            "--min-severity",
            "informational",
            "samples",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_alert_field_is_mapped() {
    let (alerts, findings) = (lines("jsonl"), lines("ocsf"));
    assert!(alerts.len() >= 20, "the samples give many alerts");
    assert_eq!(alerts.len(), findings.len(), "one finding per alert");
    let sev = ["informational", "low", "medium", "high", "critical"];
    for (a, o) in alerts.iter().zip(&findings) {
        let info = &o["finding_info"];
        assert_eq!(
            (o["class_uid"].as_u64(), o["type_uid"].as_u64()),
            (Some(2004), Some(200401))
        );
        assert_eq!(info["uid"], a["id"]);
        assert_eq!(info["analytic"]["uid"], a["detector"]);
        assert_eq!(info["title"], a["title"]);
        let level = sev.iter().position(|s| *s == a["severity"]).unwrap() as u64 + 1;
        assert_eq!(o["severity_id"].as_u64(), Some(level));
        assert_eq!(o["message"], a["summary"]);
        assert_eq!(o["cloud"]["account"]["uid"], a["account"]);
        assert_eq!(o["cloud"]["region"], a["region"]);
        let first = &o["evidences"][0];
        assert_eq!(first["actor"]["user"]["uid"], a["principal"]);
        let endpoint = &first["src_endpoint"];
        assert!(endpoint["ip"] == a["source_ip"] || endpoint["domain"] == a["source_ip"]);
        if a["user_agent"] == "" {
            assert!(
                o["unmapped"]["user_agent"].is_null(),
                "an empty user agent is left out"
            );
        } else {
            assert_eq!(o["unmapped"]["user_agent"], a["user_agent"]);
        }
        assert_eq!(o["count"], a["count"]);
        let ops: Vec<&Value> = o["evidences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["api"]["operation"])
            .collect();
        let names: Vec<&Value> = a["event_names"].as_array().unwrap().iter().collect();
        assert_eq!(ops, names);
        let ids: Vec<&Value> = info["related_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["uid"])
            .collect();
        assert_eq!(
            ids,
            a["event_ids"]
                .as_array()
                .unwrap()
                .iter()
                .collect::<Vec<_>>()
        );
        if a["evidence"].as_object().is_some_and(|e| !e.is_empty()) {
            assert_eq!(first["data"], a["evidence"]);
        }
        assert_eq!(o["remediation"]["desc"], a["remediation"]);
        assert_eq!(o["remediation"]["references"], a["references"]);
        match a["source"]["file"].as_str() {
            Some(file) => assert_eq!(o["metadata"]["log_name"], file),
            None => {
                let window = format!(
                    "window {} to {}",
                    a["source"]["start"].as_str().unwrap(),
                    a["source"]["end"].as_str().unwrap()
                );
                assert_eq!(o["metadata"]["log_name"], window.as_str());
            }
        }
        assert!(o["time"].as_i64().unwrap() >= o["start_time"].as_i64().unwrap());
        assert!(o["start_time"].as_i64().unwrap() > 1_700_000_000_000);
    }
    let tagged = findings
        .iter()
        .filter(|o| o["finding_info"]["types"].is_array())
        .count();
    assert!(tagged > 0, "detector tags become finding types");
    let with_resources = findings
        .iter()
        .filter(|o| o["resources"].is_array())
        .count();
    assert!(
        with_resources > 0,
        "evidence that names a resource becomes resources"
    );
}

/// The python of the test tools (`make tools`), when it is there.
fn tools_python() -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("TRAILWATCH_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv"));
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

#[test]
fn ocsf_lines_validate_against_the_schema() {
    let Some(python) = tools_python() else {
        eprintln!("no test tools (make tools): `make ocsf-check` validates the schema");
        return;
    };
    let out = trailwatch(
        &[
            "replay",
            "--format",
            "ocsf",
            "--min-severity",
            "informational",
            "samples",
        ],
        None,
    );
    let file = scratch("ocsf").join("samples.ocsf.jsonl");
    std::fs::write(&file, &out.stdout).unwrap();
    let check = Command::new(python)
        .arg(repo().join("tests/ocsf_check.py"))
        .arg("--self-test")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    assert!(text(&check.stdout).contains(" passed, 0 failed"));
}

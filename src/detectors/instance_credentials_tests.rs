use super::*;
use serde_json::{json, Value};

const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/web/i-0a1b2c3d4e5f60718";

fn instance_call(name: &str, address: &str) -> Value {
    json!({"eventSource": "ec2.amazonaws.com", "eventName": name, "sourceIPAddress": address,
           "eventID": format!("{name}-{address}"), "eventTime": "2026-12-06T10:00:00Z",
           "recipientAccountId": "111122223333", "awsRegion": "us-east-1",
           "userIdentity": {"type": "AssumedRole", "arn": SESSION,
                            "principalId": "AROAEXAMPLE:i-0a1b2c3d4e5f60718"}})
}

fn send_command(address: &str) -> Value {
    json!({"eventSource": "ssm.amazonaws.com", "eventName": "SendCommand", "sourceIPAddress": address,
           "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory"},
           "requestParameters": {"instanceIds": ["i-0a1b2c3d4e5f60718"], "documentName": "AWS-RunShellScript"}})
}

/// The findings of one detector over `records`, in order, then at the delivery's end.
fn run(records: &[Value]) -> Vec<Finding<'static>> {
    let mut d = InstanceCredentials::default();
    let mut out = Vec::new();
    for r in records {
        out.extend(crate::detectors::findings_in(&mut d, r.to_string().as_bytes()).unwrap());
    }
    d.finish(&mut out);
    out
}

#[test]
fn a_second_address_for_one_instance_session_is_reported_once() {
    let found = run(&[
        instance_call("DescribeTags", "203.0.113.10"),
        instance_call("DescribeTags", "203.0.113.10"),
        instance_call("ListBuckets", "198.51.100.99"),
        instance_call("GetCallerIdentity", "198.51.100.98"),
    ]);
    assert_eq!(found.len(), 1, "one alert per session and delivery");
    let f = &found[0];
    assert_eq!((f.severity, &*f.target), (Severity::High, SESSION));
    assert_eq!(f.evidence["first_address"], "203.0.113.10");
    assert_eq!(f.evidence["address"], "198.51.100.99");
}

#[test]
fn the_address_that_reached_into_an_instance_using_its_credentials() {
    for records in [
        vec![
            send_command("18.236.253.47"),
            instance_call("GetCallerIdentity", "18.236.253.47"),
        ],
        vec![
            instance_call("GetCallerIdentity", "18.236.253.47"),
            send_command("18.236.253.47"),
        ],
    ] {
        let found = run(&records);
        assert_eq!(found.len(), 1, "in either order within the delivery");
        assert!(
            found[0]
                .summary_text()
                .contains("the address that made the SendCommand call"),
            "{}",
            found[0].summary_text()
        );
    }
    assert!(run(&[
        send_command("18.236.253.47"),
        instance_call("DescribeTags", "203.0.113.10")
    ])
    .is_empty());
}

#[test]
fn what_is_not_counted() {
    let mut endpoint = instance_call("GetObject", "10.0.3.7");
    endpoint["vpcEndpointId"] = json!("vpce-0abc");
    let mut service = instance_call("Decrypt", "ec2.amazonaws.com");
    service["userIdentity"]["invokedBy"] = json!("ec2.amazonaws.com");
    let mut person = instance_call("DescribeTags", "198.51.100.99");
    person["userIdentity"]["arn"] = json!("arn:aws:sts::111122223333:assumed-role/admin/alice");
    let found = run(&[
        instance_call("DescribeTags", "203.0.113.10"),
        endpoint,
        service,
        person,
        instance_call("DescribeTags", "AWS Internal"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

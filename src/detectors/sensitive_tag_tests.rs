use super::*;

fn run(params: &str) -> Vec<Finding<'static>> {
    let text = format!(r#"{{"eventName":"TagResource","requestParameters":{params}}}"#);
    crate::detectors::findings_in(&mut SensitiveTag, text.as_bytes()).unwrap()
}

#[test]
fn every_tag_shape() {
    for params in [
        r#"{"resource":"arn:aws:lambda:us-east-1:1:function:f","tags":{"Owner":"jane.doe@example.com"}}"#,
        r#"{"tags":[{"key":"Owner","value":"jane.doe@example.com"}]}"#,
        r#"{"Tags":[{"Key":"Owner","Value":"jane.doe@example.com"}]}"#,
        r#"{"tags":[{"tagKey":"Owner","tagValue":"jane.doe@example.com"}]}"#,
        r#"{"resourcesSet":{"items":[{"resourceId":"i-1"}]},"tagSet":{"items":[{"key":"Owner","value":"jane.doe@example.com"}]}}"#,
        r#"{"tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"Owner","value":"jane.doe@example.com"}]}]}}"#,
        r#"{"bucketName":"b","Tagging":{"TagSet":{"Tag":{"Key":"Owner","Value":"jane.doe@example.com"}}}}"#,
        r#"{"Tagging":{"TagSet":{"Tag":[{"Key":"Owner","Value":"jane.doe@example.com"}]}}}"#,
    ] {
        let out = run(params);
        assert_eq!(out.len(), 1, "{params}");
        assert_eq!(out[0].target, "tag:Owner");
        let text = serde_json::to_string(&out[0]).unwrap();
        assert!(
            !text.contains("jane.doe") && text.contains("j***@example.com"),
            "{text}"
        );
    }
}

#[test]
fn keys_names_and_secrets() {
    let out = run(r#"{"tagKeys":["jane.doe@example.com"]}"#);
    assert_eq!(out[0].target, "tag:****");
    let out = run(r#"{"name":"pay","description":"test card 4111 1111 1111 1111"}"#);
    assert_eq!((out.len(), &*out[0].target), (1, "field:description"));
    let out = run(r#"{"tags":{"db_password":"Winter2026!"}}"#);
    assert!(out[0].summary_text().contains("secret") && !out[0].summary_text().contains("Winter"));
}

#[test]
fn free_form_names_of_created_resources() {
    let created = |name: &str, params: &str| {
        let text = format!(r#"{{"eventName":"{name}","requestParameters":{params}}}"#);
        crate::detectors::findings_in(&mut SensitiveTag, text.as_bytes()).unwrap()
    };
    for (name, params, field) in [
        (
            "CreateBucket",
            r#"{"bucketName":"jane.doe@example.com-exports"}"#,
            "bucketName",
        ),
        (
            "CreateLogGroup",
            r#"{"logGroupName":"/app/ghp_abcdefghijklmnopqrstuvwxyz0123456789"}"#,
            "logGroupName",
        ),
        (
            "CreateRole",
            r#"{"roleName":"jane.doe@example.com"}"#,
            "roleName",
        ),
        (
            "CreateQueue",
            r#"{"queueName":"jane.doe@example.com"}"#,
            "queueName",
        ),
    ] {
        let out = created(name, params);
        assert_eq!(out.len(), 1, "{name}");
        assert_eq!(out[0].target, format!("field:{field}"));
    }
    // Only where the name is chosen: a data event on the bucket is not the place.
    assert!(created(
        "GetObject",
        r#"{"bucketName":"jane.doe@example.com-exports","key":"k"}"#
    )
    .is_empty());
    assert!(created("CreateBucket", r#"{"bucketName":"exports-2026"}"#).is_empty());
}

#[test]
fn near_misses_are_quiet() {
    for params in [
        r#"{"tags":[{"key":"StratusRedTeam","value":"true"}]}"#,
        r#"{"tags":{"CreatedBy":"arn:aws:sts::111122223333:assumed-role/Admin/jane@example.com"}}"#,
        r#"{"tags":[{"key":"AKIAIOSFODNN7EXAMPLE","value":"laptop key"}]}"#,
        r#"{"tags":[{"key":"HIDDEN_DUE_TO_SECURITY_REASONS","value":"HIDDEN_DUE_TO_SECURITY_REASONS"}]}"#,
        r#"{"tags":{"secret-arn":"arn:aws:secretsmanager:us-east-1:1:secret:x","token":"true"}}"#,
        r#"{"userName":"jane@example.com","filterSet":{"items":[{"name":"vpc-id"}]},"stage":{"name":"prod"}}"#,
        r#"{"tags":{"CostCenter":"4111-2222","Build":"1722375070115152000","Date":"2026-11-28"}}"#,
    ] {
        assert!(run(params).is_empty(), "{params}");
    }
}

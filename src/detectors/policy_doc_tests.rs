use super::*;
use serde_json::json;

const OWN: &str = "111122223333";

fn assessed(statement: Value) -> Assessment {
    assess(
        &json!({"Version": "2012-10-17", "Statement": statement}),
        OWN,
    )
}

fn public_labels(a: &Assessment) -> Vec<&str> {
    a.public.iter().map(|g| g.statement.as_str()).collect()
}

#[test]
fn every_shape_of_anyone_is_public() {
    for principal in [
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
        json!({"AWS": "arn:aws:iam::*:root"}),
        json!({"AWS": ["arn:aws:iam::*:role/deploy"]}),
    ] {
        let a = assessed(
            json!([{"Sid": "Open", "Effect": "Allow", "Principal": principal,
            "Action": "s3:GetObject", "Resource": "*"}]),
        );
        assert_eq!(public_labels(&a), vec!["Open"], "{principal}");
        assert_eq!(a.public[0].actions, vec!["s3:GetObject"]);
    }
    let not = assessed(json!({"Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sqs:*"}));
    assert_eq!(public_labels(&not), vec!["#0"]);
    assert!(not.public[0].principal.starts_with("NotPrincipal"));
}

#[test]
fn conditions_that_do_not_restrict_keep_it_public() {
    for condition in [
        json!({}),
        json!(null),
        json!({"Bool": {"aws:SecureTransport": "true"}}),
        json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
        json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::/0"]}}),
        json!({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}),
        json!({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}),
        json!({"StringLike": {"aws:SourceArn": "*"}}),
        json!({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}),
        json!({"Null": {"aws:SourceArn": "false"}}),
        json!({"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}),
    ] {
        let a = assessed(
            json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
            "Condition": condition}]),
        );
        assert_eq!(public_labels(&a), vec!["#0"], "{condition}");
        assert!(a.narrowed.is_empty() && a.shared.is_empty(), "{condition}");
    }
}

#[test]
fn restricting_conditions_narrow_and_name_who() {
    for condition in [
        json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}}),
        json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        json!({"StringEquals": {"AWS:SourceOwner": "111122223333"}}),
        json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "10.0.0.0/8"]}}),
        json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}),
        json!({"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "s3.us-east-1.amazonaws.com"}}),
        json!({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceAccount": "111122223333"}}),
    ] {
        let a = assessed(
            json!([{"Sid": "N", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "sns:Publish", "Condition": condition}]),
        );
        assert!(a.public.is_empty(), "{condition}");
        assert_eq!(a.narrowed, vec!["N"], "{condition}");
        assert!(a.shared.is_empty(), "{condition}: {:?}", a.shared);
    }
    let a = assessed(
        json!([{"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "sqs:*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
        {"Sid": "Src", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:*"},
        {"Sid": "Acct", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
        "Condition": {"StringEquals": {"aws:SourceAccount": ["444455556666", "111122223333"]}}}]),
    );
    assert_eq!(a.others(), vec!["444455556666", "o-a1b2c3d4e5"]);
    assert_eq!(a.shared[0].1.statement, "Org");
    assert!(a.public.is_empty());
}

#[test]
fn mixed_statements_one_open_is_public() {
    let a = assessed(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-test123456"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"}
    ]));
    assert_eq!(public_labels(&a), vec!["#1"]);
    assert_eq!(a.narrowed, vec!["#0"]);
}

#[test]
fn deny_service_and_federated_principals_are_not_exposure() {
    let a = assessed(json!([
        {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "s3:*"},
        {"Sid": "DA", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "s3:*"},
        {"Sid": "S", "Effect": "Allow", "Principal": {"Service": "*"}, "Action": "s3:*"},
        {"Sid": "S2", "Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]}, "Action": "s3:PutObject"},
        {"Sid": "F", "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"},
        {"Sid": "C", "Effect": "Allow", "Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, "Action": "s3:GetObject"},
        {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/app", "111122223333"]}, "Action": "s3:*"}
    ]));
    assert_eq!(a, Assessment::default());
}

#[test]
fn other_accounts_named_by_id_or_arn() {
    let a = assessed(json!([
        {"Sid": "X", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "444455556666",
          "arn:aws:iam::111122223333:role/admin", "arn:aws:sts::777788889999:assumed-role/r/s",
          "arn:aws:iam::777788889999:role/team-*"]}, "Action": ["sts:AssumeRole"]}
    ]));
    assert_eq!(a.others(), vec!["444455556666", "777788889999"]);
    assert_eq!(a.shared.len(), 4);
    assert_eq!(a.shared[0].1.principal, "arn:aws:iam::444455556666:root");
    assert_eq!(a.shared[0].1.actions, vec!["sts:AssumeRole"]);
    let unknown_own = assess(
        &json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "444455556666"}}}),
        "",
    );
    assert!(unknown_own.shared.is_empty());
}

#[test]
fn evidence_names_statement_principal_actions_only() {
    let many: Vec<String> = (0..12).map(|i| format!("s3:Action{i}")).collect();
    let a = assessed(
        json!([{"Sid": "Wide", "Effect": "Allow", "Principal": "*", "Action": many,
        "Resource": "arn:aws:s3:::secret-bucket/*"}]),
    );
    let e = a.public[0].evidence();
    assert_eq!(e["statement"], "Wide");
    assert_eq!(e["principal"], "*");
    assert_eq!(e["actions"].as_array().unwrap().len(), 9);
    assert_eq!(e["actions"][8], "(+4 more)");
    assert!(!e.to_string().contains("secret-bucket"));
    let n = assessed(json!({"Effect": "Allow", "Principal": "*", "NotAction": "s3:Delete*"}));
    assert_eq!(n.public[0].actions, vec!["NotAction s3:Delete*"]);
}

#[test]
fn policies_read_from_strings_and_objects() {
    assert!(matches!(
        read(Some(&json!("{\"Statement\": []}"))),
        Policy::Doc(_)
    ));
    assert!(matches!(
        read(Some(&json!({"Statement": []}))),
        Policy::Doc(_)
    ));
    assert_eq!(read(None), Policy::Absent);
    assert_eq!(read(Some(&json!(null))), Policy::Absent);
    assert_eq!(read(Some(&json!("  "))), Policy::Absent);
    let why = |v: Value| match read(Some(&v)) {
        Policy::Unreadable(why) => why,
        other => panic!("{other:?}"),
    };
    assert!(why(json!("{not json")).starts_with("its text is not JSON: "));
    let secretish = why(json!("invalid-json-policy s3cr3t"));
    assert!(secretish.contains("line 1 column"), "{secretish}");
    assert!(
        !secretish.contains("s3cr3t"),
        "the reason never quotes the text"
    );
    assert_eq!(why(json!("[1]")), "it is an array, not a policy document");
    assert_eq!(why(json!(42)), "it is a number, not a policy document");
    assert_eq!(
        assess(&json!({"Statement": "junk"}), OWN),
        Assessment::default()
    );
    assert_eq!(
        assess(
            &json!({"Statement": [1, null, {"Effect": 3}, {"Effect": "Allow", "Principal": 7}]}),
            OWN
        ),
        Assessment::default()
    );
}

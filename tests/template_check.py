#!/usr/bin/env python3
"""Checks on template.yaml that cfn-lint does not make.

- No S3, SNS, KMS, SQS, Security Hub or EventBridge action is allowed on Resource "*" (in any IAM
  policy of the template: inline role policies, managed policies, and the
  resource policies of buckets, topics and queues).
- Digest files reach the function in every mode (notification, rule, listing),
  the new trail writes them, and the role may read CloudTrail's public keys.
- The function's role grants s3:GetObject only under AWSLogs/ of the trail
  bucket, sns:Publish only on the alerts topic, kms:Decrypt only through S3
  (SQS for the environment key), in the key's region for a key given as a
  parameter.
- The alerts topic is encrypted and its policy denies publishing without TLS.
- A bucket the stack creates blocks public access, is encrypted by default,
  is versioned, expires old versions, is retained with its policy, and its
  policy denies non-TLS access. The trail bucket is SSE-KMS encrypted, logs
  its access to another bucket, and lets CloudTrail write with an
  aws:SourceArn condition; the access-log bucket lets only S3 logging write,
  for the trail bucket only.
- The trail is encrypted with a KMS key; a key the stack creates rotates, is
  retained, has no wildcard principal, and lets CloudTrail use it for this
  trail only.
- Queues and the log group are encrypted (the environment key when given);
  the ingest queue's visibility timeout covers six function timeouts plus the
  batching window; the SQS mapping caps its concurrency.
- Alarms on errors, throttles, queue depth and age, IngestErrors (by
  function), DestinationDeliveryFailures and AsyncEventsDropped.
- The default email filter passes ingest-error alerts.
- Every checkov skip in the template names a check and gives a reason.
- The function matches the issue (runtime, architecture, handler, build
  method, timeout, environment, system log level).

Run: python tests/template_check.py [--self-test] [template.yaml]
Exits non-zero if any check fails, printing every failure. With --self-test
it then breaks the template in memory in several ways and fails unless the
checks catch each one.
Uses cfn-lint's own YAML loader, so !Ref/!Sub/!GetAtt/!If tags are understood.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

from cfnlint.decode import decode

GUARDED_SERVICES = ("s3", "sns", "kms", "sqs", "securityhub", "events")

failures: list[str] = []


def check(ok: bool, message: str) -> None:
    if not ok:
        failures.append(message)


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value]


def branches(value: Any) -> Iterator[Any]:
    """Every value an Fn::If may yield (recursively), NoValue dropped."""
    if isinstance(value, dict) and list(value) == ["Fn::If"]:
        _, when_true, when_false = value["Fn::If"]
        yield from branches(when_true)
        yield from branches(when_false)
    elif isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield value


def statements(document: Any) -> Iterator[dict]:
    for doc in branches(document):
        if not isinstance(doc, dict):
            continue
        for stmt in branches(doc.get("Statement", [])):
            for item in as_list(stmt):
                for s in branches(item):
                    if isinstance(s, dict):
                        yield s


def policy_documents(resources: dict) -> Iterator[tuple[str, dict]]:
    """(where, policy document) for every policy in the template."""
    for name, res in resources.items():
        rtype = res.get("Type")
        props = res.get("Properties", {}) or {}
        if rtype == "AWS::IAM::Role":
            for pol in as_list(props.get("Policies", [])):
                for p in branches(pol):
                    yield f"{name}/{p.get('PolicyName')}", p.get("PolicyDocument", {})
        elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield name, props.get("PolicyDocument", {})
        elif rtype in (
            "AWS::S3::BucketPolicy",
            "AWS::SNS::TopicPolicy",
            "AWS::SQS::QueuePolicy",
        ):
            yield name, props.get("PolicyDocument", {})
        elif rtype == "AWS::Serverless::Function":
            for pol in as_list(props.get("Policies", [])):
                if isinstance(pol, dict) and "Statement" in pol:
                    yield f"{name}/Policies", pol


def actions_of(stmt: dict) -> list[str]:
    return [a for a in as_list(stmt.get("Action", [])) if isinstance(a, str)]


def is_star(resource: Any) -> bool:
    return any(r == "*" for r in branches(resource) for r in as_list(r))


def check_no_star_resources(resources: dict) -> None:
    for where, doc in policy_documents(resources):
        for stmt in statements(doc):
            if stmt.get("Effect") != "Allow":
                continue
            for action in actions_of(stmt):
                service = action.split(":", 1)[0].lower()
                if service in GUARDED_SERVICES or action == "*":
                    check(
                        not is_star(stmt.get("Resource", "*")),
                        f"{where}: {action} allowed on Resource '*'",
                    )
            check("NotResource" not in stmt, f"{where}: Allow with NotResource")
            check("NotAction" not in stmt, f"{where}: Allow with NotAction")


def role_statements(resources: dict, role: str) -> list[dict]:
    props = resources[role]["Properties"]
    out = []
    for pol in as_list(props.get("Policies", [])):
        for p in branches(pol):
            out.extend(statements(p.get("PolicyDocument", {})))
    return out


def flat(value: Any) -> str:
    """A readable string of an intrinsic (for pattern checks)."""
    return repr(value)


def check_function_role(resources: dict) -> None:
    fn = resources.get("Function")
    check(fn is not None, "no resource named Function")
    if fn is None:
        return
    check(
        "Policies" not in fn.get("Properties", {}),
        "Function: use the explicit role, not SAM Policies",
    )
    role_ref = fn["Properties"].get("Role")
    check(
        role_ref == {"Fn::GetAtt": ["FunctionRole", "Arn"]},
        "Function.Role must be FunctionRole",
    )
    stmts = role_statements(resources, "FunctionRole")
    for stmt in stmts:
        if stmt.get("Effect") != "Allow":
            continue
        for action in actions_of(stmt):
            res = flat(stmt.get("Resource"))
            detector_files = "${DetectorsBucket}/${DetectorsPrefix}*'" in res
            if action == "s3:GetObject":
                check("AWSLogs/*'" in res or detector_files, f"s3:GetObject not limited to AWSLogs/* or the detector files: {res}")
            elif action == "s3:ListBucket" and res.endswith("${DetectorsBucket}'}"):
                prefix = flat(stmt.get("Condition", {}).get("StringLike", {}).get("s3:prefix"))
                check("${DetectorsPrefix}*" in prefix, f"s3:ListBucket of the detector files not limited to DetectorsPrefix: {prefix}")
            elif action == "s3:ListBucket" and "TrailBucketName" in res:
                prefix = flat(stmt.get("Condition", {}).get("StringLike", {}).get("s3:prefix"))
                check("AWSLogs/*" in prefix, f"s3:ListBucket of the trail bucket not limited to AWSLogs/: {prefix}")
            elif action.startswith("s3:"):
                failures.append(f"FunctionRole: unexpected S3 action {action}")
            if action == "sns:Publish":
                check(
                    "AlertsTopic" in res,
                    f"sns:Publish not limited to the alerts topic: {res}",
                )
            elif action.startswith("sns:"):
                failures.append(f"FunctionRole: unexpected SNS action {action}")
            if action.startswith("kms:"):
                cond = flat(stmt.get("Condition"))
                check("kms:ViaService" in cond, f"{action} without kms:ViaService")
                # A key given as a parameter may be in another region (a bucket or topic
                # there): the service is the one in the key's region, from its ARN.
                if isinstance(stmt.get("Resource"), dict) and "Ref" in stmt["Resource"]:
                    param = stmt["Resource"]["Ref"]
                    if param in ("TrailBucketKmsKeyArn", "AlertsTopicKmsKeyId"):
                        check(
                            "Fn::Select" in cond and param in cond,
                            f"{action} on {param}: kms:ViaService not in the key's region",
                        )
            if action.startswith("sqs:"):
                check(
                    "Queue" in res and "GetAtt" in res,
                    f"{action} not limited to the stack's queues: {res}",
                )
    kms_via_s3 = [
        s
        for s in stmts
        if "kms:Decrypt" in actions_of(s) and "s3." in flat(s.get("Condition"))
    ]
    check(bool(kms_via_s3), "no kms:Decrypt through S3 for SSE-KMS trail buckets")


def deny_non_tls(doc: dict, action_prefix: str) -> bool:
    for stmt in statements(doc):
        if stmt.get("Effect") != "Deny":
            continue
        cond = stmt.get("Condition", {})
        bool_cond = cond.get("Bool", {}) if isinstance(cond, dict) else {}
        if str(bool_cond.get("aws:SecureTransport")).lower() != "false":
            continue
        if stmt.get("Principal") not in ("*", {"AWS": "*"}):
            continue
        if any(a.startswith(action_prefix) or a == "*" for a in actions_of(stmt)):
            return True
    return False


def policies_for(resources: dict, ptype: str, key: str, target: str) -> list[dict]:
    docs = []
    for res in resources.values():
        if res.get("Type") != ptype:
            continue
        targets = flat(res["Properties"].get(key))
        if f"'{target}'" in targets:
            docs.append(res["Properties"]["PolicyDocument"])
    return docs


def check_topics(resources: dict) -> None:
    topics = [n for n, r in resources.items() if r.get("Type") == "AWS::SNS::Topic"]
    check(bool(topics), "no SNS topic created")
    for name in topics:
        props = resources[name].get("Properties", {})
        check("KmsMasterKeyId" in props, f"{name}: not encrypted (KmsMasterKeyId)")
        docs = policies_for(resources, "AWS::SNS::TopicPolicy", "Topics", name)
        check(bool(docs), f"{name}: no topic policy")
        check(
            any(deny_non_tls(d, "sns:Publish") for d in docs),
            f"{name}: topic policy does not deny sns:Publish without TLS",
        )


def check_buckets(resources: dict) -> None:
    buckets = [n for n, r in resources.items() if r.get("Type") == "AWS::S3::Bucket"]
    check(bool(buckets), "no S3 bucket created")
    check("TrailBucket" in buckets, "no TrailBucket")
    for name in buckets:
        props = resources[name].get("Properties", {})
        rules = as_list(props.get("LifecycleConfiguration", {}).get("Rules", []))
        check(
            any("NoncurrentVersionExpiration" in r for rule in rules for r in branches(rule)),
            f"{name}: noncurrent versions never expire",
        )
        pab = props.get("PublicAccessBlockConfiguration", {})
        for key in (
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ):
            check(pab.get(key) is True, f"{name}: PublicAccessBlock {key} is not true")
        enc = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        algos = [
            r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in enc
        ]
        check(
            any(a in ("AES256", "aws:kms", "aws:kms:dsse") for a in algos),
            f"{name}: no default encryption",
        )
        check(
            props.get("VersioningConfiguration", {}).get("Status") == "Enabled",
            f"{name}: versioning not enabled",
        )
        check(
            resources[name].get("DeletionPolicy") == "Retain",
            f"{name}: log bucket should be retained on stack deletion",
        )
        docs = policies_for(resources, "AWS::S3::BucketPolicy", "Bucket", name)
        check(bool(docs), f"{name}: no bucket policy")
        check(
            any(deny_non_tls(d, "s3:") for d in docs),
            f"{name}: bucket policy does not deny non-TLS access",
        )
        for pname, res in resources.items():
            if res.get("Type") == "AWS::S3::BucketPolicy" and f"'{name}'" in flat(
                res["Properties"].get("Bucket")
            ):
                check(
                    res.get("DeletionPolicy") == "Retain",
                    f"{pname}: the retained bucket {name} would lose its TLS-only policy",
                )
        if name == "TrailBucket":
            check_trail_bucket(name, props, docs)
        else:
            check_access_log_bucket(name, docs)


def check_access_log_bucket(name: str, docs: list[dict]) -> None:
    writers = [
        s
        for d in docs
        for s in statements(d)
        if s.get("Effect") == "Allow"
    ]
    for s in writers:
        check(
            "logging.s3.amazonaws.com" in flat(s.get("Principal")),
            f"{name}: {s.get('Sid')} allows someone other than S3 server access logging",
        )
        check(
            "aws:SourceArn" in flat(s.get("Condition")),
            f"{name}: {s.get('Sid')} has no aws:SourceArn condition",
        )


def check_trail_bucket(name: str, props: dict, docs: list[dict]) -> None:
    enc = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    check(
        any(
            r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") == "aws:kms"
            and "KMSMasterKeyID" in r.get("ServerSideEncryptionByDefault", {})
            for r in enc
        ),
        f"{name}: not SSE-KMS encrypted by default",
    )
    check(
        "DestinationBucketName" in props.get("LoggingConfiguration", {}),
        f"{name}: no server access logging",
    )
    cloudtrail = [
        s
        for d in docs
        for s in statements(d)
        if s.get("Effect") == "Allow"
        and flat(s.get("Principal")).find("cloudtrail.amazonaws.com") >= 0
    ]
    acts = {a for s in cloudtrail for a in actions_of(s)}
    check(
        {"s3:GetBucketAcl", "s3:PutObject"} <= acts,
        f"{name}: CloudTrail cannot GetBucketAcl and PutObject",
    )
    for s in cloudtrail:
        check(
            "aws:SourceArn" in flat(s.get("Condition")),
            f"{name}: CloudTrail statement {s.get('Sid')} has no aws:SourceArn condition",
        )


def check_trail_and_key(resources: dict) -> None:
    trail = resources.get("Trail", {}).get("Properties", {})
    check("KMSKeyId" in trail, "Trail: log files not encrypted with a KMS key")
    keys = [n for n, r in resources.items() if r.get("Type") == "AWS::KMS::Key"]
    check(bool(keys), "no KMS key for the trail")
    for name in keys:
        res = resources[name]
        props = res.get("Properties", {})
        check(props.get("EnableKeyRotation") is True, f"{name}: key rotation off")
        check(
            res.get("DeletionPolicy") == "Retain",
            f"{name}: deleting the key would make the retained log files unreadable",
        )
        stmts = list(statements(props.get("KeyPolicy", {})))
        for s in stmts:
            if s.get("Effect") != "Allow":
                continue
            check(
                s.get("Principal") not in ("*", {"AWS": "*"}),
                f"{name}: {s.get('Sid')} allows any principal",
            )
            if "cloudtrail.amazonaws.com" in flat(s.get("Principal")):
                check(
                    "aws:SourceArn" in flat(s.get("Condition")),
                    f"{name}: {s.get('Sid')} lets CloudTrail use the key for any trail",
                )
        acts = {a for s in stmts for a in actions_of(s) if "cloudtrail" in flat(s.get("Principal"))}
        check("kms:GenerateDataKey*" in acts, f"{name}: CloudTrail cannot encrypt")


def check_encryption_at_rest(resources: dict) -> None:
    for name, res in resources.items():
        props = res.get("Properties", {}) or {}
        if res.get("Type") == "AWS::SQS::Queue":
            check(
                "KmsMasterKeyId" in props and "SqsManagedSseEnabled" in props,
                f"{name}: not encrypted with the environment key or SSE-SQS",
            )
        if res.get("Type") == "AWS::Logs::LogGroup":
            check("KmsKeyId" in props, f"{name}: never encrypted with the environment key")


def check_checkov_skips(resources: dict) -> None:
    for name, res in resources.items():
        skips = (res.get("Metadata", {}) or {}).get("checkov", {}).get("skip", [])
        for skip in as_list(skips):
            ok = (
                isinstance(skip, dict)
                and str(skip.get("id", "")).startswith("CKV")
                and len(str(skip.get("comment", "")).split()) >= 4
            )
            check(ok, f"{name}: checkov skip without a check id and a reason: {skip}")


def check_alerting(resources: dict) -> None:
    sub = resources.get("AlertEmailSubscription", {}).get("Properties", {})
    check(
        "ingest-error" in flat(sub.get("FilterPolicy")),
        "the default email filter drops ingest-error alerts",
    )
    alarms = {
        r["Properties"].get("MetricName"): r["Properties"]
        for r in resources.values()
        if r.get("Type") == "AWS::CloudWatch::Alarm"
    }
    for metric in (
        "IngestErrors",
        "ApproximateAgeOfOldestMessage",
        "DestinationDeliveryFailures",
        "AsyncEventsDropped",
    ):
        check(metric in alarms, f"no CloudWatch alarm on {metric}")
    check(
        "FunctionName" in flat(alarms.get("IngestErrors", {}).get("Dimensions")),
        "the IngestErrors alarm does not name the function (stacks would mix)",
    )


def check_function(resources: dict) -> None:
    fn = resources.get("Function", {})
    props = fn.get("Properties", {})
    check(props.get("Runtime") == "provided.al2023", "Runtime is not provided.al2023")
    check(props.get("Architectures") == ["arm64"], "Architectures is not [arm64]")
    check(props.get("Handler") == "bootstrap", "Handler is not bootstrap")
    check(props.get("Timeout") == 300, "Timeout is not 300")
    check(
        fn.get("Metadata", {}).get("BuildMethod") == "rust-cargolambda",
        "Metadata.BuildMethod is not rust-cargolambda",
    )
    env = props.get("Environment", {}).get("Variables", {})
    for var in (
        "TOPIC_ARN",
        "MIN_SEVERITY",
        "TRAILWATCH_FIPS_REQUIRED",
        "DISABLED_DETECTORS",
        "MAX_CONCURRENCY",
        "AWS_USE_FIPS_ENDPOINT",
    ):
        check(var in env, f"Function environment lacks {var}")
    check("KmsKeyArn" in props, "Function has no KmsKeyArn (optional CMK) property")
    check(
        props.get("LoggingConfig", {}).get("SystemLogLevel") in ("DEBUG", "INFO"),
        "SystemLogLevel drops Lambda's REPORT lines",
    )
    dest = flat(props.get("EventInvokeConfig", {}).get("DestinationConfig"))
    check(
        "OnFailure" in dest or "DeadLetterQueue" in props,
        "failed asynchronous invocations are not kept",
    )
    alarms = [
        r["Properties"].get("MetricName")
        for r in resources.values()
        if r.get("Type") == "AWS::CloudWatch::Alarm"
    ]
    for metric in ("Errors", "Throttles", "ApproximateNumberOfMessagesVisible"):
        check(metric in alarms, f"no CloudWatch alarm on {metric}")


def check_event_sources(resources: dict) -> None:
    esm = [r for r in resources.values() if r.get("Type") == "AWS::Lambda::EventSourceMapping"]
    check(bool(esm), "no SQS event source mapping")
    timeout = resources.get("Function", {}).get("Properties", {}).get("Timeout", 0)
    for r in esm:
        props = r["Properties"]
        check(
            "ReportBatchItemFailures" in as_list(props.get("FunctionResponseTypes", [])),
            "event source mapping without ReportBatchItemFailures",
        )
        check(
            "MaximumConcurrency" in props.get("ScalingConfig", {}),
            "event source mapping without ScalingConfig.MaximumConcurrency",
        )
        queue = flat(props.get("EventSourceArn"))
        window = props.get("MaximumBatchingWindowInSeconds", 0)
        for qname, q in resources.items():
            if q.get("Type") == "AWS::SQS::Queue" and f"'{qname}'" in queue:
                vis = q["Properties"].get("VisibilityTimeout", 30)
                check(
                    isinstance(vis, int) and vis >= 6 * timeout + window,
                    f"{qname}: visibility timeout {vis} below 6 x {timeout} + {window}",
                )
    queues = [r for r in resources.values() if r.get("Type") == "AWS::SQS::Queue"]
    check(
        any("RedrivePolicy" in r.get("Properties", {}) for r in queues),
        "the ingest queue has no dead-letter queue",
    )
    rules = [r for r in resources.values() if r.get("Type") == "AWS::Events::Rule"]
    check(
        any("Object Created" in flat(r["Properties"].get("EventPattern")) for r in rules),
        "no EventBridge rule on Object Created",
    )
    perms = [r for r in resources.values() if r.get("Type") == "AWS::Lambda::Permission"]
    principals = {r["Properties"].get("Principal") for r in perms}
    check(
        {"s3.amazonaws.com", "events.amazonaws.com"} <= principals,
        "missing invoke permissions for S3 or EventBridge",
    )
    for r in perms:
        check("SourceArn" in r["Properties"], "Lambda permission without SourceArn")


def check_state(resources: dict) -> None:
    table = resources.get("StateTable", {})
    props = table.get("Properties", {})
    check(table.get("Type") == "AWS::DynamoDB::Table", "no StateTable")
    check(props.get("BillingMode") == "PAY_PER_REQUEST", "StateTable is not on demand")
    ttl = props.get("TimeToLiveSpecification", {})
    check(ttl.get("Enabled") is True and ttl.get("AttributeName") == "expires", "StateTable items never expire")
    pitr = props.get("PointInTimeRecoverySpecification", {})
    check(pitr.get("PointInTimeRecoveryEnabled") is True, "StateTable without point-in-time recovery")
    check("SSESpecification" in props, "StateTable never encrypted with the environment key")
    for stmt in role_statements(resources, "FunctionRole"):
        for action in actions_of(stmt):
            if action.startswith("dynamodb:"):
                check(
                    action in ("dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:GetItem"),
                    f"FunctionRole: unexpected DynamoDB action {action}",
                )
                check(
                    stmt.get("Resource") == {"Fn::GetAtt": ["StateTable", "Arn"]},
                    f"{action} not limited to the state table: {flat(stmt.get('Resource'))}",
                )
    schedules = [
        r.get("Properties", {})
        for r in resources.values()
        if r.get("Type") == "AWS::Scheduler::Schedule"
    ]
    check(
        any(
            s.get("ScheduleExpression") == "rate(15 minutes)"
            and "scheduled-check" in flat(s.get("Target", {}).get("Input"))
            and "Function" in flat(s.get("Target", {}).get("Arn"))
            for s in schedules
        ),
        "no 15-minute schedule invoking the function's scheduled check",
    )
    env = resources.get("Function", {}).get("Properties", {}).get("Environment", {}).get("Variables", {})
    check(env.get("STATE_TABLE") == {"Ref": "StateTable"}, "the function does not know its state table")


def check_digests(resources: dict) -> None:
    """Digest files reach the function in every mode, and it may check their signatures."""
    actions = [a for stmt in role_statements(resources, "FunctionRole") for a in actions_of(stmt)]
    check("cloudtrail:ListPublicKeys" in actions, "FunctionRole cannot read CloudTrail's public keys")
    trail = resources.get("Trail", {}).get("Properties", {})
    check(trail.get("EnableLogFileValidation") is True, "the new trail writes no digest files")
    bucket = flat(resources.get("TrailBucket", {}).get("Properties", {}).get("NotificationConfiguration"))
    check("CloudTrail-Digest/" in bucket, "mode new-trail: digest files are not notified")
    rules = [flat(r["Properties"].get("EventPattern")) for r in resources.values() if r.get("Type") == "AWS::Events::Rule"]
    check(any("CloudTrail-Digest/" in r for r in rules), "mode existing-bucket: digest files are not matched")
    env = resources.get("Function", {}).get("Properties", {}).get("Environment", {}).get("Variables", {})
    check("DIGEST_LISTING" in env, "mode existing-trail-topic: digest files are never listed")


def run_checks(resources: dict) -> list[str]:
    failures.clear()
    for step in (
        check_no_star_resources,
        check_function_role,
        check_topics,
        check_buckets,
        check_trail_and_key,
        check_encryption_at_rest,
        check_checkov_skips,
        check_alerting,
        check_function,
        check_event_sources,
        check_state,
        check_digests,
    ):
        step(resources)
    return list(failures)


def _statement(resources: dict, sid: str) -> dict:
    for _, doc in policy_documents(resources):
        for stmt in statements(doc):
            if stmt.get("Sid") == sid:
                return stmt
    raise KeyError(sid)


# Each breaks the template in one way the checks must catch.
MUTATIONS = {
    "publish on *": lambda r: _statement(r, "PublishAlerts").update(Resource="*"),
    "GetObject on the whole bucket": lambda r: _statement(r, "GetTrailObjects").update(
        Resource={"Fn::Sub": "arn:${AWS::Partition}:s3:::${TrailBucketName}/*"}
    ),
    "kms without ViaService": lambda r: _statement(
        r, "DecryptTrailObjectsThroughS3"
    ).pop("Condition"),
    "topic policy allows plain HTTP": lambda r: _statement(
        r, "AllowPublishThroughSSLOnly"
    ).update(Effect="Allow"),
    "bucket not versioned": lambda r: r["TrailBucket"]["Properties"].pop(
        "VersioningConfiguration"
    ),
    "bucket not encrypted": lambda r: r["TrailBucket"]["Properties"].pop(
        "BucketEncryption"
    ),
    "public policy allowed": lambda r: r["TrailBucket"]["Properties"][
        "PublicAccessBlockConfiguration"
    ].update(BlockPublicPolicy=False),
    "CloudTrail write without SourceArn": lambda r: _statement(
        r, "AWSCloudTrailWrite20150319"
    )["Condition"]["StringEquals"].pop("aws:SourceArn"),
    "topic unencrypted": lambda r: r["AlertsTopic"]["Properties"].pop("KmsMasterKeyId"),
    "trail not encrypted with KMS": lambda r: r["Trail"]["Properties"].pop("KMSKeyId"),
    "trail without log file validation": lambda r: r["Trail"]["Properties"].update(
        EnableLogFileValidation=False
    ),
    "no public keys for digest signatures": lambda r: _statement(
        r, "ReadCloudTrailPublicKeys"
    ).update(Action="cloudtrail:GetTrail"),
    "digest listing of the whole bucket": lambda r: _statement(r, "ListDigestFiles").pop(
        "Condition"
    ),
    "digest files not notified": lambda r: r["TrailBucket"]["Properties"][
        "NotificationConfiguration"
    ]["LambdaConfigurations"].pop(),
    "trail bucket SSE-S3": lambda r: r["TrailBucket"]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ][0].update(ServerSideEncryptionByDefault={"SSEAlgorithm": "AES256"}),
    "no server access logging": lambda r: r["TrailBucket"]["Properties"].pop(
        "LoggingConfiguration"
    ),
    "key rotation off": lambda r: r["TrailKey"]["Properties"].update(EnableKeyRotation=False),
    "key policy lets anyone decrypt": lambda r: _key_statement(
        r, "AllowPrincipalsInTheAccountToDecryptLogFiles"
    ).update(Principal={"AWS": "*"}),
    "key deleted with the stack": lambda r: r["TrailKey"].update(DeletionPolicy="Delete"),
    "TLS-only policy deleted with the stack": lambda r: r["TrailBucketPolicy"].pop(
        "DeletionPolicy"
    ),
    "access logs writable by anyone": lambda r: _statement(
        r, "S3ServerAccessLogsPolicy"
    ).update(Principal="*"),
    "queue unencrypted": lambda r: r["FailureQueue"]["Properties"].pop("SqsManagedSseEnabled"),
    "visibility timeout too short": lambda r: r["IngestQueue"]["Properties"].update(
        VisibilityTimeout=1800
    ),
    "no MaximumConcurrency": lambda r: r["IngestEventSourceMapping"]["Properties"].pop(
        "ScalingConfig"
    ),
    "email filter drops ingest-error": lambda r: r["AlertEmailSubscription"]["Properties"].update(
        FilterPolicy={"severity": ["high", "critical"]}
    ),
    "no IngestErrors alarm": lambda r: r.pop("IngestErrorsAlarm"),
    "no AsyncEventsDropped alarm": lambda r: r.pop("AsyncEventsDroppedAlarm"),
    "checkov skip without a reason": lambda r: r["Function"]["Metadata"]["checkov"]["skip"][
        0
    ].pop("comment"),
    "ViaService in the stack's region for a key elsewhere": lambda r: _statement(
        r, "DecryptTrailObjectsThroughS3"
    ).update(
        Condition={
            "StringEquals": {
                "kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}
            }
        }
    ),
    "state on every table": lambda r: _statement(r, "ReadAndWriteState").update(Resource="*"),
    "state table may be scanned": lambda r: _statement(r, "ReadAndWriteState").update(
        Action=["dynamodb:Query", "dynamodb:Scan"]
    ),
    "state never expires": lambda r: r["StateTable"]["Properties"].pop("TimeToLiveSpecification"),
    "state without PITR": lambda r: r["StateTable"]["Properties"].pop(
        "PointInTimeRecoverySpecification"
    ),
    "no scheduled check": lambda r: r.pop("ScheduledCheck"),
    "REPORT lines dropped": lambda r: r["Function"]["Properties"]["LoggingConfig"].update(
        SystemLogLevel="WARN"
    ),
}


def _key_statement(resources: dict, sid: str) -> dict:
    for stmt in statements(resources["TrailKey"]["Properties"]["KeyPolicy"]):
        if stmt.get("Sid") == sid:
            return stmt
    raise KeyError(sid)


def self_test(resources: dict) -> int:
    """Every mutation must make the checks fail (the checks can fail)."""
    import copy

    bad = 0
    for name, mutate in MUTATIONS.items():
        broken = copy.deepcopy(resources)
        mutate(broken)
        found = run_checks(broken)
        if not found:
            print(f"SELF-TEST FAIL: the checks missed: {name}")
            bad += 1
    failures.clear()
    print(f"template_check self-test: {len(MUTATIONS) - bad} of {len(MUTATIONS)} mutations caught")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    path = Path(args[0] if args else "template.yaml")
    template, matches = decode(str(path))
    if matches or template is None:
        for m in matches or []:
            print(f"parse error: {m}")
        return 2
    resources = template.get("Resources", {})
    found = run_checks(resources)
    if found:
        for f in found:
            print(f"FAIL {f}")
        print(f"template_check: {len(found)} failed")
        return 1
    print(f"template_check: {path} ok")
    if "--self-test" in argv:
        return self_test(resources)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Writes one sample delivery per family of detectors into samples/ (deterministic: fixed seed,
gzip mtime 0): data theft, destruction, lost visibility, credential abuse.

Each delivery holds, for every detector of its family, the records of the first inline test
that expects a match (a correlation's whole sequence), dressed as delivered records: an event
id, a time inside the delivery's five minutes (a sequence keeps its spacing), the account,
region, address, user agent and identity a record of that account would carry.
Run from the repository root: python3 scripts/make_breadth_samples.py (needs PyYAML)
"""
import datetime, gzip, json, os, random, uuid

import yaml

import sample_identity

ACCOUNT = "111122223333"
HERE = os.path.dirname(os.path.abspath(__file__))
DETECTORS = os.path.join(HERE, "..", "detectors")
OUT = os.path.join(HERE, "..", "samples")
rng = random.Random(20261206)
WHO = ("AssumedRole", "arn:aws:sts::111122223333:assumed-role/Admin/mallory", "AROAEXAMPLEADMIN0002:mallory")
AGENT = "aws-cli/2.17.20 md/Botocore#1.34.142 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8"

FAMILIES = {
    "Theft01": ("20261128T1100Z", [
        "data-copied-out", "rds-snapshot-export", "rds-restored-public", "rds-master-password-reset",
        "ec2-traffic-mirroring", "ec2-instance-secrets-read", "secrets-read-burst", "secrets-batch-read",
        "ssm-parameter-read-burst", "bedrock-model-access-requested", "bedrock-invoke-denied-burst"]),
    "Destruction01": ("20261128T1110Z", [
        "s3-sse-c-encryption", "s3-lifecycle-short-expiry", "s3-versioning-suspended", "s3-object-lock-bypass",
        "s3-mass-deletion", "rds-deleted", "rds-deleted-without-final-snapshot", "rds-backups-removed",
        "backup-deleted", "dynamodb-protection-removed", "dynamodb-table-deleted", "efs-deleted",
        "ebs-snapshot-deletion-burst"]),
    "Evasion01": ("20261128T1120Z", [
        "guardduty-findings-suppressed", "securityhub-findings-suppressed", "macie-paused",
        "waf-protection-removed", "waf-ip-set-changed", "cloudwatch-alarms-disabled", "log-group-deleted",
        "eventbridge-rule-disabled", "config-rule-deleted", "bedrock-logging-removed",
        "bedrock-guardrail-weakened", "rds-activity-stream-stopped", "cloudtrail-selectors-narrowed"]),
    "CredentialAbuse01": ("20261128T1130Z", [
        "iam-credentials-for-other-user", "ec2-instance-credentials-elsewhere", "ec2-user-data-modified",
        "ssm-remote-command-burst", "lambda-function-modified", "codebuild-project-public",
        "identity-provider-changed", "identity-center-permission-set-changed",
        "secret-scanner-caller-identity", "rolesanywhere-trust-anchor-created"]),
}


def first_match(detector):
    with open(os.path.join(DETECTORS, detector + ".yml")) as f:
        rule = yaml.safe_load(f)
    test = next(t for t in rule["tests"] if t["expect"] == "match")
    return test.get("records") or [test["record"]]


def when(text):
    return datetime.datetime.strptime(text.replace("Z", ""), "%Y-%m-%dT%H:%M:%S")


def dress(record, at):
    rec = json.loads(json.dumps(record))
    rec.setdefault("eventVersion", "1.09")
    rec["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    rec["awsRegion"] = "us-east-1"  # a delivery holds one region's records
    rec["recipientAccountId"] = ACCOUNT
    rec.setdefault("sourceIPAddress", "203.0.113.66")
    rec.setdefault("userAgent", AGENT)
    service = rec.get("eventSource", "sts.amazonaws.com").split(".")[0]
    rec.setdefault("tlsDetails", {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                  "clientProvidedHostHeader": f"{service}.{rec['awsRegion']}.amazonaws.com"})
    key = "ASIAEXAMPLE" + format(rng.getrandbits(36), "09X")
    if "userIdentity" not in rec:
        rec["userIdentity"] = sample_identity.identity(WHO, ACCOUNT, key, "2026-11-28T10:55:00Z", "false")
    rec["userIdentity"].setdefault("accountId", ACCOUNT)
    rec.setdefault("requestParameters", None)
    rec.setdefault("responseElements", None)
    rec["requestID"] = str(uuid.UUID(int=rng.getrandbits(128)))
    rec["eventID"] = str(uuid.UUID(int=rng.getrandbits(128)))
    rec.setdefault("eventType", "AwsApiCall")
    rec.setdefault("managementEvent", True)
    rec.setdefault("eventCategory", "Management")
    return rec


def delivery(stamp, detectors):
    start = datetime.datetime.strptime(stamp, "%Y%m%dT%H%MZ")
    records = []
    for i, detector in enumerate(detectors):
        sequence = first_match(detector)
        times = [when(r["eventTime"]) for r in sequence if "eventTime" in r]
        origin = min(times) if times else None
        base = start + datetime.timedelta(seconds=10 * i)
        for r in sequence:
            offset = when(r["eventTime"]) - origin if "eventTime" in r and origin else datetime.timedelta()
            records.append(dress(r, base + offset))
    return records


def main():
    for name, (stamp, detectors) in FAMILIES.items():
        records = delivery(stamp, detectors)
        path = os.path.join(OUT, f"{ACCOUNT}_CloudTrail_us-east-1_{stamp}_{name}.json.gz")
        data = json.dumps({"Records": records}, separators=(",", ":")).encode()
        with open(path, "wb") as f:
            f.write(gzip.compress(data, mtime=0))
        print(f"{path}: {len(records)} records")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the project's own sample deliveries into samples/ (deterministic: fixed seed, gzip mtime 0).

Benign traffic of one small account, and calls over outdated TLS for the tls-outdated detector.
Run from the repository root: python3 scripts/make_samples.py
"""
import gzip, json, os, random, uuid

import sample_identity

ACCOUNT = "111122223333"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")
rng = random.Random(20261128)

USERS = [
    ("IAMUser", "arn:aws:iam::111122223333:user/alice", "AIDAEXAMPLEALICE0001"),
    ("AssumedRole", "arn:aws:sts::111122223333:assumed-role/deploy/ci-runner", "AROAEXAMPLEDEPLOY001:ci-runner"),
    ("AssumedRole", "arn:aws:sts::111122223333:assumed-role/Admin/bob@example.org", "AROAEXAMPLEADMIN0001:bob@example.org"),
]
CALLS = [
    ("s3.amazonaws.com", "GetBucketLocation", True, "s3.us-east-1.amazonaws.com", {"bucketName": "app-assets-111122223333", "location": ""}),
    ("s3.amazonaws.com", "ListBuckets", True, "s3.amazonaws.com", {"Host": "s3.amazonaws.com"}),
    ("ec2.amazonaws.com", "DescribeInstances", True, "ec2.us-east-1.amazonaws.com", {"instancesSet": {}, "filterSet": {}}),
    ("sts.amazonaws.com", "GetCallerIdentity", True, "sts.us-east-1.amazonaws.com", None),
    ("iam.amazonaws.com", "ListRoles", True, "iam.amazonaws.com", None),
    ("kms.amazonaws.com", "Decrypt", True, "kms.us-east-1.amazonaws.com", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("lambda.amazonaws.com", "ListFunctions20150331", True, "lambda.us-east-1.amazonaws.com", None),
    ("logs.amazonaws.com", "DescribeLogGroups", True, "logs.us-east-1.amazonaws.com", {"limit": 50}),
    ("dynamodb.amazonaws.com", "DescribeTable", True, "dynamodb.us-east-1.amazonaws.com", {"tableName": "orders"}),
    ("ssm.amazonaws.com", "GetParameter", True, "ssm.us-east-1.amazonaws.com", {"name": "/app/feature-flags", "withDecryption": False}),
]
AGENTS = ["aws-cli/2.17.20 md/Botocore#1.34.142 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8",
          "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.171.0",
          "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10 md/arch#arm64 lang/python#3.12.4 cfg/retry-mode#legacy"]


def identity(kind, arn, pid):
    key = "ASIAEXAMPLE" + format(rng.getrandbits(36), "09X")
    return sample_identity.identity((kind, arn, pid), ACCOUNT, key, "2026-11-28T08:55:00Z", "false")


def call(minute, second, source, name, host, params, tls="TLSv1.3", region="us-east-1", who=None, agent=None):
    kind, arn, pid = who or rng.choice(USERS)
    rec = {"eventVersion": "1.09", "userIdentity": identity(kind, arn, pid),
           "eventTime": f"2026-11-28T09:{minute:02d}:{second:02d}Z", "eventSource": source, "eventName": name,
           "awsRegion": region, "sourceIPAddress": f"198.51.100.{rng.randint(2, 250)}",
           "userAgent": agent or rng.choice(AGENTS), "requestParameters": params, "responseElements": None,
           "requestID": str(uuid.UUID(int=rng.getrandbits(128))), "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
           "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
           "eventCategory": "Management"}
    if tls:
        rec["tlsDetails"] = {"tlsVersion": tls, "cipherSuite": "TLS_AES_128_GCM_SHA256" if tls.endswith("1.3") else
                             "ECDHE-RSA-AES128-GCM-SHA256", "clientProvidedHostHeader": host}
    return rec


def service_event(minute):
    return {"eventVersion": "1.08", "userIdentity": {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
            "eventTime": f"2026-11-28T09:{minute:02d}:30Z", "eventSource": "kms.amazonaws.com", "eventName": "GenerateDataKey",
            "awsRegion": "us-east-1", "sourceIPAddress": "cloudtrail.amazonaws.com", "userAgent": "cloudtrail.amazonaws.com",
            "requestParameters": {"keySpec": "AES_256"}, "responseElements": None,
            "eventID": str(uuid.UUID(int=rng.getrandbits(128))), "readOnly": True, "eventType": "AwsServiceEvent",
            "managementEvent": True, "recipientAccountId": ACCOUNT, "sharedEventID": str(uuid.UUID(int=rng.getrandbits(128))),
            "eventCategory": "Management"}


def write(name, records):
    data = json.dumps({"Records": records}, separators=(",", ":")).encode()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(gzip.compress(data, mtime=0))


def benign():
    recs = []
    for i in range(120):
        source, name, ro, host, params = rng.choice(CALLS)
        recs.append(call(i // 4, (i * 13) % 60, source, name, host, params, tls=rng.choice(["TLSv1.2", "TLSv1.3"])))
    recs.append(service_event(30))
    recs.append({"eventVersion": "1.08", "eventTime": "2026-11-28T09:31:00Z", "eventSource": "iam.amazonaws.com",
                 "eventName": "ListRoles", "awsRegion": "us-east-1", "eventType": "AwsCloudTrailInsight",
                 "eventCategory": "Insight", "recipientAccountId": ACCOUNT, "sharedEventID": str(uuid.UUID(int=rng.getrandbits(128))),
                 "insightDetails": {"state": "Start", "eventSource": "iam.amazonaws.com", "eventName": "ListRoles",
                                    "insightType": "ApiCallRateInsight"}})
    return recs


def old_tls():
    legacy = USERS[1]
    agent = "aws-sdk-java/1.11.30 Linux/3.10.0 Java_HotSpot(TM)_64-Bit_Server_VM/25.20-b23/1.8.0_20"
    recs = [call(15, s, "s3.amazonaws.com", "PutObject", "reports-111122223333.s3.us-east-1.amazonaws.com",
                 {"bucketName": "reports-111122223333", "key": f"daily/2026-11-28/part-{s}.csv"}, tls="TLSv1", who=legacy, agent=agent)
            for s in range(0, 50, 10)]
    recs.append(call(16, 5, "sts.amazonaws.com", "GetCallerIdentity", "sts.us-east-1.amazonaws.com", None, tls="TLSv1.1",
                     who=USERS[0], agent="curl/7.29.0"))
    recs += [call(16, 10 + i, "ec2.amazonaws.com", "DescribeInstances", "ec2.us-east-1.amazonaws.com", {"instancesSet": {}},
                  tls=t) for i, t in enumerate(["TLSv1.2", "1.3", "tlsVersion"])]
    return recs


if __name__ == "__main__":
    write(f"{ACCOUNT}_CloudTrail_us-east-1_20261128T0900Z_Benign01.json.gz", benign())
    write(f"{ACCOUNT}_CloudTrail_us-east-1_20261128T0915Z_OldTls01.json.gz", old_tls())

#!/usr/bin/env python3
"""Writes the KMS sample delivery into samples/ (deterministic: fixed seed, gzip mtime 0).

Positives for kms-key-policy, kms-key-loss and cmk-downgrade, and benign near misses of each.
Run from the repository root: python3 scripts/make_kms_samples.py
"""
import gzip, json, os, random, uuid

import sample_identity

ACCOUNT = "111122223333"
PARTNER = "444455556666"
REGION = "us-east-1"
NAME = f"{ACCOUNT}_CloudTrail_{REGION}_20261128T1020Z_KmsKeys01.json.gz"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", NAME)
rng = random.Random(2026112810)

KEY_ID = "5c1e7b0a-3f2d-4e8a-9b61-2d0c7f4a8e13"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
LOGS_KEY_ID = "0a9d4c2e-71b3-4f06-8e5d-c4b19a7e2f60"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{LOGS_KEY_ID}"
CLI = "aws-cli/2.17.20 md/Botocore#1.34.142 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8 md/command#kms"
CONSOLE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
TERRAFORM = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 aws-sdk-go-v2/1.32.4"

ADMIN = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob@example.org", "AROAEXAMPLEADMIN0001:bob@example.org")
INTRUDER = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-automation/i-0b7e2f9c4d1a63e58",
            "AROAEXAMPLEOPSAUTO01:i-0b7e2f9c4d1a63e58")
DEPLOY = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci-runner", "AROAEXAMPLEDEPLOY001:ci-runner")
ALICE = ("IAMUser", f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAEXAMPLEALICE0001")


def identity(who, invoked_by=None):
    key = ("AKIA" if who[0] == "IAMUser" else "ASIA") + "EXAMPLE" + format(rng.getrandbits(36), "09X")
    return sample_identity.identity(who, ACCOUNT, key, "2026-11-28T10:02:11Z", "false", invoked_by)


def call(minute, second, source, name, params, who=ADMIN, response=None, agent=CLI, error=None, read_only=False,
         resources=None, ip=None, extra=None, invoked_by=None):
    rec = {"eventVersion": "1.10", "userIdentity": identity(who, invoked_by),
           "eventTime": f"2026-11-28T10:{minute:02d}:{second:02d}Z", "eventSource": source, "eventName": name,
           "awsRegion": REGION, "sourceIPAddress": ip or f"203.0.113.{rng.randint(2, 250)}", "userAgent": agent}
    if error:
        rec["errorCode"], rec["errorMessage"] = error
    rec.update({"requestParameters": params, "responseElements": None if error else response,
                "requestID": str(uuid.UUID(int=rng.getrandbits(128))),
                "eventID": str(uuid.UUID(int=rng.getrandbits(128))), "readOnly": read_only})
    if extra:
        rec["additionalEventData"] = extra
    if resources:
        rec["resources"] = resources
    rec.update({"eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
                "eventCategory": "Management"})
    if not (ip or "").endswith("amazonaws.com") and agent not in ("AWS Internal",):
        host = f"{source.split('.')[0]}.{REGION}.amazonaws.com"
        rec["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                             "clientProvidedHostHeader": host}
    return rec


def key_res(arn=KEY):
    return [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": arn}]


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": list(statements)})


ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}
KMS, LAMBDA, LOGS, XRAY, SNS, S3 = ("kms.amazonaws.com", "lambda.amazonaws.com", "logs.amazonaws.com",
                                   "xray.amazonaws.com", "sns.amazonaws.com", "s3.amazonaws.com")
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events"
FUNCTION = "billing-export"
GRANT_ID = "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60"

records = [
    # Benign near misses first: routine key use and hardening.
    call(21, 4, KMS, "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                 "encryptionContext": {"aws:lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"}},
         who=DEPLOY, read_only=True, resources=key_res()),
    call(21, 30, KMS, "PutKeyPolicy", {"keyId": KEY_ID, "policyName": "default", "bypassPolicyLockoutSafetyCheck": False,
                                       "policy": policy(ROOT, {"Sid": "Allow S3 in this account", "Effect": "Allow",
                                                               "Principal": {"AWS": "*"},
                                                               "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                                                               "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                                                              "kms:ViaService": f"s3.{REGION}.amazonaws.com"}}})},
         agent=TERRAFORM, who=DEPLOY, resources=key_res()),
    call(22, 2, KMS, "CreateGrant", {"keyId": KEY, "granteePrincipal": f"arn:aws:iam::{ACCOUNT}:role/billing-export-lambda",
                                     "retiringPrincipal": f"arn:aws:iam::{ACCOUNT}:role/Admin",
                                     "operations": ["Decrypt", "GenerateDataKey"]},
         who=ALICE, response={"grantId": "7a1c2e5b9f3d40c68e21b7d9a4f06c3e5b8d2a71c9e04f6b3d5a8c7e2f1b9d40"}, resources=key_res()),
    call(22, 40, KMS, "RetireGrant", None, who=ADMIN, agent="AWS Internal", ip="AWS Internal",
         extra={"grantId": "abcde1237f76e4ba7987489ac329fbfba6ad343d6f7075dbd1ef191f0120514a"}, resources=key_res()),
    call(23, 15, KMS, "EnableKeyRotation", {"keyId": KEY_ID, "rotationPeriodInDays": 365}, resources=key_res()),
    call(23, 50, KMS, "CancelKeyDeletion", {"keyId": LOGS_KEY_ID}, response={"keyId": LOGS_KEY}, resources=key_res(LOGS_KEY)),
    call(24, 5, KMS, "CreateAlias", {"aliasName": "alias/billing", "targetKeyId": KEY_ID},
         resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY},
                    {"accountId": ACCOUNT, "type": "AWS::KMS::Alias", "ARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/billing"}]),
    call(24, 30, LAMBDA, "UpdateFunctionConfiguration20150331v2", {"functionName": FUNCTION, "kMSKeyArn": KEY,
                                                                  "environment": {"variables": "***"}},
         who=DEPLOY, agent=TERRAFORM, response={"functionName": FUNCTION, "kMSKeyArn": KEY, "lastUpdateStatus": "InProgress"}),
    call(24, 58, LAMBDA, "CreateFunction20150331", {"functionName": "thumbnailer", "runtime": "python3.12",
                                                    "role": f"arn:aws:iam::{ACCOUNT}:role/thumbnailer-lambda",
                                                    "handler": "app.handler", "code": {"s3Bucket": "artifacts-111122223333",
                                                                                       "s3Key": "thumbnailer.zip"},
                                                    "environment": {"variables": "***"}, "publish": False},
         who=DEPLOY, agent=TERRAFORM, response={"functionName": "thumbnailer", "state": "Pending"}),
    call(25, 20, SNS, "SetTopicAttributes", {"topicArn": TOPIC, "attributeName": "KmsMasterKeyId", "attributeValue": "alias/billing"}),
    call(25, 44, XRAY, "PutEncryptionConfig", {"keyId": "alias/billing", "type": "KMS"},
         response={"encryptionConfig": {"keyId": KEY, "status": "UPDATING", "type": "KMS"}}),
    call(26, 10, LOGS, "AssociateKmsKey", {"logGroupName": "/app/billing", "kmsKeyId": LOGS_KEY}),
    call(26, 33, S3, "PutBucketEncryption", {"bucketName": "ledger-111122223333", "Host": "ledger-111122223333.s3.amazonaws.com",
                                             "ServerSideEncryptionConfiguration": {"Rule": {"ApplyServerSideEncryptionByDefault": {
                                                 "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY}, "BucketKeyEnabled": True}}}),

    # kms-key-policy positives: an intruder's role opens the key, shares it, moves the alias.
    call(31, 12, KMS, "PutKeyPolicy", {"keyId": KEY, "policyName": "default", "bypassPolicyLockoutSafetyCheck": False,
                                       "policy": policy(ROOT, {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"},
                                                               "Action": "kms:*", "Resource": "*"})},
         who=INTRUDER, error=("AccessDeniedException", "User is not authorized to perform: kms:PutKeyPolicy"), resources=key_res()),
    call(31, 40, KMS, "PutKeyPolicy", {"keyId": KEY_ID, "policyName": "default", "bypassPolicyLockoutSafetyCheck": False,
                                       "policy": policy(ROOT, {"Sid": "Everyone", "Effect": "Allow", "Principal": "*",
                                                               "Action": "kms:*", "Resource": "*"})},
         who=ADMIN, agent=CONSOLE, resources=key_res()),
    call(32, 5, KMS, "PutKeyPolicy", {"keyId": LOGS_KEY_ID, "policyName": "default",
                                      "policy": policy(ROOT, {"Sid": "Partner decrypt", "Effect": "Allow",
                                                              "Principal": {"AWS": [f"arn:aws:iam::{PARTNER}:root"]},
                                                              "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"})},
         who=ADMIN, agent=CONSOLE, resources=key_res(LOGS_KEY)),
    call(32, 48, KMS, "CreateGrant", {"keyId": KEY, "granteePrincipal": f"arn:aws:iam::{PARTNER}:role/data-sync",
                                      "operations": ["Decrypt", "GenerateDataKey", "CreateGrant"]},
         who=INTRUDER, response={"grantId": "3f9b2d7c1e5a48b6907c2e4d1a8f5b3c6e9d0a2f4b7c1e8d5a3f6b9c2e0d4a71"}, resources=key_res()),
    call(33, 20, KMS, "UpdateAlias", {"aliasName": "alias/billing", "targetKeyId": "9e7d5c3b-1a2f-4e6d-8c0b-a3f5e7d9c1b2"},
         who=INTRUDER, resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY},
                                  {"accountId": ACCOUNT, "type": "AWS::KMS::Alias",
                                   "ARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/billing"}]),
    call(33, 55, KMS, "RevokeGrant", {"keyId": KEY, "grantId": GRANT_ID}, who=ADMIN, resources=key_res()),

    # kms-key-loss positives.
    call(35, 1, KMS, "DisableKeyRotation", {"keyId": KEY_ID}, who=INTRUDER,
         error=("AccessDeniedException", "User is not authorized to perform: kms:DisableKeyRotation"), resources=key_res()),
    call(35, 30, KMS, "DisableKey", {"keyId": KEY_ID}, who=INTRUDER, resources=key_res()),
    call(35, 52, KMS, "ScheduleKeyDeletion", {"keyId": KEY_ID, "pendingWindowInDays": 7}, who=INTRUDER,
         response={"keyId": KEY, "deletionDate": "Dec 5, 2026, 10:35:52 AM", "keyState": "PendingDeletion",
                   "pendingWindowInDays": 7}, resources=key_res()),

    # cmk-downgrade positives.
    call(37, 10, LAMBDA, "UpdateFunctionConfiguration20150331v2", {"functionName": FUNCTION, "kMSKeyArn": ""},
         who=INTRUDER, response={"functionName": FUNCTION, "lastUpdateStatus": "InProgress"}),
    call(37, 41, LOGS, "DisassociateKmsKey", {"logGroupName": "/app/billing"}, who=INTRUDER),
    call(38, 3, XRAY, "PutEncryptionConfig", {"type": "NONE"}, who=INTRUDER,
         response={"encryptionConfig": {"status": "UPDATING", "type": "NONE"}}),
    call(38, 29, SNS, "SetTopicAttributes", {"topicArn": TOPIC, "attributeName": "KmsMasterKeyId",
                                             "attributeValue": "alias/aws/sns"}, who=INTRUDER),
    call(39, 0, S3, "DeleteBucketEncryption", {"bucketName": "ledger-111122223333", "encryption": [""],
                                               "Host": "ledger-111122223333.s3.amazonaws.com"}, who=INTRUDER),
]

data = json.dumps({"Records": records}, separators=(",", ":")).encode()
with open(OUT, "wb") as f:
    f.write(gzip.compress(data, mtime=0))
print(f"{OUT}: {len(records)} records")

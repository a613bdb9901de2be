#!/usr/bin/env python3
"""Writes the data-exposure sample delivery into samples/ (deterministic: fixed seed, gzip mtime 0).

Positives for resource-public, resource-shared and protection-disabled, one or more per family
(policies, attributes, ACLs, network rules, guardrails), and the near misses that must stay
quiet: grants removed, protections turned on, conditioned and service statements, web ports.
Run from the repository root: python3 scripts/make_exposure_samples.py
"""
import gzip, json, os, random, uuid

import sample_identity

ACCOUNT = "111122223333"
PARTNER = "444455556666"
REGION = "eu-west-1"
NAME = f"{ACCOUNT}_CloudTrail_{REGION}_20261128T1030Z_Exposure01.json.gz"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", NAME)
rng = random.Random(2026112811)

CLI = "aws-cli/2.17.20 md/Botocore#1.34.142 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8"
TERRAFORM = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0"
ADMIN = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob@example.org", "AROAEXAMPLEADMIN0001:bob@example.org")
INTRUDER = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-automation/i-0b7e2f9c4d1a63e58",
            "AROAEXAMPLEOPSAUTO01:i-0b7e2f9c4d1a63e58")
DEPLOY = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci-runner", "AROAEXAMPLEDEPLOY001:ci-runner")


def call(minute, second, source, name, params, who=INTRUDER, agent=CLI, error=None):
    key = "ASIAEXAMPLE" + format(rng.getrandbits(36), "09X")
    rec = {"eventVersion": "1.10",
           "userIdentity": sample_identity.identity(who, ACCOUNT, key, "2026-11-28T10:20:00Z", "false"),
           "eventTime": f"2026-11-28T10:{minute:02d}:{second:02d}Z", "eventSource": source, "eventName": name,
           "awsRegion": REGION, "sourceIPAddress": f"198.51.100.{rng.randint(2, 250)}", "userAgent": agent}
    if error:
        rec["errorCode"], rec["errorMessage"] = error
    rec.update({"requestParameters": params, "responseElements": None,
                "requestID": str(uuid.UUID(int=rng.getrandbits(128))),
                "eventID": str(uuid.UUID(int=rng.getrandbits(128))), "readOnly": False,
                "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
                "eventCategory": "Management",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                               "clientProvidedHostHeader": f"{source.split('.')[0]}.{REGION}.amazonaws.com"}})
    return rec


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OPEN_READ = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::customer-exports-111122223333/*"}
PARTNER_SEND = {"Sid": "PartnerSend", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                "Action": "sqs:SendMessage"}
S3, SQS, SNS, EC2, RDS = "s3.amazonaws.com", "sqs.amazonaws.com", "sns.amazonaws.com", "ec2.amazonaws.com", "rds.amazonaws.com"
QUEUE = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders"

records = [
    # resource-public.
    call(30, 5, S3, "PutBucketPolicy", {"bucketName": "customer-exports-111122223333",
                                        "bucketPolicy": json.loads(policy(OPEN_READ)), "policy": [""]}),
    call(30, 40, S3, "PutBucketAcl", {"bucketName": "customer-exports-111122223333", "acl": [""],
                                      "AccessControlPolicy": {"AccessControlList": {"Grant": [
                                          {"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers",
                                                       "xsi:type": "Group"}, "Permission": "READ"}]}}}),
    call(31, 12, SNS, "SetTopicAttributes", {"topicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events",
                                             "attributeName": "Policy", "attributeValue": policy(
            {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Subscribe",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}),
    call(31, 50, EC2, "ModifySnapshotAttribute", {"snapshotId": "snap-0c4e1a7b9d2f35e68", "attributeType": "CREATE_VOLUME_PERMISSION",
                                                  "createVolumePermission": {"add": {"items": [{"group": "all"}]}}}),
    call(32, 20, "lambda.amazonaws.com", "CreateFunctionUrlConfig20211031", {"functionName": "billing-export",
                                                                             "authType": "NONE"}),
    call(32, 58, EC2, "AuthorizeSecurityGroupIngress", {"groupId": "sg-0d2c4b6a8e1f3a5c7", "ipPermissions": {"items": [
        {"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
    call(33, 30, "secretsmanager.amazonaws.com", "PutResourcePolicy", {"secretId": "prod/db", "resourcePolicy": '{"Statement": ['},
         who=ADMIN),
    # resource-shared.
    call(34, 2, SQS, "SetQueueAttributes", {"queueUrl": QUEUE, "attributes": {"Policy": policy(PARTNER_SEND)}}),
    call(34, 45, RDS, "ModifyDBSnapshotAttribute", {"dBSnapshotIdentifier": "nightly-2026-11-28", "attributeName": "restore",
                                                    "valuesToAdd": [PARTNER]}),
    call(35, 20, "iam.amazonaws.com", "UpdateAssumeRolePolicy", {"roleName": "deploy", "policyDocument": policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "sts:AssumeRole"})}),
    # protection-disabled.
    call(36, 1, S3, "PutBucketPublicAccessBlock", {"bucketName": "customer-exports-111122223333",
                                                   "PublicAccessBlockConfiguration": {"BlockPublicAcls": False, "IgnorePublicAcls": False,
                                                                                      "BlockPublicPolicy": False, "RestrictPublicBuckets": False}}),
    call(36, 33, "guardduty.amazonaws.com", "DeleteDetector", {"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}),
    call(37, 4, EC2, "DeleteFlowLogs", {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b2c3d4e5f60718", "tag": 1}}}),
    call(37, 40, EC2, "DisableEbsEncryptionByDefault", {"DisableEbsEncryptionByDefaultRequest": ""},
         error=("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")),
    call(38, 15, "route53resolver.amazonaws.com", "DisassociateResolverQueryLogConfig",
         {"resolverQueryLogConfigId": "rqlc-0f1e2d3c4b5a6978", "resourceId": "vpc-0a1b2c3d"}),

    # Near misses: none of these is a finding of the three detectors.
    call(40, 0, S3, "PutBucketPolicy", {"bucketName": "trail-logs-111122223333", "bucketPolicy": json.loads(policy(
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": "arn:aws:s3:::trail-logs-111122223333/AWSLogs/*",
         "Condition": {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"}}},
        {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))}, who=DEPLOY, agent=TERRAFORM),
    call(40, 30, SNS, "CreateTopic", {"name": "alerts", "attributes": {"Policy": policy(
        {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["SNS:Publish", "SNS:Subscribe"], "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}})}},
         who=DEPLOY, agent=TERRAFORM),
    call(41, 0, EC2, "ModifySnapshotAttribute", {"snapshotId": "snap-0c4e1a7b9d2f35e68", "attributeType": "CREATE_VOLUME_PERMISSION",
                                                 "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}}, who=ADMIN),
    call(41, 30, EC2, "AuthorizeSecurityGroupIngress", {"groupId": "sg-0e1f2a3b4c5d6e7f8", "ipPermissions": {"items": [
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}},
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "10.20.0.0/16"}]}}]}},
         who=DEPLOY, agent=TERRAFORM),
    call(42, 0, S3, "PutBucketPublicAccessBlock", {"bucketName": "customer-exports-111122223333",
                                                   "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                                                      "BlockPublicPolicy": True, "RestrictPublicBuckets": True}},
         who=ADMIN),
    call(42, 30, "guardduty.amazonaws.com", "CreateDetector", {"enable": True, "findingPublishingFrequency": "FIFTEEN_MINUTES"},
         who=ADMIN),
    call(43, 0, "lambda.amazonaws.com", "AddPermission20150331v2", {"functionName": "billing-export", "statementId": "s3-invoke",
                                                                    "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com",
                                                                    "sourceArn": "arn:aws:s3:::customer-exports-111122223333",
                                                                    "sourceAccount": ACCOUNT}, who=DEPLOY, agent=TERRAFORM),
    call(43, 30, SQS, "SetQueueAttributes", {"queueUrl": QUEUE, "attributes": {"VisibilityTimeout": "60"}}, who=DEPLOY),
]

data = json.dumps({"Records": records}, separators=(",", ":")).encode()
with open(OUT, "wb") as f:
    f.write(gzip.compress(data, mtime=0))
print(f"{OUT}: {len(records)} records")

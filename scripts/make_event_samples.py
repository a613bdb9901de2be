#!/usr/bin/env python3
"""Writes samples/events/: Lambda trigger events that point at this project's sample deliveries.

Upload samples/*.json.gz to s3://trailwatch-samples/AWSLogs/ACCOUNT/CloudTrail/REGION/2026/11/28/
and invoke the function with one of these (`cargo lambda invoke --data-file samples/events/X.json`).
Run from the repository root: python3 scripts/make_event_samples.py
"""
import json, os, urllib.parse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "samples", "events")
BUCKET = "trailwatch-samples"
TIME = "2026-11-28T10:30:00.000Z"


def key(name):
    account, _, region = name.split("_")[:3]
    return f"AWSLogs/{account}/CloudTrail/{region}/2026/11/28/{name}"


NAMES = sorted(n for n in os.listdir(os.path.join(ROOT, "samples")) if n.endswith(".json.gz"))
KEYS = [key(n) for n in NAMES]
DIGEST = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/28/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261128T1030Z.json.gz"


def s3_record(k, size=2048):
    return {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": TIME,
            "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:AROAEXAMPLECLOUDTRAIL:cloudtrail"},
            "requestParameters": {"sourceIPAddress": "203.0.113.10"},
            "responseElements": {"x-amz-request-id": "EXAMPLE123", "x-amz-id-2": "EXAMPLE456"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "trailwatch-logs",
                   "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "A3EXAMPLE"}, "arn": f"arn:aws:s3:::{BUCKET}"},
                   "object": {"key": urllib.parse.quote_plus(k, safe="/"), "size": size, "eTag": "0123456789abcdef0123456789abcdef",
                              "sequencer": "0066F00D00000000"}}}


def sns(message, subject=None):
    return {"EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:111122223333:trail-deliveries:2b0c3f4e-0000-4000-8000-000000000001",
            "Sns": {"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": "arn:aws:sns:us-east-1:111122223333:trail-deliveries", "Subject": subject,
                    "Message": json.dumps(message), "Timestamp": TIME, "SignatureVersion": "1", "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe", "MessageAttributes": {}}}


def sqs(i, body):
    return {"messageId": f"0c9f7a0e-0000-4000-8000-00000000000{i}", "receiptHandle": f"AQEBexample{i}",
            "body": body, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796466600000",
                                         "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1796466600001"},
            "messageAttributes": {}, "md5OfBody": "00000000000000000000000000000000", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:trailwatch-ingest", "awsRegion": "us-east-1"}


def cloudtrail_notification(keys):
    return {"s3Bucket": BUCKET, "s3ObjectKey": keys}


def sns_envelope(message):
    return json.dumps({"Type": "Notification", "MessageId": "d0c5b8e2-0000-4000-8000-000000000002",
                       "TopicArn": "arn:aws:sns:us-east-1:111122223333:trail-deliveries",
                       "Message": json.dumps(message), "Timestamp": TIME})


EVENTS = {
    "s3-put.json": {"Records": [s3_record(k) for k in KEYS] + [s3_record(DIGEST, 900)]},
    "s3-test-event.json": {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": TIME, "Bucket": BUCKET,
                           "RequestId": "EXAMPLE789", "HostId": "EXAMPLEHOST"},
    "sns-cloudtrail-notification.json": {"Records": [sns(cloudtrail_notification(KEYS[:3]))]},
    "sqs-batch.json": {"Records": [
        sqs(1, sns_envelope(cloudtrail_notification(KEYS[3:5]))),
        sqs(2, json.dumps({"Records": [s3_record(KEYS[5])]})),
        sqs(3, sns_envelope({"Records": [s3_record(KEYS[6])]})),
        sqs(4, "this body is not a notification"),
    ]},
    "eventbridge-object-created.json": {
        "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
        "source": "aws.s3", "account": "111122223333", "time": "2026-11-28T10:30:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {"version": "0", "bucket": {"name": BUCKET}, "object": {"key": KEYS[0], "size": 2048,
                   "etag": "0123456789abcdef0123456789abcdef", "sequencer": "0066F00D00000000"},
                   "request-id": "EXAMPLE123", "requester": "cloudtrail.amazonaws.com",
                   "source-ip-address": "203.0.113.10", "reason": "PutObject"}},
    "s3-batch-operations.json": {
        "invocationSchemaVersion": "2.0", "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
        "job": {"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce", "userArguments": {"minSeverity": "medium"}},
        "tasks": [{"taskId": f"dGFza{i}", "s3Key": k, "s3VersionId": None, "s3Bucket": BUCKET} for i, k in enumerate(KEYS[:2])]},
}

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name, event in EVENTS.items():
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(event, f, indent=2)
            f.write("\n")

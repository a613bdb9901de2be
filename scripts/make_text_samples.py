#!/usr/bin/env python3
"""Writes the sample deliveries of the url-credentials and sensitive-tag detectors into samples/
(deterministic: fixed ids, gzip mtime 0). Every credential, email, phone and card here is an
example value written for this project.

Run from the repository root: python3 scripts/make_text_samples.py
"""
import gzip, json, os, uuid

import sample_identity

ACCOUNT = "111122223333"
REGION = "eu-west-1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")
COUNTER = [0]

ETL = ("IAMUser", f"arn:aws:iam::{ACCOUNT}:user/etl-admin", "AIDAEXAMPLEETLADMIN1")
CI = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-ci/build-42", "AROAEXAMPLEPLATFORM1:build-42")
SSO = ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0a1b2c3d/jane.doe@example.com",
       "AROAEXAMPLESSOADMIN1:jane.doe@example.com")
CONSOLE_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
CLI_UA = "aws-cli/2.22.4 md/Botocore#1.35.70 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 exec-env/CloudShell"
TF_UA = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.78.0 aws-sdk-go-v2/1.32.5"


def next_id():
    COUNTER[0] += 1
    return str(uuid.UUID(int=0x7E57_0000_0000_4000_8000_0000_0000_0000 + COUNTER[0]))


def identity(who):
    key = "ASIAEXAMPLE" + format(COUNTER[0] * 7919, "09X")
    return sample_identity.identity(who, ACCOUNT, key, "2026-11-28T09:58:00Z", "true")


def call(hhmm, second, source, name, params, who, agent=CLI_UA, response=None, error=None, read_only=False):
    host = f"{source.split('.')[0]}.{REGION}.amazonaws.com"
    rec = {"eventVersion": "1.10", "userIdentity": identity(who),
           "eventTime": f"2026-11-28T{hhmm}:{second:02d}Z", "eventSource": source, "eventName": name,
           "awsRegion": REGION, "sourceIPAddress": "203.0.113.24", "userAgent": agent,
           "requestParameters": params, "responseElements": response,
           "requestID": next_id(), "eventID": next_id(), "readOnly": read_only, "eventType": "AwsApiCall",
           "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
           "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                          "clientProvidedHostHeader": host}}
    if error:
        rec["errorCode"], rec["errorMessage"] = error
        rec["responseElements"] = None
    return rec


def url_creds():
    jdbc = "jdbc:postgresql://etl_user:Pg-Example-2026@orders.cluster-cexample.eu-west-1.rds.amazonaws.com:5432/orders"
    token_url = "https://ghp_EXAMPLE0Token0For0Trailwatch0Samples1@github.com/example-org/payments.git"
    return [
        call("10:10", 3, "glue.amazonaws.com", "CreateConnection",
             {"catalogId": ACCOUNT, "connectionInput": {"name": "orders-postgres", "connectionType": "JDBC",
              "connectionProperties": {"JDBC_CONNECTION_URL": jdbc, "JDBC_ENFORCE_SSL": "true"},
              "physicalConnectionRequirements": {"subnetId": "subnet-0example1", "availabilityZone": "eu-west-1a"}}},
             ETL, agent=CONSOLE_UA),
        call("10:11", 20, "codebuild.amazonaws.com", "CreateProject",
             {"name": "payments-build", "source": {"type": "GITHUB", "location": token_url, "buildspec": "buildspec.yml"},
              "artifacts": {"type": "NO_ARTIFACTS"}, "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/codebuild-payments"},
             CI, agent=TF_UA),
        call("10:12", 41, "codebuild.amazonaws.com", "UpdateProject",
             {"name": "payments-build", "source": {"type": "GITHUB", "location": token_url}}, CI, agent=TF_UA),
        call("10:13", 5, "sns.amazonaws.com", "Subscribe",
             {"topicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-alerts", "protocol": "https",
              "endpoint": "https://alerts:Hook-Example-77@hooks.example.com/sns/ingest", "returnSubscriptionArn": True},
             ETL),
        call("10:14", 9, "events.amazonaws.com", "CreateApiDestination",
             {"name": "crm-sync", "connectionArn": f"arn:aws:events:{REGION}:{ACCOUNT}:connection/crm/0example",
              "invocationEndpoint": "https://api.crm.example.com/v2/events?api_key=EXAMPLEk3y9Q2wSample",
              "httpMethod": "POST"}, CI, agent=TF_UA),
        call("10:15", 30, "glue.amazonaws.com", "CreateConnection",
             {"catalogId": ACCOUNT, "connectionInput": {"name": "events-mongo", "connectionType": "MONGODB",
              "connectionProperties": {"CONNECTION_URL": "mongodb+srv://app:Mongo-Example-55@events.example.mongodb.net/events"}}},
             ETL, agent=CONSOLE_UA,
             error=("AccessDeniedException", "User is not authorized to perform: glue:CreateConnection")),
        call("10:16", 12, "glue.amazonaws.com", "TestConnection", {"connectionName": "hr-sqlserver"}, ETL,
             error=("InvalidInputException", "Connection test failed for "
                    "jdbc:sqlserver://10.0.4.12:1433;databaseName=hr;user=sa;password=Example-Pw-9: login timeout")),
        # Near misses: an address in a path, ssh URLs, a secret reference, placeholders, namespaces.
        call("10:17", 1, "sns.amazonaws.com", "Subscribe",
             {"topicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-alerts", "protocol": "https",
              "endpoint": "https://hooks.example.com/users/ops@example.com/notify"}, ETL),
        call("10:17", 30, "codebuild.amazonaws.com", "CreateProject",
             {"name": "site-build", "source": {"type": "CODECOMMIT",
              "location": "ssh://git-codecommit.eu-west-1.amazonaws.com/v1/repos/site"},
              "secondarySources": [{"type": "GITHUB", "location": "https://ci-bot@github.com/example-org/site-assets.git"}]},
             CI, agent=TF_UA),
        call("10:18", 2, "glue.amazonaws.com", "CreateConnection",
             {"catalogId": ACCOUNT, "connectionInput": {"name": "app-mysql", "connectionType": "JDBC",
              "connectionProperties": {"JDBC_CONNECTION_URL": "jdbc:mysql://app-db.internal.example:3306/app",
                                       "SECRET_ID": "prod/app/mysql"}}}, ETL, agent=CONSOLE_UA),
        call("10:18", 40, "amplify.amazonaws.com", "CreateApp",
             {"name": "marketing-site", "repository": "https://gitlab.com/example-org/marketing-site",
              "accessToken": "HIDDEN_DUE_TO_SECURITY_REASONS", "platform": "WEB"}, CI),
        call("10:19", 10, "s3.amazonaws.com", "PutBucketTagging",
             {"bucketName": "etl-staging-111122223333", "Host": "etl-staging-111122223333.s3.eu-west-1.amazonaws.com",
              "tagging": "", "Tagging": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                         "TagSet": {"Tag": {"Key": "team", "Value": "data"}}}}, ETL),
        call("10:19", 45, "ssm.amazonaws.com", "StartSession", {"target": "i-0example0bastion1"}, ETL,
             response={"sessionId": "etl-admin-0example", "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS",
                       "streamUrl": "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/etl-admin-0example"
                                    "?role=publish_subscribe&cell-number=AAEAAExample"}),
    ]


def sensitive_tags():
    owner = "jane.doe@example.com"
    return [
        call("10:20", 4, "ec2.amazonaws.com", "CreateTags",
             {"resourcesSet": {"items": [{"resourceId": "i-0example00web0001"}]},
              "tagSet": {"items": [{"key": "Owner", "value": owner}, {"key": "Name", "value": "web-1"}]}},
             SSO, agent=CONSOLE_UA, response={"requestId": next_id(), "_return": True}),
        call("10:21", 15, "ec2.amazonaws.com", "RunInstances",
             {"instancesSet": {"items": [{"imageId": "ami-0example0000001", "minCount": 1, "maxCount": 1}]},
              "instanceType": "t3.small",
              "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [
                  {"key": "Owner", "value": owner}, {"key": "CostCenter", "value": "4111-2222"},
                  {"key": "Launched", "value": "2026-11-28"}]}]}}, SSO, agent=CONSOLE_UA),
        call("10:22", 33, "s3.amazonaws.com", "PutBucketTagging",
             {"bucketName": "support-exports-111122223333", "tagging": "",
              "Tagging": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                          "TagSet": {"Tag": [{"Key": "OnCall", "Value": "+44 20 7946 0958"},
                                             {"Key": "team", "Value": "support"}]}}}, ETL),
        call("10:23", 8, "lambda.amazonaws.com", "TagResource20170331v2",
             {"resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:checkout-tests",
              "tags": {"TestCard": "4111 1111 1111 1111", "Build": "1722375070115152000"}}, CI, agent=TF_UA),
        call("10:24", 50, "rds.amazonaws.com", "AddTagsToResource",
             {"resourceName": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders",
              "tags": [{"key": "db_password", "value": "Example-Tag-Secret-1"}, {"key": "env", "value": "prod"}]},
             ETL),
        call("10:25", 19, "ec2.amazonaws.com", "CreateSecurityGroup",
             {"groupName": "legacy-vpn", "groupDescription": "VPN access - ask bob.smith@example.org before changing",
              "vpcId": "vpc-0example0000001"}, ETL, agent=CONSOLE_UA),
        call("10:26", 2, "ec2.amazonaws.com", "CreateTags",
             {"resourcesSet": {"items": [{"resourceId": "vol-0example0000001"}]},
              "tagSet": {"items": [{"key": "Owner", "value": "ops.lead@example.com"}]}}, CI,
             error=("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")),
        # Near misses: an ARN holding a user name, the console's access-key description tag,
        # redacted tags, a secret reference, ordinary tags.
        call("10:27", 11, "ec2.amazonaws.com", "CreateTags",
             {"resourcesSet": {"items": [{"resourceId": "sg-0example0000001"}]},
              "tagSet": {"items": [{"key": "CreatedBy", "value": SSO[1]}]}}, SSO, agent=CONSOLE_UA),
        call("10:27", 40, "iam.amazonaws.com", "TagUser",
             {"userName": "etl-admin", "tags": [{"key": "AKIAEXAMPLE0000KEY01", "value": "laptop CLI key"}]},
             ETL, agent=CONSOLE_UA),
        call("10:28", 5, "rolesanywhere.amazonaws.com", "CreateProfile",
             {"name": "build-agents", "roleArns": [f"arn:aws:iam::{ACCOUNT}:role/build-agent"],
              "tags": [{"key": "HIDDEN_DUE_TO_SECURITY_REASONS", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]}, CI),
        call("10:28", 30, "secretsmanager.amazonaws.com", "CreateSecret",
             {"name": "prod/app/mysql", "description": "MySQL credentials of the app",
              "tags": [{"key": "api-token", "value": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:crm-token"},
                       {"key": "rotation", "value": "true"}]}, ETL),
        call("10:29", 0, "logs.amazonaws.com", "CreateLogGroup",
             {"logGroupName": "/app/checkout", "tags": {"team": "payments", "ticket": "PAY-1234"}}, CI, agent=TF_UA),
    ]


def write(name, records):
    data = json.dumps({"Records": records}, separators=(",", ":")).encode()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(gzip.compress(data, mtime=0))


if __name__ == "__main__":
    write(f"{ACCOUNT}_CloudTrail_{REGION}_20261128T1010Z_UrlCreds01.json.gz", url_creds())
    write(f"{ACCOUNT}_CloudTrail_{REGION}_20261128T1020Z_SensitiveTags01.json.gz", sensitive_tags())

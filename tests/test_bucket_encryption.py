"""Every bucket the program builds is SSE-KMS under a key of the stack, except the ALB access-log bucket, whose SSE-S3
is documented on the bucket itself; the flow-log bucket's key lets the log delivery service write, and nobody else."""

import json

import pytest

from policies.guardrails.types import BUCKET, FLOW_LOG

ACCOUNT = "123456789012"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY = "aws:kms/key:Key"


def encryption_of(graph, bucket) -> dict:
    [config] = [c for c in graph.of_type(ENCRYPTION) if c.inputs["bucket"] == bucket.id]
    return config


@pytest.mark.parametrize("name", ["small", "prodlike", "full"])
def test_every_bucket_is_sse_kms_under_a_stack_key_or_says_why_not(name, request):
    graph = request.getfixturevalue(name)
    keys = {k.outputs["arn"]: k for k in graph.of_type(KEY)}
    buckets = graph.of_type(BUCKET)
    assert buckets
    for bucket in buckets:
        [rule] = encryption_of(graph, bucket).inputs["rules"]
        default = rule["applyServerSideEncryptionByDefault"]
        reason = (bucket.inputs.get("tags") or {}).get("SseS3Reason")
        if reason:
            assert bucket.name == "cluster-alb-logs", f"{bucket.name} is SSE-S3 without being the ALB log bucket"
            assert default == {"sseAlgorithm": "AES256"}
        else:
            assert default["sseAlgorithm"] == "aws:kms", bucket.name
            assert default["kmsMasterKeyId"] in keys, f"{bucket.name} is not encrypted with a key of the stack"
            assert rule["bucketKeyEnabled"] is True, bucket.name


def test_the_alb_log_bucket_carries_the_reason_elb_gives(prodlike):
    """ "The only server-side encryption option that's supported is Amazon S3-managed keys (SSE-S3)": "Enable access
    logs for your Application Load Balancer", Elastic Load Balancing User Guide."""
    bucket = prodlike.one(BUCKET, "cluster-alb-logs")
    assert bucket.inputs["tags"] == {
        "SseS3Reason": "Application Load Balancer access log delivery supports SSE-S3 only"
    }
    # S3 tag values allow letters, digits, spaces and _ . : / = + - @ only, and 256 characters.
    value = bucket.inputs["tags"]["SseS3Reason"]
    assert len(value) <= 256 and all(c.isalnum() or c in " _.:/=+-@" for c in value)


def flow_log_parts(graph):
    flow_log = graph.one(FLOW_LOG)
    [bucket] = [b for b in graph.of_type(BUCKET) if b.outputs["arn"] == flow_log.inputs["logDestination"]]
    key = graph.one(KEY, "network-flow-logs-key")
    return flow_log, bucket, key


def test_the_flow_log_bucket_uses_a_rotating_network_key(prodlike):
    _, bucket, key = flow_log_parts(prodlike)
    rule = encryption_of(prodlike, bucket).inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    [alias] = prodlike.children(key)
    assert alias.inputs["name"] == "alias/ecs-platform-prodlike-flow-logs"


def test_the_key_policy_lets_log_delivery_use_it_for_this_account_only(prodlike):
    """Amazon VPC User Guide, "Amazon S3 bucket permissions for flow logs", "Required key policy for use with SSE-KMS":
    kms:Encrypt, kms:Decrypt, kms:ReEncrypt*, kms:GenerateDataKey*, kms:DescribeKey for delivery.logs.amazonaws.com;
    the confused-deputy conditions are the CloudWatch Logs User Guide's ("Logs sent to Amazon S3", "Amazon S3 bucket
    server-side encryption")."""
    _, _, key = flow_log_parts(prodlike)
    statements = json.loads(key.inputs["policy"])["Statement"]
    owner, delivery = statements
    assert owner["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert "kms:PutKeyPolicy" in owner["Action"]
    assert delivery == {
        "Sid": "LogDeliveryEncryptsFlowLogs",
        "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"},
        "Action": [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:DescribeKey",
        ],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:*"},
        },
    }


def test_the_key_policy_exists_before_the_bucket_encryption_and_the_flow_log(prodlike):
    """The policy is part of the key; the encryption configuration names the key, and the flow log waits for the
    encryption configuration, so delivery never meets a bucket whose key it may not use."""
    flow_log, bucket, key = flow_log_parts(prodlike)
    encryption = encryption_of(prodlike, bucket)
    assert key.urn in encryption.property_dependencies["rules"]
    assert encryption.urn in flow_log.dependencies


def test_cloudwatch_flow_logs_make_no_flow_log_key(small):
    """The key exists for the S3 destination only (it costs $1 a month): CloudWatch Logs has its own encryption."""
    assert small.one(FLOW_LOG).inputs["logDestinationType"] == "cloud-watch-logs"
    assert [k for k in small.of_type(KEY) if k.name == "network-flow-logs-key"] == []

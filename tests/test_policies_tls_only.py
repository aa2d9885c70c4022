"""s3-tls-only: the TLS deny must cover every action, the bucket and its objects, for everyone."""

import pulumi
import pulumi_aws as aws
import pytest
from policy_helpers import passes, violates

DENY = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def bucket_with(**statement):
    def program():
        b = aws.s3.Bucket("logs", bucket="team-logs")
        body = {k: v for k, v in {**DENY, **statement}.items() if v is not None}
        resources = body.pop("Resource", None)
        policy = b.arn.apply(
            lambda arn: pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{**body, "Resource": resources if resources is not None else [arn, f"{arn}/*"]}],
                }
            )
        )
        aws.s3.BucketPolicy("logs", bucket=b.id, policy=policy)

    return program


def test_a_deny_of_everything_on_the_bucket_and_its_objects_passes():
    passes(bucket_with(), "s3-tls-only")
    passes(bucket_with(Principal={"AWS": "*"}, Action=["s3:*"]), "s3-tls-only")


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "s3:GetObject"},
        {"Action": ["s3:PutObject", "s3:GetObject"]},
        {"Resource": ["arn:aws:s3:::team-logs/*"]},
        {"Resource": ["arn:aws:s3:::team-logs"]},
        {"Resource": ["arn:aws:s3:::other-bucket", "arn:aws:s3:::other-bucket/*"]},
        {"Principal": {"AWS": "arn:aws:iam::123456789012:root"}},
        {"Condition": {"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "1"}}},
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"NotAction": "s3:GetObject", "Action": None},
    ],
    ids=[
        "one-action",
        "two-actions",
        "objects-only",
        "bucket-only",
        "other-bucket",
        "one-principal",
        "narrowed",
        "true",
        "not-action",
    ],
)
def test_a_deny_that_leaves_part_of_the_bucket_reachable_over_http_is_reported(statement):
    found = violates(bucket_with(**statement), "s3-tls-only", level="advisory")
    assert "every action on the bucket and its objects" in found[0].message

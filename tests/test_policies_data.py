"""Data and logs guardrails, and RDS resilience demanded per environment through the pack config."""

import pulumi
import pulumi_aws as aws
import pytest
from helpers import pack_config
from policy_helpers import DB_ARGS, passes, run, violates

KEY = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def bucket(*, block=True, encrypt=True, tls=True, kind=aws.s3.Bucket, policy_statements=(), **block_kwargs):
    def program():
        b = kind("artifacts")
        if block:
            flags = dict(
                block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True
            )
            aws.s3.BucketPublicAccessBlock("artifacts", bucket=b.id, **{**flags, **block_kwargs})
        if encrypt:
            aws.s3.BucketServerSideEncryptionConfiguration(
                "artifacts",
                bucket=b.id,
                rules=[
                    {"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}}
                ],
            )
        # Lifecycle rules and ACLs disabled, as components/bucket.py builds every bucket.
        aws.s3.BucketOwnershipControls("artifacts", bucket=b.id, rule={"object_ownership": "BucketOwnerEnforced"})
        expire = {"days": 30}
        abort = {"days_after_initiation": 7}
        rule = {"id": "expire", "status": "Enabled", "filter": {}, "expiration": expire}
        aws.s3.BucketLifecycleConfiguration(
            "artifacts", bucket=b.id, rules=[{**rule, "abort_incomplete_multipart_upload": abort}]
        )
        statements = list(policy_statements)
        if tls:
            statements.append(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            )
        if statements:
            aws.s3.BucketPolicy(
                "artifacts",
                bucket=b.id,
                policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            )

    return program


@pytest.mark.parametrize("kind", [aws.s3.Bucket, aws.s3.BucketV2], ids=["bucket", "bucketV2"])
def test_a_private_encrypted_tls_only_bucket_passes_every_policy(kind):
    assert run(bucket(kind=kind)).findings == []


@pytest.mark.parametrize("kind", [aws.s3.Bucket, aws.s3.BucketV2], ids=["bucket", "bucketV2"])
def test_public_buckets_are_caught(kind):
    violates(bucket(kind=kind, block=False), "s3-block-public-access")
    violates(bucket(kind=kind, restrict_public_buckets=False), "s3-block-public-access")
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}
    violates(bucket(kind=kind, policy_statements=[public]), "s3-block-public-access")


def test_unencrypted_bucket_is_caught():
    violates(bucket(encrypt=False), "s3-encrypted")


def test_bucket_without_tls_only_policy_is_advisory():
    violates(bucket(tls=False), "s3-tls-only", level="advisory")


def test_log_group_retention_is_advisory():
    violates(lambda: aws.cloudwatch.LogGroup("app"), "log-group-retention", level="advisory")
    passes(lambda: aws.cloudwatch.LogGroup("app", retention_in_days=30), "log-group-retention")


def test_ecr_scan_on_push_is_advisory():
    violates(lambda: aws.ecr.Repository("app"), "ecr-scan-on-push", level="advisory")
    passes(lambda: aws.ecr.Repository("app", image_scanning_configuration={"scan_on_push": True}), "ecr-scan-on-push")


def db(**kwargs):
    return lambda: aws.rds.Instance("db", **{**DB_ARGS, "backup_retention_period": 1, **kwargs})


PRODLIKE = pack_config("prodlike")


def test_prodlike_config_demands_backups_deletion_protection_and_multi_az():
    result = run(db(), config=PRODLIKE)
    assert {f.policy for f in result.mandatory} >= {"rds-backup-retention", "rds-deletion-protection", "rds-multi-az"}
    good = run(db(backup_retention_period=7, deletion_protection=True, multi_az=True), config=PRODLIKE)
    assert [f for f in good.findings if f.policy.startswith(("rds-backup", "rds-deletion", "rds-multi"))] == []


def test_small_config_accepts_a_single_az_one_day_database():
    result = run(db())
    assert [f for f in result.findings if f.policy.startswith(("rds-backup", "rds-deletion", "rds-multi"))] == []


def test_backup_minimum_comes_from_config():
    config = {"rds-backup-retention": {"minimumRetentionDays": 14}}
    found = violates(db(backup_retention_period=7), "rds-backup-retention", level="advisory", config=config)
    assert "at least 14" in found[0].message


def test_aurora_cluster_needs_two_instances_where_multi_az_is_required():
    def cluster(instances):
        def program():
            c = aws.rds.Cluster(
                "aurora",
                engine="aurora-postgresql",
                master_username="app",
                manage_master_user_password=True,
                storage_encrypted=True,
            )
            for i in range(instances):
                aws.rds.ClusterInstance(
                    f"aurora-{i}", cluster_identifier=c.id, instance_class="db.r6g.large", engine="aurora-postgresql"
                )

        return program

    violates(cluster(1), "rds-multi-az", config=PRODLIKE)
    passes(cluster(2), "rds-multi-az", config=PRODLIKE)

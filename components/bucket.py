"""A private S3 bucket: public access blocked, owner-enforced, encrypted, TLS-only, with lifecycle rules.

Every bucket of an environment (ALB access logs, VPC flow logs, pipeline artifacts) is built
here, so none can miss one of these protections: SSE-KMS under a key of the stack, or SSE-S3
with the reason on the bucket where its writer supports nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import document

# The tag that documents why a bucket is SSE-S3 rather than SSE-KMS; the pack's s3-encrypted policy
# (policies/guardrails/data.py) accepts SSE-S3 only on a bucket that carries it.
SSE_S3_REASON_TAG = "SseS3Reason"


def private_bucket(
    name: str,
    *,
    bucket_prefix: str,
    lifecycle_rules: Sequence[dict],
    parent: pulumi.Resource,
    versioned: bool = False,
    force_destroy: bool = False,
    allow: Callable[[str], list[dict]] = lambda arn: [],
    kms_key: aws.kms.Key | None = None,
    sse_s3_reason: str | None = None,
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """Returns the bucket and the resources a writer must wait for (its policy and encryption).

    Objects are encrypted with SSE-KMS under `kms_key`, whose policy must let every writer that is
    not a principal of this account use it. Only a bucket whose writer supports nothing but SSE-S3
    passes `sse_s3_reason` instead (S3 tag characters only), kept on the bucket as its
    SseS3Reason tag. `allow(bucket_arn)` gives the policy statements that let a service write,
    next to the TLS-only deny.
    """
    if (kms_key is None) == (sse_s3_reason is None):
        raise ValueError(f"bucket {name}: pass exactly one of kms_key and sse_s3_reason")
    if kms_key is not None:
        # One bucket-level data key instead of one KMS request per object: the cost and throttling
        # of SSE-KMS stay flat however many log or artifact files arrive ("Reducing the cost of
        # SSE-KMS with Amazon S3 Bucket Keys", Amazon S3 User Guide).
        encryption = {
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key.arn},
            "bucket_key_enabled": True,
        }
    else:
        encryption = {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    bucket = aws.s3.Bucket(
        name,
        bucket_prefix=bucket_prefix,
        force_destroy=force_destroy,
        tags={SSE_S3_REASON_TAG: sse_s3_reason} if sse_s3_reason else None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    child = pulumi.ResourceOptions(parent=bucket)
    public_access = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
    if versioned:
        aws.s3.BucketVersioning(name, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child)
    encrypted = aws.s3.BucketServerSideEncryptionConfiguration(name, bucket=bucket.id, rules=[encryption], opts=child)
    aws.s3.BucketLifecycleConfiguration(name, bucket=bucket.id, rules=list(lifecycle_rules), opts=child)
    tls_only = {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    policy = aws.s3.BucketPolicy(
        name,
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: document([*allow(arn), {**tls_only, "Resource": [arn, f"{arn}/*"]}])),
        # S3 rejects a bucket policy while the public-access block is still being applied.
        opts=pulumi.ResourceOptions(parent=bucket, depends_on=[public_access]),
    )
    return bucket, [policy, encrypted]

"""A private S3 bucket: public access blocked, owner-enforced, encrypted, TLS-only, with lifecycle rules.

Every bucket of an environment (ALB access logs, pipeline artifacts) is built here, so
none can miss one of these protections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi
import pulumi_aws as aws

from components.iam import document


def private_bucket(
    name: str,
    *,
    bucket_prefix: str,
    encryption: dict,
    lifecycle_rules: Sequence[dict],
    parent: pulumi.Resource,
    versioned: bool = False,
    force_destroy: bool = False,
    allow: Callable[[str], list[dict]] = lambda arn: [],
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """Returns the bucket and the resources a writer must wait for (its policy and encryption).

    `encryption` is one server-side encryption rule; `allow(bucket_arn)` gives the policy
    statements that let a service write, next to the TLS-only deny.
    """
    bucket = aws.s3.Bucket(
        name, bucket_prefix=bucket_prefix, force_destroy=force_destroy, opts=pulumi.ResourceOptions(parent=parent)
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

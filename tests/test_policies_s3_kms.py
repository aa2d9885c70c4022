"""s3-encrypted names the algorithm: SSE-KMS under a named key, or SSE-S3 only with a tagged, documented reason."""

import pulumi_aws as aws
import pytest
from policy_helpers import passes, run, violates

POLICY = "s3-encrypted"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
REASON = {"SseS3Reason": "ALB access logs support SSE-S3 only"}


def encrypted(default: dict, *, tags: dict | None = None, kind=aws.s3.Bucket, bucket_key: bool = False):
    """A bucket whose separate configuration applies `default` (snake_case applyServerSideEncryptionByDefault)."""

    def program():
        b = kind("data", tags=tags)
        rule: dict = {"apply_server_side_encryption_by_default": default}
        if bucket_key:
            rule["bucket_key_enabled"] = True
        aws.s3.BucketServerSideEncryptionConfiguration("data", bucket=b.id, rules=[rule])

    return program


@pytest.mark.parametrize("algorithm", ["aws:kms", "aws:kms:dsse"])
@pytest.mark.parametrize("kind", [aws.s3.Bucket, aws.s3.BucketV2], ids=["bucket", "bucketV2"])
def test_sse_kms_with_a_named_key_passes(algorithm, kind):
    passes(encrypted({"sse_algorithm": algorithm, "kms_master_key_id": KEY}, kind=kind, bucket_key=True), POLICY)


def under_a_key_of_the_stack():
    """A bucket encrypted under a key the same program creates (its ARN is unknown in a first preview)."""
    key = aws.kms.Key("data", enable_key_rotation=True)
    encrypted({"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn})()


def test_a_key_of_the_stack_passes():
    passes(under_a_key_of_the_stack, POLICY)


def test_sse_s3_without_a_reason_is_refused():
    [finding] = violates(encrypted({"sse_algorithm": "AES256"}), POLICY)
    assert "bucket data is encrypted with AES256" in finding.message
    assert "SseS3Reason" in finding.message


def test_aws_kms_without_a_key_is_refused():
    """The account's aws/s3 key: Checkov's CKV_AWS_145 accepts it, the pack wants the stack's own key."""
    [finding] = violates(encrypted({"sse_algorithm": "aws:kms"}), POLICY)
    assert "aws:kms without a key" in finding.message


def test_sse_s3_with_its_documented_reason_passes():
    passes(encrypted({"sse_algorithm": "AES256"}, tags=REASON), POLICY)


def test_the_reason_tag_does_not_excuse_anything_but_sse_s3():
    violates(encrypted({"sse_algorithm": "aws:kms"}, tags=REASON), POLICY)
    violates(encrypted({"sse_algorithm": "AES256"}, tags={"SseS3Reason": ""}), POLICY)


def test_a_bucket_name_is_no_exception():
    def program():
        b = aws.s3.Bucket("alb-logs", bucket="my-alb-logs")
        aws.s3.BucketServerSideEncryptionConfiguration(
            "alb-logs", bucket=b.id, rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]
        )

    violates(program, POLICY)


def test_one_weak_rule_among_configurations_is_refused():
    def program():
        b = aws.s3.Bucket("data")
        kms = {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
        aws.s3.BucketServerSideEncryptionConfiguration(
            "data", bucket=b.id, rules=[{"apply_server_side_encryption_by_default": kms}]
        )
        aws.s3.BucketServerSideEncryptionConfigurationV2(
            "data-v2", bucket=b.id, rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]
        )

    violates(program, POLICY)


def test_the_legacy_inline_configuration_is_judged_too():
    def inline(default: dict):
        def program():
            aws.s3.Bucket(
                "data",
                server_side_encryption_configuration={"rule": {"apply_server_side_encryption_by_default": default}},
            )

        return program

    violates(inline({"sse_algorithm": "AES256"}), POLICY)
    passes(inline({"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}), POLICY)


def test_unknown_values_in_preview_are_tolerated():
    result = run(under_a_key_of_the_stack, preview=True)
    assert result.of(POLICY) == []


def test_an_unknown_reason_tag_in_preview_is_tolerated():
    def program():
        key = aws.kms.Key("reason", enable_key_rotation=True)
        b = aws.s3.Bucket("data", tags={"SseS3Reason": key.arn.apply(lambda _: "logs")})
        aws.s3.BucketServerSideEncryptionConfiguration(
            "data", bucket=b.id, rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]
        )

    assert run(program, preview=True).of(POLICY) == []
    passes(program, POLICY)

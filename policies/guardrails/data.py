"""Data and logs: S3 buckets private, encrypted and TLS-only; log groups expire; ECR scans on push; RDS
backups, deletion protection and Multi-AZ as far as the pack's config for the environment asks.

A bucket's settings may sit on the bucket (`aws:s3/bucket:Bucket`, legacy inline arguments) or
on separate resources that name it (`bucketPublicAccessBlock`, `bucketServerSideEncryption-
Configuration(V2)`, `bucketPolicy`, `bucketAcl(V2)`); each bucket is judged from all of them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema

from .common import (
    ADVISORY,
    MANDATORY,
    StackGraph,
    Unparsable,
    as_list,
    document,
    has_unknown,
    is_allow,
    is_true,
    is_unknown,
    number,
    resource_policy,
    stack_policy,
    statements,
)
from .types import (
    BUCKET_ACLS,
    BUCKET_ENCRYPTION_CONFIGURATIONS,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKETS,
    ECR_REPOSITORY,
    KMS_KEY,
    LOG_GROUP,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_INSTANCE,
)

BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


def _bucket_policies(graph: StackGraph, bucket: Any) -> list[tuple[Any, Any]]:
    """(resource, raw document) of every policy that applies to the bucket."""
    found = [(bucket, graph.get(bucket, "policy"))] if graph.get(bucket, "policy") else []
    found += [(p, graph.get(p, "policy")) for p in graph.referrers(bucket, "bucket", [BUCKET_POLICY])]
    return found


def _public_statements(raw: Any) -> list[str]:
    try:
        doc = document(raw)
    except Unparsable:
        return ["the bucket policy is not valid JSON"]
    if doc is None:
        return []
    problems = []
    for i, statement in enumerate(statements(doc)):
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS")))
        if is_allow(statement) and (anyone or "NotPrincipal" in statement) and not statement.get("Condition"):
            problems.append(f"bucket policy statement {statement.get('Sid') or i} allows anyone")
    return problems


def check_public_access(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for bucket in graph.of_type(*BUCKETS):
        blocks = graph.referrers(bucket, "bucket", [BUCKET_PUBLIC_ACCESS_BLOCK])
        if not blocks:
            yield bucket, f"bucket {bucket.name} has no bucketPublicAccessBlock."
        for block in blocks:
            off = [f for f in BLOCK_FLAGS if not is_unknown(graph.get(block, f)) and not is_true(graph.get(block, f))]
            if off:
                yield block, f"bucket {bucket.name}: {', '.join(off)} not true."
        acls = [(bucket, graph.get(bucket, "acl"))] + [
            (acl, graph.get(acl, "acl")) for acl in graph.referrers(bucket, "bucket", BUCKET_ACLS)
        ]
        for resource, acl in acls:
            if isinstance(acl, str) and acl in PUBLIC_ACLS:
                yield resource, f"bucket {bucket.name} has the public canned ACL {acl}."
        for acl in graph.referrers(bucket, "bucket", BUCKET_ACLS):
            policy = graph.get(acl, "accessControlPolicy")
            grants = as_list(policy.get("grants")) if isinstance(policy, Mapping) else []
            for grant in grants:
                grantee = grant.get("grantee") if isinstance(grant, Mapping) else None
                if isinstance(grantee, Mapping) and grantee.get("uri") in PUBLIC_GRANTEES:
                    yield acl, f"bucket {bucket.name} grants {grant.get('permission')} to {grantee['uri']}."
        for resource, raw in _bucket_policies(graph, bucket):
            for problem in _public_statements(raw):
                yield resource, f"bucket {bucket.name}: {problem}."


# SSE-KMS, as Checkov's CKV_AWS_145 asks (`aws:kms` or `aws:kms:dsse`); the pack also wants the key named, so
# the stack's own key (its policy, its rotation) protects the data rather than the account-wide aws/s3 key.
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
# The documented exception: a bucket whose only writer cannot use SSE-KMS says why in this tag, set by the component
# that builds it (components/bucket.py, same tag key). Application Load Balancer access logs are the one case: "The
# only server-side encryption option that's supported is Amazon S3-managed keys (SSE-S3)" ("Enable access logs for
# your Application Load Balancer", Elastic Load Balancing User Guide, bucket requirements).
SSE_S3_REASON_TAG = "SseS3Reason"


def _encryption_rules(graph: StackGraph, bucket: Any) -> list[Any] | None:
    """Every default-encryption rule of the bucket; None when it has none.

    A separate configuration resource decides when there is one: it is applied after the bucket, and the bucket's own
    (legacy, inline) property then only reports what S3 set at creation (SSE-S3, the default of every new bucket).
    """
    configurations = graph.referrers(bucket, "bucket", BUCKET_ENCRYPTION_CONFIGURATIONS)
    if configurations:
        return [rule for c in configurations for rule in as_list(graph.get(c, "rules"))]
    inline = as_list(graph.get(bucket, "serverSideEncryptionConfiguration")) + as_list(
        graph.get(bucket, "serverSideEncryptionConfigurations")  # BucketV2's list form
    )
    rules: list[Any] = []
    for config in inline:
        rules += as_list(config.get("rule")) + as_list(config.get("rules")) if isinstance(config, Mapping) else [config]
    return rules or None


def _rule_default(rule: Any) -> tuple[Any, Any]:
    """(sseAlgorithm, kmsMasterKeyId) of one rule."""
    default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
    for value in as_list(default):  # a list in the legacy inline form
        if isinstance(value, Mapping):
            return value.get("sseAlgorithm"), value.get("kmsMasterKeyId")
    return None, None


def check_encryption(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for bucket in graph.of_type(*BUCKETS):
        rules = _encryption_rules(graph, bucket)
        if rules is None:
            yield bucket, f"bucket {bucket.name} has no server-side encryption configuration."
            continue
        if has_unknown(rules):
            continue
        defaults = [_rule_default(rule) for rule in rules]
        if defaults and all(algorithm in KMS_ALGORITHMS and key for algorithm, key in defaults):
            continue
        tags = graph.get(bucket, "tags")
        if has_unknown(tags):
            continue
        reason = tags.get(SSE_S3_REASON_TAG) if isinstance(tags, Mapping) else None
        if reason and all(algorithm == "AES256" for algorithm, _ in defaults):
            continue  # SSE-S3 with its documented reason
        found = ", ".join(sorted({f"{algorithm}{' without a key' if not key else ''}" for algorithm, key in defaults}))
        yield (
            bucket,
            f"bucket {bucket.name} is encrypted with {found or 'no default algorithm'}: it needs SSE-KMS (aws:kms or "
            f"aws:kms:dsse) with a customer managed key, or SSE-S3 (AES256) with a {SSE_S3_REASON_TAG} tag saying why "
            "its writer cannot use KMS.",
        )


def _bucket_arns(graph: StackGraph, bucket: Any) -> set[str]:
    """The bucket's known ARN(s): its `arn` output, else built from its name."""
    arns = {v for v in (graph.get(bucket, "arn"),) if isinstance(v, str) and v and not has_unknown(v)}
    name = graph.get(bucket, "bucket") or graph.get(bucket, "id")
    if isinstance(name, str) and name and not has_unknown(name):
        arns.add(f"arn:aws:s3:::{name}")
    return arns


def _covers_everything(statement: Mapping, arns: set[str]) -> bool:
    """A Deny that applies to every principal, every S3 action, the bucket and all its objects.

    A deny on some actions (`s3:GetObject`) or on the objects only leaves the rest reachable over plain
    HTTP; a condition beyond aws:SecureTransport narrows it to some requests ("Enforce encryption in
    transit", Amazon S3 User Guide, Security best practices).
    """
    if any(key in statement for key in ("NotPrincipal", "NotAction", "NotResource")):
        return False
    principal = statement.get("Principal")
    if not (principal == "*" or (isinstance(principal, Mapping) and as_list(principal.get("AWS")) == ["*"])):
        return False
    if not {"*", "s3:*"} & {str(a).lower() for a in as_list(statement.get("Action"))}:
        return False
    resources = {str(r) for r in as_list(statement.get("Resource"))}
    if "*" not in resources and not any(a in resources and f"{a}/*" in resources for a in arns):
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping) or list(condition) != ["Bool"]:
        return False
    bool_ = condition["Bool"]
    return (
        isinstance(bool_, Mapping)
        and list(bool_) == ["aws:SecureTransport"]
        and [str(v).lower() for v in as_list(bool_["aws:SecureTransport"])] == ["false"]
    )


def _denies_plain_http(raw: Any, arns: set[str]) -> bool:
    try:
        doc = document(raw)
    except Unparsable:
        return False
    return any(
        str(statement.get("Effect", "")).lower() == "deny" and _covers_everything(statement, arns)
        for statement in statements(doc or {})
    )


def check_tls_only(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for bucket in graph.of_type(*BUCKETS):
        policies = _bucket_policies(graph, bucket)
        if any(has_unknown(raw) for _, raw in policies):
            continue
        arns = _bucket_arns(graph, bucket)
        if not any(_denies_plain_http(raw, arns) for _, raw in policies):
            yield (
                bucket,
                f"bucket {bucket.name} has no policy statement denying every action on the bucket and its objects "
                "to everyone when aws:SecureTransport is false.",
            )


def check_retention(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    value = props.get("retentionInDays")
    if is_unknown(value):
        return
    days = number(value)
    if not days:
        yield "retentionInDays is not set: the logs are kept (and billed) forever."
    elif days < config.get("minimumRetentionDays", 1):
        minimum = int(config["minimumRetentionDays"])
        yield f"retentionInDays is {int(days)}; this environment keeps logs at least {minimum} days."


# What CloudWatch Logs asks of a log group's key: GenerateDataKey to encrypt new data, Decrypt to read it back
# ("Encrypt log data in CloudWatch Logs using AWS Key Management Service", Amazon CloudWatch Logs user guide).
LOGS_KEY_NEEDS = ("kms:generatedatakey", "kms:decrypt")
LOGS_CONTEXT_KEY = "kms:encryptioncontext:aws:logs:arn"


def _logs_grant_covers(statement: Mapping, group: str) -> bool:
    """An Allow to CloudWatch Logs' service principal with what it needs, for a log group named `group`."""
    principal = statement.get("Principal")
    services = as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
    if not any(isinstance(s, str) and fnmatch.fnmatchcase(s, "logs.*amazonaws.com") for s in services):
        return False
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    if not all(any(fnmatch.fnmatchcase(need, a) for a in actions) for need in LOGS_KEY_NEEDS):
        return False
    condition = statement.get("Condition")
    for operator in condition.values() if isinstance(condition, Mapping) else ():
        for key, values in operator.items() if isinstance(operator, Mapping) else ():
            if str(key).lower() != LOGS_CONTEXT_KEY:
                continue
            # The context is the group's ARN; the account and region are the key's, so the group name decides.
            names = [str(v).split(":log-group:", 1)[-1] for v in as_list(values)]
            if not any(fnmatch.fnmatchcase(group, name) for name in names):
                return False
    return True


def check_logs_cmk(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    required = is_true(config.get("required"))
    for group in graph.of_type(LOG_GROUP):
        key_id = graph.get(group, "kmsKeyId")
        if has_unknown(key_id):
            continue
        if not key_id:
            if required:
                yield (
                    group,
                    f"log group {group.name} has no kmsKeyId: this environment requires a customer managed key.",
                )
            continue
        if not str(key_id).startswith("arn:"):
            yield (
                group,
                f"log group {group.name}: kmsKeyId {key_id} is not a key ARN, the only form CloudWatch Logs takes.",
            )
            continue
        name = graph.get(group, "name")
        if not isinstance(name, str) or has_unknown(name):
            continue
        for key in graph.referenced(group, "kmsKeyId", [KMS_KEY]):
            raw = graph.get(key, "policy")
            if has_unknown(raw):
                continue
            try:
                doc = document(raw)  # None: the default key policy, which gives CloudWatch Logs nothing
            except Unparsable:
                continue  # iam-service-principal-confused-deputy reports the document
            if not any(is_allow(s) and _logs_grant_covers(s, name) for s in statements(doc or {})):
                yield (
                    group,
                    f"log group {name}: the policy of its key {key.name} does not let logs.<region>.amazonaws.com "
                    "use it (kms:GenerateDataKey and kms:Decrypt) for this group; CloudWatch Logs would refuse to "
                    "create it.",
                )


def check_scan_on_push(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    scanning = props.get("imageScanningConfiguration")
    value = scanning.get("scanOnPush") if isinstance(scanning, Mapping) else None
    if not is_unknown(value) and not is_true(value):
        yield "imageScanningConfiguration.scanOnPush is not true: pushed images are not scanned."


# --- RDS resilience, per environment through the pack's config ------------------------------------


def check_backups(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if args.resource_type == RDS_INSTANCE and props.get("replicateSourceDb"):
        return
    minimum = config.get("minimumRetentionDays", 1)
    value = props.get("backupRetentionPeriod")
    if is_unknown(value):
        return
    days = 1 if value is None else number(value)  # AWS's default is one day
    if days is not None and days < minimum:
        yield f"backupRetentionPeriod is {int(days)} day(s); this environment requires at least {minimum}."


def check_deletion_protection(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if not config.get("required", False):
        return
    value = props.get("deletionProtection")
    if not is_unknown(value) and not is_true(value):
        yield "deletionProtection is not true; this environment requires it."


def check_multi_az(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    if not config.get("required", False):
        return
    for instance in graph.of_type(RDS_INSTANCE):
        value = graph.get(instance, "multiAz")
        if not is_unknown(value) and not is_true(value) and not graph.get(instance, "replicateSourceDb"):
            yield instance, "multiAz is not true; this environment requires a standby in a second AZ."
    for cluster in graph.of_type(RDS_CLUSTER):
        if graph.get(cluster, "dbClusterInstanceClass"):
            continue  # a Multi-AZ DB cluster: always three instances over three AZs
        members = graph.referrers(cluster, "clusterIdentifier", [RDS_CLUSTER_INSTANCE])
        if len(members) < 2:
            yield (
                cluster,
                f"cluster has {len(members)} instance(s); this environment requires a replica in a second AZ.",
            )


def check_key_rotation(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    """Automatic rotation exists only for symmetric encryption keys with KMS key material ("Rotate AWS KMS keys",
    AWS KMS Developer Guide): asymmetric, HMAC, imported-material and custom-key-store keys cannot rotate."""
    spec = props.get("customerMasterKeySpec") or props.get("keySpec") or "SYMMETRIC_DEFAULT"
    usage = props.get("keyUsage") or "ENCRYPT_DECRYPT"
    if has_unknown(spec) or has_unknown(usage) or spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return
    if props.get("customKeyStoreId") or props.get("xksKeyId"):
        return
    value = props.get("enableKeyRotation")
    if not is_unknown(value) and not is_true(value):
        yield "enableKeyRotation is not true: a symmetric key keeps the same key material for ever."


_REQUIRED = PolicyConfigSchema(properties={"required": {"type": "boolean", "default": False}})

POLICIES = [
    resource_policy(
        "kms-key-rotation",
        "Symmetric encryption KMS keys (the ones AWS can rotate) rotate their key material automatically.",
        MANDATORY,
        [KMS_KEY],
        check_key_rotation,
        "set enableKeyRotation=True (components/kms.py does for every key it makes).",
    ),
    stack_policy(
        "s3-block-public-access",
        "S3 buckets block all public access (all four public-access-block flags) and grant nothing to anyone "
        "through ACLs or bucket policies.",
        MANDATORY,
        check_public_access,
        "add an aws.s3.BucketPublicAccessBlock for the bucket with all four flags true; grant access to named "
        "roles only.",
    ),
    stack_policy(
        "s3-encrypted",
        "S3 buckets are encrypted with SSE-KMS (`aws:kms` or `aws:kms:dsse`) under a named key, except a bucket "
        f"tagged `{SSE_S3_REASON_TAG}` (why its writer cannot use KMS: ALB access logs) which may use SSE-S3.",
        MANDATORY,
        check_encryption,
        "build the bucket with components/bucket.py private_bucket(kms_key=<a stack key whose policy lets the writer "
        "use it>); only a bucket whose writer supports SSE-S3 alone takes sse_s3_reason=<why> instead.",
    ),
    stack_policy(
        "s3-tls-only",
        "S3 bucket policies deny every request that does not use TLS: one Deny of `s3:*` to `*` on the bucket and "
        "its objects, conditioned on aws:SecureTransport = false alone.",
        ADVISORY,
        check_tls_only,
        'add {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [<bucket ARN>, "<bucket ARN>/*"], '
        '"Condition": {"Bool": {"aws:SecureTransport": "false"}}} to the bucket policy.',
    ),
    resource_policy(
        "log-group-retention",
        "CloudWatch log groups have a retention period, at least `minimumRetentionDays` (pack config) long.",
        ADVISORY,
        [LOG_GROUP],
        check_retention,
        "set retentionInDays (e.g. 30 in dev, 365 in prod: the logRetentionDays of the service, pipeline, database "
        "or WAF config).",
        PolicyConfigSchema(properties={"minimumRetentionDays": {"type": "integer", "minimum": 1, "default": 1}}),
    ),
    stack_policy(
        "logs-encrypted-with-cmk",
        "CloudWatch log groups are encrypted with a customer managed KMS key where the pack config sets `required`. "
        "Every log group of the stack counts: they hold application output (service logs), audit data (pipeline "
        "build logs, VPC flow logs in CloudWatch, database log exports, state machine executions) or blocked "
        "requests (AWS WAF logs, which have their own key always). Wherever a log group names a key (required or "
        "not), it is the key's ARN and, when the stack makes the key, its policy lets CloudWatch Logs use it for "
        "that group (an encryption-context condition naming it), else CloudWatch Logs refuses to create the group.",
        MANDATORY,
        check_logs_cmk,
        "set monitoring.logsKmsKey: true in the stack config (one key for every log group of the stack, "
        "components/monitoring.py LogsKey); a key of your own needs a statement allowing logs.<region>.amazonaws.com "
        "kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* under an ArnLike condition on "
        "kms:EncryptionContext:aws:logs:arn naming the group.",
        _REQUIRED,
    ),
    resource_policy(
        "ecr-scan-on-push",
        "ECR repositories scan images on push.",
        ADVISORY,
        [ECR_REPOSITORY],
        check_scan_on_push,
        'set imageScanningConfiguration={"scanOnPush": True}.',
    ),
    resource_policy(
        "rds-backup-retention",
        "RDS instances and clusters keep automated backups at least `minimumRetentionDays` days (pack config).",
        ADVISORY,
        [RDS_INSTANCE, RDS_CLUSTER],
        check_backups,
        "raise backupRetentionPeriod (up to 35 days) in the database config of this environment.",
        PolicyConfigSchema(
            properties={"minimumRetentionDays": {"type": "integer", "minimum": 0, "maximum": 35, "default": 1}}
        ),
    ),
    resource_policy(
        "rds-deletion-protection",
        "RDS instances and clusters have deletion protection where the pack config sets `required`.",
        ADVISORY,
        [RDS_INSTANCE, RDS_CLUSTER],
        check_deletion_protection,
        "set deletionProtection=True in the database config of this environment.",
        _REQUIRED,
    ),
    stack_policy(
        "rds-multi-az",
        "RDS databases span two availability zones where the pack config sets `required`.",
        ADVISORY,
        check_multi_az,
        "set multiAz=True (instances) or add a second cluster instance in the database config.",
        _REQUIRED,
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "kms-key-rotation": ["AwsSolutions-KMS5", "CKV_AWS_7", "awsguard:cmk-backing-key-rotation-enabled"],
    "s3-block-public-access": [
        "AwsSolutions-S2",
        "CKV_AWS_20",
        "CKV_AWS_53",
        "CKV_AWS_54",
        "CKV_AWS_55",
        "CKV_AWS_56",
        "CKV_AWS_57",
        "CKV_AWS_70",
        "CKV2_AWS_6",
        "CKV2_AWS_43",
        "CKV_AWS_375",
    ],
    "s3-encrypted": ["AwsSolutions-S3", "CKV_AWS_19", "CKV_AWS_145"],
    "s3-tls-only": ["AwsSolutions-S10"],
    "log-group-retention": ["CKV_AWS_66", "CKV_AWS_338"],
    "logs-encrypted-with-cmk": ["CKV_AWS_158"],
    "ecr-scan-on-push": ["CKV_AWS_163"],
    "rds-backup-retention": ["AwsSolutions-RDS13", "CKV_AWS_133", "awsguard:rds-instance-backup-enabled"],
    "rds-deletion-protection": ["AwsSolutions-RDS10", "AwsSolutions-RDS15", "CKV_AWS_293"],
    "rds-multi-az": ["CKV_AWS_157"],
}

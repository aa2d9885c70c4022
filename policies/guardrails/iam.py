"""Least-privilege IAM (mandatory): no wildcard or inverted grants, "*" only where AWS allows nothing
else, no admin-like managed policies, PassRole never on every role, trust only in named principals,
`rds-db:connect` only as one database user of one instance, and AWS service principals in resource
policies only on behalf of this account (the confused deputy).

Every identity-policy document is checked wherever it can appear: `aws:iam/policy`,
`rolePolicy`, `userPolicy`, `groupPolicy`, `role.inlinePolicies`, SSO permission-set inline
policies; trust documents are `role.assumeRolePolicy`; resource policies are the `policy` of
KMS keys, SNS topics, S3 buckets, ECR repositories, Secrets Manager secrets and SQS queues,
inline or as their separate policy resources. A document may be JSON text or an object,
`Statement` one object or a list, `Action`/`Resource` a string or a list; action names are
matched case-insensitively. Public-bucket checks live in `data.py`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema

from . import iam_actions
from .common import (
    MANDATORY,
    Unparsable,
    as_list,
    document,
    has_unknown,
    is_allow,
    resource_policy,
    statements,
)
from .types import (
    BUCKET,
    BUCKET_POLICY,
    BUCKET_V2,
    ECR_REPOSITORY_POLICY,
    GROUP_POLICY,
    GROUP_POLICY_ATTACHMENT,
    GROUP_POLICY_ATTACHMENTS_EXCLUSIVE,
    IAM_POLICY,
    IAM_ROLE,
    KMS_KEY,
    KMS_KEY_POLICY,
    PERMISSION_SET_INLINE_POLICY,
    POLICY_ATTACHMENT,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    SECRET,
    SECRET_POLICY,
    SNS_TOPIC,
    SNS_TOPIC_POLICY,
    SQS_QUEUE,
    SQS_QUEUE_POLICY,
    SSO_MANAGED_POLICY_ATTACHMENT,
    SSO_MANAGED_POLICY_ATTACHMENTS_EXCLUSIVE,
    USER_POLICY,
    USER_POLICY_ATTACHMENT,
    USER_POLICY_ATTACHMENTS_EXCLUSIVE,
)

# Where identity-policy documents live: type -> property holding the document.
DOCUMENT_PROPERTY = {
    IAM_POLICY: "policy",
    ROLE_POLICY: "policy",
    USER_POLICY: "policy",
    GROUP_POLICY: "policy",
    PERMISSION_SET_INLINE_POLICY: "inlinePolicy",
}
DOCUMENT_TYPES = frozenset({*DOCUMENT_PROPERTY, IAM_ROLE})

# Every way to attach a managed policy: type -> property holding one ARN or a list of ARNs.
ATTACHMENT_PROPERTY = {
    ROLE_POLICY_ATTACHMENT: "policyArn",
    USER_POLICY_ATTACHMENT: "policyArn",
    GROUP_POLICY_ATTACHMENT: "policyArn",
    POLICY_ATTACHMENT: "policyArn",
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns",
    USER_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns",
    GROUP_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns",
    IAM_ROLE: "managedPolicyArns",
    SSO_MANAGED_POLICY_ATTACHMENT: "managedPolicyArn",
    SSO_MANAGED_POLICY_ATTACHMENTS_EXCLUSIVE: "managedPolicyArns",
}

_AWS_MANAGED = re.compile(r"^arn:[\w-]+:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")
_ADMIN_LIKE = re.compile(r"administrator|poweruser|fullaccess", re.IGNORECASE)
_ACCOUNT = re.compile(r"^\d{12}$")
_ACCOUNT_ARN = re.compile(r"^arn:[\w-]+:(?:iam|sts)::(?P<account>\d{12}):[\w+=,.@/-]+$")
_FEDERATED_ARN = re.compile(r"^arn:[\w-]+:iam::\d{12}:(?:oidc-provider|saml-provider)/[^*?]+$")
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?$")

# One database user of one RDS instance or Aurora cluster: arn:<partition>:rds-db:<region>:<account>:dbuser:
# <DbiResourceId or cluster resource id>/<user> ("Creating and using an IAM policy for IAM database access",
# RDS User Guide), with no wildcard anywhere.
DB_USER_ARN = re.compile(
    r"^arn:[a-z-]+:rds-db:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):dbuser:"
    r"(?P<resource_id>(?:db|cluster)-[A-Za-z0-9]+)/(?P<user>[^/*?]+)$"
)

# Where resource policies live: type -> property holding the document.
RESOURCE_POLICY_PROPERTY = {
    KMS_KEY: "policy",
    KMS_KEY_POLICY: "policy",
    SNS_TOPIC: "policy",
    SNS_TOPIC_POLICY: "policy",
    BUCKET: "policy",
    BUCKET_V2: "policy",
    BUCKET_POLICY: "policy",
    ECR_REPOSITORY_POLICY: "policy",
    SECRET: "policy",
    SECRET_POLICY: "policy",
    SQS_QUEUE: "policy",
    SQS_QUEUE_POLICY: "policy",
}

# Condition keys that tie a service's request to the account, organization or resource it acts
# for ("The confused deputy problem", IAM User Guide), and the encryption-context keys that name
# the one resource a key may be used for. `aws:SourceOwner` is the older SNS/SES form of
# aws:SourceAccount.
SOURCE_CONDITION_KEYS = frozenset(
    {
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
        "kms:encryptioncontext:aws:logs:arn",
        "kms:encryptioncontext:aws:sns:topicarn",
    }
)

# (resource type prefix, service principal) pairs AWS documents as sending none of those keys.
# EventBridge's requests to KMS for an encrypted SNS topic target carry no aws:SourceAccount,
# aws:SourceArn or aws:SourceOrgID ("Enable compatibility between event sources from AWS
# services and encrypted topics", Amazon SNS Developer Guide): a condition would drop every event.
NO_SOURCE_CONTEXT = frozenset({("aws:kms/", "events.amazonaws.com")})


# The tag that marks a managed policy made to be a permissions boundary (bootstrap/): it allows
# `*` and denies what no bounded role may do. A boundary grants nothing by itself, it only caps
# the identity policies of the roles that carry it ("Permissions boundaries for IAM entities",
# IAM User Guide), so the rules about what identity policies allow do not apply to it.
BOUNDARY_TAG = ("PermissionsBoundary", "true")


def is_permissions_boundary(props: Mapping[str, Any], type_: str) -> bool:
    tags = props.get("tags")
    return type_ == IAM_POLICY and isinstance(tags, Mapping) and tags.get(BOUNDARY_TAG[0]) == BOUNDARY_TAG[1]


def identity_documents(props: Mapping[str, Any], type_: str) -> Iterator[tuple[str, Any]]:
    """(where, raw document) for every identity-policy document of a resource; none for a permissions boundary."""
    if is_permissions_boundary(props, type_):
        return
    if type_ == IAM_ROLE:
        for i, inline in enumerate(as_list(props.get("inlinePolicies"))):
            if isinstance(inline, Mapping):
                yield f"inlinePolicies[{i}] ({inline.get('name', '?')})", inline.get("policy")
    elif type_ in DOCUMENT_PROPERTY:
        yield DOCUMENT_PROPERTY[type_], props.get(DOCUMENT_PROPERTY[type_])


def allow_statements(props: Mapping[str, Any], type_: str) -> Iterator[tuple[str, dict]]:
    """(where, statement) for every Allow statement of every identity document; bad JSON raises Unparsable."""
    for where, raw in identity_documents(props, type_):
        doc = document(raw)
        if doc is None:
            continue
        for i, statement in enumerate(statements(doc)):
            if is_allow(statement):
                sid = statement.get("Sid")
                yield f"{where} statement {sid or i}", statement


def _known_strings(value: Any) -> list[str]:
    return [v for v in as_list(value) if isinstance(v, str) and not has_unknown(v)]


def is_wildcard_action(action: str) -> bool:
    return "*" in action or "?" in action


def is_all_resources(resource: str) -> bool:
    """`*`, or an ARN that leaves service, region, account and resource all open (e.g. `arn:aws:s3:::*`)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    _, _, service, region, account, rest = parts
    return (
        service in ("*", "") or (region in ("", "*") and account in ("", "*") and set(rest) <= set("*/:"))
    ) and "*" in resource


# --- checks ---------------------------------------------------------------------------------


def check_wildcard_actions(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    try:
        for where, statement in allow_statements(props, args.resource_type):
            if "NotAction" in statement:
                yield f"{where}: Allow with NotAction grants every action except the listed ones."
            if "NotResource" in statement:
                yield f"{where}: Allow with NotResource grants on every resource except the listed ones."
            wild = [a for a in _known_strings(statement.get("Action")) if is_wildcard_action(a)]
            if wild:
                yield f"{where}: Allow with wildcard action(s) {', '.join(sorted(wild))}."
    except Unparsable as error:
        yield f"policy document is not valid JSON ({error}); it cannot be verified."


def check_star_resource(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    try:
        for where, statement in allow_statements(props, args.resource_type):
            everything = [r for r in _known_strings(statement.get("Resource")) if is_all_resources(r)]
            if not everything:
                continue
            for action in _known_strings(statement.get("Action")):
                if is_wildcard_action(action):
                    continue  # reported by iam-no-wildcard-actions
                scopable = iam_actions.resource_scopable(action)
                if scopable is None:
                    yield (
                        f'{where}: {action} on "{everything[0]}": the action is not in the IAM action database, '
                        "so it cannot be shown to be unscopable."
                    )
                elif scopable:
                    yield (f'{where}: {action} on "{everything[0]}": AWS lets this action be scoped to resource ARNs.')
    except Unparsable:
        return  # reported by iam-no-wildcard-actions


def check_passrole(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    try:
        for where, statement in allow_statements(props, args.resource_type):
            actions = [a.lower() for a in _known_strings(statement.get("Action"))]
            if not any(fnmatch.fnmatchcase("iam:passrole", a) for a in actions):
                continue
            for resource in _known_strings(statement.get("Resource")):
                if is_all_resources(resource) or re.search(r":role/\*$", resource) or ":*:role/" in resource:
                    yield f'{where}: iam:PassRole on "{resource}" lets the holder hand any role to a service.'
    except Unparsable:
        return


def check_admin_attachments(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    key = ATTACHMENT_PROPERTY[args.resource_type]
    for arn in _known_strings(props.get(key)):
        match = _AWS_MANAGED.match(arn)
        if match and _ADMIN_LIKE.search(match["name"]):
            yield f"{key} attaches the AWS managed policy {arn}, which grants admin-like power."


def _principal_problems(principal: Any, has_condition: bool) -> Iterator[str]:
    if principal is None:
        return
    if isinstance(principal, str):
        if not has_unknown(principal):
            yield f'Principal "{principal}" (anyone)'
        return
    if not isinstance(principal, Mapping):
        yield f"Principal {principal!r} is not a principal map"
        return
    for kind, values in principal.items():
        for value in _known_strings(values):
            if kind == "Service":
                if not _SERVICE.match(value):
                    yield f'Service principal "{value}" is not an AWS service'
            elif kind == "AWS":
                if not (_ACCOUNT.match(value) or _ACCOUNT_ARN.match(value)):
                    yield f'AWS principal "{value}" does not name one account'
            elif kind == "Federated":
                if not _FEDERATED_ARN.match(value):
                    yield f'Federated principal "{value}" is not an identity provider of a named account'
                elif not has_condition:
                    yield f'Federated principal "{value}" without a Condition lets every identity of the provider in'
            else:
                yield f'{kind} principal "{value}" is not a service or a named account'


def check_trust(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    try:
        doc = document(props.get("assumeRolePolicy"))
    except Unparsable as error:
        yield f"assumeRolePolicy is not valid JSON ({error}); it cannot be verified."
        return
    if doc is None:
        return
    for i, statement in enumerate(statements(doc)):
        if not is_allow(statement):
            continue
        where = f"assumeRolePolicy statement {statement.get('Sid') or i}"
        if "NotPrincipal" in statement:
            yield f"{where}: Allow with NotPrincipal trusts everyone except the listed principals."
        if "Principal" not in statement and "NotPrincipal" not in statement:
            yield f"{where}: Allow without a Principal."
        for problem in _principal_problems(statement.get("Principal"), bool(statement.get("Condition"))):
            yield f"{where}: {problem}."
        wild = [a for a in _known_strings(statement.get("Action")) if is_wildcard_action(a)]
        if wild or "NotAction" in statement:
            yield f"{where}: trust statements name their sts actions explicitly (found {wild or 'NotAction'})."


def grants_rds_connect(statement: Mapping) -> bool:
    """rds-db:connect or an rds-db pattern matching it (`rds-db:*`); "*" alone is iam-no-wildcard-actions' to report."""
    return any(
        a.lower().startswith("rds-db:") and fnmatch.fnmatchcase("rds-db:connect", a.lower())
        for a in _known_strings(statement.get("Action"))
    )


def check_rds_connect(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    try:
        for where, statement in allow_statements(props, args.resource_type):
            if not grants_rds_connect(statement):
                continue
            if "NotResource" in statement:
                yield f"{where}: rds-db:connect with NotResource lets the holder log in as every other database user."
            for resource in _known_strings(statement.get("Resource")):
                if not DB_USER_ARN.match(resource):
                    yield (
                        f'{where}: rds-db:connect on "{resource}": name one database user of one instance, '
                        "arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>, without wildcards."
                    )
    except Unparsable:
        return  # reported by iam-no-wildcard-actions


def _service_principals(principal: Any) -> list[str]:
    if not isinstance(principal, Mapping):
        return []
    return _known_strings(principal.get("Service"))


def _pins(condition: Any, keys: frozenset[str]) -> bool:
    """True if some operator (not ...IfExists, which passes when the key is absent) checks one of `keys`
    against values other than "*"."""
    if not isinstance(condition, Mapping):
        return False
    for operator, block in condition.items():
        if not isinstance(block, Mapping) or str(operator).lower().endswith("ifexists"):
            continue
        for key, value in block.items():
            values = as_list(value)
            if str(key).lower() in keys and values and all(v not in ("*", "") for v in values):
                return True
    return False


def check_service_principal_conditions(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    key = RESOURCE_POLICY_PROPERTY[args.resource_type]
    try:
        doc = document(props.get(key))
    except Unparsable as error:
        yield f"{key} is not valid JSON ({error}); it cannot be verified."
        return
    if doc is None:
        return
    for i, statement in enumerate(statements(doc)):
        if not is_allow(statement) or has_unknown(statement.get("Condition")):
            continue
        services = [
            service
            for service in _service_principals(statement.get("Principal"))
            if not any(args.resource_type.startswith(t) and service == s for t, s in NO_SOURCE_CONTEXT)
        ]
        if services and not _pins(statement.get("Condition"), SOURCE_CONDITION_KEYS):
            yield (
                f"{key} statement {statement.get('Sid') or i}: {', '.join(services)} may act here on behalf of any "
                "account (no aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition)."
            )


def check_permissions_boundary(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    name = config.get("policyName") or ""
    if not name:
        return
    boundary = props.get("permissionsBoundary")
    if has_unknown(boundary):
        return
    # arn:<partition>:iam::<account>:policy/<path/><name>: the policy's name is the ARN's last part.
    if not isinstance(boundary, str) or not boundary:
        yield f"the role has no permissions boundary; it must be the managed policy {name}."
    elif not re.fullmatch(rf"arn:[\w-]+:iam::(\d{{12}}|aws):policy/(?:[^*?]*/)?{re.escape(name)}", boundary):
        yield f"the role's permissions boundary is {boundary}, not the managed policy {name}."


# Condition keys that limit an anonymous ("*") principal to callers of one account, organization, network path
# or source resource ("AWS global condition context keys", IAM User Guide); `kms:CallerAccount` is KMS's own
# ("AWS KMS condition keys", AWS KMS Developer Guide).
CALLER_CONDITION_KEYS = SOURCE_CONDITION_KEYS | frozenset(
    {
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "kms:calleraccount",
    }
)
# S3 bucket policies are s3-block-public-access's to judge (with ACLs and the public access block).
ANONYMOUS_PRINCIPAL_TYPES = {t: k for t, k in RESOURCE_POLICY_PROPERTY.items() if not t.startswith("aws:s3/")}


def _anyone(principal: Any) -> bool:
    return principal == "*" or (isinstance(principal, Mapping) and "*" in _known_strings(principal.get("AWS")))


def check_anonymous_principal(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    key = ANONYMOUS_PRINCIPAL_TYPES[args.resource_type]
    try:
        doc = document(props.get(key))
    except Unparsable:
        return  # reported by iam-service-principal-confused-deputy
    for i, statement in enumerate(statements(doc or {})):
        if (
            not is_allow(statement)
            or has_unknown(statement.get("Condition"))
            or has_unknown(statement.get("Principal"))
        ):
            continue
        if "NotPrincipal" in statement:
            yield f"{key} statement {statement.get('Sid') or i}: Allow with NotPrincipal grants everyone else."
        elif _anyone(statement.get("Principal")) and not _pins(statement.get("Condition"), CALLER_CONDITION_KEYS):
            yield (
                f'{key} statement {statement.get("Sid") or i}: allows any AWS principal ("*") without a condition '
                "that limits the callers to an account, organization or source (aws:PrincipalAccount, "
                "aws:PrincipalOrgID, aws:SourceAccount, kms:CallerAccount, ...)."
            )


POLICIES = [
    resource_policy(
        "iam-role-has-permissions-boundary",
        "Every IAM role carries the permissions boundary the pack config names (`policyName`): what a role "
        "created by a CI deploy role can do stays within it, whatever its own policies say.",
        MANDATORY,
        [IAM_ROLE],
        check_permissions_boundary,
        "leave the role's permissionsBoundary to the program (components/boundary.py gives every role the one "
        "`ecs-platform:iam.permissionsBoundary` names, by default the CI bootstrap's <project>-ci-boundary).",
        PolicyConfigSchema(properties={"policyName": {"type": "string", "default": ""}}),
    ),
    resource_policy(
        "iam-no-wildcard-actions",
        "IAM policies allow only named actions: no `*`, `service:*`, partial wildcards, NotAction or NotResource.",
        MANDATORY,
        DOCUMENT_TYPES,
        check_wildcard_actions,
        "list each action the workload calls (e.g. s3:GetObject), and grant with Action/Resource, never NotAction.",
    ),
    resource_policy(
        "iam-star-resource-only-unscopable",
        'IAM policies use Resource "*" only for actions AWS cannot scope to a resource (per the IAM action database).',
        MANDATORY,
        DOCUMENT_TYPES,
        check_star_resource,
        'put scopable actions in their own statement with the ARNs they touch; keep "*" for actions such as '
        "ecr:GetAuthorizationToken.",
    ),
    resource_policy(
        "iam-no-passrole-on-all-roles",
        "iam:PassRole is granted only on named roles, never on `*` or every role.",
        MANDATORY,
        DOCUMENT_TYPES,
        check_passrole,
        "grant iam:PassRole on the ARNs of the roles the service must pass, with an iam:PassedToService condition.",
    ),
    resource_policy(
        "iam-no-admin-managed-policies",
        "No AWS managed policy with admin-like power (AdministratorAccess, PowerUserAccess, any *FullAccess) is "
        "attached to a role, user, group or permission set.",
        MANDATORY,
        ATTACHMENT_PROPERTY,
        check_admin_attachments,
        "write an inline or customer-managed policy with the actions needed, or attach a narrow AWS managed "
        "policy such as AmazonSSMManagedInstanceCore.",
    ),
    resource_policy(
        "iam-trust-named-principals-only",
        "Role trust policies trust only AWS service principals or named accounts (no `*`, no NotPrincipal).",
        MANDATORY,
        [IAM_ROLE],
        check_trust,
        'use {"Service": "<service>.amazonaws.com"} with an aws:SourceAccount condition, or the ARN of a role '
        "or account you name.",
    ),
    resource_policy(
        "iam-rds-connect-one-db-user",
        "rds-db:connect is granted only as one named database user of one named instance or cluster: no `*` in "
        'the resource id or user, no `dbuser:*`, no Resource "*".',
        MANDATORY,
        DOCUMENT_TYPES,
        check_rds_connect,
        "grant rds-db:connect on arn:<partition>:rds-db:<region>:<account>:dbuser:<the instance's resource_id>/<user> "
        "(components/database.py builds it for `database: {iamAuth: true}`).",
    ),
    resource_policy(
        "iam-service-principal-confused-deputy",
        "Resource policies (KMS keys, SNS topics, S3 buckets, ECR repositories, secrets, SQS queues) allow an AWS "
        "service principal only with an aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition.",
        MANDATORY,
        RESOURCE_POLICY_PROPERTY,
        check_service_principal_conditions,
        'add "Condition": {"StringEquals": {"aws:SourceAccount": "<account>"}, "ArnLike": {"aws:SourceArn": '
        '"<the resources of this account the service acts for>"}} as the service\'s documentation shows.',
    ),
    resource_policy(
        "resource-policy-no-anonymous-principal",
        "KMS key, SNS topic, ECR repository, Secrets Manager secret and SQS queue policies allow `*` (or "
        '`{"AWS": "*"}`) only under a condition that pins the caller\'s account, organization or source; no '
        "Allow with NotPrincipal.",
        MANDATORY,
        ANONYMOUS_PRINCIPAL_TYPES,
        check_anonymous_principal,
        'name the account root or roles as principals ({"AWS": "arn:aws:iam::<account>:root"}), or add '
        '"Condition": {"StringEquals": {"aws:PrincipalAccount": "<account>"}}.',
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    # No anchor rule set asks for a permissions boundary: it closes our own CI roles' escalation path.
    "iam-role-has-permissions-boundary": [],
    "iam-no-wildcard-actions": ["AwsSolutions-IAM5", "CKV_AWS_62", "CKV_AWS_63", "CKV2_AWS_40"],
    "iam-star-resource-only-unscopable": [
        "AwsSolutions-IAM5",
        "CKV_AWS_355",
        "CKV_AWS_286",
        "CKV_AWS_287",
        "CKV_AWS_288",
        "CKV_AWS_289",
        "CKV_AWS_290",
    ],
    "iam-no-passrole-on-all-roles": ["CKV_AWS_286"],
    "iam-no-admin-managed-policies": ["CKV_AWS_274", "CKV2_AWS_56"],
    "iam-trust-named-principals-only": ["CKV_AWS_60", "CKV_AWS_61"],
    "iam-rds-connect-one-db-user": [],
    "iam-service-principal-confused-deputy": [],
    "resource-policy-no-anonymous-principal": [
        "AwsSolutions-ECR1",
        "CKV_AWS_32",
        "CKV_AWS_33",
        "CKV_AWS_169",
    ],
}

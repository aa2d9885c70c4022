"""One permissions boundary on every IAM role of the environment (`ecs-platform:iam.permissionsBoundary`).

A CI deploy role creates the environment's roles with inline policies of its choosing; the CI
bootstrap's boundary caps whatever they say, and the deploy role may create a role only with it
(ci/deploy-role-policies/identity.json, tests/test_ci_roles.py). The program gives it to every
role in one place (components/boundary.py); the pack's `iam-role-has-permissions-boundary`
checks it wherever the pack config names the boundary, as the dev and prod configs do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from helpers import FIXTURE_NAMES, PRODLIKE, SMALL, checked as check, config_error, evaluate_fixture, with_config
from policy_helpers import ACCOUNT, passes, violates

from components.account import Account
from components.boundary import bound_every_role
from components.config.iam import IamConfig
from offline.harness import evaluate

ROOT = Path(__file__).resolve().parent.parent
ROLE = "aws:iam/role:Role"
POLICY = "iam-role-has-permissions-boundary"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/ecs-platform-ci-boundary"
NAMED = {POLICY: {"enforcementLevel": "mandatory", "policyName": "ecs-platform-ci-boundary"}}
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
)


def boundaries(graph) -> set:
    return {r.inputs.get("permissionsBoundary") for r in graph.of_type(ROLE)}


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_role_of_the_environment_has_the_bootstraps_boundary_by_default(name):
    graph = evaluate_fixture(name)
    assert graph.error is None, graph.error
    assert len(graph.of_type(ROLE)) >= 3
    assert boundaries(graph) == {BOUNDARY}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stacks_pack_configs_require_the_boundary_and_their_roles_have_it(stack):
    """Holds for any valid dev or prod stack file: the pack config makes the policy mandatory, and it is clean."""
    config = json.loads((ROOT / "policies" / f"config.{stack}.json").read_text())
    assert config[POLICY]["enforcementLevel"] == "mandatory" and config[POLICY]["policyName"]
    graph = evaluate(stack)
    assert graph.error is None, graph.error
    result = check(graph, config)
    assert result.of(POLICY) == [] and graph.of_type(ROLE)


def test_a_named_boundary_is_this_accounts_policy_and_an_arn_is_used_as_given():
    named = with_config(SMALL, lambda c: c.update({"ecs-platform:iam": {"permissionsBoundary": "team-boundary"}}))
    assert named.error is None, named.error
    assert boundaries(named) == {f"arn:aws:iam::{ACCOUNT}:policy/team-boundary"}
    arn = "arn:aws:iam::111122223333:policy/platform/workload-boundary"
    given = with_config(SMALL, lambda c: c.update({"ecs-platform:iam": {"permissionsBoundary": arn}}))
    assert given.error is None, given.error
    assert boundaries(given) == {arn}


def test_false_leaves_the_roles_without_a_boundary_and_the_pack_config_then_refuses_it():
    graph = with_config(PRODLIKE, lambda c: c.update({"ecs-platform:iam": {"permissionsBoundary": False}}))
    assert graph.error is None, graph.error
    assert boundaries(graph) == {None}
    findings = check(graph, NAMED).of(POLICY)
    assert len(findings) == len(graph.of_type(ROLE)) and {f.level for f in findings} == {"mandatory"}


@pytest.mark.parametrize(
    "value, message",
    [
        ("ecs platform boundary", "must be true, false, a managed policy name"),
        ("arn:aws:iam::12345:policy/x", "must be true, false, a managed policy name"),
    ],
)
def test_a_bad_boundary_is_one_line_naming_the_key(value, message):
    error = config_error(SMALL, lambda c: c.update({"ecs-platform:iam": {"permissionsBoundary": value}}))
    assert error.startswith("ecs-platform:iam.permissionsBoundary: ") and message in error, error
    assert "\n" not in error


def test_a_role_any_component_registers_later_gets_the_boundary_without_a_change_there():
    """The transformation sees every role, however deep in a component, so a new component needs nothing."""

    class Anything(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("ecs-platform:test:Anything", name)
            aws.iam.Role(f"{name}-role", assume_role_policy=TRUST, opts=pulumi.ResourceOptions(parent=self))
            # A boundary asked for by the component itself does not win over the environment's.
            aws.iam.Role(
                f"{name}-other",
                assume_role_policy=TRUST,
                permissions_boundary=f"arn:aws:iam::{ACCOUNT}:policy/wide-open",
                opts=pulumi.ResourceOptions(parent=self),
            )

    def program():
        bound_every_role(IamConfig(), "ecs-platform", Account(ACCOUNT, "aws", "eu-west-1"))
        Anything("efs-grants")
        aws.iam.Role("nat-instance", assume_role_policy=TRUST)
        aws.s3.Bucket("not-a-role")

    graph = evaluate_fixture(SMALL, program=program)
    assert graph.error is None, graph.error
    assert boundaries(graph) == {BOUNDARY} and len(graph.of_type(ROLE)) == 3
    assert "permissionsBoundary" not in graph.one("aws:s3/bucket:Bucket", "not-a-role").inputs


# --- the pack's rule ----------------------------------------------------------------------------------


def role(boundary=None):
    return lambda: aws.iam.Role("task", assume_role_policy=TRUST, permissions_boundary=boundary)


def test_the_pack_refuses_a_role_without_the_named_boundary_or_with_another():
    [missing] = violates(role(), POLICY, config=NAMED)
    assert "has no permissions boundary; it must be the managed policy ecs-platform-ci-boundary" in missing.message
    other = f"arn:aws:iam::{ACCOUNT}:policy/wide-open"
    [wrong] = violates(role(other), POLICY, config=NAMED)
    assert f"is {other}, not the managed policy ecs-platform-ci-boundary" in wrong.message


def test_the_pack_accepts_the_named_boundary_even_on_a_path_and_an_unknown_one_in_a_preview():
    passes(role(BOUNDARY), POLICY, config=NAMED)
    passes(role(f"arn:aws:iam::{ACCOUNT}:policy/team/ecs-platform-ci-boundary"), POLICY, config=NAMED)

    def unknown():
        policy = aws.iam.Policy("boundary", policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
        aws.iam.Role("task", assume_role_policy=TRUST, permissions_boundary=policy.arn)

    passes(unknown, POLICY, config=NAMED, preview=True)


def test_without_a_named_boundary_the_rule_asks_nothing():
    passes(role(), POLICY, config={})


def test_only_a_policy_tagged_as_a_boundary_may_allow_everything():
    """A boundary grants nothing by itself (IAM User Guide, "Permissions boundaries for IAM entities")."""
    everything = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )

    def policy(tags):
        return lambda: aws.iam.Policy("boundary", policy=everything, tags=tags)

    violates(policy(None), "iam-no-wildcard-actions")
    violates(policy({"Purpose": "boundary"}), "iam-no-wildcard-actions")
    passes(policy({"PermissionsBoundary": "true"}), "iam-no-wildcard-actions")
    passes(policy({"PermissionsBoundary": "true"}), "iam-star-resource-only-unscopable")

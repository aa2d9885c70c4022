"""Default tags reach every AWS resource; physical names follow the convention and fit AWS limits."""

import json

import pytest

from components.naming import LIMITS, Naming, cut
from policies.guardrails.types import AWS_PROVIDER as PROVIDER


def test_the_environment_provider_tags_everything_it_creates(env):
    provider = env.one(PROVIDER, "aws")
    assert provider.inputs["region"] == "eu-west-1"
    assert json.loads(provider.inputs["defaultTags"]) == {
        "tags": {"Project": "ecs-platform", "Environment": env.stack, "ManagedBy": "pulumi", "Stack": env.stack}
    }


def test_every_aws_resource_goes_through_the_tagged_provider(env):
    provider = env.one(PROVIDER, "aws")
    aws_resources = [r for r in env.registered if r.type.startswith("aws:")]
    assert aws_resources
    assert {r.name: r.provider_urn for r in aws_resources} == {r.name: provider.urn for r in aws_resources}
    # awsx builds its subnets, gateways and routes from the provider it is handed.
    assert env.one("awsx:ec2:Vpc").providers["aws"].startswith(provider.urn)


def test_physical_names_carry_project_and_environment_and_fit_their_limits(env):
    role = env.one("aws:iam/role:Role", "web-execution").inputs["namePrefix"]
    assert role.startswith(f"ecs-platform-{env.stack}-") and len(role) <= LIMITS["iam_role_prefix"]
    log_group = env.one("aws:cloudwatch/logGroup:LogGroup", "web-logs").inputs["name"]
    assert log_group.startswith(f"/ecs-platform/{env.stack}/")
    assert env.one("awsx:ec2:Vpc").inputs["tags"]["Name"] == f"ecs-platform-{env.stack}-vpc"


naming = Naming(project="ecs-platform", env="production-eu-central")


def test_a_name_within_the_limit_is_kept_whole():
    assert Naming("ecs-platform", "dev").name("web", "alb") == "ecs-platform-dev-web"
    assert naming.name("web", "rds_identifier") == "ecs-platform-production-eu-central-web"


@pytest.mark.parametrize("kind", ["alb", "target_group", "rds_identifier", "iam_role", "s3_bucket"])
def test_long_names_are_cut_to_the_limit_with_a_hash(kind):
    name = naming.name("a-very-long-service-name-for-the-orders-backend-and-its-workers", kind)
    assert len(name) <= LIMITS[kind]
    assert name.startswith("ecs-platform-production-")
    assert not name.endswith("-")


def test_two_long_names_with_a_common_prefix_stay_distinct_after_the_cut():
    first = naming.name("checkout-service-blue", "alb")
    second = naming.name("checkout-service-green", "alb")
    assert len(first) == len(second) == 32
    assert first != second


def test_cut_is_stable_across_runs():
    assert cut("x" * 40, 32) == cut("x" * 40, 32)


def test_bucket_names_are_lower_case():
    name = Naming("ecs-platform", "Dev_Stack").name("Artifacts", "s3_bucket", lowercase=True)
    assert name == "ecs-platform-dev-stack-artifacts"


def test_prefixes_leave_room_for_the_suffix_aws_appends():
    prefix = naming.prefix("a-rather-long-role-name", "iam_role_prefix")
    assert prefix.endswith("-") and len(prefix) <= LIMITS["iam_role_prefix"]


def test_paths_are_slash_separated():
    assert Naming("ecs-platform", "dev").path("vpc-flow-logs") == "/ecs-platform/dev/vpc-flow-logs"

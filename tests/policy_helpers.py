"""Synthetic programs through the offline policy check: what the pack reports for a few hand-made resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pulumi_awsx as awsx
from helpers import SMALL, check, evaluate_fixture

from offline.policycheck import Finding, Result

ACCOUNT = "123456789012"

# A compliant PostgreSQL instance's arguments; tests override the one they are about.
DB_ARGS = dict(
    engine="postgres",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    username="app",
    manage_master_user_password=True,
    storage_encrypted=True,
    enabled_cloudwatch_logs_exports=["postgresql"],
)


def tls_parameter_group(name: str = "db-params", force_ssl: str | None = "1") -> aws.rds.ParameterGroup:
    """A PostgreSQL parameter group; `force_ssl` None leaves rds.force_ssl out."""
    parameters = [] if force_ssl is None else [{"name": "rds.force_ssl", "value": force_ssl}]
    return aws.rds.ParameterGroup(name, family="postgres17", parameters=parameters)


def run(program: Callable[[], Any], *, preview: bool = False, config: dict | None = None) -> Result:
    """Evaluates `program` as the `small` fixture's stack and runs the pack over it (that fixture's pack config
    unless `config`)."""
    graph = evaluate_fixture(SMALL, program=program, preview=preview)
    assert graph.error is None, graph.error
    return check(graph, config, dry_run=preview)


def hits(result: Result, policy: str) -> list[Finding]:
    return result.of(policy)


def violates(program: Callable[[], Any], policy: str, level: str = "mandatory", **kwargs: Any) -> list[Finding]:
    found = hits(run(program, **kwargs), policy)
    assert found, f"{policy} did not fire"
    assert {f.level for f in found} == {level}, found
    assert all("Remediation:" in f.message for f in found), found
    return found


def passes(program: Callable[[], Any], policy: str, **kwargs: Any) -> None:
    result = run(program, **kwargs)
    assert hits(result, policy) == [], hits(result, policy)


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "arn:aws:s3:::bucket/*", **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def vpc(name: str = "vpc", *, hygiene: bool = True) -> awsx.ec2.Vpc:
    """An awsx VPC with three tiers; with `hygiene`, also the flow log and emptied default group the pack asks for."""
    network = awsx.ec2.Vpc(
        name,
        cidr_block="10.0.0.0/16",
        availability_zone_names=["eu-west-1a", "eu-west-1b"],
        subnet_specs=[
            awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC, name="public"),
            awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE, name="private"),
            awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.ISOLATED, name="isolated"),
        ],
    )
    if hygiene:
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=network.vpc_id,
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination="arn:aws:s3:::flow-logs",
        )
        aws.ec2.DefaultSecurityGroup(f"{name}-default", vpc_id=network.vpc_id)
    return network


def service_trust(service: str = "ecs-tasks.amazonaws.com") -> str:
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    )


def role(name: str = "app", **kwargs: Any) -> aws.iam.Role:
    return aws.iam.Role(name, assume_role_policy=kwargs.pop("assume_role_policy", service_trust()), **kwargs)


def codebuild_project(name: str = "p", *, privileged: Any = None, **kwargs: Any) -> aws.codebuild.Project:
    """A CodeBuild project building from the pipeline on the standard Linux image (`privileged`: its
    `privileged_mode`, left out when None); `kwargs` override or add the project's arguments."""
    environment = {
        "type": "LINUX_CONTAINER",
        "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        "compute_type": "BUILD_GENERAL1_SMALL",
    }
    if privileged is not None:
        environment["privileged_mode"] = privileged
    kwargs.setdefault("service_role", f"arn:aws:iam::{ACCOUNT}:role/build")
    return aws.codebuild.Project(
        name, source={"type": "CODEPIPELINE"}, artifacts={"type": "CODEPIPELINE"}, environment=environment, **kwargs
    )

"""What a service's tasks are: the log group, two roles and the task definition with its one container.

The execution role is what ECS uses to start a task: pull the service's own image, write its
own logs, read its declared secrets. The task role is the application's own identity: nothing
by default, the config's grants, ECS Exec channels when enabled, and what the database client
adds (`rds-db:connect` with IAM authentication).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import ServiceConfig
from components.contracts import DatabaseClient, SecretReference
from components.iam import (
    SESSION_CHANNEL_ACTIONS,
    allow,
    inline_policy,
    output_document,
    resolved_document,
    trust_policy,
    write_own_logs,
)
from components.naming import Naming
from components.service.image import Image

_ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


@dataclass(frozen=True)
class Task:
    definition: aws.ecs.TaskDefinition
    family: str
    log_group: aws.cloudwatch.LogGroup
    execution_role: aws.iam.Role
    execution_policy: aws.iam.RolePolicy  # a task cannot start before it exists
    task_role: aws.iam.Role


def task(
    parent: pulumi.Resource,
    name: str,
    cfg: ServiceConfig,
    naming: Naming,
    account: Account,
    image: Image,
    database: DatabaseClient | None,
) -> Task:
    """The log group, the execution and task roles, and the task definition of one service."""
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=naming.path(f"services/{cfg.name}"),
        retention_in_days=cfg.log_retention_days,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    secrets = _secret_references(cfg, database.secrets if database else (), account)
    execution_role, execution_policy = _execution_role(parent, name, cfg, naming, account, image, log_group, secrets)
    task_role = _task_role(parent, name, cfg, naming, account, database.task_statements if database else ())
    volumes = _writable_volumes(cfg)
    family = naming.name(cfg.name)
    environment = {**cfg.environment, **(database.environment if database else {})}
    definition = aws.ecs.TaskDefinition(
        f"{name}-task",
        family=family,
        cpu=str(cfg.cpu),
        memory=str(cfg.memory),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": cfg.architecture.upper()},
        execution_role_arn=execution_role.arn,
        task_role_arn=task_role.arn,
        # No host: on Fargate each is a bind mount on the task's ephemeral storage, empty at
        # start, owned by root with mode 0755 unless the image declares the path as a VOLUME
        # (ECS developer guide, "Use bind mounts with Amazon ECS").
        volumes=[{"name": volume} for volume in volumes],
        container_definitions=_container_definitions(
            cfg, account.region, image.uri, log_group.name, environment, secrets, volumes
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Task(definition, family, log_group, execution_role, execution_policy, task_role)


def _secret_references(cfg: ServiceConfig, extra: Sequence[SecretReference], account: Account) -> list[dict]:
    """Every secret of the container as {name, valueFrom, resource, kind, kmsKey}; values are never read."""
    refs: list[dict] = []
    for env_name, ref in cfg.secrets.items():
        if ref.startswith("arn:") and ":secretsmanager:" in ref:
            base = ":".join(ref.split(":")[:7])
            refs.append({"name": env_name, "valueFrom": ref, "resource": base, "kind": "secretsmanager"})
        else:
            arn = (
                ref
                if ref.startswith("arn:")
                else account.arn("ssm", f"parameter{ref if ref.startswith('/') else '/' + ref}")
            )
            refs.append({"name": env_name, "valueFrom": arn, "resource": arn, "kind": "ssm"})
    for secret in extra:
        value_from = (
            pulumi.Output.concat(secret.secret_arn, f":{secret.json_key}::")
            if secret.json_key
            else pulumi.Output.from_input(secret.secret_arn)
        )
        refs.append(
            {
                "name": secret.name,
                "valueFrom": value_from,
                "resource": secret.secret_arn,
                "kind": "secretsmanager",
                "kmsKey": secret.kms_key_arn,
            }
        )
    return refs


def _execution_role(
    parent: pulumi.Resource,
    name: str,
    cfg: ServiceConfig,
    naming: Naming,
    account: Account,
    image: Image,
    log_group: aws.cloudwatch.LogGroup,
    secrets: list[dict],
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The role ECS uses to start the task: pull its own image, write its own logs, read its declared secrets."""
    role = aws.iam.Role(
        f"{name}-execution",
        name_prefix=naming.prefix(f"{cfg.name}-exec", "iam_role_prefix"),
        description=f"ECS starts tasks of {cfg.name}: image pull, logs, declared secrets",
        # The trust policy "Amazon ECS task execution IAM role" (ECS Developer Guide) documents:
        # AWS does not document aws:SourceAccount/aws:SourceArn being sent when ECS assumes the
        # execution role, and a condition it does not meet would keep every task from starting.
        # Who may name the role in a task definition is still held by iam:PassRole.
        assume_role_policy=trust_policy("ecs-tasks.amazonaws.com"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    kms_keys = [*cfg.secrets_kms_keys, *(s["kmsKey"] for s in secrets if s.get("kmsKey") is not None)]
    via = sorted({f"{s['kind']}.{account.region}.amazonaws.com" for s in secrets})
    by_kind = {
        "secretsmanager": ("ReadDeclaredSecrets", "secretsmanager:GetSecretValue"),
        "ssm": ("ReadDeclaredParameters", "ssm:GetParameters"),
    }

    def statements(r: dict[str, Any]) -> list[dict]:
        result: list[dict] = []
        if r["repository"]:
            result += [
                # Docker login to ECR: an account-wide token, AWS offers no resource to scope it to.
                allow("EcrLogin", "ecr:GetAuthorizationToken", "*"),
                allow("PullOwnImage", _ECR_PULL_ACTIONS, r["repository"]),
            ]
        result.append(write_own_logs(r["log_group"]))
        for kind, (sid, action) in by_kind.items():
            arns = sorted({arn for arn, k in r["secrets"] if k == kind})
            if arns:
                result.append(allow(sid, action, arns))
        if r["keys"]:
            condition = {"StringEquals": {"kms:ViaService": via}}
            result.append(allow("DecryptDeclaredSecrets", "kms:Decrypt", sorted(set(r["keys"])), condition=condition))
        return result

    values = {
        "repository": image.repository.arn if image.repository else None,
        "log_group": log_group.arn,
        "secrets": pulumi.Output.all(*[pulumi.Output.all(s["resource"], s["kind"]) for s in secrets]),
        "keys": pulumi.Output.all(*kms_keys),
    }
    policy = inline_policy(f"{name}-execution", role, resolved_document(values, statements))
    return role, policy


def _task_role(
    parent: pulumi.Resource,
    name: str,
    cfg: ServiceConfig,
    naming: Naming,
    account: Account,
    extra_statements: Sequence[Mapping[str, Any]],
) -> aws.iam.Role:
    """The application's own identity: nothing by default, config grants, ECS Exec channels when enabled."""
    role = aws.iam.Role(
        f"{name}-task",
        name_prefix=naming.prefix(f"{cfg.name}-task", "iam_role_prefix"),
        description=f"The application in tasks of {cfg.name}",
        # Only ECS tasks of this account and region: the keys the ECS Developer Guide documents
        # for the task role ("Amazon ECS task IAM role", confused deputy).
        assume_role_policy=trust_policy("ecs-tasks.amazonaws.com", account.id, account.arn("ecs", "*")),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    statements = [allow(f"Grant{i}", grant.actions, grant.resources) for i, grant in enumerate(cfg.permissions)]
    if cfg.ecs_exec:
        statements.append(allow("EcsExec", SESSION_CHANNEL_ACTIONS, "*"))
    statements += [dict(statement) for statement in extra_statements]
    if statements:
        inline_policy(f"{name}-task", role, output_document(statements))
    return role


def _writable_volumes(cfg: ServiceConfig) -> dict[str, str]:
    """Volume name -> container path of each writable mount, names derived from the paths."""
    volumes: dict[str, str] = {}
    for path in cfg.writable_mounts:
        base = volume = re.sub(r"[^A-Za-z0-9]+", "-", path.strip("/"))
        while volume in volumes:  # /var/run and /var-run
            volume = f"{base}-{len(volumes)}"
        volumes[volume] = path
    return volumes


def _container_definitions(
    cfg: ServiceConfig,
    region: str,
    image: pulumi.Output[str],
    log_group: pulumi.Output[str],
    environment: Mapping[str, pulumi.Input[str]],
    secrets: list[dict],
    volumes: Mapping[str, str],
) -> pulumi.Output[str]:
    """The container definition JSON with every field ECS would fill in set explicitly, in a fixed order.

    ECS returns defaults (cpu 0, essential, hostPort, protocol, empty lists) and sorts
    nothing: writing them ourselves, and sorting environment and secrets by name, keeps
    a second `pulumi up` from showing a task-definition diff.
    """

    def render(values: list) -> str:
        image_uri, log_group_name, env_values, secret_values = values
        container: dict = {
            "name": cfg.name,
            "image": image_uri,
            "cpu": 0,
            "essential": True,
            "portMappings": [{"containerPort": cfg.port, "hostPort": cfg.port, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(zip(environment, env_values, strict=True))],
            "mountPoints": [
                {"sourceVolume": volume, "containerPath": path, "readOnly": False} for volume, path in volumes.items()
            ],
            "volumesFrom": [],
            "systemControls": [],
            "readonlyRootFilesystem": cfg.readonly_root_filesystem,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group_name,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": cfg.name,
                },
            },
        }
        if secret_values:
            names = [s["name"] for s in secrets]
            container["secrets"] = [
                {"name": n, "valueFrom": v} for n, v in sorted(zip(names, secret_values, strict=True))
            ]
        if cfg.command:
            container["command"] = cfg.command
        if cfg.container_health_check:
            check = cfg.container_health_check
            container["healthCheck"] = {
                "command": check.command,
                "interval": check.interval,
                "timeout": check.timeout,
                "retries": check.retries,
                "startPeriod": check.start_period,
            }
        if cfg.ecs_exec:
            # An init process reaps the SSM agent's children in exec sessions.
            container["linuxParameters"] = {"initProcessEnabled": True}
        return json.dumps([container])

    return pulumi.Output.all(
        image,
        log_group,
        pulumi.Output.all(*environment.values()),
        pulumi.Output.all(*[s["valueFrom"] for s in secrets]),
    ).apply(render)

"""What a service's tasks are: the log group, two roles and the task definition with its one container.

The execution role is what ECS uses to start a task: pull the service's own image, write its
own logs, read its declared secrets and environment files. The task role is the application's
own identity: nothing by default, the config's grants, ECS Exec channels when enabled, what the
database client adds (`rds-db:connect` with IAM authentication), and mounting its EFS volumes
through their access points.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import ServiceConfig
from components.contracts import DatabaseClient, FileSystemMount, SecretReference
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
    mounts: Mapping[str, FileSystemMount],
) -> Task:
    """The log group, the execution and task roles, and the task definition of one service.

    `mounts` are the file systems of the service's `volumes`, by volume name.
    """
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=naming.path(f"services/{cfg.name}"),
        retention_in_days=cfg.log_retention_days,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    secrets = _secret_references(cfg, database.secrets if database else (), account)
    execution_role, execution_policy = _execution_role(parent, name, cfg, naming, account, image, log_group, secrets)
    extra = [*(database.task_statements if database else ()), *_mount_statements(cfg, mounts)]
    task_role = _task_role(parent, name, cfg, naming, account, extra)
    volumes = cfg.writable_volumes
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
        volumes=[{"name": volume} for volume in volumes] + [_efs_volume(v.name, mounts[v.name]) for v in cfg.volumes],
        container_definitions=_container_definitions(
            cfg, account, image.uri, log_group.name, environment, secrets, volumes
        ),
        # The opt-out from a read-only root filesystem and its reason, where the pack can read it.
        tags={"WritableRootFilesystem": cfg.writable_root_reason} if cfg.writable_root_reason else None,
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
        return result + _environment_file_statements(cfg, account)

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


def _environment_file_statements(cfg: ServiceConfig, account: Account) -> list[dict]:
    """The execution role reads exactly the configured environment files, decrypting them through S3 only.

    ECS fetches them with the execution role: `s3:GetObject` on each object and
    `s3:GetBucketLocation` on its bucket ("Amazon ECS task execution IAM role", Amazon S3 file
    storage permissions). With SSE-KMS, S3 decrypts with the caller's permission and names the
    object (or, with an S3 Bucket Key, the bucket) in the encryption context `aws:s3:arn`
    ("Using server-side encryption with AWS KMS keys (SSE-KMS)", Amazon S3 User Guide).
    """
    if not cfg.environment_files:
        return []
    objects = [_s3_arn(account, f"{bucket}/{key}") for bucket, key in cfg.environment_file_objects]
    buckets = sorted({_s3_arn(account, bucket) for bucket, _ in cfg.environment_file_objects})
    statements = [
        allow("ReadEnvironmentFiles", "s3:GetObject", objects),
        allow("LocateEnvironmentFileBuckets", "s3:GetBucketLocation", buckets),
    ]
    if cfg.environment_files_kms_keys:
        condition = {
            "StringEquals": {
                "kms:ViaService": f"s3.{account.region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": [*objects, *buckets],
            }
        }
        statements.append(
            allow(
                "DecryptEnvironmentFiles",
                "kms:Decrypt",
                sorted(set(cfg.environment_files_kms_keys)),
                condition=condition,
            )
        )
    return statements


def _s3_arn(account: Account, resource: str) -> str:
    return account.arn("s3", resource, region="", account="")


def _mount_statements(cfg: ServiceConfig, mounts: Mapping[str, FileSystemMount]) -> list[dict]:
    """Mount each volume's file system through its access point only; write unless the volume is read-only.

    With IAM authorization the task mounts as the task role, and `elasticfilesystem:AccessPointArn`
    is the access point it connects through (Service Authorization Reference, Amazon EFS; "Using
    IAM to control file system data access", EFS User Guide). ClientRootAccess is never granted:
    the access point's POSIX user is what the task writes as.
    """
    statements = []
    for volume in cfg.volumes:
        mount = mounts[volume.name]
        actions = ["elasticfilesystem:ClientMount"]
        if not volume.read_only:
            actions.append("elasticfilesystem:ClientWrite")
        sid = "MountVolume" + "".join(part.title() for part in volume.name.split("-"))
        # An ARN-typed key, so the ARN operator (Service Authorization Reference, Amazon EFS, condition keys).
        condition = {"ArnEquals": {"elasticfilesystem:AccessPointArn": mount.access_point_arn}}
        statements.append(allow(sid, actions, mount.file_system_arn, condition=condition))
    return statements


def _efs_volume(name: str, mount: FileSystemMount) -> dict[str, Any]:
    """A task definition volume of an EFS file system, mounted with TLS and the task role through the access point.

    An access point or IAM authorization needs transit encryption, and with an access point the
    root directory must be "/" (ECS API Reference, EFSAuthorizationConfig); Fargate mounts EFS
    from platform version 1.4.0, which LATEST is ("Fargate platform versions for Amazon ECS").
    """
    return {
        "name": name,
        "efs_volume_configuration": {
            "file_system_id": mount.file_system_id,
            "root_directory": "/",
            "transit_encryption": "ENABLED",
            "authorization_config": {"access_point_id": mount.access_point_id, "iam": "ENABLED"},
        },
    }


def _container_definitions(
    cfg: ServiceConfig,
    account: Account,
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
        ports = [cfg.port] if cfg.admin_port is None else [cfg.port, cfg.admin_port]
        container: dict = {
            "name": cfg.name,
            "image": image_uri,
            "cpu": 0,
            "essential": True,
            # The admin port is mapped for the security group's named sources only: no target
            # group registers it (the ECS service's load balancer names `port`).
            "portMappings": [{"containerPort": p, "hostPort": p, "protocol": "tcp"} for p in ports],
            "environment": [{"name": k, "value": v} for k, v in sorted(zip(environment, env_values, strict=True))],
            "mountPoints": [
                {"sourceVolume": volume, "containerPath": path, "readOnly": False} for volume, path in volumes.items()
            ]
            + [
                {"sourceVolume": v.name, "containerPath": v.container_path, "readOnly": v.read_only}
                for v in cfg.volumes
            ],
            "volumesFrom": [],
            "systemControls": [],
            "readonlyRootFilesystem": cfg.readonly_root_filesystem,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group_name,
                    "awslogs-region": account.region,
                    "awslogs-stream-prefix": cfg.name,
                },
            },
        }
        if secret_values:
            names = [s["name"] for s in secrets]
            container["secrets"] = [
                {"name": n, "valueFrom": v} for n, v in sorted(zip(names, secret_values, strict=True))
            ]
        if cfg.environment_files:
            # In config order: ECS applies them top down, and `environment` wins over all.
            container["environmentFiles"] = [
                {"value": _s3_arn(account, f"{bucket}/{key}"), "type": "s3"}
                for bucket, key in cfg.environment_file_objects
            ]
        if cfg.user:
            container["user"] = cfg.user
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

"""One Fargate service, built from one entry of the `services` list in the stack config.

Read top to bottom, a service is: where its image comes from (an ECR repository of its own,
or an external image), a log group, two IAM roles (execution: pull, log, read declared
secrets; task: only what the config grants), a task definition, a security group, the load
balancer route (public services) or only a Cloud Map name (internal services), the ECS
service itself, autoscaling, and alarms to the environment's topic.

Other components extend a service without touching this file through `ServiceArgs`:
`extra_environment` (values may be Outputs) and `extra_secrets` (Secrets Manager
references, e.g. the database's managed password) reach the container definition and the
execution role the same way configured ones do; `extra_task_statements` (IAM statements
whose values may be Outputs, e.g. the database's `rds-db:connect`) join the task role's
policy next to the configured grants.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.account import current_account, trust_policy
from components.cluster import Cluster
from components.config import MonitoringConfig, ServiceConfig
from components.naming import Naming

# ECS Exec opens these Session Manager channels; AWS does not scope them to a resource.
_ECS_EXEC_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]
_ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
# The pipeline's Release step adds `deployed-<tag>` to each image it deployed (components/pipeline.py);
# the repository's lifecycle policy keeps those apart from the images every commit pushes.
DEPLOYED_TAG_PREFIX = "deployed-"


@dataclass(frozen=True)
class SecretReference:
    """A Secrets Manager secret (or one JSON key of it) handed to the container as environment variable `name`."""

    name: str
    secret_arn: pulumi.Input[str]
    json_key: str | None = None
    # The customer-managed key the secret is encrypted with, if any: the execution role may
    # decrypt with it, through Secrets Manager only.
    kms_key_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class ServiceArgs:
    config: ServiceConfig
    naming: Naming
    region: str
    cluster: Cluster
    monitoring: MonitoringConfig
    alarm_topic_arn: pulumi.Input[str]
    listener_priority: int | None = None  # public services: the rule's place on the shared listener
    extra_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    extra_secrets: Sequence[SecretReference] = ()
    extra_task_statements: Sequence[Mapping[str, Any]] = ()


class Service(pulumi.ComponentResource):
    """A Fargate service with its image source, roles, task definition, routing, scaling and alarms."""

    name: str
    container_name: str
    container_port: int
    cpu_architecture: str  # "X86_64" or "ARM64", as ECS and CodeBuild spell it
    public: bool
    repository_name: pulumi.Output[str] | None
    repository_arn: pulumi.Output[str] | None
    repository_url: pulumi.Output[str] | None
    image_parameter_name: pulumi.Output[str] | None  # set when a pipeline owns the image
    image_parameter_arn: pulumi.Output[str] | None
    image: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    execution_role_name: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    task_role_name: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_definition_family: str
    security_group_id: pulumi.Output[str]
    target_group_arn: pulumi.Output[str] | None
    target_group_arn_suffix: pulumi.Output[str] | None
    service_name: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    discovery_name: str
    url: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:service:Service", name, None, opts)
        cfg, naming, cluster = args.config, args.naming, args.cluster
        self.name = cfg.name
        self.container_name = cfg.name
        self.container_port = cfg.port
        self.cpu_architecture = {"x86_64": "X86_64", "arm64": "ARM64"}[cfg.architecture]
        self.public = cfg.public
        self.cluster_name = cluster.cluster_name
        self.discovery_name = f"{cfg.name}.{cluster.namespace_name}"
        account = current_account(self)
        self._account, self._partition = account.id, account.partition
        self._region = args.region

        self._image(name, args)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=naming.path(f"services/{cfg.name}"),
            retention_in_days=cfg.log_retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.log_group_name, self.log_group_arn = log_group.name, log_group.arn

        secrets = self._secret_references(cfg, args.extra_secrets)
        execution_role, execution_policy = self._execution_role(name, args, secrets)
        task_role = self._task_role(name, args)

        volumes = self._writable_volumes(cfg)
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=naming.name(cfg.name),
            cpu=str(cfg.cpu),
            memory=str(cfg.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": self.cpu_architecture},
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            # No host: on Fargate each is a bind mount on the task's ephemeral storage, empty at
            # start, owned by root with mode 0755 unless the image declares the path as a VOLUME
            # (ECS developer guide, "Use bind mounts with Amazon ECS").
            volumes=[{"name": volume} for volume in volumes],
            container_definitions=self._container_definitions(args, secrets, volumes),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.task_definition_arn = task_definition.arn
        self.task_definition_family = naming.name(cfg.name)

        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=naming.prefix(f"svc-{cfg.name}", "security_group"),
            description=f"Service {cfg.name}: container port from the load balancer and named services only",
            vpc_id=cluster.network.vpc_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group_id = sg.id
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=sg.id,
            description="Outbound: image pulls, AWS APIs, database, other services",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=pulumi.ResourceOptions(parent=sg),
        )

        load_balancers, depends_on = [], [execution_policy]
        self.target_group_arn = self.target_group_arn_suffix = None
        if cfg.public:
            target_group, rule = self._route(name, args, sg)
            self.target_group_arn, self.target_group_arn_suffix = target_group.arn, target_group.arn_suffix
            load_balancers = [
                {"target_group_arn": target_group.arn, "container_name": cfg.name, "container_port": cfg.port}
            ]
            # ECS refuses a target group that no listener uses yet.
            depends_on.append(rule)

        discovery = aws.servicediscovery.Service(
            f"{name}-discovery",
            name=cfg.name,
            dns_config={
                "namespace_id": cluster.namespace_id,
                "routing_policy": "MULTIVALUE",
                "dns_records": [{"ttl": 10, "type": "A"}],
            },
            # ECS reports task health to Cloud Map, so DNS answers with healthy tasks only. The
            # threshold must be stated: the provider sends the block only when it is not 0, and the
            # block forces replacement, so an empty one would replace the service on every
            # `pulumi up` (terraform-provider-aws issue #44285). AWS keeps it at 1 anyway (Cloud Map
            # API Reference, HealthCheckCustomConfig); the provider's deprecation warning is expected.
            health_check_custom_config={"failure_threshold": 1},
            force_destroy=True,  # instances are ECS's to register and remove
            opts=pulumi.ResourceOptions(parent=self),
        )

        single = cfg.initial_count <= 1
        service = aws.ecs.Service(
            f"{name}",
            cluster=cluster.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=cfg.initial_count,
            capacity_provider_strategies=cluster.capacity_provider_strategy_for(cfg.architecture),
            # The provider refuses to change the strategy of an existing service without a forced
            # deployment (terraform-provider-aws, ecs_service: "Updating this argument requires
            # force_new_deployment = true"); the strategy follows config (cluster providers,
            # architecture), so every service may see it change.
            force_new_deployment=True,
            platform_version="LATEST",
            network_configuration={
                "subnets": cluster.network.private_subnet_ids,
                "security_groups": [sg.id],
                "assign_public_ip": False,
            },
            load_balancers=load_balancers,
            health_check_grace_period_seconds=cfg.health_check_grace_period if cfg.public else None,
            service_registries={"registry_arn": discovery.arn},
            deployment_circuit_breaker={"enable": True, "rollback": True},
            # One task: start the new one before stopping the old (no gap). More: replace half at a time.
            deployment_minimum_healthy_percent=100 if single else 50,
            deployment_maximum_percent=200,
            enable_execute_command=cfg.ecs_exec,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                # The autoscaler owns the running count; `pulumi up` must not reset it.
                ignore_changes=["desiredCount"] if cfg.autoscaling else None,
            ),
        )
        self.service_name = service.name
        if cfg.autoscaling:
            self._autoscaling(name, args, target_group if cfg.public else None)
        self._alarms(name, args)

        if cfg.public:
            self.url = self._public_url(cfg, cluster)
        else:
            self.url = pulumi.Output.from_input(f"http://{self.discovery_name}:{cfg.port}")
        self.register_outputs(
            {
                "serviceName": self.service_name,
                "url": self.url,
                "repositoryUrl": self.repository_url,
                "logGroupName": self.log_group_name,
                "securityGroupId": self.security_group_id,
            }
        )

    def allow_from(self, source: str, security_group_id: pulumi.Input[str]) -> None:
        """Lets the tasks of another service (or any security group) reach this service's container port."""
        aws.vpc.SecurityGroupIngressRule(
            f"{self.name}-from-{source}",
            security_group_id=self.security_group_id,
            description=f"Container port from {source}",
            ip_protocol="tcp",
            from_port=self.container_port,
            to_port=self.container_port,
            referenced_security_group_id=security_group_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

    # --- image ---------------------------------------------------------------------

    def _image(self, name: str, args: ServiceArgs) -> None:
        cfg = args.config
        self.repository_name = self.repository_arn = self.repository_url = None
        self.image_parameter_name = self.image_parameter_arn = None
        if cfg.repository is None:
            assert cfg.image is not None
            self.image = pulumi.Output.from_input(cfg.image)
            return
        repo_cfg = cfg.repository
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.naming.name(cfg.name, "ecr_repository", lowercase=True),
            image_tag_mutability="IMMUTABLE" if repo_cfg.immutable_tags else "MUTABLE",
            image_scanning_configuration={"scan_on_push": repo_cfg.scan_on_push},
            encryption_configurations=[{"encryption_type": "AES256"}],
            # On: `pulumi destroy` removes the repository even with images in it. Production
            # turns it off to keep its images (the pack's ecr-retain-images policy).
            force_delete=repo_cfg.force_delete,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-repository",
            repository=repository.name,
            policy=json.dumps({"rules": self._lifecycle_rules(cfg)}),
            opts=pulumi.ResourceOptions(parent=repository),
        )
        self.repository_name, self.repository_arn = repository.name, repository.arn
        self.repository_url = repository.repository_url
        self.image = pulumi.Output.concat(repository.repository_url, ":", repo_cfg.tag)
        if cfg.pipeline_enabled:
            self._pipeline_image(name, args)

    @staticmethod
    def _lifecycle_rules(cfg: ServiceConfig) -> list[dict]:
        """Keep the last `keepImages` images; with a pipeline, also never expire its last deployed ones.

        A pipeline pushes an image per commit, before any approval: counted with them, the running
        image and its rollback target would expire after `keepImages` unapproved builds and the
        next task start could not pull. In ECR's evaluation "an image that matches the tagging
        requirements of a rule cannot be expired by a rule with a lower priority", and the `any`
        rule must come last (ECR User Guide, "Lifecycle policies" and "Lifecycle policy
        properties"): the `deployed-` images answer to their own count only. Counts follow push
        time, so a rollback to an older image keeps it for as long as its build is among the last.
        """
        keep = cfg.repository.keep_images
        every = {
            "description": f"Keep the last {keep} images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
            "action": {"type": "expire"},
        }
        if not cfg.pipeline_enabled:
            return [{"rulePriority": 1, **every}]
        deployed = {
            "rulePriority": 1,
            "description": f"Keep the last {keep} deployed images",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": [DEPLOYED_TAG_PREFIX],
                "countType": "imageCountMoreThan",
                "countNumber": keep,
            },
            "action": {"type": "expire"},
        }
        return [deployed, {"rulePriority": 2, **every}]

    def _pipeline_image(self, name: str, args: ServiceArgs) -> None:
        """The image of a pipeline-owned service: what the pipeline last deployed, read live from SSM.

        The configured tag only seeds the parameter; the pipeline's Release action overwrites it
        after each successful deployment, and Pulumi never writes it again. So `pulumi up`
        renders the task definition with the running image (no rollback) and still rolls out
        every other change (README, "Pulumi and the pipeline share the running image").
        """
        parameter = aws.ssm.Parameter(
            f"{name}-image",
            name=args.naming.path(f"{args.config.name}/image"),
            type="String",
            description=f"Image the {args.config.name} service runs; written by its pipeline after each deployment",
            insecure_value=self.image,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["insecureValue"]),
        )
        self.image_parameter_name, self.image_parameter_arn = parameter.name, parameter.arn
        self.image = aws.ssm.get_parameter_output(
            name=parameter.name,
            with_decryption=False,
            # Read after the parameter exists, every deployment: the value at deploy time, not at creation.
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[parameter]),
        ).insecure_value

    # --- secrets and roles ---------------------------------------------------------

    def _secret_references(self, cfg: ServiceConfig, extra: Sequence[SecretReference]) -> list[dict]:
        """Every secret of the container as {name, valueFrom, resource, kind, kmsKey}; values are never read."""
        refs: list[dict] = []
        for env_name, ref in cfg.secrets.items():
            if ref.startswith("arn:") and ":secretsmanager:" in ref:
                base = ":".join(ref.split(":")[:7])
                refs.append({"name": env_name, "valueFrom": ref, "resource": base, "kind": "secretsmanager"})
            else:
                arn = ref if ref.startswith("arn:") else self._parameter_arn(ref)
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

    def _parameter_arn(self, name: str) -> str:
        path = name if name.startswith("/") else f"/{name}"
        return f"arn:{self._partition}:ssm:{self._region}:{self._account}:parameter{path}"

    def _task_trust_policy(self) -> str:
        # Only ECS tasks of this account and region: the keys the ECS Developer Guide documents for
        # the task role ("Amazon ECS task IAM role", confused deputy).
        return trust_policy(
            "ecs-tasks.amazonaws.com", self._account, f"arn:{self._partition}:ecs:{self._region}:{self._account}:*"
        )

    def _execution_role(self, name: str, args: ServiceArgs, secrets: list[dict]):
        """The role ECS uses to start the task: pull its own image, write its own logs, read its declared secrets."""
        cfg = args.config
        role = aws.iam.Role(
            f"{name}-execution",
            name_prefix=args.naming.prefix(f"{cfg.name}-exec", "iam_role_prefix"),
            description=f"ECS starts tasks of {cfg.name}: image pull, logs, declared secrets",
            # The trust policy "Amazon ECS task execution IAM role" (ECS Developer Guide) documents:
            # AWS does not document aws:SourceAccount/aws:SourceArn being sent when ECS assumes the
            # execution role, and a condition it does not meet would keep every task from starting.
            # Who may name the role in a task definition is still held by iam:PassRole.
            assume_role_policy=trust_policy("ecs-tasks.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.execution_role_arn, self.execution_role_name = role.arn, role.name
        kms_keys = [*cfg.secrets_kms_keys, *(s["kmsKey"] for s in secrets if s.get("kmsKey") is not None)]
        via = sorted({f"{s['kind']}.{self._region}.amazonaws.com" for s in secrets})

        def document(values: list) -> str:
            repo_arn, log_group_arn, resources, keys = values
            statements: list[dict] = []
            if repo_arn:
                statements += [
                    # Docker login to ECR: an account-wide token, AWS offers no resource to scope it to.
                    {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                    {"Sid": "PullOwnImage", "Effect": "Allow", "Action": _ECR_PULL_ACTIONS, "Resource": repo_arn},
                ]
            statements.append(
                {
                    "Sid": "WriteOwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:log-stream:*",
                }
            )
            by_kind = {"secretsmanager": "secretsmanager:GetSecretValue", "ssm": "ssm:GetParameters"}
            for kind, action in by_kind.items():
                arns = sorted({arn for arn, k in resources if k == kind})
                if arns:
                    sid = "ReadDeclaredSecrets" if kind == "secretsmanager" else "ReadDeclaredParameters"
                    statements.append({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": arns})
            if keys:
                statements.append(
                    {
                        "Sid": "DecryptDeclaredSecrets",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": sorted(set(keys)),
                        "Condition": {"StringEquals": {"kms:ViaService": via}},
                    }
                )
            return json.dumps({"Version": "2012-10-17", "Statement": statements})

        policy = aws.iam.RolePolicy(
            f"{name}-execution",
            role=role.id,
            policy=pulumi.Output.all(
                self.repository_arn,
                self.log_group_arn,
                pulumi.Output.all(*[pulumi.Output.all(s["resource"], s["kind"]) for s in secrets]),
                pulumi.Output.all(*kms_keys),
            ).apply(document),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role, policy

    def _task_role(self, name: str, args: ServiceArgs) -> aws.iam.Role:
        """The application's own identity: nothing by default, config grants, ECS Exec channels when enabled."""
        cfg = args.config
        role = aws.iam.Role(
            f"{name}-task",
            name_prefix=args.naming.prefix(f"{cfg.name}-task", "iam_role_prefix"),
            description=f"The application in tasks of {cfg.name}",
            assume_role_policy=self._task_trust_policy(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.task_role_arn, self.task_role_name = role.arn, role.name
        statements = [
            {"Sid": f"Grant{i}", "Effect": "Allow", "Action": grant.actions, "Resource": grant.resources}
            for i, grant in enumerate(cfg.permissions)
        ]
        if cfg.ecs_exec:
            # Session Manager channels are not resource-scoped in IAM.
            statements.append({"Sid": "EcsExec", "Effect": "Allow", "Action": _ECS_EXEC_ACTIONS, "Resource": "*"})
        statements += [dict(statement) for statement in args.extra_task_statements]
        if statements:
            aws.iam.RolePolicy(
                f"{name}-task",
                role=role.id,
                policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
                opts=pulumi.ResourceOptions(parent=role),
            )
        return role

    # --- task definition -------------------------------------------------------------

    @staticmethod
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
        self, args: ServiceArgs, secrets: list[dict], volumes: Mapping[str, str]
    ) -> pulumi.Output[str]:
        """The container definition JSON with every field ECS would fill in set explicitly, in a fixed order.

        ECS returns defaults (cpu 0, essential, hostPort, protocol, empty lists) and sorts
        nothing: writing them ourselves, and sorting environment and secrets by name, keeps
        a second `pulumi up` from showing a task-definition diff.
        """
        cfg = args.config
        environment = {**cfg.environment, **args.extra_environment}

        def render(values: list) -> str:
            image, log_group, env_values, secret_values = values
            container: dict = {
                "name": cfg.name,
                "image": image,
                "cpu": 0,
                "essential": True,
                "portMappings": [{"containerPort": cfg.port, "hostPort": cfg.port, "protocol": "tcp"}],
                "environment": [{"name": k, "value": v} for k, v in sorted(zip(environment, env_values, strict=True))],
                "mountPoints": [
                    {"sourceVolume": volume, "containerPath": path, "readOnly": False}
                    for volume, path in volumes.items()
                ],
                "volumesFrom": [],
                "systemControls": [],
                "readonlyRootFilesystem": cfg.readonly_root_filesystem,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group,
                        "awslogs-region": args.region,
                        "awslogs-stream-prefix": cfg.name,
                    },
                },
            }
            if secret_values:
                container["secrets"] = [
                    {"name": n, "valueFrom": v}
                    for n, v in sorted(zip([s["name"] for s in secrets], secret_values, strict=True))
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
            self.image,
            self.log_group_name,
            pulumi.Output.all(*environment.values()),
            pulumi.Output.all(*[s["valueFrom"] for s in secrets]),
        ).apply(render)

    # --- routing -----------------------------------------------------------------------

    def _route(self, name: str, args: ServiceArgs, sg: aws.ec2.SecurityGroup):
        """Target group, listener rule and the two security-group rules between ALB and tasks."""
        cfg, cluster = args.config, args.cluster
        check = cfg.health_check
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-alb",
            security_group_id=sg.id,
            description="Container port from the shared load balancer",
            ip_protocol="tcp",
            from_port=cfg.port,
            to_port=cfg.port,
            referenced_security_group_id=cluster.alb_security_group_id,
            opts=pulumi.ResourceOptions(parent=sg),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-{cfg.name}",
            security_group_id=cluster.alb_security_group_id,
            description=f"To service {cfg.name} on its container port",
            ip_protocol="tcp",
            from_port=cfg.port,
            to_port=cfg.port,
            referenced_security_group_id=sg.id,
            opts=pulumi.ResourceOptions(parent=sg),
        )
        # Auto-named (no `name`): a port change replaces the group, and create-before-delete needs a new name.
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            target_type="ip",
            protocol="HTTP",
            protocol_version="HTTP1",
            port=cfg.port,
            vpc_id=cluster.network.vpc_id,
            deregistration_delay=30,
            health_check={
                "enabled": True,
                "protocol": "HTTP",
                "port": "traffic-port",
                "path": check.path,
                "matcher": check.matcher,
                "interval": check.interval,
                "timeout": check.timeout,
                "healthy_threshold": check.healthy_threshold,
                "unhealthy_threshold": check.unhealthy_threshold,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        rule_cfg = cfg.rule
        conditions = []
        if rule_cfg.hosts:
            conditions.append({"host_header": {"values": rule_cfg.hosts}})
        conditions.append({"path_pattern": {"values": rule_cfg.paths or ["/*"]}})
        rule = aws.lb.ListenerRule(
            f"{name}-rule",
            listener_arn=cluster.listener_arn,
            priority=args.listener_priority,
            actions=[{"type": "forward", "target_group_arn": target_group.arn}],
            conditions=conditions,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return target_group, rule

    def _public_url(self, cfg: ServiceConfig, cluster: Cluster) -> pulumi.Output[str]:
        rule = cfg.rule
        path = (rule.paths[0] if rule.paths else "/").rstrip("*?") or "/"
        host = next((h for h in rule.hosts if "*" not in h), None)
        return pulumi.Output.concat(f"{cluster.scheme}://", host or cluster.alb_dns_name, path)

    # --- scaling and alarms -----------------------------------------------------------

    def _autoscaling(self, name: str, args: ServiceArgs, target_group: aws.lb.TargetGroup | None) -> None:
        scaling = args.config.autoscaling
        assert scaling is not None
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster_name, "/", self.service_name),
            min_capacity=scaling.min_tasks,
            max_capacity=scaling.max_tasks,
            opts=pulumi.ResourceOptions(parent=self),
        )
        policies: dict[str, dict] = {}
        if scaling.cpu_target is not None:
            policies["cpu"] = {
                "target_value": scaling.cpu_target,
                "predefined_metric_specification": {"predefined_metric_type": "ECSServiceAverageCPUUtilization"},
            }
        if scaling.requests_per_target is not None and target_group is not None:
            policies["requests"] = {
                "target_value": scaling.requests_per_target,
                "predefined_metric_specification": {
                    "predefined_metric_type": "ALBRequestCountPerTarget",
                    "resource_label": pulumi.Output.concat(args.cluster.alb_arn_suffix, "/", target_group.arn_suffix),
                },
            }
        for metric, tracking in policies.items():
            aws.appautoscaling.Policy(
                f"{name}-scale-on-{metric}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={
                    **tracking,
                    "scale_in_cooldown": scaling.scale_in_cooldown,
                    "scale_out_cooldown": scaling.scale_out_cooldown,
                },
                opts=pulumi.ResourceOptions(parent=target),
            )

    def _alarms(self, name: str, args: ServiceArgs) -> None:
        """CPU and memory high for every service; target 5xx and unhealthy tasks for public ones."""
        cfg, mon, naming = args.config, args.monitoring, args.naming
        ecs = {"ClusterName": self.cluster_name, "ServiceName": self.service_name}
        # name: (namespace, metric, statistic, threshold, dimensions, what it means)
        alarms = {
            "cpu-high": ("AWS/ECS", "CPUUtilization", "Average", mon.cpu_high_percent, ecs, "CPU above {t}%"),
            "memory-high": (
                "AWS/ECS", "MemoryUtilization", "Average", mon.memory_high_percent, ecs, "memory above {t}%",
            ),
        }  # fmt: skip
        if self.target_group_arn_suffix is not None:
            alb = {"LoadBalancer": args.cluster.alb_arn_suffix, "TargetGroup": self.target_group_arn_suffix}
            alarms["target-5xx"] = (
                "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", mon.target_5xx_per_minute, alb,
                "{t} or more 5xx responses a minute",
            )  # fmt: skip
            alarms["unhealthy-tasks"] = (
                "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", 1, alb,
                "{t} or more tasks failing health checks",
            )  # fmt: skip
        for alarm, (namespace, metric, statistic, threshold, dimensions, what) in alarms.items():
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm}",
                name=naming.name(f"{cfg.name}-{alarm}"),
                alarm_description=f"{cfg.name}: {what.format(t=threshold)} for {mon.evaluation_minutes} minutes",
                namespace=namespace,
                metric_name=metric,
                statistic=statistic,
                dimensions=dimensions,
                period=60,
                evaluation_periods=mon.evaluation_minutes,
                threshold=threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[args.alarm_topic_arn],
                ok_actions=[args.alarm_topic_arn],
                opts=pulumi.ResourceOptions(parent=self),
            )

"""One Fargate service, built from one entry of the `services` list in the stack config.

Read top to bottom, a service is: where its image comes from (`image.py`: an ECR repository
of its own, or an external image), a security group, the EFS file systems of its volumes
(`components/efs.py`: created for it, or existing ones), its log group, roles and task
definition (`task.py`), the load balancer route (public services) and its Cloud Map name
(`routing.py`), the ECS service itself, autoscaling (`scaling.py`), and alarms to the
environment's topic (`alarms.py`).

It builds on the network and the cluster through their contracts (`NetworkRefs`,
`ClusterRefs`), which may come from this stack or from another one's outputs. A
`DatabaseClient` adds the database's environment, secrets and task-role statements to the
container and the roles the same way configured ones are. In return the service offers its
`refs` (the dashboard, the rotation redeploy) and, when a pipeline owns its image, its
`delivery_target`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import MonitoringConfig, ServiceConfig, posix_ids
from components.contracts import ClusterRefs, DatabaseClient, DeliveryTarget, FileSystemMount, NetworkRefs, ServiceRefs
from components.efs import FileSystem, FileSystemArgs, existing_mount
from components.naming import Naming
from components.service.alarms import alarms
from components.service.image import image
from components.service.routing import discovery, route, url
from components.service.scaling import autoscale
from components.service.task import task


@dataclass(frozen=True)
class ServiceArgs:
    config: ServiceConfig
    naming: Naming
    account: Account
    network: NetworkRefs  # the VPC and the private subnets the tasks run in
    cluster: ClusterRefs
    monitoring: MonitoringConfig  # the alarms' thresholds
    alarm_topic_arn: pulumi.Input[str]
    listener_priority: int | None = None  # public services: the rule's place on the shared listener
    database: DatabaseClient | None = None  # how it reaches the database, if it does


class Service(pulumi.ComponentResource):
    """A Fargate service with its image source, roles, task definition, routing, scaling and alarms."""

    name: str
    security_group: aws.ec2.SecurityGroup  # the tasks'; others are let in through `allow_from`
    url: pulumi.Output[str]
    repository_url: pulumi.Output[str] | None
    log_group_name: pulumi.Output[str]
    refs: ServiceRefs
    delivery_target: DeliveryTarget | None  # set when a pipeline owns the image
    file_system_ids: dict[str, pulumi.Output[str]]  # volume name -> the EFS file system it mounts

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:service:Service", name, None, opts)
        cfg, naming, network, cluster = args.config, args.naming, args.network, args.cluster
        self.name = cfg.name
        self._port = cfg.port
        self._admin_port = cfg.admin_port

        source = image(self, name, cfg, naming)
        self.security_group = sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=naming.prefix(f"svc-{cfg.name}", "security_group"),
            description=f"Service {cfg.name}: container port from the load balancer and named services only",
            vpc_id=network.vpc_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        mounts = self._file_systems(name, args)
        tasks = task(self, name, cfg, naming, args.account, source, args.database, mounts)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=sg.id,
            description="Outbound: image pulls, AWS APIs, database, other services",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            opts=pulumi.ResourceOptions(parent=sg),
        )

        public = route(self, name, cfg, network, cluster, sg, args.listener_priority) if cfg.public else None
        registry = discovery(self, name, cfg, cluster)
        single = cfg.initial_count <= 1
        service = aws.ecs.Service(
            f"{name}",
            cluster=cluster.cluster_arn,
            task_definition=tasks.definition.arn,
            desired_count=cfg.initial_count,
            capacity_provider_strategies=cluster.capacity_provider_strategy(cfg.architecture),
            # The provider refuses to change the strategy of an existing service without a forced
            # deployment (terraform-provider-aws, ecs_service: "Updating this argument requires
            # force_new_deployment = true"); the strategy follows config (cluster providers,
            # architecture), so every service may see it change.
            force_new_deployment=True,
            platform_version="LATEST",
            network_configuration={
                "subnets": network.private_subnet_ids,
                "security_groups": [sg.id],
                "assign_public_ip": False,
            },
            load_balancers=(
                [{"target_group_arn": public.target_group.arn, "container_name": cfg.name, "container_port": cfg.port}]
                if public
                else []
            ),
            health_check_grace_period_seconds=cfg.health_check_grace_period if public else None,
            service_registries={"registry_arn": registry.arn},
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
                # Tasks start once they can: the execution role's permissions exist, the load
                # balancer's rule uses the target group, and every file system they mount has
                # its mount targets, NFS rule and policy.
                depends_on=[
                    tasks.execution_policy,
                    *([public.rule] if public else []),
                    *(resource for mount in mounts.values() for resource in mount.ready),
                ],
                # The autoscaler owns the running count; `pulumi up` must not reset it.
                ignore_changes=["desiredCount"] if cfg.autoscaling else None,
            ),
        )

        target_group_suffix = public.target_group.arn_suffix if public else None
        alb_metrics = {"LoadBalancer": cluster.alb_arn_suffix, "TargetGroup": target_group_suffix} if public else None
        if cfg.autoscaling:
            label = pulumi.Output.concat(cluster.alb_arn_suffix, "/", target_group_suffix) if public else None
            autoscale(self, name, cfg.autoscaling, cluster.cluster_name, service.name, label)
        ecs_metrics = {"ClusterName": cluster.cluster_name, "ServiceName": service.name}
        alarms(self, name, cfg.name, args.monitoring, naming, args.alarm_topic_arn, ecs_metrics, alb_metrics)

        self.url = url(cfg, cluster)
        self.repository_url = source.repository.repository_url if source.repository else None
        self.log_group_name = tasks.log_group.name
        self.refs = ServiceRefs(cfg.name, cluster.cluster_name, service.name, target_group_suffix)
        self.delivery_target = None
        if source.repository is not None and source.parameter is not None:
            self.delivery_target = DeliveryTarget(
                name=cfg.name,
                architecture=cfg.architecture,
                container_name=cfg.name,
                repository_name=source.repository.name,
                repository_arn=source.repository.arn,
                repository_url=source.repository.repository_url,
                cluster_name=cluster.cluster_name,
                service_name=service.name,
                task_role_arn=tasks.task_role.arn,
                execution_role_arn=tasks.execution_role.arn,
                task_definition_family=tasks.family,
                image_parameter_name=source.parameter.name,
                image_parameter_arn=source.parameter.arn,
            )
        self.register_outputs(
            {
                "serviceName": service.name,
                "url": self.url,
                "repositoryUrl": self.repository_url,
                "logGroupName": self.log_group_name,
                "securityGroupId": sg.id,
            }
        )

    @property
    def security_group_id(self) -> pulumi.Output[str]:
        return self.security_group.id

    def allow_from(self, source: str, security_group_id: pulumi.Input[str]) -> None:
        """Lets the tasks of another service (or any security group) reach this service's container port,
        and its admin port when it has one."""
        self._ingress(f"{self.name}-from-{source}", f"Container port from {source}", self._port, security_group_id)
        if self._admin_port is not None:
            self.allow_admin_from(source, security_group_id)

    def allow_admin_from(self, source: str, security_group_id: pulumi.Input[str]) -> None:
        """Lets one security group (another service's tasks, the bastion) reach the admin port; never a CIDR."""
        if self._admin_port is None:
            raise ValueError(f"service {self.name} has no admin port")
        self._ingress(
            f"{self.name}-admin-from-{source}", f"Admin port from {source}", self._admin_port, security_group_id
        )

    def _ingress(self, name: str, description: str, port: int, security_group_id: pulumi.Input[str]) -> None:
        aws.vpc.SecurityGroupIngressRule(
            name,
            security_group_id=self.security_group.id,
            description=description,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=security_group_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _file_systems(self, name: str, args: ServiceArgs) -> dict[str, FileSystemMount]:
        """The file system of each volume, by volume name: created for the service, or an existing one."""
        cfg = args.config
        mounts: dict[str, FileSystemMount] = {}
        for volume in cfg.volumes:
            if not volume.efs.creates:
                mounts[volume.name] = existing_mount(self, volume.efs, args.account)
                continue
            assert cfg.user is not None  # the config requires it with a created file system
            created = FileSystem(
                f"{name}-{volume.name}",
                FileSystemArgs(
                    volume.efs,
                    args.naming,
                    args.account,
                    args.network,
                    cfg.name,
                    volume.name,
                    self.security_group.id,
                    posix_ids(cfg.user),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            mounts[volume.name] = created.mount
        self.file_system_ids = {v: pulumi.Output.from_input(m.file_system_id) for v, m in mounts.items()}
        return mounts

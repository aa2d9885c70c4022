"""How requests reach a service: the shared load balancer's listener rule and target group (public
services), its Cloud Map name (every service), and the URL that results.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ServiceConfig
from components.contracts import ClusterRefs, NetworkRefs


@dataclass(frozen=True)
class Route:
    target_group: aws.lb.TargetGroup
    rule: aws.lb.ListenerRule  # ECS refuses a target group that no listener uses yet


def route(
    parent: pulumi.Resource,
    name: str,
    cfg: ServiceConfig,
    network: NetworkRefs,
    cluster: ClusterRefs,
    security_group: aws.ec2.SecurityGroup,
    priority: int | None,
) -> Route:
    """The container port open to the load balancer, a target group, and a rule at `priority` on the listener.

    The load balancer's way out to the tasks is the cluster's to open (`Cluster.allow_to`).
    """
    check = cfg.health_check
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-from-alb",
        security_group_id=security_group.id,
        description="Container port from the shared load balancer",
        ip_protocol="tcp",
        from_port=cfg.port,
        to_port=cfg.port,
        referenced_security_group_id=cluster.alb_security_group_id,
        opts=pulumi.ResourceOptions(parent=security_group),
    )
    # Auto-named (no `name`): a port change replaces the group, and create-before-delete needs a new name.
    target_group = aws.lb.TargetGroup(
        f"{name}-tg",
        target_type="ip",
        protocol="HTTP",
        protocol_version="HTTP1",
        port=cfg.port,
        vpc_id=network.vpc_id,
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
        opts=pulumi.ResourceOptions(parent=parent),
    )
    conditions = []
    if cfg.rule.hosts:
        conditions.append({"host_header": {"values": cfg.rule.hosts}})
    conditions.append({"path_pattern": {"values": cfg.rule.paths or ["/*"]}})
    rule = aws.lb.ListenerRule(
        f"{name}-rule",
        listener_arn=cluster.listener_arn,
        priority=priority,
        actions=[{"type": "forward", "target_group_arn": target_group.arn}],
        conditions=conditions,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Route(target_group, rule)


def discovery(
    parent: pulumi.Resource, name: str, cfg: ServiceConfig, cluster: ClusterRefs
) -> aws.servicediscovery.Service:
    """The service's name in the cluster's Cloud Map namespace, answered with its healthy tasks."""
    return aws.servicediscovery.Service(
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
        opts=pulumi.ResourceOptions(parent=parent),
    )


def url(cfg: ServiceConfig, cluster: ClusterRefs) -> pulumi.Output[str]:
    """Public: the first plain host (else the ALB's name) and the first path. Internal: its Cloud Map name."""
    if not cfg.public:
        return pulumi.Output.concat("http://", cfg.name, ".", cluster.namespace_name, f":{cfg.port}")
    path = (cfg.rule.paths[0] if cfg.rule.paths else "/").rstrip("*?") or "/"
    host = next((h for h in cfg.rule.hosts if "*" not in h), None)
    return pulumi.Output.concat(cluster.url_scheme, "://", host or cluster.alb_dns_name, path)

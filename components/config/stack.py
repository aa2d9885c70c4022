"""StackConfig, everything one environment is built from, and the rules across its sections."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from components.config.access import DatabaseAccessConfig, db_user_problem
from components.config.base import Model, Problem, fail
from components.config.bastion import SSM_ENDPOINTS, BastionConfig
from components.config.cluster import ClusterConfig, in_zone
from components.config.database import DatabaseConfig
from components.config.iam import IamConfig
from components.config.listeners import listener_priorities, shadowed_rules
from components.config.monitoring import MonitoringConfig
from components.config.network import INTERFACE_ENDPOINTS, NetworkConfig
from components.config.service import ServiceConfig

# An AWS region code: eu-west-1, us-gov-west-1, us-isob-east-1 ...
REGION = r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d"


class StackConfig(Model):
    """Everything one environment is built from: `aws:region` and the `ecs-platform:*` sections."""

    region: str = Field(description="The AWS region of the environment, for example `eu-west-1`.")
    network: NetworkConfig = Field(
        description="The VPC: CIDR, availability zones, subnet tiers, NAT, interface endpoints and flow logs."
    )
    database: DatabaseConfig | None = Field(
        None, description="RDS for PostgreSQL; left out, the environment has no database."
    )
    bastion: BastionConfig = Field(BastionConfig(), description="The SSM-only bastion; off unless enabled.")
    cluster: ClusterConfig = Field(ClusterConfig(), description="The ECS cluster and the shared load balancer.")
    services: list[ServiceConfig] = Field([], description="The Fargate services of the environment, one per entry.")
    monitoring: MonitoringConfig = Field(MonitoringConfig(), description="Alarm topic and alarm thresholds.")
    iam: IamConfig = Field(IamConfig(), description="The permissions boundary of every IAM role of the environment.")

    @field_validator("region")
    @classmethod
    def _region_code(cls, region: str) -> str:
        if not re.fullmatch(REGION, region):
            raise ValueError("must be an AWS region code such as eu-west-1")
        return region

    @model_validator(mode="after")
    def _sections_fit_together(self) -> StackConfig:
        fail(
            [
                *service_problems(self),
                *bastion_problems(self),
                *database_client_problems(self),
                *endpoint_problems(self),
                *load_balancer_problems(self),
            ],
            "StackConfig",
        )
        return self


def load_balancer_problems(cfg: StackConfig) -> list[Problem]:
    """The internet-facing load balancer serves HTTPS, or the stack says it serves plain HTTP on purpose.

    A rule of the whole stack rather than of `loadBalancer`: a stack that leaves the section out
    gets the same answer as one that writes it without a certificate.
    """
    lb = cfg.cluster.load_balancer
    if lb.certificate is None and not lb.http_only:
        message = (
            "an internet-facing load balancer serves HTTPS: set certificate, or httpOnly: true to serve plain HTTP "
            "on purpose"
        )
        return [(("cluster", "load_balancer", "certificate"), message, None)]
    return []


def service_problems(cfg: StackConfig) -> list[Problem]:
    """Checks that span services (names, routes, priorities, references)."""
    problems: list[Problem] = []

    def problem(loc: tuple, message: str, value: Any) -> None:
        problems.append((("services", *loc), message, value))

    seen: dict[str, int] = {}
    claimed: dict[tuple[str, str], str] = {}
    priorities: dict[int, str] = {}
    rule_priorities = listener_priorities(cfg.services)
    # Public services whose rule is already reported (same route, same priority): a shadowing
    # report about them would only repeat that problem.
    reported: set[int] = set()
    for index, service in enumerate(cfg.services):
        if service.name in seen:
            problem(
                (index, "name"), f"{service.name} is already the name of services[{seen[service.name]}]", service.name
            )
        seen.setdefault(service.name, index)
        if (service.image is None) == (service.repository is None):
            problem(
                (index,),
                "set exactly one of image (an external image) or repository (an ECR repository for the service)",
                [key for key in ("image", "repository") if getattr(service, key) is not None],
            )
        for other in service.allow_from:
            if other == service.name or other not in {s.name for s in cfg.services}:
                problem((index, "allowFrom"), f"{other} is not another service of this stack", service.allow_from)
        if not service.public:
            continue
        for host, path in service.rule.claims():
            if (host, path) in claimed:
                where = "any host" if host == "*" else host
                problem(
                    (index, "routing"),
                    f"path {path} on {where} is already routed to {claimed[(host, path)]}",
                    service.rule.model_dump(exclude_none=True),
                )
                reported.add(index)
                break
            claimed[(host, path)] = service.name
        priority = rule_priorities[index]
        if priority in priorities:
            problem(
                (index, "routing", "priority"),
                f"{priority} is already the priority of {priorities[priority]}",
                priority,
            )
            reported.add(index)
        priorities.setdefault(priority, service.name)
        zone = cfg.cluster.load_balancer.hosted_zone
        cert = cfg.cluster.load_balancer.certificate
        for host in service.rule.hosts:
            if cert and cert.domain_name and not any(_covers(name, host) for name in cert.domains()):
                problem((index, "routing", "hosts"), f"{host} is not covered by the certificate", service.rule.hosts)
            if zone and not in_zone(host, zone.name):
                problem(
                    (index, "routing", "hosts"), f"{host} is not inside the hosted zone {zone.name}", service.rule.hosts
                )
    problems += shadowed_rules(cfg.services, reported)
    return problems


def _covers(cert_name: str, host: str) -> bool:
    if cert_name.startswith("*."):
        return host.count(".") == cert_name.count(".") and host.endswith(cert_name[1:])
    return cert_name == host


def endpoint_problems(cfg: StackConfig) -> list[Problem]:
    """With interface endpoints, tasks must reach every AWS service they need at start through them.

    Otherwise those calls still go through a NAT gateway, and the services stop starting
    tasks while it is down, which is what the endpoints are there to prevent.
    """
    endpoints = cfg.network.interface_endpoints
    if not endpoints:
        return []
    needed_by: dict[str, list[str]] = {}
    for service in cfg.services:
        for endpoint in service.endpoints_at_start:
            needed_by.setdefault(endpoint, []).append(service.name)
    missing = sorted((e for e in needed_by if e not in endpoints), key=INTERFACE_ENDPOINTS.index)
    if not missing:
        return []
    detail = "; ".join(f"{e} (needed by {', '.join(needed_by[e])})" for e in missing)
    return [
        (
            ("network", "interfaceEndpoints"),
            f"tasks reach these AWS services when they start and would still depend on a NAT gateway: add {detail}",
            endpoints,
        )
    ]


def database_client_problems(cfg: StackConfig) -> list[Problem]:
    """A service can only use the database the stack has, and IAM users must be valid and not the master."""
    problems: list[Problem] = []
    for i, service in enumerate(cfg.services):
        access = service.database
        if access is None:
            continue
        shown: Any = True if access == DatabaseAccessConfig() else access.model_dump(by_alias=True, exclude_none=True)
        if cfg.database is None:
            problems.append((("services", i, "database"), "the stack has no ecs-platform:database section", shown))
            continue
        user = service.database_user
        if user is None:
            continue
        where = ("services", i, "database", "user") if access.user else ("services", i, "database")
        problem = db_user_problem(user) if not access.user else None
        if problem:
            problems.append((where, f"the default user {user} (the service name): {problem}; set user", shown))
        elif user == cfg.database.master_username.lower():
            # Granting rds_iam to the master user would end its password login, the one way
            # in for administration through the bastion.
            problems.append(
                (where, f"{user} is the master user; IAM authentication needs a user of its own", access.user or shown)
            )
    return problems


def bastion_problems(cfg: StackConfig) -> list[Problem]:
    """The bastion's SSM agent needs a NAT gateway or instance, or all three SSM interface endpoints."""
    missing = [e for e in SSM_ENDPOINTS if e not in cfg.network.interface_endpoints]
    if cfg.bastion.enabled and cfg.network.nat_gateways == "none" and missing:
        return [
            (
                ("bastion", "enabled"),
                "the bastion needs a route to Systems Manager: with network.natGateways none, add "
                f"{', '.join(missing)} to network.interfaceEndpoints, or use NAT (single, perAz or instance)",
                True,
            )
        ]
    return []

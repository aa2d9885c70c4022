"""How the shared ALB reaches a public service: its listener rule (paths, hosts, priority) and health check."""

from __future__ import annotations

import functools
import re

from pydantic import Field, field_validator, model_validator

from components.config.base import DNS_NAME, Model, field_error

_WILDCARD = re.compile(r"[*?]")


class RoutingConfig(Model):
    """Which requests the shared ALB sends to a public service: path patterns and/or host names."""

    paths: list[str] = Field(
        [],
        description=(
            "ALB path patterns such as `/api/*` (`*` any characters, `?` exactly one). Two services may not claim "
            "the same path on the same host."
        ),
        json_schema_extra={"defaultText": '`["/*"]`'},
    )
    hosts: list[str] = Field(
        [],
        description=(
            "Host names (`www.example.com`, `*.example.com`). Paths and hosts together: at most 5 (an ALB rule limit)."
        ),
        json_schema_extra={"defaultText": "any host"},
    )
    priority: int | None = Field(
        None,
        ge=1,
        le=50000,
        description=(
            "Listener rule priority, unique; the ALB applies the first matching rule (lowest number). Left out: 10, "
            "20, 30 ... over the public services without one, narrowest rule first: exact hosts, then wildcard hosts "
            "(`*.example.com`), then any host; within those, by the rule's broadest path: exact paths, then the "
            "longer the part before the first wildcard the earlier (`/api/v1/*`, `/api/*`), `/*` last; equally "
            "specific rules in list order. Set priorities where that order is not what you want; priorities that "
            "put a broader rule before a narrower one on the same host(s), so that the narrower one never gets a "
            "request, are a config error naming both services."
        ),
        json_schema_extra={"defaultText": "by specificity"},
    )

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not re.fullmatch(r"/[A-Za-z0-9_.\-~/*?&=%:+@!$'()]{0,127}", path):
                raise ValueError(f"{path!r} is not a path pattern such as /api/*")
        return paths

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if not re.fullmatch(rf"(\*\.)?{DNS_NAME}", host):
                raise ValueError(f"{host!r} is not a host name such as api.example.com")
        return hosts

    @model_validator(mode="after")
    def _condition_values(self) -> RoutingConfig:
        # ALB limit: five match evaluations per rule, paths and hosts together (ELB user guide for
        # Application Load Balancers, "Condition types for listener rules").
        if len(self.hosts) + len(self.paths) > 5:
            raise field_error("hosts", "at most 5 paths and hosts together per service (an ALB rule limit)", self.hosts)
        return self

    def claims(self) -> list[tuple[str, str]]:
        """The (host, path) pairs this rule matches; "*" host means any."""
        return [(h, p) for h in (self.hosts or ["*"]) for p in (self.paths or ["/*"])]

    def specificity(self) -> tuple:
        """Sort key of the rule: smaller is narrower, so its rule must come first.

        Exact hosts before wildcard hosts before any host; then by the broadest path: exact
        paths first, then the longer the literal part before the first wildcard, the
        narrower (`/api/v1/*` before `/api/*` before `/*`).
        """
        hosts = 2 if not self.hosts else (1 if any(_WILDCARD.search(h) for h in self.hosts) else 0)
        return (hosts, max(_path_specificity(p) for p in (self.paths or ["/*"])))

    def shadows(self, other: RoutingConfig) -> bool:
        """True when this rule matches every request `other` matches: evaluated first, it leaves `other` nothing."""
        if self.hosts and not (
            other.hosts and all(any(_glob_covers(h.lower(), o.lower()) for h in self.hosts) for o in other.hosts)
        ):
            return False
        paths = self.paths or ["/*"]
        return all(any(_glob_covers(p, o) for p in paths) for o in (other.paths or ["/*"]))


def _path_specificity(path: str) -> tuple:
    wildcard = _WILDCARD.search(path)
    if wildcard is None:
        return (0, -len(path), 0)
    return (1, -wildcard.start(), -len(_WILDCARD.sub("", path)))


def _glob_covers(general: str, specific: str) -> bool:
    """True when every string `specific` matches also matches `general`.

    ALB condition patterns: `*` matches any run of characters, `?` exactly one.
    """
    wildcard = _WILDCARD.search(general)
    if not specific.startswith(general[: wildcard.start()] if wildcard else general):
        return False  # the literal start of `general` is not `specific`'s: most pairs, decided at once

    @functools.cache
    def covers(i: int, j: int) -> bool:
        if j == len(specific):
            return all(c == "*" for c in general[i:])
        if i == len(general):
            return False
        if general[i] == "*":
            # The star matches nothing more, or also whatever the next token of `specific` matches.
            return covers(i + 1, j) or covers(i, j + 1)
        if specific[j] == "*":
            return False
        return (general[i] == "?" or general[i] == specific[j]) and covers(i + 1, j + 1)

    return covers(0, 0)


class TargetHealthCheckConfig(Model):
    """The load balancer's health check of each task of a public service."""

    path: str = Field("/", pattern=r"^/[^\s]{0,1023}$", description="Path the ALB requests.")
    matcher: str = Field(
        "200-399",
        pattern=r"^[1-5][0-9]{2}(-[1-5][0-9]{2})?(,[1-5][0-9]{2}(-[1-5][0-9]{2})?)*$",
        description="HTTP codes that count as healthy: `200`, `200-399`, `200,204`.",
    )
    interval: int = Field(30, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=120, description="Seconds without a response that fail a check; below `interval`.")
    healthy_threshold: int = Field(3, ge=2, le=10, description="Passed checks in a row before a task is healthy.")
    unhealthy_threshold: int = Field(3, ge=2, le=10, description="Failed checks in a row before a task is unhealthy.")

    @model_validator(mode="after")
    def _shorter_than_interval(self) -> TargetHealthCheckConfig:
        # ELB refuses it: "Health check interval must be greater than the timeout" (CreateTargetGroup
        # ValidationError; the Classic ELB API reference says the same of HealthCheck.Timeout).
        if self.timeout >= self.interval:
            raise field_error("timeout", f"must be shorter than interval ({self.interval})", self.timeout)
        return self

"""`ecs-platform:cluster`: the ECS cluster, its capacity strategy, service discovery and the shared load balancer."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import DNS_NAME, Model, Problem, RetentionDays, fail, field_error, given


class CapacityProviderItem(Model):
    """One entry of a capacity provider strategy."""

    provider: Literal["FARGATE", "FARGATE_SPOT"] = Field(description="The capacity provider.")
    weight: int = Field(1, ge=0, le=1000, description="Share of the tasks placed after the base.")
    base: int = Field(
        0, ge=0, le=100000, description="Tasks placed on this provider first; only one entry may have a base."
    )


class HostedZoneConfig(Model):
    """A public Route53 hosted zone the stack may write records into (certificate validation, aliases)."""

    id: str = Field(pattern=r"^Z[A-Z0-9]{1,31}$", description="The zone's id, `Z...`.")
    name: str = Field(pattern=f"^{DNS_NAME}$", description="The zone's domain name, such as `example.com`.")


class CertificateConfig(Model):
    """The ALB's TLS certificate: an existing ACM certificate, or one the stack requests and validates by DNS.

    With a certificate the ALB serves HTTPS on 443 and port 80 redirects (301).
    """

    arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        description="An existing ACM certificate in the environment's region.",
    )
    domain_name: str | None = Field(
        None,
        pattern=rf"^(\*\.)?{DNS_NAME}$",
        description=(
            "Or: the stack requests a certificate for this name and validates it by DNS in `hostedZone`. Public "
            "hosts must be covered by one of the certificate's names."
        ),
    )
    alternative_names: list[str] = Field(
        [], description="More names of a requested certificate (`*.example.com` for wildcards); only with `domainName`."
    )

    @field_validator("alternative_names")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(rf"(\*\.)?{DNS_NAME}", name):
                raise ValueError(f"{name!r} is not a DNS name")
        return names

    @model_validator(mode="after")
    def _one_source(self) -> CertificateConfig:
        if self.alternative_names and not self.domain_name:
            raise field_error(
                "alternative_names", "only with domainName (a certificate the stack requests)", self.alternative_names
            )
        if (self.arn is None) == (self.domain_name is None):
            raise ValueError("set exactly one of arn (an existing certificate) or domainName (one the stack requests)")
        return self

    def domains(self) -> list[str]:
        return [self.domain_name, *self.alternative_names] if self.domain_name else []


class AccessLogsConfig(Model):
    """ALB access logs to an S3 bucket of the stack."""

    enabled: bool = Field(
        False,
        description=(
            "ALB access logs to an S3 bucket of the stack (SSE-S3, the only encryption ALB log delivery supports; "
            "public access blocked; TLS-only policy)."
        ),
    )
    expire_days: int = Field(90, ge=1, le=3650, description="Days before log objects expire.")


# Web ACL capacity units of the AWS managed rule groups offered (AWS WAF developer guide, "Baseline rule
# groups", "Use-case specific rule groups", "IP reputation rule groups"): a web ACL's rules may use up to
# 1,500 WCUs at the base price ("Web ACL capacity units (WCUs) in AWS WAF").
MANAGED_RULE_GROUP_WCU = {
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesAmazonIpReputationList": 25,
    "AWSManagedRulesAnonymousIpList": 50,
    "AWSManagedRulesSQLiRuleSet": 200,
    "AWSManagedRulesLinuxRuleSet": 200,
    "AWSManagedRulesUnixRuleSet": 100,
    "AWSManagedRulesAdminProtectionRuleSet": 100,
}
ManagedRuleGroup = Literal[
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesUnixRuleSet",
    "AWSManagedRulesAdminProtectionRuleSet",
]
# A rate-based rule without a scope-down statement costs 2 WCUs ("Rate-based rule statement").
RATE_RULE_WCU = 2
WCU_BASE_LIMIT = 1500
# A rule name in a managed group (AWS WAF API Reference, RuleActionOverride: Name, 1 to 128 of [A-Za-z0-9_-]).
WAF_RULE_NAME = re.compile(r"[\w-]{1,128}", re.ASCII)


class WafConfig(Model):
    """AWS WAF in front of the load balancer: a regional web ACL associated with the ALB.

    AWS managed rule groups first (in the order listed), then a rate-based rule that blocks an IP
    address sending more than `rateLimit` requests within `rateLimitWindow` seconds; everything
    else is allowed. Every request AWS WAF inspects is logged to the CloudWatch log group
    `aws-waf-logs-<project>-<env>`, encrypted with a key of the stack, kept `logRetentionDays`
    days; the `authorization` and `cookie` headers are redacted from the logs.

    Request bodies: behind an ALB, AWS WAF inspects at most the first 8 KB of a body, and
    `AWSManagedRulesCommonRuleSet`'s rule `SizeRestrictions_BODY` blocks every request whose body
    is larger than 8 KB. A service that takes uploads (files, large JSON documents) gets `403`
    for them; teams with such a service count that one rule instead of blocking with it
    (`ruleActionOverrides: {AWSManagedRulesCommonRuleSet: [SizeRestrictions_BODY]}`), keeping
    the rest of the group, and limit body sizes in the application. Without uploads, leave it
    blocking: large bodies are then more often an attack than a request.
    """

    enabled: bool = Field(False, description="Put an AWS WAF web ACL in front of the load balancer (turn on in prod).")
    managed_rule_groups: list[ManagedRuleGroup] = Field(
        [
            "AWSManagedRulesAmazonIpReputationList",
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
        ],
        min_length=1,
        description=(
            "AWS managed rule groups, evaluated in this order before the rate limit, each blocking what it matches. "
            "Their capacity (WCUs) plus the rate limit's must stay within 1,500, the web ACL's base allowance."
        ),
    )
    count_only: list[ManagedRuleGroup] = Field(
        [],
        description=(
            "Managed rule groups that only count what they match instead of blocking it: a new group's first weeks, "
            "while its logs show what it would block. Each must be in `managedRuleGroups`."
        ),
    )
    rule_action_overrides: dict[ManagedRuleGroup, list[str]] = Field(
        {},
        description=(
            "Rules of a managed rule group that only count what they match while the rest of the group still blocks: "
            "`{<group>: [<rule name>, ...]}`, each group one of `managedRuleGroups`, rule names as AWS lists them for "
            "the group. The usual one is `AWSManagedRulesCommonRuleSet: [SizeRestrictions_BODY]` for a service that "
            "takes uploads: that rule blocks every request body over 8 KB, and behind an ALB AWS WAF sees only the "
            "first 8 KB of a body anyway. Counted matches still show in the logs and metrics. Names are case-sensitive "
            "and AWS WAF silently ignores one that is not in the group: check the group's rule list."
        ),
    )
    rate_limit: int = Field(
        2000,
        ge=10,
        le=2_000_000_000,
        description="Requests one IP address may send within `rateLimitWindow` before further ones are blocked.",
    )
    rate_limit_window: Literal[60, 120, 300, 600] = Field(
        300, description="Seconds AWS WAF looks back when it counts an IP address's requests."
    )
    log_retention_days: RetentionDays = Field(90, description="Days the AWS WAF logs are kept.")

    @model_validator(mode="after")
    def _groups(self) -> WafConfig:
        problems: list[Problem] = []
        groups = self.managed_rule_groups
        if len(set(groups)) != len(groups):
            problems.append((("managed_rule_groups",), "each rule group may appear once", groups))
        wcu = sum(MANAGED_RULE_GROUP_WCU[g] for g in set(groups)) + RATE_RULE_WCU
        if wcu > WCU_BASE_LIMIT:
            problems.append(
                (
                    ("managed_rule_groups",),
                    f"these rule groups and the rate limit need {wcu} WCUs; a web ACL's base allowance is "
                    f"{WCU_BASE_LIMIT}",
                    groups,
                )
            )
        stray = [g for g in self.count_only if g not in groups]
        if stray:
            problems.append((("count_only",), f"not in managedRuleGroups: {stray[0]}", self.count_only))
        for group, rules in self.rule_action_overrides.items():
            where = ("rule_action_overrides", group)
            if group not in groups:
                problems.append((where, "not in managedRuleGroups", rules))
            elif group in self.count_only:
                problems.append((where, "the whole group already only counts (countOnly)", rules))
            elif not rules:
                problems.append((where, "name at least one rule of the group", rules))
            elif bad := [r for r in rules if not WAF_RULE_NAME.fullmatch(r)]:
                problems.append((where, f"not a rule name: {bad[0]!r}", rules))
            elif len(set(rules)) != len(rules):
                problems.append((where, "each rule may appear once", rules))
        fail(problems)
        return self

    def capacity(self) -> int:
        """The web ACL capacity units its rules use."""
        return sum(MANAGED_RULE_GROUP_WCU[g] for g in self.managed_rule_groups) + RATE_RULE_WCU


class LoadBalancerConfig(Model):
    """The environment's shared internet-facing Application Load Balancer.

    Without a certificate the ALB has one HTTP listener. Either way, a request no service claims
    gets a fixed `404`. The ALB drops invalid header fields and uses defensive desync mitigation.
    """

    ingress_cidrs: list[ipaddress.IPv4Network] = Field(
        [ipaddress.IPv4Network("0.0.0.0/0")], description="IPv4 ranges allowed to reach 80 (and 443)."
    )
    ingress_prefix_lists: list[str] = Field(
        [],
        description=(
            "Managed prefix list ids (`pl-...`) allowed as well, e.g. a corporate VPN's. With no `ingressCidrs` "
            "either, nobody could reach the load balancer: that is refused."
        ),
    )
    deletion_protection: bool = Field(False, description="ALB deletion protection (turn on in prod).")
    idle_timeout: int = Field(60, ge=1, le=4000, description="Seconds an idle connection stays open.")
    # Current AWS recommendation: TLS 1.3 with TLS 1.2 fallback, forward-secret ciphers only.
    ssl_policy: str = Field(
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        pattern=r"^ELBSecurityPolicy-TLS13-1-[23]-",
        description=(
            "TLS policy of the HTTPS listener: an `ELBSecurityPolicy-TLS13-1-2-...` or `-1-3-...` policy. The default "
            "is AWS's recommendation: TLS 1.3 with TLS 1.2 fallback, forward-secret ciphers only."
        ),
    )
    hosted_zone: HostedZoneConfig | None = Field(
        None,
        description=(
            "A public Route53 zone the stack writes into: certificate validation records, and alias A/AAAA records "
            "for every public service's `routing.hosts`. Hosts must lie inside the zone."
        ),
    )
    certificate: CertificateConfig | None = Field(
        None,
        description=(
            "The TLS certificate: `arn` of an existing one, or `domainName` (and `alternativeNames`) of one the "
            "stack requests. Without it, HTTP only."
        ),
    )
    access_logs: AccessLogsConfig = Field(AccessLogsConfig(), description="ALB access logs.")
    http_only: bool = Field(
        False,
        description=(
            "Serve plain HTTP on purpose: an internet-facing load balancer without `certificate` must say so (a "
            "development stack without a domain). The ALB is tagged `HttpOnly=true`, which the pack's `alb-https` "
            "accepts unless the stack's pack config sets `allowHttpOnly: false` (prod)."
        ),
    )
    waf: WafConfig = Field(WafConfig(), description="AWS WAF web ACL in front of the load balancer.")

    @field_validator("ingress_prefix_lists")
    @classmethod
    def _prefix_lists(cls, ids: list[str]) -> list[str]:
        for pl in ids:
            if not re.fullmatch(r"pl-[0-9a-f]{8,17}", pl):
                raise ValueError(f"{pl!r} is not a managed prefix list id such as pl-0123456789abcdef0")
        return ids

    @model_validator(mode="after")
    def _reachable_and_validated(self) -> LoadBalancerConfig:
        problems: list[Problem] = []
        if not self.ingress_prefix_lists and not self.ingress_cidrs:
            # Reported on the key the stack emptied; when it emptied both, on the prefix lists.
            if "ingress_prefix_lists" in self.model_fields_set:
                problems.append(
                    (
                        ("ingress_prefix_lists",),
                        "with no ingressCidrs either, nobody could reach the load balancer",
                        self.ingress_prefix_lists,
                    )
                )
            else:
                problems.append(
                    (
                        ("ingress_cidrs",),
                        "with no ingressPrefixLists either, nobody could reach the load balancer",
                        self.ingress_cidrs,
                    )
                )
        cert, zone = self.certificate, self.hosted_zone
        if cert is not None and self.http_only:
            problems.append(
                (("http_only",), "a load balancer with a certificate serves HTTPS: remove httpOnly", self.http_only)
            )
        if cert is not None and cert.domain_name and zone is None:
            problems.append(
                (
                    ("certificate",),
                    "a requested certificate is validated by DNS and needs hostedZone",
                    given(self, "certificate"),
                )
            )
        outside = [name for name in (cert.domains() if cert else []) if zone and not in_zone(name, zone.name)]
        if outside:
            problems.append(
                (
                    ("certificate",),
                    f"{outside[0]} is not inside the hosted zone {zone.name}, so it cannot be validated",
                    given(self, "certificate"),
                )
            )
        fail(problems)
        return self


def in_zone(host: str, zone: str) -> bool:
    host = host.removeprefix("*.")
    return host == zone or host.endswith("." + zone)


class ClusterConfig(Model):
    """The ECS cluster, its capacity strategy, service discovery and the shared load balancer.

    One ECS cluster per environment, a Cloud Map private DNS namespace for service discovery and
    one shared internet-facing Application Load Balancer.

    `capacityProviders` is the strategy of x86_64 services. Fargate Spot runs only x86_64 Linux
    tasks ("Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity
    provider", ECS developer guide, "Fargate capacity providers"), so an arm64 service runs
    on `FARGATE` alone, with the strategy's base. On a Spot-only cluster an arm64 service
    therefore pays on-demand prices.
    """

    container_insights: Literal["enabled", "enhanced", "disabled"] = Field(
        "enabled", description="Container Insights (its metrics cost per metric)."
    )
    capacity_providers: list[CapacityProviderItem] = Field(
        default_factory=lambda: [CapacityProviderItem(provider="FARGATE")],
        min_length=1,
        max_length=2,
        description=(
            "The capacity provider strategy of every `x86_64` service (and the cluster's default): up to two entries, "
            "each provider once, at most one with a `base`, at least one with a `weight` above 0. `arm64` services run "
            "on `FARGATE` alone with the strategy's base, whatever this says."
        ),
        json_schema_extra={"defaultText": "`[{provider: FARGATE}]`"},
    )
    namespace: str | None = Field(
        None,
        pattern=f"^{DNS_NAME}$",
        description="Private DNS namespace (Cloud Map): a service `api` answers at `api.<namespace>`.",
        json_schema_extra={"defaultText": "`<env>.internal`"},
    )
    load_balancer: LoadBalancerConfig = Field(
        LoadBalancerConfig(), description="The shared internet-facing Application Load Balancer."
    )

    @field_validator("capacity_providers")
    @classmethod
    def _strategy(cls, items: list[CapacityProviderItem]) -> list[CapacityProviderItem]:
        providers = [i.provider for i in items]
        if len(set(providers)) != len(providers):
            raise ValueError("each capacity provider may appear once")
        if sum(1 for i in items if i.base > 0) > 1:
            raise ValueError("only one capacity provider of a strategy may have a base")
        if not any(i.weight > 0 for i in items):
            raise ValueError("at least one capacity provider needs a weight above 0")
        return items

    def strategy_for(self, architecture: str) -> list[CapacityProviderItem]:
        """The capacity provider strategy of a service of `architecture` ("x86_64" or "arm64")."""
        if architecture == "x86_64":
            return list(self.capacity_providers)
        # The tasks the base keeps on-demand (or on Spot) stay a floor, now all on FARGATE.
        return [CapacityProviderItem(provider="FARGATE", weight=1, base=max(i.base for i in self.capacity_providers))]

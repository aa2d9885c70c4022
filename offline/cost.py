"""Estimated monthly cost of an environment, read from its resource graph and `offline/prices.json`.

Every figure comes from a resource's type token and its wire-format (camelCase) inputs,
so the estimate follows whatever the program registers: NAT gateways from the awsx VPC's
`natGateways.strategy` and AZs, load balancers, Fargate services (task size, architecture,
task count, on-demand/Spot split), RDS instances, EC2 instances (a NAT instance's public
address too), KMS keys, secrets, interface endpoints, alarms, dashboards, hosted zones,
pipelines, AWS WAF web ACLs and EFS file systems. Fixed, always-on charges are priced; so are
VPC flow logs, AWS WAF requests and logs, and EFS storage, from an assumed monthly volume
stated under the estimate, because their usage charges can outgrow the fixed ones. Other
usage-based charges are
listed as left out, per type present.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.harness.graph import CapturedGraph, Resource
from policies.guardrails.types import (
    AWS_PROVIDER,
    AWSX_VPC,
    BUCKETS,
    CLUSTER_CAPACITY_PROVIDERS,
    CODEBUILD_PROJECT,
    DASHBOARD,
    DISCOVERY_SERVICE,
    DNS_NAMESPACE,
    DNS_ZONE,
    EBS_VOLUME,
    EC2_INSTANCE,
    ECR_REPOSITORY,
    ECS_CLUSTER,
    ECS_SERVICE,
    EFS_FILE_SYSTEM,
    FLOW_LOG,
    KMS_KEY,
    LOAD_BALANCERS,
    LOG_GROUP,
    METRIC_ALARM,
    NAT_GATEWAY,
    PIPELINE,
    RDS_INSTANCE,
    SCALING_TARGET,
    SECRET,
    SNS_TOPIC,
    SUBNET,
    TASK_DEFINITION,
    VPC_ENDPOINT,
    WAF_WEB_ACL,
    WAF_WEB_ACL_LOGGING,
)

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"


@dataclass
class Line:
    """One priced item: a resource (or a part of it, like an RDS instance's storage) and its monthly cost."""

    urn: str
    type: str
    name: str
    item: str  # what is priced, e.g. "2 NAT gateways"
    formula: str  # how, e.g. "2 x 730 h x $0.048"
    monthly: float


@dataclass
class Estimate:
    region: str
    price_region: str
    price_date: str
    source: str
    lines: list[Line] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def estimate(graph: CapturedGraph, prices: dict[str, Any] | None = None) -> Estimate:
    """Prices every resource of `graph` that has a fixed monthly charge."""
    prices = prices or load_prices()
    region = _region(graph)
    result = Estimate(
        region=region,
        price_region=prices["region"],
        price_date=prices["date"],
        source=prices["source"],
    )
    if region and region != prices["region"]:
        result.warnings.append(
            f"the stack deploys to {region}, but the price table is for {prices['region']}: "
            f"the estimate uses {prices['region']} list prices"
        )
    ctx = _Context(graph, prices, result)
    # By URN rather than registration order (which varies between runs), so the output is stable.
    for res in sorted(graph.registered, key=lambda r: r.urn):
        pricer = PRICERS.get(res.type)
        if pricer:
            for item, formula, monthly in pricer(ctx, res):
                result.lines.append(Line(res.urn, res.type, res.name, item, formula, round(monthly, 2)))
    present = {r.type for r in graph.registered}
    # An awsx VPC without NAT gateways (strategy None, or a NAT instance) processes nothing per GB.
    result.left_out = [
        note for types, note in LEFT_OUT if present & set(types) and (note != NAT_PROCESSING or ctx.used_nat_gateway)
    ]
    result.left_out.append("data transfer out to the internet and between AZs, and anything billed per request")
    if ctx.used_spot:
        result.assumptions.append(prices["assumptions"]["fargateSpotDiscountNote"])
    if any(r.type in LOAD_BALANCERS for r in graph.registered):
        result.assumptions.append(prices["assumptions"]["albLcuPerHourNote"])
    if ctx.used_default_root:
        result.assumptions.append(prices["assumptions"]["defaultRootVolumeGiBNote"])
    if ctx.used_flow_log_volume:
        result.assumptions.append(prices["assumptions"]["flowLogGbPerMonthNote"])
    if ctx.used_efs_volume:
        result.assumptions.append(prices["assumptions"]["efsGbPerFileSystemNote"])
    if ctx.used_waf:
        result.assumptions.append(prices["assumptions"]["wafNote"])
    return result


# --- context ------------------------------------------------------------------------


class _Context:
    def __init__(self, graph: CapturedGraph, prices: dict[str, Any], result: Estimate):
        self.graph = graph
        self.p = prices["prices"]
        self.assume = prices["assumptions"]
        self.hours = prices["hoursPerMonth"]
        self.result = result
        self.by_urn = {r.urn: r for r in graph.resources}
        self.used_spot = False
        self.used_default_root = False
        self.used_flow_log_volume = False
        self.used_efs_volume = False
        self.used_nat_gateway = False
        self.used_waf = False

    def warn(self, res: Resource, text: str) -> None:
        self.result.warnings.append(f"{res.type} {res.name}: {text}")

    def deps(self, res: Resource, prop: str) -> list[Resource]:
        """The resources an input was computed from (the engine's property dependencies)."""
        return [self.by_urn[u] for u in res.property_dependencies.get(prop, []) if u in self.by_urn]

    def az_count(self, res: Resource, prop: str) -> int | None:
        """How many AZs the subnets in `prop` span: from the subnet ids if known, else from the VPC they came from."""
        value = res.inputs.get(prop)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            zones = self._zones_of_subnets(value)
            return len(zones) if zones else len(set(value))
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):  # subnetMappings
            return len(value)
        for dep in self.deps(res, prop):
            if dep.type == AWSX_VPC:
                return len(dep.inputs.get("availabilityZoneNames") or [])
        return None

    def _zones_of_subnets(self, ids: list[str]) -> set[str]:
        zones: set[str] = set()
        for vpc in self.graph.of_type(AWSX_VPC):
            names = vpc.inputs.get("availabilityZoneNames") or []
            for key in ("publicSubnetIds", "privateSubnetIds", "isolatedSubnetIds"):
                for index, subnet in enumerate(vpc.outputs.get(key) or []):
                    if subnet in ids and index < len(names):
                        zones.add(names[index])
        for subnet in self.graph.of_type(SUBNET):
            if subnet.outputs.get("id") in ids or subnet.id in ids:
                zones.add(str(subnet.inputs.get("availabilityZone")))
        return zones


Priced = Iterator[tuple[str, str, float]]


def _money(value: float) -> str:
    return f"${value:g}"


# --- pricers, by type token ---------------------------------------------------------------


def _awsx_vpc(ctx: _Context, res: Resource) -> Priced:
    """awsx lays out NAT gateways (each with an Elastic IP) from natGateways.strategy; OnePerAz is awsx's default."""
    strategy = (res.inputs.get("natGateways") or {}).get("strategy", "OnePerAz")
    zones = len(res.inputs.get("availabilityZoneNames") or []) or None
    if zones is None:
        zones = int(res.inputs.get("numberOfAvailabilityZones") or 3)
    count = {"None": 0, "Single": 1, "OnePerAz": zones}.get(strategy)
    if count is None:
        ctx.warn(res, f"unknown NAT strategy {strategy!r}: not priced")
        return
    if count == 0:
        return
    yield from _nat(ctx, count, f"strategy {strategy}")


def _nat(ctx: _Context, count: int, why: str) -> Priced:
    ctx.used_nat_gateway = True
    nat, ip = ctx.p["natGatewayHour"]["usd"], ctx.p["publicIpv4Hour"]["usd"]
    plural = "s" if count > 1 else ""
    yield (
        f"{count} NAT gateway{plural} ({why})",
        f"{count} x {ctx.hours} h x {_money(nat)}",
        count * ctx.hours * nat,
    )
    yield (
        f"{count} public IPv4 address{'es' if count > 1 else ''} of the NAT gateway{plural}",
        f"{count} x {ctx.hours} h x {_money(ip)}",
        count * ctx.hours * ip,
    )


def _nat_gateway(ctx: _Context, res: Resource) -> Priced:
    if res.inputs.get("connectivityType") == "private":
        yield from _nat(ctx, 1, "private")
        return
    yield from _nat(ctx, 1, "public")


def _load_balancer(ctx: _Context, res: Resource) -> Priced:
    kind = res.inputs.get("loadBalancerType") or "application"
    if kind != "application":
        ctx.warn(res, f"{kind} load balancers are not in the price table: not priced")
        return
    hour, lcu_price = ctx.p["albHour"]["usd"], ctx.p["albLcuHour"]["usd"]
    lcus = ctx.assume["albLcuPerHour"]
    yield "ALB hours", f"{ctx.hours} h x {_money(hour)}", ctx.hours * hour
    yield f"{lcus} LCU (assumed)", f"{lcus} x {ctx.hours} h x {_money(lcu_price)}", lcus * ctx.hours * lcu_price
    if res.inputs.get("internal") is True:
        return
    zones = ctx.az_count(res, "subnets") or ctx.az_count(res, "subnetMappings")
    if zones is None:
        zones = 2
        ctx.warn(res, "subnets unknown: priced the minimum of 2 AZs (one public IPv4 address each)")
    ip = ctx.p["publicIpv4Hour"]["usd"]
    yield (
        f"{zones} public IPv4 addresses (internet-facing, one per AZ)",
        f"{zones} x {ctx.hours} h x {_money(ip)}",
        zones * ctx.hours * ip,
    )


def _ecs_service(ctx: _Context, res: Resource) -> Priced:
    task_def = _task_definition(ctx, res)
    if task_def is None:
        ctx.warn(res, "its task definition is not in the graph: not priced")
        return
    compat = task_def.inputs.get("requiresCompatibilities") or []
    if res.inputs.get("launchType") not in (None, "FARGATE") or (compat and "FARGATE" not in compat):
        ctx.warn(res, "not a Fargate service: not priced")
        return
    try:
        vcpu = float(task_def.inputs["cpu"]) / 1024
        memory = float(task_def.inputs["memory"]) / 1024
    except (KeyError, TypeError, ValueError):
        ctx.warn(res, "task cpu/memory unknown: not priced")
        return
    arch = str((task_def.inputs.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64").upper()
    arch_key = "arm64" if arch == "ARM64" else "x86_64"
    rate = ctx.p["fargate"][arch_key]
    per_task_hour = vcpu * rate["vcpuHour"] + memory * rate["gbHour"]
    tasks = _task_count(ctx, res)
    on_demand, spot = _split(_strategy(ctx, res), tasks)
    size = f"{vcpu:g} vCPU / {memory:g} GB {arch_key}"
    formula_task = f"({vcpu:g} x {_money(rate['vcpuHour'])} + {memory:g} x {_money(rate['gbHour'])}) x {ctx.hours} h"
    if on_demand:
        yield (
            f"{on_demand:.3g} Fargate task{'s' if on_demand != 1 else ''} on demand, {size}",
            f"{on_demand:.3g} x {formula_task}",
            on_demand * per_task_hour * ctx.hours,
        )
    if spot:
        ctx.used_spot = True
        discount = ctx.assume["fargateSpotDiscount"]
        yield (
            f"{spot:.3g} Fargate Spot task{'s' if spot != 1 else ''}, {size}",
            f"{spot:.3g} x {formula_task} x (1 - {discount:g})",
            spot * per_task_hour * ctx.hours * (1 - discount),
        )
    if not tasks:
        yield f"0 Fargate tasks, {size}", "desiredCount 0", 0.0


def _task_definition(ctx: _Context, service: Resource) -> Resource | None:
    for dep in ctx.deps(service, "taskDefinition"):
        if dep.type == TASK_DEFINITION:
            return dep
    wanted = service.inputs.get("taskDefinition")
    for task_def in ctx.graph.of_type(TASK_DEFINITION):
        if isinstance(wanted, str) and wanted in (task_def.inputs.get("family"), task_def.outputs.get("arn")):
            return task_def
    return None


def _task_count(ctx: _Context, service: Resource) -> int:
    """desiredCount (AWS default 0), or the autoscaling minimum if a scalable target on this service asks for more."""
    count = int(service.inputs.get("desiredCount") or 0)
    for target in ctx.graph.of_type(SCALING_TARGET):
        if service.urn in target.property_dependencies.get("resourceId", []):
            count = max(count, int(target.inputs.get("minCapacity") or 0))
    return count


def _strategy(ctx: _Context, service: Resource) -> list[dict[str, Any]]:
    """The service's capacity provider strategy, else its cluster's default strategy, else plain FARGATE."""
    own = service.inputs.get("capacityProviderStrategies")
    if own:
        return own
    if service.inputs.get("launchType") == "FARGATE":
        return [{"capacityProvider": "FARGATE", "weight": 1}]
    clusters = set(service.property_dependencies.get("cluster", []))
    for cps in ctx.graph.of_type(CLUSTER_CAPACITY_PROVIDERS):
        if clusters & set(cps.property_dependencies.get("clusterName", [])) or not clusters:
            default = cps.inputs.get("defaultCapacityProviderStrategies")
            if default:
                return default
    return [{"capacityProvider": "FARGATE", "weight": 1}]


def _split(strategy: list[dict[str, Any]], tasks: int) -> tuple[float, float]:
    """(on-demand, Spot) tasks the way ECS places them: each provider's base first, the rest by weight."""
    spot_providers = {"FARGATE_SPOT"}
    remaining, on_demand, spot = tasks, 0.0, 0.0
    for entry in strategy:
        base = min(int(entry.get("base") or 0), remaining)
        remaining -= base
        if entry.get("capacityProvider") in spot_providers:
            spot += base
        else:
            on_demand += base
    weights = [(e.get("capacityProvider"), int(e.get("weight") or 0)) for e in strategy]
    total = sum(w for _, w in weights)
    if remaining and total:
        spot_weight = sum(w for provider, w in weights if provider in spot_providers)
        spot += remaining * spot_weight / total
        on_demand += remaining * (total - spot_weight) / total
    elif remaining:
        on_demand += remaining
    return on_demand, spot


def _rds_instance(ctx: _Context, res: Resource) -> Priced:
    engine = str(res.inputs.get("engine") or "")
    cls = str(res.inputs.get("instanceClass") or "")
    multi = res.inputs.get("multiAz") is True
    deployment = "multiAz" if multi else "singleAz"
    label = "Multi-AZ" if multi else "Single-AZ"
    table = ctx.p["rdsPostgres"]["instanceHour"]
    if not engine.startswith("postgres"):
        ctx.warn(res, f"engine {engine or 'unknown'} is not in the price table (PostgreSQL only): instance not priced")
    elif cls not in table:
        ctx.warn(res, f"instance class {cls or 'unknown'} is not in the price table: instance not priced")
    else:
        hour = table[cls][deployment]
        yield f"{cls} PostgreSQL {label}", f"{ctx.hours} h x {_money(hour)}", ctx.hours * hour
    storage_type = res.inputs.get("storageType") or "gp2"
    size = res.inputs.get("allocatedStorage")
    try:
        gib = float(size)
    except (TypeError, ValueError):
        gib = None
    if storage_type != "gp3":
        ctx.warn(res, f"storage type {storage_type} is not in the price table (gp3 only): storage not priced")
    elif gib is None:
        ctx.warn(res, "allocatedStorage unknown: storage not priced")
    else:
        gb_month = ctx.p["rdsGp3GbMonth"][deployment]
        yield f"{gib:g} GB gp3 storage ({label})", f"{gib:g} GB x {_money(gb_month)}", gib * gb_month
    if res.inputs.get("manageMasterUserPassword") is True:
        secret = ctx.p["secretMonth"]["usd"]
        yield "master password secret managed by RDS (Secrets Manager)", f"1 x {_money(secret)}", secret


def _ec2_instance(ctx: _Context, res: Resource) -> Priced:
    kind = str(res.inputs.get("instanceType") or "")
    table = ctx.p["ec2LinuxHour"]
    if kind in table and isinstance(table[kind], float | int):
        yield f"{kind} Linux on demand", f"{ctx.hours} h x {_money(table[kind])}", ctx.hours * table[kind]
    else:
        ctx.warn(res, f"instance type {kind or 'unknown'} is not in the price table: instance not priced")
    root = res.inputs.get("rootBlockDevice") or {}
    size = root.get("volumeSize")
    if size is None:
        size = ctx.assume["defaultRootVolumeGiB"]
        ctx.used_default_root = True
    volumes = [("root", root.get("volumeType") or "gp3", size)]
    volumes += [
        (str(d.get("deviceName", "data")), d.get("volumeType") or "gp3", d.get("volumeSize") or 0)
        for d in res.inputs.get("ebsBlockDevices") or []
    ]
    for label, vtype, gib in volumes:
        yield from _ebs(ctx, res, f"{label} volume", vtype, gib)
    if res.inputs.get("associatePublicIpAddress") is True:
        # A NAT instance's: every public IPv4 address is billed by the hour since 2024-02-01.
        ip = ctx.p["publicIpv4Hour"]["usd"]
        yield "1 public IPv4 address", f"1 x {ctx.hours} h x {_money(ip)}", ctx.hours * ip


def _ebs(ctx: _Context, res: Resource, label: str, vtype: str, gib: Any) -> Priced:
    if vtype != "gp3":
        ctx.warn(res, f"{label}: volume type {vtype} is not in the price table (gp3 only): not priced")
        return
    price = ctx.p["ebsGp3GbMonth"]["usd"]
    yield f"{float(gib):g} GB gp3 {label}", f"{float(gib):g} GB x {_money(price)}", float(gib) * price


def _ebs_volume(ctx: _Context, res: Resource) -> Priced:
    yield from _ebs(ctx, res, "EBS volume", res.inputs.get("type") or "gp3", res.inputs.get("size") or 0)


def _vpc_endpoint(ctx: _Context, res: Resource) -> Priced:
    if (res.inputs.get("vpcEndpointType") or "Gateway") != "Interface":
        return  # gateway endpoints (S3, DynamoDB) are free
    zones = ctx.az_count(res, "subnetIds")
    if zones is None:
        ctx.warn(res, "subnets unknown: priced for 1 AZ")
        zones = 1
    price = ctx.p["interfaceEndpointAzHour"]["usd"]
    parts = str(res.inputs.get("serviceName") or "?").split(".")
    service = ".".join(parts[3:]) if parts[:2] == ["com", "amazonaws"] else ".".join(parts)
    yield (
        f"interface endpoint {service} in {zones} AZs",
        f"{zones} x {ctx.hours} h x {_money(price)}",
        zones * ctx.hours * price,
    )


def _flow_log(ctx: _Context, res: Resource) -> Priced:
    """Vended-logs delivery of the assumed monthly volume for the flow log's traffic type, at its destination's rate."""
    traffic = str(res.inputs.get("trafficType") or "ALL")
    gb = ctx.assume["flowLogGbPerMonth"].get(traffic)
    destination = str(res.inputs.get("logDestinationType") or "cloud-watch-logs")
    rates = ctx.p["vendedLogsGb"]
    if gb is None:
        ctx.warn(res, f"traffic type {traffic} has no assumed volume: not priced")
        return
    ctx.used_flow_log_volume = True
    volume = f"{gb:g} GB/month of {traffic} traffic (assumed)"
    if destination == "cloud-watch-logs":
        price = rates["cloudWatchLogs"]
        yield f"flow logs to CloudWatch Logs, {volume}", f"{gb:g} GB x {_money(price)}", gb * price
    elif destination == "s3":
        price = rates["s3"]
        parquet = (res.inputs.get("destinationOptions") or {}).get("fileFormat") == "parquet"
        if parquet:
            price += rates["parquetConversion"]
        rate = f"({_money(rates['s3'])} + {_money(rates['parquetConversion'])} Parquet)" if parquet else _money(price)
        yield f"flow logs to S3, {volume}", f"{gb:g} GB x {rate}", gb * price
    else:
        ctx.warn(res, f"destination {destination} is not in the price table: not priced")


def _efs(ctx: _Context, res: Resource) -> Priced:
    """Standard storage of the assumed data volume; a new file system holds nothing and costs nothing."""
    gb = ctx.assume["efsGbPerFileSystem"]
    price = ctx.p["efsStandardGbMonth"]["usd"]
    ctx.used_efs_volume = True
    yield f"EFS Standard storage, {gb:g} GB (assumed)", f"{gb:g} GB x {_money(price)}", gb * price


def _web_acl(ctx: _Context, res: Resource) -> Priced:
    """The web ACL, one rule charge per rule (a managed rule group is one rule), and the assumed requests."""
    ctx.used_waf = True
    acl = ctx.p["wafWebAclMonth"]["usd"]
    yield "AWS WAF web ACL", f"1 x {_money(acl)}", acl
    rules = len(res.inputs.get("rules") or [])
    if rules:
        rule = ctx.p["wafRuleMonth"]["usd"]
        yield f"{rules} AWS WAF rules", f"{rules} x {_money(rule)}", rules * rule
    millions = ctx.assume["wafRequestsMillionsPerMonth"]
    per_million = ctx.p["wafRequestsMillion"]["usd"]
    yield (
        f"AWS WAF requests, {millions:g} million/month (assumed)",
        f"{millions:g} x {_money(per_million)}",
        millions * per_million,
    )


def _web_acl_logging(ctx: _Context, res: Resource) -> Priced:
    """Vended-logs delivery of the assumed AWS WAF log volume to CloudWatch Logs."""
    ctx.used_waf = True
    gb = ctx.assume["wafLogGbPerMonth"]
    price = ctx.p["vendedLogsGb"]["cloudWatchLogs"]
    yield f"AWS WAF logs to CloudWatch Logs, {gb:g} GB/month (assumed)", f"{gb:g} GB x {_money(price)}", gb * price


def _flat(key: str, item: str) -> Callable[[_Context, Resource], Priced]:
    def pricer(ctx: _Context, res: Resource) -> Priced:
        price = ctx.p[key]["usd"]
        yield item, f"1 x {_money(price)}", price

    return pricer


def _pipeline(ctx: _Context, res: Resource) -> Priced:
    if (res.inputs.get("pipelineType") or "V1") == "V1":
        price = ctx.p["codepipelineV1Month"]["usd"]
        yield "active V1 pipeline", f"1 x {_money(price)}", price


PRICERS: dict[str, Callable[[_Context, Resource], Priced]] = {
    AWSX_VPC: _awsx_vpc,
    NAT_GATEWAY: _nat_gateway,
    **dict.fromkeys(LOAD_BALANCERS, _load_balancer),
    ECS_SERVICE: _ecs_service,
    RDS_INSTANCE: _rds_instance,
    EC2_INSTANCE: _ec2_instance,
    EBS_VOLUME: _ebs_volume,
    VPC_ENDPOINT: _vpc_endpoint,
    FLOW_LOG: _flow_log,
    EFS_FILE_SYSTEM: _efs,
    KMS_KEY: _flat("kmsKeyMonth", "customer managed KMS key"),
    SECRET: _flat("secretMonth", "Secrets Manager secret"),
    METRIC_ALARM: _flat("cloudwatchAlarmMonth", "CloudWatch alarm"),
    DASHBOARD: _flat("cloudwatchDashboardMonth", "CloudWatch dashboard"),
    DNS_ZONE: _flat("hostedZoneMonth", "Route 53 hosted zone"),
    DNS_NAMESPACE: _flat("hostedZoneMonth", "private hosted zone of the Cloud Map namespace"),
    PIPELINE: _pipeline,
    WAF_WEB_ACL: _web_acl,
    WAF_WEB_ACL_LOGGING: _web_acl_logging,
}

# Usage-based charges, printed as left out when a resource of one of these types is present.
NAT_PROCESSING = "NAT gateway data processing (per GB)"
LEFT_OUT: list[tuple[tuple[str, ...], str]] = [
    ((AWSX_VPC, NAT_GATEWAY), NAT_PROCESSING),
    ((VPC_ENDPOINT,), "interface endpoint data processing (per GB)"),
    (LOAD_BALANCERS, "ALB LCUs above the assumed 1 LCU per hour"),
    (
        (ECS_SERVICE,),
        "Fargate tasks above the desired/minimum count (autoscaling), ephemeral storage above 20 GB, "
        "and Spot price variation",
    ),
    (
        (RDS_INSTANCE,),
        "RDS backup storage beyond the free amount (100% of provisioned storage), storage autoscaling growth, "
        "IOPS/throughput above the gp3 baseline, Performance Insights beyond the free tier, enhanced monitoring",
    ),
    ((EC2_INSTANCE,), "EC2 CPU credits above baseline (T instances in unlimited mode)"),
    ((LOG_GROUP,), "CloudWatch Logs ingestion and storage of container and database logs"),
    ((FLOW_LOG,), "flow-log volume beyond the assumption, and the storage of flow logs"),
    ((ECS_CLUSTER,), "Container Insights metrics"),
    ((KMS_KEY,), "KMS requests, and 1 USD/month for each of a key's first two rotations"),
    ((SECRET, RDS_INSTANCE), "Secrets Manager API calls"),
    ((ECR_REPOSITORY,), "ECR image storage"),
    (
        (EFS_FILE_SYSTEM,),
        "EFS storage beyond the assumption, Elastic throughput (per GB read and written) and AWS Backup storage",
    ),
    (BUCKETS, "S3 storage and requests"),
    ((CODEBUILD_PROJECT,), "CodeBuild build minutes"),
    ((PIPELINE,), "CodePipeline V2 action minutes"),
    ((SNS_TOPIC,), "SNS notifications"),
    ((WAF_WEB_ACL,), "AWS WAF requests beyond the assumption, and the storage of AWS WAF logs"),
    ((DISCOVERY_SERVICE,), "Cloud Map registered instances and DNS queries"),
]


def _region(graph: CapturedGraph) -> str:
    regions = {str(p.inputs.get("region")) for p in graph.of_type(AWS_PROVIDER) if p.inputs.get("region")}
    return sorted(regions)[0] if len(regions) == 1 else ",".join(sorted(regions))

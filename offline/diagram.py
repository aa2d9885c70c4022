"""A Mermaid flowchart of an environment, derived from its resource graph (never from config).

Network tiers become subgraphs inside the VPC; load balancers, services, databases,
instances, interface endpoints and pipelines become nodes, placed in the tier whose subnet
ids they were given. Edges say who may reach whom: security-group ingress rules (from
another group's owners, from the internet, from the VPC or another CIDR), load balancer
routing (listener rule -> target group -> service), NAT egress (NAT gateways, or an instance that
takes a default route) and pipeline deployments.
Pass a graph evaluated without `preview` so subnet ids are known.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from offline.harness.graph import CapturedGraph, Resource
from policies.guardrails.types import (
    AWSX_VPC,
    EC2_INSTANCE,
    ECS_SERVICE,
    EFS_FILE_SYSTEM,
    EFS_MOUNT_TARGET,
    INGRESS_RULE,
    LISTENER_RULES,
    LISTENERS,
    LOAD_BALANCERS,
    PIPELINE,
    RDS_CLUSTER,
    RDS_INSTANCE,
    ROUTE,
    SECURITY_GROUP,
    VPC_ENDPOINT,
)

TIERS = ("public", "private", "isolated")
NODE_TYPES = {
    **dict.fromkeys(LOAD_BALANCERS, "lb"),
    ECS_SERVICE: "service",
    RDS_INSTANCE: "db",
    RDS_CLUSTER: "db",
    EC2_INSTANCE: "instance",
    PIPELINE: "pipeline",
}


def mermaid(graph: CapturedGraph) -> str:
    """The flowchart text (without Markdown fences)."""
    return _Diagram(graph).render()


def markdown(graph: CapturedGraph, title: str | None = None) -> str:
    """The flowchart in a ```mermaid block, which GitHub renders."""
    head = f"{title}\n\n" if title else ""
    return f"{head}```mermaid\n{mermaid(graph)}\n```\n"


def safe_id(text: str) -> str:
    """A Mermaid node id: letters, digits and underscores only, never a reserved word like `end`."""
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", text)


def _label(*lines: str) -> str:
    """A quoted Mermaid label; each argument is one line of text, escaped, joined with <br/>."""
    escaped = [line.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for line in lines if line]
    return '"' + "<br/>".join(escaped) + '"'


class _Diagram:
    def __init__(self, graph: CapturedGraph):
        self.graph = graph
        self.by_urn = {r.urn: r for r in graph.resources}
        self.subnet_tier: dict[str, str] = {}
        self.vpcs = graph.of_type(AWSX_VPC)
        for vpc in self.vpcs:
            for tier in TIERS:
                for subnet in vpc.outputs.get(f"{tier}SubnetIds") or []:
                    self.subnet_tier[subnet] = tier
        self.nodes: dict[str, tuple[tuple[str, ...], str]] = {}  # id -> (label lines, shape)
        self.placement: dict[str, str | None] = {}  # id -> tier, "vpc", or None (outside the VPC)
        self.owner: dict[str, str] = {}  # resource urn -> node id
        self.edges: dict[tuple[str, str, str], list[str]] = defaultdict(list)  # (src, dst, style) -> labels

    # --- nodes ---------------------------------------------------------------------------

    def _add(self, node: str, label: str | tuple[str, ...], shape: str, tier: str | None) -> str:
        self.nodes.setdefault(node, ((label,) if isinstance(label, str) else label, shape))
        self.placement.setdefault(node, tier)
        return node

    def _tier(self, res: Resource) -> str | None:
        strings = set(_strings(res.inputs))
        for dep_urns in res.property_dependencies.values():
            for urn in dep_urns:
                dep = self.by_urn.get(urn)
                if dep and "subnetGroup" in dep.type:
                    strings |= set(_strings(dep.inputs))  # the DB subnet group's subnetIds
        for tier in TIERS:
            if any(self.subnet_tier.get(s) == tier for s in strings):
                return tier
        return None

    def _collect_nodes(self) -> None:
        nat_instances = self._nat_instances()
        # Sorted, not in registration order (which varies between runs), so the diagram is stable.
        for res in sorted(self.graph.registered, key=lambda r: r.urn):
            kind = NODE_TYPES.get(res.type)
            if kind is None:
                continue
            label = {
                "lb": (
                    f"load balancer {res.name}",
                    "internal" if res.inputs.get("internal") is True else "internet-facing",
                ),
                "service": (f"ECS service {res.name}",),
                "db": (f"database {res.name}", f"{res.inputs.get('engine', '')} {res.inputs.get('instanceClass', '')}"),
                "instance": (
                    f"{'NAT' if res.urn in nat_instances else 'EC2'} instance {res.name}",
                    str(res.inputs.get("instanceType", "")),
                ),
                "pipeline": (f"pipeline {res.name}",),
            }[kind]
            shape = {"db": "cyl", "pipeline": "round"}.get(kind, "box")
            node = self._add(safe_id(f"{kind}_{res.name}"), label, shape, self._tier(res))
            self.owner[res.urn] = node
        # An EFS file system is one node in the tier of its mount targets, which stand for it in
        # their security group (so the NFS rule draws an edge from the service to it).
        file_systems = {r.urn: r for r in self.graph.of_type(EFS_FILE_SYSTEM)}
        targets: dict[str, list[Resource]] = defaultdict(list)
        for res in self.graph.of_type(EFS_MOUNT_TARGET):
            for urn in res.property_dependencies.get("fileSystemId", []):
                if urn in file_systems:
                    targets[urn].append(res)
        for urn in sorted(file_systems):
            res = file_systems[urn]
            tiers = {self._tier(t) for t in targets[urn]}
            encrypted = "encrypted" if res.inputs.get("encrypted") is True else "NOT encrypted"
            node = self._add(
                safe_id(f"efs_{res.name}"),
                (f"EFS file system {res.name}", f"{encrypted}, {len(targets[urn])} mount targets"),
                "cyl",
                tiers.pop() if len(tiers) == 1 else None,
            )
            self.owner[urn] = node
            for target in targets[urn]:
                self.owner[target.urn] = node
        endpoints: dict[str | None, list[Resource]] = defaultdict(list)
        for res in self.graph.of_type(VPC_ENDPOINT):
            if res.inputs.get("vpcEndpointType") == "Interface":
                endpoints[self._tier(res)].append(res)
        for tier, group in endpoints.items():
            names = ", ".join(sorted(_endpoint_service(r) for r in group))
            node = self._add(safe_id(f"endpoints_{tier}"), ("interface endpoints", names), "box", tier)
            for res in group:
                self.owner[res.urn] = node

    def _sg_owners(self) -> dict[str, set[str]]:
        """Security group urn -> node ids of the resources that sit in that group."""
        owners: dict[str, set[str]] = defaultdict(set)
        for urn, node in self.owner.items():
            res = self.by_urn[urn]
            for dep_urns in res.property_dependencies.values():
                for dep in dep_urns:
                    if self.by_urn.get(dep) and self.by_urn[dep].type == SECURITY_GROUP:
                        owners[dep].add(node)
        return owners

    # --- edges ---------------------------------------------------------------------------

    def _ingress_edges(self) -> None:
        owners = self._sg_owners()
        vpc_cidrs = {str(v.inputs.get("cidrBlock")) for v in self.vpcs}
        # A rule from one of a tier's subnets comes from that tier's subgraph.
        tier_cidrs = {
            cidr: str(spec.get("type", "")).lower()
            for v in self.vpcs
            for spec in v.inputs.get("subnetSpecs") or []
            for cidr in spec.get("cidrBlocks") or []
        }
        for rule in sorted(self.graph.of_type(INGRESS_RULE), key=lambda r: r.urn):
            targets = {n for sg in rule.property_dependencies.get("securityGroupId", []) for n in owners.get(sg, ())}
            if not targets:
                continue
            label = _ports(rule.inputs)
            sources: set[str] = set()
            for sg in rule.property_dependencies.get("referencedSecurityGroupId", []):
                sources |= owners.get(sg, set())
            cidr = rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")
            if cidr in ("0.0.0.0/0", "::/0"):
                sources.add(self._add("internet", "internet", "circle", None))
            elif cidr in vpc_cidrs:
                sources.add(self._add("n_vpc_cidr", f"any address in the VPC ({cidr})", "box", "vpc"))
            elif cidr in tier_cidrs:
                sources.add(safe_id(f"tier_{tier_cidrs[cidr]}"))
            elif isinstance(cidr, str):
                sources.add(self._add(safe_id(f"cidr_{cidr}"), cidr, "box", None))
            if rule.inputs.get("prefixListId"):
                sources.add(self._add(safe_id(f"pl_{rule.name}"), "prefix list", "box", None))
            for src in sources:
                for dst in targets:
                    if src != dst:
                        self.edges[(src, dst, "-->")].append(label)

    def _routing_edges(self) -> None:
        lb_of_listener = {}
        for listener in self.graph.of_type(*LISTENERS):
            for urn in listener.property_dependencies.get("loadBalancerArn", []):
                if urn in self.owner:
                    lb_of_listener[listener.urn] = self.owner[urn]
        routes: dict[str, list[tuple[str, str]]] = defaultdict(list)  # target group urn -> (lb node, label)
        for listener in self.graph.of_type(*LISTENERS):
            for tg in listener.property_dependencies.get("defaultActions", []):
                if listener.urn in lb_of_listener:
                    routes[tg].append((lb_of_listener[listener.urn], "default"))
        for rule in self.graph.of_type(*LISTENER_RULES):
            lbs = [lb_of_listener[u] for u in rule.property_dependencies.get("listenerArn", []) if u in lb_of_listener]
            for tg in rule.property_dependencies.get("actions", []):
                for lb in lbs:
                    routes[tg].append((lb, _conditions(rule.inputs)))
        for service in self.graph.of_type(ECS_SERVICE):
            for tg in service.property_dependencies.get("loadBalancers", []):
                for lb, label in routes.get(tg, []):
                    self.edges[(lb, self.owner[service.urn], "==>")].append(label)

    def _pipeline_edges(self) -> None:
        for pipeline in self.graph.of_type(PIPELINE):
            deps = {u for urns in pipeline.property_dependencies.values() for u in urns}
            for urn in deps:
                res = self.by_urn.get(urn)
                if res and res.type == ECS_SERVICE:
                    self.edges[(self.owner[pipeline.urn], self.owner[urn], "-.->")].append("deploys")

    def _nat_edges(self) -> None:
        for vpc in self.vpcs:
            strategy = (vpc.inputs.get("natGateways") or {}).get("strategy", "OnePerAz")
            zones = len(vpc.inputs.get("availabilityZoneNames") or [])
            count = {"None": 0, "Single": 1, "OnePerAz": zones}.get(strategy, 0)
            if not count:
                continue
            nat = self._add(safe_id(f"nat_{vpc.name}"), f"NAT gateway x{count}", "box", "public")
            internet = self._add("internet", "internet", "circle", None)
            self.edges[(safe_id("tier_private"), nat, "-.->")].append("egress")
            self.edges[(nat, internet, "-.->")].append("")
        for urn in self._nat_instances():
            if urn in self.owner:
                internet = self._add("internet", "internet", "circle", None)
                self.edges[(safe_id("tier_private"), self.owner[urn], "-.->")].append("egress")
                self.edges[(self.owner[urn], internet, "-.->")].append("")

    def _nat_instances(self) -> set[str]:
        """Urns of the instances a default route (0.0.0.0/0) sends traffic to: NAT instances."""
        return {
            urn
            for route in self.graph.of_type(ROUTE)
            if route.inputs.get("destinationCidrBlock") == "0.0.0.0/0"
            for urn in route.property_dependencies.get("networkInterfaceId", [])
            if self.by_urn.get(urn) and self.by_urn[urn].type == EC2_INSTANCE
        }

    # --- output --------------------------------------------------------------------------

    def render(self) -> str:
        self._collect_nodes()
        self._nat_edges()
        self._ingress_edges()
        self._routing_edges()
        self._pipeline_edges()
        lines = ["flowchart TB"]
        vpc = self.vpcs[0] if self.vpcs else None
        specs = {str(s.get("type", "")).lower(): s for s in (vpc.inputs.get("subnetSpecs") or [] if vpc else [])}
        inside = {*specs, "vpc"} if vpc else set()
        for node, placed in self.placement.items():
            if placed not in inside:
                lines.append(f"  {self._node(node)}")
        if vpc:
            lines.append(f"  subgraph vpc[{_label('VPC ' + str(vpc.inputs.get('cidrBlock', '')))}]")
            lines.append("    direction TB")
            lines += [f"    {self._node(n)}" for n, placed in self.placement.items() if placed == "vpc"]
            zones = ", ".join(vpc.inputs.get("availabilityZoneNames") or [])
            for tier in TIERS:
                if tier not in specs:
                    continue
                cidrs = ", ".join(specs[tier].get("cidrBlocks") or [])
                lines.append(f"    subgraph {safe_id('tier_' + tier)}[{_label(f'{tier} subnets ({zones})')}]")
                lines.append("      direction LR")
                lines.append(f"      {safe_id('cidrs_' + tier)}[{_label(cidrs or tier)}]")
                for node, placed in self.placement.items():
                    if placed == tier:
                        lines.append(f"      {self._node(node)}")
                lines.append("    end")
            lines.append("  end")
        for (src, dst, style), labels in sorted(self.edges.items()):
            text = "; ".join(sorted({label for label in labels if label}))
            lines.append(f"  {src} {style}|{_label(text)}| {dst}" if text else f"  {src} {style} {dst}")
        return "\n".join(lines)

    def _node(self, node: str) -> str:
        label, shape = self.nodes[node]
        open_, close = {"box": ("[", "]"), "cyl": ("[(", ")]"), "round": ("(", ")"), "circle": ("((", "))")}[shape]
        return f"{node}{open_}{_label(*label)}{close}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _endpoint_service(res: Resource) -> str:
    parts = str(res.inputs.get("serviceName") or res.name).split(".")
    return ".".join(parts[3:]) if parts[:2] == ["com", "amazonaws"] else ".".join(parts)


def _ports(inputs: dict[str, Any]) -> str:
    protocol = str(inputs.get("ipProtocol", ""))
    if protocol in ("-1", "all"):
        return "all traffic"
    low, high = inputs.get("fromPort"), inputs.get("toPort")
    ports = f"{low}" if low == high else f"{low}-{high}"
    return f"{protocol} {ports}"


def _conditions(inputs: dict[str, Any]) -> str:
    parts = []
    for condition in inputs.get("conditions") or []:
        for key in ("pathPattern", "hostHeader"):
            values = (condition.get(key) or {}).get("values")
            if isinstance(values, list):
                parts += [str(v) for v in values]
    return ", ".join(parts) or "rule"

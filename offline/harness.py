"""Runs the real program for a stack against Pulumi's mocked engine and captures its resource graph.

Tests, the offline policy check and the offline preview all read environments through
`evaluate(stack)`. It reads `Pulumi.<stack>.yaml` (secure values become placeholders),
runs `__main__.py` in a fresh Pulumi context and records, for every resource the program
registers, what the engine would receive: type, name, URN, parent, inputs in wire
format (camelCase) and the options that matter (protect, dependencies, ignoreChanges,
deleteBeforeReplace). Nothing here calls AWS or the Pulumi CLI.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
ACCOUNT_ID = "123456789012"
STACK_TYPE = "pulumi:pulumi:Stack"


class Unknown:
    """A value the engine would only know after deployment (in preview runs)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


class Secret(str):
    """A config value that is `secure:` in the stack file; the program sees this placeholder."""


@dataclass
class Resource:
    urn: str
    id: str  # "" for components, and for custom resources in preview
    type: str
    name: str
    parent: str
    custom: bool
    provider: str  # provider reference "urn::id" of a custom resource
    providers: dict[str, str]  # package -> provider reference, as passed to components
    inputs: dict[str, Any]
    wire_inputs: Any  # google.protobuf.Struct exactly as sent to the engine
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def depends_on(self) -> list[str]:
        """Dependencies declared with `depends_on`, not implied by an input."""
        implied = {urn for urns in self.property_dependencies.values() for urn in urns}
        return [urn for urn in self.dependencies if urn not in implied]

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0]


@dataclass
class Graph:
    """Every resource one run of the program registered, in registration order."""

    stack: str
    resources: list[Resource]
    outputs: dict[str, Any]
    error: str | None = None

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} {name or ''}, found {len(found)}")
        return found[0]

    def get(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources if r.parent == parent.urn]

    @property
    def registered(self) -> list[Resource]:
        """Every resource but the stack itself."""
        return [r for r in self.resources if r.type != STACK_TYPE]


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The `config:` map of `Pulumi.<stack>.yaml`, with every `secure:` value replaced by a Secret placeholder."""
    doc = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}

    def placeholders(value: Any, key: str) -> Any:
        if isinstance(value, dict) and set(value) == {"secure"}:
            return Secret(f"placeholder-for-{key}")
        if isinstance(value, dict):
            return {k: placeholders(v, f"{key}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [placeholders(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return value

    return {key: placeholders(value, key) for key, value in (doc.get("config") or {}).items()}


def evaluate(stack: str, config: dict[str, Any] | None = None, *, preview: bool = False) -> Graph:
    """Runs `__main__.py` for `stack` (with `config` instead of the stack file's, if given).

    With `preview=True` the mock behaves like `pulumi preview` of a new stack: computed
    outputs (ids, ARNs, endpoints) are unknown. A program error is returned in
    `Graph.error`, with what was registered before it.
    """
    config = stack_config(stack) if config is None else config
    return contextvars.Context().run(_run, stack, config, preview)


def _run(stack: str, config: dict[str, Any], preview: bool) -> Graph:
    region = config.get("aws:region") or "us-east-1"
    graph = Graph(stack=stack, resources=[], outputs={})
    monitor = _CapturingMonitor(_AwsMocks(region, preview), graph)
    settings.configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=pulumi_mocks.MockEngine(logger=None),
            project=PROJECT,
            stack=stack,
            dry_run=preview,
            organization="organization",
            root_directory=str(ROOT),
            callbacks=None,
        )
    )
    set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()},
        [key for key, value in config.items() if _has_secret(value)],
    )
    program = str(ROOT / "__main__.py")
    try:
        _sync_await(run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
    except pulumi.RunError as error:
        graph.error = str(error)
    return graph


def _has_secret(value: Any) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


class _CapturingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, recording each registration as the engine would receive it."""

    def __init__(self, mocks: pulumi_mocks.Mocks, graph: Graph):
        super().__init__(mocks)
        self.graph = graph

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        outputs = self.resources[response.urn].state if response.urn in self.resources else {}
        self.graph.resources.append(
            Resource(
                urn=response.urn,
                id=response.id,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=request.custom,
                provider=request.provider,
                providers=dict(request.providers),
                inputs=plain(request.object),
                wire_inputs=request.object,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                protect=bool(request.protect),
                ignore_changes=list(request.ignoreChanges),
                delete_before_replace=request.deleteBeforeReplace,
                outputs=outputs,
            )
        )
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] == STACK_TYPE:
            self.graph.outputs = plain(request.outputs)
        return super().RegisterResourceOutputs(request)


def plain(struct: Any) -> dict[str, Any]:
    """Wire-format properties as plain Python: secrets unwrapped, unknowns as UNKNOWN, refs as URNs."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            sig = value.get(rpc._special_sig_key)
            if sig == rpc._special_secret_sig:
                return convert(value.get("value"))
            if sig == rpc._special_resource_sig:
                return value.get("urn")
            if sig == rpc._special_output_value_sig:
                return convert(value["value"]) if "value" in value else UNKNOWN
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if value == rpc.UNKNOWN:
            return UNKNOWN
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return convert(json_format.MessageToDict(struct)) if struct is not None else {}


# --- the mocked AWS provider ---------------------------------------------------------


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


# Id prefixes of EC2-style resources; other resources use their name as id, like AWS.
_ID_PREFIX = {
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/instance:Instance": "i-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
}

# Resources whose ARN has no region (IAM is global) or its own shape.
_ARN = {
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:iam/policy:Policy": "arn:aws:iam::{account}:policy/{name}",
    "aws:iam/instanceProfile:InstanceProfile": "arn:aws:iam::{account}:instance-profile/{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:s3/bucket:Bucket": "arn:aws:s3:::{name}",
    "aws:s3/bucketV2:BucketV2": "arn:aws:s3:::{name}",
}

# Extra outputs of resources whose outputs the program reads beyond id, arn and name.
OutputsFn = Callable[[str, dict, "_AwsMocks"], dict]
TYPE_OUTPUTS: dict[str, OutputsFn] = {}


def outputs_for(type_: str) -> Callable[[OutputsFn], OutputsFn]:
    def register(fn: OutputsFn) -> OutputsFn:
        TYPE_OUTPUTS[type_] = fn
        return fn

    return register


@outputs_for("awsx:ec2:Vpc")
def _awsx_vpc(name: str, inputs: dict, mocks: _AwsMocks) -> dict:
    """What awsx.ec2.Vpc reports once deployed: ids per tier, one subnet per AZ, and its layout."""
    out: dict[str, Any] = {"vpcId": f"vpc-{_hex(name)}", "subnetLayout": []}
    for spec in inputs.get("subnetSpecs", []):
        tier = spec["type"].lower()
        out[f"{tier}SubnetIds"] = [f"subnet-{_hex(f'{name}-{tier}-{az}')}" for az in inputs["availabilityZoneNames"]]
        out["subnetLayout"].append(
            {"type": spec["type"], "name": spec.get("name"), "cidrBlocks": spec.get("cidrBlocks")}
        )
    return out


class _AwsMocks(pulumi_mocks.Mocks):
    def __init__(self, region: str, preview: bool):
        self.region = region
        self.preview = preview

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        inputs = dict(args.inputs)
        if not args.custom:
            # Components report outputs of their own (awsx's), not their inputs.
            outputs_fn = TYPE_OUTPUTS.get(args.typ)
            outputs = outputs_fn(args.name, inputs, self) if outputs_fn and not self.preview else {}
            return "", outputs
        if self.preview or args.typ.startswith("pulumi:providers:"):
            # A new resource in preview: only what the program gave is known.
            return "" if self.preview else f"{args.name}-provider-id", inputs
        name = inputs.get("name") or _autoname(args.name, inputs)
        resource_id = _ID_PREFIX.get(args.typ, "") + _hex(args.name) if args.typ in _ID_PREFIX else name
        service, kind = args.typ.split(":")[1].split("/")[0], args.typ.split(":")[2]
        arn_shape = _ARN.get(args.typ, "arn:aws:{service}:{region}:{account}:{kind}/{name}")
        state = {
            **inputs,
            "name": name,
            "arn": arn_shape.format(
                service=service, region=self.region, account=ACCOUNT_ID, kind=kind.lower(), name=name
            ),
        }
        if args.typ in TYPE_OUTPUTS:
            state.update(TYPE_OUTPUTS[args.typ](args.name, inputs, self))
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs):
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{letter}" for letter in "abc"]
            area, direction, number = self.region.split("-")[-3:]
            zone_ids = [f"{area}{direction[0]}{number}-az{i}" for i in (1, 2, 3)]
            return {"id": self.region, "names": names, "zoneIds": zone_ids, "state": "available"}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": ACCOUNT_ID,
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/deployer",
                "userId": "AROAEXAMPLEDEPLOYER",
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"id": self.region, "name": self.region, "region": self.region}
        if args.token == "aws:index/getPartition:getPartition":
            return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com"}
        raise NotImplementedError(f"the mock does not answer the invoke {args.token}; add it to offline/harness.py")


def _autoname(logical: str, inputs: dict) -> str:
    """Pulumi's auto-naming: the logical name (or namePrefix) plus a random-looking suffix."""
    prefix = inputs.get("namePrefix")
    return f"{prefix}{_hex(logical, 26)}" if prefix else f"{logical}-{_hex(logical, 7)}"

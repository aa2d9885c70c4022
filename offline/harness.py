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
import json
import logging
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

from components.placeholders import SIMULATED_RUN
from offline.mock_aws import AwsMocks

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
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
    # What the program logged as warnings (pulumi.log.warn), in order.
    warnings: list[str] = field(default_factory=list)
    # Every invoke (data source) the program called: (token, arguments as plain values).
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

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


def evaluate(
    stack: str,
    config: dict[str, Any] | None = None,
    *,
    preview: bool = False,
    update: bool = False,
    program: Callable[[], Any] | None = None,
) -> Graph:
    """Runs `__main__.py` for `stack` (with `config` instead of the stack file's, if given).

    With `preview=True` the mock behaves like `pulumi preview` of a new stack: computed
    outputs (ids, ARNs, endpoints) are unknown. With `update=True` the program runs as in a
    real `pulumi up`, where the checks that only stop real updates apply (a plain evaluation
    is a test run, neither). `program` replaces `__main__.py`, for tests that need a few
    hand-made resources. A program error is returned in `Graph.error`, with what was
    registered before it.
    """
    if preview and update:
        raise ValueError("a run is a preview or an update, not both")
    config = stack_config(stack) if config is None else config
    program = program or (lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))
    run = "preview" if preview else "update" if update else "test"
    return contextvars.Context().run(_run, stack, config, run, program)


def _run(stack: str, config: dict[str, Any], run: str, program: Callable[[], Any]) -> Graph:
    preview = run == "preview"
    SIMULATED_RUN.set(run)
    graph = Graph(stack=stack, resources=[], outputs={})
    monitor = _CapturingMonitor(AwsMocks(config.get("aws:region") or "us-east-1", preview), graph)
    settings.configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=pulumi_mocks.MockEngine(logger=_GraphLog(graph)),
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
    try:
        _sync_await(run_in_stack(program))
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


class _GraphLog:
    """The mock engine's logger: warnings go to the graph; errors to Python's logging, as before; the rest nowhere."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def warning(self, message: str) -> None:
        self.graph.warnings.append(message)

    def error(self, message: str) -> None:
        logging.getLogger().error(message)

    def debug(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...


class _CapturingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, recording each registration and invoke as the engine would receive it."""

    def __init__(self, mocks: pulumi_mocks.Mocks, graph: Graph):
        super().__init__(mocks)
        self.graph = graph

    def Invoke(self, request):
        self.graph.invokes.append((request.tok, plain(request.args)))
        return super().Invoke(request)

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
        # Components (and the stack, whose outputs are the exports) report outputs here.
        outputs = plain(request.outputs)
        if request.urn.split("::")[2] == STACK_TYPE:
            self.graph.outputs = outputs
        for resource in self.graph.resources:
            if resource.urn == request.urn:
                resource.outputs = {**resource.outputs, **outputs}
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

"""The offline policy check: each stack's graph through the policy pack, the way the Pulumi engine does it.

`python3 tasks.py policy [STACK ...] [--preview]` (default: every stack). For each stack it
runs the program under the mock harness (`offline.harness.evaluate`), then sends
pulumi_policy's own analyzer servicer the protobuf messages the engine sends over gRPC (no
server and no CLI here: the servicer's methods are called directly, through the subclass in
`offline/harness/sdk.py` that spares repeated work and changes nothing a policy sees):

1. `GetAnalyzerInfo`, then the pack config is reconciled like the engine does for
   `--policy-pack-config` (schema defaults, the file's `all` and per-policy levels and
   properties) and sent with `Configure`; `ConfigureStack` tells the stack's name.
   Here the check is stricter than the CLI. Both refuse an invalid enforcement level and a
   property value its policy's schema rejects (wrong type, out of range). The CLI silently
   ignores a policy name the pack does not have and a property the schema does not list
   (pulumi/pulumi `pkg/resource/analyzer/config.go`: `applyConfig` keeps every name,
   `validatePolicyPackConfig` validates only the pack's own policies, against a JSON schema
   that allows extra keys); this check reports both as errors, because a misspelt name
   would otherwise weaken a stack without a word.
2. `Analyze` for every resource, with its inputs marshalled as the engine sends them
   (unknowns as the unknown-string sentinel, secrets kept, output values and resource
   references flattened) and its provider.
3. `AnalyzeStack` once with every resource's outputs (state), parent, dependencies and
   property dependencies.

The pack config of a stack is `policies/config.<stack>.json`, the same file users pass to
`pulumi preview --policy-pack policies --policy-pack-config policies/config.<stack>.json`.
Violations are printed by enforcement level; any mandatory one makes the exit code 1.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from offline.harness import sdk
from offline.harness.engine import collector_paused, evaluate
from offline.harness.graph import CapturedGraph, Resource
from offline.harness.stacks import PROJECT, ROOT, StackFileError, stack_config, stack_names
from offline.harness.wire import Unknown, as_dict, walk
from offline.workers import forked_map
from policies.guardrails.pack import DESCRIPTION, ENFORCEMENT_LEVEL, NAME, all_policies
from policies.guardrails.types import STACK

POLICY_DIR = ROOT / "policies"
LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()}


class PolicyConfigError(Exception):
    """A pack config the engine would refuse, or one it would silently ignore in part."""


# What the CLI does with the names the offline check refuses; said in each such error.
CLI_IGNORES = "the Pulumi CLI would silently ignore this; the offline check refuses it so the mistake is seen"


@dataclass
class Finding:
    policy: str
    level: str  # "mandatory" or "advisory"
    urn: str  # "" for a violation of the stack as a whole
    message: str  # without the policy's description


@dataclass
class Result:
    stack: str
    findings: list[Finding] = field(default_factory=list)
    resources: int = 0
    program_seconds: float = 0.0
    policy_seconds: float = 0.0
    error: str | None = None

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "advisory"]

    def of(self, policy: str) -> list[Finding]:
        return [f for f in self.findings if f.policy == policy]


# --- the pack and its config ------------------------------------------------------------------


def new_analyzer() -> Any:
    """What `PolicyPack(...)` in policies/__main__.py builds before it starts serving, as sdk.PolicyAnalyzer
    (each resource read once per request rather than once per policy, and only by the policies of its type)."""
    return sdk.PolicyAnalyzer(NAME, "0.0.1", all_policies(), ENFORCEMENT_LEVEL, None, DESCRIPTION)


class PolicyConfigFileError(PolicyConfigError):
    """A pack config file that is not JSON: `policies/config.<stack>.json:<line>:<column>: <what is wrong>`."""


def pack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """`policies/config.<stack>.json` of the repository at `root` (the pack's own levels when there is none)."""
    path = root / POLICY_DIR.relative_to(ROOT) / f"config.{stack}.json"
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise PolicyConfigFileError(f"{path.relative_to(root)}:{error.lineno}:{error.colno}: {error.msg}") from None
    if not isinstance(config, dict):
        raise PolicyConfigFileError(f"{path.relative_to(root)}:1:1: a pack config is a JSON object of policy names")
    return config


_JSON_TYPES = {
    "integer": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer(),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def reconcile(info: analyzer_pb2.AnalyzerInfo, config: Mapping[str, Any]) -> dict[str, analyzer_pb2.PolicyConfig]:
    """Every policy's level and properties, as the engine computes them from the pack and the config file."""
    policies = {p.name: p for p in info.policies}
    unknown = sorted(set(config) - set(policies) - {"all"})
    if unknown:
        raise PolicyConfigError(
            f"policy pack config names unknown policies: {', '.join(unknown)} "
            f"(the pack has no such policy; {CLI_IGNORES})"
        )
    result = {}
    for name, policy in policies.items():
        level = LEVEL_NAMES[policy.enforcementLevel]
        schema = json_format.MessageToDict(policy.configSchema.properties)
        properties = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
        entries = [config.get("all"), config.get(name)]
        for entry in entries:
            if isinstance(entry, str):
                level = entry
            elif isinstance(entry, Mapping) and entry is config.get(name):
                level = entry.get("enforcementLevel", level)
                properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        if level not in LEVELS:
            raise PolicyConfigError(f"{name}: unknown enforcement level {level!r} (the Pulumi CLI refuses it too)")
        for key, value in properties.items():
            spec = schema.get(key)
            if spec is None:
                raise PolicyConfigError(
                    f"{name}: unknown property {key!r} (known: {', '.join(schema) or 'none'}; {CLI_IGNORES})"
                )
            check = _JSON_TYPES.get(spec.get("type", ""), lambda v: True)
            if not check(value):
                raise PolicyConfigError(
                    f"{name}.{key}: expected {spec['type']}, got {value!r} (the Pulumi CLI refuses it too)"
                )
            if ("minimum" in spec and value < spec["minimum"]) or ("maximum" in spec and value > spec["maximum"]):
                raise PolicyConfigError(
                    f"{name}.{key}: {value} is outside {spec.get('minimum')}..{spec.get('maximum')} "
                    "(the Pulumi CLI refuses it too)"
                )
        struct = struct_pb2.Struct()
        struct.update(properties)
        result[name] = analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level], properties=struct)
    return result


# --- marshalling as the engine does ------------------------------------------------------------


def _secret(value: Any) -> dict[str, Any]:
    return {sdk.SIG_KEY: sdk.SECRET_SIG, "value": value}


def _output_value(value: Mapping[str, Any], visit: Any) -> Any:
    if "value" not in value:
        return sdk.UNKNOWN
    inner = visit(value["value"])
    return _secret(inner) if value.get("secret") else inner


def _resource_reference(value: Mapping[str, Any], visit: Any) -> Any:
    if "id" in value:  # a custom resource is referred to by its id
        return value["id"] or sdk.UNKNOWN
    return value.get("urn", "")


def engine_value(value: Any) -> Any:
    """An SDK wire value as the engine forwards it to analyzers (KeepUnknowns, KeepSecrets, no resources/outputs)."""
    return walk(
        value,
        secret=lambda secret, visit: _secret(visit(secret.get("value"))),
        output=_output_value,
        resource=_resource_reference,
        asset=lambda asset, visit: asset,
    )


def _state_scalar(value: Any) -> Any:
    if isinstance(value, sdk.OutputUnknown | Unknown):
        return sdk.UNKNOWN
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def state_value(value: Any) -> Any:
    """A resource's state (the mock's Python values) as the engine sends outputs to analyzers."""
    return walk(value, leaf=_state_scalar)


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _inputs(resource: Resource) -> struct_pb2.Struct:
    if resource.wire_inputs is None:
        return struct_pb2.Struct()
    return _struct(engine_value(as_dict(resource.wire_inputs)))


def _outputs(resource: Resource, graph: CapturedGraph) -> struct_pb2.Struct:
    if resource.type == STACK:
        return _struct(state_value(graph.outputs))
    state = state_value(resource.outputs)
    if resource.custom and resource.id and "id" not in state:
        state["id"] = resource.id  # bridged providers report the id among the outputs
    return _struct(state)


def _options(resource: Resource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=resource.ignore_changes,
        deleteBeforeReplace=resource.delete_before_replace,
        deleteBeforeReplaceDefined=resource.delete_before_replace,
        parent=resource.parent,
    )


def _provider(resource: Resource, by_urn: Mapping[str, Resource]) -> analyzer_pb2.AnalyzerProviderResource | None:
    provider = by_urn.get(resource.provider_urn) if resource.provider else None
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, properties=_inputs(provider), urn=provider.urn, name=provider.name
    )


# --- the check -----------------------------------------------------------------------------------


def check(graph: CapturedGraph, config: Mapping[str, Any] | None = None, *, dry_run: bool = False) -> Result:
    """Runs the pack over `graph` with `config` (default: the stack's `policies/config.<stack>.json`)."""
    with collector_paused():
        return _check(graph, config, dry_run=dry_run)


def _check(graph: CapturedGraph, config: Mapping[str, Any] | None, *, dry_run: bool) -> Result:
    started = time.perf_counter()
    result = Result(stack=graph.stack, resources=len(graph.resources))
    analyzer = new_analyzer()
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), None)
    config = pack_config(graph.stack) if config is None else config
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=reconcile(info, config)), None)
    analyzer.ConfigureStack(
        analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=graph.stack, project=PROJECT, organization="organization", dry_run=dry_run
        ),
        None,
    )
    by_urn = {r.urn: r for r in graph.resources}
    # A provider is the same message for every resource it serves: built once per check.
    providers: dict[str, analyzer_pb2.AnalyzerProviderResource | None] = {}

    def provider_of(resource: Resource) -> analyzer_pb2.AnalyzerProviderResource | None:
        if resource.provider not in providers:
            providers[resource.provider] = _provider(resource, by_urn)
        return providers[resource.provider]

    for resource in graph.resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=_inputs(resource),
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
        )
        provider = provider_of(resource)
        if provider is not None:
            request.provider.CopyFrom(provider)
        response = analyzer.Analyze(request, None)
        # The engine files a resource policy's violation under the resource it analysed.
        _collect(result, response.diagnostics, default_urn=resource.urn)

    stack_request = analyzer_pb2.AnalyzeStackRequest()
    for resource in graph.resources:
        entry = stack_request.resources.add(
            type=resource.type,
            properties=_outputs(resource, graph),
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
            parent=resource.parent,
            dependencies=resource.dependencies,
        )
        provider = provider_of(resource)
        if provider is not None:
            entry.provider.CopyFrom(provider)
        for key, urns in resource.property_dependencies.items():
            entry.propertyDependencies[key].urns.extend(urns)
    _collect(result, analyzer.AnalyzeStack(stack_request, None).diagnostics, default_urn="")

    result.policy_seconds = time.perf_counter() - started
    return result


def _collect(result: Result, diagnostics: Iterable[Any], default_urn: str) -> None:
    for d in diagnostics:
        message = d.message
        if message.startswith(d.description):
            message = message[len(d.description) :].lstrip("\n")
        result.findings.append(
            Finding(d.policyName, LEVEL_NAMES.get(d.enforcementLevel, "advisory"), d.urn or default_urn, message)
        )


def run(stack: str, *, preview: bool = False, root: Path = ROOT) -> Result:
    """Evaluates `stack`'s program under mocks and checks it with the stack's pack config (both files of `root`)."""
    started = time.perf_counter()
    graph = evaluate(stack, stack_config(stack, root), preview=preview)
    program_seconds = time.perf_counter() - started
    if graph.error:
        return Result(stack=stack, program_seconds=program_seconds, error=graph.error)
    result = check(graph, pack_config(stack, root), dry_run=preview)
    result.program_seconds = program_seconds
    return result


def report(result: Result, out: Any = None) -> None:
    out = out or sys.stdout
    total = result.program_seconds + result.policy_seconds
    print(
        f"== {result.stack}: {result.resources} resources, {total:.2f} s "
        f"(program {result.program_seconds:.2f} s, policies {result.policy_seconds:.2f} s)",
        file=out,
    )
    if result.error:
        print(f"   program failed: {result.error}", file=out)
        return
    for level, findings in (("mandatory", result.mandatory), ("advisory", result.advisory)):
        print(f"   {level}: {len(findings)}", file=out)
        for f in sorted(findings, key=lambda f: (f.policy, f.urn)):
            print(f"   - [{f.policy}] {f.urn or '(stack)'}", file=out)
            for line in f.message.splitlines():
                print(f"       {line}", file=out)


def _run_or_refusal(stack: str, *, preview: bool, root: Path) -> Result | StackFileError | PolicyConfigError:
    """`run`, or why the stack's file or pack config stops it before its program runs."""
    try:
        return run(stack, preview=preview, root=root)
    except (StackFileError, PolicyConfigError) as refusal:
        return refusal


def main(argv: list[str], root: Path = ROOT) -> int:
    """`root`: the repository whose stack files and pack configs are checked (a copy of this one with other
    stack files; the program is this checkout's)."""
    parser = argparse.ArgumentParser(prog="tasks.py policy", description=__doc__.split("\n")[0])
    parser.add_argument("stacks", nargs="*", help="stacks to check (default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--preview", action="store_true", help="check as a first preview: computed values unknown")
    args = parser.parse_args(argv)
    stacks = args.stacks or stack_names(root)
    missing = [s for s in stacks if s not in stack_names(root)]
    if missing:
        parser.error(f"no Pulumi.<stack>.yaml for: {', '.join(missing)}")
    started = time.perf_counter()
    failed = False
    # The stacks shared out between the cores (offline/workers.py); the reports follow in their order.
    outcomes = forked_map(functools.partial(_run_or_refusal, preview=args.preview, root=root), stacks)
    for stack, outcome in zip(stacks, outcomes, strict=True):
        if isinstance(outcome, StackFileError | PolicyConfigFileError):
            # One line that starts with the file, line and column, as editors and CI annotations read it.
            print(outcome)
            failed = True
        elif isinstance(outcome, PolicyConfigError):
            print(f"== {stack}: policies/config.{stack}.json: {outcome}")
            failed = True
        else:
            report(outcome)
            failed |= bool(outcome.error or outcome.mandatory)
    print(f"checked {len(stacks)} stack(s) in {time.perf_counter() - started:.2f} s: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Tearing down pulumi_aws's thousands of classes takes about half a second at exit and
    # changes nothing: everything is written, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

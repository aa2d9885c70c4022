"""The offline preview as a `pulumi preview --json` document, so tools written for the real one can read it.

The shape follows the engine's `PreviewDigest` (pkg/display/json.go in pulumi/pulumi):
`config`, `steps` (one `create` step per resource with `op`, `urn`, `provider` and a
`newState` in the state file's `ResourceV3` shape: `urn`, `custom`, `id`, `type`,
`inputs`, `parent`, `provider`, `dependencies`, `propertyDependencies`, `protect`, ...),
`diagnostics` (`urn`, `message`, `severity`), `duration` (nanoseconds) and
`changeSummary`. As in the real output, unknown values are the engine's placeholder
string `04da6b54-80e4-46f7-96ec-b56ff0331ba9`, secrets are `[secret]`, and resource
references are the state file's resource-reference objects.

What the real preview has no place for goes under one extra top-level key, `ecsPlatform`
(cost estimate, counts per type, policy verdicts, the default providers the engine registers
without reporting a step, and, with `--compare`, the comparison); readers of the real format
ignore it. The real `--json` output drops policy events, so verdicts only appear there.

Two runs on the same input write the same bytes: maps are written with sorted keys, as Go's
encoding/json writes the engine's property maps, steps come in the harness's fixed
registration order, and `duration` is 0 (the real one is the wall-clock time of the run).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from offline.cost import Estimate
from offline.harness.graph import CapturedGraph, Resource
from offline.harness.stacks import Secret
from offline.harness.urns import is_provider
from offline.harness.wire import as_dict, walk, whole_numbers

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # computedValuePlaceholder in pkg/resource/stack
SECRET = "[secret]"
RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
SIG_KEY = "4dabf18193072939515e22adb298388d"
# Bumped when what the document lists changes, so a comparison knows what an older one left out.
# 2: engine URNs, the children of remote components (awsx) listed, default providers named.
FORMAT = 2


def document(
    graph: CapturedGraph,
    config: dict[str, Any],
    cost: Estimate | None = None,
    verdicts: list[dict[str, Any]] | None = None,
    duration_seconds: float = 0.0,
    diagnostics: list[dict[str, str]] | None = None,
    *,
    default_providers: list[Resource] = (),
    unlisted: list[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The preview digest of one stack, as a JSON-ready dict; `graph` holds the reported steps in order."""
    steps = [_step(res) for res in graph.resources]
    doc: dict[str, Any] = {
        "config": {key: _config_value(config[key]) for key in sorted(config)},
        "steps": steps,
        "diagnostics": diagnostics or [],
        "duration": int(duration_seconds * 1e9),
        "changeSummary": {"create": len(steps)} if steps else {},
    }
    for key in ("steps", "diagnostics", "changeSummary"):  # omitempty, as in the engine's struct
        if not doc[key]:
            del doc[key]
    doc["ecsPlatform"] = {
        "format": FORMAT,
        "stack": graph.stack,
        "countsByType": dict(sorted(Counter(r.type for r in graph.resources).items())),
        "policyVerdicts": verdicts,
        "cost": _cost(cost) if cost else None,
        # Registered by the engine for resources without a provider; `pulumi preview` reports no step for them.
        "defaultProviders": [{"urn": p.urn, "inputs": wire_to_json(p.wire_inputs)} for p in default_providers],
        "unlistedChildren": [{"urn": urn, "why": why} for urn, why in unlisted],
    }
    return doc


def _step(res: Resource) -> dict[str, Any]:
    provider = res.provider if res.custom and not is_provider(res.type) else ""
    new_state: dict[str, Any] = {
        "urn": res.urn,
        "custom": res.custom,
        "id": "",
        "type": res.type,
        "inputs": wire_to_json(res.wire_inputs),
        "outputs": {},
    }
    if res.parent:
        new_state["parent"] = res.parent
    if res.protect:
        new_state["protect"] = True
    if res.dependencies:
        new_state["dependencies"] = sorted(res.dependencies)
    if provider:
        new_state["provider"] = provider
    deps = {key: sorted(urns) for key, urns in sorted(res.property_dependencies.items()) if urns}
    if deps:
        new_state["propertyDependencies"] = deps
    if res.ignore_changes:
        new_state["ignoreChanges"] = list(res.ignore_changes)
    step: dict[str, Any] = {"op": "create", "urn": res.urn}
    if provider:
        step["provider"] = provider
    step["newState"] = new_state
    step["detailedDiff"] = None
    return step


def _reference(value: Mapping[str, Any], visit: Any) -> dict[str, Any]:
    """A resource reference as the state file writes one."""
    ref = {SIG_KEY: RESOURCE_REFERENCE_SIG, "urn": value.get("urn")}
    if "id" in value:
        ref["id"] = UNKNOWN if value["id"] in ("", UNKNOWN) else value["id"]
    if value.get("packageVersion"):
        ref["packageVersion"] = value["packageVersion"]
    return ref


def _output_value(value: Mapping[str, Any], visit: Any) -> Any:
    if value.get("secret"):
        return SECRET
    return visit(value["value"]) if "value" in value else UNKNOWN


def wire_to_json(struct: Any) -> dict[str, Any]:
    """Wire properties as the real preview prints them: unknowns as the placeholder, secrets masked, keys sorted."""
    return _sorted_keys(
        walk(
            as_dict(struct),
            secret=lambda value, visit: SECRET,
            resource=_reference,
            output=_output_value,
            unknown=UNKNOWN,
            leaf=whole_numbers,
        )
    )


def _sorted_keys(value: Any) -> Any:
    """Every object's keys in order, as Go's encoding/json writes a map."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _config_value(value: Any) -> str:
    """Config as the engine prints it: strings as they are, structured values as JSON, secrets masked."""
    if isinstance(value, Secret):
        return SECRET
    if isinstance(value, str):
        return value
    return json.dumps(_sorted_keys(_mask(value)))


def _mask(value: Any) -> Any:
    if isinstance(value, Secret):
        return SECRET
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _cost(cost: Estimate) -> dict[str, Any]:
    return {
        "currency": "USD",
        "period": "month (730 h)",
        "region": cost.region,
        "priceRegion": cost.price_region,
        "priceDate": cost.price_date,
        "source": cost.source,
        "totalMonthly": round(cost.total, 2),
        "lines": [
            {
                "urn": line.urn,
                "type": line.type,
                "name": line.name,
                "item": line.item,
                "formula": line.formula,
                "monthly": line.monthly,
            }
            for line in cost.lines
        ],
        "assumptions": cost.assumptions,
        "leftOut": cost.left_out,
        "warnings": cost.warnings,
    }

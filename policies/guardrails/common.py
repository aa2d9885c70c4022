"""What every rule module shares: plain access to engine properties, unknowns, policy documents, the graph.

Policies receive engine wire-format properties (camelCase). During preview some values are
unknown: on the wire they are sentinel strings, and pulumi_policy wraps the properties in a
proxy that raises when such a value is read. Rules here read the plain values instead
(`plain`) and treat a sentinel as "cannot tell yet": a rule reports a violation only for
what it can see, never for what is unknown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The proxy classes are private to pulumi_policy, which has no public way to read a proxy's
# plain value; the pack reads them itself to stay self-contained (tests/test_sdk.py fails
# first if a pulumi-policy upgrade removes them).
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    _DictProxy,
    _ListProxy,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

_SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in _SENTINELS


def has_unknown(value: Any) -> bool:
    """True if the value or anything inside it is unknown (or a string built from an unknown)."""
    if isinstance(value, str):
        return is_unknown(value) or any(s in value for s in _SENTINELS)
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def plain(value: Any) -> Any:
    """pulumi_policy's unknown-checking proxies as plain dicts and lists, unknowns kept as sentinels."""
    if isinstance(value, _DictProxy):
        target = value["__target"]
        return {k: plain(target[k]) for k in target}
    if isinstance(value, _ListProxy):
        return [plain(v) for v in value["__target"]]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def as_list(value: Any) -> list[Any]:
    """An IAM-style "one or many" value as a list (None -> [])."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def is_true(value: Any) -> bool:
    """Known and true (booleans may arrive as strings from some providers)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def number(value: Any) -> float | None:
    """A known number (wire numbers are floats; some arrive as strings), else None."""
    if isinstance(value, bool) or value is None or is_unknown(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- policy documents -------------------------------------------------------------------


class Unparsable(Exception):
    """A policy document that is neither JSON nor an object."""


def document(value: Any) -> dict | None:
    """A policy document given as JSON text or as an object; None when absent or not known yet."""
    if value is None or value == "" or has_unknown(value):
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as error:
            raise Unparsable(str(error)) from error
        if isinstance(parsed, dict):
            return parsed
    raise Unparsable(f"expected a JSON object, got {type(value).__name__}")


def statements(doc: Mapping) -> list[dict]:
    """The statements of a document: `Statement` may be one object or a list."""
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def is_allow(statement: Mapping) -> bool:
    return str(statement.get("Effect", "")).lower() == "allow"


# --- policies ---------------------------------------------------------------------------

Check = Callable[[dict, Mapping[str, Any], ResourceValidationArgs], Iterable[str]]


def resource_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    types: Iterable[str],
    check: Check,
    remediation: str,
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    """A per-resource policy over `types`; `check(props, config, args)` yields one message per problem.

    The policy keeps `types` as `resource_types`: the engine asks every policy about every
    resource, and this one returns at once for any other type, so the offline check
    (offline/harness/sdk.py) asks it about these types only.
    """
    types = frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        for message in check(plain(args.props), args.get_config(), args):
            report(f"{message} Remediation: {remediation}", None)

    policy = ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=config_schema,
        remediation_steps=remediation,
    )
    policy.resource_types = types
    return policy


StackCheck = Callable[["StackGraph", Mapping[str, Any]], Iterable[tuple[Any, str]]]


def stack_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    check: StackCheck,
    remediation: str,
    config_schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    """A policy over the whole graph; `check(graph, config)` yields (resource, message) per problem."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        graph = StackGraph(args.resources)
        for resource, message in check(graph, args.get_config()):
            report(f"{message} Remediation: {remediation}", resource.urn if resource is not None else None)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=config_schema,
        remediation_steps=remediation,
    )


# --- the resource graph (AnalyzeStack) ----------------------------------------------------


class StackGraph:
    """The stack's resources with their outputs as plain values, and who references whom.

    A property refers to another resource when the engine recorded a property dependency on
    it (works in preview too, when ids are unknown) or when the property holds one of that
    resource's known identifiers (id, ARN, name): the latter also catches references the
    program resolved itself, e.g. through `apply`.
    """

    IDENTIFIERS = ("id", "arn", "name")

    def __init__(self, resources: Iterable[Any]):
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self.props: Mapping[str, dict] = _PlainProps(self.by_urn)
        # Lookups a policy repeats for every resource it checks, made once, on first use: a scan of the
        # stack each time would grow with the square of the stack, and many policies never ask.
        self._by_value: dict[str, list[Any]] | None = None
        self._of_type: dict[tuple[str, ...], list[Any]] = {}
        self._referrers: dict[tuple[str, tuple[str, ...]], dict[str, list[Any]]] = {}

    def of_type(self, *types: str) -> list[Any]:
        if types not in self._of_type:
            self._of_type[types] = [r for r in self.resources if r.resource_type in types]
        return list(self._of_type[types])

    def get(self, resource: Any, key: str) -> Any:
        return self.props[resource.urn].get(key)

    def by_value(self, value: Any) -> list[Any]:
        if not isinstance(value, str):
            return []
        if self._by_value is None:
            self._by_value = {}
            for r in self.resources:
                for key in self.IDENTIFIERS:
                    try:
                        known = r.props.get(key)
                    except UnknownValueError:  # not known in a preview: nothing can refer to it by value yet
                        continue
                    if isinstance(known, str) and known and not is_unknown(known):
                        self._by_value.setdefault(known, []).append(r)
        return self._by_value.get(value, [])

    def referenced(self, resource: Any, key: str, types: Iterable[str] | None = None) -> list[Any]:
        """Resources that `resource`'s property `key` points at (optionally only of `types`)."""
        found: dict[str, Any] = {}
        for dep in resource.property_dependencies.get(key, []):
            found[dep.urn] = dep
        for value in _strings(self.props[resource.urn].get(key)):
            for target in self.by_value(value):
                found[target.urn] = target
        wanted = None if types is None else frozenset(types)
        return [r for r in found.values() if wanted is None or r.resource_type in wanted]

    def referrers(self, target: Any, key: str, types: Iterable[str]) -> list[Any]:
        """Resources of `types` whose property `key` points at `target`, in the stack's order."""
        types = tuple(types)
        if (key, types) not in self._referrers:
            index: dict[str, list[Any]] = {}
            for r in self.of_type(*types):
                for t in self.referenced(r, key):
                    index.setdefault(t.urn, []).append(r)
            self._referrers[(key, types)] = index
        return list(self._referrers[(key, types)].get(target.urn, []))


class _PlainProps(Mapping):
    """URN -> the resource's properties as plain values, each copied on its first use.

    Every stack policy gets the whole stack and most read a few resource types: copying every
    resource's properties up front was most of what a stack policy cost.
    """

    def __init__(self, by_urn: Mapping[str, Any]):
        self._by_urn = by_urn
        self._copies: dict[str, dict] = {}

    def __getitem__(self, urn: str) -> dict:
        if urn not in self._copies:
            self._copies[urn] = plain(self._by_urn[urn].props)
        return self._copies[urn]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_urn)

    def __len__(self) -> int:
        return len(self._by_urn)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)

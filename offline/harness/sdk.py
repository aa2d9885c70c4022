"""The one door to the Pulumi SDKs' internals: what imitating the engine needs beyond their public API.

The harness runs the program under the SDK's own mock monitor and engine, installs them the way
the SDK's test support does, and awaits the program the way the language host does; the tools
read the wire format's signatures, and the policy check builds the analyzer servicer that
`PolicyPack(...)` serves. None of that is public API, so all of it is resolved here and nowhere
else in offline/ (the pack keeps its own proxy reader, `policies/guardrails/common.py`, to stay
self-contained). The names were read from the SDK versions pinned in requirements.txt and
requirements-dev.txt; tests/test_sdk.py asserts those are the installed versions and that every
name still resolves, so an SDK upgrade fails there first, naming what moved.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

# (module, name) of every internal this module reads, in order: tests/test_sdk.py checks each.
INTERNALS: list[tuple[str, str]] = []


def _internal(module: str, name: str) -> Any:
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise ImportError(
            f"{module}.{name} is gone from the installed SDKs (pulumi {version('pulumi')}, pulumi-policy "
            f"{version('pulumi-policy')}): offline/harness/sdk.py reads it as the versions pinned in "
            "requirements.txt and requirements-dev.txt define it; reinstall those or adapt sdk.py"
        ) from error
    INTERNALS.append((module, name))
    return found


# --- the wire format (pulumi/runtime/rpc.py) --------------------------------------------------------

SIG_KEY: str = _internal("pulumi.runtime.rpc", "_special_sig_key")
SECRET_SIG: str = _internal("pulumi.runtime.rpc", "_special_secret_sig")
RESOURCE_SIG: str = _internal("pulumi.runtime.rpc", "_special_resource_sig")
OUTPUT_VALUE_SIG: str = _internal("pulumi.runtime.rpc", "_special_output_value_sig")
ASSET_SIG: str = _internal("pulumi.runtime.rpc", "_special_asset_sig")
ARCHIVE_SIG: str = _internal("pulumi.runtime.rpc", "_special_archive_sig")
# The string the engine sends for a value not known during preview.
UNKNOWN: str = _internal("pulumi.runtime.rpc", "UNKNOWN")
# What a mock's state holds for an input that was unknown when it was registered.
OutputUnknown: type = _internal("pulumi.output", "Unknown")
# Its one instance, which the SDK hands out for every such input (and tests by identity).
OUTPUT_UNKNOWN: Any = _internal("pulumi.output", "UNKNOWN")

# --- running a program under mocks ----------------------------------------------------------------

# The SDK's mock monitor: answers registrations through a `pulumi.runtime.Mocks`; the harness
# extends it to record what each registration sends.
MockMonitor: type = _internal("pulumi.runtime.mocks", "MockMonitor")
_MockSettings = _internal("pulumi.runtime.mocks", "MockSettings")
_MockEngine = _internal("pulumi.runtime.mocks", "MockEngine")
_configure = _internal("pulumi.runtime.settings", "configure")
_set_all_config = _internal("pulumi.runtime.config", "set_all_config")
_run_in_stack = _internal("pulumi.runtime.stack", "run_in_stack")
_sync_await = _internal("pulumi.runtime.sync_await", "_sync_await")
# Where each registration's call stack is read; the module the SDK looks it up in at every registration.
_STACK_TRACE_MODULE = "pulumi.runtime.resource"
_get_stack_trace = _internal(_STACK_TRACE_MODULE, "_get_stack_trace")
_StackTrace = _internal("pulumi.runtime.proto.source_pb2", "StackTrace")


def install_mocks(monitor: Any, logger: Any, *, project: str, stack: str, dry_run: bool, root_directory: str) -> None:
    """Makes `monitor` the engine of the next program run, with `logger` receiving its log messages."""
    _configure(
        _MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=_MockEngine(logger=logger),
            project=project,
            stack=stack,
            dry_run=dry_run,
            organization="organization",
            root_directory=root_directory,
            callbacks=None,
        )
    )


def set_config(values: Mapping[str, str], secret_keys: list[str]) -> None:
    """The stack config the program reads, as the language host passes it (values as strings)."""
    _set_all_config(dict(values), secret_keys)


def run(program: Callable[[], Any]) -> None:
    """Runs `program` as the stack's program and waits until every registration is done.

    Meanwhile registrations carry no call stack. The SDK walks the whole Python stack of every
    registration and turns each frame into a file URI (a quarter of a run's time) for the
    engine's `sourcePosition` and `stackTrace` fields, which only locate a resource in the
    program's source for the CLI's messages. The mock monitor drops them and the captured graph
    records neither, so nothing here depends on them.
    """
    module = importlib.import_module(_STACK_TRACE_MODULE)
    module._get_stack_trace = _no_stack_trace
    try:
        _sync_await(_run_in_stack(program))
    finally:
        module._get_stack_trace = _get_stack_trace


def _no_stack_trace() -> Any:
    return _StackTrace()


def registered_state(monitor: Any, urn: str) -> dict[str, Any]:
    """The state the mock monitor recorded for `urn` (the mocks' outputs), or {} if none."""
    registration = monitor.resources.get(urn)
    return registration.state if registration is not None else {}


# --- the policy pack ----------------------------------------------------------------------------

# What `PolicyPack(...)` builds and serves over gRPC; the offline check calls its methods directly.
_PolicyAnalyzerServicer: type = _internal("pulumi_policy.policy", "_PolicyAnalyzerServicer")
# The module whose globals below the servicer's `Analyze`, `Remediate` and `_get_provider_resource`
# call to turn each resource's properties into what a policy reads.
_POLICY_MODULE = "pulumi_policy.policy"
_json_format = _internal(_POLICY_MODULE, "json_format")
_deserialize_properties = _internal(_POLICY_MODULE, "deserialize_properties")
_unknown_checking_proxy = _internal(_POLICY_MODULE, "unknown_checking_proxy")
_PolicyProviderResource = _internal(_POLICY_MODULE, "PolicyProviderResource")
_PolicyResource = _internal(_POLICY_MODULE, "PolicyResource")
_StackValidationPolicy: type = _internal(_POLICY_MODULE, "StackValidationPolicy")
# The proxies a policy reads properties through (pulumi_policy/proxy.py), and how they report an unknown.
_DictProxy: type = _internal("pulumi_policy.proxy", "_DictProxy")
_ListProxy: type = _internal("pulumi_policy.proxy", "_ListProxy")
_raise_if_unknown = _internal("pulumi_policy.proxy", "_raise_if_unknown")


class _PropertiesMemo:
    """Stands in for the servicer's `json_format` and `deserialize_properties` during one request.

    For every policy `Analyze` converts the same properties again (the resource's and its
    provider's): protobuf Struct to dict, then
    dict to values. Both are pure functions of the message, so the first result is kept for the
    request and handed out again. A policy still gets properties of its own: the servicer gives
    it `unknown_checking_proxy(<this result>)`, which copies every dict and list (lazily here, see
    `_LazyDictProxy`), so what one policy changes no other policy sees. The memo keeps each
    message it read alive and compares by identity; a protobuf runtime that returns a new wrapper
    for each field access only misses.
    """

    def __init__(self) -> None:
        self._plain: dict[int, tuple[Any, Any]] = {}
        self._values: dict[int, tuple[Any, Any]] = {}

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return _json_format.MessageToDict(message, *args, **kwargs)
        return _remember(self._plain, message, _json_format.MessageToDict)

    def deserialize_properties(self, props: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # the secret-keeping form (`Remediate`) hands its result out unproxied
            return _deserialize_properties(props, *args, **kwargs)
        return _remember(self._values, props, _deserialize_properties)

    def __getattr__(self, name: str) -> Any:  # the rest of json_format, unchanged
        return getattr(_json_format, name)


def _remember(memo: dict[int, tuple[Any, Any]], key: Any, compute: Callable[[Any], Any]) -> Any:
    entry = memo.get(id(key))
    if entry is None or entry[0] is not key:
        entry = memo[id(key)] = (key, compute(key))
    return entry[1]


class _LazyDictProxy(_DictProxy):
    """pulumi_policy's dict proxy, built one level at a time as the policy reads it.

    `unknown_checking_proxy` copies every dict and list of a resource's properties into new
    proxies before each policy runs, and most policies look at the type and return without
    reading a property: across a pack that is most of a check's time. This proxy copies a value
    on its first read, into a proxy of the same kind, so a policy sees the same values, keys in
    the same order, unknowns and paths in its errors, and writes only to its own copy, as before.
    """

    def __init__(self, source: Mapping[str, Any], path: list[str]):
        self._source, self._path, self._copy, self._whole = source, path, {}, False

    def _value(self, key: Any) -> Any:
        """The policy's copy of one value, made on its first read (KeyError as a dict's)."""
        if self._whole or key in self._copy:
            return self._copy[key]
        value = self._copy[key] = _lazy_proxy(self._source[key], [*self._path, str(key)])
        return value

    def _target(self) -> dict[str, Any]:
        """The whole copy, in the order the eager proxy has: the properties', then keys the policy added."""
        if not self._whole:
            whole = {key: self._value(key) for key in self._source}
            whole.update((key, value) for key, value in self._copy.items() if key not in whole)
            self._copy, self._whole = whole, True
        return self._copy

    def __getitem__(self, key: Any) -> Any:
        if key == "__target":
            return self._target()
        return _raise_if_unknown(key, self._value(key), self._path)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._copy[key] = value

    def __len__(self) -> int:
        if self._whole:
            return len(self._copy)
        return len(self._source) + sum(key not in self._source for key in self._copy)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._target())


class _LazyListProxy(_ListProxy):
    """pulumi_policy's list proxy, built on its first read (see `_LazyDictProxy`)."""

    def __init__(self, source: list[Any], path: list[str]):
        self._source, self._path, self._copy = source, path, None

    def _target(self) -> list[Any]:
        if self._copy is None:
            self._copy = [_lazy_proxy(value, [*self._path, str(i)]) for i, value in enumerate(self._source)]
        return self._copy

    def __getitem__(self, key: Any) -> Any:
        if key == "__target":
            return self._target()
        return _raise_if_unknown(key, self._target()[key], self._path)

    def __len__(self) -> int:
        return len(self._source if self._copy is None else self._copy)


def _lazy_proxy(value: Any, path: list[str]) -> Any:
    if isinstance(value, list):
        return _LazyListProxy(value, path)
    if isinstance(value, dict):
        return _LazyDictProxy(value, path)
    return value


def _unknown_checking_lazy_proxy(props: dict[str, Any]) -> Any:
    return _lazy_proxy(props, [])


@contextmanager
def _properties_memoized() -> Iterator[None]:
    module = importlib.import_module(_POLICY_MODULE)
    outer = (module.json_format, module.deserialize_properties, module.unknown_checking_proxy)
    memo = _PropertiesMemo()
    module.json_format, module.deserialize_properties = memo, memo.deserialize_properties
    module.unknown_checking_proxy = _unknown_checking_lazy_proxy
    try:
        yield
    finally:
        module.json_format, module.deserialize_properties, module.unknown_checking_proxy = outer


# The servicer's list of the pack's policies (a private attribute, name-mangled).
POLICIES_ATTRIBUTE = "_PolicyAnalyzerServicer__policies"


class PolicyAnalyzer(_PolicyAnalyzerServicer):
    """The servicer, converting each resource's properties once per request instead of once per policy,
    copying them for a policy only as far as it reads them, and asking a resource policy that names
    its types (`resource_types`) only about resources of those types.

    Every policy sees and reports exactly what it does under the servicer the CLI runs
    (`_PropertiesMemo`, `_LazyDictProxy` and `AnalyzeStack` say why, and a policy with
    `resource_types` returns without a word for any other type); only the repeated conversions,
    copies, message reads and calls are gone.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The pack's policies, as the servicer keeps them; a request narrows the servicer's list meanwhile.
        self._every: list[Any] = getattr(self, POLICIES_ATTRIBUTE)
        self._by_type: dict[str, list[Any]] = {}
        self._options: dict[int, tuple[Any, Any]] | None = None
        self._providers: dict[int, tuple[Any, Any]] | None = None

    def Analyze(self, request: Any, context: Any) -> Any:
        with _REQUEST, self._policies(self._policies_of(request.type)), self._request():
            return super().Analyze(request, context)

    def _policies_of(self, type_: str) -> list[Any]:
        """The policies that look at a resource of `type_`: a policy without `resource_types` looks at every type."""
        if type_ not in self._by_type:
            self._by_type[type_] = [p for p in self._every if type_ in getattr(p, "resource_types", (type_,))]
        return self._by_type[type_]

    def AnalyzeStack(self, request: Any, context: Any) -> Any:
        """The servicer's `AnalyzeStack`, each resource's message read and converted once for all stack policies.

        For each stack policy the servicer reads every resource's message again and builds the
        policy's resources from it: most of a request's time, the same work over and over. Here the
        servicer runs every policy as before (levels, reports, errors), on a request with no
        resources, and each stack policy is handed, in the arguments the servicer made for it,
        resources of its own, built and linked as the servicer builds them
        (`_resources_for_one_policy`) from messages read once (`_StackResource`), on the first
        enabled stack policy.
        """
        stack: list[_StackResource] | None = None

        def resources() -> list[Any]:
            nonlocal stack
            if stack is None:
                stack = [_StackResource(r, self) for r in request.resources]
            return _resources_for_one_policy(stack)

        handed = [_WithResources(p, resources) if isinstance(p, _StackValidationPolicy) else p for p in self._every]
        with _REQUEST, self._policies(handed):
            return super().AnalyzeStack(_StackRequest(()), context)

    @contextmanager
    def _policies(self, policies: list[Any]) -> Iterator[None]:
        """The servicer's list of policies, for one request."""
        outer = getattr(self, POLICIES_ATTRIBUTE)
        setattr(self, POLICIES_ATTRIBUTE, policies)
        try:
            yield
        finally:
            setattr(self, POLICIES_ATTRIBUTE, outer)

    @contextmanager
    def _request(self) -> Iterator[None]:
        outer = self._options, self._providers
        with _properties_memoized():
            self._options, self._providers = {}, {}
            try:
                yield
            finally:
                self._options, self._providers = outer

    def _get_resource_options(self, request: Any) -> Any:
        """The servicer's options of the resource, built once per request; each policy gets a copy with a
        timeouts object of its own, as the servicer builds them (its lists come from the one message, so
        the servicer's copies share them too)."""
        if self._options is None:
            return super()._get_resource_options(request)
        built = _remember(
            self._options, request.options, lambda _: super(PolicyAnalyzer, self)._get_resource_options(request)
        )
        return _copy_options(built)

    def _get_provider_resource(self, request: Any) -> Any:
        """The servicer's provider of the resource, read once per request; each policy gets its own."""
        if self._providers is None or not request.HasField("provider"):
            return super()._get_provider_resource(request)
        return _new_provider(_remember(self._providers, request.provider, _read_provider))


# A request changes the servicer's list of policies and the policy module's converters for its length:
# requests take turns (a policy may serve one of its own meanwhile, on the same thread).
_REQUEST = threading.RLock()


class _WithResources(_StackValidationPolicy):
    """A stack policy as the servicer runs it, given its resources by `PolicyAnalyzer.AnalyzeStack`."""

    def __init__(self, policy: Any, resources: Callable[[], list[Any]]):  # the policy's fields stay its own
        self._policy, self._resources = policy, resources

    def __getattr__(self, name: str) -> Any:
        return getattr(self._policy, name)

    def validate(self, args: Any, report_violation: Any) -> Any:
        args.resources = self._resources()
        return self._policy.validate(args, report_violation)


def _read_provider(provider: Any) -> tuple[str, Any, str, str]:
    properties = _deserialize_properties(_json_format.MessageToDict(provider.properties))
    return provider.type, properties, provider.urn, provider.name


def _new_provider(fields: tuple[str, Any, str, str] | None) -> Any:
    if fields is None:
        return None
    type_, props, urn, name = fields
    return _PolicyProviderResource(type_, _unknown_checking_lazy_proxy(props), urn, name)


def _copy_options(built: Any) -> Any:
    """A policy's own copy of a resource's options and their timeouts: what copy.copy makes of these plain
    classes, without going through its generic protocol, several times slower, once per policy and resource."""
    options = object.__new__(type(built))
    options.__dict__.update(built.__dict__)
    options.custom_timeouts = timeouts = object.__new__(type(built.custom_timeouts))
    timeouts.__dict__.update(built.custom_timeouts.__dict__)
    return options


def _resources_for_one_policy(stack: list[_StackResource]) -> list[Any]:
    """One stack policy's resources, as the servicer builds them: objects of the policy's own (properties,
    options, provider), parents and dependencies pointing at each other (a URN the stack lacks is left out)."""
    resources = [
        _PolicyResource(
            r.type,
            _unknown_checking_lazy_proxy(r.values),
            r.urn,
            r.name,
            _copy_options(r.built_options),
            _new_provider(r.provider_fields),
            None,
            [],
            {},
        )
        for r in stack
    ]
    by_urn = {resource.urn: resource for resource in resources}
    for resource, r in zip(resources, stack, strict=True):
        if r.parent in by_urn:
            resource.parent = by_urn[r.parent]
        resource.dependencies.extend(by_urn[urn] for urn in r.dependencies if urn in by_urn)
        for key, urns in r.property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[urn] for urn in urns if urn in by_urn]
    return resources


class _StackRequest:
    """An AnalyzeStack request as the servicer reads it: its resources."""

    def __init__(self, resources: tuple[Any, ...]):
        self.resources = resources


class _StackResource:
    """One resource of an AnalyzeStack request: its message read, and its properties, options and provider
    converted as the servicer converts them, once for all stack policies."""

    __slots__ = (
        "built_options",
        "dependencies",
        "name",
        "parent",
        "property_dependencies",
        "provider_fields",
        "type",
        "urn",
        "values",
    )

    def __init__(self, message: Any, analyzer: PolicyAnalyzer):
        self.type, self.urn, self.name, self.parent = message.type, message.urn, message.name, message.parent
        self.values = _deserialize_properties(_json_format.MessageToDict(message.properties))
        self.built_options = _PolicyAnalyzerServicer._get_resource_options(analyzer, message)
        self.provider_fields = _read_provider(message.provider) if message.HasField("provider") else None
        self.dependencies = list(message.dependencies)
        self.property_dependencies = {key: list(value.urns) for key, value in message.propertyDependencies.items()}

"""The Pulumi SDK internals offline/ relies on: pinned versions, and every name still where it was read.

An SDK upgrade that moves one of them fails here first, naming it, instead of somewhere deep in
the harness or the policy check.
"""

import importlib
import importlib.metadata
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from helpers import SMALL, evaluate_fixture, pack_config
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.proxy import UnknownValueError

from offline import policycheck
from offline.harness import ROOT, evaluate, sdk
from offline.harness.mock_aws import AwsMocks
from policies.guardrails.pack import all_policies

PINNED_IN = {
    "pulumi": ["requirements.txt", "policies/requirements.txt"],
    "pulumi-policy": ["requirements-dev.txt", "policies/requirements.txt"],
}


def pin(package: str, requirements: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", (ROOT / requirements).read_text(), re.MULTILINE)
    assert match, f"{requirements} does not pin {package}"
    return match.group(1)


@pytest.mark.parametrize("package", PINNED_IN)
def test_the_installed_sdks_are_the_pinned_versions(package):
    installed = importlib.metadata.version(package)
    for requirements in PINNED_IN[package]:
        assert installed == pin(package, requirements), (
            f"{package} {installed} is installed, {requirements} pins {pin(package, requirements)}: "
            "offline/harness/sdk.py was checked against the pinned version only"
        )


def test_every_internal_the_harness_reads_is_still_there():
    assert len(sdk.INTERNALS) >= 10
    for module, name in sdk.INTERNALS:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone"
    # What the harness reads of the mock monitor it extends, beyond its methods.
    monitor = sdk.MockMonitor(AwsMocks("eu-west-1", preview=False))
    assert isinstance(monitor.resources, dict)
    assert monitor.GetDeploymentInfo(None).supportedFeatures
    assert sdk.registered_state(monitor, "urn:pulumi:dev::p::t::none") == {}
    assert isinstance(sdk.UNKNOWN, str) and sdk.SIG_KEY and sdk.SECRET_SIG != sdk.RESOURCE_SIG


def test_a_moved_internal_stops_the_import_with_what_moved_and_where_to_look():
    with pytest.raises(ImportError, match=r"pulumi\.runtime\.rpc\._gone is gone .*offline/harness/sdk\.py"):
        sdk._internal("pulumi.runtime.rpc", "_gone")
    assert ("pulumi.runtime.rpc", "_gone") not in sdk.INTERNALS


def test_the_servicer_still_keeps_the_packs_policies_where_the_offline_analyzer_narrows_them():
    analyzer = policycheck.new_analyzer()
    names = [p.name for p in getattr(analyzer, sdk.POLICIES_ATTRIBUTE)]
    assert names == [p.name for p in all_policies()]


def test_a_policy_that_names_its_types_says_nothing_about_any_other_resource():
    """The offline analyzer asks a policy with `resource_types` only about those types: that holds only if,
    asked about any other, it returns without a word, whatever the properties (None: reading them fails)."""
    named = [p for p in all_policies() if hasattr(p, "resource_types")]
    assert len(named) >= 50
    other = ResourceValidationArgs("test:index:Other", None, "urn:other", "other", None, None)
    reports: list[tuple[str, Any]] = []
    for policy in named:
        policy.validate(other, lambda *report, name=policy.name: reports.append((name, report)))
    assert reports == []


def test_the_private_proxies_the_pack_reads_are_still_there():
    """The pack unwraps pulumi_policy's property proxies itself (policies/guardrails/common.py)."""
    proxy = importlib.import_module("pulumi_policy.proxy")
    assert hasattr(proxy, "_DictProxy") and hasattr(proxy, "_ListProxy")


def test_a_run_reads_no_call_stacks_and_leaves_the_sdk_as_it_was_even_when_the_program_fails():
    """The SDK's call-stack capture for each registration is off during a run only (sdk.run says why)."""
    resource = importlib.import_module("pulumi.runtime.resource")
    before = resource._get_stack_trace
    during = []

    def failing() -> None:
        during.append(resource._get_stack_trace)
        raise pulumi.RunError("stop")

    graph = evaluate("demo", {"aws:region": "eu-west-1"}, program=failing)
    assert graph.error == "stop"
    assert during[0] is not before and during[0]().frames == []
    assert resource._get_stack_trace is before


def options(opts: Any) -> tuple:
    """What a policy reads of a resource's options."""
    timeouts = opts.custom_timeouts
    return (
        opts.protect,
        list(opts.ignore_changes),
        opts.delete_before_replace,
        list(opts.aliases),
        (timeouts.create_seconds, timeouts.update_seconds, timeouts.delete_seconds),
        list(opts.additional_secret_outputs),
        opts.parent,
    )


def provider_of(provider: Any) -> tuple | None:
    if provider is None:
        return None
    return (provider.resource_type, provider.urn, provider.name, serialize_properties(provider.props))


def stack_resource(r: Any) -> tuple:
    """What a stack policy reads of one resource; parent and dependencies by URN and name (a URN may be given twice)."""
    return (
        r.resource_type,
        r.urn,
        r.name,
        serialize_properties(r.props),
        options(r.opts),
        provider_of(r.provider),
        (r.parent.urn, r.parent.name) if r.parent else None,
        [(d.urn, d.name) for d in r.dependencies],
        {key: [(d.urn, d.name) for d in deps] for key, deps in r.property_dependencies.items()},
    )


def _recording_pack(seen: dict[str, list[Any]]) -> list[Any]:
    """The pack, with policies around a policy that rewrites every property it is given.

    A policy may write to the properties the SDK hands it; the offline analyzer converts each
    resource's properties once per request, so this is what would leak from one policy to the
    next if it handed out one copy for all of them.
    """

    def resource_seen(name: str) -> Callable[..., None]:
        def validate(args: ResourceValidationArgs, report: Any) -> None:
            seen[name].append(
                (args.urn, serialize_properties(args.props), provider_of(args.provider), options(args.opts))
            )

        return validate

    def rewrite(props: Any) -> None:
        for key in list(props):
            target = props["__target"][key]
            if isinstance(target, Mapping) and target:
                target[next(iter(target))] = "rewritten"
            props[key] = "rewritten"

    def resource_rewrite(args: ResourceValidationArgs, report: Any) -> None:
        rewrite(args.props)
        if args.provider:
            rewrite(args.provider.props)
        args.opts.protect, args.opts.parent = "rewritten", "rewritten"
        args.opts.custom_timeouts.create_seconds = -1

    def reads(value: Any, path: str, out: list[str]) -> None:
        """Reads every value the way a policy does, recording each unknown's error and each size."""
        keys = (
            list(value)
            if isinstance(value, Mapping)
            else range(len(value))
            if isinstance(value, list | Sequence)
            else None
        )
        if keys is None or isinstance(value, str):
            return
        out.append(f"{path} has {len(value)}")
        for key in keys:
            try:
                reads(value[key], f"{path}.{key}", out)
            except UnknownValueError as error:
                out.append(error.message)

    def resource_reads(args: ResourceValidationArgs, report: Any) -> None:
        out: list[str] = []
        reads(args.props, args.urn, out)
        seen["reads"].append(out)

    def stack_seen(name: str) -> Callable[..., None]:
        def validate(args: StackValidationArgs, report: Any) -> None:
            seen[name].append([stack_resource(r) for r in args.resources])

        return validate

    def stack_rewrite(args: StackValidationArgs, report: Any) -> None:
        for r in args.resources:
            rewrite(r.props)
            if r.provider:
                rewrite(r.provider.props)
            r.opts.protect, r.opts.parent = "rewritten", "rewritten"
            r.opts.custom_timeouts.create_seconds = -1
            r.dependencies.clear()
            r.property_dependencies.clear()

    return [
        ResourceValidationPolicy("seen-first", "records", resource_seen("seen-first")),
        ResourceValidationPolicy("rewrites", "rewrites", resource_rewrite),
        ResourceValidationPolicy("reads", "reads every property", resource_reads),
        *all_policies(),
        ResourceValidationPolicy("seen-last", "records", resource_seen("seen-last")),
        StackValidationPolicy("stack-seen-first", "records", stack_seen("stack-seen-first")),
        StackValidationPolicy("stack-rewrites", "rewrites", stack_rewrite),
        StackValidationPolicy("stack-seen-last", "records", stack_seen("stack-seen-last")),
    ]


@pytest.mark.parametrize("dry_run", [False, True], ids=["update", "preview"])
def test_every_policy_sees_and_reports_what_it_does_under_the_sdks_own_analyzer(small, monkeypatch, dry_run):
    """The offline analyzer converts each resource's properties once per request, not once per policy,
    and copies them for a policy as it reads them (sdk.PolicyAnalyzer): each policy still gets properties of
    its own, reads the same values, sizes and unknowns (a preview has some) as under the servicer the CLI
    runs, and the pack reports the same findings (small under the production levels has some)."""
    # The session's `small` for an update; evaluated as a preview (unknowns) for the other run.
    small = evaluate_fixture(SMALL, preview=True) if dry_run else small
    runs = {}
    for analyzer in (sdk.PolicyAnalyzer, sdk._PolicyAnalyzerServicer):
        seen: dict[str, list[Any]] = defaultdict(list)
        monkeypatch.setattr(sdk, "PolicyAnalyzer", analyzer)
        monkeypatch.setattr(policycheck, "all_policies", lambda seen=seen: _recording_pack(seen))
        result = policycheck.check(small, pack_config("prodlike"), dry_run=dry_run)
        runs[analyzer] = (dict(seen), result.findings)
    (seen, findings), (sdk_seen, sdk_findings) = runs.values()
    assert findings == sdk_findings and any(f.level == "mandatory" for f in findings)
    assert seen == sdk_seen
    assert len(seen["seen-first"]) == len(small.resources) and len(seen["stack-seen-first"]) == 1
    assert seen["seen-last"] == seen["seen-first"] and seen["stack-seen-last"] == seen["stack-seen-first"]
    assert any(provider for _, _, provider, _ in seen["seen-first"]), "no resource with a provider was checked"
    assert any(deps for *_, deps, _ in seen["stack-seen-first"][0]), "no resource with dependencies was checked"
    assert "rewritten" not in repr(seen["seen-last"]) + repr(seen["stack-seen-last"])
    assert "-1" not in repr([timeouts for *_, (_, _, _, _, timeouts, _, _) in seen["seen-last"]])
    unknowns = [line for out in seen["reads"] for line in out if "can't be known during preview" in line]
    assert bool(unknowns) == dry_run


@pytest.mark.parametrize("kind", [ResourceValidationPolicy, StackValidationPolicy])
def test_the_policy_sdk_is_left_as_it_was_after_a_request_even_when_a_policy_fails(small, monkeypatch, kind):
    module = importlib.import_module("pulumi_policy.policy")
    names = ("json_format", "deserialize_properties", "unknown_checking_proxy", "StackValidationArgs")
    before = [getattr(module, name) for name in names]

    def fails(args: Any, report: Any) -> None:
        raise RuntimeError("policy failed")

    monkeypatch.setattr(policycheck, "all_policies", lambda: [kind("fails", "fails", fails)])
    with pytest.raises(RuntimeError, match="policy failed"):
        policycheck.check(small, {})
    assert [getattr(module, name) for name in names] == before


def _stack_request() -> Any:
    """An AnalyzeStack request with what the fixtures never have: custom timeouts, a URN given twice, a
    parent and dependencies outside the stack, a resource that is its own parent, an unknown value."""
    request = analyzer_pb2.AnalyzeStackRequest()
    first = request.resources.add(
        type="test:index:Thing",
        urn="urn:a",
        name="a",
        parent="urn:b",
        dependencies=["urn:b", "urn:missing"],
        options=analyzer_pb2.AnalyzerResourceOptions(
            protect=True,
            ignoreChanges=["x"],
            deleteBeforeReplace=True,
            deleteBeforeReplaceDefined=True,
            aliases=["urn:old"],
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(create=1, update=2, delete=3),
        ),
    )
    first.properties.update({"x": 1, "nested": {"y": [1, {"z": "deep"}]}, "later": sdk.UNKNOWN})
    first.provider.CopyFrom(analyzer_pb2.AnalyzerProviderResource(type="pulumi:providers:test", urn="urn:p", name="p"))
    first.provider.properties.update({"region": "eu-west-1"})
    first.propertyDependencies["x"].urns.extend(["urn:b", "urn:missing"])
    first.propertyDependencies["none"].urns.extend([])
    second = request.resources.add(type="test:index:Other", urn="urn:b", name="b", parent="urn:missing")
    second.dependencies.append("urn:a")
    request.resources.add(type="test:index:Thing", urn="urn:a", name="a-again")
    request.resources.add(type="test:index:Thing", urn="urn:d", name="d", parent="urn:d")
    return request


def _stack_policies(seen: dict[str, list[Any]]) -> list[Any]:
    def record(name: str) -> Callable[..., None]:
        def validate(args: StackValidationArgs, report: Any) -> None:
            seen[name].append([stack_resource(r) for r in args.resources])
            report("recorded", args.resources[0].urn)

        return validate

    def rewrite(args: StackValidationArgs, report: Any) -> None:
        for r in args.resources:
            r.props["x"] = "rewritten"
            r.opts.protect, r.opts.custom_timeouts.create_seconds = "rewritten", -1
            r.dependencies.clear()
            r.property_dependencies.clear()
            r.parent = None

    def unknown(args: StackValidationArgs, report: Any) -> None:
        report(str(args.resources[0].props["later"]), None)

    def not_applicable(args: StackValidationArgs, report: Any) -> None:
        args.not_applicable("nothing here")

    async def later(args: StackValidationArgs, report: Any) -> None:
        report("from a coroutine", None)

    return [
        StackValidationPolicy("first", "records", record("first")),
        StackValidationPolicy("rewrites", "rewrites", rewrite),
        StackValidationPolicy("disabled", "records", record("disabled"), EnforcementLevel.DISABLED),
        StackValidationPolicy("remediate", "records", record("remediate"), EnforcementLevel.REMEDIATE),
        StackValidationPolicy("unknown", "reads an unknown", unknown),
        StackValidationPolicy("not-applicable", "says so", not_applicable),
        StackValidationPolicy("async", "awaits", later, EnforcementLevel.MANDATORY),
        StackValidationPolicy("last", "records", record("last")),
    ]


def test_every_stack_policy_sees_and_reports_what_it_does_under_the_sdks_own_analyzer():
    """The offline AnalyzeStack reads each resource once for all stack policies (sdk.PolicyAnalyzer): each policy
    still gets resources of its own, linked as the servicer links them, and the same levels, errors and reports."""
    runs = {}
    for analyzer in (sdk.PolicyAnalyzer, sdk._PolicyAnalyzerServicer):
        seen: dict[str, list[Any]] = defaultdict(list)
        servicer = analyzer("test", "0.0.1", _stack_policies(seen), EnforcementLevel.ADVISORY, None, "test")
        response = servicer.AnalyzeStack(_stack_request(), None)
        runs[analyzer] = (dict(seen), json_format.MessageToDict(response))
    (seen, response), (sdk_seen, sdk_response) = runs.values()
    assert seen == sdk_seen and response == sdk_response
    assert "disabled" not in seen and seen["first"] == seen["last"] == seen["remediate"]
    (a, b, again, d) = seen["first"][0]
    assert a[4][4] == (1, 2, 3) and a[5] == ("pulumi:providers:test", "urn:p", "p", {"region": "eu-west-1"})
    # Parents and dependencies outside the stack are left out; a URN given twice means its last resource.
    assert a[6] == ("urn:b", "b") and a[7] == [("urn:b", "b")] and a[8] == {"x": [("urn:b", "b")], "none": []}
    assert b[6] is None and b[7] == [("urn:a", "a-again")]
    assert again[6] is None and d[6] == ("urn:d", "d")
    levels = {d["policyName"]: d.get("enforcementLevel", "ADVISORY") for d in response["diagnostics"]}
    assert levels["remediate"] == "MANDATORY" and levels["async"] == "MANDATORY"
    assert "during preview" in next(d["message"] for d in response["diagnostics"] if d["policyName"] == "unknown")
    assert response["notApplicable"] == [{"policyName": "not-applicable", "reason": "nothing here"}]


def test_a_request_made_during_another_gets_its_own_resources():
    """The offline AnalyzeStack hands each stack policy its resources for the length of a request: a request
    another analyzer (the SDK's, or another offline one) serves meanwhile, empty or not, gets its own stack."""
    seen: dict[str, list[Any]] = defaultdict(list)
    inner_request = analyzer_pb2.AnalyzeStackRequest()
    inner_request.resources.add(type="test:index:Inner", urn="urn:inner", name="inner")

    def nested(args: StackValidationArgs, report: Any) -> None:
        for analyzer in (sdk._PolicyAnalyzerServicer, sdk.PolicyAnalyzer):
            for request in (inner_request, analyzer_pb2.AnalyzeStackRequest()):
                name = f"inner-{analyzer.__name__}"
                inner = [StackValidationPolicy(name, "records", record(name))]
                analyzer("inner", "0.0.1", inner, EnforcementLevel.ADVISORY, None, "inner").AnalyzeStack(request, None)

    def record(name: str) -> Callable[..., None]:
        return lambda args, report: seen[name].append([r.urn for r in args.resources])

    outer = [
        StackValidationPolicy("before", "records", record("before")),
        StackValidationPolicy("nested", "serves other requests", nested),
        StackValidationPolicy("after", "records", record("after")),
    ]
    sdk.PolicyAnalyzer("outer", "0.0.1", outer, EnforcementLevel.ADVISORY, None, "outer").AnalyzeStack(
        _stack_request(), None
    )
    assert seen["inner-_PolicyAnalyzerServicer"] == seen["inner-PolicyAnalyzer"] == [["urn:inner"], []]
    assert seen["before"] == seen["after"] == [["urn:a", "urn:b", "urn:a", "urn:d"]]


def test_no_resource_is_read_for_stack_policies_that_are_all_disabled():
    """As under the SDK's servicer, which reads the stack's resources for each enabled stack policy only: a
    property it cannot read (an unknown signature) stops nothing while no stack policy runs."""
    request = analyzer_pb2.AnalyzeStackRequest()
    request.resources.add(type="test:index:Thing", urn="urn:a", name="a").properties.update(
        {"bad": {sdk.SIG_KEY: "not-a-signature"}}
    )
    disabled = [StackValidationPolicy("off", "never runs", lambda args, report: None, EnforcementLevel.DISABLED)]
    for analyzer in (sdk._PolicyAnalyzerServicer, sdk.PolicyAnalyzer):
        response = analyzer("test", "0.0.1", disabled, EnforcementLevel.ADVISORY, None, "test").AnalyzeStack(
            request, None
        )
        assert json_format.MessageToDict(response) == {}

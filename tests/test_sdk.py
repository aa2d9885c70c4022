"""The Pulumi SDK internals offline/ relies on: pinned versions, and every name still where it was read.

An SDK upgrade that moves one of them fails here first, naming it, instead of somewhere deep in
the harness or the policy check.
"""

import importlib
import importlib.metadata
import re

import pulumi
import pytest

from offline.harness import ROOT, evaluate, sdk
from offline.harness.mock_aws import AwsMocks

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

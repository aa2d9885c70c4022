"""The steps `pulumi preview` reports for a captured graph, and the providers the engine adds on its own.

The harness captures what the program's process registers. The engine's preview of a new stack
reports a little more and a little differently, and this module makes the difference:

- A remote component (`awsx:ec2:Vpc`) is constructed by its provider, whose program registers the
  component (with no inputs: a Node.js `ComponentResource` sends none, `@pulumi/pulumi`
  `resource.ts`) and its children. The children come from `offline/awsx.py` and follow the
  component's step, as an engine that answers each registration at once would report them.
- A custom or remote resource registered without a provider gets its package's default
  provider (`pkg/resource/deploy/source_eval.go`: `resolveProvider`, then
  `defaultProviders.getDefaultProviderRef`), and its state names it as
  `<provider URN>::<id>` (the id is unknown during a preview). The same holds for an invoke
  without a provider. The engine registers that provider as a resource but does not report
  the step: `pkg/engine` marks default-provider steps internal (`isInternalStep`,
  `shouldReportStep`), they are left out of the tree, the JSON digest and the change counts
  (pulumi/pulumi#1733). They are returned apart, in the order the engine registers them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2

from offline import awsx
from offline.harness import sdk
from offline.harness.graph import CapturedGraph, Resource
from offline.harness.stacks import PROJECT, has_secret
from offline.harness.urns import default_provider_urn, is_provider, package_of, project_of, type_of
from offline.harness.wire import plain
from policies.guardrails.types import AWSX_VPC

# Components whose provider's children this preview can list.
CONSTRUCTED = {AWSX_VPC: awsx.vpc_children}


@dataclass
class Steps:
    """What a preview of a new stack reports, in order, and what it registers without reporting."""

    graph: CapturedGraph  # the reported resources, in step order
    default_providers: list[Resource] = field(default_factory=list)
    # Components whose children could not be listed: (urn, why).
    unlisted: list[tuple[str, str]] = field(default_factory=list)


def engine_steps(graph: CapturedGraph, config: dict[str, Any]) -> Steps:
    """The reported steps of `graph` (a preview run) and the default providers the engine registers for it."""
    defaults: dict[str, Resource] = {}
    unlisted: list[tuple[str, str]] = []
    project = project_of(graph.resources[0].urn) if graph.resources else PROJECT

    def default_provider(package: str, version: str, download_url: str) -> str:
        """The reference of `package`'s default provider, registering it on first use."""
        provider_urn = default_provider_urn(graph.stack, project, package, version, download_url)
        if provider_urn not in defaults:
            inputs = _package_config(config, package)
            if version:
                inputs["version"] = version
            if download_url:
                inputs["pluginDownloadURL"] = download_url
            defaults[provider_urn] = _provider(provider_urn, inputs)
        return f"{provider_urn}::{sdk.UNKNOWN}"

    reported: list[Resource] = []
    for resource in graph.resources:
        if resource.custom and not is_provider(resource.type) and not resource.provider:
            package = package_of(resource.type)
            ref = default_provider(package, resource.version, resource.plugin_download_url)
            resource = dataclasses.replace(resource, provider=ref)
        if resource.remote:
            # The construct call needs the component package's own provider.
            default_provider(package_of(resource.type), resource.version, resource.plugin_download_url)
            reported.append(_as_constructed(resource))
            children = CONSTRUCTED.get(resource.type)
            listed = children(resource, graph.stack, project) if children else "no model of its provider"
            if isinstance(listed, str):
                unlisted.append((resource.urn, listed))
            else:
                reported.extend(listed)
            continue
        reported.append(resource)
    for token, provider, version in graph.invoke_providers:
        if not provider:
            default_provider(package_of(token), version, "")
    return Steps(dataclasses.replace(graph, resources=reported), list(defaults.values()), unlisted)


def _as_constructed(component: Resource) -> Resource:
    """A remote component as its provider registers it: a Node.js ComponentResource sends no inputs."""
    return dataclasses.replace(component, inputs={}, wire_inputs=struct_pb2.Struct(), property_dependencies={})


def _secret(value: Any) -> dict[str, Any]:
    return {sdk.SIG_KEY: sdk.SECRET_SIG, "value": value}


def _package_config(config: dict[str, Any], package: str) -> dict[str, Any]:
    """The stack config of `package` (`random:foo` -> `foo`), as the engine configures its default provider."""
    return {key.split(":", 1)[1]: value for key, value in config.items() if key.split(":", 1)[0] == package}


def _provider(provider_urn: str, inputs: dict[str, Any]) -> Resource:
    wire = struct_pb2.Struct()
    wire.update({key: _secret(value) if has_secret(value) else value for key, value in inputs.items()})
    return Resource(
        urn=provider_urn,
        id="",
        type=type_of(provider_urn),
        name=provider_urn.rsplit("::", 1)[1],
        parent="",
        custom=True,
        provider="",
        providers={},
        inputs=plain(wire),
        wire_inputs=wire,
        dependencies=[],
        property_dependencies={},
        protect=False,
        ignore_changes=[],
        delete_before_replace=False,
    )

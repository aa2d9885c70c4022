"""What one run of the program registered, as the engine would have received it: the captured graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policies.guardrails.types import STACK


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
    # What the SDK asked of the engine for the resource's package: the plugin version (and where to
    # download it), which name the default provider of a resource registered without one.
    version: str = ""
    plugin_download_url: str = ""
    remote: bool = False  # a component a provider constructs (awsx), not the program
    retain_on_delete: bool = False

    @property
    def depends_on(self) -> list[str]:
        """Dependencies declared with `depends_on`, not implied by an input."""
        implied = {urn for urns in self.property_dependencies.values() for urn in urns}
        return [urn for urn in self.dependencies if urn not in implied]

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0]


@dataclass
class CapturedGraph:
    """Every resource one run of the program registered, in registration order."""

    stack: str
    resources: list[Resource]
    outputs: dict[str, Any]
    error: str | None = None
    # What the program logged as warnings (pulumi.log.warn), in order.
    warnings: list[str] = field(default_factory=list)
    # Every invoke (data source) the program called: (token, arguments as plain values).
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # The same invokes as provider requests: (token, provider reference or "" for the default, version).
    invoke_providers: list[tuple[str, str, str]] = field(default_factory=list)

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
        return [r for r in self.resources if r.type != STACK]

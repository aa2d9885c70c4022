"""Resource URNs and provider references exactly as the Pulumi engine builds them.

A URN is `urn:pulumi:<stack>::<project>::<qualified type>::<name>`. The qualified type is the
resource's type after its parent's whole qualified type and a `$`, except that the root
`pulumi:pulumi:Stack` is never part of a child's type (pulumi/pulumi
`sdk/go/common/resource/urn.go` `NewURN` and `pkg/resource/deploy/deployment.go`
`generateURN`: "Skip empty parents and don't use the root stack type; otherwise, use the full
qualified type"). The SDK's mock monitor keeps only the parent's last type and keeps the root
stack's, so the harness builds URNs here instead.

A resource registered without a provider gets its package's default provider, which the
engine registers itself on first use (`pkg/resource/deploy/source_eval.go`,
`newRegisterDefaultProviderEvent`): type `pulumi:providers:<package>`, no parent, named
`default` plus the requested version's parts (`ProviderRequest.DefaultName`), inputs the stack
config of the package plus `version`.
"""

from __future__ import annotations

import re

from policies.guardrails.types import STACK

PREFIX = "urn:pulumi:"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"


def urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """The URN the engine gives a resource of `type_` named `name` under the resource `parent` ("" for none)."""
    parent_type = qualified_type(parent) if parent else ""
    qualified = f"{parent_type}${type_}" if parent_type and parent_type != STACK else type_
    return f"{PREFIX}{stack}::{project}::{qualified}::{name}"


def project_of(urn_: str) -> str:
    return urn_[len(PREFIX) :].split("::", 3)[1]


def qualified_type(urn_: str) -> str:
    """The type part of a URN, with every ancestor's type (`a$b$c`)."""
    return urn_[len(PREFIX) :].split("::", 3)[2]


def type_of(urn_: str) -> str:
    """The resource's own type: the last part of the qualified type."""
    return qualified_type(urn_).split("$")[-1]


def name_of(urn_: str) -> str:
    return urn_[len(PREFIX) :].split("::", 3)[3]


def package_of(type_: str) -> str:
    """The package a type token belongs to (`aws` for `aws:s3/bucket:Bucket`, `random`, `awsx`)."""
    return type_.split(":", 1)[0]


def default_provider_name(version: str, download_url: str = "") -> str:
    """`default_4_21_4` for version 4.21.4, as `ProviderRequest.DefaultName` names a default provider.

    Pre-release and build parts follow, each after an underscore; a plugin download URL adds its
    QName form (`tokens.IntoQName`).
    """
    name = "default"
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?", version)
    if match:
        major, minor, patch, pre, build = match.groups()
        name += f"_{major}_{minor}_{patch}"
        name += "".join(f"_{part}" for part in (pre.split(".") if pre else []))
        name += "".join(f"_{part}" for part in (build.split(".") if build else []))
    if download_url:
        name += "_" + _into_qname(download_url)
    return name


def _into_qname(text: str) -> str:
    """`tokens.IntoQName`: `/`-separated names, each starting with a letter, `_` or `.`, then also digits and `-`."""
    parts = []
    for segment in filter(None, text.split("/")):
        first = segment[0] if re.fullmatch(r"[A-Za-z_.]", segment[0]) else "_"
        parts.append(first + re.sub(r"[^A-Za-z0-9_.-]", "_", segment[1:]))
    return "/".join(parts) or "_"


def default_provider_urn(stack: str, project: str, package: str, version: str, download_url: str = "") -> str:
    return urn(stack, project, "", PROVIDER_TYPE_PREFIX + package, default_provider_name(version, download_url))


def is_provider(type_: str) -> bool:
    return type_.startswith(PROVIDER_TYPE_PREFIX)

"""EFS: file systems encrypted at rest, and every task that mounts one encrypts the traffic.

Both are mandatory: encryption at rest can only be chosen when a file system is created
("Encrypting data at rest", Amazon EFS User Guide), and an ECS task mounts EFS in clear text
unless its volume asks for TLS ("EFSVolumeConfiguration", Amazon ECS API Reference,
transitEncryption defaults to DISABLED).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .common import MANDATORY, has_unknown, is_true, is_unknown, resource_policy
from .types import EFS_ACCESS_POINT, EFS_FILE_SYSTEM, TASK_DEFINITION


def check_encrypted(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    value = props.get("encrypted")
    if not is_unknown(value) and not is_true(value):
        yield "encrypted is not true: the file system's data is stored in clear (fixed at creation)."


def check_transit_encryption(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    volumes = props.get("volumes")
    if not isinstance(volumes, list):
        return
    for volume in volumes:
        if not isinstance(volume, Mapping):
            continue
        efs = volume.get("efsVolumeConfiguration")
        if not isinstance(efs, Mapping):
            continue
        value = efs.get("transitEncryption")
        if not is_unknown(value) and value != "ENABLED":
            yield f"volume {volume.get('name')} mounts EFS without transitEncryption ENABLED: NFS in clear text."


def check_access_point(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    # An access point enforces both for every request through it, whatever the client claims
    # ("Working with Amazon EFS access points", EFS User Guide).
    root, user = props.get("rootDirectory"), props.get("posixUser")
    if not has_unknown(root):
        path = root.get("path") if isinstance(root, Mapping) else None
        if path in (None, "", "/"):
            yield "rootDirectory.path is the file system's root: clients through it see every other volume's files."
    if not has_unknown(user) and not (isinstance(user, Mapping) and user.get("uid") is not None):
        yield "posixUser is not set: clients act as whatever user they claim, root included."


POLICIES = [
    resource_policy(
        "efs-encrypted",
        "EFS file systems are encrypted at rest.",
        MANDATORY,
        [EFS_FILE_SYSTEM],
        check_encrypted,
        "set encrypted=True (and kmsKeyId for a customer managed key); an existing file system must be copied to a "
        "new, encrypted one.",
    ),
    resource_policy(
        "efs-transit-encryption",
        "ECS task definitions mount EFS volumes with transit encryption (TLS).",
        MANDATORY,
        [TASK_DEFINITION],
        check_transit_encryption,
        'set efsVolumeConfiguration.transitEncryption="ENABLED" on every EFS volume of the task definition.',
    ),
    resource_policy(
        "efs-access-point-scoped",
        "EFS access points enforce a root directory below the file system's root and a POSIX user.",
        MANDATORY,
        [EFS_ACCESS_POINT],
        check_access_point,
        'set rootDirectory={"path": "/<volume>", "creationInfo": {...}} and posixUser={"uid": ..., "gid": ...} '
        "(components/efs.py does).",
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "efs-encrypted": ["AwsSolutions-EFS1", "CKV_AWS_42"],
    "efs-access-point-scoped": ["CKV_AWS_329", "CKV_AWS_330"],
    "efs-transit-encryption": ["CKV_AWS_97"],
}

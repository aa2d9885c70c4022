"""EFS: file systems encrypted at rest, and every task that mounts one encrypts the traffic.

Both are mandatory: encryption at rest can only be chosen when a file system is created
("Encrypting data at rest", Amazon EFS User Guide), and an ECS task mounts EFS in clear text
unless its volume asks for TLS ("EFSVolumeConfiguration", Amazon ECS API Reference,
transitEncryption defaults to DISABLED).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .common import MANDATORY, is_true, is_unknown, resource_policy
from .types import EFS_FILE_SYSTEM, TASK_DEFINITION


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
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "efs-encrypted": ["AwsSolutions-EFS1", "CKV_AWS_42"],
    "efs-transit-encryption": ["CKV_AWS_97"],
}

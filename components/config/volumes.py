"""What a service reads and keeps beyond its image: S3 environment files and EFS volumes."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from components.config.base import Model, Problem, fail
from components.config.container import CONTAINER_PATH

# An S3 object as `s3://<bucket>/<key>`. Bucket names: 3-63 characters, lower-case letters,
# digits, dots and hyphens, beginning and ending with a letter or digit (Amazon S3 User Guide,
# "General purpose bucket naming rules").
S3_OBJECT = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>\S+)")
# EFS ids as the EFS API Reference patterns them (FileSystemId, AccessPointId).
FILE_SYSTEM_ID = re.compile(r"fs-[0-9a-f]{8,40}")
ACCESS_POINT_ID = re.compile(r"fsap-[0-9a-f]{8,40}")
# An SSM parameter name from the root with an `efs` path segment (`/shared/efs/reports/id`):
# the CI preview role may read parameters under such a segment only (ci/preview-role-policy.json),
# never the services' secret parameters.
EFS_PARAMETER = re.compile(r"(?:/[A-Za-z0-9_.-]+)*/efs(?:/[A-Za-z0-9_.-]+)+")
# A numeric POSIX user and group, as an EFS access point takes them (0 to 2^32 - 1 each).
USER = re.compile(r"(?P<uid>\d{1,10}):(?P<gid>\d{1,10})")
MAX_POSIX_ID = 2**32 - 1


def _environment_files(files: list[str]) -> list[str]:
    for uri in files:
        match = S3_OBJECT.fullmatch(uri)
        if not match or ".." in match["bucket"]:
            raise ValueError(f"{uri!r} is not an S3 object such as s3://acme-config/orders/app.env")
        if not match["key"].endswith(".env") or match["key"].rsplit("/", 1)[-1] == ".env":
            raise ValueError(f"{uri}: ECS reads environment files with the .env extension only, e.g. app.env")
    repeated = sorted({uri for uri in files if files.count(uri) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return files


def _user(user: str) -> str:
    match = USER.fullmatch(user)
    if not match or max(int(match["uid"]), int(match["gid"])) > MAX_POSIX_ID:
        raise ValueError(f"must be a numeric user and group such as 1000:1000 (each 0 to {MAX_POSIX_ID})")
    return user


EnvironmentFiles = Annotated[
    list[str],
    AfterValidator(_environment_files),
    WithJsonSchema(
        {"type": "array", "maxItems": 10, "items": {"type": "string", "pattern": rf"^{S3_OBJECT.pattern}\.env$"}}
    ),
]
PosixUser = Annotated[str, AfterValidator(_user), WithJsonSchema({"type": "string", "pattern": rf"^{USER.pattern}$"})]


def _container_path(path: str) -> str:
    # Python's re, not the pydantic pattern engine: the rule has a look-ahead (no `.` or `..` segment).
    if not CONTAINER_PATH.fullmatch(path):
        raise ValueError(f"{path!r} is not an absolute path in the container such as /var/lib/reports (not /)")
    return path


ContainerPath = Annotated[
    str, AfterValidator(_container_path), WithJsonSchema({"type": "string", "pattern": rf"^{CONTAINER_PATH.pattern}$"})
]


def posix_ids(user: str) -> tuple[int, int]:
    """(uid, gid) of a valid `user`."""
    match = USER.fullmatch(user)
    assert match is not None
    return int(match["uid"]), int(match["gid"])


class EfsConfig(Model):
    """An EFS file system mounted through an access point: one created for the service, or an existing one.

    `efs: {}` creates one for this service: encrypted at rest (the AWS-managed key
    `aws/elasticfilesystem`, or a key of its own with `customerManagedKey`), Elastic throughput,
    a mount target in each private subnet behind a security group that admits NFS (TCP 2049) from
    the service only, an access point whose POSIX user and root directory (`/<volume name>`,
    mode 750) belong to the service's `user`, and a file system policy that refuses clients
    without TLS and anyone the IAM policies do not name (no anonymous access). Its creation token
    is `{project}-{env}-{service}-{volume}`: a change that would replace it fails on the token
    instead of building an empty file system next to the data.

    An existing one is named by `fileSystemId` and `accessPointId`, or by the SSM parameters that
    hold them (`fileSystemIdParameter`, `accessPointIdParameter`, read when the program runs). It
    must have mount targets in this environment's VPC whose security groups admit NFS from the
    service's security group (output `services.<name>.securityGroupId`): the program cannot
    change groups it does not own.
    """

    file_system_id: str | None = Field(
        None,
        pattern=rf"^{FILE_SYSTEM_ID.pattern}$",
        description="An existing file system (`fs-...`), with `accessPointId`.",
    )
    access_point_id: str | None = Field(
        None,
        pattern=rf"^{ACCESS_POINT_ID.pattern}$",
        description=(
            "The existing file system's access point (`fsap-...`) the task mounts through; the task role may mount "
            "through it only."
        ),
    )
    file_system_id_parameter: str | None = Field(
        None,
        pattern=rf"^{EFS_PARAMETER.pattern}$",
        description=(
            "Or the name of the SSM parameter (String, this account and region) that holds the file system id, with "
            "an `efs` path segment such as `/shared/efs/reports/file-system-id`: the CI preview role may read "
            "parameters under such a segment only. With `accessPointIdParameter`."
        ),
    )
    access_point_id_parameter: str | None = Field(
        None,
        pattern=rf"^{EFS_PARAMETER.pattern}$",
        description="The SSM parameter holding the access point id, named like `fileSystemIdParameter`.",
    )
    customer_managed_key: bool = Field(
        False,
        description=(
            "A file system the service creates: encrypted with a KMS key of its own (alias "
            "`{project}-{env}-{service}-{volume}-efs`, yearly rotation, 1 USD a month) instead of the AWS-managed "
            "`aws/elasticfilesystem`. Changing it replaces the file system, which its creation token refuses."
        ),
    )
    backups: bool = Field(
        False,
        description=(
            "A file system the service creates: AWS Backup's daily automatic backups, kept 35 days in the "
            '`aws/efs/automatic-backup-vault` (EFS User Guide, "Automatic backups"); they outlive the file system. '
            "Production turns them on."
        ),
    )

    @property
    def creates(self) -> bool:
        """True when the service creates the file system (no id and no parameter given)."""
        return not (self.file_system_id or self.access_point_id or self.by_parameter)

    @property
    def by_parameter(self) -> bool:
        return bool(self.file_system_id_parameter or self.access_point_id_parameter)

    @model_validator(mode="after")
    def _one_source(self) -> EfsConfig:
        problems: list[Problem] = []
        ids = ("file_system_id", "access_point_id")
        parameters = ("file_system_id_parameter", "access_point_id_parameter")
        by_id = [key for key in ids if getattr(self, key)]
        by_parameter = [key for key in parameters if getattr(self, key)]
        if by_id and by_parameter:
            problems.append(
                (
                    (by_parameter[0],),
                    "name the file system by its ids or by their SSM parameters, not both",
                    getattr(self, by_parameter[0]),
                )
            )
        for given, pair in ((by_id, ids), (by_parameter, parameters)):
            if given and len(given) < 2:
                missing = next(key for key in pair if key not in given)
                other = next(key for key in pair if key in given)
                problems.append(
                    (
                        (missing,),
                        f"an existing file system is mounted through an access point: set {_camel(missing)} with "
                        f"{_camel(other)}",
                        None,
                    )
                )
        if (by_id or by_parameter) and (self.customer_managed_key or self.backups):
            key = "customer_managed_key" if self.customer_managed_key else "backups"
            problems.append(
                ((key,), "applies to a file system the service creates (efs: {}), not to an existing one", True)
            )
        fail(problems)
        return self


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


class VolumeConfig(Model):
    """A persistent volume mounted into the container: an EFS file system (`efs`)."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$",
        description=(
            "Lower-case DNS label, 2-24 characters, unique in the service: the task definition's volume and the names "
            "of what a created file system consists of."
        ),
    )
    container_path: ContainerPath = Field(
        description="Absolute path in the container (not `/`), unique among the service's volumes and `writablePaths`.",
    )
    read_only: bool = Field(
        False, description="Mounted read-only; the task role then gets `elasticfilesystem:ClientMount` only."
    )
    efs: EfsConfig = Field(
        description=(
            "The file system: `{}` creates one for the service, or name an existing one (whose mount targets must "
            "admit NFS from the service's security group, output `services.<name>.securityGroupId`). The task mounts "
            "it with transit encryption and IAM authorization through the access point; the task role may "
            "`elasticfilesystem:ClientMount` (and `ClientWrite` unless `readOnly`) on that file system through that "
            "access point only."
        )
    )

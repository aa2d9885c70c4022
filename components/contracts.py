"""What components need of each other: small frozen records of outputs, never a component itself.

A component's args are its config section, the naming, the account and the contracts below.
Each live component exposes its contract (`network.refs`, `cluster.refs`, `database.refs`,
`service.refs`, `service.delivery_target`). The environment stack exports every contract's
fields (`outputs()`, camelCase keys), and `from_stack_reference` reads them back: a stack of
its own (a team's services on a shared environment, the way AWS Copilot separates environment
and service stacks) builds the same component from another stack's outputs.

Fields that decide what gets built (an architecture, whether a service is public) are plain
values; a stack reading a contract from another stack knows them from its own config and
passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

import pulumi

from components.account import Account
from components.config import DatabaseAccessConfig

# The pipeline's Release step adds `deployed-<tag>` to each image it deployed; the service's
# repository lifecycle policy keeps those apart from the images every commit pushes.
DEPLOYED_TAG_PREFIX = "deployed-"


class _Exported:
    """A contract one stack exports, one output per field, and another stack reads back."""

    _PREFIX: ClassVar[str] = ""  # before each key, e.g. "db" for dbAddress

    @classmethod
    def key(cls, name: str) -> str:
        """The stack output (or key of a service's entry in `services`) that holds field `name`."""
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
        return cls._PREFIX + camel[0].upper() + camel[1:] if cls._PREFIX else camel

    def outputs(self) -> dict[str, Any]:
        """Every field that is set, under its key."""
        return {self.key(f.name): value for f in fields(self) if (value := getattr(self, f.name)) is not None}

    def export(self) -> None:
        """Exports `outputs()` as stack outputs of the running program."""
        for key, value in self.outputs().items():
            pulumi.export(key, value)

    @classmethod
    def from_outputs(cls, get: Callable[[str], Any], **known: Any) -> Self:
        """Fields read with `get(key)`, except the `known` ones, which the caller gives as plain values."""
        return cls(**{f.name: known[f.name] if f.name in known else get(cls.key(f.name)) for f in fields(cls)})


def _service_entry(ref: pulumi.StackReference, service: str) -> Callable[[str], pulumi.Output[Any]]:
    """Reads keys of one service's entry in the `services` output."""
    return lambda key: ref.get_output("services").apply(lambda services: services[service].get(key))


@dataclass(frozen=True)
class NetworkRefs(_Exported):
    """What other components build on in the network: the VPC, its subnets per tier, the endpoints' group."""

    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[list[str]]
    private_subnet_ids: pulumi.Input[list[str]]
    isolated_subnet_ids: pulumi.Input[list[str]]
    # The security group of the interface endpoints; None without interface endpoints.
    endpoint_security_group_id: pulumi.Input[str] | None = None
    # The AZs of the subnets, one subnet per tier in each: decides how many of a per-AZ resource
    # (EFS mount targets) a component builds, so plain values; None when not known.
    availability_zones: Sequence[str] | None = None

    @classmethod
    def from_stack_reference(
        cls, ref: pulumi.StackReference, *, availability_zones: Sequence[str] | None = None
    ) -> NetworkRefs:
        """The network another stack exports; `availability_zones` as that stack's config names them."""
        zones = tuple(availability_zones) if availability_zones is not None else None
        return cls.from_outputs(ref.get_output, availability_zones=zones)


@dataclass(frozen=True)
class ClusterRefs(_Exported):
    """Where services run and how the shared load balancer reaches them."""

    # Both wait for the cluster's capacity-provider association: a service that names them is
    # created after it and deleted before it (ECS refuses a strategy naming a provider the
    # cluster lacks).
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    # Architecture ("x86_64", "arm64") -> capacity provider strategy of a service of it.
    capacity_provider_strategies: pulumi.Input[Mapping[str, list[dict[str, Any]]]]
    namespace_id: pulumi.Input[str]  # Cloud Map private DNS namespace
    namespace_name: pulumi.Input[str]
    listener_arn: pulumi.Input[str]  # the listener service rules attach to (HTTPS when there is a certificate)
    url_scheme: pulumi.Input[str]  # "https" or "http": what the listener serves
    alb_arn_suffix: pulumi.Input[str]  # the LoadBalancer dimension of ALB metrics
    alb_dns_name: pulumi.Input[str]
    alb_security_group_id: pulumi.Input[str]

    @classmethod
    def from_stack_reference(cls, ref: pulumi.StackReference) -> ClusterRefs:
        return cls.from_outputs(ref.get_output)

    def capacity_provider_strategy(self, architecture: str) -> pulumi.Input[list[dict[str, Any]]]:
        """The strategy a service of `architecture` runs with."""
        if isinstance(self.capacity_provider_strategies, Mapping):
            return self.capacity_provider_strategies[architecture]
        return pulumi.Output.from_input(self.capacity_provider_strategies).apply(lambda s: s[architecture])


@dataclass(frozen=True)
class SecretReference:
    """A Secrets Manager secret (or one JSON key of it) handed to the container as environment variable `name`."""

    name: str
    secret_arn: pulumi.Input[str]
    json_key: str | None = None
    # The customer-managed key the secret is encrypted with, if any: the execution role may
    # decrypt with it, through Secrets Manager only.
    kms_key_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class FileSystemMount:
    """An EFS file system a service's tasks mount through one access point, with IAM authorization.

    `ready` are the resources the ECS service must wait for before it starts tasks that mount it
    (mount targets, the NFS rule of their security group, the file system policy): none for a
    file system another stack or team owns.
    """

    file_system_id: pulumi.Input[str]
    file_system_arn: pulumi.Input[str]
    access_point_id: pulumi.Input[str]
    access_point_arn: pulumi.Input[str]
    ready: Sequence[pulumi.Resource] = ()

    @classmethod
    def existing(
        cls, account: Account, file_system_id: pulumi.Input[str], access_point_id: pulumi.Input[str]
    ) -> FileSystemMount:
        """A file system and access point made elsewhere, by id (ARNs: Service Authorization Reference, Amazon EFS)."""

        def arn(kind: str, resource_id: pulumi.Input[str]) -> pulumi.Output[str]:
            return pulumi.Output.concat(account.arn("elasticfilesystem", f"{kind}/"), resource_id)

        return cls(
            file_system_id, arn("file-system", file_system_id), access_point_id, arn("access-point", access_point_id)
        )


@dataclass(frozen=True)
class DatabaseClient:
    """What one service gets to reach the database: plain environment, secrets, task-role statements.

    Network access is the database's to grant (`Database.allow_from`), one rule per client.
    """

    environment: Mapping[str, pulumi.Input[str]]
    secrets: Sequence[SecretReference] = ()
    task_statements: Sequence[Mapping[str, Any]] = ()
    uses_password: bool = False  # reads the master password, so must restart when it rotates

    @classmethod
    def from_stack_reference(
        cls, ref: pulumi.StackReference, account: Account, access: DatabaseAccessConfig, user: str | None = None
    ) -> DatabaseClient:
        return DatabaseRefs.from_stack_reference(ref).client(account, access, user)


@dataclass(frozen=True)
class DatabaseRefs(_Exported):
    """Where the database is, its credentials' secret and key, and the group its clients are let into."""

    _PREFIX: ClassVar[str] = "db"

    endpoint: pulumi.Input[str]
    address: pulumi.Input[str]
    port: pulumi.Input[int]
    name: pulumi.Input[str]
    username: pulumi.Input[str]  # the master user
    secret_arn: pulumi.Input[str]  # the RDS-managed master secret
    resource_id: pulumi.Input[str]  # the DbiResourceId that IAM dbuser ARNs name
    kms_key_arn: pulumi.Input[str]  # encrypts storage and the master secret
    security_group_id: pulumi.Input[str]

    @classmethod
    def from_stack_reference(cls, ref: pulumi.StackReference) -> DatabaseRefs:
        return cls.from_outputs(ref.get_output)

    def client(self, account: Account, access: DatabaseAccessConfig, user: str | None = None) -> DatabaseClient:
        """How a service with `access` reaches the database (`user`: its PostgreSQL user with IAM auth).

        With the password, the credentials are ECS secrets read from the RDS-managed secret's
        JSON keys: the execution role may read this one secret and decrypt it with the
        database key; the values never appear in the task definition, the state or the
        environment. With IAM authentication, the task role may connect as `user` only.
        """
        # A port read from another stack's outputs arrives as a JSON number (5432.0).
        port = pulumi.Output.from_input(self.port).apply(lambda p: str(int(p)))
        if isinstance(self.port, int):
            port = str(self.port)
        environment = {"DB_HOST": self.address, "DB_PORT": port, "DB_NAME": self.name}
        if not access.iam_auth:
            secrets = [
                SecretReference(variable, self.secret_arn, json_key, self.kms_key_arn)
                for variable, json_key in (("DB_USERNAME", "username"), ("DB_PASSWORD", "password"))
            ]
            return DatabaseClient(environment, secrets, uses_password=True)
        if user is None:
            raise ValueError("IAM database authentication needs the service's database user")
        return DatabaseClient({**environment, "DB_USER": user}, task_statements=[self.connect_statement(account, user)])

    def connect_statement(self, account: Account, user: str) -> dict[str, Any]:
        """`rds-db:connect` as exactly one database user of this instance, for the client's task role.

        The resource is `arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>`
        ("Creating and using an IAM policy for IAM database access", RDS User Guide): the
        instance's resource id, not its identifier, and never a wildcard.
        """
        return {
            "Sid": "ConnectToDatabase",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": pulumi.Output.concat(account.arn("rds-db", "dbuser:"), self.resource_id, f"/{user}"),
        }


@dataclass(frozen=True)
class ServiceRefs(_Exported):
    """An ECS service as others act on it: redeploy it, chart it."""

    name: str  # the service's short name, as in config
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    # Public services: the TargetGroup dimension of their ALB metrics; None for internal ones.
    target_group_arn_suffix: pulumi.Input[str] | None = None

    @classmethod
    def from_stack_reference(cls, ref: pulumi.StackReference, name: str, *, public: bool) -> ServiceRefs:
        known: dict[str, Any] = {"name": name} if public else {"name": name, "target_group_arn_suffix": None}
        return cls.from_outputs(_service_entry(ref, name), **known)


@dataclass(frozen=True)
class DeliveryTarget(_Exported):
    """What a pipeline needs of the service it delivers to: where to push, what to deploy, what it may pass."""

    name: str  # the service's short name, as in config; names every resource of its pipeline
    architecture: str  # "x86_64" or "arm64": the image is built for it
    container_name: str
    repository_name: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    repository_url: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    task_definition_family: pulumi.Input[str]
    # The SSM parameter holding the image the service runs: the pipeline writes it after each deployment.
    image_parameter_name: pulumi.Input[str]
    image_parameter_arn: pulumi.Input[str]

    @classmethod
    def from_stack_reference(
        cls, ref: pulumi.StackReference, name: str, *, architecture: str, container_name: str | None = None
    ) -> DeliveryTarget:
        known = {"name": name, "architecture": architecture, "container_name": container_name or name}
        return cls.from_outputs(_service_entry(ref, name), **known)

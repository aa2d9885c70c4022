"""The environment's database: RDS for PostgreSQL in the isolated subnets, reachable only from
security groups that are explicitly allowed in.

Everything that decides who can reach or read the data is a plain pulumi_aws resource: the
security group (no rules of its own; `allow_from` adds one ingress rule per client as a
separate resource), the KMS key that encrypts storage, Performance Insights and the master
secret, and the enhanced-monitoring role. The master password is created and rotated by RDS
in Secrets Manager (`manage_master_user_password`); it never passes through config or state.

Services reach it one of two ways (`Database.client`): IAM database authentication as a
user of their own (a short-lived token, nothing secret in the task), or the master user's
password as ECS secrets, in which case `components/rotation.py` redeploys them whenever
RDS rotates that password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.account import current_account, trust_policy
from components.config import DatabaseAccessConfig, DatabaseConfig
from components.naming import Naming
from components.service import SecretReference

# Logs RDS for PostgreSQL can export to CloudWatch; both get a log group with retention here.
LOG_EXPORTS = ("postgresql", "upgrade")


@dataclass(frozen=True)
class DatabaseArgs:
    config: DatabaseConfig
    naming: Naming
    region: str
    vpc_id: pulumi.Input[str]
    isolated_subnet_ids: pulumi.Input[list[str]]
    # On when any client connects with IAM database authentication.
    iam_authentication: bool = False


@dataclass(frozen=True)
class DatabaseClient:
    """What one service gets to reach the database: plain environment, secrets, task-role statements."""

    environment: Mapping[str, pulumi.Input[str]]
    secrets: Sequence[SecretReference] = ()
    task_statements: Sequence[Mapping[str, Any]] = ()
    uses_password: bool = False


class Database(pulumi.ComponentResource):
    """RDS PostgreSQL with its subnet group, security group, parameter group, KMS key and managed secret."""

    identifier: str
    security_group_id: pulumi.Output[str]
    address: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    port: int
    db_name: str
    master_username: str
    secret_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    resource_id: pulumi.Output[str]  # the DbiResourceId that IAM dbuser ARNs name
    final_snapshot_identifier: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:database:Database", name, None, opts)
        cfg, naming = args.config, args.naming
        self._name = name
        self.port = cfg.port
        self.db_name = cfg.name
        self.master_username = cfg.master_username
        self._region = args.region
        # A fixed, readable identifier rather than a prefix: the log groups below must be named
        # after it before the instance exists, operators find it in the console, and a change
        # that would replace the instance fails on the name clash instead of quietly building
        # an empty database next to the old one.
        self.identifier = naming.name("postgres", "rds_identifier", lowercase=True)
        # Losing the key loses every snapshot, so it is protected whenever the data is.
        keep = cfg.deletion_protection

        key = aws.kms.Key(
            f"{name}-key",
            description=f"{self.identifier}: storage, snapshots, Performance Insights and the master secret",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            opts=pulumi.ResourceOptions(parent=self, protect=keep),
        )
        aws.kms.Alias(
            f"{name}-key",
            name=f"alias/{naming.name('postgres', 'kms_alias')}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=key),
        )
        self.kms_key_arn = key.arn

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name_prefix=naming.prefix("postgres", "default").lower(),
            description="Isolated subnets only: no route to or from the internet",
            subnet_ids=args.isolated_subnet_ids,
            opts=pulumi.ResourceOptions(parent=self),
        )

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=naming.prefix("postgres", "security_group"),
            description="PostgreSQL: only from security groups granted through allow_from",
            vpc_id=args.vpc_id,
            tags={"Name": naming.name("postgres")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group_id = security_group.id

        family = f"postgres{cfg.engine_version}"
        # Named by prefix: a major upgrade needs a new group of the new family created before
        # the old one is deleted. The old one is never deleted by Pulumi (skip_destroy: it only
        # leaves the state): with applyImmediately false the instance keeps using it until the
        # maintenance window, and RDS refuses to delete a group that is still attached
        # (InvalidDBParameterGroupState), which would fail every `pulumi up` until then. README,
        # "Upgrade PostgreSQL to a new major version", says how to delete it once unused.
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            name_prefix=naming.prefix(f"{family}", "default").lower(),
            family=family,
            description=f"{family}: SSL required, slow statements logged",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1", apply_method="immediate"),
                aws.rds.ParameterGroupParameterArgs(
                    name="log_min_duration_statement", value=str(cfg.slow_statement_ms), apply_method="immediate"
                ),
            ],
            skip_destroy=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

        # A final snapshot name of its own for each lifetime of the database: a fixed
        # `<identifier>-final` would still exist after the first destroy and make the next
        # destroy of a recreated environment fail. The suffix is created with the database
        # and kept in the state, so it is stable across `pulumi up`s; it changes only when the
        # identifier (and so the database) changes, or when the environment is rebuilt.
        snapshot_suffix = random.RandomId(
            f"{name}-final-snapshot",
            byte_length=4,
            keepers={"identifier": self.identifier},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.final_snapshot_identifier = pulumi.Output.concat(self.identifier, "-final-", snapshot_suffix.hex)

        # RDS would create these on first export, with logs that never expire.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{log}-logs",
                name=f"/aws/rds/instance/{self.identifier}/{log}",
                retention_in_days=cfg.log_retention_days,
                opts=pulumi.ResourceOptions(parent=self, protect=keep),
            )
            for log in LOG_EXPORTS
        ]

        monitoring_role = self._monitoring_role(name, args) if cfg.enhanced_monitoring_interval else None

        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=self.identifier,
            engine="postgres",
            # Major only: RDS picks the newest minor and upgrades minors itself; the provider
            # treats "18" as matching 18.x, so `pulumi up` never tries to move back.
            engine_version=cfg.engine_version,
            allow_major_version_upgrade=True,  # a new major in config upgrades in place
            auto_minor_version_upgrade=True,
            instance_class=cfg.instance_class,
            db_name=cfg.name,
            username=cfg.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            port=cfg.port,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            parameter_group_name=parameter_group.name,
            storage_type="gp3",
            allocated_storage=cfg.allocated_storage,
            max_allocated_storage=cfg.max_allocated_storage,
            storage_encrypted=True,
            kms_key_id=key.arn,
            multi_az=cfg.multi_az,
            backup_retention_period=cfg.backup_retention_days,
            backup_window=cfg.backup_window,
            maintenance_window=cfg.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=True,  # AWS's default; the final snapshot is what outlives a destroy
            deletion_protection=cfg.deletion_protection,
            skip_final_snapshot=cfg.skip_final_snapshot,
            # Always set, so a destroy with skip_final_snapshot false cannot fail for want of it.
            final_snapshot_identifier=self.final_snapshot_identifier,
            # Lets clients log in with a token for a user granted rds_iam ("IAM database
            # authentication for MariaDB, MySQL, and PostgreSQL", RDS User Guide); the master
            # user keeps its password.
            iam_database_authentication_enabled=args.iam_authentication,
            apply_immediately=cfg.apply_immediately,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            performance_insights_enabled=cfg.performance_insights,
            performance_insights_kms_key_id=key.arn if cfg.performance_insights else None,
            performance_insights_retention_period=(
                cfg.performance_insights_retention_days if cfg.performance_insights else None
            ),
            monitoring_interval=cfg.enhanced_monitoring_interval,
            monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
            tags={"Name": self.identifier},
            opts=pulumi.ResourceOptions(parent=self, protect=keep, depends_on=log_groups),
        )
        self.address = instance.address
        self.endpoint = instance.endpoint
        self.secret_arn = instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)
        self.resource_id = instance.resource_id
        self._iam_authentication = args.iam_authentication

        self.register_outputs(
            {
                "identifier": self.identifier,
                "address": self.address,
                "endpoint": self.endpoint,
                "port": self.port,
                "dbName": self.db_name,
                "securityGroupId": self.security_group_id,
                "secretArn": self.secret_arn,
                "kmsKeyArn": self.kms_key_arn,
                "resourceId": self.resource_id,
                "finalSnapshotIdentifier": self.final_snapshot_identifier,
            }
        )

    def client(self, access: DatabaseAccessConfig, user: str | None = None) -> DatabaseClient:
        """How a service with `access` reaches the database (`user`: its PostgreSQL user with IAM auth)."""
        if not access.iam_auth:
            return DatabaseClient(self.client_environment(), self.client_secrets(), uses_password=True)
        if user is None:
            raise ValueError("IAM database authentication needs the service's database user")
        if not self._iam_authentication:
            raise ValueError("the database was built without IAM authentication; pass iam_authentication=True")
        return DatabaseClient(
            {**self.client_environment(), "DB_USER": user},
            task_statements=[self.connect_statement(user)],
        )

    def connect_statement(self, user: str) -> dict[str, Any]:
        """`rds-db:connect` as exactly one database user of this instance, for the client's task role.

        The resource is `arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>`
        ("Creating and using an IAM policy for IAM database access", RDS User Guide): the
        instance's resource id, not its identifier, and never a wildcard.
        """
        account = current_account(self)
        return {
            "Sid": "ConnectToDatabase",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": pulumi.Output.concat(
                f"arn:{account.partition}:rds-db:{self._region}:{account.id}:dbuser:", self.resource_id, f"/{user}"
            ),
        }

    def client_environment(self) -> dict[str, pulumi.Input[str]]:
        """Where a service finds the database: plain environment, nothing secret."""
        return {"DB_HOST": self.address, "DB_PORT": str(self.port), "DB_NAME": self.db_name}

    def client_secrets(self) -> list[SecretReference]:
        """The credentials, as ECS secrets read from the RDS-managed secret's JSON keys.

        The execution role may read this one secret and decrypt it with the database key;
        the values never appear in the task definition, the state or the environment.
        """
        return [
            SecretReference(variable, self.secret_arn, json_key, self.kms_key_arn)
            for variable, json_key in (("DB_USERNAME", "username"), ("DB_PASSWORD", "password"))
        ]

    def allow_from(
        self, name: str, security_group_id: pulumi.Input[str], description: str | None = None
    ) -> aws.vpc.SecurityGroupIngressRule:
        """Lets one security group reach the database port: one ingress rule, a child of the database.

        The rule belongs to the database side, so a client component never has to be built
        before or after it (no cycle), and removing a client removes exactly its rule.
        """
        return aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-from-{name}",
            security_group_id=self.security_group_id,
            referenced_security_group_id=security_group_id,
            description=description or f"PostgreSQL from {name}",
            ip_protocol="tcp",
            from_port=self.port,
            to_port=self.port,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _monitoring_role(self, name: str, args: DatabaseArgs) -> aws.iam.Role:
        """The role RDS assumes to publish enhanced-monitoring metrics (AWS's managed policy for it)."""
        account = current_account(self)
        account_id, partition = account.id, account.partition
        role = aws.iam.Role(
            f"{name}-monitoring",
            name_prefix=args.naming.prefix("rds-monitoring", "iam_role_prefix"),
            description="Lets RDS enhanced monitoring publish OS metrics to CloudWatch Logs",
            assume_role_policy=trust_policy("monitoring.rds.amazonaws.com", account_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            role=role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role

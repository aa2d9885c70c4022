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
RDS rotates that password. What a client gets is a `DatabaseClient` (components/contracts.py),
built from the database's `refs`, so a stack of its own can build it from this one's outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.account import Account
from components.config import DatabaseAccessConfig, DatabaseConfig
from components.contracts import DatabaseClient, DatabaseRefs, NetworkRefs
from components.iam import trust_policy
from components.kms import STORAGE_KEY, encryption_key
from components.naming import Naming

# Logs RDS for PostgreSQL can export to CloudWatch; both get a log group with retention here.
LOG_EXPORTS = ("postgresql", "upgrade")


@dataclass(frozen=True)
class DatabaseArgs:
    config: DatabaseConfig
    naming: Naming
    account: Account
    network: NetworkRefs
    # On when any client connects with IAM database authentication.
    iam_authentication: bool = False


class Database(pulumi.ComponentResource):
    """RDS PostgreSQL with its subnet group, security group, parameter group, KMS key and managed secret."""

    identifier: str
    refs: DatabaseRefs  # where it is, its secret and key, its security group
    final_snapshot_identifier: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:database:Database", name, None, opts)
        cfg, naming = args.config, args.naming
        self._name, self._account = name, args.account
        self._port = cfg.port
        self._iam_authentication = args.iam_authentication
        # A fixed, readable identifier rather than a prefix: the log groups below must be named
        # after it before the instance exists, operators find it in the console, and a change
        # that would replace the instance fails on the name clash instead of quietly building
        # an empty database next to the old one.
        self.identifier = naming.name("postgres", "rds_identifier", lowercase=True)
        # Losing the key loses every snapshot, so it is protected whenever the data is.
        keep = cfg.deletion_protection

        key = encryption_key(
            name,
            alias=naming.name("postgres", "kms_alias"),
            description=f"{self.identifier}: storage, snapshots, Performance Insights and the master secret",
            parent=self,
            protect=keep,
            **STORAGE_KEY,
        )

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name_prefix=naming.prefix("postgres", "default").lower(),
            description="Isolated subnets only: no route to or from the internet",
            subnet_ids=args.network.isolated_subnet_ids,
            opts=pulumi.ResourceOptions(parent=self),
        )

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=naming.prefix("postgres", "security_group"),
            description="PostgreSQL: only from security groups granted through allow_from",
            vpc_id=args.network.vpc_id,
            tags={"Name": naming.name("postgres")},
            opts=pulumi.ResourceOptions(parent=self),
        )

        family = f"postgres{cfg.engine_version}"
        # Named by prefix: a major upgrade needs a new group of the new family created before
        # the old one is deleted. The old one is never deleted by Pulumi (skip_destroy: it only
        # leaves the state): with applyImmediately false the instance keeps using it until the
        # maintenance window, and RDS refuses to delete a group that is still attached
        # (InvalidDBParameterGroupState), which would fail every `pulumi up` until then. docs/database.md,
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
        self.refs = DatabaseRefs(
            endpoint=instance.endpoint,
            address=instance.address,
            port=cfg.port,
            name=cfg.name,
            username=cfg.master_username,
            secret_arn=instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn),
            resource_id=instance.resource_id,
            kms_key_arn=key.arn,
            security_group_id=security_group.id,
        )
        self.register_outputs(
            {
                "identifier": self.identifier,
                "address": self.refs.address,
                "endpoint": self.refs.endpoint,
                "port": cfg.port,
                "dbName": cfg.name,
                "securityGroupId": security_group.id,
                "secretArn": self.refs.secret_arn,
                "kmsKeyArn": key.arn,
                "resourceId": self.refs.resource_id,
                "finalSnapshotIdentifier": self.final_snapshot_identifier,
            }
        )

    def client(self, access: DatabaseAccessConfig, user: str | None = None) -> DatabaseClient:
        """How a service with `access` reaches the database (`user`: its PostgreSQL user with IAM auth)."""
        if access.iam_auth and not self._iam_authentication:
            raise ValueError("the database was built without IAM authentication; pass iam_authentication=True")
        return self.refs.client(self._account, access, user)

    def allow_from(
        self, name: str, security_group_id: pulumi.Input[str], description: str | None = None
    ) -> aws.vpc.SecurityGroupIngressRule:
        """Lets one security group reach the database port: one ingress rule, a child of the database.

        The rule belongs to the database side, so a client component never has to be built
        before or after it (no cycle), and removing a client removes exactly its rule.
        """
        return aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-from-{name}",
            security_group_id=self.refs.security_group_id,
            referenced_security_group_id=security_group_id,
            description=description or f"PostgreSQL from {name}",
            ip_protocol="tcp",
            from_port=self._port,
            to_port=self._port,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _monitoring_role(self, name: str, args: DatabaseArgs) -> aws.iam.Role:
        """The role RDS assumes to publish enhanced-monitoring metrics (AWS's managed policy for it)."""
        account = args.account
        role = aws.iam.Role(
            f"{name}-monitoring",
            name_prefix=args.naming.prefix("rds-monitoring", "iam_role_prefix"),
            description="Lets RDS enhanced monitoring publish OS metrics to CloudWatch Logs",
            assume_role_policy=trust_policy("monitoring.rds.amazonaws.com", account.id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            role=role.name,
            policy_arn=account.arn(
                "iam", "policy/service-role/AmazonRDSEnhancedMonitoringRole", region="", account="aws"
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role

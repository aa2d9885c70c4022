"""Private RDS (mandatory): no public endpoint, only isolated or private subnets, no CIDR ingress to a
database's security groups, encrypted storage, no master password in the program, and IAM database
authentication on wherever a role is granted `rds-db:connect` to the database.

"Public" is decided from the resource graph, so a database cannot be made reachable by a
route around the `publiclyAccessible` flag: its subnet group's subnets are traced to the
awsx Vpc tier they come from (`publicSubnetIds` / `privateSubnetIds` / `isolatedSubnetIds`
outputs) or, for plain subnets, to their route tables and any route to an internet gateway;
its security groups are the ones the instance or cluster names, with every inline and
separate ingress rule that targets them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    StackGraph,
    Unparsable,
    as_list,
    has_unknown,
    is_true,
    is_unknown,
    resource_policy,
    stack_policy,
)
from .iam import DB_USER_ARN, DOCUMENT_TYPES, allow_statements, grants_rds_connect
from .types import (
    DB_PARAMETER_GROUP,
    DB_SUBNET_GROUP,
    DEFAULT_ROUTE_TABLE,
    DEFAULT_SUBNET,
    INGRESS_RULE,
    INTERNET_GATEWAY,
    MAIN_ROUTE_TABLE_ASSOCIATION,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_DATABASES,
    RDS_INSTANCE,
    ROUTE,
    ROUTE_TABLE,
    ROUTE_TABLE_ASSOCIATION,
    ROUTE_TABLES,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SUBNETS,
)

TIER_KEYS = {"publicSubnetIds": "public", "privateSubnetIds": "private", "isolatedSubnetIds": "isolated"}


# --- per resource ---------------------------------------------------------------------------


def check_public(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if is_true(props.get("publiclyAccessible")):
        yield "publiclyAccessible is true: the database gets a public DNS name and address."


def check_encrypted(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if args.resource_type == RDS_CLUSTER_INSTANCE:
        return  # cluster instances store nothing of their own: the cluster's storageEncrypted applies
    if args.resource_type == RDS_INSTANCE and props.get("replicateSourceDb"):
        return  # a read replica inherits its source's encryption
    value = props.get("storageEncrypted")
    if is_unknown(value) or is_true(value):
        return
    yield "storageEncrypted is not true: the database's storage, backups and snapshots are unencrypted."


def check_password(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    for key in ("password", "passwordWo", "masterPassword", "masterPasswordWo"):
        if props.get(key) not in (None, ""):
            yield f"{key} is set: the master password passes through the program, its config and its state."


# What each engine's exports must hold: the server log, where connections, authentication failures
# and slow statements land ("Publishing database logs to Amazon CloudWatch Logs", RDS User Guide;
# valid types per engine in "CloudwatchLogsExportConfiguration", RDS API Reference).
REQUIRED_LOG_EXPORTS = {"postgres": "postgresql", "mysql": "error", "mariadb": "error"}


def check_log_exports(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    engine, exports = props.get("engine"), props.get("enabledCloudwatchLogsExports")
    if is_unknown(engine) or has_unknown(exports):
        return
    wanted = REQUIRED_LOG_EXPORTS.get(str(engine or ""))
    exports = [e for e in as_list(exports) if isinstance(e, str)]
    if wanted and wanted not in exports:
        shown = exports or "(none)"
        yield f"enabledCloudwatchLogsExports {shown} lacks {wanted!r}: the server log stays on the instance."
    elif not wanted and not exports:
        yield "enabledCloudwatchLogsExports is empty: the database's logs stay on the instance."


# --- over the graph ---------------------------------------------------------------------------


def _routes_to_internet(graph: StackGraph, table: Any) -> bool:
    for route in as_list(graph.get(table, "routes")):
        if isinstance(route, Mapping) and str(route.get("gatewayId", "")).startswith("igw-"):
            return True
    if graph.referenced(table, "routes", [INTERNET_GATEWAY]):
        return True
    for route in graph.referrers(table, "routeTableId", [ROUTE]):
        if str(graph.get(route, "gatewayId") or "").startswith("igw-"):
            return True
        if graph.referenced(route, "gatewayId", [INTERNET_GATEWAY]):
            return True
    return False


def _subnet_route_tables(graph: StackGraph, subnet: Any) -> list[Any]:
    tables = [
        table
        for association in graph.referrers(subnet, "subnetId", [ROUTE_TABLE_ASSOCIATION])
        for table in graph.referenced(association, "routeTableId", ROUTE_TABLES)
    ]
    if tables:
        return tables
    # No explicit association: the subnet uses its VPC's main route table.
    vpcs = graph.referenced(subnet, "vpcId")
    main = [
        table
        for vpc in vpcs
        for association in graph.referrers(vpc, "vpcId", [MAIN_ROUTE_TABLE_ASSOCIATION])
        for table in graph.referenced(association, "routeTableId", [ROUTE_TABLE])
    ]
    main += [
        table
        for table in graph.of_type(DEFAULT_ROUTE_TABLE)
        if set(graph.referenced(table, "defaultRouteTableId")) & set(vpcs)
    ]
    return main


def _plain_subnet_tier(graph: StackGraph, subnet: Any) -> str:
    if subnet.resource_type == DEFAULT_SUBNET or is_true(graph.get(subnet, "mapPublicIpOnLaunch")):
        return "public"
    if any(_routes_to_internet(graph, table) for table in _subnet_route_tables(graph, subnet)):
        return "public"
    return "private"


def subnet_tiers(graph: StackGraph, resource: Any, key: str) -> Iterator[tuple[str, str]]:
    """(subnet, tier) for each subnet id in `resource`'s property `key`: public, private, isolated or untraceable."""
    value = graph.get(resource, key)
    if value is None or has_unknown(value):
        # Ids unknown (preview): plain subnet resources can still be followed through the graph.
        for subnet in graph.referenced(resource, key, SUBNETS):
            yield subnet.name, _plain_subnet_tier(graph, subnet)
        return
    for subnet_id in as_list(value):
        subnets = [r for r in graph.by_value(subnet_id) if r.resource_type in SUBNETS]
        if subnets:
            yield subnet_id, _plain_subnet_tier(graph, subnets[0])
            continue
        tiers = {
            tier
            for resource in graph.resources
            for key, tier in TIER_KEYS.items()
            if isinstance(graph.get(resource, key), list) and subnet_id in graph.get(resource, key)
        }
        if not tiers:
            yield subnet_id, "untraceable"
        else:
            yield subnet_id, "public" if "public" in tiers else ("private" if "private" in tiers else "isolated")


def subnet_tier(graph: StackGraph, resource: Any, key: str) -> str | None:
    """The most exposed tier among the subnets in `resource`'s property `key` (None when none is known)."""
    tiers = {tier for _, tier in subnet_tiers(graph, resource, key)}
    return next((t for t in ("public", "untraceable", "private", "isolated") if t in tiers), None)


def check_subnets(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for group in graph.of_type(DB_SUBNET_GROUP):
        for subnet, tier in subnet_tiers(graph, group, "subnetIds"):
            if tier == "public":
                yield group, f"subnet {subnet} routes to an internet gateway (public tier)."
            elif tier == "untraceable":
                yield group, f"subnet {subnet} is not a subnet of this stack, so it cannot be shown to be private."
    for database in graph.of_type(RDS_INSTANCE, RDS_CLUSTER):
        if graph.get(database, "replicateSourceDb"):
            continue
        name = graph.get(database, "dbSubnetGroupName")
        if name is None or name == "":
            yield database, "no dbSubnetGroupName: RDS places the database in the default VPC's (public) subnets."
        elif not has_unknown(name) and not graph.referenced(database, "dbSubnetGroupName", [DB_SUBNET_GROUP]):
            yield database, f'DB subnet group "{name}" is not defined in this stack, so it cannot be verified.'


def database_security_groups(graph: StackGraph) -> dict[str, Any]:
    """urn -> security group, for every group attached to an RDS instance or cluster."""
    groups: dict[str, Any] = {}
    for database in graph.of_type(RDS_INSTANCE, RDS_CLUSTER):
        for sg in graph.referenced(database, "vpcSecurityGroupIds", [SECURITY_GROUP]):
            groups[sg.urn] = sg
    return groups


def _cidr_sources(rule: Mapping, keys: tuple[str, ...]) -> list[str]:
    found = []
    for key in keys:
        for value in as_list(rule.get(key)):
            if value not in (None, "") and not is_unknown(value):
                found.append(f"{key}={value}")
    return found


def check_db_security_groups(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for database in graph.of_type(RDS_INSTANCE, RDS_CLUSTER):
        if graph.get(database, "vpcSecurityGroupIds") in (None, []):
            yield database, "no vpcSecurityGroupIds: the database gets the VPC's default security group."
    for sg in database_security_groups(graph).values():
        for i, rule in enumerate(as_list(graph.get(sg, "ingress"))):
            if isinstance(rule, Mapping):
                cidrs = _cidr_sources(rule, ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds"))
                if cidrs:
                    yield sg, f"database security group {sg.name}: inline ingress[{i}] from {', '.join(cidrs)}."
        for rule in graph.referrers(sg, "securityGroupId", [SECURITY_GROUP_RULE]):
            if graph.get(rule, "type") != "egress":
                cidrs = _cidr_sources(graph.props[rule.urn], ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds"))
                if cidrs:
                    yield rule, f"ingress to database security group {sg.name} from {', '.join(cidrs)}."
        for rule in graph.referrers(sg, "securityGroupId", [INGRESS_RULE]):
            cidrs = _cidr_sources(graph.props[rule.urn], ("cidrIpv4", "cidrIpv6", "prefixListId"))
            if cidrs:
                yield rule, f"ingress to database security group {sg.name} from {', '.join(cidrs)}."


# The parameter that makes the server refuse unencrypted connections, per engine: rds.force_ssl
# for PostgreSQL ("Requiring an SSL connection to a PostgreSQL DB instance", in "Using SSL with a
# PostgreSQL DB instance", RDS User Guide: 0 by default before PostgreSQL 15) and SQL Server;
# require_secure_transport for MySQL and MariaDB. Default parameter groups cannot be changed, so
# an instance on one enforces whatever its engine version's default is: the rule asks for a group
# of the stack that says so.
TLS_PARAMETERS = {
    "postgres": "rds.force_ssl",
    "mysql": "require_secure_transport",
    "mariadb": "require_secure_transport",
}
TLS_ON = frozenset({"1", "on", "true"})


def _tls_parameter(engine: str) -> str | None:
    return "rds.force_ssl" if engine.startswith("sqlserver") else TLS_PARAMETERS.get(engine)


def check_force_ssl(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for instance in graph.of_type(RDS_INSTANCE):
        engine = graph.get(instance, "engine")
        if is_unknown(engine):
            continue
        parameter = _tls_parameter(str(engine or ""))
        if parameter is None:
            continue  # Oracle and Db2 enforce TLS through an option group or listener, not a parameter
        name = graph.get(instance, "parameterGroupName")
        groups = graph.referenced(instance, "parameterGroupName", [DB_PARAMETER_GROUP])
        if not groups:
            if name in (None, "") or (isinstance(name, str) and name.startswith("default.")):
                yield (
                    instance,
                    (
                        f"it uses the engine's default parameter group, which cannot set {parameter}=1: "
                        "unencrypted connections are accepted."
                    ),
                )
            continue  # a group outside the stack, or a name not known yet: cannot tell
        for group in groups:
            parameters = graph.get(group, "parameters")
            if has_unknown(parameters):
                continue
            values = {
                str(p.get("name")): str(p.get("value", "")).lower()
                for p in as_list(parameters)
                if isinstance(p, Mapping)
            }
            if values.get(parameter) not in TLS_ON:
                found = values.get(parameter, "not set")
                yield (
                    instance,
                    (
                        f"its parameter group {group.name} has {parameter} {found}: "
                        "unencrypted connections are accepted."
                    ),
                )


def _connect_grants(graph: StackGraph) -> Iterator[tuple[Any, list[str]]]:
    """(identity-policy resource, the dbuser ARNs it grants rds-db:connect on) for every known grant.

    A document with an unknown part (preview, before the database exists) cannot be read yet; the
    check runs on it in `pulumi up`'s own policy pass, when the resource id is known.
    """
    for resource in graph.of_type(*DOCUMENT_TYPES):
        try:
            grants = [
                statement
                for _, statement in allow_statements(graph.props[resource.urn], resource.resource_type)
                if grants_rds_connect(statement)
            ]
        except Unparsable:
            continue  # reported by iam-no-wildcard-actions
        if grants:
            yield resource, [str(r) for statement in grants for r in as_list(statement.get("Resource"))]


def check_iam_auth_where_granted(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    """A role that may connect as a database user is useless unless the database accepts IAM tokens."""
    by_resource_id = {
        str(graph.get(db, key)): db
        for db, key in [(i, "resourceId") for i in graph.of_type(RDS_INSTANCE)]
        + [(c, "clusterResourceId") for c in graph.of_type(RDS_CLUSTER)]
        if isinstance(graph.get(db, key), str) and not is_unknown(graph.get(db, key))
    }
    for grant, resources in _connect_grants(graph):
        targets: dict[str, Any] = {}
        for arn in resources:
            match = DB_USER_ARN.match(arn)
            if match and match["resource_id"] in by_resource_id:
                database = by_resource_id[match["resource_id"]]
                targets[database.urn] = database
        for database in targets.values():
            enabled = graph.get(database, "iamDatabaseAuthenticationEnabled")
            if not is_unknown(enabled) and not is_true(enabled):
                yield (
                    database,
                    f"{grant.name} grants rds-db:connect to {database.name}, whose iamDatabaseAuthenticationEnabled "
                    "is not true: the database refuses every IAM token.",
                )


POLICIES = [
    resource_policy(
        "rds-not-publicly-accessible",
        "RDS instances, cluster instances and clusters are never publicly accessible.",
        MANDATORY,
        RDS_DATABASES,
        check_public,
        "set publiclyAccessible=False; reach the database through the SSM bastion (port forwarding).",
    ),
    resource_policy(
        "rds-storage-encrypted",
        "RDS instances and clusters encrypt their storage.",
        MANDATORY,
        [RDS_INSTANCE, RDS_CLUSTER],
        check_encrypted,
        "set storageEncrypted=True (with the database's KMS key as kmsKeyId).",
    ),
    resource_policy(
        "rds-no-plain-master-password",
        "The RDS master password is never a program input: RDS manages it in Secrets Manager.",
        MANDATORY,
        RDS_DATABASES,
        check_password,
        "remove password/masterPassword and set manageMasterUserPassword=True.",
    ),
    stack_policy(
        "rds-isolated-subnets",
        "DB subnet groups use only subnets without a route to an internet gateway, traced through the graph; "
        "every database names such a group.",
        MANDATORY,
        check_subnets,
        "use the network's isolated subnet ids (network.isolated_subnet_ids) for the DB subnet group and pass "
        "its name as dbSubnetGroupName.",
    ),
    stack_policy(
        "rds-security-group-no-cidr-ingress",
        "Security groups attached to a database accept no CIDR or prefix-list ingress at all, only other "
        "security groups.",
        MANDATORY,
        check_db_security_groups,
        "allow the database port from the clients' security groups (referencedSecurityGroupId), never from "
        "an address range.",
    ),
    stack_policy(
        "rds-force-ssl",
        "RDS instances use a parameter group of the stack that refuses unencrypted connections "
        "(rds.force_ssl=1 for PostgreSQL and SQL Server, require_secure_transport=1 for MySQL and MariaDB).",
        MANDATORY,
        check_force_ssl,
        "give the instance its own parameter group with rds.force_ssl=1 (components/database.py does).",
    ),
    resource_policy(
        "rds-log-exports",
        "RDS instances export their server log to CloudWatch Logs (postgresql for PostgreSQL, error for MySQL "
        "and MariaDB; any export for other engines).",
        ADVISORY,
        [RDS_INSTANCE],
        check_log_exports,
        'set enabledCloudwatchLogsExports=["postgresql", "upgrade"] and create the log groups with a retention '
        "first (components/database.py does).",
    ),
    stack_policy(
        "rds-iam-auth-where-connect-is-granted",
        "An RDS instance or cluster that an identity policy grants rds-db:connect to (named by its resource id) has "
        "IAM database authentication enabled.",
        MANDATORY,
        check_iam_auth_where_granted,
        "set iamDatabaseAuthenticationEnabled=True on the database (components/database.py does when a service "
        "has `database: {iamAuth: true}`).",
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "rds-not-publicly-accessible": ["CKV_AWS_17", "awsguard:rds-instance-public-access-check"],
    "rds-storage-encrypted": ["AwsSolutions-RDS2", "CKV_AWS_16", "awsguard:rds-storage-encrypted"],
    "rds-no-plain-master-password": [],
    "rds-isolated-subnets": [],
    "rds-security-group-no-cidr-ingress": [],
    "rds-iam-auth-where-connect-is-granted": [],
    "rds-force-ssl": ["CKV2_AWS_69"],
    "rds-log-exports": ["CKV_AWS_129"],
}

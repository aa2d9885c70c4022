"""The RDS PostgreSQL database of each fixture environment, read from the captured resource graph."""

import json

import pytest
from helpers import config_error, with_config

from policies.guardrails.types import (
    EGRESS_RULE as EGRESS,
    INGRESS_RULE as INGRESS,
    KMS_KEY as KEY,
    LOG_GROUP,
    RDS_INSTANCE as INSTANCE,
    SECURITY_GROUP as SG,
)


def db(graph) -> dict:
    return graph.one(INSTANCE).inputs


def test_the_database_is_never_public_and_sits_only_in_the_isolated_subnets(env):
    subnet_group = env.one("aws:rds/subnetGroup:SubnetGroup")
    assert db(env)["publiclyAccessible"] is False
    assert db(env)["dbSubnetGroupName"] == subnet_group.outputs["name"]
    assert subnet_group.inputs["subnetIds"] == env.outputs["isolatedSubnetIds"]
    assert not set(subnet_group.inputs["subnetIds"]) & set(env.outputs["privateSubnetIds"])
    assert not set(subnet_group.inputs["subnetIds"]) & set(env.outputs["publicSubnetIds"])


def test_storage_performance_insights_and_the_master_secret_are_encrypted_with_the_created_key(env):
    key = env.one(KEY, "database-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    alias = env.one("aws:kms/alias:Alias", "database-key")
    assert alias.inputs == {"name": f"alias/ecs-platform-{env.stack}-postgres", "targetKeyId": key.outputs["keyId"]}
    assert db(env)["storageEncrypted"] is True
    assert db(env)["kmsKeyId"] == key.outputs["arn"]
    assert db(env)["masterUserSecretKmsKeyId"] == key.outputs["arn"]
    if db(env)["performanceInsightsEnabled"]:
        assert db(env)["performanceInsightsKmsKeyId"] == key.outputs["arn"]


def test_no_password_is_an_input_rds_manages_it_in_secrets_manager(env):
    inputs = db(env)
    assert inputs["manageMasterUserPassword"] is True
    assert not {"password", "passwordWo", "passwordWoVersion"} & set(inputs)
    secret = env.one(INSTANCE).outputs["masterUserSecrets"][0]
    assert env.outputs["dbSecretArn"] == secret["secretArn"]
    assert env.outputs["dbSecretArn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-")


# The services that declare `database: true` in each fixture environment.
CLIENTS = {"small": ["web"], "prodlike": ["api"]}


def test_only_the_bastion_and_declared_clients_may_reach_the_database_port_and_never_a_cidr(env):
    group = env.one(SG, "database-sg")
    assert db(env)["vpcSecurityGroupIds"] == [group.id]
    assert not {"ingress", "egress"} & set(group.inputs)  # no inline rules
    rules = [r for r in env.of_type(INGRESS) if r.inputs["securityGroupId"] == group.id]
    sources = {"bastion": env.one(SG, "bastion-sg").id}
    sources |= {client: env.one(SG, f"{client}-sg").id for client in CLIENTS[env.stack]}
    assert sorted((r.inputs["referencedSecurityGroupId"], r.inputs["description"]) for r in rules) == sorted(
        (group_id, f"PostgreSQL from {name}") for name, group_id in sources.items()
    )
    for rule in rules:
        assert {k: rule.inputs[k] for k in ("ipProtocol", "fromPort", "toPort")} == {
            "ipProtocol": "tcp",
            "fromPort": 5432,
            "toPort": 5432,
        }
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)
    assert all(r.parent == env.one("ecs-platform:database:Database").urn for r in rules)
    assert [r for r in env.of_type(EGRESS) if r.inputs["securityGroupId"] == group.id] == []


def test_the_parameter_group_forces_ssl_and_logs_slow_statements(env):
    params = env.one("aws:rds/parameterGroup:ParameterGroup")
    assert params.inputs["family"] == "postgres18"
    assert db(env)["parameterGroupName"] == params.outputs["name"]
    values = {p["name"]: p["value"] for p in params.inputs["parameters"]}
    assert values == {
        "rds.force_ssl": "1",
        "log_min_duration_statement": {"small": "1000", "prodlike": "500"}[env.stack],
    }


def test_only_the_major_version_is_pinned_so_minor_upgrades_never_turn_into_a_downgrade(env):
    assert db(env)["engine"] == "postgres"
    assert db(env)["engineVersion"] == "18"
    assert db(env)["autoMinorVersionUpgrade"] is True


def test_a_configured_major_picks_its_parameter_group_family():
    graph = with_config("small", lambda c: c["ecs-platform:database"].update(engineVersion=16))
    assert db(graph)["engineVersion"] == "16"
    assert graph.one("aws:rds/parameterGroup:ParameterGroup").inputs["family"] == "postgres16"


def test_storage_is_gp3_with_an_autoscaling_ceiling(env):
    sizes = {"small": (20, 50), "prodlike": (100, 500)}[env.stack]
    assert (db(env)["storageType"], db(env)["allocatedStorage"], db(env)["maxAllocatedStorage"]) == (
        "gp3",
        *sizes,
    )


def test_logs_are_exported_to_log_groups_with_retention_created_before_the_instance(env):
    instance = env.one(INSTANCE)
    identifier = instance.inputs["identifier"]
    assert identifier == f"ecs-platform-{env.stack}-postgres"
    assert instance.inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    groups = [g for g in env.of_type(LOG_GROUP) if g.inputs["name"].startswith("/aws/rds/")]
    assert sorted(g.inputs["name"] for g in groups) == [
        f"/aws/rds/instance/{identifier}/postgresql",
        f"/aws/rds/instance/{identifier}/upgrade",
    ]
    assert {g.inputs["retentionInDays"] for g in groups} == {{"small": 14, "prodlike": 365}[env.stack]}
    assert {g.urn for g in groups} <= set(instance.dependencies)


def test_backups_windows_and_tags_on_snapshots(env):
    inputs = db(env)
    assert inputs["backupRetentionPeriod"] == {"small": 1, "prodlike": 14}[env.stack]
    assert inputs["backupWindow"] == "02:00-03:00"
    assert inputs["maintenanceWindow"] == "sun:04:00-sun:05:00"
    assert inputs["copyTagsToSnapshot"] is True


def test_prodlike_is_protected_multi_az_and_keeps_a_final_snapshot(prodlike):
    instance = prodlike.one(INSTANCE)
    assert instance.protect is True
    assert instance.inputs["deletionProtection"] is True
    assert instance.inputs["multiAz"] is True
    assert instance.inputs["skipFinalSnapshot"] is False
    suffix = prodlike.one("random:index/randomId:RandomId", "database-final-snapshot").outputs["hex"]
    assert instance.inputs["finalSnapshotIdentifier"] == f"ecs-platform-prodlike-postgres-final-{suffix}"
    # The key is what makes snapshots readable: losing it loses them.
    assert prodlike.one(KEY, "database-key").protect is True


def test_prodlike_has_performance_insights_and_enhanced_monitoring(prodlike):
    inputs = db(prodlike)
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsRetentionPeriod"] == 7
    role = prodlike.one("aws:iam/role:Role", "database-monitoring")
    assert inputs["monitoringInterval"] == 60
    assert inputs["monitoringRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    attachment = prodlike.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "database-monitoring")
    assert attachment.inputs == {
        "role": role.outputs["name"],
        "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    }


def test_small_is_single_az_and_disposable(small):
    instance = small.one(INSTANCE)
    assert instance.protect is False and small.one(KEY, "database-key").protect is False
    assert instance.inputs["instanceClass"] == "db.t4g.micro"
    assert instance.inputs["multiAz"] is False
    assert instance.inputs["deletionProtection"] is False
    assert instance.inputs["skipFinalSnapshot"] is True
    assert instance.inputs["performanceInsightsEnabled"] is False
    assert instance.inputs["monitoringInterval"] == 0
    assert "monitoringRoleArn" not in instance.inputs


def test_a_final_snapshot_is_taken_unless_config_skips_it():
    graph = with_config("small", lambda c: c["ecs-platform:database"].pop("skipFinalSnapshot"))
    assert db(graph)["skipFinalSnapshot"] is False
    suffix = graph.one("random:index/randomId:RandomId", "database-final-snapshot").outputs["hex"]
    assert db(graph)["finalSnapshotIdentifier"] == f"ecs-platform-small-postgres-final-{suffix}"


def test_deletion_protection_in_config_also_protects_the_resources_in_pulumi():
    graph = with_config("small", lambda c: c["ecs-platform:database"].update(deletionProtection=True))
    assert graph.one(INSTANCE).protect is True
    assert db(graph)["deletionProtection"] is True


def test_the_stack_exports_how_to_reach_the_database(env):
    instance = env.one(INSTANCE).outputs
    assert env.outputs["dbEndpoint"] == instance["endpoint"]
    assert env.outputs["dbAddress"] == instance["address"]
    assert env.outputs["dbEndpoint"] == f"{env.outputs['dbAddress']}:5432"
    assert (env.outputs["dbPort"], env.outputs["dbName"], env.outputs["dbUsername"]) == (5432, "app", "dbadmin")


def test_without_a_database_section_there_is_no_database():
    def no_database(config):
        config.pop("ecs-platform:database")
        config["ecs-platform:services"][0]["database"] = False

    graph = with_config("small", no_database)
    assert graph.error is None
    assert graph.of_type(INSTANCE, "ecs-platform:database:Database") == []
    assert [k for k in graph.of_type(KEY) if k.name == "database-key"] == []
    assert not {k for k in graph.outputs if k.startswith("db")}
    # The bastion stays, with HTTPS egress only and nothing to forward to yet.
    bastion_group = graph.one(SG, "bastion-sg")
    egress = [r.inputs for r in graph.of_type(EGRESS) if r.inputs["securityGroupId"] == bastion_group.id]
    assert [(r["fromPort"], r["toPort"]) for r in egress] == [(443, 443)]


def database(**changes):
    return lambda config: config["ecs-platform:database"].update(changes)


INVALID = {
    "storage below the engine minimum": (
        database(allocatedStorage=10),
        "ecs-platform:database.allocatedStorage: gp3 storage for PostgreSQL is 20 to 65536 GiB (got 10)",
    ),
    "autoscaling ceiling below the size": (
        database(allocatedStorage=100, maxAllocatedStorage=80),
        "ecs-platform:database.maxAllocatedStorage: the storage autoscaling ceiling must be at least 10% above "
        "allocatedStorage (100 GiB), so 110 or more (got 80)",
    ),
    "autoscaling ceiling within 10% of the size": (
        database(allocatedStorage=100, maxAllocatedStorage=105),
        "ecs-platform:database.maxAllocatedStorage: the storage autoscaling ceiling must be at least 10% above "
        "allocatedStorage (100 GiB), so 110 or more (got 105)",
    ),
    "unknown instance class family": (
        database(instanceClass="db.q9.large"),
        "ecs-platform:database.instanceClass: unknown instance class family q9; valid: t3, t4g, m5, m5d, m6g, m6gd, "
        "m6i, m6id, m6idn, m6in, m7g, m7i, m8g, m8gd, r5, r5b, r5d, r6g, r6gd, r6i, r6id, r6idn, r6in, r7g, r7i, "
        'r8g, r8gd, x2g, x2idn, x2iedn (got "db.q9.large")',
    ),
    "EC2 instance type instead of an RDS class": (
        database(instanceClass="t4g.micro"),
        "ecs-platform:database.instanceClass: must read db.<family>.<size>, for example db.t4g.micro or "
        'db.m7g.large (got "t4g.micro")',
    ),
    "backup retention of zero": (
        database(backupRetentionDays=0),
        "ecs-platform:database.backupRetentionDays: must be 1 to 35 days; 0 would turn off automated backups and "
        "point-in-time recovery (got 0)",
    ),
    "backup retention above the RDS maximum": (
        database(backupRetentionDays=36),
        "ecs-platform:database.backupRetentionDays: must be 1 to 35 days; 0 would turn off automated backups and "
        "point-in-time recovery (got 36)",
    ),
    "minor engine version": (
        database(engineVersion="18.1"),
        "ecs-platform:database.engineVersion: must be '14', '15', '16', '17' or '18' (got \"18.1\")",
    ),
    "maintenance window overlapping the backups": (
        database(backupWindow="23:45-00:30", maintenanceWindow="mon:00:00-mon:01:00"),
        "ecs-platform:database.maintenanceWindow: overlaps the backup window 23:45-00:30; RDS needs them apart "
        '(got "mon:00:00-mon:01:00")',
    ),
    "malformed backup window": (
        database(backupWindow="2am-3am"),
        'ecs-platform:database.backupWindow: must read hh24:mi-hh24:mi in UTC, for example 02:00-03:00 (got "2am-3am")',
    ),
    "Performance Insights retention AWS does not offer": (
        database(performanceInsightsRetentionDays=30),
        "ecs-platform:database.performanceInsightsRetentionDays: must be 7 (free), a multiple of 31 up to 713, "
        "or 731 (got 30)",
    ),
    "misspelt key": (
        database(multiAZ=True),
        "ecs-platform:database.multiAZ: unknown key; did you mean multiAz? valid keys: engineVersion, "
        "instanceClass, allocatedStorage, maxAllocatedStorage, name, masterUsername, port, multiAz, "
        "deletionProtection, skipFinalSnapshot, backupRetentionDays, backupWindow, maintenanceWindow, "
        "applyImmediately, performanceInsights, performanceInsightsRetentionDays, enhancedMonitoringInterval, "
        "slowStatementMs, logRetentionDays",
    ),
}


@pytest.mark.parametrize("change, expected", INVALID.values(), ids=INVALID.keys())
def test_invalid_database_config_gives_one_line_naming_the_key(change, expected):
    assert config_error("small", change) == expected

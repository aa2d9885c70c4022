"""`database: {iamAuth: true}`: a service logs in to PostgreSQL as its own user with an IAM token, holding no secret."""

import json

import pytest
from compute import as_list, container, role_statements
from helpers import check, config_error, with_config

from policies.guardrails.types import IAM_ROLE as ROLE, RDS_INSTANCE as INSTANCE

ACCOUNT = "123456789012"


def dbuser_arn(graph, user: str) -> str:
    resource_id = graph.one(INSTANCE).outputs["resourceId"]
    return f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:{resource_id}/{user}"


def connect_statements(graph, service: str) -> list[dict]:
    return [
        s
        for s in role_statements(graph, graph.one(ROLE, f"{service}-task"))
        if "rds-db:connect" in as_list(s["Action"])
    ]


def test_prodlike_api_may_connect_as_exactly_its_own_database_user_of_this_instance(prodlike):
    assert connect_statements(prodlike, "api") == [
        {
            "Sid": "ConnectToDatabase",
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": dbuser_arn(prodlike, "api"),
        }
    ]
    # The task role, not the execution role: the application asks for tokens, ECS does not.
    assert not [
        s for s in role_statements(prodlike, prodlike.one(ROLE, "api-execution")) if "rds-db" in str(s["Action"])
    ]


def test_the_instance_accepts_iam_tokens_only_where_a_service_uses_them(env):
    expected = {"small": False, "prodlike": True}[env.stack]
    assert env.one(INSTANCE).inputs["iamDatabaseAuthenticationEnabled"] is expected


def test_the_container_learns_where_and_as_whom_to_connect_and_nothing_secret(prodlike):
    instance = prodlike.one(INSTANCE).outputs
    definition = container(prodlike, "api")
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    assert {k: v for k, v in environment.items() if k.startswith("DB_")} == {
        "DB_HOST": instance["address"],
        "DB_PORT": "5432",
        "DB_NAME": "app",
        "DB_USER": "api",
    }
    assert not [s for s in definition.get("secrets", []) if s["name"].startswith("DB_")]
    master_secret = instance["masterUserSecrets"][0]["secretArn"]
    assert master_secret not in json.dumps(definition)
    execution = json.dumps(role_statements(prodlike, prodlike.one(ROLE, "api-execution")))
    assert master_secret not in execution
    assert prodlike.one("aws:kms/key:Key", "database-key").outputs["arn"] not in execution


def test_an_iam_client_is_still_let_through_the_database_security_group(prodlike):
    database_group = prodlike.one("aws:ec2/securityGroup:SecurityGroup", "database-sg")
    api_group = prodlike.one("aws:ec2/securityGroup:SecurityGroup", "api-sg")
    rules = prodlike.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [
        (r.inputs["fromPort"], r.inputs["toPort"])
        for r in rules
        if r.inputs["securityGroupId"] == database_group.id and r.inputs["referencedSecurityGroupId"] == api_group.id
    ] == [(5432, 5432)]


def mixed(config):
    """small with web on the password path, and two IAM clients: one named, one with a hyphenated name."""
    config["ecs-platform:services"][1]["database"] = {"iamAuth": True, "user": "api_rw"}
    config["ecs-platform:services"].append(
        {"name": "report-job", "image": "public.ecr.aws/docker/library/busybox:1.37", "database": {"iamAuth": True}}
    )


def test_a_configured_user_and_the_default_user_from_a_hyphenated_service_name():
    graph = with_config("small", mixed)
    assert graph.error is None, graph.error
    assert graph.one(INSTANCE).inputs["iamDatabaseAuthenticationEnabled"] is True
    assert [s["Resource"] for s in connect_statements(graph, "api")] == [dbuser_arn(graph, "api_rw")]
    # PostgreSQL folds unquoted names to lower case and takes no hyphen unquoted: report-job -> report_job.
    assert [s["Resource"] for s in connect_statements(graph, "report-job")] == [dbuser_arn(graph, "report_job")]
    assert {e["name"]: e["value"] for e in container(graph, "report-job")["environment"]}["DB_USER"] == "report_job"
    # web keeps the password path, untouched.
    web = container(graph, "web")
    assert {s["name"] for s in web["secrets"]} == {"DB_USERNAME", "DB_PASSWORD"}
    assert connect_statements(graph, "web") == []


def test_the_pack_is_clean_with_iam_clients_and_password_clients_side_by_side():
    graph = with_config("small", mixed)
    result = check(graph)
    assert result.mandatory == [] and result.advisory == [], result.findings


def access(index, value):
    return lambda config: config["ecs-platform:services"][index].update(database=value)


INVALID = {
    "upper-case user": (
        access(0, {"iamAuth": True, "user": "Api"}),
        "ecs-platform:services[0].database.user: must be a lower-case PostgreSQL user name: a letter or _, then "
        'letters, digits or _ (at most 63) (got "Api")',
    ),
    "user with a hyphen": (
        access(0, {"iamAuth": True, "user": "web-app"}),
        "ecs-platform:services[0].database.user: must be a lower-case PostgreSQL user name: a letter or _, then "
        'letters, digits or _ (at most 63) (got "web-app")',
    ),
    "user longer than PostgreSQL's 63": (
        access(0, {"iamAuth": True, "user": "u" * 64}),
        "ecs-platform:services[0].database.user: must be a lower-case PostgreSQL user name: a letter or _, then "
        f'letters, digits or _ (at most 63) (got "{"u" * 56}...)',
    ),
    "reserved by RDS": (
        access(0, {"iamAuth": True, "user": "rdsadmin"}),
        'ecs-platform:services[0].database.user: rdsadmin is reserved by PostgreSQL or RDS (got "rdsadmin")',
    ),
    "reserved by PostgreSQL": (
        access(0, {"iamAuth": True, "user": "pg_monitor"}),
        'ecs-platform:services[0].database.user: pg_monitor is reserved by PostgreSQL or RDS (got "pg_monitor")',
    ),
    "a user without IAM authentication": (
        access(0, {"user": "web"}),
        "ecs-platform:services[0].database.user: a user applies to IAM authentication only; set iamAuth: true "
        '(got "web")',
    ),
    "the master user": (
        access(0, {"iamAuth": True, "user": "dbadmin"}),
        "ecs-platform:services[0].database.user: dbadmin is the master user; IAM authentication needs a user of "
        'its own (got "dbadmin")',
    ),
    "neither a flag nor a mapping": (
        access(0, "yes"),
        "ecs-platform:services[0].database: must be true, false, or a mapping such as {iamAuth: true, user: app} "
        '(got "yes")',
    ),
    "a misspelt key": (
        access(0, {"iamauth": True}),
        "ecs-platform:services[0].database.iamauth: unknown key; did you mean iamAuth? valid keys: iamAuth, user",
    ),
}


@pytest.mark.parametrize("change, expected", INVALID.values(), ids=INVALID.keys())
def test_invalid_database_access_gives_one_line_naming_the_key(change, expected):
    assert config_error("small", change) == expected


def test_a_default_user_that_rds_reserves_asks_for_a_user():
    def rds_named_service(config):
        config["ecs-platform:services"][0].update(name="rds-sync", database={"iamAuth": True})

    assert config_error("small", rds_named_service) == (
        "ecs-platform:services[0].database: the default user rds_sync (the service name): rds_sync is reserved by "
        'PostgreSQL or RDS; set user (got {"iamAuth": true})'
    )


def test_iam_auth_needs_the_stacks_database_too():
    def no_database(config):
        config.pop("ecs-platform:database")
        config["ecs-platform:services"][0]["database"] = {"iamAuth": True}

    assert config_error("small", no_database) == (
        'ecs-platform:services[0].database: the stack has no ecs-platform:database section (got {"iamAuth": true})'
    )


def test_the_stack_exports_the_resource_id_that_connect_grants_name(env):
    assert env.outputs["dbResourceId"] == env.one(INSTANCE).outputs["resourceId"]

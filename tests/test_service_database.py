"""Services that declare `database: true` get the connection, the credentials as secrets, and network access.

(`database: {iamAuth: true}` is in tests/test_database_iam_auth.py.)
"""

from compute import as_list, container, role_statements
from helpers import config_error, fixture_config, with_config

from policies.guardrails.types import IAM_ROLE as ROLE, INGRESS_RULE as INGRESS, SECURITY_GROUP

# The services that use the database with the master password in each fixture environment, and those
# that do not use the database at all (prodlike's api logs in with IAM authentication instead).
CLIENTS = {"small": (["web"], []), "prodlike": ([], ["web"])}


def secret_arn(graph) -> str:
    return graph.one("aws:rds/instance:Instance").outputs["masterUserSecrets"][0]["secretArn"]


def test_a_client_gets_host_port_and_name_as_environment_and_credentials_as_secrets(env):
    instance = env.one("aws:rds/instance:Instance")
    for client in CLIENTS[env.stack][0]:
        definition = container(env, client)
        environment = {e["name"]: e["value"] for e in definition["environment"]}
        assert {k: environment[k] for k in ("DB_HOST", "DB_PORT", "DB_NAME")} == {
            "DB_HOST": instance.outputs["address"],
            "DB_PORT": "5432",
            "DB_NAME": "app",
        }
        secrets = {s["name"]: s["valueFrom"] for s in definition["secrets"]}
        assert secrets["DB_USERNAME"] == f"{secret_arn(env)}:username::"
        assert secrets["DB_PASSWORD"] == f"{secret_arn(env)}:password::"
        assert not {"DB_USERNAME", "DB_PASSWORD"} & set(environment)


def declared_secret_arns(graph, service: str) -> set[str]:
    """The Secrets Manager secrets a service's own config declares (without a JSON-key suffix)."""
    entry = next(s for s in fixture_config(graph.stack)["ecs-platform:services"] if s["name"] == service)
    refs = entry.get("secrets", {}).values()
    return {":".join(ref.split(":")[:7]) for ref in refs if ref.startswith("arn:aws:secretsmanager:")}


def test_a_client_execution_role_reads_that_one_secret_and_decrypts_with_the_database_key(env):
    key_arn = env.one("aws:kms/key:Key", "database-key").outputs["arn"]
    for client in CLIENTS[env.stack][0]:
        statements = role_statements(env, env.one(ROLE, f"{client}-execution"))
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in str(s["Action"])]
        secrets_read = {arn for s in reads for arn in as_list(s["Resource"])}
        assert secrets_read == {secret_arn(env)} | declared_secret_arns(env, client)
        decrypts = [s for s in statements if s["Action"] == "kms:Decrypt"]
        assert key_arn in {arn for s in decrypts for arn in s["Resource"]}
        assert all("kms:ViaService" in s["Condition"]["StringEquals"] for s in decrypts)


def test_services_that_do_not_declare_it_get_none_of_it(prodlike):
    key_arn = prodlike.one("aws:kms/key:Key", "database-key").outputs["arn"]
    database_group = prodlike.one(SECURITY_GROUP, "database-sg")
    for other in CLIENTS["prodlike"][1]:
        definition = container(prodlike, other)
        assert not [e for e in definition.get("environment", []) if e["name"].startswith("DB_")]
        assert not [s for s in definition.get("secrets", []) if s["name"].startswith("DB_")]
        statements = str(role_statements(prodlike, prodlike.one(ROLE, f"{other}-execution")))
        assert secret_arn(prodlike) not in statements and key_arn not in statements
        group = prodlike.one(SECURITY_GROUP, f"{other}-sg")
        assert not [
            r
            for r in prodlike.of_type(INGRESS)
            if r.inputs["securityGroupId"] == database_group.id and r.inputs["referencedSecurityGroupId"] == group.id
        ]


def test_the_database_admits_each_client_on_its_port():
    def two_clients(config):
        config["ecs-platform:services"].append(
            {"name": "worker", "image": "public.ecr.aws/docker/library/busybox:1.37", "database": True}
        )

    graph = with_config("small", two_clients)
    database_group = graph.one(SECURITY_GROUP, "database-sg")
    admitted = {
        r.inputs["referencedSecurityGroupId"]: (r.inputs["fromPort"], r.inputs["toPort"])
        for r in graph.of_type(INGRESS)
        if r.inputs["securityGroupId"] == database_group.id
    }
    for name in ("web", "worker", "bastion"):
        assert admitted[graph.one(SECURITY_GROUP, f"{name}-sg").id] == (5432, 5432)


def test_a_service_cannot_use_a_database_the_stack_does_not_have():
    error = config_error("small", lambda config: config.pop("ecs-platform:database"))
    assert error == "ecs-platform:services[0].database: the stack has no ecs-platform:database section (got true)"

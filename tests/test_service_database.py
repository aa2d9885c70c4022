"""Services that declare `database: true` get the connection, the credentials as secrets, and network access.

(`database: {iamAuth: true}` is in tests/test_database_iam_auth.py.)
"""

from compute import as_list, container, role_statements
from helpers import config_error, with_config

from offline.harness import stack_config
from policies.guardrails.types import IAM_ROLE as ROLE, INGRESS_RULE as INGRESS, SECURITY_GROUP

# The services that use the database with the master password in each shipped stack, and those
# that do not use the database at all (prod's api logs in with IAM authentication instead).
CLIENTS = {"dev": (["web"], []), "prod": ([], ["web"])}


def secret_arn(graph) -> str:
    return graph.one("aws:rds/instance:Instance").outputs["masterUserSecrets"][0]["secretArn"]


def test_a_client_gets_host_port_and_name_as_environment_and_credentials_as_secrets(stack):
    instance = stack.one("aws:rds/instance:Instance")
    for client in CLIENTS[stack.stack][0]:
        definition = container(stack, client)
        environment = {e["name"]: e["value"] for e in definition["environment"]}
        assert {k: environment[k] for k in ("DB_HOST", "DB_PORT", "DB_NAME")} == {
            "DB_HOST": instance.outputs["address"],
            "DB_PORT": "5432",
            "DB_NAME": "app",
        }
        secrets = {s["name"]: s["valueFrom"] for s in definition["secrets"]}
        assert secrets["DB_USERNAME"] == f"{secret_arn(stack)}:username::"
        assert secrets["DB_PASSWORD"] == f"{secret_arn(stack)}:password::"
        assert not {"DB_USERNAME", "DB_PASSWORD"} & set(environment)


def declared_secret_arns(graph, service: str) -> set[str]:
    """The Secrets Manager secrets a service's own config declares (without a JSON-key suffix)."""
    entry = next(s for s in stack_config(graph.stack)["ecs-platform:services"] if s["name"] == service)
    refs = entry.get("secrets", {}).values()
    return {":".join(ref.split(":")[:7]) for ref in refs if ref.startswith("arn:aws:secretsmanager:")}


def test_a_client_execution_role_reads_that_one_secret_and_decrypts_with_the_database_key(stack):
    key_arn = stack.one("aws:kms/key:Key", "database-key").outputs["arn"]
    for client in CLIENTS[stack.stack][0]:
        statements = role_statements(stack, stack.one(ROLE, f"{client}-execution"))
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in str(s["Action"])]
        secrets_read = {arn for s in reads for arn in as_list(s["Resource"])}
        assert secrets_read == {secret_arn(stack)} | declared_secret_arns(stack, client)
        decrypts = [s for s in statements if s["Action"] == "kms:Decrypt"]
        assert key_arn in {arn for s in decrypts for arn in s["Resource"]}
        assert all("kms:ViaService" in s["Condition"]["StringEquals"] for s in decrypts)


def test_services_that_do_not_declare_it_get_none_of_it(prod):
    key_arn = prod.one("aws:kms/key:Key", "database-key").outputs["arn"]
    database_group = prod.one(SECURITY_GROUP, "database-sg")
    for other in CLIENTS["prod"][1]:
        definition = container(prod, other)
        assert not [e for e in definition.get("environment", []) if e["name"].startswith("DB_")]
        assert not [s for s in definition.get("secrets", []) if s["name"].startswith("DB_")]
        statements = str(role_statements(prod, prod.one(ROLE, f"{other}-execution")))
        assert secret_arn(prod) not in statements and key_arn not in statements
        group = prod.one(SECURITY_GROUP, f"{other}-sg")
        assert not [
            r
            for r in prod.of_type(INGRESS)
            if r.inputs["securityGroupId"] == database_group.id and r.inputs["referencedSecurityGroupId"] == group.id
        ]


def test_the_database_admits_each_client_on_its_port():
    def two_clients(config):
        config["ecs-platform:services"].append(
            {"name": "worker", "image": "public.ecr.aws/docker/library/busybox:1.37", "database": True}
        )

    graph = with_config("dev", two_clients)
    database_group = graph.one(SECURITY_GROUP, "database-sg")
    admitted = {
        r.inputs["referencedSecurityGroupId"]: (r.inputs["fromPort"], r.inputs["toPort"])
        for r in graph.of_type(INGRESS)
        if r.inputs["securityGroupId"] == database_group.id
    }
    for name in ("web", "worker", "bastion"):
        assert admitted[graph.one(SECURITY_GROUP, f"{name}-sg").id] == (5432, 5432)


def test_a_service_cannot_use_a_database_the_stack_does_not_have():
    error = config_error("dev", lambda config: config.pop("ecs-platform:database"))
    assert error == "ecs-platform:services[0].database: the stack has no ecs-platform:database section (got true)"

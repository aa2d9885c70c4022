"""A database client hands a service environment and secrets through its contract; a service hands on its own."""

import json

import pulumi
import pulumi_aws as aws
import pytest
from compute import container, role_statements
from helpers import evaluate_fixture

from components.account import Account
from components.cluster import Cluster, ClusterArgs
from components.config import load
from components.contracts import DatabaseClient, SecretReference
from components.naming import Naming
from components.network import Network, NetworkArgs
from components.service import Service, ServiceArgs
from policies.guardrails.types import IAM_ROLE as ROLE


def environment():
    """The stack's config, naming, account, provider options, network and cluster, as the program builds them."""
    cfg = load()
    naming = Naming.current()
    provider = naming.provider(cfg.region)
    account = Account.lookup(cfg.region, provider)
    in_env = pulumi.ResourceOptions(provider=provider)
    network = Network("network", NetworkArgs(cfg.network, naming, account), opts=in_env)
    cluster = Cluster("cluster", ClusterArgs(cfg.cluster, naming, account, network.refs), opts=in_env)
    return cfg, naming, account, in_env, network, cluster


def database_wired_program():
    """The small environment's web service, given a database-like secret and endpoint by hand."""
    cfg, naming, account, in_env, network, cluster = environment()
    topic = aws.sns.Topic("alarms", opts=in_env)
    key = aws.kms.Key("database", opts=in_env)
    secret = aws.secretsmanager.Secret("database", name="rds!db-1234", kms_key_id=key.arn, opts=in_env)
    web = next(s for s in cfg.services if s.name == "web")
    client = DatabaseClient(
        environment={"DB_HOST": pulumi.Output.concat(secret.name, ".example.internal"), "DB_PORT": "5432"},
        secrets=[SecretReference("DB_PASSWORD", secret.arn, json_key="password", kms_key_arn=key.arn)],
    )
    Service(
        web.name,
        ServiceArgs(
            web,
            naming,
            account,
            network.refs,
            cluster.refs,
            cfg.monitoring,
            topic.arn,
            listener_priority=10,
            database=client,
        ),
        opts=in_env,
    )


@pytest.fixture(scope="module")
def wired():
    graph = evaluate_fixture("small", program=database_wired_program)
    assert graph.error is None, graph.error
    return graph


def test_extra_environment_values_from_outputs_reach_the_container(wired):
    assert container(wired, "web")["environment"] == [
        {"name": "DB_HOST", "value": "rds!db-1234.example.internal"},
        {"name": "DB_PORT", "value": "5432"},
    ]


def test_extra_secrets_reach_the_container_as_references_and_the_execution_role_may_read_them(wired):
    secret = wired.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    key = wired.one("aws:kms/key:Key").outputs["arn"]
    assert container(wired, "web")["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"}]
    by_sid = {s["Sid"]: s for s in role_statements(wired, wired.one(ROLE, "web-execution"))}
    assert by_sid["ReadDeclaredSecrets"]["Resource"] == [secret]
    assert by_sid["DecryptDeclaredSecrets"] == {
        "Sid": "DecryptDeclaredSecrets",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [key],
        "Condition": {"StringEquals": {"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com"]}},
    }
    assert "hunter" not in json.dumps([r.inputs for r in wired.registered])


def test_a_pipeline_owned_service_offers_what_its_pipeline_and_the_dashboard_need():
    captured = {}

    def program():
        cfg, naming, account, in_env, network, cluster = environment()
        api = next(s for s in cfg.services if s.name == "api")
        service = Service(
            "api", ServiceArgs(api, naming, account, network.refs, cluster.refs, cfg.monitoring, "arn:x"), opts=in_env
        )
        target, refs = service.delivery_target, service.refs
        captured["plain"] = (target.name, target.container_name, target.architecture, refs.name)
        captured["internal"] = refs.target_group_arn_suffix is None
        for key, value in {**target.outputs(), **refs.outputs()}.items():
            pulumi.export(key, value)
        pulumi.export("securityGroupId", service.security_group_id)
        pulumi.export("logGroupName", service.log_group_name)

    graph = evaluate_fixture("prodlike", program=program)
    assert graph.error is None, graph.error
    assert captured["plain"] == ("api", "api", "arm64", "api")
    assert captured["internal"] is True
    out = graph.outputs
    assert out["repositoryName"] == "ecs-platform-prodlike-api"
    assert out["repositoryArn"] == "arn:aws:ecr:eu-west-1:123456789012:repository/ecs-platform-prodlike-api"
    assert out["clusterName"] == "ecs-platform-prodlike-cluster"
    assert out["serviceName"] == graph.one("aws:ecs/service:Service").outputs["name"]
    assert out["taskRoleArn"] == graph.one(ROLE, "api-task").outputs["arn"]
    assert out["executionRoleArn"] == graph.one(ROLE, "api-execution").outputs["arn"]
    assert out["taskDefinitionFamily"] == graph.one("aws:ecs/taskDefinition:TaskDefinition").inputs["family"]
    parameter = graph.one("aws:ssm/parameter:Parameter")
    assert (out["imageParameterName"], out["imageParameterArn"]) == (parameter.inputs["name"], parameter.outputs["arn"])
    assert out["logGroupName"] == "/ecs-platform/prodlike/services/api"
    assert out["securityGroupId"].startswith("sg-")

"""Other components hand a service extra environment and secrets (e.g. the database) without code changes here."""

import json

import pulumi
import pulumi_aws as aws
import pytest
from compute import container, role_statements

from components import config
from components.cluster import Cluster, ClusterArgs
from components.naming import Naming
from components.network import Network, NetworkArgs
from components.service import SecretReference, Service, ServiceArgs
from offline.harness import evaluate
from policies.guardrails.types import IAM_ROLE as ROLE


def database_wired_program():
    """The dev environment's web service, given a database-like secret and endpoint by hand."""
    cfg = config.load()
    naming = Naming.current()
    in_env = pulumi.ResourceOptions(provider=naming.provider(cfg.region))
    network = Network("network", NetworkArgs(cfg.network, naming, cfg.region), opts=in_env)
    cluster = Cluster("cluster", ClusterArgs(cfg.cluster, naming, network, cfg.region), opts=in_env)
    topic = aws.sns.Topic("alarms", opts=in_env)
    key = aws.kms.Key("database", opts=in_env)
    secret = aws.secretsmanager.Secret("database", name="rds!db-1234", kms_key_id=key.arn, opts=in_env)
    web = next(s for s in cfg.services if s.name == "web")
    Service(
        web.name,
        ServiceArgs(
            web,
            naming,
            cfg.region,
            cluster,
            cfg.monitoring,
            topic.arn,
            listener_priority=10,
            extra_environment={"DB_HOST": pulumi.Output.concat(secret.name, ".example.internal"), "DB_PORT": "5432"},
            extra_secrets=[SecretReference("DB_PASSWORD", secret.arn, json_key="password", kms_key_arn=key.arn)],
        ),
        opts=in_env,
    )


@pytest.fixture(scope="module")
def wired():
    graph = evaluate("dev", program=database_wired_program)
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


def test_service_attributes_for_later_components():
    captured = {}

    def program():
        cfg = config.load()
        naming = Naming.current()
        in_env = pulumi.ResourceOptions(provider=naming.provider(cfg.region))
        network = Network("network", NetworkArgs(cfg.network, naming, cfg.region), opts=in_env)
        cluster = Cluster("cluster", ClusterArgs(cfg.cluster, naming, network, cfg.region), opts=in_env)
        api = next(s for s in cfg.services if s.name == "api")
        service = Service("api", ServiceArgs(api, naming, cfg.region, cluster, cfg.monitoring, "arn:x"), opts=in_env)
        captured["plain"] = (service.container_name, service.container_port, service.cpu_architecture)
        outputs = {
            "repositoryName": service.repository_name,
            "repositoryArn": service.repository_arn,
            "repositoryUrl": service.repository_url,
            "serviceName": service.service_name,
            "clusterName": service.cluster_name,
            "taskRoleArn": service.task_role_arn,
            "executionRoleArn": service.execution_role_arn,
            "logGroupName": service.log_group_name,
            "taskDefinitionArn": service.task_definition_arn,
            "securityGroupId": service.security_group_id,
        }
        for key, value in outputs.items():
            pulumi.export(key, value)

    graph = evaluate("prod", program=program)
    assert graph.error is None, graph.error
    assert captured["plain"] == ("api", 8080, "ARM64")
    out = graph.outputs
    assert out["repositoryName"] == "ecs-platform-prod-api"
    assert out["repositoryArn"] == "arn:aws:ecr:eu-west-1:123456789012:repository/ecs-platform-prod-api"
    assert out["clusterName"] == "ecs-platform-prod-cluster"
    assert out["serviceName"] == graph.one("aws:ecs/service:Service").outputs["name"]
    assert out["taskRoleArn"] == graph.one(ROLE, "api-task").outputs["arn"]
    assert out["executionRoleArn"] == graph.one(ROLE, "api-execution").outputs["arn"]
    assert out["logGroupName"] == "/ecs-platform/prod/services/api"
    assert out["taskDefinitionArn"].startswith("arn:aws:ecs:eu-west-1:123456789012:task-definition/")
    assert out["securityGroupId"].startswith("sg-")

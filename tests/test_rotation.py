"""The master password rotates; the services that read it as an ECS secret are redeployed with no one acting."""

import json

from compute import as_list, one_owned
from helpers import check, evaluate_fixture, with_config

from policies.guardrails.types import (
    ECS_SERVICE,
    EVENT_RULE as RULE,
    EVENT_TARGET as TARGET,
    IAM_ROLE as ROLE,
    ROLE_POLICY,
    STATE_MACHINE as MACHINE,
)

ACCOUNT = "123456789012"


def secret_arn(graph) -> str:
    return graph.one("aws:rds/instance:Instance").outputs["masterUserSecrets"][0]["secretArn"]


def statements(graph, role_name: str) -> list[dict]:
    role = graph.one(ROLE, role_name)
    return [
        s
        for p in graph.of_type(ROLE_POLICY)
        if p.inputs["role"] == role.id
        for s in json.loads(p.inputs["policy"])["Statement"]
    ]


def service_arn(graph, service: str) -> str:
    ecs_service = one_owned(graph, service, ECS_SERVICE)
    cluster = graph.one("aws:ecs/cluster:Cluster").outputs["name"]
    return f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/{cluster}/{ecs_service.outputs['name']}"


def redeployed(graph) -> list[tuple[str, str, bool]]:
    """(cluster, service, forceNewDeployment) of every ECS call the state machine makes."""
    definition = json.loads(graph.one(MACHINE).inputs["definition"])
    calls = []
    for branch in definition["States"]["Redeploy"]["Branches"]:
        for state in branch["States"].values():
            assert state["Resource"] == "arn:aws:states:::aws-sdk:ecs:updateService"
            params = state["Parameters"]
            calls.append((params["Cluster"], params["Service"], params["ForceNewDeployment"]))
    return calls


def test_the_rule_matches_the_new_current_version_of_exactly_the_database_secret(small):
    rule = small.one(RULE)
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["Secret Label Updated"],
        "resources": [secret_arn(small)],
        "detail": {"labelUpdated": ["AWSCURRENT"]},
    }


def test_the_rule_starts_the_state_machine_with_a_role_that_may_do_only_that(small):
    machine, rule = small.one(MACHINE), small.one(RULE)
    target = small.one(TARGET)
    events_role = small.one(ROLE, "database-rotation-events")
    assert (target.inputs["rule"], target.inputs["arn"], target.inputs["roleArn"]) == (
        rule.outputs["name"],
        machine.outputs["arn"],
        events_role.outputs["arn"],
    )
    assert statements(small, "database-rotation-events") == [
        {
            "Sid": "StartTheRedeploy",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": machine.outputs["arn"],
        }
    ]
    trust = json.loads(events_role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": rule.outputs["arn"]},
            },
        }
    ]


def test_the_state_machine_forces_a_new_deployment_of_the_password_client_only(small):
    cluster = small.one("aws:ecs/cluster:Cluster").outputs["name"]
    web = one_owned(small, "web", ECS_SERVICE).outputs["name"]
    assert redeployed(small) == [(cluster, web, True)]
    machine_role = small.one(ROLE, "database-rotation-machine")
    assert small.one(MACHINE).inputs["roleArn"] == machine_role.outputs["arn"]
    grants = statements(small, "database-rotation-machine")
    assert [s for s in grants if "ecs:UpdateService" in as_list(s["Action"])] == [
        {
            "Sid": "RedeployTheServicesThatReadTheSecret",
            "Effect": "Allow",
            "Action": "ecs:UpdateService",
            "Resource": [service_arn(small, "web")],
        }
    ]
    # Nothing else is scoped to a resource: the rest is CloudWatch Logs delivery, which AWS cannot scope.
    others = {a for s in grants if s["Sid"] != "RedeployTheServicesThatReadTheSecret" for a in as_list(s["Action"])}
    assert others and all(a.startswith("logs:") for a in others)
    trust = json.loads(machine_role.inputs["assumeRolePolicy"])["Statement"]
    assert trust[0]["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": small.one(MACHINE).outputs["arn"]},
    }


def test_executions_are_logged_with_retention_and_a_failed_one_raises_the_alarm(small):
    machine = small.one(MACHINE)
    log_group = small.one("aws:cloudwatch/logGroup:LogGroup", "database-rotation-logs")
    assert log_group.inputs["retentionInDays"] == 14  # the database's logRetentionDays in small
    assert log_group.inputs["name"].startswith("/aws/vendedlogs/states/")
    assert machine.inputs["loggingConfiguration"] == {
        "logDestination": f"{log_group.outputs['arn']}:*",
        "includeExecutionData": True,
        "level": "ALL",
    }
    alarm = small.one("aws:cloudwatch/metricAlarm:MetricAlarm", "database-rotation-failed")
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == ("AWS/States", "ExecutionsFailed")
    assert alarm.inputs["dimensions"] == {"StateMachineArn": machine.outputs["arn"]}
    assert alarm.inputs["alarmActions"] == [small.outputs["alarmTopicArn"]]


def several_clients(config):
    """small's web on the password path, plus a password worker and an IAM-authenticated api."""
    services = config["ecs-platform:services"]
    services[1]["database"] = {"iamAuth": True}
    services.append({"name": "worker", "image": "public.ecr.aws/docker/library/busybox:1.37", "database": True})


def test_every_password_client_and_no_iam_client_is_redeployed():
    graph = with_config("small", several_clients)
    assert graph.error is None, graph.error
    assert {service for _, service, _ in redeployed(graph)} == {
        one_owned(graph, name, ECS_SERVICE).outputs["name"] for name in ("web", "worker")
    }
    [grant] = [s for s in statements(graph, "database-rotation-machine") if s["Action"] == "ecs:UpdateService"]
    assert sorted(grant["Resource"]) == sorted(service_arn(graph, name) for name in ("web", "worker"))
    result = check(graph)
    assert result.mandatory == [] and result.advisory == [], result.findings


def test_without_a_password_client_there_is_nothing_to_redeploy(prodlike):
    # prodlike's only database client uses IAM authentication.
    assert prodlike.of_type(RULE, MACHINE, "ecs-platform:database:RotationRedeploy") == []


def test_the_pack_stays_clean_in_preview_too():

    result = check(evaluate_fixture("small", preview=True), dry_run=True)
    assert result.mandatory == [] and result.advisory == [], result.findings

"""Independent checks: every IAM document through the parliament linter, task definitions through AWS's API model."""

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator
from compute import several
from helpers import fixture, with_config
from iam_linter import issues

from policies.guardrails.types import TASK_DEFINITION

# Findings we accept, each with the reason. Anything else fails the test.
JUSTIFIED = {
    # ECR's docker login token is account-wide; AWS offers no resource to scope it to, and the
    # execution role cannot pull an image without it (AWS's managed execution policy has it too).
    ("CREDENTIALS_EXPOSURE", ("ecr:GetAuthorizationToken",)),
    # A pipeline registers task definitions that name the service's task and execution roles:
    # PassRole on exactly those two ARNs, to ecs-tasks.amazonaws.com only.
    ("PERMISSIONS_MANAGEMENT_ACTIONS", ("iam:PassRole",)),
    # IAM database authentication: a service may log in as its own database user, exactly one
    # user of one instance (the pack's iam-rds-connect-one-db-user holds every grant to that).
    ("CREDENTIALS_EXPOSURE", ("rds-db:connect",)),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", ("rds-db:connect",)),
    # Step Functions execution logs: the log delivery adds itself to the log group's resource
    # policy; CloudWatch Logs offers no resource to scope the action to.
    ("PERMISSIONS_MANAGEMENT_ACTIONS", ("logs:PutResourcePolicy",)),
    # The CodePipeline service role policy lists it for artifact uploads that name a canned ACL;
    # on the artifact bucket (BucketOwnerEnforced) no ACL can grant anyone else access.
    ("PERMISSIONS_MANAGEMENT_ACTIONS", ("s3:PutObjectAcl",)),
}


@pytest.fixture(scope="module", params=["small", "prodlike", "full", "several"])
def graph(request):
    if request.param == "several":
        graph = with_config("small", several)
        assert graph.error is None, graph.error
        return graph
    return fixture(request.param)


def documents(graph):
    """(resource, key, policy document) for every IAM document the graph holds."""
    for resource in graph.registered:
        for key in ("policy", "assumeRolePolicy"):
            value = resource.inputs.get(key)
            if isinstance(value, str) and '"Statement"' in value:
                yield resource, key, json.loads(value)


def findings(statement: dict) -> set[str]:
    return set(issues(statement))


def test_identity_policies_have_no_linter_findings_beyond_the_justified(graph):
    checked = 0
    for resource, _key, document in documents(graph):
        if resource.type != "aws:iam/rolePolicy:RolePolicy":
            continue
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for issue in findings(statement):
                assert (issue, tuple(actions)) in JUSTIFIED, (resource.name, issue, statement)
            checked += 1
    assert checked


def test_trust_and_resource_policies_are_well_formed(graph):
    execution_roles = {d.inputs["executionRoleArn"] for d in graph.of_type(TASK_DEFINITION)}
    for resource, key, document in documents(graph):
        if resource.type == "aws:iam/rolePolicy:RolePolicy":
            continue
        for statement in document["Statement"]:
            assert "Principal" in statement, (resource.name, statement)
            issues = findings(statement)
            if key == "assumeRolePolicy":
                # Trust policies have no Resource by definition; parliament reads them as identity policies.
                issues.discard("MALFORMED")
                assert statement["Action"] == "sts:AssumeRole"
                # Every service that sends aws:SourceAccount is held to it; EC2 sends no such key
                # when an instance assumes its role, so the bastion's trust has no condition, and the
                # ECS guide documents none for the task execution role (only for the task role).
                unconditioned = statement["Principal"] == {"Service": "ec2.amazonaws.com"} or (
                    statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
                    and resource.outputs.get("arn") in execution_roles
                )
                assert statement.get("Condition") or unconditioned, (resource.name, statement)
            if resource.type == "aws:kms/key:Key":
                # In a key policy "*" is the key itself; the account root administers its own key.
                issues -= {"RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS"}
            assert issues == set(), (resource.name, key, statement)


def test_task_definitions_match_the_register_task_definition_api(graph):
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    definitions = graph.of_type(TASK_DEFINITION)
    assert definitions
    for definition in definitions:
        inputs = definition.inputs
        request = {
            "family": inputs["family"],
            "taskRoleArn": inputs["taskRoleArn"],
            "executionRoleArn": inputs["executionRoleArn"],
            "networkMode": inputs["networkMode"],
            "containerDefinitions": json.loads(inputs["containerDefinitions"]),
            "requiresCompatibilities": inputs["requiresCompatibilities"],
            "cpu": inputs["cpu"],
            "memory": inputs["memory"],
            "runtimePlatform": inputs["runtimePlatform"],
        }
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()

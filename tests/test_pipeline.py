"""The Pipeline component on its own, driven through a small program with hand-made stand-ins for a service.

The stand-ins are what a Service gives a pipeline: an ECR repository, a task and an execution
role, the image parameter, and the environment's encrypted notification topic.
"""

import json

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from components.account import Account
from components.config import PipelineConfig
from components.contracts import DEPLOYED_TAG_PREFIX, DeliveryTarget
from components.naming import Naming
from components.pipeline import Pipeline, PipelineArgs, github_connection
from offline.harness import evaluate
from policies.guardrails.types import (
    CODEBUILD_PROJECT as PROJECT,
    EVENT_RULE,
    EVENT_TARGET,
    IAM_ROLE as ROLE,
    PIPELINE,
    ROLE_POLICY,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"


def program(config: dict, architecture: str = "x86_64"):
    def run():
        naming = Naming("ecs-platform", "dev")
        provider = naming.provider(REGION)
        opts = pulumi.ResourceOptions(provider=provider)
        repo = aws.ecr.Repository("web-repo", name="ecs-platform-dev-web", opts=opts)
        task = aws.iam.Role("web-task", assume_role_policy="{}", opts=opts)
        execution = aws.iam.Role("web-exec", assume_role_policy="{}", opts=opts)
        parameter = aws.ssm.Parameter(
            "web-image", name="/ecs-platform/dev/web/image", type="String", value="web:initial", opts=opts
        )
        topic_key = aws.kms.Key("alarms-key", enable_key_rotation=True, opts=opts)
        topic = aws.sns.Topic("alarms", name="ecs-platform-dev-alarms", kms_master_key_id=topic_key.arn, opts=opts)
        connection = github_connection("github", naming, opts)
        Pipeline(
            "web-pipeline",
            PipelineArgs(
                config=PipelineConfig.model_validate(config),
                naming=naming,
                account=Account.lookup(REGION, provider),
                target=DeliveryTarget(
                    name="web",
                    architecture=architecture,
                    container_name="web",
                    repository_name=repo.name,
                    repository_arn=repo.arn,
                    repository_url=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/ecs-platform-dev-web",
                    cluster_name="ecs-platform-dev",
                    service_name="web-service",
                    task_role_arn=task.arn,
                    execution_role_arn=execution.arn,
                    task_definition_family="ecs-platform-dev-web",
                    image_parameter_name=parameter.name,
                    image_parameter_arn=parameter.arn,
                ),
                notification_topic_arn=topic.arn,
                notification_topic_key_arn=topic_key.arn,
                connection_arn=connection.arn,
            ),
            opts=opts,
        )

    return evaluate("dev", {"aws:region": REGION}, program=run)


GITHUB = {"source": {"github": {"repository": "acme/web", "branch": "main"}}}
S3 = {"source": {"s3": {"bucket": "acme-sources", "key": "web/source.zip"}}}


@pytest.fixture(scope="module")
def github():
    graph = program(GITHUB)
    assert graph.error is None, graph.error
    return graph


@pytest.fixture(scope="module")
def approved():
    graph = program({**GITHUB, "approval": True}, architecture="arm64")
    assert graph.error is None, graph.error
    return graph


def stages(graph) -> list[str]:
    return [s["name"] for s in graph.one(PIPELINE).inputs["stages"]]


def test_source_build_deploy_in_that_order_without_approval(github):
    assert stages(github) == ["Source", "Build", "Deploy"]
    pipeline = github.one(PIPELINE).inputs
    assert pipeline["pipelineType"] == "V2"
    assert pipeline["name"] == "ecs-platform-dev-web"


def test_an_approval_stage_sits_between_build_and_deploy_and_notifies_the_topic(approved):
    assert stages(approved) == ["Source", "Build", "Approval", "Deploy"]
    (action,) = approved.one(PIPELINE).inputs["stages"][2]["actions"]
    assert (action["category"], action["provider"]) == ("Approval", "Manual")
    assert action["configuration"]["NotificationArn"] == approved.one("aws:sns/topic:Topic").outputs["arn"]


def test_the_github_source_uses_the_connection_and_branch(github):
    (action,) = github.one(PIPELINE).inputs["stages"][0]["actions"]
    connection = github.one("aws:codestarconnections/connection:Connection")
    assert connection.inputs == {"name": "ecs-platform-dev-github", "providerType": "GitHub"}
    assert action["provider"] == "CodeStarSourceConnection"
    assert action["configuration"] == {
        "ConnectionArn": connection.outputs["arn"],
        "FullRepositoryId": "acme/web",
        "BranchName": "main",
        "DetectChanges": "true",
        "OutputArtifactFormat": "CODE_ZIP",
    }


def test_the_build_matches_the_architecture_and_caches_docker_layers(github, approved):
    x86 = github.one(PROJECT, "web-pipeline-build").inputs
    assert (x86["environment"]["type"], x86["environment"]["image"]) == (
        "LINUX_CONTAINER",
        "aws/codebuild/amazonlinux-x86_64-standard:5.0",
    )
    arm = approved.one(PROJECT, "web-pipeline-build").inputs
    assert (arm["environment"]["type"], arm["environment"]["image"]) == (
        "ARM_CONTAINER",
        "aws/codebuild/amazonlinux-aarch64-standard:3.0",
    )
    variables = {v["name"]: v["value"] for v in arm["environment"]["environmentVariables"]}
    assert variables["DOCKER_PLATFORM"] == "linux/arm64"
    assert x86["environment"]["privilegedMode"] is True
    assert x86["cache"] == {"type": "LOCAL", "modes": ["LOCAL_DOCKER_LAYER_CACHE"]}


def test_the_buildspec_tags_with_the_short_commit_pushes_and_writes_imagedefinitions(github):
    project = github.one(PROJECT, "web-pipeline-build").inputs
    spec = yaml.safe_load(project["source"]["buildspec"])
    commands = "\n".join(c for phase in spec["phases"].values() for c in phase["commands"])
    assert "docker login" in commands and "docker push" in commands
    assert "$CODEBUILD_RESOLVED_SOURCE_VERSION" in commands and "cut -c1-7" in commands
    assert "imagedefinitions.json" in commands and spec["artifacts"]["files"] == ["imagedefinitions.json"]
    assert "ssm" not in commands  # the build never records an image it has not deployed


def test_s3_source_reads_only_that_object():
    graph = program(S3)
    assert graph.error is None, graph.error
    (action,) = graph.one(PIPELINE).inputs["stages"][0]["actions"]
    assert action["provider"] == "S3"
    assert action["configuration"]["S3Bucket"] == "acme-sources"
    statements = json.loads(graph.one(ROLE_POLICY, "web-pipeline-pipeline").inputs["policy"])["Statement"]
    reads = next(s for s in statements if s["Sid"] == "ReadTheSource")
    assert reads["Resource"] == "arn:aws:s3:::acme-sources/web/source.zip"
    assert not any("codestar" in json.dumps(s) for s in statements)


def policy(graph, role: str) -> list[dict]:
    return json.loads(graph.one(ROLE_POLICY, f"web-pipeline-{role}").inputs["policy"])["Statement"]


def by_sid(statements: list[dict]) -> dict[str, dict]:
    return {s["Sid"]: s for s in statements}


def test_the_artifact_bucket_is_kms_encrypted_private_versioned_tls_only_and_expires(github):
    bucket = github.one("aws:s3/bucket:Bucket", "web-pipeline-artifacts")
    key = github.one("aws:kms/key:Key", "web-pipeline-key")
    assert key.inputs["enableKeyRotation"] is True
    of_bucket = {r.type.split(":")[-1]: r.inputs for r in github.children(bucket)}
    assert of_bucket["BucketPublicAccessBlock"] == {
        "bucket": bucket.id,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    assert of_bucket["BucketOwnershipControls"]["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert of_bucket["BucketVersioning"]["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = of_bucket["BucketServerSideEncryptionConfiguration"]["rules"]
    assert rule == {
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]},
        "bucketKeyEnabled": True,
    }
    expiry = of_bucket["BucketLifecycleConfiguration"]["rules"][0]
    assert expiry["expiration"] == {"days": 30} and expiry["noncurrentVersionExpiration"] == {"noncurrentDays": 1}
    (deny,) = json.loads(of_bucket["BucketPolicy"]["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [bucket.outputs["arn"], f"{bucket.outputs['arn']}/*"]
    store = github.one(PIPELINE).inputs["artifactStores"]
    assert store == [{"location": bucket.id, "type": "S3", "encryptionKey": {"id": key.outputs["arn"], "type": "KMS"}}]


def test_each_role_is_trusted_only_by_its_service_for_its_own_project_or_pipeline(github):
    expected = {
        "build": ("codebuild", "arn:aws:codebuild:eu-west-1:123456789012:project/ecs-platform-dev-web-build"),
        "release": ("codebuild", "arn:aws:codebuild:eu-west-1:123456789012:project/ecs-platform-dev-web-release"),
        "pipeline": ("codepipeline", "arn:aws:codepipeline:eu-west-1:123456789012:ecs-platform-dev-web"),
    }
    for actor, (service, source) in expected.items():
        (trust,) = json.loads(github.one(ROLE, f"web-pipeline-{actor}").inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": f"{service}.amazonaws.com"}
        assert trust["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": source},
        }
    assert github.one(PIPELINE).inputs["roleArn"] == github.one(ROLE, "web-pipeline-pipeline").outputs["arn"]
    assert (
        github.one(PROJECT, "web-pipeline-build").inputs["serviceRole"]
        == github.one(ROLE, "web-pipeline-build").outputs["arn"]
    )


def test_the_build_role_pushes_only_to_its_repository_and_writes_only_its_log_group(github):
    statements = policy(github, "build")
    repo = github.one("aws:ecr/repository:Repository").outputs["arn"]
    bucket = github.one("aws:s3/bucket:Bucket").outputs["arn"]
    key = github.one("aws:kms/key:Key", "web-pipeline-key").outputs["arn"]
    log_group = github.one("aws:cloudwatch/logGroup:LogGroup", "web-pipeline-logs").outputs["arn"]
    assert {(s["Sid"], json.dumps(s["Resource"])) for s in statements} == {
        ("WriteOwnLogs", json.dumps(f"{log_group}:log-stream:*")),
        ("UseArtifacts", json.dumps(f"{bucket}/*")),
        ("LocateArtifactBucket", json.dumps(bucket)),
        ("UseArtifactKey", json.dumps(key)),
        ("PushToTheServiceRepository", json.dumps(repo)),
        ("EcrLogin", json.dumps("*")),
    }
    assert by_sid(statements)["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"
    assert not any("ssm:" in json.dumps(s["Action"]) for s in statements)


def test_only_the_release_role_may_record_the_image_and_only_in_its_parameter(github):
    parameter = github.one("aws:ssm/parameter:Parameter").outputs["arn"]
    assert by_sid(policy(github, "release"))["RecordTheDeployedImage"] == {
        "Sid": "RecordTheDeployedImage",
        "Effect": "Allow",
        "Action": "ssm:PutParameter",
        "Resource": parameter,
    }
    spec = yaml.safe_load(github.one(PROJECT, "web-pipeline-release").inputs["source"]["buildspec"])
    assert any("aws ssm put-parameter" in c for c in spec["phases"]["build"]["commands"])
    deploy = github.one(PIPELINE).inputs["stages"][-1]["actions"]
    assert [(a["name"], a["runOrder"]) for a in deploy] == [("Deploy", 1), ("Release", 2)]


def test_the_release_step_tags_the_image_it_deployed_so_the_repository_keeps_it(github):
    """After recording the image, Release adds a `deployed-<tag>` tag to it: a new tag on an existing image,
    which immutable repositories accept (ECR User Guide, "Image tag mutability": only pushing a tag that
    already exists fails; "Retagging an image": batch-get-image the manifest, put-image it with the new
    tag, keeping its media type). The repository's lifecycle policy never expires those images beyond
    the last ones (components/service/image.py). Re-releasing an image finds the tag already there
    (ImageAlreadyExistsException), which is not a failure."""
    project = github.one(PROJECT, "web-pipeline-release").inputs
    variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
    assert variables["REPOSITORY_NAME"] == github.one("aws:ecr/repository:Repository").outputs["name"]
    commands = yaml.safe_load(project["source"]["buildspec"])["phases"]["build"]["commands"]
    record = next(i for i, c in enumerate(commands) if "aws ssm put-parameter" in c)
    protect = next(i for i, c in enumerate(commands) if "aws ecr put-image" in c)
    assert record < protect  # the parameter follows the deployment even if tagging fails
    script = "\n".join(commands)
    assert f'DEPLOYED_TAG="{DEPLOYED_TAG_PREFIX}${{IMAGE_URI##*:}}"' in script
    assert '--image-tag "$DEPLOYED_TAG"' in commands[protect]
    assert '--image-manifest-media-type "$MEDIA_TYPE"' in commands[protect]
    assert "ImageAlreadyExistsException" in commands[protect]
    assert 'aws ecr batch-get-image --repository-name "$REPOSITORY_NAME"' in script


def test_the_release_role_may_read_and_tag_images_of_its_repository_only(github):
    """ECR User Guide, "Retagging an image": ecr:BatchGetImage for the manifest, ecr:PutImage for the new tag."""
    repo = github.one("aws:ecr/repository:Repository").outputs["arn"]
    assert by_sid(policy(github, "release"))["ProtectTheDeployedImage"] == {
        "Sid": "ProtectTheDeployedImage",
        "Effect": "Allow",
        "Action": ["ecr:BatchGetImage", "ecr:PutImage"],
        "Resource": repo,
    }
    ecr = [s for s in policy(github, "release") if "ecr:" in json.dumps(s["Action"])]
    assert [s["Sid"] for s in ecr] == ["ProtectTheDeployedImage"]  # no login, no push of layers


def test_the_pipeline_role_deploys_one_service_and_passes_only_its_two_roles(approved):
    statements = by_sid(policy(approved, "pipeline"))
    assert statements["DeployTheService"]["Resource"] == (
        "arn:aws:ecs:eu-west-1:123456789012:service/ecs-platform-dev/web-service"
    )
    family = "arn:aws:ecs:eu-west-1:123456789012:task-definition/ecs-platform-dev-web:*"
    assert statements["RegisterOwnRevisions"]["Resource"] == family
    assert statements["TagOwnRevisionsOnCreate"]["Condition"] == {
        "StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}
    }
    roles = [approved.one(ROLE, n).outputs["arn"] for n in ("web-task", "web-exec")]
    assert statements["PassOnlyTheServiceRoles"]["Resource"] == roles
    assert statements["PassOnlyTheServiceRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    projects = [p.outputs["arn"] for p in approved.of_type(PROJECT)]
    assert sorted(statements["RunOwnBuilds"]["Resource"]) == sorted(projects)
    connection = approved.one("aws:codestarconnections/connection:Connection").outputs["arn"]
    assert statements["UseTheConnection"]["Resource"] == connection
    assert statements["AnnounceApprovals"]["Resource"] == approved.one("aws:sns/topic:Topic").outputs["arn"]
    # "*" only where AWS has no resource to name.
    assert {s["Action"] for s in statements.values() if s["Resource"] == "*"} == {"ecs:DescribeTaskDefinition"}


def test_no_statement_of_any_pipeline_role_uses_a_wildcard_action(github, approved):
    for graph in (github, approved):
        for role in ("build", "release", "pipeline"):
            for statement in policy(graph, role):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any("*" in a or "?" in a for a in actions), statement


def test_without_approval_the_pipeline_cannot_publish_to_the_topic(github):
    assert not any("sns:" in json.dumps(s) for s in policy(github, "pipeline"))


def granted(statements: list[dict]) -> dict[str, list[dict]]:
    """Action -> the statements that allow it."""
    found: dict[str, list[dict]] = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            found.setdefault(action, []).append(statement)
    return found


def test_the_pipeline_role_holds_the_codepipeline_service_role_artifact_permissions(github):
    """AWS CodePipeline User Guide, "Manage the CodePipeline service role", CodePipeline service
    role policy: bucket versioning, ACL and location reads, and object get/put (with ACL), in the
    pipeline's own account."""
    bucket = github.one("aws:s3/bucket:Bucket").outputs["arn"]
    actions = granted(policy(github, "pipeline"))
    own_account = {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}
    for action in ("s3:GetBucketVersioning", "s3:GetBucketAcl", "s3:GetBucketLocation"):
        [statement] = actions[action]
        assert statement["Resource"] == bucket and statement["Condition"] == own_account, action
    for action in ("s3:PutObject", "s3:PutObjectAcl", "s3:GetObject", "s3:GetObjectVersion"):
        [statement] = actions[action]
        assert statement["Resource"] == f"{bucket}/*" and statement["Condition"] == own_account, action


def test_the_pipeline_role_holds_every_permission_of_the_ecs_standard_deploy_action(approved):
    """AWS CodePipeline User Guide, "Amazon Elastic Container Service deploy action reference",
    "Service role permissions: Amazon ECS standard action", each scoped to the one service."""
    actions = granted(policy(approved, "pipeline"))
    documented = {
        "ecs:DescribeTaskDefinition": "*",  # no resource type in the IAM reference
        "ecs:RegisterTaskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/ecs-platform-dev-web:*",
        "ecs:DescribeServices": "arn:aws:ecs:eu-west-1:123456789012:service/ecs-platform-dev/web-service",
        "ecs:UpdateService": "arn:aws:ecs:eu-west-1:123456789012:service/ecs-platform-dev/web-service",
        "ecs:TagResource": "arn:aws:ecs:eu-west-1:123456789012:task-definition/ecs-platform-dev-web:*",
        "iam:PassRole": [approved.one(ROLE, n).outputs["arn"] for n in ("web-task", "web-exec")],
    }
    for action, resource in documented.items():
        assert [s["Resource"] for s in actions[action]] == [resource], action


def test_an_s3_source_reads_what_the_s3_source_action_doc_lists_for_that_object_only():
    """AWS CodePipeline User Guide, "Amazon S3 source action reference", "Service role
    permissions: S3 source action"."""
    graph = program(S3)
    assert graph.error is None, graph.error
    actions = granted(policy(graph, "pipeline"))
    for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"):
        assert "arn:aws:s3:::acme-sources/web/source.zip" in [s["Resource"] for s in actions[action]], action
    for action in ("s3:GetBucketVersioning", "s3:GetBucketAcl", "s3:GetBucketLocation"):
        assert "arn:aws:s3:::acme-sources" in [s["Resource"] for s in actions[action]], action


@pytest.fixture(scope="module")
def s3_source():
    graph = program(S3)
    assert graph.error is None, graph.error
    return graph


def test_an_s3_source_starts_the_pipeline_through_an_eventbridge_rule_not_polling(s3_source):
    """CodePipeline disables polling on pipelines inactive for 30 days (API Reference,
    PipelineMetadata.pollingDisabledAt): a new version of the object starts it through EventBridge."""
    (action,) = s3_source.one(PIPELINE).inputs["stages"][0]["actions"]
    assert action["configuration"]["PollForSourceChanges"] == "false"
    rule = s3_source.one(EVENT_RULE)
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["acme-sources"]}, "object": {"key": ["web/source.zip"]}},
    }
    target = s3_source.one(EVENT_TARGET)
    assert target.inputs["rule"] == rule.outputs["name"]
    assert target.inputs["arn"] == s3_source.one(PIPELINE).outputs["arn"]
    assert target.inputs["roleArn"] == s3_source.one(ROLE, "web-pipeline-source-events").outputs["arn"]
    # The role may start this pipeline and nothing else, and is in place before the target.
    assert policy(s3_source, "source-events") == [
        {"Sid": "StartThisPipeline", "Effect": "Allow", "Action": "codepipeline:StartPipelineExecution",
         "Resource": s3_source.one(PIPELINE).outputs["arn"]},
    ]  # fmt: skip
    assert s3_source.one(ROLE_POLICY, "web-pipeline-source-events").urn in target.depends_on


def test_only_eventbridge_running_this_rule_in_this_account_may_take_the_source_role(s3_source):
    """Confused deputy: aws:SourceAccount and aws:SourceArn (the rule) in the trust policy."""
    rule = s3_source.one(EVENT_RULE)
    (trust,) = json.loads(s3_source.one(ROLE, "web-pipeline-source-events").inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": rule.outputs["arn"]},
    }
    assert rule.outputs["arn"] == "arn:aws:events:eu-west-1:123456789012:rule/ecs-platform-dev-web-source"


def test_a_github_source_needs_no_rule(github):
    assert github.of_type(EVENT_RULE, EVENT_TARGET) == []
    assert not any(r.name.endswith("source-events") for r in github.of_type(ROLE))


def test_the_s3_source_rule_keeps_the_pack_green(s3_source):
    from helpers import SMALL, check, pack_config

    result = check(s3_source, pack_config(SMALL))  # a pipeline alone, at the small environment's levels
    assert result.mandatory == [], result.mandatory

"""Pipelines in the fixture environments: one per service that enables it, wired to it, and the image model."""

import json

import pytest
from helpers import config_error, fixture, with_config

from offline.harness import mock_aws
from policies.guardrails.types import (
    IAM_ROLE as ROLE,
    PIPELINE,
    ROLE_POLICY,
    SSM_PARAMETER as PARAMETER,
    TASK_DEFINITION,
)

EXPECTED = {
    "small": {"api": ["Source", "Build", "Deploy"]},
    "prodlike": {"web": ["Source", "Build", "Approval", "Deploy"], "api": ["Source", "Build", "Approval", "Deploy"]},
}


def pipelines(graph) -> dict[str, dict]:
    return {p.name.removesuffix("-pipeline-pipeline"): p.inputs for p in graph.of_type(PIPELINE)}


def image_of(graph, service: str) -> str:
    definition = graph.one(TASK_DEFINITION, f"{service}-task")
    return json.loads(definition.inputs["containerDefinitions"])[0]["image"]


def statements(graph, name: str) -> dict[str, dict]:
    document = json.loads(graph.one(ROLE_POLICY, name).inputs["policy"])
    return {s.get("Sid", str(i)): s for i, s in enumerate(document["Statement"])}


def test_one_pipeline_per_enabling_service_with_its_stages_in_order(env):
    found = pipelines(env)
    assert {name: [s["name"] for s in p["stages"]] for name, p in found.items()} == EXPECTED[env.stack]
    for name, pipeline in found.items():
        assert pipeline["name"] == f"ecs-platform-{env.stack}-{name}"
        assert pipeline["pipelineType"] == "V2"
    assert env.outputs["pipelines"] == {
        name: {
            "name": f"ecs-platform-{env.stack}-{name}",
            "url": f"https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
            f"ecs-platform-{env.stack}-{name}/view?region=eu-west-1",
        }
        for name in EXPECTED[env.stack]
    }


def test_approvals_notify_the_environment_topic_only_in_prodlike(env):
    topic = env.one("aws:sns/topic:Topic").outputs["arn"]
    for name, pipeline in pipelines(env).items():
        approvals = [a for s in pipeline["stages"] for a in s["actions"] if a["category"] == "Approval"]
        if env.stack == "prodlike":
            (approval,) = approvals
            assert approval["configuration"]["NotificationArn"] == topic
            assert statements(env, f"{name}-pipeline-pipeline")["AnnounceApprovals"]["Resource"] == topic
        else:
            assert approvals == []
            assert "AnnounceApprovals" not in statements(env, f"{name}-pipeline-pipeline")


def test_the_deploy_action_targets_the_service_and_the_build_its_repository_and_architecture(env):
    cluster = env.outputs["clusterName"]
    for name, pipeline in pipelines(env).items():
        deploy = pipeline["stages"][-1]["actions"][0]
        service = env.one("aws:ecs/service:Service", name)
        assert deploy["configuration"] == {
            "ClusterName": cluster,
            "ServiceName": service.outputs["name"],
            "FileName": "imagedefinitions.json",
        }
        project = env.one("aws:codebuild/project:Project", f"{name}-pipeline-build").inputs
        variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
        repository = env.one("aws:ecr/repository:Repository", f"{name}-repository")
        assert variables["REPOSITORY_URI"] == repository.outputs["repositoryUrl"]
        assert variables["CONTAINER_NAME"] == name
        platform = env.one(TASK_DEFINITION, f"{name}-task").inputs["runtimePlatform"]["cpuArchitecture"]
        assert project["environment"]["type"] == {"X86_64": "LINUX_CONTAINER", "ARM64": "ARM_CONTAINER"}[platform]
        push = statements(env, f"{name}-pipeline-build")["PushToTheServiceRepository"]
        assert push["Resource"] == repository.outputs["arn"]


def test_the_pipeline_passes_only_its_services_task_and_execution_roles(env):
    for name in pipelines(env):
        passing = statements(env, f"{name}-pipeline-pipeline")["PassOnlyTheServiceRoles"]
        roles = [env.one(ROLE, f"{name}-{kind}").outputs["arn"] for kind in ("task", "execution")]
        assert passing["Action"] == "iam:PassRole"
        assert passing["Resource"] == roles
        assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
        service = env.one("aws:ecs/service:Service", name).outputs["arn"]
        assert statements(env, f"{name}-pipeline-pipeline")["DeployTheService"]["Resource"] == service


def test_one_github_connection_serves_every_pipeline_of_the_environment(env):
    connection = env.one("aws:codestarconnections/connection:Connection")
    assert connection.inputs == {"name": f"ecs-platform-{env.stack}-github", "providerType": "GitHub"}
    assert env.outputs["githubConnectionArn"] == connection.outputs["arn"]
    for name, pipeline in pipelines(env).items():
        source = pipeline["stages"][0]["actions"][0]["configuration"]
        assert source["ConnectionArn"] == connection.outputs["arn"]
        assert statements(env, f"{name}-pipeline-pipeline")["UseTheConnection"]["Resource"] == connection.outputs["arn"]


# --- the image: Pulumi and the pipeline share one parameter --------------------------------


def test_the_task_definition_renders_the_image_parameter_which_pulumi_never_overwrites(env):
    for name in pipelines(env):
        parameter = env.one(PARAMETER, f"{name}-image")
        repository = env.one("aws:ecr/repository:Repository", f"{name}-repository").outputs["repositoryUrl"]
        assert parameter.inputs["name"] == f"/ecs-platform/{env.stack}/{name}/image"
        assert parameter.inputs["type"] == "String"
        tag = {"small": "bootstrap", "prodlike": "1.0.0"}[env.stack]
        assert parameter.inputs["insecureValue"] == f"{repository}:{tag}"  # only the first value
        assert parameter.ignore_changes == ["insecureValue"]
        assert image_of(env, name) == parameter.inputs["insecureValue"]
        # The image is read from the parameter (the invoke depends on it), not copied from config.
        definition = env.one(TASK_DEFINITION, f"{name}-task")
        assert parameter.urn in definition.property_dependencies["containerDefinitions"]


def test_after_a_release_pulumi_renders_the_released_image_and_still_rolls_out_config(monkeypatch):
    released = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecs-platform-prodlike-api:4f2c9a1"
    monkeypatch.setitem(mock_aws.LIVE_PARAMETER_VALUES, "/ecs-platform/prodlike/api/image", released)

    def more_memory(c):
        api = next(s for s in c["ecs-platform:services"] if s["name"] == "api")
        api["memory"] = 2048

    graph = with_config("prodlike", more_memory)
    assert graph.error is None, graph.error
    assert image_of(graph, "api") == released  # no rollback to the configured 1.0.0
    assert graph.one(TASK_DEFINITION, "api-task").inputs["memory"] == "2048"  # the config change rolls out
    assert graph.one(PARAMETER, "api-image").inputs["insecureValue"].endswith(":1.0.0")  # ignored, never written
    assert image_of(graph, "web") == image_of(fixture("prodlike"), "web")  # other services untouched


def test_only_the_release_step_records_the_image_and_only_after_the_deployment(env):
    for name, pipeline in pipelines(env).items():
        parameter = env.one(PARAMETER, f"{name}-image").outputs["arn"]
        writers = {
            policy.name: sid
            for policy in env.of_type(ROLE_POLICY)
            for sid, s in statements(env, policy.name).items()
            if "ssm:PutParameter" in json.dumps(s["Action"])
        }
        assert writers[f"{name}-pipeline-release"] == "RecordTheDeployedImage"
        assert f"{name}-pipeline-build" not in writers
        assert statements(env, f"{name}-pipeline-release")["RecordTheDeployedImage"]["Resource"] == parameter
        deploy_stage = pipeline["stages"][-1]
        assert [(a["name"], a["runOrder"]) for a in deploy_stage["actions"]] == [("Deploy", 1), ("Release", 2)]


def test_the_tag_the_release_step_adds_is_the_one_the_repository_keeps(env):
    """The release buildspec and the service's lifecycle policy agree on the protected prefix."""
    for name in pipelines(env):
        policy = json.loads(env.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", f"{name}-repository").inputs["policy"])
        (prefix,) = next(r for r in policy["rules"] if r["selection"]["tagStatus"] == "tagged")["selection"][
            "tagPrefixList"
        ]
        spec = env.one("aws:codebuild/project:Project", f"{name}-pipeline-release").inputs["source"]["buildspec"]
        assert f'DEPLOYED_TAG="{prefix}${{IMAGE_URI##*:}}"' in spec
        release = statements(env, f"{name}-pipeline-release")["ProtectTheDeployedImage"]
        assert release["Resource"] == env.one("aws:ecr/repository:Repository", f"{name}-repository").outputs["arn"]


def test_services_without_a_pipeline_keep_their_configured_image():
    def no_pipelines(c):
        for s in c["ecs-platform:services"]:
            s.pop("pipeline", None)

    graph = with_config("prodlike", no_pipelines)
    assert graph.error is None, graph.error
    assert graph.of_type(PIPELINE) == [] and graph.of_type(PARAMETER) == []
    assert graph.of_type("aws:codestarconnections/connection:Connection") == []
    repository = graph.one("aws:ecr/repository:Repository", "api-repository").outputs["repositoryUrl"]
    assert image_of(graph, "api") == f"{repository}:1.0.0"
    assert "pipelines" not in graph.outputs


def test_an_existing_connection_from_config_replaces_the_environment_connection():
    arn = "arn:aws:codeconnections:eu-west-1:123456789012:connection/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

    def existing(c):
        for s in c["ecs-platform:services"]:
            s["pipeline"]["source"]["github"]["connectionArn"] = arn

    graph = with_config("prodlike", existing)
    assert graph.error is None, graph.error
    assert graph.of_type("aws:codestarconnections/connection:Connection") == []
    for name, pipeline in pipelines(graph).items():
        assert pipeline["stages"][0]["actions"][0]["configuration"]["ConnectionArn"] == arn
        sids = statements(graph, f"{name}-pipeline-pipeline")
        assert sids["UseTheConnectionRenamed"]["Resource"] == arn
        assert sids["UseTheConnection"]["Resource"] == arn.replace(":codeconnections:", ":codestar-connections:")


def test_an_s3_source_reads_only_its_object():
    def s3(c):
        api = next(s for s in c["ecs-platform:services"] if s["name"] == "api")
        api["pipeline"]["source"] = {"s3": {"bucket": "acme-dev-sources", "key": "api/source.zip"}}

    graph = with_config("small", s3)
    assert graph.error is None, graph.error
    (source,) = pipelines(graph)["api"]["stages"][0]["actions"]
    assert source["provider"] == "S3"
    assert source["configuration"] == {
        "S3Bucket": "acme-dev-sources",
        "S3ObjectKey": "api/source.zip",
        "PollForSourceChanges": "false",  # an EventBridge rule on the object starts it
    }
    [rule] = [r for r in graph.of_type("aws:cloudwatch/eventRule:EventRule") if r.name.startswith("api-pipeline")]
    assert json.loads(rule.inputs["eventPattern"])["detail"] == {
        "bucket": {"name": ["acme-dev-sources"]},
        "object": {"key": ["api/source.zip"]},
    }
    sids = statements(graph, "api-pipeline-pipeline")
    assert sids["ReadTheSource"]["Resource"] == "arn:aws:s3:::acme-dev-sources/api/source.zip"
    assert "UseTheConnection" not in sids
    assert graph.of_type("aws:codestarconnections/connection:Connection") == []


# --- invalid pipeline config --------------------------------------------------------------


def api(**changes):
    def change(c):
        entry = next(s for s in c["ecs-platform:services"] if s["name"] == "api")
        entry["pipeline"].update(changes)

    return change


CASES = {
    "no source": (
        api(source={}),
        "ecs-platform:services[1].pipeline.source: set exactly one of github (repository and branch through a "
        "CodeStar connection) or s3 (bucket and key of a source zip) (got {})",
    ),
    "two sources": (
        api(source={"github": {"repository": "my-org/api"}, "s3": {"bucket": "acme-src", "key": "api.zip"}}),
        "ecs-platform:services[1].pipeline.source: set exactly one of github (repository and branch through a "
        'CodeStar connection) or s3 (bucket and key of a source zip) (got {"github": {"repository": "my-org/api"}, '
        '"s3": {"bucket":...)',
    ),
    "repository without owner": (
        api(source={"github": {"repository": "api"}}),
        "ecs-platform:services[1].pipeline.source.github.repository: string should match pattern "
        "'^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$' (got \"api\")",
    ),
    "branch git refuses": (
        api(source={"github": {"repository": "my-org/api", "branch": "feature..x"}}),
        "ecs-platform:services[1].pipeline.source.github.branch: must be a git branch name such as main or "
        'release/1.x (got "feature..x")',
    ),
    "connection that is no connection ARN": (
        api(source={"github": {"repository": "my-org/api", "connectionArn": "arn:aws:iam::123456789012:role/x"}}),
        "ecs-platform:services[1].pipeline.source.github.connectionArn: string should match pattern "
        "'^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\\d{12}:connection/[0-9a-f-]{36}$' "
        '(got "arn:aws:iam::123456789012:role/x")',
    ),
    "compute type CodeBuild does not offer": (
        api(computeType="BUILD_GENERAL2_SMALL"),
        "ecs-platform:services[1].pipeline.computeType: must be 'BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_MEDIUM', "
        "'BUILD_GENERAL1_LARGE', 'BUILD_GENERAL1_XLARGE' or 'BUILD_GENERAL1_2XLARGE' (got \"BUILD_GENERAL2_SMALL\")",
    ),
    "build timeout too short": (
        api(buildTimeoutMinutes=2),
        "ecs-platform:services[1].pipeline.buildTimeoutMinutes: must be greater than or equal to 5 (got 2)",
    ),
    "dockerfile outside the source": (
        api(dockerfile="../Dockerfile"),
        "ecs-platform:services[1].pipeline.dockerfile: must be a path inside the source, without .. "
        '(got "../Dockerfile")',
    ),
    "misspelt key": (
        api(aproval=True),
        "ecs-platform:services[1].pipeline.aproval: unknown key; did you mean approval? valid keys: enabled, source, "
        "approval, computeType, buildTimeoutMinutes, dockerfile, buildContext, artifactExpiryDays, logRetentionDays",
    ),
    "pipeline for an external image": (
        lambda c: c["ecs-platform:services"][0].update(pipeline={"source": {"github": {"repository": "my-org/web"}}}),
        "ecs-platform:services[0].pipeline: a pipeline pushes to the service's ECR repository; set repository (with "
        'the first tag) (got {"source": {"github": {"repository": "my-org/web"}}})',
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_invalid_pipeline_config_gives_one_line_naming_the_key(case):
    change, expected = CASES[case]
    assert config_error("small", change) == expected

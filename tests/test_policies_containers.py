"""Containers and builds: read-only root filesystems (or a stated reason), no host namespaces, privileged builds
only on the allow-listed projects."""

import json

import pulumi_aws as aws
import pytest
from helpers import FULL, check, fixture, with_config
from policy_helpers import codebuild_project, passes, violates

from policies.guardrails.types import TASK_DEFINITION

READONLY = "ecs-readonly-root-filesystem"
HOST = "ecs-no-host-namespaces"
PRIVILEGED = "codebuild-privileged-allow-list"


def task(*, readonly=True, tags=None, **kwargs):
    container = {"name": "app", "image": "nginx", "essential": True}
    if readonly is not None:
        container["readonlyRootFilesystem"] = readonly
    return lambda: aws.ecs.TaskDefinition(
        "t", family="t", container_definitions=json.dumps([container]), tags=tags, **kwargs
    )


@pytest.mark.parametrize("readonly", [False, None], ids=["false", "unset"])
def test_a_writable_root_without_a_reason_is_advisory(readonly):
    found = violates(task(readonly=readonly), READONLY, level="advisory")
    assert "container app has a writable root filesystem" in found[0].message


def test_a_read_only_root_or_a_stated_reason_passes():
    passes(task(), READONLY)
    passes(task(readonly=False, tags={"WritableRootFilesystem": "redis writes /data"}), READONLY)
    violates(task(readonly=False, tags={"WritableRootFilesystem": " "}), READONLY, level="advisory")


def test_the_services_writable_root_reason_becomes_the_opt_out():
    graph = fixture(FULL)
    tags = {r.name: (r.inputs.get("tags") or {}) for r in graph.of_type(TASK_DEFINITION)}
    assert tags["worker-task"]["WritableRootFilesystem"].startswith("ECS Exec sessions")
    assert tags["cache-task"]["WritableRootFilesystem"].startswith("redis writes")
    assert "WritableRootFilesystem" not in tags["web-task"]
    assert check(graph).of(READONLY) == []

    def no_reasons(config):
        for svc in config["ecs-platform:services"]:
            svc.pop("writableRootReason", None)

    bare = with_config(FULL, no_reasons)
    assert bare.error is None, bare.error
    found = check(bare).of(READONLY)
    assert sorted(f.urn.rsplit("::", 1)[-1] for f in found) == ["cache-task", "worker-task"]
    assert {f.level for f in found} == {"advisory"}


@pytest.mark.parametrize("key", ["pid_mode", "ipc_mode"])
def test_host_process_and_ipc_namespaces_are_refused(key):
    violates(task(**{key: "host"}), HOST)
    passes(task(**{key: "task"}), HOST)
    passes(task(), HOST)


def build(name, privileged):
    return lambda: codebuild_project(name, privileged=privileged)


ALLOW = {PRIVILEGED: {"privilegedProjects": ["*-pipeline-build"]}}


def test_privileged_builds_only_on_allow_listed_projects():
    found = violates(build("api-pipeline-release", True), PRIVILEGED, level="advisory", config=ALLOW)
    assert "project api-pipeline-release runs privileged" in found[0].message
    violates(build("api-pipeline-build", True), PRIVILEGED, level="advisory", config={})
    passes(build("api-pipeline-build", True), PRIVILEGED, config=ALLOW)
    passes(build("api-pipeline-release", False), PRIVILEGED, config={})


def test_the_shipped_image_builds_are_the_only_privileged_projects():
    graph = fixture(FULL)
    assert check(graph).of(PRIVILEGED) == []
    found = check(graph, {}).of(PRIVILEGED)
    assert sorted(f.urn.rsplit("::", 1)[-1] for f in found) == [
        "admin-pipeline-build",
        "api-pipeline-build",
        "worker-pipeline-build",
    ]


def test_definitions_and_projects_not_known_yet_are_not_judged():
    def program():
        unknown = aws.s3.Bucket("b").arn
        aws.ecs.TaskDefinition(
            "t",
            family="t",
            container_definitions=unknown.apply(lambda arn: json.dumps([{"name": "app", "image": arn}])),
        )
        codebuild_project(service_role=unknown, privileged=unknown.apply(lambda _: True))

    passes(program, READONLY, preview=True)
    passes(program, PRIVILEGED, preview=True, config={})
    violates(program, READONLY, level="advisory")
    violates(program, PRIVILEGED, level="advisory", config={})

"""EFS guardrails: file systems encrypted at rest, EFS volumes of task definitions mounted with TLS."""

import json

import pulumi_aws as aws
from policy_helpers import passes, violates


def file_system(**kwargs):
    return lambda: aws.efs.FileSystem("data", **kwargs)


def task_definition(transit):
    def program():
        efs = {"file_system_id": "fs-0123456789abcdef0"}
        if transit is not None:
            efs["transit_encryption"] = transit
        aws.ecs.TaskDefinition(
            "app",
            family="app",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu="256",
            memory="512",
            volumes=[{"name": "data", "efs_volume_configuration": efs}],
            container_definitions=json.dumps([{"name": "app", "image": "nginx", "essential": True}]),
        )

    return program


def test_an_unencrypted_file_system_is_caught():
    violates(file_system(), "efs-encrypted")
    violates(file_system(encrypted=False), "efs-encrypted")


def test_an_encrypted_file_system_passes():
    passes(file_system(encrypted=True), "efs-encrypted")


def test_an_efs_volume_without_transit_encryption_is_caught():
    violates(task_definition(None), "efs-transit-encryption")
    violates(task_definition("DISABLED"), "efs-transit-encryption")


def test_an_efs_volume_with_transit_encryption_passes():
    passes(task_definition("ENABLED"), "efs-transit-encryption")


def _access_point(**kwargs):
    return lambda: aws.efs.AccessPoint("ap", file_system_id="fs-0123456789abcdef0", **kwargs)


def test_an_access_point_is_held_to_its_directory_and_user():
    scoped = dict(posix_user={"uid": 1000, "gid": 1000}, root_directory={"path": "/media"})
    passes(_access_point(**scoped), "efs-access-point-scoped")
    found = violates(_access_point(posix_user=scoped["posix_user"]), "efs-access-point-scoped")
    assert "rootDirectory.path" in found[0].message
    violates(_access_point(posix_user=scoped["posix_user"], root_directory={"path": "/"}), "efs-access-point-scoped")
    found = violates(_access_point(root_directory=scoped["root_directory"]), "efs-access-point-scoped")
    assert "posixUser" in found[0].message
    passes(
        _access_point(
            posix_user=scoped["posix_user"],
            root_directory={"path": aws.efs.FileSystem("fs", encrypted=True).id.apply(lambda i: f"/{i}")},
        ),
        "efs-access-point-scoped",
        preview=True,
    )

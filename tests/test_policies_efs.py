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

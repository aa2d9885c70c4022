"""A service's admin port, S3 environment files, container user and EFS volumes, on the `full` fixture.

`full`'s worker has all of them: admin port 8001 (reached from api and the bastion), three
environment files in two buckets under a KMS key, user 1000:1000, and three EFS volumes: `reports`
(created, backed up), `shared` (existing by ids, read-only) and `media` (existing, ids read from
SSM parameters).
"""

import json

import pytest
from compute import as_list, container, one_owned, owned, role_statements, statements
from helpers import check, config_error, with_config

from policies.guardrails.types import (
    ECS_SERVICE,
    EFS_ACCESS_POINT,
    EFS_BACKUP_POLICY,
    EFS_FILE_SYSTEM,
    EFS_FILE_SYSTEM_POLICY,
    EFS_MOUNT_TARGET,
    EGRESS_RULE,
    IAM_ROLE,
    INGRESS_RULE,
    SECURITY_GROUP,
    TARGET_GROUP,
    TASK_DEFINITION,
)

ENV_KEY = "arn:aws:kms:eu-west-1:123456789012:key/5d7c1a2b-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
SHARED_FS = "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0"
SHARED_AP = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0fedcba9876543210"


def edit_service(name, **changes):
    """A config change: the service `name` of the fixture gets `changes` (None removes a key)."""

    def change(config):
        for service in config["ecs-platform:services"]:
            if service["name"] == name:
                for key, value in changes.items():
                    if value is None:
                        service.pop(key, None)
                    else:
                        service[key] = value

    return change


def role(graph, service, kind):
    return graph.one(IAM_ROLE, f"{service}-{kind}")


def grants(graph, service, kind):
    return {s.get("Sid"): s for s in role_statements(graph, role(graph, service, kind))}


# --- admin port ---------------------------------------------------------------------------------


def test_the_admin_port_is_mapped_in_the_container_and_open_only_to_named_security_groups(full):
    mappings = container(full, "worker")["portMappings"]
    assert [m["containerPort"] for m in mappings] == [9000, 8001]
    worker_sg = full.one(SECURITY_GROUP, "worker-sg").id
    admin = [
        r
        for r in full.of_type(INGRESS_RULE)
        if r.inputs["securityGroupId"] == worker_sg and r.inputs.get("fromPort") == 8001
    ]
    sources = {r.inputs["referencedSecurityGroupId"] for r in admin}
    assert sources == {full.one(SECURITY_GROUP, "api-sg").id, full.one(SECURITY_GROUP, "bastion-sg").id}
    assert all(
        "cidrIpv4" not in r.inputs and "cidrIpv6" not in r.inputs and "prefixListId" not in r.inputs for r in admin
    )
    # The bastion may forward sessions to it, and to nothing else of the service.
    (to_admin,) = [r for r in full.of_type(EGRESS_RULE) if r.inputs.get("referencedSecurityGroupId") == worker_sg]
    assert (to_admin.inputs["fromPort"], to_admin.inputs["toPort"]) == (8001, 8001)
    assert "8001" in full.outputs["services"]["worker"]["adminTunnelCommand"]
    assert "worker.full.internal" in full.outputs["services"]["worker"]["adminTunnelCommand"]


def test_a_public_service_routes_and_health_checks_the_main_port_only():
    graph = with_config("full", edit_service("api", adminPort=8001))
    assert graph.error is None, graph.error
    target_group = one_owned(graph, "api", TARGET_GROUP)
    assert target_group.inputs["port"] == 3000
    assert target_group.inputs["healthCheck"].get("port", "traffic-port") == "traffic-port"
    (service,) = owned(graph, "api", ECS_SERVICE)
    assert [lb["containerPort"] for lb in service.inputs["loadBalancers"]] == [3000]
    api_sg = graph.one(SECURITY_GROUP, "api-sg").id
    alb_sg = (
        graph.one(SECURITY_GROUP, "alb-sg").id
        if any(r.name == "alb-sg" for r in graph.of_type(SECURITY_GROUP))
        else None
    )
    to_api = [r for r in graph.of_type(INGRESS_RULE) if r.inputs["securityGroupId"] == api_sg]
    admin_sources = {r.inputs.get("referencedSecurityGroupId") for r in to_api if r.inputs.get("fromPort") == 8001}
    assert admin_sources == {graph.one(SECURITY_GROUP, "bastion-sg").id}
    assert alb_sg is None or alb_sg not in admin_sources
    assert not [r for r in to_api if r.inputs.get("fromPort") == 8001 and r.inputs.get("cidrIpv4")]
    assert check(graph).findings == []


def test_the_admin_port_must_differ_from_the_port():
    error = config_error("full", edit_service("worker", adminPort=9000))
    assert error.startswith("ecs-platform:services[3].adminPort: must differ from port (9000)"), error


# --- environment files ------------------------------------------------------------------------------


def test_environment_files_load_from_s3_in_order(full):
    assert container(full, "worker")["environmentFiles"] == [
        {"value": "arn:aws:s3:::acme-config/worker/base.env", "type": "s3"},
        {"value": "arn:aws:s3:::acme-config/worker/full.env", "type": "s3"},
        {"value": "arn:aws:s3:::acme-shared-config/common.env", "type": "s3"},
    ]


def test_the_execution_role_reads_exactly_those_objects_and_decrypts_them_through_s3_only(full):
    execution = grants(full, "worker", "execution")
    objects = [
        "arn:aws:s3:::acme-config/worker/base.env",
        "arn:aws:s3:::acme-config/worker/full.env",
        "arn:aws:s3:::acme-shared-config/common.env",
    ]
    assert as_list(execution["ReadEnvironmentFiles"]["Action"]) == ["s3:GetObject"]
    assert sorted(as_list(execution["ReadEnvironmentFiles"]["Resource"])) == objects
    assert as_list(execution["LocateEnvironmentFileBuckets"]["Action"]) == ["s3:GetBucketLocation"]
    assert sorted(as_list(execution["LocateEnvironmentFileBuckets"]["Resource"])) == [
        "arn:aws:s3:::acme-config",
        "arn:aws:s3:::acme-shared-config",
    ]
    decrypt = execution["DecryptEnvironmentFiles"]
    assert as_list(decrypt["Action"]) == ["kms:Decrypt"] and as_list(decrypt["Resource"]) == [ENV_KEY]
    condition = decrypt["Condition"]["StringEquals"]
    assert condition["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    assert set(condition["kms:EncryptionContext:aws:s3:arn"]) >= set(objects)
    # The application itself gets none of it.
    task = role_statements(full, role(full, "worker", "task"))
    assert not [s for s in task if any(a.startswith(("s3:", "kms:Decrypt")) for a in as_list(s["Action"]))]


def test_without_a_key_no_decrypt_grant():
    graph = with_config("full", edit_service("worker", environmentFilesKmsKeys=None))
    assert graph.error is None, graph.error
    assert "DecryptEnvironmentFiles" not in grants(graph, "worker", "execution")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["s3://acme-config/app.txt"], "ECS reads environment files with the .env extension only"),
        (["https://acme-config/app.env"], "is not an S3 object such as s3://acme-config/orders/app.env"),
        (["s3://acme-config/.env"], "ECS reads environment files with the .env extension only"),
        (["s3://acme-config/a.env", "s3://acme-config/a.env"], "listed more than once: s3://acme-config/a.env"),
    ],
)
def test_bad_environment_files_are_refused_naming_the_key(files, message):
    error = config_error("full", edit_service("worker", environmentFiles=files))
    assert error.startswith("ecs-platform:services[3].environmentFiles"), error
    assert message in error and "\n" not in error


def test_a_key_without_environment_files_is_refused():
    error = config_error("full", edit_service("worker", environmentFiles=None))
    assert error.startswith("ecs-platform:services[3].environmentFilesKmsKeys: decrypts environment files"), error


# --- EFS volumes ----------------------------------------------------------------------------------------


def test_the_created_file_system_is_encrypted_backed_up_and_reachable_only_from_the_service(full):
    (file_system,) = full.of_type(EFS_FILE_SYSTEM)
    assert file_system.inputs["encrypted"] is True
    assert file_system.inputs["creationToken"] == "ecs-platform-full-worker-reports"
    assert full.one(EFS_BACKUP_POLICY).inputs["backupPolicy"] == {"status": "ENABLED"}
    targets = full.of_type(EFS_MOUNT_TARGET)
    assert sorted(t.inputs["subnetId"] for t in targets) == sorted(full.outputs["privateSubnetIds"])
    (nfs_sg,) = {sg for t in targets for sg in t.inputs["securityGroups"]}
    rules = [r for r in full.of_type(INGRESS_RULE) if r.inputs["securityGroupId"] == nfs_sg]
    assert [(r.inputs["fromPort"], r.inputs["toPort"], r.inputs["referencedSecurityGroupId"]) for r in rules] == [
        (2049, 2049, full.one(SECURITY_GROUP, "worker-sg").id)
    ]
    assert not [r for r in full.of_type(EGRESS_RULE) if r.inputs["securityGroupId"] == nfs_sg]
    point = full.one(EFS_ACCESS_POINT).inputs
    assert point["posixUser"] == {"uid": 1000, "gid": 1000}
    assert point["rootDirectory"] == {
        "path": "/reports",
        "creationInfo": {"ownerUid": 1000, "ownerGid": 1000, "permissions": "750"},
    }
    (deny,) = statements(full.one(EFS_FILE_SYSTEM_POLICY).inputs["policy"])
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert container(full, "worker")["user"] == "1000:1000"


def test_task_volumes_mount_with_tls_and_iam_through_their_access_points(full):
    definition = one_owned(full, "worker", TASK_DEFINITION).inputs
    efs = {v["name"]: v["efsVolumeConfiguration"] for v in definition["volumes"] if "efsVolumeConfiguration" in v}
    assert set(efs) == {"reports", "shared", "media"}
    for config in efs.values():
        assert config["transitEncryption"] == "ENABLED"
        assert config["authorizationConfig"]["iam"] == "ENABLED"
        assert config["rootDirectory"] == "/"
    created = full.one(EFS_FILE_SYSTEM)
    assert efs["reports"]["fileSystemId"] == created.id
    assert efs["reports"]["authorizationConfig"]["accessPointId"] == full.one(EFS_ACCESS_POINT).id
    assert efs["shared"]["fileSystemId"] == "fs-0123456789abcdef0"
    assert efs["shared"]["authorizationConfig"]["accessPointId"] == "fsap-0fedcba9876543210"
    ssm = {args["name"] for token, args in full.invokes if token == "aws:ssm/getParameter:getParameter"}
    assert {"/shared/efs/media/file-system-id", "/shared/efs/media/access-point-id"} <= ssm
    assert efs["media"]["fileSystemId"].startswith("fs-0")
    mounts = {m["sourceVolume"]: (m["containerPath"], m["readOnly"]) for m in container(full, "worker")["mountPoints"]}
    assert mounts["reports"] == ("/var/lib/worker/reports", False)
    assert mounts["shared"] == ("/mnt/shared", True)
    assert mounts["media"] == ("/mnt/media", False)
    # Fargate mounts EFS from platform version 1.4.0; the service runs LATEST or no older one.
    (service,) = owned(full, "worker", ECS_SERVICE)
    assert service.inputs.get("platformVersion", "LATEST") == "LATEST"
    # Tasks start after the mount targets, their NFS rule and the file system policy exist.
    assert {t.urn for t in full.of_type(EFS_MOUNT_TARGET)} | {full.one(EFS_FILE_SYSTEM_POLICY).urn} <= set(
        service.dependencies
    )


def test_the_task_role_mounts_each_file_system_through_its_access_point_only(full):
    task = grants(full, "worker", "task")
    reports, shared, media = task["MountVolumeReports"], task["MountVolumeShared"], task["MountVolumeMedia"]
    assert as_list(reports["Action"]) == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert as_list(reports["Resource"]) == [full.one(EFS_FILE_SYSTEM).outputs["arn"]]
    assert reports["Condition"] == {
        "ArnEquals": {"elasticfilesystem:AccessPointArn": full.one(EFS_ACCESS_POINT).outputs["arn"]}
    }
    assert as_list(shared["Action"]) == ["elasticfilesystem:ClientMount"]  # read-only
    assert as_list(shared["Resource"]) == [SHARED_FS]
    assert shared["Condition"] == {"ArnEquals": {"elasticfilesystem:AccessPointArn": SHARED_AP}}
    assert as_list(media["Resource"])[0].startswith("arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0")
    every = [a for s in task.values() for a in as_list(s["Action"])]
    assert "elasticfilesystem:ClientRootAccess" not in every


def test_the_full_environment_with_every_storage_feature_previews_clean_under_the_pack(full):
    assert check(full).findings == []


def test_a_customer_managed_key_encrypts_a_created_file_system():
    volumes = [{"name": "data", "containerPath": "/data", "efs": {"customerManagedKey": True}}]
    graph = with_config("full", edit_service("worker", volumes=volumes))
    assert graph.error is None, graph.error
    (file_system,) = graph.of_type(EFS_FILE_SYSTEM)
    keys = [k for k in graph.of_type("aws:kms/key:Key") if k.parent == graph.one("ecs-platform:efs:FileSystem").urn]
    assert len(keys) == 1 and file_system.inputs["kmsKeyId"] == keys[0].outputs["arn"]
    assert graph.one(EFS_BACKUP_POLICY).inputs["backupPolicy"] == {"status": "DISABLED"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"user": None},
            "ecs-platform:services[3].user: volumes[0] creates a file system, whose access point belongs to the "
            "container's user",
        ),
        ({"user": "app"}, "ecs-platform:services[3].user: must be a numeric user and group such as 1000:1000"),
        (
            {"volumes": [{"name": "A", "containerPath": "/a", "efs": {}}]},
            "ecs-platform:services[3].volumes[0].name: string should match pattern",
        ),
        (
            {"volumes": [{"name": "aa", "containerPath": "/a", "efs": {"fileSystemId": "fs-0123456789abcdef0"}}]},
            "ecs-platform:services[3].volumes[0].efs.accessPointId: an existing file system is mounted through an "
            "access point: set accessPointId with fileSystemId",
        ),
        (
            {
                "volumes": [
                    {
                        "name": "aa",
                        "containerPath": "/a",
                        "efs": {
                            "fileSystemId": "fs-0123456789abcdef0",
                            "accessPointId": "fsap-0fedcba9876543210",
                            "backups": True,
                        },
                    }
                ]
            },
            "ecs-platform:services[3].volumes[0].efs.backups: applies to a file system the service creates",
        ),
        (
            {
                "volumes": [
                    {"name": "aa", "containerPath": "/a", "efs": {}},
                    {"name": "aa", "containerPath": "/b", "efs": {}},
                ]
            },
            "ecs-platform:services[3].volumes[1].name: aa is already a volume of the service",
        ),
        (
            {"writablePaths": ["/a"], "volumes": [{"name": "aa", "containerPath": "/a", "efs": {}}]},
            "ecs-platform:services[3].volumes[0].containerPath: already a writable path",
        ),
        (
            {"volumes": [{"name": "aa", "containerPath": "/a/../b", "efs": {}}]},
            "ecs-platform:services[3].volumes[0].containerPath: '/a/../b' is not an absolute path in the container",
        ),
        (
            {"volumes": [{"name": "aa", "containerPath": "/a", "efs": {"fileSystemIdParameter": "/shared/fs-id"}}]},
            "ecs-platform:services[3].volumes[0].efs.fileSystemIdParameter: string should match pattern",
        ),
    ],
)
def test_bad_volumes_are_refused_with_one_line_naming_the_key(changes, expected):
    error = config_error("full", edit_service("worker", **changes))
    assert error.startswith(expected), error
    assert "\n" not in error


def test_the_stack_outputs_name_the_file_systems_and_the_service_group(full):
    worker = full.outputs["services"]["worker"]
    assert worker["fileSystemIds"]["shared"] == "fs-0123456789abcdef0"
    assert worker["fileSystemIds"]["reports"] == full.one(EFS_FILE_SYSTEM).id
    assert worker["securityGroupId"] == full.one(SECURITY_GROUP, "worker-sg").id
    assert json.dumps(full.outputs["availabilityZones"])


def test_the_estimate_and_the_diagram_show_the_created_file_system(full):
    from offline import cost, diagram

    estimate = cost.estimate(full)
    (line,) = [line for line in estimate.lines if line.type == EFS_FILE_SYSTEM]
    assert line.name == "worker-reports" and line.item == "EFS Standard storage, 5 GB (assumed)"
    assert line.monthly == 1.65
    assert any("Elastic throughput" in note for note in estimate.left_out)
    assert any("efsGbPerFileSystem" in note for note in estimate.assumptions)
    chart = diagram.mermaid(full)
    assert "EFS file system worker-reports" in chart and "encrypted, 3 mount targets" in chart
    assert any("efs_worker_reports" in row and "2049" in row and "service_worker" in row for row in chart.splitlines())

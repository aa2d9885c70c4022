"""EFS file systems a service mounts: one created for it (`FileSystem`), or an existing one (`existing_mount`).

A created file system is the service's own: encrypted at rest, reachable over NFS from the
service's security group only, mounted through one access point that pins the POSIX user and
the root directory to the container's user, with a file system policy that refuses clients
without TLS and leaves no anonymous access. The task role's grants to mount it are the
service's (`components/service/task.py`), conditioned on the access point.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import EfsConfig
from components.contracts import FileSystemMount, NetworkRefs
from components.iam import deny, document
from components.kms import STORAGE_KEY, encryption_key
from components.naming import Naming

NFS_PORT = 2049


@dataclass(frozen=True)
class FileSystemArgs:
    config: EfsConfig
    naming: Naming
    account: Account
    network: NetworkRefs  # mount targets go in its private subnets, one per AZ
    service: str  # the service's short name
    volume: str  # the volume's name in the service
    client_security_group_id: pulumi.Input[str]  # the one group NFS is open to: the service's tasks
    posix_user: tuple[int, int]  # (uid, gid) the container runs as


class FileSystem(pulumi.ComponentResource):
    """An encrypted EFS file system for one service volume: mount targets, NFS rule, access point, policy."""

    mount: FileSystemMount  # what the service's task definition and task role name

    def __init__(self, name: str, args: FileSystemArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:efs:FileSystem", name, None, opts)
        cfg, naming = args.config, args.naming
        label = f"{args.service}-{args.volume}"
        zones = args.network.availability_zones
        if not isinstance(zones, list | tuple) or not zones:
            # A network read from another stack must be given its zones as plain values
            # (`NetworkRefs.from_stack_reference(..., availability_zones=...)`): they decide how
            # many mount targets exist.
            raise ValueError("a created EFS file system needs the network's availability zones as a plain list")

        key = None
        if cfg.customer_managed_key:
            # EFS creates the file system with the caller's permissions and grants itself the key
            # ("Using AWS KMS keys for Amazon EFS": kms:CreateGrant, kms:DescribeKey, kms:Decrypt,
            # kms:GenerateDataKeyWithoutPlaintext); the default key policy lets the account's IAM
            # policies give them (ci/deploy-role-policies/storage.json, through EFS only).
            key = encryption_key(
                name,
                alias=naming.name(f"{label}-efs", "kms_alias"),
                description=f"EFS file system of volume {args.volume} of service {args.service}",
                parent=self,
                **STORAGE_KEY,
            )
        file_system = aws.efs.FileSystem(
            name,
            # Fixed: CreateFileSystem refuses a token that names a file system already, so a change
            # that would replace it (key, performance mode) fails instead of creating an empty file
            # system before the old one is deleted (EFS API Reference, CreateFileSystem).
            creation_token=naming.name(label, "efs_creation_token"),
            encrypted=True,
            kms_key_id=key.arn if key else None,  # None: the AWS-managed aws/elasticfilesystem
            performance_mode="generalPurpose",
            # Bursting throughput earns credits in proportion to the data stored: a small file
            # system drops to a few KiB/s once its initial credits are spent. Elastic throughput
            # follows the load and bills what is transferred (EFS User Guide, "Throughput modes").
            throughput_mode="elastic",
            tags={"Name": naming.name(label)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.efs.BackupPolicy(
            name,
            file_system_id=file_system.id,
            # Stated either way: a file system created through the API has no automatic backups
            # unless asked (EFS API Reference, CreateFileSystem, Backup).
            backup_policy={"status": "ENABLED" if cfg.backups else "DISABLED"},
            opts=pulumi.ResourceOptions(parent=file_system),
        )

        security_group = aws.ec2.SecurityGroup(
            f"{name}-nfs",
            name_prefix=naming.prefix(f"efs-{label}", "security_group"),
            description=f"EFS of {args.service}/{args.volume}: NFS from the service's tasks only, nothing out",
            vpc_id=args.network.vpc_id,
            tags={"Name": naming.name(f"efs-{label}")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        nfs = aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-{args.service}",
            security_group_id=security_group.id,
            referenced_security_group_id=args.client_security_group_id,
            description=f"NFS from service {args.service}",
            ip_protocol="tcp",
            from_port=NFS_PORT,
            to_port=NFS_PORT,
            opts=pulumi.ResourceOptions(parent=security_group),
        )
        subnets = pulumi.Output.from_input(args.network.private_subnet_ids)
        # One mount target per AZ, in the private subnet the tasks of that AZ run in ("Creating
        # and managing mount targets", EFS User Guide); named by AZ, so a third AZ adds one.
        mount_targets = [
            aws.efs.MountTarget(
                f"{name}-{zone}",
                file_system_id=file_system.id,
                subnet_id=subnets.apply(lambda ids, i=i: ids[i]),
                security_groups=[security_group.id],
                opts=pulumi.ResourceOptions(parent=file_system),
            )
            for i, zone in enumerate(zones)
        ]

        uid, gid = args.posix_user
        access_point = aws.efs.AccessPoint(
            name,
            file_system_id=file_system.id,
            # Every request through it acts as the container's user, whatever the client claims,
            # and sees /<volume> as its root, created owned by that user on first mount ("Working
            # with Amazon EFS access points", EFS User Guide).
            posix_user={"uid": uid, "gid": gid},
            root_directory={
                "path": f"/{args.volume}",
                "creation_info": {"owner_uid": uid, "owner_gid": gid, "permissions": "750"},
            },
            tags={"Name": naming.name(label)},
            opts=pulumi.ResourceOptions(parent=file_system),
        )
        # Any file system policy replaces the default one, which grants full access to every
        # anonymous client that reaches a mount target ("Using IAM to control file system data
        # access", EFS User Guide): with this one, only identities whose IAM policies allow it
        # mount (the task role, through the access point) and never without TLS. It names no
        # role: a role replaced while named would stay locked out.
        policy = aws.efs.FileSystemPolicy(
            name,
            file_system_id=file_system.id,
            policy=file_system.arn.apply(
                lambda arn: document(
                    [
                        deny(
                            "RefuseClientsWithoutTls",
                            "*",
                            arn,
                            principal={"AWS": "*"},
                            condition={"Bool": {"aws:SecureTransport": "false"}},
                        )
                    ]
                )
            ),
            opts=pulumi.ResourceOptions(parent=file_system),
        )

        self.mount = FileSystemMount(
            file_system_id=file_system.id,
            file_system_arn=file_system.arn,
            access_point_id=access_point.id,
            access_point_arn=access_point.arn,
            ready=[*mount_targets, nfs, policy],
        )
        self.register_outputs({"fileSystemId": file_system.id, "accessPointId": access_point.id})


def existing_mount(parent: pulumi.Resource, config: EfsConfig, account: Account) -> FileSystemMount:
    """A file system and access point made elsewhere: by id, or read from their SSM parameters when the program runs."""
    if not config.by_parameter:
        assert config.file_system_id and config.access_point_id
        return FileSystemMount.existing(account, config.file_system_id, config.access_point_id)

    def read(parameter: str | None) -> pulumi.Output[str]:
        assert parameter is not None
        return aws.ssm.get_parameter_output(
            name=parameter, with_decryption=False, opts=pulumi.InvokeOutputOptions(parent=parent)
        ).insecure_value

    return FileSystemMount.existing(
        account, read(config.file_system_id_parameter), read(config.access_point_id_parameter)
    )

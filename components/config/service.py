"""`ecs-platform:services`: one Fargate service per entry."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from components.config.access import DatabaseAccess, GrantConfig, database_access_schema
from components.config.base import Model, Problem, RetentionDays, fail, field_error, given
from components.config.container import (
    ALWAYS_WRITABLE,
    FARGATE_MEMORY,
    SECRETS_MANAGER_ARN,
    SSM_PARAMETER,
    ContainerHealthCheckConfig,
    ContainerPaths,
    EnvironmentVariables,
    KmsKeyArns,
    RepositoryConfig,
    SecretVariables,
    fargate_memory_problem,
    fargate_memory_values,
)
from components.config.pipeline import PipelineConfig
from components.config.routing import RoutingConfig, TargetHealthCheckConfig
from components.config.scaling import AutoscalingConfig
from components.config.volumes import S3_OBJECT, EnvironmentFiles, PosixUser, VolumeConfig


class ServiceConfig(Model):
    """One Fargate service: image, size, container, routing, scaling and permissions.

    Each entry is one Fargate service. Nothing else is needed to add one: see
    [Add a service](../README.md#add-a-service).

    Every service gets: a log group, an execution role (pull from its own repository, write its
    own log group, read its declared secrets; trusted by `ecs-tasks.amazonaws.com` as the ECS guide's
    "Amazon ECS task execution IAM role" shows it, without source conditions the guide does not
    document for that role) and a separate task role (trusted only for ECS tasks of this account and
    region, `aws:SourceAccount` and `aws:SourceArn`, as "Amazon ECS task IAM role" documents), a
    security group (egress open, ingress only from the ALB and `allowFrom` services on `port`), a
    Cloud Map `A` record, an ECS service in the private subnets without public IP, with the capacity
    strategy of its architecture and a deployment circuit breaker that rolls back, and alarms (CPU
    and memory high; for public services also target 5xx and unhealthy tasks) to the environment's
    alarm topic. The ECS service depends on the cluster's capacity provider association, so it is
    created after the providers are associated and deleted before they are removed, and it has
    `forceNewDeployment` on: the provider changes a service's capacity provider strategy in place
    only with it (a change of `capacityProviders` or `architecture` rolls the tasks).

    Size: `memory` defaults to the smallest Fargate memory for `cpu` (512 MiB for 256 CPU
    units, 1024 for 512, ...), the way awsx sizes Fargate tasks; an explicit pair must be one
    Fargate offers.

    Filesystem: the container's root filesystem is read-only unless `ecsExec` is on (the ECS
    Exec agent writes into the container). `/tmp` and each of `writablePaths` are writable
    task volumes without a host, i.e. on the task's ephemeral storage, emptied with the task.
    """

    examples = (
        (
            "A complete entry (`Pulumi.prod.yaml` has two more)",
            """\
  ecs-platform:services:
    - name: orders
      public: true
      repository:
        tag: "2024.06.1"
        keepImages: 50
      cpu: 1024
      memory: 2048
      architecture: arm64
      port: 8080
      command: ["node", "server.js"]
      containerHealthCheck:
        command: ["CMD-SHELL", "wget -q -O /dev/null http://localhost:8080/healthz || exit 1"]
        startPeriod: 20
      environment:
        NODE_ENV: production
      secrets:
        DB_PASSWORD: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders/db-AbCdEf:password::"
        STRIPE_KEY: /prod/orders/stripe-key
      routing:
        hosts: [shop.example.com]
        paths: ["/orders/*"]
      healthCheck:
        path: /healthz
        matcher: "200"
      autoscaling:
        minTasks: 2
        maxTasks: 10
        cpuTarget: 60
        requestsPerTarget: 800
      allowFrom: [web]
      logRetentionDays: 90
      permissions:
        - actions: [sqs:SendMessage]
          resources: ["arn:aws:sqs:eu-west-1:123456789012:orders"]
""",
        ),
    )

    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$",
        description=(
            "Lower-case DNS label, 2-24 characters, unique in the stack. Names the log group, roles, the Cloud Map "
            "record (`<name>.<namespace>`)."
        ),
    )
    public: bool = Field(
        False,
        description=(
            "`true`: behind the shared ALB (target group + listener rule). `false`: internal, reached only through "
            "Cloud Map."
        ),
    )
    image: str | None = Field(
        None,
        pattern=r"^[a-z0-9][^\s]{0,254}$",
        description=(
            "An external image, e.g. `public.ecr.aws/nginx/nginx:1.27-alpine` (public registries; no credentials). "
            "Set exactly one of `image` and `repository`."
        ),
    )
    repository: RepositoryConfig | None = Field(
        None,
        description="Or an ECR repository made for the service (`{project}-{env}-{name}`); the task runs its `tag`.",
    )
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(256, description="Task CPU units.")
    memory: int | None = Field(
        None,
        description=(
            "Task memory (MiB), a valid Fargate value for `cpu`: "
            + "; ".join(f"{cpu} → {fargate_memory_values(cpu)}" for cpu in FARGATE_MEMORY)
            + ". Left out, the first value of the row (512 for 256, 1024 for 512, ...), the way awsx sizes Fargate "
            "tasks. A pair Fargate does not offer is a config error naming `memory` and the valid values."
        ),
        json_schema_extra={"defaultText": "the smallest for `cpu`"},
    )
    architecture: Literal["x86_64", "arm64"] = Field(
        "x86_64", description="CPU architecture (`arm64`: Graviton); the image must be built for it."
    )
    port: int = Field(
        8080,
        ge=1,
        le=65535,
        description=(
            "Container port: the one the ALB routes to and health-checks, and the one `allowFrom` services reach."
        ),
    )
    admin_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description=(
            "A second container port for an admin interface, never reachable from the internet: the load balancer "
            "neither routes to it nor health-checks it, and the service's security group opens it only to the "
            "services in `allowFrom` and to the bastion (when enabled), whose output `services.<name>."
            "adminTunnelCommand` is the ready `aws ssm start-session` port forward to "
            "`<name>.<namespace>:<adminPort>`. Not the same as `port`."
        ),
        json_schema_extra={"defaultText": "none"},
    )
    command: list[str] | None = Field(
        None, description="Command override, a list of strings.", json_schema_extra={"defaultText": "image default"}
    )
    container_health_check: ContainerHealthCheckConfig | None = Field(
        None, description="A health check command run inside the container."
    )
    readonly_root_filesystem: bool | None = Field(
        None,
        description=(
            "Read-only root filesystem for the container. `/tmp` is always writable then, and so is every path in "
            "`writablePaths`; an image that writes elsewhere needs those paths listed, or `false`. `true` together "
            'with `ecsExec` is refused: the ECS Exec agent writes into the container (ECS developer guide, "Monitor '
            'Amazon ECS containers with ECS Exec").'
        ),
        json_schema_extra={"defaultText": "`true`, `false` with `ecsExec`"},
    )
    writable_root_reason: str | None = Field(
        None,
        min_length=10,
        max_length=256,
        # A tag value's characters ("Tag naming limits and requirements", Tagging AWS Resources).
        pattern=r"^[\w .:/=+\-@]+$",
        description=(
            "Why the root filesystem is writable (`readonlyRootFilesystem: false`, or `ecsExec`): the task definition "
            "carries it as its `WritableRootFilesystem` tag, which the pack's advisory `ecs-readonly-root-filesystem` "
            "accepts as the opt-out. Letters, digits, spaces and `_ . : / = + - @`; refused with a read-only root "
            "filesystem."
        ),
    )
    writable_paths: ContainerPaths = Field(
        [],
        max_length=20,
        description=(
            "Absolute container paths (not `/`, no duplicates) mounted writable, e.g. `[/var/cache/nginx, /var/run]` "
            "for nginx. Each is a task volume without a host: on Fargate, a bind mount on the task's ephemeral "
            "storage (20 GiB shared), empty at start and gone with the task. It belongs to `root` with mode 0755 "
            "unless the image declares the path as a `VOLUME` (then its content and ownership are copied, ECS "
            'developer guide "Use bind mounts with Amazon ECS"): an image running as another user declares those '
            "paths, `/tmp` included, as `VOLUME` in its Dockerfile."
        ),
    )
    environment: EnvironmentVariables = Field(
        {},
        description=(
            "Plain variables. Names that look like secrets (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, ...) "
            "are refused: they belong under `secrets`."
        ),
    )
    secrets: SecretVariables = Field(
        {},
        description=(
            "Variables filled by ECS at start from a reference, never a value: a Secrets Manager secret's full ARN "
            "(`arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf`), optionally followed by "
            "`:<jsonKey>:<versionStage>:<versionId>` (any part empty, e.g. `:password::`), an SSM parameter ARN, or "
            'an SSM parameter name starting with `/` (`/prod/api/flags`). Anything else is refused as "a reference, '
            'not a value", and the error does not repeat it. A name may not also be in `environment`. The execution '
            "role may read exactly these."
        ),
    )
    secrets_kms_keys: KmsKeyArns = Field(
        [],
        description=(
            "ARNs of the customer-managed KMS keys those secrets are encrypted with, single-Region "
            "(`arn:aws:kms:<region>:<account>:key/<uuid>`) or multi-Region (`.../key/mrk-<32 hex>`); a bare key id "
            "or alias is refused. The execution role may decrypt through Secrets Manager / SSM only. Not needed for "
            "the AWS-managed keys."
        ),
    )
    environment_files: EnvironmentFiles = Field(
        [],
        max_length=10,
        description=(
            "Up to 10 S3 objects (`s3://<bucket>/<key>.env`, the `.env` extension ECS requires) of `NAME=value` "
            "lines that ECS loads into the container's environment at start, in order; `environment` wins over them "
            '(ECS API Reference, "EnvironmentFile"). Not for secrets: they belong under `secrets`. The execution role '
            "may `s3:GetObject` exactly these objects and `s3:GetBucketLocation` on their buckets. The S3 gateway "
            "endpoint of the network carries the download."
        ),
    )
    environment_files_kms_keys: KmsKeyArns = Field(
        [],
        description=(
            "ARNs of the customer-managed KMS keys those files are encrypted with (SSE-KMS): the execution role may "
            "`kms:Decrypt` with them through S3 only, and only for those objects (their `aws:s3:arn` encryption "
            "context, or their buckets' with S3 Bucket Keys). Not needed for SSE-S3 or the AWS-managed `aws/s3` key."
        ),
    )
    user: PosixUser | None = Field(
        None,
        description=(
            "The numeric user and group the container runs as (`uid:gid`, e.g. `1000:1000`). Required with a volume "
            "whose file system the service creates: its access point's POSIX user and root directory owner."
        ),
        json_schema_extra={"defaultText": "the image's user"},
    )
    volumes: list[VolumeConfig] = Field(
        [],
        description=(
            "Persistent EFS volumes mounted into the container, each `{name, containerPath, readOnly, efs}` (the "
            "`volumes[]` rows below)."
        ),
    )
    desired_count: int = Field(
        1,
        ge=0,
        le=1000,
        description=(
            "Running tasks without autoscaling. One task deploys 100/200 % (start new, then stop old); more deploy "
            "50/200 %."
        ),
    )
    autoscaling: AutoscalingConfig | None = Field(
        None,
        description=(
            "Task count range and target-tracking policies, at least one. With autoscaling, `pulumi up` leaves the "
            "running count alone."
        ),
    )
    routing: RoutingConfig | None = Field(
        None,
        description="Public services only: which requests the ALB sends to the service.",
        json_schema_extra={"defaultText": "`/*` on any host"},
    )
    health_check: TargetHealthCheckConfig = Field(
        TargetHealthCheckConfig(), description="ALB health check of public services."
    )
    health_check_grace_period: int = Field(
        60, ge=0, le=7200, description="Seconds ECS ignores ALB health checks after a task starts (public services)."
    )
    allow_from: list[str] = Field(
        [], description="Names of other services of the stack whose tasks may reach this service's `port`."
    )
    database: DatabaseAccess = Field(
        None,
        json_schema_extra=database_access_schema,
        description=(
            "The service uses the stack's PostgreSQL database; the database security group admits it on the "
            "database port. Requires an `ecs-platform:database` section. Two ways in, see "
            "[How services get database credentials](database.md#how-services-get-database-credentials): "
            "`{iamAuth: true}` (recommended) logs in as a database user of its own with an IAM token: the container "
            "gets `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER` and nothing secret, the task role gets `rds-db:connect` "
            "as that one user. `true` uses the master user's password: `DB_HOST`, `DB_PORT`, `DB_NAME` as "
            "environment and `DB_USERNAME` / `DB_PASSWORD` as ECS secrets read from the RDS-managed secret; its "
            "execution role may read that one secret and decrypt it with the database key; the service is redeployed "
            "whenever RDS rotates the password. `false` (or left out): no database."
        ),
    )
    log_retention_days: RetentionDays = Field(
        30, description="Retention of the service's log group `/{project}/{env}/services/{name}`."
    )
    ecs_exec: bool = Field(
        False,
        description=(
            "ECS Exec (`aws ecs execute-command`): adds the four `ssmmessages` channel actions to the task role, and "
            "makes the root filesystem writable by default."
        ),
    )
    permissions: list[GrantConfig] = Field(
        [], description="Task-role statements, explicit actions on explicit resources. The task role has nothing else."
    )
    pipeline: PipelineConfig | None = Field(
        None, description="A CodePipeline that builds the image and deploys it; needs `repository`."
    )

    @model_validator(mode="after")
    def _keys_fit_together(self) -> ServiceConfig:
        problems: list[Problem] = []
        if clash := next((name for name in self.secrets if name in self.environment), None):
            problems.append((("secrets",), f"the name {clash} is also a plain environment variable", self.secrets))
        if self.routing is not None and not self.public:
            problems.append(
                (
                    ("routing",),
                    "only a public service is routed by the load balancer; set public: true",
                    given(self, "routing"),
                )
            )
        if self.autoscaling and self.autoscaling.requests_per_target and not self.public:
            problems.append(
                (
                    ("autoscaling",),
                    "requestsPerTarget needs a public service (it counts load balancer requests)",
                    given(self, "autoscaling"),
                )
            )
        if self.admin_port is not None and self.admin_port == self.port:
            problems.append(
                (("admin_port",), f"must differ from port ({self.port}): it is the second port", self.admin_port)
            )
        if self.environment_files_kms_keys and not self.environment_files:
            problems.append(
                (
                    ("environment_files_kms_keys",),
                    "decrypts environment files; set environmentFiles",
                    self.environment_files_kms_keys,
                )
            )
        if self.pipeline is not None and self.pipeline.enabled and self.repository is None:
            problems.append(
                (
                    ("pipeline",),
                    "a pipeline pushes to the service's ECR repository; set repository (with the first tag)",
                    given(self, "pipeline"),
                )
            )
        fail(problems)
        return self

    @model_validator(mode="after")
    def _fargate_size(self) -> ServiceConfig:
        if self.memory is None:
            object.__setattr__(self, "memory", FARGATE_MEMORY[self.cpu][0])
        elif problem := fargate_memory_problem(self.cpu, self.memory):
            raise field_error("memory", problem, self.memory)
        return self

    @model_validator(mode="after")
    def _root_filesystem(self) -> ServiceConfig:
        # ECS Exec's SSM agent writes into the container, so it does not work on a read-only
        # root filesystem (ECS developer guide, "Monitor Amazon ECS containers with ECS Exec").
        if self.readonly_root_filesystem is None:
            object.__setattr__(self, "readonly_root_filesystem", not self.ecs_exec)
        elif self.readonly_root_filesystem and self.ecs_exec:
            raise field_error(
                "readonly_root_filesystem",
                "with ecsExec the root filesystem must be writable (the ECS Exec agent writes into the container); "
                "set readonlyRootFilesystem: false or turn ecsExec off",
                True,
            )
        if self.readonly_root_filesystem and self.writable_root_reason is not None:
            raise field_error(
                "writable_root_reason",
                "the root filesystem is read-only, so there is no opt-out to explain; remove writableRootReason",
                self.writable_root_reason,
            )
        return self

    @model_validator(mode="after")
    def _volumes(self) -> ServiceConfig:
        """Volumes: unique names and paths, apart from the writable paths; a created file system needs a user.

        After `_root_filesystem`: whether /tmp is a writable path depends on the root filesystem.
        """
        problems: list[Problem] = []
        names: set[str] = set()
        paths: set[str] = set()
        writable = self.writable_volumes
        for i, volume in enumerate(self.volumes):
            if volume.name in names:
                problems.append(
                    (("volumes", i, "name"), f"{volume.name} is already a volume of the service", volume.name)
                )
            elif volume.name in writable:
                problems.append(
                    (
                        ("volumes", i, "name"),
                        f"{volume.name} is the volume of the writable path {writable[volume.name]}; "
                        "choose another name",
                        volume.name,
                    )
                )
            names.add(volume.name)
            if volume.container_path in paths:
                problems.append(
                    (("volumes", i, "containerPath"), "another volume is mounted there", volume.container_path)
                )
            elif volume.container_path in writable.values():
                problems.append(
                    (
                        ("volumes", i, "containerPath"),
                        "already a writable path (writablePaths, or /tmp under a read-only root filesystem)",
                        volume.container_path,
                    )
                )
            paths.add(volume.container_path)
        created = next((i for i, v in enumerate(self.volumes) if v.efs.creates), None)
        if created is not None and self.user is None:
            problems.append(
                (
                    ("user",),
                    f"volumes[{created}] creates a file system, whose access point belongs to the container's user: "
                    'set user, e.g. "1000:1000"',
                    None,
                )
            )
        fail(problems)
        return self

    @property
    def database_user(self) -> str | None:
        """The PostgreSQL user of an IAM-authenticated service: configured, else its name with _ for -."""
        if self.database is None or not self.database.iam_auth:
            return None
        return self.database.user or self.name.replace("-", "_")

    @property
    def pipeline_enabled(self) -> bool:
        return self.pipeline is not None and self.pipeline.enabled

    @property
    def rule(self) -> RoutingConfig:
        """The routing of a public service: everything (`/*` on any host) unless configured."""
        return self.routing or RoutingConfig()

    @property
    def initial_count(self) -> int:
        return self.autoscaling.min_tasks if self.autoscaling else self.desired_count

    @property
    def writable_mounts(self) -> list[str]:
        """Container paths mounted as writable task volumes: /tmp under a read-only root, then `writablePaths`."""
        always = list(ALWAYS_WRITABLE) if self.readonly_root_filesystem else []
        return list(dict.fromkeys([*always, *self.writable_paths]))

    @property
    def writable_volumes(self) -> dict[str, str]:
        """Task volume name -> container path of each writable mount, the names derived from the paths."""
        volumes: dict[str, str] = {}
        for path in self.writable_mounts:
            base = volume = re.sub(r"[^A-Za-z0-9]+", "-", path.strip("/"))
            while volume in volumes:  # /var/run and /var-run
                volume = f"{base}-{len(volumes)}"
            volumes[volume] = path
        return volumes

    @property
    def environment_file_objects(self) -> list[tuple[str, str]]:
        """(bucket, key) of each environment file, in order."""
        found = []
        for uri in self.environment_files:
            match = S3_OBJECT.fullmatch(uri)
            assert match is not None
            found.append((match["bucket"], match["key"]))
        return found

    @property
    def reads_database_secret(self) -> bool:
        """The database's credentials reach the container from the RDS-managed Secrets Manager secret.

        With IAM authentication the task signs a token with its role instead: no secret is read.
        """
        return self.database is not None and not self.database.iam_auth

    @property
    def endpoints_at_start(self) -> list[str]:
        """The AWS services Fargate reaches for this service before the application runs.

        The awslogs driver writes to CloudWatch Logs; a private ECR image is pulled through
        ECR's API and registry endpoints (layers come through the S3 gateway endpoint every
        network has); declared secrets are read from Secrets Manager or SSM Parameter Store
        (ECS developer guide, "Amazon ECS interface VPC endpoints (AWS PrivateLink)"). KMS is
        not among them: Secrets Manager and SSM decrypt on the task's behalf, which is why the
        execution role's kms:Decrypt is limited by kms:ViaService.
        """
        needs = ["logs"]
        if self.repository is not None:
            needs += ["ecr.api", "ecr.dkr"]
        references = list(self.secrets.values())
        if self.reads_database_secret or any(SECRETS_MANAGER_ARN.fullmatch(r) for r in references):
            needs.append("secretsmanager")
        if any(SSM_PARAMETER.fullmatch(r) and not SECRETS_MANAGER_ARN.fullmatch(r) for r in references):
            needs.append("ssm")
        return needs

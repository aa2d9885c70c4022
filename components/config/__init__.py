"""The stack config: one pydantic model per section, one StackConfig on top, and `load()`.

Keys are camelCase in `Pulumi.<stack>.yaml` (Pulumi's convention) and snake_case here.
`load()` validates everything before the program registers a single resource and turns
every problem into one line that names the key path, for example

    ecs-platform:network.azCount: input should be less than or equal to 3 (got 5)

Where to change what: a key of a section in that section's module (`network`, `database`,
`bastion`, `cluster`, `service` with `container`, `routing`, `scaling`, `access` and
`pipeline`, `monitoring`); a rule across sections in `stack`; reading and error lines in
`loading`. Every key carries its description; `python3 tasks.py docs` turns the models into
docs/config-reference.md and schema/stack-config.schema.json (`reference`).
"""

from components.config.access import DatabaseAccessConfig, GrantConfig, db_user_problem
from components.config.base import RetentionDays
from components.config.bastion import SSM_ENDPOINTS, BastionConfig
from components.config.cluster import (
    AccessLogsConfig,
    CapacityProviderItem,
    CertificateConfig,
    ClusterConfig,
    HostedZoneConfig,
    LoadBalancerConfig,
    WafConfig,
    in_zone,
)
from components.config.container import (
    ALWAYS_WRITABLE,
    FARGATE_MEMORY,
    ContainerHealthCheckConfig,
    RepositoryConfig,
    SecretReference,
    fargate_memory_problem,
)
from components.config.database import DB_INSTANCE_FAMILIES, GP3_MAX_GIB, GP3_MIN_GIB, DatabaseConfig, PostgresMajor
from components.config.listeners import listener_priorities, listener_priority
from components.config.loading import describe, load
from components.config.monitoring import MonitoringConfig
from components.config.network import (
    MAX_AZS,
    FlowLogsConfig,
    InterfaceEndpoint,
    NetworkConfig,
    SubnetMasks,
    plan_subnets,
)
from components.config.pipeline import (
    BuildComputeType,
    GitHubSourceConfig,
    PipelineConfig,
    PipelineSourceConfig,
    S3SourceConfig,
)
from components.config.routing import RoutingConfig, TargetHealthCheckConfig
from components.config.scaling import AutoscalingConfig
from components.config.service import ServiceConfig
from components.config.stack import (
    StackConfig,
    bastion_problems,
    database_client_problems,
    endpoint_problems,
    service_problems,
)
from components.config.volumes import EfsConfig, VolumeConfig, posix_ids

__all__ = [
    "ALWAYS_WRITABLE",
    "DB_INSTANCE_FAMILIES",
    "FARGATE_MEMORY",
    "GP3_MAX_GIB",
    "GP3_MIN_GIB",
    "MAX_AZS",
    "SSM_ENDPOINTS",
    "AccessLogsConfig",
    "AutoscalingConfig",
    "BastionConfig",
    "BuildComputeType",
    "CapacityProviderItem",
    "CertificateConfig",
    "ClusterConfig",
    "ContainerHealthCheckConfig",
    "DatabaseAccessConfig",
    "DatabaseConfig",
    "EfsConfig",
    "FlowLogsConfig",
    "GitHubSourceConfig",
    "GrantConfig",
    "HostedZoneConfig",
    "InterfaceEndpoint",
    "LoadBalancerConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "PipelineConfig",
    "PipelineSourceConfig",
    "PostgresMajor",
    "RepositoryConfig",
    "RetentionDays",
    "RoutingConfig",
    "S3SourceConfig",
    "SecretReference",
    "ServiceConfig",
    "StackConfig",
    "SubnetMasks",
    "TargetHealthCheckConfig",
    "VolumeConfig",
    "WafConfig",
    "bastion_problems",
    "database_client_problems",
    "db_user_problem",
    "describe",
    "endpoint_problems",
    "fargate_memory_problem",
    "in_zone",
    "listener_priorities",
    "listener_priority",
    "load",
    "plan_subnets",
    "posix_ids",
    "service_problems",
]

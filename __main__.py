"""One ecs-platform environment: everything a stack's config asks for, in build order."""

import dataclasses

import pulumi

from components.account import Account
from components.bastion import Bastion, BastionArgs
from components.boundary import bound_every_role
from components.cluster import Cluster, ClusterArgs
from components.config import SSM_ENDPOINTS, listener_priorities, load
from components.database import Database, DatabaseArgs
from components.monitoring import AlarmTopic, AlarmTopicArgs, Dashboard, DashboardArgs, LogsKey, LogsKeyArgs
from components.naming import Naming
from components.network import Network, NetworkArgs
from components.pipeline import Pipeline, PipelineArgs, github_connection
from components.rotation import RotationRedeploy, RotationRedeployArgs
from components.service import Service, ServiceArgs

cfg = load()
naming = Naming.current()
aws_provider = naming.provider(cfg.region)
account = Account.lookup(cfg.region, aws_provider)  # once: every ARN and trust condition names it
bound_every_role(cfg.iam, naming.project, account)  # every role any component registers (components/boundary.py)
in_env = pulumi.ResourceOptions(provider=aws_provider)
if cfg.monitoring.logs_kms_key:
    LogsKey("logs", LogsKeyArgs(naming, account), opts=in_env)  # first: every log group from here on uses it

# Network, then data: the database in the isolated subnets, the bastion that reaches it.
network = Network("network", NetworkArgs(cfg.network, naming, account), opts=in_env)

database = None
if cfg.database is not None:
    iam_auth = any(s.database_user for s in cfg.services)
    database = Database("database", DatabaseArgs(cfg.database, naming, account, network.refs, iam_auth), opts=in_env)
# How each service that declares `database` reaches it: IAM auth as its own user, or the master password.
db_clients = {s.name: database.client(s.database, s.database_user) for s in cfg.services if s.database}

bastion = None
if cfg.bastion.enabled:
    ssm_endpoints = set(SSM_ENDPOINTS) <= set(cfg.network.interface_endpoints)
    db_refs = database.refs if database else None
    bastion = Bastion(
        "bastion", BastionArgs(cfg.bastion, naming, account, network.refs, ssm_endpoints, db_refs), opts=in_env
    )

# Compute: the cluster and its load balancer, the alarm topic, every service, one dashboard.
# Services see the network's zones as plain values: a file system they create has a mount target in each.
service_network = dataclasses.replace(network.refs, availability_zones=tuple(network.availability_zones))
public_hosts = [host for s in cfg.services if s.public for host in s.rule.hosts]
cluster = Cluster("cluster", ClusterArgs(cfg.cluster, naming, account, network.refs, public_hosts), opts=in_env)
alarms = AlarmTopic("alarms", AlarmTopicArgs(cfg.monitoring, naming, account), opts=in_env)
rule_priorities = listener_priorities(cfg.services)
services = {
    s.name: Service(
        s.name,
        ServiceArgs(
            s,
            naming,
            account,
            service_network,
            cluster.refs,
            cfg.monitoring,
            alarms.topic_arn,
            listener_priority=rule_priorities.get(i),
            database=db_clients.get(s.name),
        ),
        opts=in_env,
    )
    for i, s in enumerate(cfg.services)
}

# Who may reach whom: each rule added by the owner of the security group it changes.
if bastion is not None and database is not None:
    database.allow_from("bastion", bastion.security_group_id)
for s in cfg.services:
    if s.public:
        cluster.allow_to(s.name, services[s.name].security_group, s.port)
    for source in s.allow_from:
        services[s.name].allow_from(source, services[source].security_group_id)
    if s.admin_port is not None and bastion is not None:
        # The admin port's one way in from outside the services: an SSM session through the bastion.
        bastion.allow_to(f"{s.name}-admin", services[s.name].security_group_id, s.admin_port, f"{s.name} admin port")
        services[s.name].allow_admin_from("bastion", bastion.security_group_id)
    if s.database:
        database.allow_from(s.name, services[s.name].security_group_id)

# Services holding the master password get new tasks (and so the new password) whenever it rotates.
password_clients = [services[name].refs for name, client in db_clients.items() if client.uses_password]
if password_clients:
    RotationRedeploy(
        "database-rotation",
        RotationRedeployArgs(
            naming,
            account,
            secret_arn=database.refs.secret_arn,
            services=password_clients,
            alarm_topic_arn=alarms.topic_arn,
            log_retention_days=cfg.database.log_retention_days,
        ),
        opts=in_env,
    )
service_refs = [s.refs for s in services.values()]
dashboard = Dashboard("dashboard", DashboardArgs(naming, account, cluster.refs, service_refs), opts=in_env)

# One pipeline per service that enables it; one GitHub connection for the environment, if any needs it.
delivered = [s for s in cfg.services if s.pipeline_enabled]
github = None
if any(s.pipeline.source.github and not s.pipeline.source.github.connection_arn for s in delivered):
    github = github_connection("github", naming, opts=in_env)
pipelines = {
    s.name: Pipeline(
        f"{s.name}-pipeline",
        PipelineArgs(
            s.pipeline,
            naming,
            account,
            services[s.name].delivery_target,
            notification_topic_arn=alarms.topic_arn,
            notification_topic_key_arn=alarms.key_arn,
            connection_arn=github.arn if github else None,
        ),
        opts=in_env,
    )
    for s in delivered
}

# Outputs: what a user needs to reach and operate the environment. The contracts of the network,
# the cluster and the database go out whole, one output per field, for stacks built on this one
# (`from_stack_reference`).
network.refs.export()
pulumi.export("availabilityZones", network.availability_zones)
cluster.refs.export()
if database is not None:
    database.refs.export()
if bastion is not None:
    pulumi.export("bastionInstanceId", bastion.instance_id)
    if database is not None:
        pulumi.export("dbTunnelCommand", bastion.port_forward_command(database.refs.address, database.refs.port))
pulumi.export("alarmTopicArn", alarms.topic_arn)
pulumi.export("dashboardName", dashboard.dashboard_name)

# A service's admin port is reached from outside through an SSM session on the bastion, to its Cloud Map name.
admin_tunnels = {
    s.name: bastion.port_forward_command(pulumi.Output.concat(s.name, ".", cluster.refs.namespace_name), s.admin_port)
    for s in cfg.services
    if s.admin_port is not None and bastion is not None
}
pulumi.export(
    "services",
    {
        name: {
            "url": s.url,
            "repositoryUrl": s.repository_url,
            "logGroup": s.log_group_name,
            "securityGroupId": s.security_group_id,
            **({"fileSystemIds": s.file_system_ids} if s.file_system_ids else {}),
            **({"adminTunnelCommand": admin_tunnels[name]} if name in admin_tunnels else {}),
            **s.refs.outputs(),
            **(s.delivery_target.outputs() if s.delivery_target else {}),
        }
        for name, s in services.items()
    },
)
if pipelines:
    pulumi.export("pipelines", {name: {"name": p.pipeline_name, "url": p.console_url} for name, p in pipelines.items()})
if github is not None:
    pulumi.export("githubConnectionArn", github.arn)

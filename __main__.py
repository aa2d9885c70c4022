"""One ecs-platform environment: everything a stack's config asks for, in build order."""

import pulumi

from components import config
from components.bastion import Bastion, BastionArgs
from components.cluster import Cluster, ClusterArgs
from components.database import Database, DatabaseArgs
from components.monitoring import AlarmTopic, AlarmTopicArgs, Dashboard, DashboardArgs
from components.naming import Naming
from components.network import Network, NetworkArgs
from components.pipeline import Pipeline, PipelineArgs, github_connection
from components.rotation import RotationRedeploy, RotationRedeployArgs
from components.service import Service, ServiceArgs

cfg = config.load()
naming = Naming.current()
aws_provider = naming.provider(cfg.region)
in_env = pulumi.ResourceOptions(provider=aws_provider)

# Network, then data: the database in the isolated subnets, the bastion that reaches it.
network = Network("network", NetworkArgs(cfg.network, naming, cfg.region), opts=in_env)

database = None
if cfg.database is not None:
    database = Database(
        "database",
        DatabaseArgs(
            cfg.database,
            naming,
            cfg.region,
            network.vpc_id,
            network.isolated_subnet_ids,
            iam_authentication=any(s.database_user for s in cfg.services),
        ),
        opts=in_env,
    )
# How each service that declares `database` reaches it: IAM auth as its own user, or the master password.
db_clients = {s.name: database.client(s.database, s.database_user) for s in cfg.services if s.database}

bastion = None
if cfg.bastion.enabled:
    ssm_endpoints = set(config.SSM_ENDPOINTS) <= set(cfg.network.interface_endpoints)
    bastion = Bastion(
        "bastion",
        BastionArgs(
            cfg.bastion,
            naming,
            cfg.region,
            vpc_id=network.vpc_id,
            subnet_id=network.private_subnet_ids.apply(lambda ids: ids[0]),
            ssm_endpoint_security_group_id=network.endpoint_security_group_id if ssm_endpoints else None,
            database=database,
        ),
        opts=in_env,
    )
    if database is not None:
        database.allow_from("bastion", bastion.security_group_id)

# Compute: the cluster and its load balancer, the alarm topic, every service, one dashboard.
public_hosts = [host for s in cfg.services if s.public for host in s.rule.hosts]
cluster = Cluster("cluster", ClusterArgs(cfg.cluster, naming, network, cfg.region, public_hosts), opts=in_env)
alarms = AlarmTopic("alarms", AlarmTopicArgs(cfg.monitoring, naming, cfg.region), opts=in_env)
services = {
    s.name: Service(
        s.name,
        ServiceArgs(
            s,
            naming,
            cfg.region,
            cluster,
            cfg.monitoring,
            alarms.topic_arn,
            listener_priority=config.listener_priority(s, cfg.services) if s.public else None,
            extra_environment=db_clients[s.name].environment if s.name in db_clients else {},
            extra_secrets=db_clients[s.name].secrets if s.name in db_clients else (),
            extra_task_statements=db_clients[s.name].task_statements if s.name in db_clients else (),
        ),
        opts=in_env,
    )
    for s in cfg.services
}
for s in cfg.services:
    for source in s.allow_from:
        services[s.name].allow_from(source, services[source].security_group_id)
    if s.database:
        database.allow_from(s.name, services[s.name].security_group_id)
# Services holding the master password get new tasks (and so the new password) whenever it rotates.
password_clients = [services[name] for name, client in db_clients.items() if client.uses_password]
if password_clients:
    RotationRedeploy(
        "database-rotation",
        RotationRedeployArgs(
            naming,
            cfg.region,
            secret_arn=database.secret_arn,
            services=password_clients,
            alarm_topic_arn=alarms.topic_arn,
            log_retention_days=cfg.database.log_retention_days,
        ),
        opts=in_env,
    )
dashboard = Dashboard("dashboard", DashboardArgs(naming, cfg.region, cluster, list(services.values())), opts=in_env)

# One pipeline per service that enables it; one GitHub connection for the environment, if any needs it.
delivered = [s for s in cfg.services if s.pipeline_enabled]
github = None
if any(s.pipeline.source.github and not s.pipeline.source.github.connection_arn for s in delivered):
    github = github_connection("github", naming, opts=in_env)
pipelines = {
    s.name: Pipeline(
        f"{s.name}-pipeline",
        PipelineArgs.for_service(
            services[s.name],
            s.pipeline,
            naming,
            cfg.region,
            notification_topic_arn=alarms.topic_arn,
            notification_topic_key_arn=alarms.key_arn,
            connection_arn=github.arn if github else None,
        ),
        opts=in_env,
    )
    for s in delivered
}

# Outputs: what a user needs to reach and operate the environment.
pulumi.export("vpcId", network.vpc_id)
pulumi.export("vpcCidr", network.cidr_block)
pulumi.export("availabilityZones", network.availability_zones)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)

if database is not None:
    pulumi.export("dbEndpoint", database.endpoint)
    pulumi.export("dbAddress", database.address)
    pulumi.export("dbPort", database.port)
    pulumi.export("dbName", database.db_name)
    pulumi.export("dbUsername", database.master_username)
    pulumi.export("dbSecretArn", database.secret_arn)
    # What an IAM policy for rds-db:connect names: ...:dbuser:<dbResourceId>/<user>.
    pulumi.export("dbResourceId", database.resource_id)
if bastion is not None:
    pulumi.export("bastionInstanceId", bastion.instance_id)
    if database is not None:
        pulumi.export("dbTunnelCommand", bastion.port_forward_command(database.address, database.port))
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("albDnsName", cluster.alb_dns_name)
pulumi.export("alarmTopicArn", alarms.topic_arn)
pulumi.export("dashboardName", dashboard.dashboard_name)
pulumi.export(
    "services",
    {
        name: {"url": s.url, "repositoryUrl": s.repository_url, "logGroup": s.log_group_name}
        for name, s in services.items()
    },
)
if pipelines:
    pulumi.export("pipelines", {name: {"name": p.pipeline_name, "url": p.console_url} for name, p in pipelines.items()})
if github is not None:
    pulumi.export("githubConnectionArn", github.arn)

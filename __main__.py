"""One ecs-platform environment: everything a stack's config asks for, in build order."""

import pulumi

from components import config
from components.bastion import Bastion, BastionArgs
from components.database import Database, DatabaseArgs
from components.naming import Naming
from components.network import Network, NetworkArgs

cfg = config.load()
naming = Naming.current()
aws_provider = naming.provider(cfg.region)
in_env = pulumi.ResourceOptions(provider=aws_provider)

network = Network("network", NetworkArgs(cfg.network, naming, cfg.region), opts=in_env)

database = None
if cfg.database is not None:
    database = Database(
        "database",
        DatabaseArgs(cfg.database, naming, cfg.region, network.vpc_id, network.isolated_subnet_ids),
        opts=in_env,
    )

bastion = None
if cfg.bastion.enabled:
    ssm_endpoints = set(config.SSM_ENDPOINTS) <= set(cfg.network.interface_endpoints)
    bastion = Bastion(
        "bastion",
        BastionArgs(
            cfg.bastion,
            naming,
            cfg.region,
            network.vpc_id,
            network.private_subnet_ids.apply(lambda ids: ids[0]),
            network.endpoint_security_group_id if ssm_endpoints else None,
            database,
        ),
        opts=in_env,
    )
    if database is not None:
        database.allow_from("bastion", bastion.security_group_id)

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
if bastion is not None:
    pulumi.export("bastionInstanceId", bastion.instance_id)
    if database is not None:
        pulumi.export("dbTunnelCommand", bastion.port_forward_command(database.address, database.port))

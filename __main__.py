"""One ecs-platform environment: everything a stack's config asks for, in build order."""

import pulumi

from components import config
from components.naming import Naming
from components.network import Network, NetworkArgs

cfg = config.load()
naming = Naming.current()
aws_provider = naming.provider(cfg.region)
in_env = pulumi.ResourceOptions(provider=aws_provider)

network = Network("network", NetworkArgs(cfg.network, naming, cfg.region), opts=in_env)

pulumi.export("vpcId", network.vpc_id)
pulumi.export("vpcCidr", network.cidr_block)
pulumi.export("availabilityZones", network.availability_zones)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)

"""A hand-made environment of plain pulumi_aws resources, for the offline preview's tests.

It registers what the components do (ALB, Fargate service on a capacity provider strategy,
RDS with a managed secret, bastion, pipeline, alarms) with the same type tokens and wire
inputs, but with fixed, simple numbers and a secret input, so the cost arithmetic, secret
masking and other-region warnings are tested on known values. Run it with
`evaluate("dev", {"aws:region": "eu-west-1"}, program=synthetic_env.program)`."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

SECRET = "not-for-your-eyes"  # a secret input the preview JSON must mask
TASKS = 4  # desiredCount of the service: base 1 on demand, the other 3 split 1:2 on demand:Spot


def program(region: str = "eu-west-1") -> None:
    """The environment in `region`."""
    provider = aws.Provider("aws", region=region)
    env = pulumi.ResourceOptions(provider=provider)
    vpc = awsx.ec2.Vpc(
        "vpc",
        cidr_block="10.30.0.0/16",
        availability_zone_names=["eu-west-1a", "eu-west-1b"],
        subnet_specs=[
            awsx.ec2.SubnetSpecArgs(
                type=awsx.ec2.SubnetType.PUBLIC, name="public", cidr_blocks=["10.30.48.0/24", "10.30.49.0/24"]
            ),
            awsx.ec2.SubnetSpecArgs(
                type=awsx.ec2.SubnetType.PRIVATE, name="private", cidr_blocks=["10.30.0.0/20", "10.30.16.0/20"]
            ),
            awsx.ec2.SubnetSpecArgs(
                type=awsx.ec2.SubnetType.ISOLATED, name="isolated", cidr_blocks=["10.30.51.0/24", "10.30.52.0/24"]
            ),
        ],
        nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=awsx.ec2.NatGatewayStrategy.SINGLE),
        opts=env,
    )

    def sg(name: str) -> aws.ec2.SecurityGroup:
        return aws.ec2.SecurityGroup(name, vpc_id=vpc.vpc_id, description=name, opts=env)

    alb_sg, app_sg, db_sg, bastion_sg = sg("alb"), sg("app"), sg("db"), sg("bastion")
    aws.vpc.SecurityGroupIngressRule(
        "alb-https",
        security_group_id=alb_sg.id,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4="0.0.0.0/0",
        opts=env,
    )
    aws.vpc.SecurityGroupIngressRule(
        "app-from-alb",
        security_group_id=app_sg.id,
        ip_protocol="tcp",
        from_port=8080,
        to_port=8080,
        referenced_security_group_id=alb_sg.id,
        opts=env,
    )
    for source, group in (("app", app_sg), ("bastion", bastion_sg)):
        aws.vpc.SecurityGroupIngressRule(
            f"db-from-{source}",
            security_group_id=db_sg.id,
            ip_protocol="tcp",
            from_port=5432,
            to_port=5432,
            referenced_security_group_id=group.id,
            opts=env,
        )

    alb = aws.lb.LoadBalancer(
        "web", load_balancer_type="application", subnets=vpc.public_subnet_ids, security_groups=[alb_sg.id], opts=env
    )
    target_group = aws.lb.TargetGroup("api", port=8080, protocol="HTTP", target_type="ip", vpc_id=vpc.vpc_id, opts=env)
    listener = aws.lb.Listener(
        "https",
        load_balancer_arn=alb.arn,
        port=443,
        protocol="HTTPS",
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(
                type="fixed-response",
                fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                    content_type="text/plain", status_code="404"
                ),
            )
        ],
        opts=env,
    )
    aws.lb.ListenerRule(
        "api",
        listener_arn=listener.arn,
        priority=10,
        actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
        conditions=[
            aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=["/api/*"])
            )
        ],
        opts=env,
    )

    cluster = aws.ecs.Cluster("cluster", opts=env)
    aws.ecs.ClusterCapacityProviders(
        "cluster",
        cluster_name=cluster.name,
        capacity_providers=["FARGATE", "FARGATE_SPOT"],
        default_capacity_provider_strategies=[
            aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                capacity_provider="FARGATE", base=1, weight=1
            ),
            aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                capacity_provider="FARGATE_SPOT", weight=2
            ),
        ],
        opts=env,
    )
    task = aws.ecs.TaskDefinition(
        "api",
        family="api",
        cpu="512",
        memory="1024",
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            cpu_architecture="ARM64", operating_system_family="LINUX"
        ),
        container_definitions=json.dumps(
            [{"name": "api", "image": "nginx", "portMappings": [{"containerPort": 8080}]}]
        ),
        opts=env,
    )
    service = aws.ecs.Service(
        "api",
        cluster=cluster.arn,
        task_definition=task.arn,
        desired_count=TASKS,
        network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
            subnets=vpc.private_subnet_ids, security_groups=[app_sg.id]
        ),
        load_balancers=[
            aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=target_group.arn, container_name="api", container_port=8080
            )
        ],
        opts=env,
    )

    key = aws.kms.Key("db", enable_key_rotation=True, opts=env)
    subnet_group = aws.rds.SubnetGroup("db", subnet_ids=vpc.isolated_subnet_ids, opts=env)
    aws.rds.Instance(
        "db",
        engine="postgres",
        instance_class="db.t4g.micro",
        multi_az=True,
        allocated_storage=20,
        storage_type="gp3",
        storage_encrypted=True,
        kms_key_id=key.arn,
        manage_master_user_password=True,
        username="app",
        db_subnet_group_name=subnet_group.name,
        vpc_security_group_ids=[db_sg.id],
        skip_final_snapshot=True,
        opts=env,
    )
    aws.ec2.Instance(
        "bastion",
        instance_type="t4g.nano",
        ami="ami-0123456789abcdef0",
        subnet_id=vpc.private_subnet_ids.apply(lambda ids: ids[0]),
        vpc_security_group_ids=[bastion_sg.id],
        root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(volume_size=8, volume_type="gp3", encrypted=True),
        opts=env,
    )
    api_key = aws.secretsmanager.Secret("api-key", opts=env)
    aws.secretsmanager.SecretVersion(
        "api-key", secret_id=api_key.id, secret_string=pulumi.Output.secret(SECRET), opts=env
    )
    aws.cloudwatch.MetricAlarm(
        "api-cpu",
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=1,
        metric_name="CPUUtilization",
        namespace="AWS/ECS",
        period=60,
        statistic="Average",
        threshold=80,
        opts=env,
    )
    aws.cloudwatch.Dashboard("env", dashboard_name="env", dashboard_body=json.dumps({"widgets": []}), opts=env)
    aws.codepipeline.Pipeline(
        "api",
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_stores=[aws.codepipeline.PipelineArtifactStoreArgs(location="artifacts", type="S3")],
        stages=[
            aws.codepipeline.PipelineStageArgs(
                name="Deploy",
                actions=[
                    aws.codepipeline.PipelineStageActionArgs(
                        name="Deploy",
                        category="Deploy",
                        owner="AWS",
                        provider="ECS",
                        version="1",
                        input_artifacts=["build"],
                        configuration={"ClusterName": cluster.name, "ServiceName": service.name},
                    )
                ],
            )
        ],
        opts=env,
    )

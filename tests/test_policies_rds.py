"""Private RDS: every disguise of a reachable database is caught, a correct database passes."""

import pulumi_aws as aws
import pytest
from policy_helpers import DB_ARGS, passes, run, tls_parameter_group, violates, vpc


def database(
    *,
    subnets=lambda v: v.isolated_subnet_ids,
    group_rules=(),
    sg_kwargs=None,
    subnet_group=True,
    security_group=True,
    force_ssl="1",
    **kwargs,
):
    """A program with a VPC and one PostgreSQL instance; keyword arguments override the instance's."""

    def program():
        v = vpc()
        sg = aws.ec2.SecurityGroup("db-sg", vpc_id=v.vpc_id, **{"description": "The database", **(sg_kwargs or {})})
        for rule in group_rules:
            rule(sg)
        group = aws.rds.SubnetGroup("db-subnets", subnet_ids=subnets(v)) if subnet_group else None
        args = dict(DB_ARGS)
        if group is not None:
            args["db_subnet_group_name"] = group.name
        if security_group:
            args["vpc_security_group_ids"] = [sg.id]
        if force_ssl is not False:
            args["parameter_group_name"] = tls_parameter_group(force_ssl=force_ssl).name
        args.update(kwargs)
        aws.rds.Instance("db", **args)

    return program


def test_a_private_encrypted_managed_password_database_passes_every_policy():
    result = run(database())
    assert result.findings == []


@pytest.mark.parametrize("preview", [False, True])
def test_publicly_accessible_instance_is_mandatory_violation(preview):
    violates(database(publicly_accessible=True), "rds-not-publicly-accessible", preview=preview)


def test_publicly_accessible_cluster_instance_and_cluster():
    def program():
        cluster = aws.rds.Cluster(
            "aurora",
            engine="aurora-postgresql",
            master_username="app",
            manage_master_user_password=True,
            storage_encrypted=True,
            publicly_accessible=True,
        )
        aws.rds.ClusterInstance(
            "aurora-1",
            cluster_identifier=cluster.id,
            instance_class="db.r6g.large",
            engine="aurora-postgresql",
            publicly_accessible=True,
        )

    found = violates(program, "rds-not-publicly-accessible")
    assert {f.urn.split("::")[-1] for f in found} == {"aurora", "aurora-1"}


def test_private_cluster_instance_passes():
    def program():
        cluster = aws.rds.Cluster(
            "aurora",
            engine="aurora-postgresql",
            master_username="app",
            manage_master_user_password=True,
            storage_encrypted=True,
        )
        aws.rds.ClusterInstance(
            "aurora-1",
            cluster_identifier=cluster.id,
            instance_class="db.r6g.large",
            engine="aurora-postgresql",
            publicly_accessible=False,
        )

    passes(program, "rds-not-publicly-accessible")


def test_subnet_group_on_the_vpcs_public_tier_is_caught():
    found = violates(database(subnets=lambda v: v.public_subnet_ids), "rds-isolated-subnets")
    assert "internet gateway" in found[0].message


def test_subnet_group_on_the_private_tier_passes():
    passes(database(subnets=lambda v: v.private_subnet_ids), "rds-isolated-subnets")


def test_subnet_group_on_hard_coded_subnet_ids_cannot_be_verified():
    found = violates(database(subnets=lambda v: ["subnet-0123456789abcdef0"]), "rds-isolated-subnets")
    assert "not a subnet of this stack" in found[0].message


def plain_network(public_route: str, subnet_kwargs=None):
    """A hand-built VPC whose subnet reaches an internet gateway through `public_route`."""

    def program():
        network = aws.ec2.Vpc("plain", cidr_block="10.1.0.0/16")
        aws.ec2.FlowLog("plain", vpc_id=network.id, traffic_type="ALL", log_destination="arn:aws:s3:::flow-logs")
        aws.ec2.DefaultSecurityGroup("plain", vpc_id=network.id)
        gateway = aws.ec2.InternetGateway("gateway", vpc_id=network.id)
        subnets = [
            aws.ec2.Subnet(
                f"db-{az}",
                vpc_id=network.id,
                cidr_block=f"10.1.{i}.0/24",
                availability_zone=az,
                **(subnet_kwargs or {}),
            )
            for i, az in enumerate(["eu-west-1a", "eu-west-1b"])
        ]
        if public_route == "inline":
            table = aws.ec2.RouteTable(
                "rt", vpc_id=network.id, routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}]
            )
        else:
            table = aws.ec2.RouteTable("rt", vpc_id=network.id)
            if public_route in ("separate", "main"):
                aws.ec2.Route(
                    "default", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id
                )
        if public_route == "main":
            aws.ec2.MainRouteTableAssociation("main", vpc_id=network.id, route_table_id=table.id)
        else:
            for s in subnets:
                aws.ec2.RouteTableAssociation(f"{s._name}-rt", subnet_id=s.id, route_table_id=table.id)
        group = aws.rds.SubnetGroup("db-subnets", subnet_ids=[s.id for s in subnets])
        sg = aws.ec2.SecurityGroup("db-sg", vpc_id=network.id)
        aws.rds.Instance(
            "db",
            **DB_ARGS,
            db_subnet_group_name=group.name,
            vpc_security_group_ids=[sg.id],
            parameter_group_name=tls_parameter_group("plain-params").name,
        )

    return program


@pytest.mark.parametrize("route", ["inline", "separate", "main"])
@pytest.mark.parametrize("preview", [False, True])
def test_plain_subnets_routed_to_an_internet_gateway_are_caught(route, preview):
    violates(plain_network(route), "rds-isolated-subnets", preview=preview)


def test_plain_subnets_mapping_public_ips_are_caught():
    violates(plain_network("none", {"map_public_ip_on_launch": True}), "rds-isolated-subnets")


def test_plain_subnets_without_internet_route_pass():
    passes(plain_network("none"), "rds-isolated-subnets")


def test_database_without_subnet_group_lands_in_the_default_vpc():
    found = violates(database(subnet_group=False), "rds-isolated-subnets")
    assert "default VPC" in found[0].message


def test_database_naming_a_subnet_group_outside_the_stack_is_caught():
    violates(database(db_subnet_group_name="legacy-public-subnets"), "rds-isolated-subnets")


@pytest.mark.parametrize(
    "rule",
    [
        lambda sg: aws.vpc.SecurityGroupIngressRule(
            "cidr4", security_group_id=sg.id, ip_protocol="tcp", from_port=5432, to_port=5432, cidr_ipv4="10.0.0.0/16"
        ),
        lambda sg: aws.vpc.SecurityGroupIngressRule(
            "cidr6", security_group_id=sg.id, ip_protocol="tcp", from_port=5432, to_port=5432, cidr_ipv6="::/0"
        ),
        lambda sg: aws.vpc.SecurityGroupIngressRule(
            "plist",
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=5432,
            to_port=5432,
            prefix_list_id="pl-12345678",
        ),
        lambda sg: aws.ec2.SecurityGroupRule(
            "legacy",
            type="ingress",
            security_group_id=sg.id,
            protocol="tcp",
            from_port=5432,
            to_port=5432,
            cidr_blocks=["0.0.0.0/0"],
        ),
    ],
    ids=["vpc-rule-ipv4", "vpc-rule-ipv6", "prefix-list", "ec2-rule"],
)
def test_cidr_ingress_to_a_database_group_is_caught(rule):
    violates(database(group_rules=[rule]), "rds-security-group-no-cidr-ingress")


def test_inline_cidr_ingress_on_the_database_group_is_caught():
    inline = {"ingress": [{"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.0.0/8"]}]}
    violates(database(sg_kwargs=inline), "rds-security-group-no-cidr-ingress")


def test_ingress_from_a_client_security_group_passes():
    def from_app(sg):
        app = aws.ec2.SecurityGroup("app-sg")
        aws.vpc.SecurityGroupIngressRule(
            "from-app",
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=5432,
            to_port=5432,
            referenced_security_group_id=app.id,
        )

    passes(database(group_rules=[from_app]), "rds-security-group-no-cidr-ingress")


def test_database_without_its_own_security_group_is_caught():
    violates(database(security_group=False), "rds-security-group-no-cidr-ingress")


def test_unencrypted_storage_is_caught_and_encrypted_passes():
    violates(database(storage_encrypted=False), "rds-storage-encrypted")
    violates(database(storage_encrypted=None), "rds-storage-encrypted")
    passes(database(), "rds-storage-encrypted")


@pytest.mark.parametrize("preview", [False, True])
def test_a_master_password_input_is_caught_even_when_secret_or_unknown(preview):
    import pulumi

    found = violates(
        database(manage_master_user_password=None, password=pulumi.Output.secret("hunter2hunter2")),
        "rds-no-plain-master-password",
        preview=preview,
    )
    assert "hunter2" not in found[0].message


def test_a_cluster_master_password_is_caught():
    def program():
        aws.rds.Cluster(
            "aurora",
            engine="aurora-postgresql",
            master_username="app",
            master_password="p4ssw0rd!",
            storage_encrypted=True,
        )

    violates(program, "rds-no-plain-master-password")
    passes(database(), "rds-no-plain-master-password")


@pytest.mark.parametrize("preview", [False, True])
@pytest.mark.parametrize("value", ["0", None])
def test_a_parameter_group_that_does_not_force_ssl_is_caught(value, preview):
    found = violates(database(force_ssl=value), "rds-force-ssl", preview=preview)
    assert "rds.force_ssl" in found[0].message


def test_the_default_parameter_group_cannot_force_ssl():
    violates(database(force_ssl=False), "rds-force-ssl")
    violates(database(force_ssl=False, parameter_group_name="default.postgres17"), "rds-force-ssl")


def test_a_parameter_group_that_forces_ssl_passes():
    passes(database(), "rds-force-ssl")
    passes(database(), "rds-force-ssl", preview=True)
    # A group managed outside the stack cannot be read: not judged.
    passes(database(force_ssl=False, parameter_group_name="team-postgres17"), "rds-force-ssl")


def test_mysql_is_held_to_require_secure_transport():
    def mysql(value):
        def program():
            group = aws.rds.ParameterGroup(
                "my", family="mysql8.0", parameters=[{"name": "require_secure_transport", "value": value}]
            )
            aws.rds.Instance("db", **{**DB_ARGS, "engine": "mysql", "parameter_group_name": group.name})

        return program

    violates(mysql("0"), "rds-force-ssl")
    passes(mysql("1"), "rds-force-ssl")


@pytest.mark.parametrize("preview", [False, True])
def test_a_database_must_export_its_server_log(preview):
    found = violates(
        database(enabled_cloudwatch_logs_exports=["upgrade"]), "rds-log-exports", level="advisory", preview=preview
    )
    assert "'postgresql'" in found[0].message
    violates(database(enabled_cloudwatch_logs_exports=[]), "rds-log-exports", level="advisory", preview=preview)
    passes(database(enabled_cloudwatch_logs_exports=["postgresql", "upgrade"]), "rds-log-exports", preview=preview)

"""Network and compute guardrails through the offline check."""

import json

import pulumi_aws as aws
import pytest
from policy_helpers import passes, run, violates, vpc


def web(rule_kwargs, *, on_lb=True, lb=aws.lb):
    def program():
        sg = aws.ec2.SecurityGroup("alb-sg")
        aws.vpc.SecurityGroupIngressRule("in", security_group_id=sg.id, **rule_kwargs)
        if on_lb:
            lb.LoadBalancer("alb", security_groups=[sg.id], subnets=["subnet-a"], drop_invalid_header_fields=True)

    return program


HTTPS_WORLD = {"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"}


@pytest.mark.parametrize("lb", [aws.lb, aws.alb], ids=["lb", "alb"])
def test_web_ports_open_to_the_world_on_a_load_balancer_group_pass(lb):
    passes(web(HTTPS_WORLD, lb=lb), "sg-no-world-ingress")
    passes(
        web({**HTTPS_WORLD, "from_port": 80, "to_port": 80, "cidr_ipv4": None, "cidr_ipv6": "::/0"}),
        "sg-no-world-ingress",
    )


@pytest.mark.parametrize(
    "program",
    [
        web(HTTPS_WORLD, on_lb=False),
        web({**HTTPS_WORLD, "from_port": 8080, "to_port": 8080}),
        web({"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}),
        web({**HTTPS_WORLD, "from_port": 0, "to_port": 65535}),
        lambda: aws.ec2.SecurityGroup(
            "ssh", ingress=[{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]
        ),
        lambda: aws.ec2.SecurityGroupRule(
            "ssh",
            type="ingress",
            security_group_id=aws.ec2.SecurityGroup("g").id,
            protocol="tcp",
            from_port=22,
            to_port=22,
            ipv6_cidr_blocks=["::/0"],
        ),
    ],
    ids=["443-not-on-lb", "8080-on-lb", "all-traffic", "port-range", "inline-ssh", "ec2-rule-ipv6"],
)
def test_world_ingress_is_caught(program):
    violates(program, "sg-no-world-ingress")


def listeners(http_action, *, https=True, lb=aws.lb, rule=False):
    def program():
        alb = lb.LoadBalancer("alb", subnets=["subnet-a"], drop_invalid_header_fields=True)
        if https:
            lb.Listener(
                "https",
                load_balancer_arn=alb.arn,
                port=443,
                protocol="HTTPS",
                certificate_arn="arn:aws:acm:eu-west-1:1:certificate/x",
                default_actions=[
                    {"type": "fixed-response", "fixed_response": {"content_type": "text/plain", "status_code": "404"}}
                ],
            )
        http = lb.Listener("http", load_balancer_arn=alb.arn, port=80, protocol="HTTP", default_actions=[http_action])
        if rule:
            lb.ListenerRule(
                "r",
                listener_arn=http.arn,
                actions=[{"type": "forward", "target_group_arn": "arn:tg"}],
                conditions=[{"path_pattern": {"values": ["/*"]}}],
            )

    return program


REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
FORWARD = {"type": "forward", "target_group_arn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/y"}


@pytest.mark.parametrize("lb", [aws.lb, aws.alb], ids=["lb", "alb"])
def test_http_serving_next_to_https_is_caught(lb):
    violates(listeners(FORWARD, lb=lb), "alb-http-redirects-to-https")
    violates(listeners(REDIRECT, lb=lb, rule=True), "alb-http-redirects-to-https")


def test_http_redirect_passes_and_http_only_is_not_judged():
    passes(listeners(REDIRECT), "alb-http-redirects-to-https")
    passes(listeners(FORWARD, https=False), "alb-http-redirects-to-https")


def test_invalid_headers_kept_is_advisory():
    violates(lambda: aws.lb.LoadBalancer("alb", subnets=["s"]), "alb-drop-invalid-headers", level="advisory")
    passes(
        lambda: aws.alb.LoadBalancer("alb", subnets=["s"], drop_invalid_header_fields=True), "alb-drop-invalid-headers"
    )


def instance(subnet=lambda v: v.private_subnet_ids[0], **kwargs):
    def program():
        v = vpc()
        args = dict(
            ami="ami-123",
            instance_type="t4g.nano",
            subnet_id=subnet(v),
            associate_public_ip_address=False,
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled"},
            root_block_device={"encrypted": True, "volume_type": "gp3"},
        )
        args.update(kwargs)
        aws.ec2.Instance("bastion", **args)

    return program


def test_a_private_ssm_only_instance_passes_every_policy():
    assert run(instance()).findings == []


def test_instance_rules():
    violates(instance(metadata_options={"http_tokens": "optional"}), "ec2-imdsv2-required")
    violates(instance(metadata_options=None), "ec2-imdsv2-required")
    violates(instance(associate_public_ip_address=True), "ec2-no-public-ip")
    violates(instance(subnet=lambda v: v.public_subnet_ids[0], associate_public_ip_address=None), "ec2-no-public-ip")
    violates(instance(key_name="ops"), "ec2-no-key-pair")
    violates(instance(root_block_device={"encrypted": False}), "ec2-encrypted-volumes")
    violates(instance(root_block_device=None), "ec2-encrypted-volumes")
    violates(instance(ebs_block_devices=[{"device_name": "/dev/sdf", "volume_size": 10}]), "ec2-encrypted-volumes")


def task(containers):
    return lambda: aws.ecs.TaskDefinition(
        "app",
        family="app",
        container_definitions=json.dumps(containers),
        cpu="256",
        memory="512",
        network_mode="awsvpc",
    )


LOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/app", "awslogs-region": "eu-west-1"}}
GOOD = {
    "name": "app",
    "image": "nginx",
    "logConfiguration": LOGS,
    "readonlyRootFilesystem": True,
    "environment": [
        {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:eu-west-1:1:secret:x"},
        {"name": "PORT", "value": "8080"},
    ],
    "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:x:password::"}],
}


def test_a_well_formed_task_definition_passes_every_policy():
    assert run(task([GOOD])).findings == []


def test_task_definition_rules():
    violates(task([{**GOOD, "privileged": True}]), "ecs-no-privileged-containers")
    violates(task([{**GOOD, "logConfiguration": None}]), "ecs-container-logging", level="advisory")
    for name in ("DB_PASSWORD", "api_key", "STRIPE_SECRET", "GITHUB_TOKEN", "DB_PWD", "AWS_ACCESS_KEY", "SESSION_KEY"):
        plain = {**GOOD, "environment": [{"name": name, "value": "s3cr3t"}]}
        violates(task([plain]), "ecs-no-secrets-in-environment")
    # A name that says where a secret is kept (..._NAME, ..._PATH) holds none.
    for name in ("DB_PASSWORD_NAME", "API_TOKEN_PATH"):
        where = {**GOOD, "environment": [{"name": name, "value": "/app/db-password"}]}
        passes(task([where]), "ecs-no-secrets-in-environment")


def test_ecs_service_public_ip():
    def service(public):
        return lambda: aws.ecs.Service(
            "svc",
            cluster="c",
            task_definition="t",
            desired_count=1,
            network_configuration={"subnets": ["s"], "assign_public_ip": public},
        )

    violates(service(True), "ecs-no-public-ip")
    passes(service(False), "ecs-no-public-ip")

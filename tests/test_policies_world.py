"""sg-no-world-ingress decides "the internet" by the public address space a group admits, not by strings."""

import pulumi_aws as aws
import pytest
from policy_helpers import passes, violates


def group(*cidrs, port=22, inline=False, ipv6=False):
    def program():
        if inline:
            key = "ipv6_cidr_blocks" if ipv6 else "cidr_blocks"
            rules = [{"protocol": "tcp", "from_port": port, "to_port": port, key: [c]} for c in cidrs]
            aws.ec2.SecurityGroup("g", ingress=rules)
            return
        sg = aws.ec2.SecurityGroup("g")
        for i, cidr in enumerate(cidrs):
            key = "cidr_ipv6" if ":" in cidr else "cidr_ipv4"
            aws.vpc.SecurityGroupIngressRule(
                f"in{i}", security_group_id=sg.id, ip_protocol="tcp", from_port=port, to_port=port, **{key: cidr}
            )

    return program


@pytest.mark.parametrize(
    "program",
    [
        group("0.0.0.0/1", "128.0.0.0/1"),
        group("0.0.0.0/1", "128.0.0.0/1", inline=True),
        group("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"),
        group("8.0.0.0/7"),  # one broad public block
        group("::/1", "8000::/1", ipv6=True, inline=True),
        group("2000::/3"),  # all of global unicast IPv6
        group("52.0.0.0/9", "52.128.0.0/9"),  # split into pieces that are each below a /8
    ],
    ids=["halves", "halves-inline", "quarters", "public-/7", "ipv6-halves", "ipv6-global-unicast", "split-/8"],
)
def test_a_split_or_broad_public_range_is_the_world(program):
    found = violates(program, "sg-no-world-ingress")
    assert all("counts as the whole internet" in f.message for f in found), found


def test_the_pieces_of_the_world_are_summed_across_inline_and_separate_rules():
    def program():
        sg = aws.ec2.SecurityGroup(
            "g", ingress=[{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/1"]}]
        )
        aws.ec2.SecurityGroupRule(
            "other-half",
            type="ingress",
            security_group_id=sg.id,
            protocol="tcp",
            from_port=22,
            to_port=22,
            cidr_blocks=["128.0.0.0/1"],
        )

    assert len(violates(program, "sg-no-world-ingress")) == 2


@pytest.mark.parametrize(
    "program",
    [
        group("203.0.113.0/24"),  # an office network
        group("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"),  # private, however broad
        group("fc00::/7", inline=True, ipv6=True),
        group("2001:db8::/48"),
    ],
    ids=["office", "private", "ula", "ipv6-site"],
)
def test_narrow_public_or_private_ranges_pass(program):
    passes(program, "sg-no-world-ingress")


def test_a_split_world_on_the_load_balancers_web_port_still_passes():
    def program():
        sg = aws.ec2.SecurityGroup("alb-sg")
        for i, cidr in enumerate(["0.0.0.0/1", "128.0.0.0/1"]):
            aws.vpc.SecurityGroupIngressRule(
                f"in{i}", security_group_id=sg.id, ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4=cidr
            )
        aws.lb.LoadBalancer("alb", security_groups=[sg.id], subnets=["subnet-a"], drop_invalid_header_fields=True)

    passes(program, "sg-no-world-ingress")


def test_unknown_ranges_are_not_judged_in_preview():
    def program():
        sg = aws.ec2.SecurityGroup("g")
        vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16")
        aws.vpc.SecurityGroupIngressRule(
            "in", security_group_id=sg.id, ip_protocol="tcp", from_port=22, to_port=22, cidr_ipv4=vpc.cidr_block
        )
        aws.vpc.SecurityGroupIngressRule(
            "half", security_group_id=sg.id, ip_protocol="tcp", from_port=22, to_port=22, cidr_ipv4="203.0.113.0/24"
        )

    passes(program, "sg-no-world-ingress", preview=True)

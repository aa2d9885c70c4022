"""The image of the bastion (`bastion.ami`) and of the NAT instance (`network.natInstanceAmi`).

Unpinned, an instance starts from the newest Amazon Linux 2023 image and keeps it (ignoreChanges on
`ami`), so AWS publishing a new image never replaces it. Because the engine substitutes the recorded
value of an ignored property before it diffs or replaces, `pulumi up --replace` would relaunch the
old image: pinning is how a newer one is taken, and a pinned `ami` must not be ignored, or changing
the pin would do nothing.
"""

import pytest
from helpers import NAT_INSTANCE, config_error, with_config

from offline.harness.mock_aws import INVOKES, AwsMocks
from policies.guardrails.types import EC2_INSTANCE

AMI_PARAMETER = "aws:ssm/getParameter:getParameter"
PIN, NEWER_PIN = "ami-0a1b2c3d4e5f60718", "ami-0fedcba9876543210"


def latest_al2023(arch: str) -> str:
    name = f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
    return INVOKES[AMI_PARAMETER]({"name": name}, AwsMocks("eu-west-1", False))["value"]


def parameter_reads(graph, arch: str) -> list:
    name = f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
    return [args for token, args in graph.invokes if token == AMI_PARAMETER and args.get("name") == name]


def bastion(**keys):
    return lambda config: config["ecs-platform:bastion"].update(keys)


def nat(**keys):
    return lambda config: config["ecs-platform:network"].update(keys)


# --- the bastion (enabled in the `small` fixture, t4g: arm64) -----------------------------------------------


def test_an_unpinned_bastion_takes_the_newest_image_and_keeps_it():
    instance = with_config("small", bastion()).one(EC2_INSTANCE, "bastion-instance")
    assert instance.inputs["ami"] == latest_al2023("arm64")
    assert instance.ignore_changes == ["ami"]


def test_a_pinned_bastion_runs_the_pin_and_follows_it():
    graph = with_config("small", bastion(ami=PIN))
    instance = graph.one(EC2_INSTANCE, "bastion-instance")
    assert instance.inputs["ami"] == PIN
    assert instance.ignore_changes == []  # a changed pin reaches the diff: a replacement in the preview
    assert parameter_reads(graph, "arm64") == []
    newer = with_config("small", bastion(ami=NEWER_PIN)).one(EC2_INSTANCE, "bastion-instance")
    assert newer.inputs["ami"] == NEWER_PIN and newer.ignore_changes == []


@pytest.mark.parametrize("bad", ["ami-123", "ami-0A1B2C3D4E5F60718", "0a1b2c3d4e5f60718", "ami-0a1b2c3d4e5f607180"])
def test_a_bastion_ami_that_is_not_an_ami_id_is_one_line_naming_the_key(bad):
    error = config_error("small", bastion(ami=bad))
    assert "\n" not in error.strip()
    assert "ecs-platform:bastion.ami" in error and "must be an AMI id" in error


# --- the NAT instance (the `natinstance` fixture) -----------------------------------------------------------


def test_an_unpinned_nat_instance_takes_the_newest_arm64_image_and_keeps_it():
    instance = with_config(NAT_INSTANCE, nat()).one(EC2_INSTANCE, "network-nat-instance")
    assert instance.inputs["ami"] == latest_al2023("arm64")
    assert instance.ignore_changes == ["ami"]


def test_a_pinned_nat_instance_runs_the_pin_and_follows_it():
    graph = with_config(NAT_INSTANCE, nat(natInstanceAmi=PIN))
    instance = graph.one(EC2_INSTANCE, "network-nat-instance")
    assert instance.inputs["ami"] == PIN
    assert instance.ignore_changes == []


def test_a_nat_instance_ami_that_is_not_an_ami_id_is_one_line_naming_the_key():
    error = config_error(NAT_INSTANCE, nat(natInstanceAmi="ami-xyz"))
    assert "\n" not in error.strip()
    assert "ecs-platform:network.natInstanceAmi" in error and "must be an AMI id" in error


def test_a_nat_instance_ami_without_a_nat_instance_is_refused():
    error = config_error(NAT_INSTANCE, nat(natGateways="single", natInstanceAmi=PIN))
    assert "ecs-platform:network.natInstanceAmi" in error and "natGateways: instance" in error

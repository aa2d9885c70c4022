"""Resource policies without anonymous principals, key rotation, VPC flow logs and a closed default group."""

import pulumi_aws as aws
import pytest
from helpers import PRODLIKE, evaluate_fixture
from policy_helpers import ACCOUNT, doc, passes, violates, vpc

ANYONE = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
PINNED = {**ANYONE, "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}


@pytest.mark.parametrize(
    "make",
    [
        lambda s: aws.kms.Key("k", enable_key_rotation=True, policy=doc(s)),
        lambda s: aws.sns.TopicPolicy("t", arn="arn:aws:sns:eu-west-1:1:t", policy=doc({**s, "Action": "sns:Publish"})),
        lambda s: aws.ecr.RepositoryPolicy("r", repository="r", policy=doc({**s, "Action": "ecr:BatchGetImage"})),
        lambda s: aws.secretsmanager.SecretPolicy(
            "s", secret_arn="arn:s", policy=doc({**s, "Action": "secretsmanager:GetSecretValue"})
        ),
    ],
    ids=["kms", "sns", "ecr", "secret"],
)
def test_an_anonymous_principal_needs_a_condition_that_pins_the_caller(make):
    violates(lambda: make(ANYONE), "resource-policy-no-anonymous-principal")
    violates(lambda: make({**ANYONE, "Principal": {"AWS": "*"}}), "resource-policy-no-anonymous-principal")
    violates(
        lambda: make({**ANYONE, "Condition": {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}}),
        "resource-policy-no-anonymous-principal",
    )
    passes(lambda: make(PINNED), "resource-policy-no-anonymous-principal")
    passes(
        lambda: make({**ANYONE, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}),
        "resource-policy-no-anonymous-principal",
    )


def test_a_symmetric_key_must_rotate_and_an_asymmetric_one_cannot():
    violates(lambda: aws.kms.Key("k"), "kms-key-rotation")
    violates(lambda: aws.kms.Key("k", enable_key_rotation=False), "kms-key-rotation")
    passes(lambda: aws.kms.Key("k", enable_key_rotation=True), "kms-key-rotation")
    passes(lambda: aws.kms.Key("k", customer_master_key_spec="RSA_2048", key_usage="SIGN_VERIFY"), "kms-key-rotation")
    passes(
        lambda: aws.kms.Key("k", customer_master_key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC"),
        "kms-key-rotation",
    )


def test_every_vpc_needs_a_flow_log():
    violates(lambda: vpc(hygiene=False), "vpc-flow-logs")
    violates(lambda: aws.ec2.Vpc("plain", cidr_block="10.0.0.0/16"), "vpc-flow-logs")

    def logged():
        v = vpc(hygiene=False)
        aws.ec2.FlowLog(
            "fl", vpc_id=v.vpc_id, traffic_type="ALL", log_destination_type="s3", log_destination="arn:aws:s3:::b"
        )

    passes(logged, "vpc-flow-logs")


def test_the_default_security_group_is_adopted_and_empty():
    violates(lambda: vpc(hygiene=False), "vpc-default-security-group-closed")

    def closed():
        v = vpc(hygiene=False)
        aws.ec2.DefaultSecurityGroup("d", vpc_id=v.vpc_id)

    def reopened():
        v = vpc(hygiene=False)
        aws.ec2.DefaultSecurityGroup(
            "d",
            vpc_id=v.vpc_id,
            egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
        )

    passes(closed, "vpc-default-security-group-closed")
    violates(reopened, "vpc-default-security-group-closed")


def test_the_network_empties_its_vpcs_default_security_group():
    graph = evaluate_fixture(PRODLIKE)
    vpcs = graph.of_type("awsx:ec2:Vpc")
    groups = graph.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert len(vpcs) == 1 and len(groups) == 1
    assert not groups[0].inputs.get("ingress") and not groups[0].inputs.get("egress")
    assert vpcs[0].urn in {d for deps in groups[0].property_dependencies.values() for d in deps}

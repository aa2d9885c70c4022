"""What the program builds by construction, as rules: each with a violating and a compliant resource."""

import json

import pulumi_aws as aws
from policy_helpers import passes, violates

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:alarms"


def test_log_retention_at_least_the_configured_minimum():
    minimum = {"log-group-retention": {"minimumRetentionDays": 365}}
    found = violates(
        lambda: aws.cloudwatch.LogGroup("g", retention_in_days=30), "log-group-retention", "advisory", config=minimum
    )
    assert "at least 365 days" in found[0].message
    passes(lambda: aws.cloudwatch.LogGroup("g", retention_in_days=365), "log-group-retention", config=minimum)
    passes(lambda: aws.cloudwatch.LogGroup("g", retention_in_days=30), "log-group-retention", config={})


def group(description="Lets the load balancer reach the web tasks", rule_description="HTTP from the ALB"):
    ingress = {"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": ["10.0.0.0/16"]}
    if rule_description is not None:
        ingress["description"] = rule_description
    return lambda: aws.ec2.SecurityGroup("sg", description=description, ingress=[ingress])


def test_security_groups_and_their_rules_are_described():
    violates(group(description="Managed by Pulumi"), "sg-descriptions", "advisory")
    found = violates(group(rule_description=None), "sg-descriptions", "advisory")
    assert "ingress[0]" in found[0].message
    violates(
        lambda: aws.vpc.SecurityGroupIngressRule(
            "r", security_group_id="sg-1", ip_protocol="tcp", from_port=5432, to_port=5432, cidr_ipv4="10.0.0.0/16"
        ),
        "sg-descriptions",
        "advisory",
    )
    passes(group(), "sg-descriptions")
    passes(
        lambda: aws.ec2.SecurityGroup("sg", description=aws.ec2.Vpc("v", cidr_block="10.0.0.0/16").id),
        "sg-descriptions",
        preview=True,
    )


def test_no_default_vpc():
    violates(lambda: aws.ec2.DefaultVpc("default"), "no-default-vpc", "advisory")
    passes(lambda: aws.ec2.Vpc("v", cidr_block="10.0.0.0/16"), "no-default-vpc")


def bucket(rules=None, ownership="BucketOwnerEnforced"):
    def program():
        b = aws.s3.Bucket("b")
        if rules is not None:
            aws.s3.BucketLifecycleConfiguration("b", bucket=b.id, rules=rules)
        if ownership is not None:
            aws.s3.BucketOwnershipControls("b", bucket=b.id, rule={"object_ownership": ownership})

    return program


EXPIRE = {"id": "expire", "status": "Enabled", "filter": {}, "expiration": {"days": 30}}
ABORT = {**EXPIRE, "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}


def test_buckets_have_lifecycle_rules_that_abort_multipart_uploads():
    violates(bucket(rules=None), "s3-lifecycle", "advisory")
    found = violates(bucket(rules=[EXPIRE]), "s3-lifecycle", "advisory")
    assert "multipart" in found[0].message
    violates(bucket(rules=[{**ABORT, "status": "Disabled"}]), "s3-lifecycle", "advisory")
    passes(bucket(rules=[ABORT]), "s3-lifecycle")
    passes(bucket(rules=[ABORT]), "s3-lifecycle", preview=True)


def test_buckets_disable_acls():
    violates(bucket(rules=[ABORT], ownership=None), "s3-acls-disabled", "advisory")
    violates(bucket(rules=[ABORT], ownership="ObjectWriter"), "s3-acls-disabled", "advisory")
    passes(bucket(rules=[ABORT]), "s3-acls-disabled")
    passes(bucket(rules=[ABORT]), "s3-acls-disabled", preview=True)


def test_secrets_use_a_customer_managed_key():
    violates(lambda: aws.secretsmanager.Secret("s"), "secret-encrypted-with-cmk")
    violates(lambda: aws.secretsmanager.Secret("s", kms_key_id="alias/aws/secretsmanager"), "secret-encrypted-with-cmk")
    passes(lambda: aws.secretsmanager.Secret("s", kms_key_id=aws.kms.Key("k").arn), "secret-encrypted-with-cmk")
    passes(
        lambda: aws.secretsmanager.Secret("s", kms_key_id=aws.kms.Key("k").arn),
        "secret-encrypted-with-cmk",
        preview=True,
    )


def test_rds_takes_minor_upgrades():
    from policy_helpers import DB_ARGS

    violates(
        lambda: aws.rds.Instance("db", auto_minor_version_upgrade=False, **DB_ARGS),
        "rds-auto-minor-upgrade",
        "advisory",
    )
    passes(lambda: aws.rds.Instance("db", **DB_ARGS), "rds-auto-minor-upgrade")


def task(task_role, execution_role):
    return lambda: aws.ecs.TaskDefinition(
        "t",
        family="t",
        container_definitions=json.dumps([{"name": "app", "image": "nginx", "essential": True}]),
        task_role_arn=task_role() if callable(task_role) else task_role,
        execution_role_arn=execution_role,
    )


def test_task_and_execution_roles_differ():
    role = f"arn:aws:iam::{ACCOUNT}:role/app"
    violates(task(role, role), "ecs-separate-task-and-execution-roles", "advisory")
    passes(task(f"arn:aws:iam::{ACCOUNT}:role/app-task", role), "ecs-separate-task-and-execution-roles")
    unknown = lambda: aws.iam.Role("r", assume_role_policy="{}").arn  # noqa: E731
    passes(task(unknown, role), "ecs-separate-task-and-execution-roles", preview=True)


def alarm(**kwargs):
    return lambda: aws.cloudwatch.MetricAlarm(
        "a",
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=1,
        metric_name="CPUUtilization",
        namespace="AWS/ECS",
        period=60,
        statistic="Average",
        threshold=80,
        alarm_actions=[TOPIC],
        **kwargs,
    )


def test_alarm_actions_are_enabled():
    violates(alarm(actions_enabled=False), "cloudwatch-alarm-actions-enabled", "advisory")
    passes(alarm(), "cloudwatch-alarm-actions-enabled")


def topic_policy(principal, condition=None):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sns:Publish", "Resource": TOPIC}
    if condition:
        statement["Condition"] = condition
    return lambda: aws.sns.TopicPolicy(
        "p", arn=TOPIC, policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def test_topic_policies_grant_no_other_account_unconditionally():
    found = violates(topic_policy({"AWS": "arn:aws:iam::210987654321:root"}), "sns-topic-policy-no-cross-account")
    assert "210987654321" in found[0].message
    violates(topic_policy({"AWS": "210987654321"}), "sns-topic-policy-no-cross-account")
    passes(topic_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), "sns-topic-policy-no-cross-account")
    passes(
        topic_policy(
            {"AWS": "arn:aws:iam::210987654321:root"}, {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{ACCOUNT}-b"}}
        ),
        "sns-topic-policy-no-cross-account",
    )
    passes(
        lambda: aws.sns.TopicPolicy("p", arn=aws.sns.Topic("t").arn, policy="{}"),
        "sns-topic-policy-no-cross-account",
        preview=True,
    )

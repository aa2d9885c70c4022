"""Environment-wide monitoring: the alarm topic every service's alarms notify, and one dashboard.

CloudWatch alarms cannot publish to an SNS topic encrypted with the AWS-managed
`alias/aws/sns` key (its key policy cannot be changed to let CloudWatch use it), so the
topic gets a customer-managed key whose policy lets `cloudwatch.amazonaws.com` generate
data keys and decrypt on behalf of this account's alarms only, and nothing else outside
the account.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.account import current_account
from components.config import MonitoringConfig
from components.naming import Naming

if TYPE_CHECKING:
    from components.cluster import Cluster
    from components.service import Service

# What the account root may do with the key: administer it and use it. Listed one by one
# (no kms:*), PutKeyPolicy included so the key can never become unmanageable.
_KEY_OWNER_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]


@dataclass(frozen=True)
class AlarmTopicArgs:
    config: MonitoringConfig
    naming: Naming
    region: str


class AlarmTopic(pulumi.ComponentResource):
    """The environment's SNS topic for alarms: KMS-encrypted, CloudWatch may publish, email subscribers from config."""

    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:monitoring:AlarmTopic", name, None, opts)
        naming = args.naming
        account = current_account(self)
        account, partition = account.id, account.partition
        topic_name = naming.name("alarms", "sns_topic")
        topic_arn = f"arn:{partition}:sns:{args.region}:{account}:{topic_name}"
        alarms_of_this_account = {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{args.region}:{account}:alarm:*"},
        }

        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the alarm topic {topic_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountOwnsTheKey",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                            "Action": _KEY_OWNER_ACTIONS,
                            "Resource": "*",  # in a key policy, "*" means this key
                        },
                        {
                            # Only alarms of this account and region: without these conditions any
                            # account's alarms could use the key through CloudWatch (the confused
                            # deputy). CloudWatch sends both keys with its KMS requests for an
                            # encrypted topic, the same ones the topic policy checks ("Enable
                            # compatibility between event sources from AWS services and encrypted
                            # topics", Amazon SNS Developer Guide).
                            "Sid": "CloudWatchAlarmsPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": "*",
                            "Condition": alarms_of_this_account,
                        },
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(
            f"{name}-key",
            name=f"alias/{naming.name('alarms', 'kms_alias')}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=key),
        )
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            kms_master_key_id=key.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicPolicy(
            f"{name}-topic",
            arn=topic.arn,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudWatchAlarmsOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic_arn,
                            "Condition": alarms_of_this_account,
                        },
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sns:Publish",
                            "Resource": topic_arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=topic),
        )
        for email in args.config.alarm_emails:
            # Each address gets a confirmation mail from AWS; nothing arrives until it is confirmed.
            aws.sns.TopicSubscription(
                f"{name}-{email}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=pulumi.ResourceOptions(parent=topic),
            )

        self.topic_arn = topic.arn
        self.key_arn = key.arn
        self.register_outputs({"topicArn": self.topic_arn, "keyArn": self.key_arn})


@dataclass(frozen=True)
class DashboardArgs:
    naming: Naming
    region: str
    cluster: Cluster
    services: Sequence[Service]


class Dashboard(pulumi.ComponentResource):
    """One CloudWatch dashboard for the environment: a row per service (CPU, memory, and ALB metrics if public)."""

    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:monitoring:Dashboard", name, None, opts)
        region, cluster = args.region, args.cluster
        widgets: list[dict] = []
        for row, service in enumerate(args.services):
            y = row * 6
            ecs = {"ClusterName": cluster.cluster_name, "ServiceName": service.service_name}
            widgets.append(
                _widget(
                    f"{service.name}: CPU and memory (%)",
                    region,
                    [
                        ["AWS/ECS", "CPUUtilization", *_dims(ecs), {"label": "CPU"}],
                        ["AWS/ECS", "MemoryUtilization", *_dims(ecs), {"label": "memory"}],
                    ],
                    x=0,
                    y=y,
                )
            )
            if service.target_group_arn_suffix is None:
                continue
            alb = {"LoadBalancer": cluster.alb_arn_suffix, "TargetGroup": service.target_group_arn_suffix}
            widgets.append(
                _widget(
                    f"{service.name}: requests and errors",
                    region,
                    [
                        ["AWS/ApplicationELB", "RequestCount", *_dims(alb), {"stat": "Sum", "label": "requests"}],
                        [
                            "AWS/ApplicationELB",
                            "HTTPCode_Target_5XX_Count",
                            *_dims(alb),
                            {"stat": "Sum", "label": "5xx"},
                        ],
                        [
                            "AWS/ApplicationELB",
                            "HTTPCode_Target_4XX_Count",
                            *_dims(alb),
                            {"stat": "Sum", "label": "4xx"},
                        ],
                    ],
                    x=8,
                    y=y,
                )
            )
            widgets.append(
                _widget(
                    f"{service.name}: response time and healthy tasks",
                    region,
                    [
                        ["AWS/ApplicationELB", "TargetResponseTime", *_dims(alb), {"stat": "p95", "label": "p95 s"}],
                        ["AWS/ApplicationELB", "HealthyHostCount", *_dims(alb), {"stat": "Minimum", "yAxis": "right"}],
                    ],
                    x=16,
                    y=y,
                )
            )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.naming.name("services"),
            dashboard_body=pulumi.Output.json_dumps({"widgets": widgets}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"dashboardName": self.dashboard_name})


def _dims(dimensions: dict) -> list:
    return [part for pair in dimensions.items() for part in pair]


def _widget(title: str, region: str, metrics: list, *, x: int, y: int) -> dict:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 8,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stat": "Average",
            "period": 60,
            "metrics": metrics,
        },
    }

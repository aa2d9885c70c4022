"""Environment-wide monitoring: the alarm topic every service's alarms notify, and one dashboard.

CloudWatch alarms cannot publish to an SNS topic encrypted with the AWS-managed
`alias/aws/sns` key (its key policy cannot be changed to let CloudWatch use it), so the
topic gets a customer-managed key whose policy lets `cloudwatch.amazonaws.com` generate
data keys and decrypt on behalf of this account's alarms only, and nothing else outside
the account.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import MonitoringConfig
from components.contracts import ClusterRefs, ServiceRefs
from components.iam import allow, deny, document
from components.kms import encryption_key, key_policy, logs_key, service_grant
from components.naming import Naming
from policies.guardrails.types import LOG_GROUP


@dataclass(frozen=True)
class AlarmTopicArgs:
    config: MonitoringConfig
    naming: Naming
    account: Account


class AlarmTopic(pulumi.ComponentResource):
    """The environment's SNS topic for alarms: KMS-encrypted, CloudWatch may publish, email subscribers from config."""

    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:monitoring:AlarmTopic", name, None, opts)
        naming, account = args.naming, args.account
        topic_name = naming.name("alarms", "sns_topic")
        topic_arn = account.arn("sns", topic_name)
        alarms_of_this_account = {
            "StringEquals": {"aws:SourceAccount": account.id},
            "ArnLike": {"aws:SourceArn": account.arn("cloudwatch", "alarm:*")},
        }

        key = encryption_key(
            name,
            alias=naming.name("alarms", "kms_alias"),
            description=f"Encrypts the alarm topic {topic_name}",
            parent=self,
            policy=key_policy(
                account,
                # Only alarms of this account and region: without these conditions any account's
                # alarms could use the key through CloudWatch (the confused deputy). CloudWatch
                # sends both keys with its KMS requests for an encrypted topic, the same ones the
                # topic policy checks ("Enable compatibility between event sources from AWS
                # services and encrypted topics", Amazon SNS Developer Guide).
                service_grant(
                    "CloudWatchAlarmsPublish",
                    "cloudwatch.amazonaws.com",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    alarms_of_this_account,
                ),
            ),
        )
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            kms_master_key_id=key.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
        plain_http = {"Bool": {"aws:SecureTransport": "false"}}
        aws.sns.TopicPolicy(
            f"{name}-topic",
            arn=topic.arn,
            policy=document(
                [
                    allow(
                        "CloudWatchAlarmsOfThisAccount",
                        "sns:Publish",
                        topic_arn,
                        principal=cloudwatch,
                        condition=alarms_of_this_account,
                    ),
                    deny("TlsOnly", "sns:Publish", topic_arn, principal="*", condition=plain_http),
                ]
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
class LogsKeyArgs:
    naming: Naming
    account: Account


class LogsKey(pulumi.ComponentResource):
    """One customer managed key for every log group of the environment (`monitoring.logsKmsKey`).

    Built before anything else: from then on a stack transformation gives every log group the program registers
    (whichever component makes it, now or later) this key, unless it names a key of its own (the AWS WAF log
    group). The key policy lets CloudWatch Logs use it for the environment's log group names only; a log group
    named outside them would fail at create, so the program refuses it first.
    """

    key_arn: pulumi.Output[str]
    log_groups: tuple[str, ...]  # the name patterns the key policy allows

    def __init__(self, name: str, args: LogsKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:monitoring:LogsKey", name, None, opts)
        naming = args.naming
        stack = f"{naming.project}-{naming.env}"
        self.log_groups = (
            naming.path("*"),  # services, builds, flow logs: /<project>/<env>/...
            f"/aws/rds/instance/{stack.lower()}-*",  # RDS log exports, named by RDS after the instance
            f"/aws/vendedlogs/states/{stack}-*",  # Step Functions' vended-logs prefix
        )
        key = logs_key(
            name,
            alias=naming.name("logs", "kms_alias"),
            description=f"Encrypts the CloudWatch log groups of {stack}",
            account=args.account,
            log_groups=self.log_groups,
            parent=self,
            # Groups outlive the setting: turned off, the key would be scheduled for deletion while the
            # groups still hold data it encrypted, which CloudWatch Logs then cannot read ("Encrypt log data
            # in CloudWatch Logs using AWS KMS"). Deleting it takes `pulumi state unprotect` after retention.
            protect=True,
        )
        self.key_arn = key.arn
        pulumi.runtime.register_stack_transformation(self._encrypt)
        self.register_outputs({"keyArn": self.key_arn})

    def _encrypt(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != LOG_GROUP or args.props.get("kms_key_id") is not None:
            return None
        group = args.props.get("name")
        if isinstance(group, str) and not any(fnmatch.fnmatchcase(group, p) for p in self.log_groups):
            raise pulumi.RunError(
                f"log group {group} is outside the names the logs key may encrypt ({', '.join(self.log_groups)}): "
                "CloudWatch Logs would refuse to create it. Name it under one of them (components/monitoring.py)."
            )
        # The ARN, not the key id or alias: CloudWatch Logs accepts only a key ARN ("Associate a KMS key with a
        # log group", Amazon CloudWatch Logs user guide). The Output carries the dependency on the key.
        return pulumi.ResourceTransformationResult(props={**args.props, "kms_key_id": self.key_arn}, opts=args.opts)


@dataclass(frozen=True)
class DashboardArgs:
    naming: Naming
    account: Account
    cluster: ClusterRefs
    services: Sequence[ServiceRefs]


class Dashboard(pulumi.ComponentResource):
    """One CloudWatch dashboard for the environment: a row per service (CPU, memory, and ALB metrics if public)."""

    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:monitoring:Dashboard", name, None, opts)
        region, cluster = args.account.region, args.cluster
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

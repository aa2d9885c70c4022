"""Redeploys the services that read the database's master password whenever RDS rotates it.

ECS reads a container secret once, when the task starts. RDS rotates its managed master
secret every 7 days by default; from then on, every new connection a running task opens
with the old password fails. So the moment the new password becomes current, the services
that read it as an ECS secret start new tasks, which read the new value:

    Secrets Manager "Secret Label Updated" (AWSCURRENT moved, on this secret only)
      -> EventBridge rule -> Step Functions state machine
      -> ecs:UpdateService forceNewDeployment, in parallel, for exactly those services

Secrets Manager publishes "Secret Label Updated" to the default event bus itself when a
staging label moves to a new version ("Secret event notifications" and "Secret Label
Updated event", Secrets Manager User Guide): rotation moves AWSCURRENT at its last step,
after the database already accepts the new password. Unlike the CloudTrail-derived
`RotationSucceeded` event it needs no trail, names the secret's ARN in `resources` (so the
rule can match exactly this secret), and also fires when someone rotates by hand or restores
a version. The state machine calls ECS directly through the AWS SDK integration
(`arn:aws:states:::aws-sdk:ecs:updateService`): no function to build, patch or pay for.
A failed execution raises the environment's alarm.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import RetentionDays
from components.contracts import ServiceRefs
from components.iam import allow, inline_policy, output_document, trust_policy
from components.naming import Naming, cut

# Actions the Step Functions role needs to deliver execution logs to CloudWatch Logs ("Using
# CloudWatch Logs to log execution history in Step Functions", Step Functions Developer Guide).
# AWS offers no resource to scope any of them to. PutResourcePolicy, with which the delivery
# lets itself write to the log group, is a permissions-management action and stands alone.
_LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:UpdateLogDelivery",
]

# Name limits of the two resources whose ARNs the trust policies name before they exist.
_STATE_MACHINE_NAME = 80
_EVENT_RULE_NAME = 64


@dataclass(frozen=True)
class RotationRedeployArgs:
    naming: Naming
    account: Account
    secret_arn: pulumi.Input[str]  # the database's master secret
    services: Sequence[ServiceRefs]  # those that read it
    alarm_topic_arn: pulumi.Input[str]
    log_retention_days: RetentionDays = 30


class RotationRedeploy(pulumi.ComponentResource):
    """Rule, state machine, roles, log group and alarm that redeploy `services` after the secret rotates."""

    state_machine_arn: pulumi.Output[str]
    rule_name: pulumi.Output[str]

    def __init__(self, name: str, args: RotationRedeployArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:database:RotationRedeploy", name, None, opts)
        if not args.services:
            raise ValueError("a rotation redeploy needs at least one service that reads the password")
        naming, account = args.naming, args.account
        child = pulumi.ResourceOptions(parent=self)

        # Fixed names: the trust policies below name both ARNs before either resource exists.
        machine_name = cut(naming.name("db-secret-redeploy"), _STATE_MACHINE_NAME)
        machine_arn = account.arn("states", f"stateMachine:{machine_name}")
        rule_name = cut(naming.name("db-secret-rotated"), _EVENT_RULE_NAME)
        rule_arn = account.arn("events", f"rule/{rule_name}")

        service_arns = [
            pulumi.Output.concat(account.arn("ecs", "service/"), s.cluster_name, "/", s.service_name)
            for s in args.services
        ]

        # Vended-logs prefix: Step Functions adds its delivery to one resource policy for all
        # /aws/vendedlogs/* groups instead of one per group (policy size is limited).
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/vendedlogs/states/{machine_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )

        machine_role = aws.iam.Role(
            f"{name}-machine",
            name_prefix=naming.prefix("db-redeploy-sfn", "iam_role_prefix"),
            description="Step Functions forces a new deployment of the services that read the database secret",
            assume_role_policy=trust_policy("states.amazonaws.com", account.id, machine_arn),
            opts=child,
        )
        inline_policy(
            f"{name}-machine",
            machine_role,
            output_document(
                [
                    # UpdateService with forceNewDeployment and the same task definition passes no
                    # role, so no iam:PassRole.
                    allow("RedeployTheServicesThatReadTheSecret", "ecs:UpdateService", service_arns),
                    allow("DeliverExecutionLogs", _LOG_DELIVERY_ACTIONS, "*"),
                    allow("LetTheLogDeliveryWriteToTheGroup", "logs:PutResourcePolicy", "*"),
                ]
            ),
        )

        definition = pulumi.Output.all(
            *[pulumi.Output.all(s.name, s.cluster_name, s.service_name) for s in args.services]
        ).apply(lambda services: _definition(account.partition, services))
        machine = aws.sfn.StateMachine(
            f"{name}-machine",
            name=machine_name,
            type="STANDARD",
            role_arn=machine_role.arn,
            definition=definition,
            logging_configuration={
                "log_destination": pulumi.Output.concat(log_group.arn, ":*"),
                "include_execution_data": True,  # the event names the secret, never its value
                "level": "ALL",
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )
        self.state_machine_arn = machine.arn

        events_role = aws.iam.Role(
            f"{name}-events",
            name_prefix=naming.prefix("db-redeploy-events", "iam_role_prefix"),
            description="EventBridge starts the redeploy state machine when the database secret rotates",
            assume_role_policy=trust_policy("events.amazonaws.com", account.id, rule_arn),
            opts=child,
        )
        inline_policy(
            f"{name}-events",
            events_role,
            output_document([allow("StartTheRedeploy", "states:StartExecution", machine.arn)]),
        )

        rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=rule_name,
            description="The database master secret has a new current version (rotation or manual change)",
            event_pattern=pulumi.Output.json_dumps(
                {
                    "source": ["aws.secretsmanager"],
                    "detail-type": ["Secret Label Updated"],
                    "resources": [args.secret_arn],
                    "detail": {"labelUpdated": ["AWSCURRENT"]},
                }
            ),
            opts=child,
        )
        self.rule_name = rule.name
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=rule.name,
            arn=machine.arn,
            role_arn=events_role.arn,
            opts=pulumi.ResourceOptions(parent=rule),
        )

        aws.cloudwatch.MetricAlarm(
            f"{name}-failed",
            name=naming.name("db-secret-redeploy-failed"),
            alarm_description=(
                "A redeploy after the database secret rotated failed: services may still hold the old password"
            ),
            namespace="AWS/States",
            metric_name="ExecutionsFailed",
            dimensions={"StateMachineArn": machine.arn},
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn],
            opts=child,
        )

        self.register_outputs({"stateMachineArn": self.state_machine_arn, "ruleName": self.rule_name})


def _definition(partition: str, services: list[list[str]]) -> str:
    """An Amazon States Language document: one branch per service, each one ecs:UpdateService call.

    Parallel branches: every service starts its new tasks at once, so the time any service
    runs on the old password is one deployment, not the sum of them. Throttling and other
    transient errors are retried with backoff.
    """

    def branch(service: str, cluster: str, ecs_service: str) -> dict:
        state = f"Redeploy {service}"
        return {
            "StartAt": state,
            "States": {
                state: {
                    "Type": "Task",
                    "Resource": f"arn:{partition}:states:::aws-sdk:ecs:updateService",
                    "Parameters": {"Cluster": cluster, "Service": ecs_service, "ForceNewDeployment": True},
                    "Retry": [
                        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 5, "BackoffRate": 2}
                    ],
                    "End": True,
                }
            },
        }

    return json.dumps(
        {
            "Comment": "Start new tasks of the services that read the database master secret",
            "StartAt": "Redeploy",
            "States": {"Redeploy": {"Type": "Parallel", "Branches": [branch(*s) for s in services], "End": True}},
        }
    )

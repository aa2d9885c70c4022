"""`ecs-platform:monitoring`: the alarm topic and the thresholds of every service's alarms."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from components.config.base import Model


class MonitoringConfig(Model):
    """The environment's alarm topic and the thresholds of every service's alarms.

    The alarm topic is encrypted with a customer-managed KMS key (rotation on) whose policy lets
    CloudWatch use it: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key.
    One dashboard per environment (`{project}-{env}-services`) shows every service.
    """

    alarm_emails: list[str] = Field(
        [],
        description=(
            "Email addresses subscribed to the environment's alarm topic (each confirms a mail from AWS first). "
            "Pipeline approval notices go to the same topic."
        ),
    )
    cpu_high_percent: int = Field(80, ge=1, le=100, description="CPU alarm threshold of every service, in percent.")
    memory_high_percent: int = Field(
        80, ge=1, le=100, description="Memory alarm threshold of every service, in percent."
    )
    # The generated camelCase would read target5XxPerMinute.
    target_5xx_per_minute: int = Field(
        5,
        ge=1,
        alias="target5xxPerMinute",
        description="5xx responses from a public service's tasks per minute that raise its alarm.",
    )
    evaluation_minutes: int = Field(5, ge=1, le=60, description="Minutes a condition must hold before an alarm fires.")
    logs_kms_key: bool = Field(
        False,
        description=(
            "Encrypt every CloudWatch log group the environment creates (services, builds, flow logs, database "
            "exports, the rotation state machine) with one customer managed KMS key of the stack (about $1 a month) "
            "instead of CloudWatch Logs' own encryption. The AWS WAF log group has its own key either way. Groups AWS "
            "creates itself keep CloudWatch Logs' encryption: Container Insights' performance group and RDS "
            "Enhanced Monitoring's account-wide RDSOSMetrics. The key is protected: turned off, the groups keep data "
            "only it can decrypt, so remove it with `pulumi state unprotect` once their retention has passed."
        ),
    )

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", email):
                raise ValueError(f"{email!r} is not an email address")
        return emails

"""A service's alarms, to the environment's topic: CPU and memory high for every service; target 5xx
and unhealthy tasks for public ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import MonitoringConfig
from components.naming import Naming


@dataclass(frozen=True)
class _Alarm:
    namespace: str
    metric: str
    statistic: str
    threshold: int
    dimensions: Mapping[str, pulumi.Input[str]]
    meaning: str  # what crossing it means; {t} is the threshold


def alarms(
    parent: pulumi.Resource,
    name: str,
    service: str,
    monitoring: MonitoringConfig,
    naming: Naming,
    topic_arn: pulumi.Input[str],
    ecs: Mapping[str, pulumi.Input[str]],
    alb: Mapping[str, pulumi.Input[str]] | None,
) -> None:
    """`ecs` and `alb`: the metric dimensions of the service (ClusterName, ServiceName) and of its target group."""
    mon = monitoring
    found = {
        "cpu-high": _Alarm("AWS/ECS", "CPUUtilization", "Average", mon.cpu_high_percent, ecs, "CPU above {t}%"),
        "memory-high": _Alarm(
            "AWS/ECS", "MemoryUtilization", "Average", mon.memory_high_percent, ecs, "memory above {t}%"
        ),
    }
    if alb is not None:
        found["target-5xx"] = _Alarm(
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            "Sum",
            mon.target_5xx_per_minute,
            alb,
            "{t} or more 5xx responses a minute",
        )
        found["unhealthy-tasks"] = _Alarm(
            "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", 1, alb, "{t} or more tasks failing health checks"
        )
    for alarm, spec in found.items():
        meaning = spec.meaning.format(t=spec.threshold)
        aws.cloudwatch.MetricAlarm(
            f"{name}-{alarm}",
            name=naming.name(f"{service}-{alarm}"),
            alarm_description=f"{service}: {meaning} for {mon.evaluation_minutes} minutes",
            namespace=spec.namespace,
            metric_name=spec.metric,
            statistic=spec.statistic,
            dimensions=spec.dimensions,
            period=60,
            evaluation_periods=mon.evaluation_minutes,
            threshold=spec.threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            opts=pulumi.ResourceOptions(parent=parent),
        )

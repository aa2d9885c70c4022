"""Target-tracking autoscaling of a service's task count: on CPU, and on requests per task for public services."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import AutoscalingConfig


def autoscale(
    parent: pulumi.Resource,
    name: str,
    scaling: AutoscalingConfig,
    cluster_name: pulumi.Input[str],
    service_name: pulumi.Input[str],
    requests_label: pulumi.Input[str] | None,
) -> None:
    """A scalable target between min and max tasks and one tracking policy per configured metric.

    `requests_label` is `<ALB arn suffix>/<target group arn suffix>`, the ALBRequestCountPerTarget
    resource label; None for internal services, which scale on CPU only.
    """
    target = aws.appautoscaling.Target(
        f"{name}-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster_name, "/", service_name),
        min_capacity=scaling.min_tasks,
        max_capacity=scaling.max_tasks,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policies: dict[str, dict] = {}
    if scaling.cpu_target is not None:
        policies["cpu"] = {
            "target_value": scaling.cpu_target,
            "predefined_metric_specification": {"predefined_metric_type": "ECSServiceAverageCPUUtilization"},
        }
    if scaling.requests_per_target is not None and requests_label is not None:
        policies["requests"] = {
            "target_value": scaling.requests_per_target,
            "predefined_metric_specification": {
                "predefined_metric_type": "ALBRequestCountPerTarget",
                "resource_label": requests_label,
            },
        }
    for metric, tracking in policies.items():
        aws.appautoscaling.Policy(
            f"{name}-scale-on-{metric}",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                **tracking,
                "scale_in_cooldown": scaling.scale_in_cooldown,
                "scale_out_cooldown": scaling.scale_out_cooldown,
            },
            opts=pulumi.ResourceOptions(parent=target),
        )

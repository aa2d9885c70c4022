"""`autoscaling` of a service: task count range and target-tracking policies."""

from __future__ import annotations

from pydantic import Field, model_validator

from components.config.base import Model, Problem, fail


class AutoscalingConfig(Model):
    """Task count range and target-tracking policies; at least one policy.

    With autoscaling, `pulumi up` leaves the running count alone.
    """

    min_tasks: int = Field(1, ge=1, le=1000, description="The fewest tasks; also the count a new service starts with.")
    max_tasks: int = Field(ge=1, le=1000, description="The most tasks, at least `minTasks`.")
    cpu_target: int | None = Field(None, ge=10, le=90, description="Average CPU (percent) the policy keeps tasks at.")
    requests_per_target: int | None = Field(
        None, ge=1, le=100000, description="ALB requests per task per minute the policy aims at (public services)."
    )
    scale_in_cooldown: int = Field(300, ge=0, le=3600, description="Seconds after a scale-in before the next one.")
    scale_out_cooldown: int = Field(60, ge=0, le=3600, description="Seconds after a scale-out before the next one.")

    @model_validator(mode="after")
    def _range_and_policy(self) -> AutoscalingConfig:
        problems: list[Problem] = []
        if self.max_tasks < self.min_tasks:
            problems.append((("max_tasks",), f"must be at least minTasks ({self.min_tasks})", self.max_tasks))
        if self.cpu_target is None and self.requests_per_target is None:
            problems.append(
                (
                    ("requests_per_target",),
                    "set cpuTarget and/or requestsPerTarget: autoscaling needs a policy",
                    self.requests_per_target,
                )
            )
        fail(problems)
        return self

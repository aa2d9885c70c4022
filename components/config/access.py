"""What a service may do beyond running: task-role grants, and how it reaches the stack's database."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from components.config.base import Model, field_error
from policies.guardrails import iam_actions

# Role names PostgreSQL or RDS keep for themselves: `pg_*` (PostgreSQL reserves the prefix), RDS's
# own `rds*` roles (rdsadmin, rds_superuser, rds_iam ...), and the names CREATE ROLE refuses.
_RESERVED_DB_USERS = re.compile(r"^(pg_.*|rds.*|public|none|current_user|current_role|session_user)$")
_DB_USER = r"^[a-z_][a-z0-9_]{0,62}$"


class GrantConfig(Model):
    """One statement of the task role: explicit actions on explicit resources."""

    actions: list[str] = Field(
        min_length=1, description="IAM actions, each named (`s3:GetObject`): no wildcards, no `service:*`."
    )
    resources: list[str] = Field(
        min_length=1,
        description=(
            'ARNs the actions apply to. `"*"` only when every action is one AWS cannot scope to a resource '
            "(the Service Authorization Reference lists no resource type for it, e.g. `cloudwatch:PutMetricData`, "
            "`xray:PutTraceSegments`, `ecr:GetAuthorizationToken`): the same rule, from the same IAM action "
            "database, as the policy pack's `iam-star-resource-only-unscopable`."
        ),
    )

    @field_validator("actions")
    @classmethod
    def _no_wildcards(cls, actions: list[str]) -> list[str]:
        for action in actions:
            if "*" in action or "?" in action:
                raise ValueError(f"{action}: wildcard actions are not allowed; name each action, e.g. s3:GetObject")
            if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action):
                raise ValueError(f"{action!r} is not an IAM action such as s3:GetObject")
        return actions

    @field_validator("resources")
    @classmethod
    def _arns(cls, resources: list[str]) -> list[str]:
        for resource in resources:
            if resource != "*" and not resource.startswith("arn:"):
                raise ValueError(f"{resource!r} is not an ARN")
        return resources

    @model_validator(mode="after")
    def _scoped(self) -> GrantConfig:
        # One rule with the pack: an action may take "*" only when AWS's reference gives it no
        # resource type (an action the database does not know is not shown to be unscopable).
        scopable = sorted(a for a in set(self.actions) if iam_actions.resource_scopable(a) is not False)
        if "*" in self.resources and scopable:
            raise field_error(
                "resources",
                f'"*" is only allowed for actions AWS cannot scope; name the resources of {", ".join(scopable)}',
                self.resources,
            )
        return self


def db_user_problem(user: str) -> str | None:
    """Why `user` cannot be the PostgreSQL user of an IAM-authenticated service, or None."""
    if not re.fullmatch(_DB_USER, user):
        # Lower case only: PostgreSQL folds unquoted names to lower case, while the IAM
        # dbuser ARN and the auth token match the name exactly.
        return "must be a lower-case PostgreSQL user name: a letter or _, then letters, digits or _ (at most 63)"
    if _RESERVED_DB_USERS.match(user):
        return f"{user} is reserved by PostgreSQL or RDS"
    return None


class DatabaseAccessConfig(Model):
    """How one service reaches the stack's database: the master password, or IAM authentication as its own user."""

    iam_auth: bool = Field(
        False,
        description=(
            "`true`: IAM database authentication (turns it on for the instance): the service logs in as a database "
            "user of its own with a 15-minute token from its task role."
        ),
    )
    user: str | None = Field(
        None,
        description=(
            "With `iamAuth`: the PostgreSQL user the service logs in as. Lower case, a letter or `_` then letters, "
            "digits or `_`, at most 63; not `pg_*`, `rds*`, `public` or the master user."
        ),
        json_schema_extra={"defaultText": "service name, `-` as `_`"},
    )

    @model_validator(mode="after")
    def _iam_user(self) -> DatabaseAccessConfig:
        if self.user is None:
            return self
        if not self.iam_auth:
            raise field_error("user", "a user applies to IAM authentication only; set iamAuth: true", self.user)
        if problem := db_user_problem(self.user):
            raise field_error("user", problem, self.user)
        return self


def _database_shorthand(value: Any) -> Any:
    if value is True:
        return {}
    if value is False or value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("must be true, false, or a mapping such as {iamAuth: true, user: app}")
    return value


def database_access_schema(schema: dict[str, Any]) -> None:
    # `database: true` is the master-password shorthand the model turns into the mapping.
    schema["anyOf"].insert(0, {"type": "boolean"})
    schema["defaultText"] = "`false`"


# `true` (the master password), `false`, or the mapping.
DatabaseAccess = Annotated[DatabaseAccessConfig | None, BeforeValidator(_database_shorthand)]

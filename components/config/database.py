"""`ecs-platform:database`: RDS for PostgreSQL."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import Model, Problem, RetentionDays, fail, given

# PostgreSQL majors RDS offers for new instances with standard support. 18 is the newest
# generally available major; 13 and older are in (paid) RDS Extended Support only.
PostgresMajor = Literal["14", "15", "16", "17", "18"]

# Current-generation RDS instance class families that run PostgreSQL (db.<family>.<size>).
DB_INSTANCE_FAMILIES = (
    *("t3", "t4g"),
    *("m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6idn", "m6in", "m7g", "m7i", "m8g", "m8gd"),
    *("r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6idn", "r6in", "r7g", "r7i", "r8g", "r8gd"),
    *("x2g", "x2idn", "x2iedn"),
)

# gp3 storage limits of RDS for PostgreSQL, in GiB.
GP3_MIN_GIB, GP3_MAX_GIB = 20, 65536

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = r"([01]\d|2[0-3]):([0-5]\d)"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _window_minutes(window: str, weekly: bool) -> tuple[int, int]:
    """(start, end) in minutes from Monday 00:00 (weekly) or midnight (daily); end may pass the wrap."""
    if weekly:
        match = re.fullmatch(rf"({'|'.join(_DAYS)}):{_HHMM}-({'|'.join(_DAYS)}):{_HHMM}", window.lower())
        if not match:
            raise ValueError("must read ddd:hh24:mi-ddd:hh24:mi in UTC, for example sun:04:00-sun:05:00")
        start = _DAYS.index(match[1]) * 1440 + _minutes(f"{match[2]}:{match[3]}")
        end = _DAYS.index(match[4]) * 1440 + _minutes(f"{match[5]}:{match[6]}")
        span = 7 * 1440
    else:
        match = re.fullmatch(rf"{_HHMM}-{_HHMM}", window)
        if not match:
            raise ValueError("must read hh24:mi-hh24:mi in UTC, for example 02:00-03:00")
        start, end, span = _minutes(f"{match[1]}:{match[2]}"), _minutes(f"{match[3]}:{match[4]}"), 1440
    if end <= start:
        end += span
    if end - start < 30:
        raise ValueError("must be at least 30 minutes long")
    return start, end


def _major_schema(schema: dict[str, Any]) -> None:
    # YAML reads `engineVersion: 17` as a number, which the model takes as the major "17".
    schema["anyOf"] = [{"enum": list(schema.pop("enum")), "type": "string"}, {"enum": [14, 15, 16, 17, 18]}]
    schema.pop("type", None)


class DatabaseConfig(Model):
    """RDS for PostgreSQL: engine, size, storage, backups, availability and monitoring.

    An RDS for PostgreSQL instance in the isolated subnets. Leave the section out for an
    environment without a database; `ecs-platform:database: {}` gives every default. Defaults
    are the cheap, safe single-AZ shape; prod turns on Multi-AZ, deletion protection,
    Performance Insights and enhanced monitoring here, not in code.

    Always on, not configurable: isolated subnets only, never publicly accessible, a security
    group with no rule of its own (each client is let in by its own ingress rule from its security
    group, never from a CIDR), SSL forced (`rds.force_ssl=1`), storage encrypted with a
    customer-managed KMS key (yearly rotation, 30-day deletion window, alias
    `alias/<project>-<env>-postgres`), automatic minor version upgrades, `postgresql` and
    `upgrade` logs exported, tags copied to snapshots. IAM database authentication is on exactly
    when a service declares `database: {iamAuth: true}`.

    The instance identifier is fixed and readable, `<project>-<env>-postgres` (cut to 63
    characters): the log groups are created under it before the instance exists (so RDS does
    not create them without retention), operators find it in the console, and a change that
    would replace the instance fails on the name instead of quietly building an empty database
    next to the old one. The final snapshot of each destroy has a name of its own
    (`<identifier>-final-<suffix>`), so destroying a recreated environment of the same name never
    collides with the snapshot an earlier destroy left; those snapshots stay until someone deletes
    them (`aws rds describe-db-snapshots --snapshot-type manual`). Dev skips it: dev data is
    disposable.

    To destroy an environment with `deletionProtection: true`, set it to `false`, run
    `pulumi up` (which lifts both RDS deletion protection and Pulumi's `protect`), then
    `pulumi destroy`; the final snapshot stays.
    """

    examples = (
        (
            "`Pulumi.prod.yaml`",
            """\
  ecs-platform:database:
    instanceClass: db.m7g.large
    allocatedStorage: 100
    maxAllocatedStorage: 500
    multiAz: true
    deletionProtection: true
    backupRetentionDays: 14
    performanceInsights: true
    enhancedMonitoringInterval: 60
    slowStatementMs: 500
    logRetentionDays: 365
""",
        ),
    )

    engine_version: PostgresMajor = Field(
        "18",
        json_schema_extra=_major_schema,
        description=(
            "PostgreSQL **major** version. Only the major is pinned: RDS picks the newest minor and applies minor "
            "upgrades itself in the maintenance window, and the provider treats `18` as matching any `18.x`, so the "
            'next `pulumi up` never tries to "downgrade" an upgraded instance. Raising it upgrades in place: see '
            "[Upgrade PostgreSQL to a new major version](database.md#upgrade-postgresql-to-a-new-major-version). 13 "
            "and older are in (paid) RDS Extended Support only."
        ),
    )
    instance_class: str = Field(
        "db.t4g.micro",
        description=(
            "`db.<family>.<size>` (size `micro`, `small`, `medium`, `large`, `<n>xlarge` or `metal`); families: "
            + ", ".join(DB_INSTANCE_FAMILIES)
            + "."
        ),
    )
    allocated_storage: int = Field(
        20,
        json_schema_extra={"minimum": GP3_MIN_GIB, "maximum": GP3_MAX_GIB},
        description=f"gp3 storage in GiB, {GP3_MIN_GIB} (the PostgreSQL minimum) to {GP3_MAX_GIB}.",
    )
    max_allocated_storage: int = Field(
        100,
        json_schema_extra={"maximum": GP3_MAX_GIB},
        description=(
            f"Storage autoscaling ceiling in GiB, at most {GP3_MAX_GIB}; RDS requires it at least 10% above "
            "`allocatedStorage`."
        ),
    )
    name: str = Field(
        "app",
        description="Database created in the instance: a letter, then letters, digits or `_` (at most 63).",
    )
    master_username: str = Field(
        "dbadmin",
        description=(
            "Master user (same rule as `name`; not `rdsadmin`, `rds_superuser` or `postgres_fdw`). Its password is "
            "generated, stored and rotated by RDS in Secrets Manager, encrypted with the database's KMS key; it never "
            "appears in config, state or environment variables."
        ),
    )
    port: int = Field(5432, ge=1150, le=65535, description="Database port.")
    multi_az: bool = Field(
        False,
        description="A synchronous standby in a second AZ with automatic failover (about twice the instance cost).",
    )
    deletion_protection: bool = Field(
        False,
        description=(
            "RDS deletion protection **and** Pulumi's `protect` on the instance, its KMS key and its log groups: "
            "neither `pulumi destroy` nor a change that would replace the instance can remove them until it is turned "
            "off again."
        ),
    )
    skip_final_snapshot: bool = Field(
        False,
        description=(
            "`true` deletes the instance without a final snapshot. Otherwise the snapshot is named "
            "`<identifier>-final-<8 hex digits>`: the suffix is drawn once when the database is created (a "
            "`random.RandomId` kept in the state, renewed only with the identifier), so it is stable across "
            "`pulumi up` and differs for every lifetime of the database."
        ),
    )
    backup_retention_days: int = Field(
        7,
        json_schema_extra={"minimum": 1, "maximum": 35},
        description=(
            "Automated backups and point-in-time recovery, 1 to 35 days. 0 (backups off) is not offered: it also "
            "turns off point-in-time recovery."
        ),
    )
    backup_window: str = Field(
        "02:00-03:00", description="Daily backup window, `hh24:mi-hh24:mi` in UTC, at least 30 minutes."
    )
    maintenance_window: str = Field(
        "sun:04:00-sun:05:00",
        description=(
            "Weekly maintenance window (minor upgrades, patches), `ddd:hh24:mi-ddd:hh24:mi` in UTC, at least 30 "
            "minutes, not overlapping the backup window on any day."
        ),
    )
    apply_immediately: bool = Field(
        False,
        description=(
            "Apply changes now instead of in the next maintenance window (this includes a major upgrade: an outage of "
            "several minutes)."
        ),
    )
    performance_insights: bool = Field(False, description="Performance Insights, encrypted with the database's key.")
    performance_insights_retention_days: int = Field(
        7, description="Performance Insights retention: 7 (free tier), a multiple of 31 up to 713, or 731."
    )
    enhanced_monitoring_interval: Literal[0, 1, 5, 10, 15, 30, 60] = Field(
        0,
        description=(
            "Enhanced (OS) monitoring every 1, 5, 10, 15, 30 or 60 seconds; 0 is off. On, it creates the monitoring "
            "role RDS assumes (AWS's `AmazonRDSEnhancedMonitoringRole`)."
        ),
    )
    slow_statement_ms: int = Field(
        1000,
        ge=-1,
        le=2147483647,
        description="`log_min_duration_statement`: statements slower than this are logged; -1 turns it off.",
    )
    log_retention_days: RetentionDays = Field(
        30,
        description=(
            "Retention of the exported `postgresql` and `upgrade` log groups (`/aws/rds/instance/<identifier>/...`) "
            "and of the rotation redeploy's execution logs, one of CloudWatch Logs' values."
        ),
    )

    @field_validator("engine_version", mode="before")
    @classmethod
    def _major_as_text(cls, version: Any) -> Any:
        # `engineVersion: 17` in YAML is a number; a minor such as 17.4 is refused below.
        return str(version) if isinstance(version, int) and not isinstance(version, bool) else version

    @field_validator("instance_class")
    @classmethod
    def _known_family(cls, instance_class: str) -> str:
        match = re.fullmatch(r"db\.([a-z0-9]+)\.(micro|small|medium|large|\d*xlarge|metal)", instance_class)
        if not match:
            raise ValueError("must read db.<family>.<size>, for example db.t4g.micro or db.m7g.large")
        if match[1] not in DB_INSTANCE_FAMILIES:
            raise ValueError(f"unknown instance class family {match[1]}; valid: {', '.join(DB_INSTANCE_FAMILIES)}")
        return instance_class

    @field_validator("allocated_storage")
    @classmethod
    def _gp3_size(cls, size: int) -> int:
        if not GP3_MIN_GIB <= size <= GP3_MAX_GIB:
            raise ValueError(f"gp3 storage for PostgreSQL is {GP3_MIN_GIB} to {GP3_MAX_GIB} GiB")
        return size

    @field_validator("max_allocated_storage")
    @classmethod
    def _gp3_ceiling(cls, ceiling: int) -> int:
        if ceiling > GP3_MAX_GIB:
            raise ValueError(f"gp3 storage for PostgreSQL ends at {GP3_MAX_GIB} GiB")
        return ceiling

    @field_validator("name", "master_username")
    @classmethod
    def _identifier(cls, value: str, info) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", value):
            raise ValueError("must start with a letter and hold only letters, digits and _ (at most 63)")
        if info.field_name == "master_username" and value.lower() in ("rdsadmin", "rds_superuser", "postgres_fdw"):
            raise ValueError(f"{value} is reserved by RDS")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        # 0 would switch automated backups (and point-in-time recovery) off: not offered.
        if not 1 <= days <= 35:
            raise ValueError("must be 1 to 35 days; 0 would turn off automated backups and point-in-time recovery")
        return days

    @field_validator("backup_window")
    @classmethod
    def _daily_window(cls, window: str) -> str:
        _window_minutes(window, weekly=False)
        return window

    @field_validator("maintenance_window")
    @classmethod
    def _weekly_window(cls, window: str) -> str:
        _window_minutes(window, weekly=True)
        return window.lower()

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _insights_retention(cls, days: int) -> int:
        if days != 7 and not (days % 31 == 0 and 31 <= days <= 713) and days != 731:
            raise ValueError("must be 7 (free), a multiple of 31 up to 713, or 731")
        return days

    @model_validator(mode="after")
    def _storage_and_windows(self) -> DatabaseConfig:
        problems: list[Problem] = []
        size, least = self.allocated_storage, -(-self.allocated_storage * 11 // 10)
        # RDS refuses a storage autoscaling ceiling less than 10% above the allocated size ("Invalid
        # max storage size"; RDS user guide, "Managing capacity automatically with Amazon RDS storage
        # autoscaling"). A model rule, so the default ceiling is checked against a larger size too.
        if self.max_allocated_storage < least:
            problems.append(
                (
                    ("max_allocated_storage",),
                    f"the storage autoscaling ceiling must be at least 10% above allocatedStorage ({size} GiB), "
                    f"so {least} or more",
                    given(self, "max_allocated_storage"),
                )
            )
        start, end = _window_minutes(self.maintenance_window, weekly=True)
        b_start, b_end = _window_minutes(self.backup_window, weekly=False)
        # "Must not conflict with the preferred maintenance window" (RDS API reference, CreateDBInstance,
        # PreferredBackupWindow): the daily backup window, every day of the week and the wrap.
        if any(b_start + day * 1440 < end and start < b_end + day * 1440 for day in range(-1, 8)):
            problems.append(
                (
                    ("maintenance_window",),
                    f"overlaps the backup window {self.backup_window}; RDS needs them apart",
                    given(self, "maintenance_window"),
                )
            )
        fail(problems)
        return self

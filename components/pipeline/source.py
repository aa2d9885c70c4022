"""Starting a pipeline whose source is an S3 object: an EventBridge rule on the object's new versions."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.config import S3SourceConfig
from components.iam import inline_policy, resolved_document
from components.naming import Naming
from components.pipeline.policies import role, start_pipeline_statements


def start_on_new_versions(
    parent: pulumi.Resource,
    name: str,
    s3: S3SourceConfig,
    service: str,
    pipeline: aws.codepipeline.Pipeline,
    pipeline_name: str,
    naming: Naming,
    account: Account,
) -> None:
    """An EventBridge rule that starts the pipeline when a new version of the source object lands.

    Polling is not an option: CodePipeline disables polling for source changes on pipelines
    inactive for more than 30 days (CodePipeline API Reference, PipelineMetadata,
    pollingDisabledAt), and a pipeline released once a quarter would then never start
    again. The rule matches the "Object Created" events S3 sends to EventBridge directly
    (EventBridge User Guide, "Amazon S3 events"), which S3 does only for a bucket with
    EventBridge notifications turned on (CodePipeline User Guide, "Connecting to Amazon S3
    source actions with a source enabled for events"). The bucket is the user's, so the
    stack cannot switch that on without replacing the bucket's whole notification
    configuration: docs/config-reference.md, "services[].pipeline", says how. No CloudTrail trail is
    needed this way.
    """
    rule_name = naming.name(f"{service}-source", "events_rule")
    # EventBridge sets aws:SourceArn to the rule it runs for (EventBridge User Guide,
    # "Using IAM policy conditions in Amazon EventBridge"): only this rule may take the role.
    events_role = role(
        parent,
        name,
        "source-events",
        delivered=service,
        service="events",
        source_arn=account.arn("events", f"rule/{rule_name}"),
        naming=naming,
        account=account,
    )
    policy = inline_policy(
        f"{name}-source-events", events_role, resolved_document({"pipeline": pipeline.arn}, start_pipeline_statements)
    )
    rule = aws.cloudwatch.EventRule(
        f"{name}-source",
        name=rule_name,
        description=f"Starts {pipeline_name} when s3://{s3.bucket}/{s3.key} gets a new version",
        event_pattern=json.dumps(
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [s3.bucket]}, "object": {"key": [s3.key]}},
            }
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.cloudwatch.EventTarget(
        f"{name}-source",
        rule=rule.name,
        arn=pipeline.arn,
        role_arn=events_role.arn,
        # EventBridge checks that it may assume the role when the target is put.
        opts=pulumi.ResourceOptions(parent=rule, depends_on=[policy]),
    )

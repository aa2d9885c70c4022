"""The offline check itself: fixture environments, preview with unknowns, reports, the pack's config.

The command over the repository's own stack files, whatever they hold, is in test_stack_files.py.
"""

import re

import pulumi_aws as aws
import pytest
from google.protobuf import empty_pb2
from helpers import FIXTURE_NAMES, check, evaluate_fixture, fixture
from policy_helpers import doc, role, run
from pulumi.runtime.proto import analyzer_pb2
from test_policies_data import bucket
from test_policies_rds import database, plain_network

from offline.policycheck import PolicyConfigError, new_analyzer, reconcile
from policies.guardrails.pack import all_policies


@pytest.mark.parametrize("name", FIXTURE_NAMES)
@pytest.mark.parametrize("preview", [False, True])
def test_fixture_environments_pass_every_policy(name, preview):
    graph = fixture(name) if not preview else evaluate_fixture(name, preview=True)
    result = check(graph, dry_run=preview)
    assert result.mandatory == [], result.mandatory
    assert result.advisory == [], result.advisory  # any advisory finding must be fixed or explained in docs/policies.md


def test_preview_with_unknown_values_neither_crashes_nor_reports_false_mandatory_violations():
    def program():
        database()()
        plain_network("none")()
        bucket()()
        r = role("task")
        artifacts = aws.s3.Bucket("b")
        for kind, args in (
            (
                aws.s3.BucketPublicAccessBlock,
                dict(
                    block_public_acls=True,
                    block_public_policy=True,
                    ignore_public_acls=True,
                    restrict_public_buckets=True,
                ),
            ),
            (
                aws.s3.BucketServerSideEncryptionConfiguration,
                # A key ARN unknown until the key exists.
                dict(
                    rules=[
                        {
                            "apply_server_side_encryption_by_default": {
                                "sse_algorithm": "aws:kms",
                                "kms_master_key_id": aws.kms.Key("b", enable_key_rotation=True).arn,
                            }
                        }
                    ]
                ),
            ),
        ):
            kind("b", bucket=artifacts.id, **args)
        # Documents built from unknown ARNs are unknown as a whole during preview.
        aws.iam.RolePolicy(
            "p",
            role=r.id,
            policy=artifacts.arn.apply(
                lambda arn: doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/*"})
            ),
        )
        aws.ec2.Instance(
            "i",
            ami="ami-1",
            instance_type="t4g.nano",
            subnet_id=aws.ec2.Subnet("s", vpc_id="v").id,
            metadata_options={"http_tokens": "required"},
            root_block_device={"encrypted": True},
            associate_public_ip_address=False,
        )

    result = run(program, preview=True)
    assert result.mandatory == []
    # The real findings, all advisory: bucket "b" has no TLS-only policy, lifecycle rules or ownership controls,
    # and the database's group no description.
    assert sorted((f.policy, f.urn.split("::")[-1]) for f in result.findings) == [
        ("s3-acls-disabled", "b"),
        ("s3-lifecycle", "b"),
        ("s3-tls-only", "b"),
        ("sg-descriptions", "db-sg"),
    ]


def test_resource_violations_are_filed_under_the_resource_and_stack_ones_under_theirs():
    result = run(database(publicly_accessible=True, subnets=lambda v: v.public_subnet_ids))
    public = result.of("rds-not-publicly-accessible")[0]
    subnets = result.of("rds-isolated-subnets")[0]
    assert public.urn.endswith("aws:rds/instance:Instance::db")
    assert subnets.urn.endswith("aws:rds/subnetGroup:SubnetGroup::db-subnets")


def test_every_policy_is_named_described_and_levelled():
    policies = all_policies()
    assert len({p.name for p in policies}) == len(policies)
    for p in policies:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", p.name), p.name
        assert p.description and p.remediation_steps and p.enforcement_level is not None
        if p.name.startswith(("rds-not", "rds-isolated", "rds-security", "rds-storage", "rds-no", "iam-")):
            assert p.enforcement_level.value == "mandatory", p.name


def test_pack_config_is_reconciled_like_the_engine():
    info = new_analyzer().GetAnalyzerInfo(empty_pb2.Empty(), None)
    configured = reconcile(
        info, {"all": "advisory", "rds-multi-az": {"enforcementLevel": "mandatory", "required": True}}
    )
    assert configured["rds-multi-az"].enforcementLevel == analyzer_pb2.MANDATORY
    assert configured["iam-no-wildcard-actions"].enforcementLevel == analyzer_pb2.ADVISORY  # "all" wins
    assert dict(configured["rds-backup-retention"].properties) == {"minimumRetentionDays": 1.0}  # schema default
    with pytest.raises(PolicyConfigError, match="unknown policies: rds-multiaz"):
        reconcile(info, {"rds-multiaz": {"required": True}})
    with pytest.raises(PolicyConfigError, match=r"rds-backup-retention.minimumRetentionDays: expected integer"):
        reconcile(info, {"rds-backup-retention": {"minimumRetentionDays": "7"}})


def test_the_report_groups_violations_by_level_with_urn_and_message(capsys):
    from offline.policycheck import report

    result = run(lambda: aws.iam.Policy("admin", policy=doc({"Effect": "Allow", "Action": "*", "Resource": "*"})))
    report(result)
    out = capsys.readouterr().out
    assert "mandatory: 2" in out and "advisory: 0" in out
    assert "- [iam-no-wildcard-actions] urn:pulumi:small::ecs-platform::aws:iam/policy:Policy::admin" in out
    assert "wildcard action(s) *. Remediation: list each action" in out


def test_config_errors_say_which_mistakes_the_cli_would_ignore_and_which_it_refuses_too():
    """pulumi/pulumi pkg/resource/analyzer/config.go validates only the pack's own policies,
    against schemas that allow extra keys: unknown names pass the CLI silently."""
    info = new_analyzer().GetAnalyzerInfo(empty_pb2.Empty(), None)
    for config in ({"rds-mutli-az": {"required": True}}, {"rds-multi-az": {"requierd": True}}):
        with pytest.raises(PolicyConfigError, match="the Pulumi CLI would silently ignore this"):
            reconcile(info, config)
    for config in ({"rds-multi-az": "strict"}, {"rds-backup-retention": {"minimumRetentionDays": "7"}}):
        with pytest.raises(PolicyConfigError, match="the Pulumi CLI refuses it too"):
            reconcile(info, config)
    import offline.policycheck as policycheck

    doc = " ".join(policycheck.__doc__.split())
    assert (
        "The CLI silently ignores a policy name the pack does not have and a property the schema does not list" in doc
    )
    assert "unknown policies and ill-typed properties are errors" not in doc

"""bootstrap/: the CI prerequisites as their own Pulumi project, evaluated under the mocked engine.

The state bucket and its key, one stack-secrets key per environment, GitHub's OIDC provider,
the preview role and one deploy role per environment with ci/'s documents rendered for its
stack. Tests build their config here (`FIXTURE`); the shipped `bootstrap/Pulumi.ci.yaml` is the
team's example and only gets checks that hold for any valid one.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import importlib.metadata
import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import checked as check
from iam_linter import issues

from ci.render import render
from offline.harness import CapturedGraph, Resource, evaluate, mock_aws

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "bootstrap"
NS = "ecs-platform-bootstrap"
ACCOUNT = mock_aws.ACCOUNT_ID
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
DEPLOY_PARTS = sorted(p.stem for p in (ROOT / "ci" / "deploy-role-policies").glob("*.json"))
GITHUB = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"

# Stacks without a Pulumi.<stack>.yaml at the root, so their region is the bootstrap's whatever
# the team's stack files say.
FIXTURE: dict[str, Any] = {
    "aws:region": "eu-west-1",
    f"{NS}:github": {"repository": "acme/platform"},
    f"{NS}:environments": [{"stack": "alpha"}, {"stack": "beta", "githubEnvironment": "Production"}],
}
BUCKET = f"{PROJECT}-ci-state-{ACCOUNT}-eu-west-1"

KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENTS = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"


def bootstrap(change: Callable[[dict[str, Any]], Any] | None = None, **options: Any) -> CapturedGraph:
    config = copy.deepcopy(FIXTURE)
    if change:
        change(config)
    return evaluate("ci", config, root=BOOTSTRAP, **options)


@pytest.fixture(scope="module")
def graph() -> CapturedGraph:
    found = bootstrap()
    assert found.error is None, found.error
    return found


def error_of(change: Callable[[dict[str, Any]], Any]) -> str:
    """The one-line error a config change causes, raised before the program registered anything."""
    found = bootstrap(change)
    assert found.error, "the program accepted the config"
    assert found.registered == [], [r.name for r in found.registered]
    assert "\n" not in found.error and "Traceback" not in found.error, found.error
    return found.error


def doc(resource: Resource, key: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[key])


def statements(document: dict[str, Any], sid: str) -> dict[str, Any]:
    [found] = [s for s in document["Statement"] if s.get("Sid") == sid]
    return found


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def allows(documents: list[dict], action: str, resource: str) -> bool:
    """An Allow statement of `documents` grants `action` on `resource` (conditions aside)."""
    return any(
        s["Effect"] == "Allow"
        and action in _list(s["Action"])
        and any(fnmatch.fnmatchcase(resource, r) for r in _list(s["Resource"]))
        for d in documents
        for s in d["Statement"]
    )


def attached(graph: CapturedGraph, role_name: str) -> list[dict]:
    """The documents of the customer managed policies attached to a role, by the ARNs its exclusive attachment lists."""
    [attachment] = [a for a in graph.of_type(ATTACHMENTS) if a.inputs["roleName"] == role_name]
    by_arn = {p.outputs["arn"]: p for p in graph.of_type(POLICY)}
    return [doc(by_arn[arn]) for arn in attachment.inputs["policyArns"] if arn in by_arn]


def policy_named(graph: CapturedGraph, name: str) -> dict:
    [found] = [p for p in graph.of_type(POLICY) if p.inputs["name"] == name]
    return doc(found)


def state_object(key: str) -> str:
    return f"arn:aws:s3:::{BUCKET}/{key}"


# --- the example and the pack ---------------------------------------------------------------------


def test_the_example_stack_evaluates_and_the_pack_is_clean_on_it():
    """Whatever the team puts in bootstrap/Pulumi.ci.yaml: it previews, and no policy of the pack has a finding.

    A preview, because for the bootstrap any other run is a `pulumi up`, which refuses the
    example's repository (below) until the team sets its own.
    """
    graph = evaluate("ci", root=BOOTSTRAP, preview=True)
    assert graph.error is None, graph.error
    assert graph.of_type(ROLE) and graph.of_type(KEY)
    assert check(graph, {}, dry_run=True).findings == []


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_the_pack_has_no_finding_on_the_bootstrap(preview):
    """No mandatory or advisory finding: the iam-* rules, the S3 rules, the KMS confused-deputy rule."""
    graph = bootstrap(preview=preview)
    assert graph.error is None, graph.error
    result = check(graph, {}, dry_run=preview)
    assert result.resources == len(graph.resources) > 30
    assert result.findings == [], result.findings


def test_the_example_repository_is_refused_by_a_real_update_and_only_warned_about_in_a_preview():
    def example(config):
        config[f"{NS}:github"] = {"repository": "my-org/ecs-platform"}

    refused = bootstrap(example, update=True)
    assert refused.error == (
        f"{NS}:github.repository: my-org/ecs-platform is the example's repository; "
        "set yours (owner/name as GitHub spells it) before deploying"
    )
    assert refused.registered == []
    previewed = bootstrap(example, preview=True)
    assert previewed.error is None
    assert any("my-org/ecs-platform is the example's repository" in w for w in previewed.warnings)


# --- GitHub's OIDC provider and the trust of the roles ---------------------------------------------


def test_the_github_oidc_provider_is_created_for_sts_and_every_role_waits_for_it(graph):
    [provider] = graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{GITHUB}"
    # What aws-actions/configure-aws-credentials asks GitHub for.
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    # AWS trusts GitHub's certificate through its own CA library; no thumbprint to go stale.
    assert "thumbprintLists" not in provider.inputs
    # Deleting it would lock every CI job of the account out: protected, and left in place by a destroy.
    assert provider.protect and provider.retain_on_delete
    for role in graph.of_type(ROLE):
        assert provider.urn in role.dependencies, role.name


def trust(role: Resource) -> dict[str, Any]:
    return doc(role, "assumeRolePolicy")


def expected_trust(sid: str, subject: str, provider_arn: str = PROVIDER_ARN) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB}:aud": "sts.amazonaws.com",
                        f"{GITHUB}:sub": subject,
                    }
                },
            }
        ],
    }


def test_the_preview_role_trusts_exactly_the_repositorys_pull_requests(graph):
    role = graph.one(ROLE, "preview")
    assert role.inputs["name"] == f"{PROJECT}-ci-preview"
    assert trust(role) == expected_trust("GitHubPullRequests", "repo:acme/platform:pull_request")


def test_each_deploy_role_trusts_exactly_the_repository_in_its_github_environment(graph):
    """A job naming an environment gets `environment:<name>` as its subject: bound to repository AND environment."""
    alpha, beta = graph.one(ROLE, "deploy-alpha"), graph.one(ROLE, "deploy-beta")
    assert alpha.inputs["name"] == f"{PROJECT}-ci-deploy-alpha"
    assert trust(alpha) == expected_trust("GitHubEnvironment", "repo:acme/platform:environment:alpha")
    assert trust(beta) == expected_trust("GitHubEnvironment", "repo:acme/platform:environment:Production")
    # The deploy jobs run up to 90 minutes: the role lets them ask for more than the 1-hour default.
    assert alpha.inputs["maxSessionDuration"] == 7200


@pytest.mark.parametrize("prefix", ["repo:acme@1001/platform@2002", "repo:acme-1001/platform-2002"])
def test_with_a_subject_prefix_each_role_trusts_the_named_and_the_immutable_subject_exactly(prefix):
    """GitHub's immutable subject claims add the owner's and repository's ids; both forms, never a pattern."""

    def immutable(config):
        config[f"{NS}:github"]["subjectPrefix"] = prefix

    graph = bootstrap(immutable)
    assert graph.error is None, graph.error
    assert trust(graph.one(ROLE, "preview")) == expected_trust(
        "GitHubPullRequests", ["repo:acme/platform:pull_request", f"{prefix}:pull_request"]
    )
    assert trust(graph.one(ROLE, "deploy-beta")) == expected_trust(
        "GitHubEnvironment", ["repo:acme/platform:environment:Production", f"{prefix}:environment:Production"]
    )
    for role in graph.of_type(ROLE):
        assert "StringLike" not in trust(role)["Statement"][0]["Condition"]


def test_the_default_environments_are_the_workflows_dev_and_production():
    graph = bootstrap(lambda config: config.pop(f"{NS}:environments"))
    assert graph.error is None, graph.error
    subjects = {trust(r)["Statement"][0]["Condition"]["StringEquals"][f"{GITHUB}:sub"] for r in graph.of_type(ROLE)}
    assert subjects == {
        "repo:acme/platform:pull_request",
        "repo:acme/platform:environment:dev",
        "repo:acme/platform:environment:production",
    }
    assert set(graph.outputs["secretsProviders"]) == {"dev", "prod"}


def test_an_existing_oidc_provider_is_used_instead_of_created():
    graph = bootstrap(lambda config: config.update({f"{NS}:oidcProviderArn": PROVIDER_ARN}))
    assert graph.error is None, graph.error
    assert graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert trust(graph.one(ROLE, "preview")) == expected_trust("GitHubPullRequests", "repo:acme/platform:pull_request")


def test_an_existing_oidc_provider_is_looked_up_and_refused_in_one_line_without_the_sts_audience(monkeypatch):
    graph = bootstrap(lambda config: config.update({f"{NS}:oidcProviderArn": PROVIDER_ARN}))
    assert ("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider", {"arn": PROVIDER_ARN}) in graph.invokes
    monkeypatch.setitem(mock_aws.OIDC_PROVIDER_CLIENT_IDS, PROVIDER_ARN, ["sigstore", "api://AzureADTokenExchange"])
    refused = bootstrap(lambda config: config.update({f"{NS}:oidcProviderArn": PROVIDER_ARN}))
    assert refused.error == (
        f"{NS}:oidcProviderArn: {PROVIDER_ARN} does not list the audience sts.amazonaws.com (its client ids: "
        "sigstore, api://AzureADTokenExchange); add it with `aws iam add-client-id-to-open-id-connect-provider`"
    )
    assert [r.type for r in refused.registered] == ["pulumi:providers:aws"]


def test_an_oidc_provider_of_another_account_is_refused_before_any_aws_resource():
    other = PROVIDER_ARN.replace(ACCOUNT, "210987654321")
    graph = bootstrap(lambda config: config.update({f"{NS}:oidcProviderArn": other}))
    assert graph.error == f"{NS}:oidcProviderArn: {other} is not this account's GitHub provider, {PROVIDER_ARN}"
    assert [r.type for r in graph.registered] == ["pulumi:providers:aws"]


# --- what the roles may do ----------------------------------------------------------------------------


def test_the_preview_role_has_view_only_access_and_exactly_the_programs_reads_for_every_stack(graph):
    [attachment] = [a for a in graph.of_type(ATTACHMENTS) if a.inputs["roleName"] == f"{PROJECT}-ci-preview"]
    assert VIEW_ONLY in attachment.inputs["policyArns"]
    assert len(attachment.inputs["policyArns"]) == 3
    expected = render(
        "preview-role-policy.json",
        stacks=["alpha", "beta"],
        partition="aws",
        account=ACCOUNT,
        region="eu-west-1",
        project=PROJECT,
    )
    assert policy_named(graph, f"{PROJECT}-ci-preview-program") == expected


def test_each_deploy_role_has_cis_deploy_policies_rendered_for_its_stack_one_managed_policy_each(graph):
    for stack in ("alpha", "beta"):
        role = f"{PROJECT}-ci-deploy-{stack}"
        documents = attached(graph, role)
        # One per ci/deploy-role-policies file plus the state policy, within IAM's 10 per role.
        assert len(documents) == len(DEPLOY_PARTS) + 1 <= 10
        for part in DEPLOY_PARTS:
            expected = render(
                f"deploy-role-policies/{part}.json",
                stacks=[stack],
                partition="aws",
                account=ACCOUNT,
                region="eu-west-1",
                project=PROJECT,
            )
            assert policy_named(graph, f"{role}-{part}") == expected
            assert expected in documents


def test_an_environment_in_another_region_gets_its_region_in_its_policies():
    def two_regions(config):
        config[f"{NS}:environments"][1]["region"] = "us-east-1"

    graph = bootstrap(two_regions)
    assert graph.error is None, graph.error
    values = {"partition": "aws", "account": ACCOUNT, "project": PROJECT}
    for part in DEPLOY_PARTS:
        expected = render(f"deploy-role-policies/{part}.json", stacks=["beta"], region="us-east-1", **values)
        assert policy_named(graph, f"{PROJECT}-ci-deploy-beta-{part}") == expected
    # The preview role's program reads, one document per region.
    names = {p.inputs["name"] for p in graph.of_type(POLICY) if "preview-program" in p.inputs["name"]}
    assert names == {f"{PROJECT}-ci-preview-program-eu-west-1", f"{PROJECT}-ci-preview-program-us-east-1"}


def test_a_deploy_role_reads_and_writes_only_its_own_stacks_state():
    """The DIY backend's layout (pulumi/pulumi pkg/backend/diy): checkpoint, backups, history, journal, locks."""
    graph = bootstrap()
    alpha = attached(graph, f"{PROJECT}-ci-deploy-alpha")
    own = [
        f".pulumi/stacks/{PROJECT}/alpha.json",
        f".pulumi/stacks/{PROJECT}/alpha.json.bak",
        f".pulumi/stacks/{PROJECT}/alpha.pulumi-tags",
        f".pulumi/history/{PROJECT}/alpha/alpha-1700000000.history.json",
        f".pulumi/backups/{PROJECT}/alpha/alpha.1700000000.json",
        f".pulumi/journal/{PROJECT}/alpha/0001.json",
        f".pulumi/locks/organization/{PROJECT}/alpha/0a1b2c.json",
    ]
    for key in own:
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert allows(alpha, action, state_object(key)), (action, key)
    assert allows(alpha, "s3:GetObject", state_object(".pulumi/meta.yaml"))
    assert not allows(alpha, "s3:PutObject", state_object(".pulumi/meta.yaml"))
    others = [
        f".pulumi/stacks/{PROJECT}/beta.json",
        f".pulumi/stacks/{PROJECT}/alpha2.json",
        f".pulumi/history/{PROJECT}/beta/beta-1.history.json",
        f".pulumi/locks/organization/{PROJECT}/beta/0a1b2c.json",
        # The bootstrap's own state, once moved into the bucket (docs/ci.md).
        f".pulumi/stacks/{NS}/ci.json",
    ]
    for key in others:
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert not allows(alpha, action, state_object(key)), (action, key)
    assert allows(alpha, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}")


def test_the_preview_role_reads_every_stacks_state_and_writes_nothing(graph):
    """`pulumi preview` takes no lock on the DIY backend (pulumi/pulumi pkg/backend/diy/backend.go, Preview)."""
    preview = attached(graph, f"{PROJECT}-ci-preview")
    for stack in ("alpha", "beta"):
        assert allows(preview, "s3:GetObject", state_object(f".pulumi/stacks/{PROJECT}/{stack}.json"))
        for key in (
            f".pulumi/stacks/{PROJECT}/{stack}.json",
            f".pulumi/history/{PROJECT}/{stack}/x.json",
            f".pulumi/locks/organization/{PROJECT}/{stack}/0a1b2c.json",
            ".pulumi/meta.yaml",
        ):
            assert not allows(preview, "s3:PutObject", state_object(key)), key
            assert not allows(preview, "s3:DeleteObject", state_object(key)), key
    writes = {"s3:PutObject", "s3:DeleteObject"}
    assert not [s for d in preview for s in d["Statement"] if writes & set(_list(s["Action"]))]


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{PROJECT}-ci-boundary"


def denied(document: dict, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """A Deny statement of `document` matches `action` on `resource` (ArnNotEquals the only condition used)."""
    for s in document["Statement"]:
        if s["Effect"] != "Deny" or not any(fnmatch.fnmatchcase(action, a) for a in _list(s["Action"])):
            continue
        if "NotResource" in s:
            if any(fnmatch.fnmatchcase(resource, r) for r in s["NotResource"]):
                continue
        elif not any(fnmatch.fnmatchcase(resource, r) for r in _list(s["Resource"])):
            continue
        condition = s.get("Condition", {}).get("ArnNotEquals", {})
        if all((context or {}).get(k) not in _list(v) for k, v in condition.items()):
            return True
    return False


def test_the_permissions_boundary_keeps_every_bounded_role_away_from_ci_and_the_state(graph):
    """A role a deploy role creates with `iam:*` still cannot rewrite the prod deploy role's trust, nor escape."""
    [policy] = [p for p in graph.of_type(POLICY) if p.inputs["name"] == f"{PROJECT}-ci-boundary"]
    assert policy.protect and policy.outputs["arn"] == BOUNDARY
    boundary = doc(policy)
    iam = f"arn:aws:iam::{ACCOUNT}"
    # It allows what the roles' own policies allow ...
    assert statements(boundary, "WithinTheRolesOwnPolicies") == {
        "Sid": "WithinTheRolesOwnPolicies",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
    }
    # ... except CI's roles, policies (this one too) and OIDC provider,
    for action in ("iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole"):
        assert denied(boundary, action, f"{iam}:role/{PROJECT}-ci-deploy-beta", {"iam:PermissionsBoundary": BOUNDARY})
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
        assert denied(boundary, action, BOUNDARY)
    assert denied(boundary, "iam:UpdateOpenIDConnectProviderThumbprint", PROVIDER_ARN)
    assert denied(boundary, "sts:AssumeRole", f"{iam}:role/{PROJECT}-ci-deploy-beta")
    # ... creating or changing any role without this same boundary, or removing a boundary,
    task = f"{iam}:role/{PROJECT}-alpha-task"
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert denied(boundary, action, task), action
        assert denied(boundary, action, task, {"iam:PermissionsBoundary": f"{iam}:policy/wide-open"}), action
        assert not denied(boundary, action, task, {"iam:PermissionsBoundary": BOUNDARY}), action
    assert denied(boundary, "iam:DeleteRolePermissionsBoundary", task)
    assert denied(boundary, "iam:DeleteUserPermissionsBoundary", f"{iam}:user/someone")
    # ... making another role of the account trust it,
    assert denied(boundary, "iam:UpdateAssumeRolePolicy", f"{iam}:role/OrganizationAccountAccessRole")
    assert not denied(boundary, "iam:UpdateAssumeRolePolicy", task)
    # ... and the state bucket's settings and history, and its keys.
    bucket = f"arn:aws:s3:::{BUCKET}"
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"):
        assert denied(boundary, action, bucket), action
    assert denied(boundary, "s3:DeleteObjectVersion", state_object(f".pulumi/stacks/{PROJECT}/beta.json"))
    assert not denied(boundary, "s3:PutObject", state_object(f".pulumi/stacks/{PROJECT}/alpha.json"))
    for key in keys(graph).values():
        for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant"):
            assert denied(boundary, action, key.outputs["arn"]), (action, key.name)
        assert not denied(boundary, "kms:Decrypt", key.outputs["arn"])


def test_every_ci_role_carries_the_boundary_and_the_pack_naming_it_is_clean(graph):
    roles = graph.of_type(ROLE)
    assert len(roles) == 3 and {r.inputs["permissionsBoundary"] for r in roles} == {BOUNDARY}
    [policy] = [p for p in graph.of_type(POLICY) if p.inputs["name"] == f"{PROJECT}-ci-boundary"]
    for role in roles:
        assert policy.urn in role.dependencies, role.name
    named = {
        "iam-role-has-permissions-boundary": {"enforcementLevel": "mandatory", "policyName": f"{PROJECT}-ci-boundary"}
    }
    assert check(graph, named).findings == []


def test_the_boundary_is_the_one_the_program_and_ci_name_by_default(graph):
    """The program's default `ecs-platform:iam.permissionsBoundary` and identity.json's condition name this policy."""
    from components.config.iam import IamConfig

    assert IamConfig().boundary_arn(PROJECT, "aws", ACCOUNT) == BOUNDARY
    identity = render("deploy-role-policies/identity.json", stacks=["alpha"], partition="aws", account=ACCOUNT,
                      region="eu-west-1", project=PROJECT)  # fmt: skip
    conditions = [s["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] for s in identity["Statement"]
                  if "iam:PermissionsBoundary" in s.get("Condition", {}).get("ArnEquals", {})]  # fmt: skip
    assert conditions and set(conditions) == {BOUNDARY}


def keys(graph: CapturedGraph) -> dict[str, Resource]:
    return {k.name: k for k in graph.of_type(KEY)}


def test_state_and_secrets_keys_decrypt_only_for_the_roles_that_need_them(graph):
    k = keys(graph)
    state, alpha, beta = (k[n].outputs["arn"] for n in ("state", "secrets-alpha", "secrets-beta"))
    # ci/'s keys.json lets a deploy role use keys tagged as its stack's, or through RDS and Secrets
    # Manager; the key policies deny both on these keys (below). What each role is given for them:
    preview = [policy_named(graph, f"{PROJECT}-ci-preview-state")]
    deploy_alpha = [policy_named(graph, f"{PROJECT}-ci-deploy-alpha-state")]
    assert allows(preview, "kms:Decrypt", alpha) and allows(preview, "kms:Decrypt", beta)
    assert allows(deploy_alpha, "kms:Decrypt", alpha)
    assert not allows(deploy_alpha, "kms:Decrypt", beta)
    for documents in (preview, deploy_alpha):
        [use] = [s for d in documents for s in d["Statement"] if s["Resource"] == state]
        assert use["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert use["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


CI_ROLES = [role(f"{PROJECT}-ci-preview"), role(f"{PROJECT}-ci-deploy-alpha"), role(f"{PROJECT}-ci-deploy-beta")]
ENVIRONMENT_ROLES = [role(f"{PROJECT}-alpha-*"), role(f"{PROJECT}-beta-*")]


def test_the_keys_rotate_are_protected_and_have_their_aliases(graph):
    k = keys(graph)
    assert set(k) == {"state", "secrets-alpha", "secrets-beta"}
    for key in k.values():
        assert key.inputs["enableKeyRotation"] is True
        assert key.protect
    aliases = {a.inputs["name"]: a for a in graph.of_type("aws:kms/alias:Alias")}
    assert aliases[f"alias/{PROJECT}-ci-secrets-alpha"].inputs["targetKeyId"] == k["secrets-alpha"].outputs["keyId"]
    assert aliases[f"alias/{PROJECT}-ci-state"].inputs["targetKeyId"] == k["state"].outputs["keyId"]


def test_a_secrets_key_is_the_accounts_and_its_stacks_ci_roles_only_decrypt(graph):
    """The account administers the key through IAM (people run `pulumi stack init` and `config set --secret`);
    whatever a deploy role could do through tags or the roles it creates is denied in the key policy."""
    policy = doc(keys(graph)["secrets-alpha"])
    owner = statements(policy, "AccountOwnsTheKey")
    assert owner["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert "kms:*" not in owner["Action"] and "kms:PutKeyPolicy" in owner["Action"]
    environments = statements(policy, "NotForTheEnvironmentsRoles")
    assert (environments["Effect"], environments["Action"]) == ("Deny", "kms:*")
    assert environments["Condition"] == {"ArnLike": {"aws:PrincipalArn": ENVIRONMENT_ROLES}}
    ci = statements(policy, "CiRolesOnlyUseIt")
    assert (ci["Effect"], ci["NotAction"]) == ("Deny", ["kms:Decrypt"])
    assert ci["Condition"] == {"ArnLike": {"aws:PrincipalArn": CI_ROLES}}
    others = statements(policy, "NotForOtherStacksCiRoles")
    assert (others["Effect"], others["Action"]) == ("Deny", ["kms:Decrypt"])
    assert others["Condition"] == {"ArnLike": {"aws:PrincipalArn": [role(f"{PROJECT}-ci-deploy-beta")]}}


def test_the_state_key_is_used_by_ci_roles_only_through_s3(graph):
    policy = doc(keys(graph)["state"])
    ci = statements(policy, "CiRolesOnlyUseIt")
    assert ci["NotAction"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    s3_only = statements(policy, "CiRolesOnlyThroughS3")
    assert s3_only["Effect"] == "Deny"
    assert s3_only["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": CI_ROLES},
        "StringNotEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
    }
    assert statements(policy, "NotForTheEnvironmentsRoles")["Condition"]["ArnLike"]["aws:PrincipalArn"] == (
        ENVIRONMENT_ROLES
    )


def test_the_state_policies_pass_the_parliament_linter(graph):
    """ci/'s documents are linted in test_ci_roles.py; the state policies are the bootstrap's own."""
    state = [p for p in graph.of_type(POLICY) if p.inputs["name"].endswith("-state")]
    assert len(state) == 3
    for policy in state:
        for statement in doc(policy)["Statement"]:
            assert issues(statement) == [], (policy.inputs["name"], statement["Sid"])


# --- the state bucket ----------------------------------------------------------------------------------


def children(graph: CapturedGraph, type_: str) -> Resource:
    [found] = [r for r in graph.of_type(type_) if r.inputs.get("bucket") == BUCKET]
    return found


def test_the_state_bucket_is_protected_versioned_encrypted_with_the_state_key_private_and_tls_only(graph):
    bucket = graph.one("aws:s3/bucket:Bucket", "state")
    assert bucket.inputs["bucket"] == BUCKET
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    versioning = children(graph, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    [rule] = children(
        graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": keys(graph)["state"].outputs["arn"],
    }
    assert rule["bucketKeyEnabled"] is True
    block = children(graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block.inputs[flag] is True
    ownership = children(graph, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    policy = children(graph, "aws:s3/bucketPolicy:BucketPolicy")
    assert block.urn in policy.dependencies
    everything = [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    tls = statements(doc(policy), "TlsOnly")
    assert (tls["Effect"], tls["Action"], tls["Resource"]) == ("Deny", "s3:*", everything)
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    environments = statements(doc(policy), "NotForTheEnvironmentsRoles")
    assert (environments["Effect"], environments["Resource"]) == ("Deny", everything)
    assert environments["Condition"] == {"ArnLike": {"aws:PrincipalArn": ENVIRONMENT_ROLES}}


def test_old_state_versions_expire_after_the_configured_days_keeping_the_latest():
    def history(config):
        config[f"{NS}:stateBucket"] = {"noncurrentVersionDays": 30, "newerNoncurrentVersions": 5}

    graph = bootstrap(history)
    assert graph.error is None, graph.error
    rules = {
        r["id"]: r
        for r in children(graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    }
    assert rules["expire-old-state-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 30,
        "newerNoncurrentVersions": 5,
    }
    assert rules["expire-old-state-versions"]["filter"] == {"prefix": ""}
    assert rules["expire-released-locks"]["filter"] == {"prefix": ".pulumi/locks/"}
    assert rules["remove-expired-delete-markers"]["expiration"] == {"expiredObjectDeleteMarker": True}
    # Current state files never expire: only overwritten versions do.
    assert "expiration" not in rules["expire-old-state-versions"]


def test_a_named_state_bucket_is_used_as_named():
    graph = bootstrap(lambda config: config.update({f"{NS}:stateBucket": {"name": "acme-pulumi-state"}}))
    assert graph.error is None, graph.error
    assert graph.one("aws:s3/bucket:Bucket", "state").inputs["bucket"] == "acme-pulumi-state"
    assert graph.outputs["repositoryVariables"]["PULUMI_BACKEND_URL"] == "s3://acme-pulumi-state?region=eu-west-1"


# --- what to set in GitHub --------------------------------------------------------------------------


def workflow_variables() -> set[str]:
    text = "".join(p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    return set(re.findall(r"vars\.([A-Z_]+)", text))


def test_the_outputs_are_the_variables_the_workflows_read(graph):
    repository = graph.outputs["repositoryVariables"]
    per_environment = graph.outputs["environmentVariables"]
    names = set(repository) | {name for variables in per_environment.values() for name in variables}
    assert {"AWS_PREVIEW_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "PULUMI_BACKEND_URL"} <= names <= workflow_variables()
    assert repository == {
        "AWS_PREVIEW_ROLE_ARN": graph.one(ROLE, "preview").outputs["arn"],
        "AWS_REGION": "eu-west-1",
        "PULUMI_BACKEND_URL": f"s3://{BUCKET}?region=eu-west-1",
    }
    assert per_environment == {
        "alpha": {"AWS_DEPLOY_ROLE_ARN": graph.one(ROLE, "deploy-alpha").outputs["arn"]},
        "Production": {"AWS_DEPLOY_ROLE_ARN": graph.one(ROLE, "deploy-beta").outputs["arn"]},
    }


def test_the_secrets_provider_of_each_stack_is_its_keys_alias(graph):
    aliases = {a.inputs["name"] for a in graph.of_type("aws:kms/alias:Alias")}
    providers = graph.outputs["secretsProviders"]
    assert providers == {
        "alpha": f"awskms://alias/{PROJECT}-ci-secrets-alpha?region=eu-west-1",
        "beta": f"awskms://alias/{PROJECT}-ci-secrets-beta?region=eu-west-1",
    }
    for url in providers.values():
        assert url.removeprefix("awskms://").split("?")[0] in aliases


# --- config errors: one line naming the key, before anything is registered ---------------------------


def set_key(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: config.update({f"{NS}:{key}": value})


def edit_environment(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: config[f"{NS}:environments"][index].update(values)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda config: config.pop(f"{NS}:github"), f"{NS}:github: required, but not set"),
        (
            set_key("github", {"repository": "https://github.com/acme/platform"}),
            f'{NS}:github.repository: must be owner/name as GitHub spells it (got "https://github.com/acme/platform")',
        ),
        (
            set_key("environment", [{"stack": "dev"}]),
            f"{NS}:environment: unknown key; valid keys: github, environments, oidcProviderArn, stateBucket",
        ),
        (
            set_key("environments", []),
            f"{NS}:environments: list should have at least 1 item after validation, not 0 (got [])",
        ),
        (edit_environment(1, stack="alpha"), f"{NS}:environments[1].stack: listed twice"),
        # GitHub environment names are not case sensitive.
        (edit_environment(1, githubEnvironment="ALPHA"), f"{NS}:environments[1].githubEnvironment: listed twice"),
        (
            edit_environment(0, stack="Dev"),
            f"{NS}:environments[0].stack: must be a stack name of lower-case letters, digits and inner hyphens "
            '(got "Dev")',
        ),
        (
            edit_environment(0, stack="ci"),
            f"{NS}:environments[0].stack: the deploy role of stack ci manages everything named {PROJECT}-ci-*, which "
            f"would include {PROJECT}-ci-preview; choose another stack name",
        ),
        (
            set_key("stateBucket", {"name": f"{PROJECT}-beta-state"}),
            f"{NS}:stateBucket.name: the deploy role of stack beta manages everything named {PROJECT}-beta-*, which "
            f"would include {PROJECT}-beta-state; choose another bucket name",
        ),
        (
            edit_environment(0, stack="a" * 42),
            f"{NS}:environments[0].stack: too long: {PROJECT}-ci-deploy-{'a' * 42} would pass IAM's 64 characters",
        ),
        (
            set_key("stateBucket", {"noncurrentVersionDays": 0}),
            f"{NS}:stateBucket.noncurrentVersionDays: input should be greater than or equal to 1 (got 0)",
        ),
        (
            set_key("oidcProviderArn", "arn:aws:iam::123456789012:oidc-provider/gitlab.com"),
            f"{NS}:oidcProviderArn: must be the ARN arn:<partition>:iam::<account>:oidc-provider/{GITHUB} "
            '(got "arn:aws:iam::123456789012:oidc-provider/gitlab.com")',
        ),
        (
            edit_environment(0, region="eu-west-99x"),
            f'{NS}:environments[0].region: must be an AWS region such as eu-west-1 (got "eu-west-99x")',
        ),
        (
            set_key("github", {"repository": "acme/platform", "subjectPrefix": "repo:acme@1001/other@2002"}),
            f"{NS}:github.subjectPrefix: must be the immutable subject of acme/platform, repo:acme@<owner id>/"
            'platform@<repository id> as a token of its workflows shows it (got "repo:acme@1001/other@2002")',
        ),
        (
            set_key("github", {"repository": "acme/platform", "subjectPrefix": "repo:acme@*/platform@*"}),
            f"{NS}:github.subjectPrefix: must be the immutable subject of acme/platform, repo:acme@<owner id>/"
            'platform@<repository id> as a token of its workflows shows it (got "repo:acme@*/platform@*")',
        ),
    ],
    ids=[
        "no-repository",
        "repository-url",
        "unknown-key",
        "no-environment",
        "stack-twice",
        "github-environment-twice",
        "stack-case",
        "stack-named-ci",
        "bucket-in-a-stacks-scope",
        "stack-too-long",
        "history-days",
        "other-oidc-provider",
        "region",
        "subject-prefix-of-another-repository",
        "subject-prefix-pattern",
    ],
)
def test_a_config_mistake_is_one_line_naming_the_key(change, message):
    assert error_of(change) == message


def a_stack_file() -> tuple[str, str]:
    """A stack of the repository and its aws:region, whichever the team has."""
    for file in sorted(ROOT.glob("Pulumi.*.yaml")):
        region = (yaml.safe_load(file.read_text()).get("config") or {}).get("aws:region")
        if region:
            return file.name[len("Pulumi.") : -len(".yaml")], region
    pytest.skip("no stack file with aws:region")


def test_an_environment_deploys_where_its_stack_file_says_and_a_different_region_is_refused():
    stack, region = a_stack_file()
    other = "ap-southeast-2" if region != "ap-southeast-2" else "eu-north-1"

    def named(config, **extra):
        config["aws:region"] = other
        config[f"{NS}:environments"] = [{"stack": stack, **extra}]

    graph = bootstrap(named)
    assert graph.error is None, graph.error
    identity = policy_named(graph, f"{PROJECT}-ci-deploy-{stack}-identity")
    values = {"partition": "aws", "account": ACCOUNT, "project": PROJECT}
    assert identity == render("deploy-role-policies/identity.json", stacks=[stack], region=region, **values)
    assert error_of(lambda config: named(config, region=other)) == (
        f"{NS}:environments[0].region: Pulumi.{stack}.yaml deploys to {region}, not {other}"
    )


# --- IAM's quotas on what ci/ holds --------------------------------------------------------------------


def test_ci_documents_beyond_iams_quotas_stop_the_bootstrap_before_any_aws_resource(tmp_path):
    """11 managed policies on a deploy role, or one above 6,144 characters, would fail half-way through an update."""
    shutil.copytree(BOOTSTRAP, tmp_path / "bootstrap", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "ci", tmp_path / "ci", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    policies = tmp_path / "ci" / "deploy-role-policies"
    big = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" * 6100}],
    }
    (policies / "big.json").write_text(json.dumps(big))
    for n in range(10 - len(DEPLOY_PARTS)):
        small = {
            "Sid": "Small",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:${{partition}}:s3:::{n}",
        }
        (policies / f"extra{n}.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [small]}))
    found = evaluate("ci", copy.deepcopy(FIXTURE), root=tmp_path / "bootstrap")
    assert found.error is not None
    lines = found.error.splitlines()
    size = len(json.dumps(big, separators=(",", ":")))
    assert f"ci/: {PROJECT}-ci-deploy-alpha-big would be {size} characters; a managed policy holds 6144" in lines
    assert "ci/: the role of stack alpha would need 12 managed policies; IAM attaches 10" in lines
    assert [r.type for r in found.registered] == ["pulumi:providers:aws"]


# --- the project itself ----------------------------------------------------------------------------


def test_the_bootstrap_runs_in_the_repositorys_virtualenv_on_its_pins_and_imports_nothing_of_the_program():
    """`pulumi -C bootstrap ...` installs bootstrap/requirements.txt into ../venv: the pins its tests ran on."""
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    assert project["name"] == NS and project["runtime"]["options"]["virtualenv"] == "../venv"
    assert [line for line in (BOOTSTRAP / "requirements.txt").read_text().splitlines() if not line.startswith("#")] == [
        "-r ../requirements.txt"
    ]
    required = {
        re.split(r"[=<>!~\[ ]", line.strip())[0].lower().replace("_", "-")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    own = {p.stem for p in BOOTSTRAP.glob("*.py")}
    distributions = importlib.metadata.packages_distributions()
    for path in BOOTSTRAP.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for module in {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - own - {"__future__"}:
                assert module not in ("components", "offline", "policies", "ci"), f"{path.name} imports {module}"
                pinned = {d.lower().replace("_", "-") for d in distributions.get(module, [])} & required
                assert pinned, f"{path.name} imports {module}, which requirements.txt does not pin"


def test_the_ci_guide_sets_ci_up_with_the_bootstrap_and_its_outputs(graph):
    guide = (ROOT / "docs" / "ci.md").read_text()
    for text in ("pulumi -C bootstrap stack init ci", "pulumi -C bootstrap up", "bootstrap/Pulumi.ci.yaml"):
        assert text in guide, text
    for output in graph.outputs:
        assert output in guide, output
    for variable in graph.outputs["repositoryVariables"]:
        assert variable in guide, variable


def test_the_account_owns_the_bootstraps_keys_as_it_owns_the_programs(graph):
    """The bootstrap runs on its own (it cannot import components/), so it keeps its own copy of the key owner's
    actions: the two lists must say the same, or one project's keys become harder to administer than the other's."""
    from components.kms import KEY_OWNER_ACTIONS

    for key in keys(graph).values():
        assert statements(doc(key), "AccountOwnsTheKey")["Action"] == KEY_OWNER_ACTIONS, key.name

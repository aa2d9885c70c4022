"""What CI needs before the first deploy, as code: once per AWS account and repository (docs/ci.md, "Set up CI").

The Pulumi state bucket and its key, one stack-secrets key per environment, GitHub's OIDC
provider, the read-only preview role and one deploy role per environment, whose permissions
are ci/'s documents rendered for each stack. The outputs are what to set in GitHub.
"""

import json
from pathlib import Path

import bootstrap_config
import bootstrap_policies as policies
import pulumi
import pulumi_aws as aws

REPOSITORY = Path(__file__).resolve().parent.parent
# IAM and AWS STS quotas: 10 managed policies per role (a raise to 20 is a quota request),
# 6,144 characters per managed policy.
MANAGED_POLICIES_PER_ROLE = 10
MANAGED_POLICY_SIZE = 6144

config, names = bootstrap_config.load(REPOSITORY)
stack, namespace = pulumi.get_stack(), pulumi.get_project()
environments = config.environments

# Not the environments' Project/Environment tags: what a deploy role may change by tag
# (ci/deploy-role-policies) must never match what the bootstrap made.
default_tags = {"tags": {"Project": namespace, "Environment": stack, "ManagedBy": "pulumi", "Stack": stack}}
provider = aws.Provider("aws", region=config.region, default_tags=default_tags)
identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider))
account, partition = identity.account_id, identity.arn.split(":")[1]


def role_arn(name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


# IAM names a provider by its URL ("Create an OpenID Connect (OIDC) identity provider in IAM"),
# one per URL and account: the ARN is the same for the provider made here and an existing one.
github_provider_arn = f"arn:{partition}:iam::{account}:oidc-provider/{policies.GITHUB_OIDC_HOST}"
bootstrap_config.check_oidc_provider(config, github_provider_arn, namespace)
if config.oidc_provider_arn:
    # Roles trust tokens whose audience is sts.amazonaws.com; IAM refuses AssumeRoleWithWebIdentity
    # for a token whose aud is not among the provider's client ids ("Create an OpenID Connect
    # (OIDC) identity provider in IAM", IAM User Guide), so every CI job would fail on a provider
    # registered for another audience.
    existing = aws.iam.get_open_id_connect_provider(
        arn=config.oidc_provider_arn, opts=pulumi.InvokeOptions(provider=provider)
    )
    bootstrap_config.check_oidc_audience(config, existing.client_id_lists, namespace)

# --- ci/'s documents, rendered and checked before anything is created --------------------------

values = {"partition": partition, "account": account, "project": names.project}
by_region: dict[str, list[str]] = {}
for env in environments:
    by_region.setdefault(env.region, []).append(env.stack)
# The preview role serves every stack: each value naming ${stack} once per stack (ci/render.py).
preview_documents = {
    names.preview_program(region if len(by_region) > 1 else None): policies.render(
        REPOSITORY, "preview-role-policy.json", stacks=stacks, region=region, **values
    )
    for region, stacks in by_region.items()
}
deploy_documents = {
    env.stack: {
        names.deploy_policy(env, part): policies.render(
            REPOSITORY, f"deploy-role-policies/{part}.json", stacks=[env.stack], region=env.region, **values
        )
        for part in names.deploy_policies
    }
    for env in environments
}
problems = [
    f"ci/: {name} would be {policies.size(document)} characters; a managed policy holds {MANAGED_POLICY_SIZE}"
    for documents in (preview_documents, *deploy_documents.values())
    for name, document in documents.items()
    if policies.size(document) > MANAGED_POLICY_SIZE
]
# Each role also gets its state policy, the preview role ViewOnlyAccess besides.
problems += [
    f"ci/: the role of {role} would need {count} managed policies; IAM attaches {MANAGED_POLICIES_PER_ROLE}"
    for role, count in [
        ("the pull-request previews", len(preview_documents) + 2),
        *((f"stack {s}", len(documents) + 1) for s, documents in deploy_documents.items()),
    ]
    if count > MANAGED_POLICIES_PER_ROLE
]
if problems:
    raise pulumi.RunError("\n".join(problems))

# --- keys: the state's, and one per stack for its secrets ------------------------------------

opts = pulumi.ResourceOptions(provider=provider)
# The state and the secrets are unreadable without their keys: Pulumi refuses to delete them or
# their children (aliases, the bucket's settings) until someone unprotects them on purpose
# ("protect" resource option, Pulumi docs).
kept = pulumi.ResourceOptions(provider=provider, protect=True)
account_root = f"arn:{partition}:iam::{account}:root"
# The only roles a deploy role can create (ci/deploy-role-policies/identity.json).
environment_roles = [role_arn(f"{names.project}-{env.stack}-*") for env in environments]
deploy_roles = {env.stack: role_arn(names.deploy_role(env)) for env in environments}
ci_roles = [role_arn(names.preview_role), *deploy_roles.values()]


def key(name: str, alias: str, description: str, policy: str) -> aws.kms.Key:
    created = aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        rotation_period_in_days=365,
        deletion_window_in_days=30,
        policy=policy,
        opts=kept,
    )
    aws.kms.Alias(
        name, name=alias, target_key_id=created.key_id, opts=pulumi.ResourceOptions(provider=provider, parent=created)
    )
    return created


state_key = key(
    "state",
    names.state_key_alias,
    f"Pulumi state of {names.project} (S3 bucket encryption)",
    policies.key_policy(
        account_root,
        environment_roles=environment_roles,
        ci_roles=ci_roles,
        ci_actions=policies.STATE_KEY_ACTIONS,
        only_via_s3=config.region,
    ),
)
secrets_keys = {
    env.stack: key(
        f"secrets-{env.stack}",
        names.secrets_key_alias(env),
        f"Pulumi secrets provider of the {env.stack} stack of {names.project}",
        policies.key_policy(
            account_root,
            environment_roles=environment_roles,
            ci_roles=ci_roles,
            ci_actions=policies.SECRETS_ACTIONS,
            # The dev role must not decrypt prod's secrets.
            denied_ci_roles=[arn for other, arn in deploy_roles.items() if other != env.stack],
        ),
    )
    for env in environments
}

# --- the state bucket -------------------------------------------------------------------------

bucket_name = names.state_bucket(account)
bucket_arn = f"arn:{partition}:s3:::{bucket_name}"
# A fixed name, the one PULUMI_BACKEND_URL holds; never emptied by Pulumi (force_destroy off).
bucket = aws.s3.Bucket("state", bucket=bucket_name, force_destroy=False, opts=kept)
child = pulumi.ResourceOptions(provider=provider, parent=bucket)
public_access = aws.s3.BucketPublicAccessBlock(
    "state",
    bucket=bucket.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
    opts=child,
)
aws.s3.BucketOwnershipControls("state", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
# Every update overwrites the stack's checkpoint: versions are its history and the way back.
aws.s3.BucketVersioning("state", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child)
aws.s3.BucketServerSideEncryptionConfiguration(
    "state",
    bucket=bucket.id,
    rules=[
        {
            # SSE-KMS with the state key, not SSE-S3: a principal with s3:GetObject on every
            # bucket (the AWS managed ReadOnlyAccess) still cannot read the state, and each
            # read is a KMS event in CloudTrail. A bucket key keeps the KMS requests few
            # ("Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys", Amazon S3 User Guide).
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": state_key.arn},
            "bucket_key_enabled": True,
        }
    ],
    opts=child,
)
aws.s3.BucketPolicy(
    "state",
    bucket=bucket.id,
    policy=policies.bucket_policy(bucket_arn, environment_roles),
    # S3 rejects a bucket policy while the public-access block is still being applied.
    opts=pulumi.ResourceOptions(provider=provider, parent=bucket, depends_on=[public_access]),
)
# Only overwritten versions expire, once both old enough and not among the latest kept
# (NoncurrentDays with NewerNoncurrentVersions, "Lifecycle configuration elements", Amazon S3
# User Guide); current state, history and backups stay.
history = config.state_bucket
aws.s3.BucketLifecycleConfiguration(
    "state",
    bucket=bucket.id,
    rules=[
        {
            "id": "expire-old-state-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {
                "noncurrent_days": history.noncurrent_version_days,
                "newer_noncurrent_versions": history.newer_noncurrent_versions,
            },
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        },
        {
            # Each run takes a lock under a new name and deletes it: one old version per lock,
            # never 10 newer ones. Where two rules expire the same version the shorter one wins
            # ("How Amazon S3 handles conflicts in lifecycle configurations", Amazon S3 User Guide).
            "id": "expire-released-locks",
            "status": "Enabled",
            "filter": {"prefix": ".pulumi/locks/"},
            "noncurrent_version_expiration": {"noncurrent_days": 1},
        },
        {
            "id": "remove-expired-delete-markers",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"expired_object_delete_marker": True},
        },
    ],
    opts=child,
)

# --- GitHub's OIDC provider and the roles -----------------------------------------------------

trusting = []
if config.oidc_provider_arn is None:
    trusting.append(
        aws.iam.OpenIdConnectProvider(
            "github",
            url=f"https://{policies.GITHUB_OIDC_HOST}",
            client_id_lists=[policies.GITHUB_AUDIENCE],
            # Every CI job of the account (and other repositories') authenticates through it:
            # Pulumi refuses to delete it, and a `pulumi destroy` of the bootstrap leaves it in
            # the account ("protect" and "retainOnDelete" resource options, Pulumi docs).
            opts=pulumi.ResourceOptions(provider=provider, protect=True, retain_on_delete=True),
        )
    )
# The permissions boundary of every role: the environments' (the program gives it to each, by
# default by this name: ecs-platform:iam.permissionsBoundary) and CI's own. ci/'s deploy policies
# let a deploy role create, change and attach policies to a role only with it, so a role it
# creates, whatever its policies, never reaches what the boundary denies (docs/ci.md).
boundary_arn = f"arn:{partition}:iam::{account}:policy/{names.boundary_policy}"
boundary = aws.iam.Policy(
    "boundary",
    name=names.boundary_policy,
    description=f"Permissions boundary of every role of {names.project}'s environments and CI",
    policy=pulumi.Output.all(state_key.arn, *(k.arn for k in secrets_keys.values())).apply(
        lambda arns: policies.document(
            policies.boundary_statements(
                boundary_arn=boundary_arn,
                partition=partition,
                account=account,
                ci_prefix=names.prefix,
                project=names.project,
                provider_arn=github_provider_arn,
                bucket_arn=bucket_arn,
                key_arns=arns,
            )
        )
    ),
    # The policy pack's identity-policy rules leave a boundary's `*` alone (policies/guardrails/iam.py).
    tags=dict([policies.BOUNDARY_TAG]),
    # Every role of every environment names it: without it none of them can be created or changed.
    opts=kept,
)
role_opts = pulumi.ResourceOptions(provider=provider, depends_on=[*trusting, boundary])
layout = policies.StateLayout(bucket_arn, names.project)
# "ViewOnlyAccess", AWS Managed Policy Reference (a job function policy, hence the path).
view_only = f"arn:{partition}:iam::aws:policy/job-function/ViewOnlyAccess"


def attach(name: str, role: aws.iam.Role, policy_arns: list[pulumi.Input[str]]) -> None:
    # Exactly these: a policy attached by hand is detached by the next `pulumi up`.
    aws.iam.RolePolicyAttachmentsExclusive(name, role_name=role.name, policy_arns=policy_arns, opts=opts)


preview_role = aws.iam.Role(
    "preview",
    name=names.preview_role,
    description=f"pulumi preview of every {names.project} stack from pull requests of {config.github.repository}",
    assume_role_policy=policies.github_trust(
        "GitHubPullRequests", github_provider_arn, config.github.subject_prefixes, "pull_request"
    ),
    permissions_boundary=boundary.arn,
    opts=role_opts,
)
preview_program = [
    aws.iam.Policy(name, name=name, policy=json.dumps(document), opts=opts)
    for name, document in preview_documents.items()
]
preview_state = aws.iam.Policy(
    "preview-state",
    name=names.preview_state,
    policy=pulumi.Output.all(state_key.arn, *(k.arn for k in secrets_keys.values())).apply(
        lambda arns: policies.document(
            policies.preview_state_statements(
                layout, [env.stack for env in environments], arns[0], arns[1:], config.region
            )
        )
    ),
    opts=opts,
)
# ViewOnlyAccess lists and describes, and reads no data (no S3 objects, no secret values);
# ci/preview-role-policy.json adds the reads the program itself makes (docs/ci.md).
attach("preview", preview_role, [view_only, *(p.arn for p in preview_program), preview_state.arn])

deploy_role_arns = {}
for env in environments:
    role = aws.iam.Role(
        f"deploy-{env.stack}",
        name=names.deploy_role(env),
        description=f"pulumi up of {env.stack} from {config.github.repository}, GitHub environment {env.environment}",
        assume_role_policy=policies.github_trust(
            "GitHubEnvironment", github_provider_arn, config.github.subject_prefixes, f"environment:{env.environment}"
        ),
        # The deploy jobs run up to 90 minutes, longer than the 1-hour default session:
        # configure-aws-credentials may ask for up to this (role-duration-seconds).
        max_session_duration=2 * 3600,
        permissions_boundary=boundary.arn,
        opts=role_opts,
    )
    program = [
        aws.iam.Policy(name, name=name, policy=json.dumps(document), opts=opts)
        for name, document in deploy_documents[env.stack].items()
    ]
    state = aws.iam.Policy(
        f"deploy-{env.stack}-state",
        name=names.deploy_policy(env, "state"),
        policy=pulumi.Output.all(state_key.arn, secrets_keys[env.stack].arn).apply(
            lambda arns, stack=env.stack: policies.document(
                policies.deploy_state_statements(layout, stack, arns[0], arns[1], config.region)
            )
        ),
        opts=opts,
    )
    attach(f"deploy-{env.stack}", role, [*(p.arn for p in program), state.arn])
    deploy_role_arns[env.environment] = role.arn

# --- AWS WAF log delivery: one resource policy per region the environments deploy to -------------

for region in by_region:
    regional = opts
    if region != config.region:
        regional = pulumi.ResourceOptions(
            provider=aws.Provider(f"aws-{region}", region=region, default_tags=default_tags)
        )
    aws.cloudwatch.LogResourcePolicy(
        f"waf-log-delivery-{region}",
        policy_name=f"{names.project}-waf-log-delivery",
        policy_document=policies.document(
            policies.waf_log_delivery_statements(partition, region, account, names.project)
        ),
        opts=regional,
    )

# --- what to set in GitHub (docs/ci.md, step 4) -------------------------------------------------

pulumi.export(
    "repositoryVariables",
    {
        "AWS_PREVIEW_ROLE_ARN": preview_role.arn,
        "AWS_REGION": config.region,
        "PULUMI_BACKEND_URL": f"s3://{bucket_name}?region={config.region}",
    },
)
pulumi.export("environmentVariables", {name: {"AWS_DEPLOY_ROLE_ARN": arn} for name, arn in deploy_role_arns.items()})
pulumi.export(
    "secretsProviders",
    {env.stack: f"awskms://{names.secrets_key_alias(env)}?region={config.region}" for env in environments},
)
pulumi.export("stateBucket", bucket.bucket)

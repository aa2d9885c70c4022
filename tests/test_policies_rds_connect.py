"""rds-db:connect: one database user of one instance, on an instance that accepts IAM tokens (mandatory)."""

import pulumi
import pulumi_aws as aws
import pytest
from policy_helpers import ACCOUNT, DB_ARGS, allow, doc, passes, role, violates

from offline.harness.mock_aws import fake_hex

USER_ARN = f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app"
ONE_USER = "iam-rds-connect-one-db-user"
IAM_AUTH_ON = "rds-iam-auth-where-connect-is-granted"


def grant(document, where="rolePolicy"):
    def program():
        if where == "rolePolicy":
            aws.iam.RolePolicy("connect", role=role().id, policy=document)
        elif where == "policy":
            aws.iam.Policy("connect", policy=document)
        else:
            role(inline_policies=[{"name": "connect", "policy": document}])

    return program


@pytest.mark.parametrize("where", ["rolePolicy", "policy", "inline"])
@pytest.mark.parametrize(
    "resource",
    [
        "*",
        f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:*",
        f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:*/app",
        f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/*",
        f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app*",
        f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:db-ABC*/app",
        f"arn:aws:rds-db:*:{ACCOUNT}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app",
        "arn:aws:rds-db:eu-west-1:*:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app",
        # the instance identifier where the resource id belongs: grants nothing, hides the mistake
        f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:ecs-platform-prod-postgres/app",
    ],
    ids=[
        "star",
        "every-user-of-every-database",
        "every-database",
        "every-user",
        "user-prefix",
        "resource-id-prefix",
        "every-region",
        "every-account",
        "identifier-not-resource-id",
    ],
)
def test_a_connect_grant_beyond_one_user_of_one_database_is_caught(where, resource):
    violates(grant(doc(allow("rds-db:connect", resource)), where), ONE_USER)


def test_service_wildcards_that_include_connect_and_not_resource_are_caught():
    violates(grant(doc(allow("rds-db:*", f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:*"))), ONE_USER)
    not_resource = {"Effect": "Allow", "Action": "rds-db:connect", "NotResource": USER_ARN}
    violates(grant(doc(not_resource)), ONE_USER)


@pytest.mark.parametrize("where", ["rolePolicy", "policy", "inline"])
def test_one_user_of_one_instance_or_cluster_passes(where):
    cluster_user = f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app"
    passes(grant(doc(allow("rds-db:connect", [USER_ARN, cluster_user])), where), ONE_USER)
    passes(grant(doc(allow("RDS-DB:Connect", USER_ARN))), ONE_USER)


def test_an_unknown_resource_in_preview_is_not_reported():
    def program():
        instance = aws.rds.Instance("db", **DB_ARGS)
        arn = pulumi.Output.concat(f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:", instance.resource_id, "/app")
        aws.iam.RolePolicy(
            "connect", role=role().id, policy=pulumi.Output.json_dumps(doc_object(allow("rds-db:connect", arn)))
        )

    passes(program, ONE_USER, preview=True)


def doc_object(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def connect_to_instance(*, iam_auth, by="dependency"):
    """An instance and a role allowed to connect to it: through its resource_id output, or its id written out.

    The rule finds the instance by the resource id in the grant either way.
    """

    def program():
        instance = aws.rds.Instance("db", **DB_ARGS, iam_database_authentication_enabled=iam_auth)
        # by "resource-id": the id the mock gives instance "db", as someone might paste it from the console
        resource_id = instance.resource_id if by == "dependency" else f"db-{fake_hex('db', 26).upper()}"
        arn = pulumi.Output.concat(f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:", resource_id, "/app")
        aws.iam.RolePolicy(
            "connect", role=role().id, policy=pulumi.Output.json_dumps(doc_object(allow("rds-db:connect", arn)))
        )

    return program


@pytest.mark.parametrize("by", ["dependency", "resource-id"])
def test_a_grant_to_an_instance_without_iam_authentication_is_caught(by):
    found = violates(connect_to_instance(iam_auth=False, by=by), IAM_AUTH_ON)
    assert "connect grants rds-db:connect to db" in found[0].message


def test_a_grant_whose_resource_id_is_unknown_in_preview_is_left_for_the_deployment():
    # The document is unknown until the instance exists; `pulumi up` runs the pack again with it known.
    passes(connect_to_instance(iam_auth=False), IAM_AUTH_ON, preview=True)


@pytest.mark.parametrize("by", ["dependency", "resource-id"])
def test_a_grant_to_an_instance_with_iam_authentication_passes(by):
    passes(connect_to_instance(iam_auth=True, by=by), IAM_AUTH_ON)
    passes(connect_to_instance(iam_auth=True, by=by), ONE_USER)


def test_the_fixture_environments_hold_both(env):
    from helpers import check

    result = check(env)
    assert result.of(ONE_USER) == [] and result.of(IAM_AUTH_ON) == []
    # prodlike's api is granted exactly one user of its instance, so the rules had something to check.
    if env.stack == "prodlike":
        assert env.one("aws:rds/instance:Instance").inputs["iamDatabaseAuthenticationEnabled"] is True

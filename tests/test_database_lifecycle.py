"""The database lifecycle: a final snapshot name per database lifetime; major upgrades `pulumi up` survives."""

import re

from helpers import with_config

from policies.guardrails.types import DB_PARAMETER_GROUP as PARAMS, RANDOM_ID, RDS_INSTANCE as INSTANCE


def keep_final_snapshot(config):
    config["ecs-platform:database"].pop("skipFinalSnapshot")


def test_the_final_snapshot_name_is_not_the_fixed_one_a_second_destroy_would_collide_with(env):
    identifier = env.one(INSTANCE).inputs["identifier"]
    name = env.one(INSTANCE).inputs["finalSnapshotIdentifier"]
    assert name != f"{identifier}-final"
    assert re.fullmatch(rf"{identifier}-final-[0-9a-f]{{8}}", name)


def test_the_suffix_comes_from_a_random_id_kept_in_the_state_and_renewed_only_with_the_identifier(env):
    instance = env.one(INSTANCE)
    suffix = env.one(RANDOM_ID, "database-final-snapshot")
    # Made once and stored: every later `pulumi up` reads the same value back, so no perpetual diff.
    assert suffix.inputs == {"byteLength": 4, "keepers": {"identifier": instance.inputs["identifier"]}}
    assert suffix.urn in instance.property_dependencies["finalSnapshotIdentifier"]
    assert (
        instance.inputs["finalSnapshotIdentifier"] == f"{instance.inputs['identifier']}-final-{suffix.outputs['hex']}"
    )
    assert suffix.parent == env.one("ecs-platform:database:Database").urn


def test_a_database_that_keeps_its_final_snapshot_names_it_after_its_own_lifetime():
    graph = with_config("small", keep_final_snapshot)
    instance = graph.one(INSTANCE).inputs
    assert instance["skipFinalSnapshot"] is False
    assert instance["finalSnapshotIdentifier"].startswith("ecs-platform-small-postgres-final-")


def test_a_snapshot_name_fits_rds_rules_even_for_the_longest_identifier():
    # RDS: 1-255 letters, digits and hyphens, first a letter, no two hyphens in a row, no trailing hyphen.
    graph = with_config("small", lambda c: c["ecs-platform:database"].update(skipFinalSnapshot=False))
    name = graph.one(INSTANCE).inputs["finalSnapshotIdentifier"]
    assert re.fullmatch(r"[a-z](?!.*--)[a-z0-9-]{0,253}[a-z0-9]", name) and len(name) <= 255


def test_the_parameter_group_is_never_deleted_by_pulumi_so_a_deferred_major_upgrade_cannot_fail(env):
    # A major upgrade replaces the group (its family changes). With applyImmediately false the instance
    # keeps the old group until the maintenance window, and RDS refuses to delete an attached group.
    params = env.one(PARAMS)
    assert params.inputs["skipDestroy"] is True
    assert params.inputs["namePrefix"].startswith(f"ecs-platform-{env.stack}-postgres18-")
    assert env.one(INSTANCE).inputs["allowMajorVersionUpgrade"] is True


def test_a_major_upgrade_points_the_instance_at_a_new_group_and_the_old_one_is_left_in_place():
    upgraded = with_config("prodlike", lambda c: c["ecs-platform:database"].update(engineVersion=18))
    older = with_config("prodlike", lambda c: c["ecs-platform:database"].update(engineVersion=17))
    for graph, family in ((older, "postgres17"), (upgraded, "postgres18")):
        params = graph.one(PARAMS)
        assert params.inputs["family"] == family
        assert params.inputs["namePrefix"].startswith(f"ecs-platform-prodlike-{family}-")
        assert params.inputs["skipDestroy"] is True
        instance = graph.one(INSTANCE)
        assert instance.inputs["parameterGroupName"] == params.outputs["name"]
        assert instance.inputs["engineVersion"] == family.removeprefix("postgres")
    # Same logical resource, different family: Pulumi replaces it (create the new, then "delete" the old,
    # which skipDestroy turns into dropping it from the state).
    assert older.one(PARAMS).urn == upgraded.one(PARAMS).urn
    # prodlike defers the upgrade to the maintenance window unless someone opts in to applying it now.
    assert upgraded.one(INSTANCE).inputs["applyImmediately"] is False

"""Rules across keys of one section: they hold for the keys a stack leaves at their defaults too."""

import pytest
from helpers import config_error


def database(**changes):
    def change(config):
        section = config["ecs-platform:database"]
        for key, value in changes.items():
            if value is None:
                section.pop(key, None)
            else:
                section[key] = value

    return change


def web(**changes):
    return lambda config: config["ecs-platform:services"][0].update(changes)


CASES = {
    "default storage ceiling below a larger size": (
        database(allocatedStorage=100, maxAllocatedStorage=None),
        "ecs-platform:database.maxAllocatedStorage: the storage autoscaling ceiling must be at least 10% above "
        "allocatedStorage (100 GiB), so 110 or more (got 100)",
    ),
    "backup window over the default maintenance window": (
        database(backupWindow="03:30-04:30"),
        "ecs-platform:database.maintenanceWindow: overlaps the backup window 03:30-04:30; RDS needs them apart "
        '(got "sun:04:00-sun:05:00")',
    ),
    "default health check timeout not below a short interval": (
        web(healthCheck={"interval": 5}),
        "ecs-platform:services[0].healthCheck.timeout: must be shorter than interval (5) (got 5)",
    ),
    "six paths and no hosts": (
        web(routing={"paths": [f"/p{i}/*" for i in range(6)]}),
        "ecs-platform:services[0].routing.hosts: at most 5 paths and hosts together per service (an ALB rule limit) "
        "(got [])",
    ),
    "no ingress range and the default prefix lists": (
        lambda config: config["ecs-platform:cluster"].update(loadBalancer={"ingressCidrs": []}),
        "ecs-platform:cluster.loadBalancer.ingressCidrs: with no ingressPrefixLists either, nobody could reach the "
        "load balancer (got [])",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_rule_across_keys_checks_the_defaults_as_well(case):
    change, expected = CASES[case]
    assert config_error("small", change) == expected


def test_rules_across_keys_of_one_model_each_get_their_line():
    change = web(
        routing={"paths": ["/a"]},
        public=False,
        autoscaling={"maxTasks": 2, "requestsPerTarget": 100},
        environment={"TOKEN_URL": "x"},
    )
    # The environment key is wrong on its own: the rules across the service's keys wait for it.
    assert config_error("small", change).splitlines() == [
        "ecs-platform:services[0].environment: the name TOKEN_URL looks like a secret; declare it under secrets as "
        'a reference instead (got {"TOKEN_URL": "x"})',
    ]
    change = web(routing={"paths": ["/a"]}, public=False, autoscaling={"maxTasks": 2, "requestsPerTarget": 100})
    assert config_error("small", change).splitlines() == [
        "ecs-platform:services[0].routing: only a public service is routed by the load balancer; set public: true "
        '(got {"paths": ["/a"]})',
        "ecs-platform:services[0].autoscaling: requestsPerTarget needs a public service (it counts load balancer "
        'requests) (got {"maxTasks": 2, "requestsPerTarget": 100})',
    ]


# --- one rule with the policy pack: secret-looking names, actions that may take "*" ---------------


def test_the_config_refuses_every_name_the_pack_refuses_in_plain_environment():
    for name in ("DB_PWD", "AWS_ACCESS_KEY", "SESSION_KEY"):  # the pack caught these, the config did not
        error = config_error("small", web(environment={name: "x"}))
        assert f"the name {name} looks like a secret" in error


def test_a_name_that_points_at_a_secret_is_plain_environment_for_both():
    from helpers import check, with_config

    graph = with_config("small", web(environment={"DB_PASSWORD_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}))
    assert graph.error is None, graph.error
    assert check(graph).of("ecs-no-secrets-in-environment") == []


def test_star_is_allowed_exactly_for_the_actions_the_iam_database_finds_unscopable():
    from helpers import with_config

    # Unscopable per AWS's reference, and not in the hand-kept list the config had before.
    grant = {"actions": ["ssmmessages:CreateControlChannel", "logs:DescribeLogGroups"], "resources": ["*"]}
    assert with_config("small", web(permissions=[grant])).error is None
    error = config_error("small", web(permissions=[{"actions": ["s3:GetObject"], "resources": ["*"]}]))
    assert 'resources: "*" is only allowed for actions AWS cannot scope; name the resources of s3:GetObject' in error

"""Invalid stack config stops the program before any resource exists, with one line per problem."""

import pytest
from helpers import config_error


def network(**changes):
    return lambda config: config["ecs-platform:network"].update(changes)


def flow_logs(**changes):
    return lambda config: config["ecs-platform:network"].setdefault("flowLogs", {}).update(changes)


CASES = {
    "wrong type": (
        network(azCount="two"),
        'ecs-platform:network.azCount: must be a valid integer, unable to parse string as an integer (got "two")',
    ),
    "too few AZs": (network(azCount=1), "ecs-platform:network.azCount: must be greater than or equal to 2 (got 1)"),
    "too many AZs": (network(azCount=4), "ecs-platform:network.azCount: must be less than or equal to 3 (got 4)"),
    "CIDR out of range": (
        network(cidr="10.0.0.0/33"),
        'ecs-platform:network.cidr: must be an IPv4 CIDR block such as 10.0.0.0/16, host bits zero (got "10.0.0.0/33")',
    ),
    "CIDR with host bits": (
        network(cidr="10.0.0.1/16"),
        'ecs-platform:network.cidr: must be an IPv4 CIDR block such as 10.0.0.0/16, host bits zero (got "10.0.0.1/16")',
    ),
    "public CIDR": (
        network(cidr="8.8.0.0/16"),
        'ecs-platform:network.cidr: 8.8.0.0/16 is not a private (RFC 1918) range (got "8.8.0.0/16")',
    ),
    "CIDR too large for a VPC": (
        network(cidr="10.0.0.0/12"),
        'ecs-platform:network.cidr: a VPC CIDR must be /16 to /24 (got "10.0.0.0/12")',
    ),
    "subnets that do not fit": (
        network(cidr="10.0.0.0/20"),
        "ecs-platform:network.subnetMasks: 3 AZ slots of public /24, private /20 and isolated /24 subnets do not fit "
        'in 10.0.0.0/20; use larger masks or a larger cidr (got {"public": 24, "private": 20, "isolated": 24})',
    ),
    "subnet mask out of range": (
        network(subnetMasks={"public": 30}),
        "ecs-platform:network.subnetMasks.public: must be less than or equal to 28 (got 30)",
    ),
    "unknown NAT strategy": (
        network(natGateways="double"),
        "ecs-platform:network.natGateways: must be 'none', 'single', 'perAz' or 'instance' (got \"double\")",
    ),
    "misspelt key": (
        lambda config: config["ecs-platform:network"].update(natGateway="single"),
        "ecs-platform:network.natGateway: unknown key; did you mean natGateways? valid keys: cidr, azCount, "
        "natGateways, natInstanceType, natInstanceAmi, subnetMasks, interfaceEndpoints, flowLogs",
    ),
    "unknown section": (
        lambda config: config.update({"ecs-platform:netwrok": {}}),
        "ecs-platform:netwrok: unknown key; did you mean network? valid keys: network, database, bastion, cluster, "
        "services, monitoring, iam",
    ),
    "section of the wrong shape": (
        lambda config: config.update({"ecs-platform:network": "10.0.0.0/16"}),
        'ecs-platform:network: must be a mapping of keys (got "10.0.0.0/16")',
    ),
    "missing section": (
        lambda config: config.pop("ecs-platform:network"),
        "ecs-platform:network: required, but not set",
    ),
    "missing CIDR": (
        lambda config: config["ecs-platform:network"].pop("cidr"),
        "ecs-platform:network.cidr: required, but not set",
    ),
    "missing region": (lambda config: config.pop("aws:region"), "aws:region: required, but not set"),
    "bad region": (
        lambda config: config.update({"aws:region": "Ireland"}),
        'aws:region: must be an AWS region code such as eu-west-1 (got "Ireland")',
    ),
    "retention CloudWatch does not offer": (
        flow_logs(retentionDays=42),
        "ecs-platform:network.flowLogs.retentionDays: must be 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 (got 42)",
    ),
    "logs kept forever": (
        flow_logs(retentionDays=0),
        "ecs-platform:network.flowLogs.retentionDays: must be 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 (got 0)",
    ),
    "flag that is not a boolean": (
        flow_logs(enabled="maybe"),
        'ecs-platform:network.flowLogs.enabled: must be a valid boolean, unable to interpret input (got "maybe")',
    ),
    "unknown endpoint service": (
        network(interfaceEndpoints=["ssm", "s3"]),
        "ecs-platform:network.interfaceEndpoints[1]: must be 'ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'kms', "
        "'ssm', 'ssmmessages', 'ec2messages', 'sts', 'monitoring', 'ecs', 'ecs-agent' or 'ecs-telemetry' (got \"s3\")",
    ),
    "endpoint listed twice": (
        network(interfaceEndpoints=["ssm", "ssm"]),
        'ecs-platform:network.interfaceEndpoints: listed more than once: ssm (got ["ssm", "ssm"])',
    ),
    "list given as a string": (
        network(interfaceEndpoints="ssm"),
        'ecs-platform:network.interfaceEndpoints: must be a valid list (got "ssm")',
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_invalid_config_gives_one_line_naming_the_key(case):
    change, expected = CASES[case]
    error = config_error("small", change)
    assert error == expected
    assert "\n" not in error and "Traceback" not in error


def test_every_problem_gets_its_own_line():
    error = config_error("prodlike", network(azCount=5, natGateways="lots"))
    assert error.splitlines() == [
        "ecs-platform:network.azCount: must be less than or equal to 3 (got 5)",
        "ecs-platform:network.natGateways: must be 'none', 'single', 'perAz' or 'instance' (got \"lots\")",
    ]


def test_values_reach_the_program_as_the_cli_sends_them():
    # The CLI passes scalars as strings; "3" from a YAML string is still three AZs.
    from helpers import with_config

    graph = with_config("small", network(azCount="3"))
    assert graph.error is None
    assert len(graph.one("awsx:ec2:Vpc").inputs["availabilityZoneNames"]) == 3


def test_the_5xx_alarm_threshold_is_set_by_the_key_the_reference_names():
    from helpers import with_config

    graph = with_config("small", lambda config: config.update({"ecs-platform:monitoring": {"target5xxPerMinute": 12}}))
    assert graph.error is None, graph.error
    assert graph.one("aws:cloudwatch/metricAlarm:MetricAlarm", "web-target-5xx").inputs["threshold"] == 12
    error = config_error("small", lambda config: config.update({"ecs-platform:monitoring": {"target5xxPerMinute": 0}}))
    assert error == "ecs-platform:monitoring.target5xxPerMinute: must be greater than or equal to 1 (got 0)"

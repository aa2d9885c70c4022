"""Example values in the stack config: an error on a real update, a warning in a preview.

The prod-like fixture is an example with RFC 2606 domains and AWS's documentation
account id in it; a real `pulumi up` with those would hang on certificate validation or start
tasks that cannot read their secret. The harness imitates a real update with `update=True`.
"""

import copy

import pytest
from helpers import evaluate_fixture, fixture_config

from offline.harness import evaluate

PRODLIKE_PLACEHOLDERS = [
    'ecs-platform:cluster.loadBalancer.hostedZone.name: "example.com" is a reserved example domain (RFC 2606/6761); '
    "replace it with your own before deploying",
    'ecs-platform:cluster.loadBalancer.certificate.domainName: "example.com" is a reserved example domain '
    "(RFC 2606/6761); replace it with your own before deploying",
    'ecs-platform:cluster.loadBalancer.certificate.alternativeNames[0]: "*.example.com" is a reserved example '
    "domain (RFC 2606/6761); replace it with your own before deploying",
    'ecs-platform:services[0].routing.hosts[0]: "www.example.com" is a reserved example domain (RFC 2606/6761); '
    "replace it with your own before deploying",
    "ecs-platform:services[1].secrets.PAYMENT_PROVIDER_KEY: 123456789012 is a documentation account id; "
    "replace it with your own before deploying",
    'ecs-platform:monitoring.alarmEmails[0]: "example.com" is a reserved example domain (RFC 2606/6761); '
    "replace it with your own before deploying",
]


def test_a_real_update_of_the_example_prodlike_stack_stops_with_one_line_per_key_before_any_resource():
    graph = evaluate_fixture("prodlike", update=True)
    assert graph.error is not None
    assert graph.error.splitlines() == PRODLIKE_PLACEHOLDERS
    assert graph.registered == []


def test_a_preview_warns_once_per_key_and_builds_the_environment():
    graph = evaluate_fixture("prodlike", preview=True)
    assert graph.error is None
    assert graph.warnings == PRODLIKE_PLACEHOLDERS
    assert graph.of_type("aws:acm/certificate:Certificate")


def test_the_small_example_holds_no_placeholder_and_updates():
    graph = evaluate_fixture("small", update=True)
    assert graph.error is None and graph.warnings == []
    assert graph.registered


def update_with(change) -> str | None:
    config = copy.deepcopy(fixture_config("small"))
    change(config)
    return evaluate("small", config, update=True).error


def web(config) -> dict:
    return next(s for s in config["ecs-platform:services"] if s["name"] == "web")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            lambda c: web(c).setdefault("routing", {}).update(hosts=["shop.test"]),
            'ecs-platform:services[0].routing.hosts[0]: "shop.test" is a reserved example domain',
        ),
        (
            lambda c: c.update({"ecs-platform:monitoring": {"alarmEmails": ["ops@alerts.example.net"]}}),
            'ecs-platform:monitoring.alarmEmails[0]: "alerts.example.net" is a reserved example domain',
        ),
        (
            lambda c: c.update({"aws:allowedAccountIds": ["444455556666"]}),
            "aws:allowedAccountIds[0]: 444455556666 is a documentation account id",
        ),
        (
            lambda c: web(c).update(environment={"API_URL": "https://api.example.org/v1"}),
            'ecs-platform:services[0].environment.API_URL: "api.example.org" is a reserved example domain',
        ),
    ],
    ids=["test-tld", "example-net-email", "docs-account-in-aws-config", "example-org-url"],
)
def test_reserved_domains_and_documentation_accounts_anywhere_in_the_config_stop_an_update(change, line):
    error = update_with(change)
    assert error is not None
    assert [line in e for e in error.splitlines()] == [True], error


def test_real_values_that_merely_look_similar_are_not_placeholders():
    def change(c):
        web(c).update(
            environment={"UPLOADS": "s3://example-prod-uploads", "CALLBACK": "https://notexample.com/hook",
                         "SITE": "https://www.example.com.au", "ACCOUNT": "1234567890123"},
            containerHealthCheck={"command": ["CMD-SHELL", "wget -q -O /dev/null http://localhost/ || exit 1"]},
        )  # fmt: skip
        api = next(s for s in c["ecs-platform:services"] if s["name"] == "api")
        api["pipeline"]["dockerfile"] = "Dockerfile.test"  # a file in the source, not a domain

    assert update_with(change) is None


def test_the_harness_runs_a_preview_or_an_update_not_both():
    with pytest.raises(ValueError, match="not both"):
        evaluate_fixture("small", preview=True, update=True)

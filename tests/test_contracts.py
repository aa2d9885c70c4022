"""Components built from another stack's outputs register what they register inside the environment stack.

Each contract (components/contracts.py) is exported by the environment stack and read back
with `from_stack_reference`. The programs below build the small environment's web service, and
its api pipeline, in a stack of their own on a StackReference whose outputs are what a run of
the small environment exported (the mocked engine answers the reference with them). The stack
has the same name as the environment, so names and URNs match and the resources can be
compared one by one.
"""

from dataclasses import fields

import pulumi
import pytest
from helpers import evaluate_fixture, fixture

from components.account import Account
from components.boundary import bound_every_role
from components.config import listener_priority, load
from components.contracts import (
    ClusterRefs,
    DatabaseClient,
    DatabaseRefs,
    DeliveryTarget,
    NetworkRefs,
    ServiceRefs,
)
from components.naming import Naming
from components.pipeline import Pipeline, PipelineArgs
from components.service import Service, ServiceArgs
from offline.harness import mock_aws

ENVIRONMENT = "organization/ecs-platform/small"


@pytest.fixture(scope="module")
def environment():
    return fixture("small")


@pytest.fixture
def referenced(environment, monkeypatch):
    monkeypatch.setitem(mock_aws.STACK_OUTPUTS, ENVIRONMENT, environment.outputs)
    return environment


def stack_of_its_own(build):
    """Runs `build(cfg, naming, account, in_env, env)` as a program of the small stack; env is the StackReference."""

    def program():
        cfg = load()
        naming = Naming.current()
        provider = naming.provider(cfg.region)
        account = Account.lookup(cfg.region, provider)
        # As the environment's program does: a stack of its own bounds its roles the same way.
        bound_every_role(cfg.iam, naming.project, account)
        build(cfg, naming, account, pulumi.ResourceOptions(provider=provider), pulumi.StackReference(ENVIRONMENT))

    graph = evaluate_fixture("small", program=program)
    assert graph.error is None, graph.error
    return graph


def descendants(graph, root_urn: str) -> dict[tuple[str, str], object]:
    """Every resource below `root_urn`, by (type, name)."""
    below, found = {root_urn}, {}
    for resource in graph.resources:  # registration order: a parent comes before its children
        if resource.parent in below:
            below.add(resource.urn)
            found[(resource.type, resource.name)] = resource
    return found


def test_a_service_built_on_another_stacks_outputs_is_the_one_the_environment_builds(referenced):
    def build(cfg, naming, account, in_env, env):
        web = next(s for s in cfg.services if s.name == "web")
        args = ServiceArgs(
            web,
            naming,
            account,
            NetworkRefs.from_stack_reference(env),
            ClusterRefs.from_stack_reference(env),
            cfg.monitoring,
            env.get_output("alarmTopicArn"),
            listener_priority=listener_priority(web, cfg.services),
            database=DatabaseClient.from_stack_reference(env, account, web.database, web.database_user),
        )
        Service("web", args, opts=in_env)

    own = stack_of_its_own(build)
    root = referenced.one("ecs-platform:service:Service", "web").urn
    expected = descendants(referenced, root)
    # Rules the cluster and the database own in the environment, for this service.
    del expected[("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "web-alb-to-web")]
    built = descendants(own, root)
    assert sorted(built) == sorted(expected)
    for key, resource in built.items():
        assert (resource.parent, resource.inputs) == (expected[key].parent, expected[key].inputs), key
    assert len(built) > 15  # the whole service: roles, task definition, routing, ECS service, alarms


def test_a_pipeline_built_on_another_stacks_outputs_is_the_one_the_environment_builds(referenced):
    def build(cfg, naming, account, in_env, env):
        api = next(s for s in cfg.services if s.name == "api")
        target = DeliveryTarget.from_stack_reference(env, "api", architecture=api.architecture)
        args = PipelineArgs(api.pipeline, naming, account, target, connection_arn=env.get_output("githubConnectionArn"))
        Pipeline("api-pipeline", args, opts=in_env)

    own = stack_of_its_own(build)
    root = referenced.one("ecs-platform:pipeline:Pipeline", "api-pipeline").urn
    expected, built = descendants(referenced, root), descendants(own, root)
    assert sorted(built) == sorted(expected)
    for key, resource in built.items():
        assert (resource.parent, resource.inputs) == (expected[key].parent, expected[key].inputs), key


@pytest.mark.parametrize("stack", ["small", "prodlike"])
def test_the_environment_exports_every_field_of_its_contracts(stack):
    outputs = fixture(stack).outputs
    optional = {"endpointSecurityGroupId"}  # only a network with interface endpoints has their group
    for contract in (NetworkRefs, ClusterRefs, DatabaseRefs):
        keys = {contract.key(f.name) for f in fields(contract)}
        assert keys - optional <= set(outputs), (contract.__name__, sorted(keys - set(outputs)))
    for name, entry in outputs["services"].items():
        assert {ServiceRefs.key(f.name) for f in fields(ServiceRefs)} - {"targetGroupArnSuffix"} <= set(entry), name
        if "imageParameterName" in entry:
            assert {DeliveryTarget.key(f.name) for f in fields(DeliveryTarget)} <= set(entry), name


def test_service_refs_read_back_from_the_services_output(referenced):
    captured = {}

    def build(cfg, naming, account, in_env, env):
        captured["web"] = ServiceRefs.from_stack_reference(env, "web", public=True)
        captured["api"] = ServiceRefs.from_stack_reference(env, "api", public=False)
        for name, refs in captured.items():
            pulumi.export(name, refs.outputs())

    own = stack_of_its_own(build)
    assert captured["api"].target_group_arn_suffix is None
    for name in ("web", "api"):
        exported = referenced.outputs["services"][name]
        assert own.outputs[name] == {key: exported[key] for key in own.outputs[name]}
    assert own.outputs["web"]["targetGroupArnSuffix"].startswith("targetgroup/")

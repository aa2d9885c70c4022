"""URNs as the Pulumi engine builds them, in the harness and in the offline preview.

`pkg/resource/deploy/deployment.go` `generateURN` and `sdk/go/common/resource/urn.go` `NewURN`:
the child's type is its parent's whole qualified type, `$`, its own type; the root
`pulumi:pulumi:Stack` is never part of a child's type. Default providers are
`pulumi:providers:<package>::default_<version parts>` (`ProviderRequest.DefaultName`).
"""

import pulumi
import pulumi_aws as aws
import pytest

from offline.harness import evaluate
from offline.harness.urns import default_provider_name, default_provider_urn, qualified_type, type_of, urn

P = "urn:pulumi:urns::ecs-platform::"


class Outer(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("test:index:Outer", name, None, opts)
        self.regional = aws.Provider("regional", region="eu-central-1", opts=pulumi.ResourceOptions(parent=self))
        self.inner = Inner("inner", pulumi.ResourceOptions(parent=self, provider=self.regional))


class Inner(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("test:index:Inner", name, None, opts)
        topic = aws.sns.Topic("leaf", opts=pulumi.ResourceOptions(parent=self))
        aws.sns.TopicPolicy("leaf-policy", arn=topic.arn, policy="{}", opts=pulumi.ResourceOptions(parent=topic))


def program() -> None:
    Outer("outer")
    aws.sns.Topic("top")


@pytest.fixture(scope="module")
def graph():
    captured = evaluate("urns", {"aws:region": "eu-west-1"}, preview=True, program=program)
    assert captured.error is None, captured.error
    return captured


def test_a_childs_type_is_its_parents_whole_qualified_type_and_never_the_root_stack(graph):
    assert sorted(r.urn for r in graph.resources) == sorted(
        [
            P + "pulumi:pulumi:Stack::ecs-platform-urns",
            P + "test:index:Outer::outer",
            P + "test:index:Outer$pulumi:providers:aws::regional",
            P + "aws:sns/topic:Topic::top",
            P + "test:index:Outer$test:index:Inner::inner",
            P + "test:index:Outer$test:index:Inner$aws:sns/topic:Topic::leaf",
            P + "test:index:Outer$test:index:Inner$aws:sns/topic:Topic$aws:sns/topicPolicy:TopicPolicy::leaf-policy",
        ]
    )


def test_parents_and_provider_references_name_those_urns(graph):
    leaf = graph.one("aws:sns/topic:Topic", "leaf")
    assert leaf.parent == P + "test:index:Outer$test:index:Inner::inner"
    # the provider the component was given, as `<urn>::<id>` (unknown during a preview)
    assert leaf.provider == P + "test:index:Outer$pulumi:providers:aws::regional::" + pulumi.runtime.rpc.UNKNOWN
    policy = graph.one("aws:sns/topicPolicy:TopicPolicy")
    assert policy.parent == leaf.urn and policy.property_dependencies["arn"] == [leaf.urn]


def test_every_captured_urn_is_rebuilt_from_its_parent_chain(graph):
    by_urn = {r.urn: r for r in graph.resources}
    for resource in graph.resources:
        assert urn("urns", "ecs-platform", resource.parent, resource.type, resource.name) == resource.urn
        assert type_of(resource.urn) == resource.type
        if resource.parent:
            assert qualified_type(resource.urn).startswith(
                "" if by_urn[resource.parent].type == "pulumi:pulumi:Stack" else qualified_type(resource.parent) + "$"
            )


@pytest.mark.parametrize(
    ("version", "url", "name"),
    [
        ("4.21.4", "", "default_4_21_4"),
        ("3.11.0", "", "default_3_11_0"),
        ("1.2.3-alpha.1+build.5", "", "default_1_2_3_alpha_1_build_5"),
        ("", "", "default"),
        ("1.0.0", "https://example.com/plugins", "default_1_0_0_https_/example.com/plugins"),
    ],
)
def test_default_provider_names_follow_the_engines_default_name(version, url, name):
    assert default_provider_name(version, url) == name


def test_a_default_provider_has_no_parent():
    assert default_provider_urn("dev", "ecs-platform", "random", "4.21.4") == (
        "urn:pulumi:dev::ecs-platform::pulumi:providers:random::default_4_21_4"
    )


def test_another_project_of_the_repository_gets_its_own_project_in_every_urn(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: other-project\nruntime: python\n")
    graph = evaluate("s", {"aws:region": "eu-west-1"}, program=lambda: aws.sns.Topic("t"), root=tmp_path)
    assert [r.urn for r in graph.resources] == [
        "urn:pulumi:s::other-project::pulumi:pulumi:Stack::other-project-s",
        "urn:pulumi:s::other-project::aws:sns/topic:Topic::t",
    ]

"""The shared load balancer's routing: rules that all get traffic, and plain HTTP only as a redirect to HTTPS."""

import pulumi
import pulumi_aws as aws
import pytest
from helpers import check, config_error, fixture, with_config
from policy_helpers import passes, violates

from policies.guardrails.types import LISTENER_RULE as RULE

NGINX = "public.ecr.aws/nginx/nginx:1.27-alpine"
HTTPS_POLICY = "alb-http-redirects-to-https"


def public(name, routing=None):
    entry = {"name": name, "public": True, "image": NGINX, "port": 80}
    return {**entry, "routing": routing} if routing else entry


def services(*entries):
    def change(c):
        c["ecs-platform:services"] = list(entries)

    return change


def priorities(*entries):
    graph = with_config("small", services(*entries))
    assert graph.error is None, graph.error
    return {r.name.removesuffix("-rule"): r.inputs["priority"] for r in graph.of_type(RULE)}


# --- 5. rule priorities by specificity --------------------------------------------------------


def test_a_catch_all_listed_first_still_comes_after_a_narrower_path():
    assert priorities(public("web"), public("api", {"paths": ["/api/*"]})) == {"web": 20, "api": 10}


def test_narrower_paths_first_exact_paths_before_patterns_and_the_catch_all_last():
    assert priorities(
        public("web", {"paths": ["/*"]}),
        public("api", {"paths": ["/api/*"]}),
        public("v1", {"paths": ["/api/v1/*"]}),
        public("health", {"paths": ["/healthz"]}),
    ) == {"health": 10, "v1": 20, "api": 30, "web": 40}


def test_a_rule_is_as_broad_as_its_broadest_path():
    assert priorities(
        public("both", {"paths": ["/admin/reports/*", "/*"]}),
        public("admin", {"paths": ["/admin/*"]}),
    ) == {"admin": 10, "both": 20}


def test_host_rules_come_before_any_host_and_exact_hosts_before_wildcards():
    assert priorities(
        public("web"),
        public("tenants", {"hosts": ["*.example.com"]}),
        public("shop", {"hosts": ["shop.example.com"]}),
        public("api", {"paths": ["/api/*"]}),
    ) == {"shop": 10, "tenants": 20, "api": 30, "web": 40}


def test_equally_specific_rules_keep_the_order_they_are_listed_in():
    assert priorities(
        public("bb", {"paths": ["/b/*"]}),
        public("aa", {"paths": ["/a/*"]}),
        public("cc", {"paths": ["/c/*"]}),
    ) == {"bb": 10, "aa": 20, "cc": 30}


def test_explicit_priorities_are_kept_and_automatic_ones_are_numbered_around_them():
    assert priorities(
        public("web"),
        public("api", {"paths": ["/api/*"]}),
        public("admin", {"paths": ["/admin/*"], "priority": 5}),
    ) == {"admin": 5, "api": 10, "web": 20}


def test_an_explicit_priority_that_lets_a_broader_rule_shadow_a_narrower_one_is_refused():
    error = config_error(
        "small", services(public("web", {"priority": 1}), public("api", {"paths": ["/api/*"], "priority": 2}))
    )
    assert error == (
        "ecs-platform:services[1].routing.priority: the rule of api (services[1].routing, priority 2) never matches: "
        "the broader rule of web (services[0].routing, priority 1) comes first and takes all its requests; give api "
        "a lower priority than web, or leave both priorities out to order the rules by specificity (got 2)"
    )


def test_a_broad_rule_pinned_before_automatic_narrow_ones_is_refused_at_its_own_key():
    error = config_error("small", services(public("api", {"paths": ["/api/*"]}), public("web", {"priority": 1})))
    assert error.startswith(
        "ecs-platform:services[1].routing.priority: the rule of api (services[0].routing, priority 10) never matches: "
        "the broader rule of web (services[1].routing, priority 1) comes first"
    )
    assert "\n" not in error


@pytest.mark.parametrize(
    "broad, narrow",
    [
        ({"hosts": ["*.example.com"]}, {"hosts": ["shop.example.com"], "paths": ["/cart/*"]}),
        ({"paths": ["/api*"]}, {"paths": ["/api/v?/*"]}),
        ({"hosts": ["shop.example.com", "www.example.com"]}, {"hosts": ["shop.example.com"], "paths": ["/x"]}),
    ],
)
def test_shadowing_follows_host_and_path_wildcards(broad, narrow):
    error = config_error(
        "small", services(public("broad", {**broad, "priority": 1}), public("narrow", {**narrow, "priority": 2}))
    )
    assert "the rule of narrow (services[1].routing, priority 2) never matches" in error


def test_rules_on_other_hosts_or_disjoint_paths_may_take_any_priority():
    assert priorities(
        public("shop", {"hosts": ["shop.example.com"], "priority": 1}),
        public("api", {"hosts": ["api.example.com"], "paths": ["/v1/*"], "priority": 2}),
        public("bb", {"paths": ["/b/*"], "priority": 3}),
        public("aa", {"paths": ["/a/*"], "priority": 4}),
        public("web", {"paths": ["/*"], "priority": 5}),
    ) == {"shop": 1, "api": 2, "bb": 3, "aa": 4, "web": 5}


def test_the_same_route_twice_is_reported_once():
    error = config_error("small", services(public("web", {"priority": 1}), public("web2", {"priority": 2})))
    assert error == (
        'ecs-platform:services[1].routing: path /* on any host is already routed to web (got {"paths": [], '
        '"hosts": [], "priority": 2})'
    )


# --- 4. HTTP next to HTTPS only redirects --------------------------------------------------------

REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
FORWARD = {"type": "forward", "target_group_arn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/y"}
NOT_FOUND = {"type": "fixed-response", "fixed_response": {"content_type": "text/plain", "status_code": "404"}}
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a"


def alb(http_actions, *, rule_actions=None, https_protocol="HTTPS", load_balancer=None):
    """An ALB (of the stack, or another by ARN) with an HTTPS and an HTTP listener, all through `aws.alb`."""

    def program():
        lb_arn = load_balancer or aws.alb.LoadBalancer("alb", subnets=["subnet-a"], drop_invalid_header_fields=True).arn
        https = {"protocol": https_protocol} if https_protocol else {}
        aws.alb.Listener(
            "https", load_balancer_arn=lb_arn, port=443, certificate_arn=CERT, default_actions=[NOT_FOUND], **https
        )
        http = aws.alb.Listener(
            "http", load_balancer_arn=lb_arn, port=80, protocol="HTTP", default_actions=http_actions
        )
        if rule_actions is not None:
            aws.alb.ListenerRule(
                "rule",
                listener_arn=http.arn,
                actions=rule_actions,
                conditions=[{"path_pattern": {"values": ["/api/*"]}}],
            )

    return program


def test_alb_tokens_an_http_listener_that_serves_is_refused():
    (finding,) = violates(alb([FORWARD]), HTTPS_POLICY)
    assert finding.urn.endswith("aws:alb/listener:Listener::http")


def test_alb_tokens_a_listener_rule_on_the_redirecting_http_listener_is_refused():
    (finding,) = violates(alb([REDIRECT], rule_actions=[FORWARD]), HTTPS_POLICY)
    assert finding.urn.endswith("aws:alb/listenerRule:ListenerRule::rule")
    passes(alb([REDIRECT], rule_actions=[REDIRECT]), HTTPS_POLICY)


def test_alb_tokens_a_redirect_that_keeps_the_protocol_is_not_a_redirect_to_https():
    keep = {"type": "redirect", "redirect": {"port": "443", "status_code": "HTTP_301"}}
    violates(alb([keep]), HTTPS_POLICY)


def test_alb_tokens_http_redirecting_to_https_passes():
    passes(alb([REDIRECT]), HTTPS_POLICY)


def test_a_listener_without_protocol_is_http_even_with_a_certificate():
    # The provider creates it as HTTP: it is not the HTTPS listener, so the ALB below serves HTTP only.
    passes(alb([FORWARD], https_protocol=None), HTTPS_POLICY)
    program = alb([FORWARD], https_protocol=None)

    def with_https():
        program()
        lb = aws.alb.LoadBalancer("other", subnets=["subnet-a"], drop_invalid_header_fields=True)
        aws.alb.Listener(
            "tls", load_balancer_arn=lb.arn, protocol="HTTPS", certificate_arn=CERT, default_actions=[NOT_FOUND]
        )
        aws.alb.Listener("plain", load_balancer_arn=lb.arn, certificate_arn=CERT, default_actions=[FORWARD])

    (finding,) = violates(with_https, HTTPS_POLICY)
    assert finding.urn.endswith("::plain")


def test_listeners_of_a_load_balancer_outside_the_stack_are_judged_together():
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/0123456789abcdef"
    (finding,) = violates(alb([FORWARD], load_balancer=arn), HTTPS_POLICY)
    assert arn in finding.message
    passes(alb([REDIRECT], load_balancer=arn), HTTPS_POLICY)


@pytest.mark.parametrize(
    "token",
    ["elasticloadbalancingv2", "applicationloadbalancing"],
)
def test_legacy_tokens_are_judged_like_the_current_ones(token):
    def program(http_action):
        def build():
            lb = pulumi.CustomResource(
                f"aws:{token}/loadBalancer:LoadBalancer", "alb", {"subnets": ["subnet-a"], "arn": None}
            )
            for name, port, protocol, action in (("https", 443, "HTTPS", NOT_FOUND), ("http", 80, "HTTP", http_action)):
                pulumi.CustomResource(
                    f"aws:{token}/listener:Listener",
                    name,
                    {"loadBalancerArn": lb.id, "port": port, "protocol": protocol, "defaultActions": [action]},
                )

        return build

    (finding,) = violates(program({"type": "forward", "targetGroupArn": "arn:tg"}), HTTPS_POLICY)
    assert finding.urn.endswith(f"aws:{token}/listener:Listener::http")
    passes(program({"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}), HTTPS_POLICY)


def test_actions_not_known_yet_are_not_judged():
    def program(protocol):
        def build():
            marker = aws.ssm.Parameter("marker", type="String", value="x")
            redirect = {"type": "redirect", "redirect": {"protocol": marker.arn.apply(lambda _: protocol)}}
            alb([redirect])()

        return build

    passes(program("HTTP"), HTTPS_POLICY, preview=True)
    violates(program("HTTP"), HTTPS_POLICY)
    passes(program("HTTPS"), HTTPS_POLICY)


def test_prodlike_redirects_http_to_https_and_passes(prodlike):
    assert check(prodlike).of(HTTPS_POLICY) == []
    assert check(fixture("small")).of(HTTPS_POLICY) == []

"""The cluster, its capacity strategy, service discovery and the shared load balancer of each stack."""

import json

import pytest
from compute import several
from helpers import config_error, with_config

from policies.guardrails.types import (
    DNS_RECORD as RECORD,
    EGRESS_RULE as EGRESS,
    INGRESS_RULE as INGRESS,
    LISTENER,
    LOAD_BALANCER as ALB,
    SECURITY_GROUP,
)


def lb(**changes):
    """Edits the load balancer section; a certificate replaces the `small` fixture's plain-HTTP mark."""

    def change(c):
        section = c.setdefault("ecs-platform:cluster", {}).setdefault("loadBalancer", {})
        if "certificate" in changes:
            section.pop("httpOnly", None)
        section.update(changes)

    return change


def test_container_insights_follow_the_config(env):
    cluster = env.one("aws:ecs/cluster:Cluster").inputs
    assert cluster["name"] == f"ecs-platform-{env.stack}-cluster"
    value = {"small": "disabled", "prodlike": "enabled"}[env.stack]
    assert cluster["settings"] == [{"name": "containerInsights", "value": value}]


def test_capacity_strategy_is_spot_in_small_and_on_demand_base_plus_spot_in_prodlike(env):
    providers = env.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert providers["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    expected = {
        "small": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "prodlike": [
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 2, "base": 0},
        ],
    }[env.stack]
    assert providers["defaultCapacityProviderStrategies"] == expected
    # Every x86_64 service runs with the cluster's strategy, written out so no diff appears later
    # (arm64 services: tests/test_compute_aws_rules.py).
    for service in env.of_type("aws:ecs/service:Service"):
        if service.name == "web":
            assert service.inputs["capacityProviderStrategies"] == expected
        assert "launchType" not in service.inputs


def test_a_private_dns_namespace_in_the_vpc(env):
    namespace = env.one("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace").inputs
    assert namespace["name"] == f"{env.stack}.internal"
    assert namespace["vpc"] == env.outputs["vpcId"]


def test_the_alb_is_internet_facing_in_the_public_subnets_and_drops_invalid_headers(env):
    alb = env.one(ALB).inputs
    assert alb["loadBalancerType"] == "application"
    assert alb["internal"] is False
    assert alb["subnets"] == env.outputs["publicSubnetIds"]
    assert alb["dropInvalidHeaderFields"] is True
    assert alb["enableDeletionProtection"] is (env.stack == "prodlike")
    assert alb["securityGroups"] == [env.one(SECURITY_GROUP, "cluster-alb").id]
    assert env.outputs["albDnsName"] == env.one(ALB).outputs["dnsName"]


def test_alb_ingress_is_http_and_https_from_the_configured_sources_only(env):
    sg = env.one(SECURITY_GROUP, "cluster-alb")
    rules = sorted(
        (r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"])
        for r in env.of_type(INGRESS)
        if r.inputs["securityGroupId"] == sg.id
    )
    assert (
        rules
        == {"small": [(80, 80, "0.0.0.0/0")], "prodlike": [(80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0")]}[env.stack]
    )


def test_alb_ingress_from_cidrs_and_prefix_lists():
    graph = with_config("small", lb(ingressCidrs=["203.0.113.0/24"], ingressPrefixLists=["pl-0123456789abcdef0"]))
    sg = graph.one(SECURITY_GROUP, "cluster-alb")
    rules = [r.inputs for r in graph.of_type(INGRESS) if r.inputs["securityGroupId"] == sg.id]
    assert sorted((r.get("cidrIpv4", "-"), r.get("prefixListId", "-"), r["fromPort"]) for r in rules) == [
        ("-", "pl-0123456789abcdef0", 80),
        ("203.0.113.0/24", "-", 80),
    ]


def test_alb_egress_goes_only_to_service_security_groups_on_their_container_ports():
    graph = with_config("small", several)
    sg = graph.one(SECURITY_GROUP, "cluster-alb")
    egress = [r.inputs for r in graph.of_type(EGRESS) if r.inputs["securityGroupId"] == sg.id]
    service_groups = {g.id: g.name for g in graph.of_type(SECURITY_GROUP)}
    assert sorted((service_groups[r["referencedSecurityGroupId"]], r["fromPort"], r["toPort"]) for r in egress) == [
        ("admin-sg", 80, 80),
        ("api-sg", 3000, 3000),
        ("web-sg", 80, 80),
    ]
    assert all(r["ipProtocol"] == "tcp" and "cidrIpv4" not in r for r in egress)


def test_without_a_certificate_there_is_one_http_listener_answering_404(small):
    (listener,) = small.of_type(LISTENER)
    assert listener.inputs["port"] == 80 and listener.inputs["protocol"] == "HTTP"
    assert listener.inputs["defaultActions"] == [
        {
            "type": "fixed-response",
            "fixedResponse": {"contentType": "text/plain", "messageBody": "Not Found", "statusCode": "404"},
        }
    ]
    assert small.of_type("aws:acm/certificate:Certificate") == []
    assert small.outputs["services"]["web"]["url"].startswith("http://ecs-platform-small-alb-")


def test_with_a_certificate_https_serves_and_http_redirects(prodlike):
    listeners = {r.inputs["port"]: r.inputs for r in prodlike.of_type(LISTENER)}
    assert listeners[80]["defaultActions"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}}
    ]
    https = listeners[443]
    assert https["protocol"] == "HTTPS"
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    validation = prodlike.one("aws:acm/certificateValidation:CertificateValidation")
    assert https["certificateArn"] == validation.outputs["certificateArn"]
    rule = prodlike.one("aws:lb/listenerRule:ListenerRule")
    assert rule.inputs["listenerArn"] == prodlike.one(LISTENER, "cluster-https").outputs["arn"]


def test_the_requested_certificate_is_validated_by_dns_in_the_hosted_zone(prodlike):
    cert = prodlike.one("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "example.com"
    assert cert.inputs["subjectAlternativeNames"] == ["*.example.com"]
    assert cert.inputs["validationMethod"] == "DNS"
    # example.com and *.example.com share one validation record.
    (record,) = [r for r in prodlike.of_type(RECORD) if r.name.startswith("cluster-validation-")]
    option = cert.outputs["domainValidationOptions"][0]
    assert record.inputs["zoneId"] == "Z04417763KXQ2B7N6JY5E"
    assert record.inputs["name"] == option["resourceRecordName"]
    assert record.inputs["records"] == [option["resourceRecordValue"]]
    validation = prodlike.one("aws:acm/certificateValidation:CertificateValidation").inputs
    assert validation["validationRecordFqdns"] == [record.outputs["fqdn"]]


def test_an_existing_certificate_is_used_as_is():
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f"
    graph = with_config("small", lb(certificate={"arn": arn}))
    assert graph.of_type("aws:acm/certificate:Certificate") == []
    assert graph.one(LISTENER, "cluster-https").inputs["certificateArn"] == arn
    assert graph.outputs["services"]["web"]["url"].startswith("https://")


def test_public_host_names_get_alias_records_to_the_alb(prodlike):
    alb = prodlike.one(ALB).outputs
    aliases = [r.inputs for r in prodlike.of_type(RECORD) if "aliases" in r.inputs]
    assert sorted((r["name"], r["type"]) for r in aliases) == [("www.example.com", "A"), ("www.example.com", "AAAA")]
    for record in aliases:
        assert record["zoneId"] == "Z04417763KXQ2B7N6JY5E"
        assert record["aliases"] == [{"name": alb["dnsName"], "zoneId": alb["zoneId"], "evaluateTargetHealth": True}]


def test_access_logs_go_to_a_private_sse_s3_bucket_that_expires_them(prodlike):
    bucket = prodlike.one("aws:s3/bucket:Bucket", "cluster-alb-logs")
    assert prodlike.one(ALB).inputs["accessLogs"] == {"bucket": bucket.outputs["bucket"], "enabled": True}
    by_type = {r.type.split(":")[-1]: r.inputs for r in prodlike.children(bucket)}
    assert by_type["BucketServerSideEncryptionConfiguration"]["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]
    assert all(
        by_type["BucketPublicAccessBlock"][k]
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert by_type["BucketLifecycleConfiguration"]["rules"][0]["expiration"] == {"days": 365}
    policy = json.loads(by_type["BucketPolicy"]["policy"])["Statement"]
    arn = bucket.outputs["arn"]
    assert policy[0]["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}  # ELB in eu-west-1
    assert policy[0]["Action"] == "s3:PutObject"
    assert policy[0]["Resource"] == f"{arn}/AWSLogs/123456789012/*"
    assert policy[1]["Effect"] == "Deny" and policy[1]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_newer_regions_let_the_log_delivery_service_write():
    def change(c):
        c["aws:region"] = "ap-southeast-5"
        lb(accessLogs={"enabled": True})(c)

    graph = with_config("small", change)
    policy = json.loads(graph.one("aws:s3/bucketPolicy:BucketPolicy", "cluster-alb-logs").inputs["policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


def test_small_keeps_no_access_logs(small):
    assert [b for b in small.of_type("aws:s3/bucket:Bucket") if b.name == "cluster-alb-logs"] == []
    assert "accessLogs" not in small.one(ALB).inputs


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lb(certificate={"domainName": "example.com"}),
            "ecs-platform:cluster.loadBalancer.certificate: a requested certificate is validated by DNS and needs "
            'hostedZone (got {"domainName": "example.com"})',
        ),
        (
            lb(certificate={}),
            "ecs-platform:cluster.loadBalancer.certificate: set exactly one of arn (an existing certificate) or "
            "domainName (one the stack requests) (got {})",
        ),
        (
            lb(sslPolicy="ELBSecurityPolicy-2016-08"),
            "ecs-platform:cluster.loadBalancer.sslPolicy: string should match pattern "
            "'^ELBSecurityPolicy-TLS13-1-[23]-' (got \"ELBSecurityPolicy-2016-08\")",
        ),
        (
            lambda c: c["ecs-platform:cluster"].update(capacityProviders=[{"provider": "FARGATE_SPOT", "weight": 0}]),
            "ecs-platform:cluster.capacityProviders: at least one capacity provider needs a weight above 0 "
            '(got [{"provider": "FARGATE_SPOT", "weight": 0}])',
        ),
        (
            lambda c: c["ecs-platform:cluster"].update(capacityProviders=[{"provider": "EC2"}]),
            "ecs-platform:cluster.capacityProviders[0].provider: must be 'FARGATE' or 'FARGATE_SPOT' (got \"EC2\")",
        ),
    ],
)
def test_invalid_cluster_config(change, expected):
    assert config_error("small", change) == expected

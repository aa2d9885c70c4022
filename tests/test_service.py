"""Fargate services on the captured graph: the fixture environments and a config with several services."""

import json

import pytest
from compute import KMS_KEY_ARN, as_list, container, one_owned, owned, role_statements, several, statements
from helpers import with_config

from policies.guardrails import iam_actions
from policies.guardrails.types import (
    ECS_SERVICE,
    IAM_ROLE as ROLE,
    INGRESS_RULE as INGRESS,
    LISTENER_RULE as RULE,
    METRIC_ALARM as ALARM,
    SECURITY_GROUP,
    TARGET_GROUP,
)


@pytest.fixture(scope="module")
def many():
    graph = with_config("small", several)
    assert graph.error is None, graph.error
    return graph


def test_public_services_share_one_alb_with_unique_rule_priorities(many):
    assert len(many.of_type("aws:lb/loadBalancer:LoadBalancer")) == 1
    listener = many.one("aws:lb/listener:Listener").outputs["arn"]
    rules = {r.name: r.inputs for r in many.of_type(RULE)}
    assert {name: rule["priority"] for name, rule in rules.items()} == {
        "admin-rule": 10,  # list order...
        "web-rule": 20,
        "api-rule": 5,  # ...unless configured
    }
    assert all(rule["listenerArn"] == listener for rule in rules.values())
    assert rules["admin-rule"]["conditions"] == [{"pathPattern": {"values": ["/admin/*"]}}]
    assert rules["web-rule"]["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    assert rules["api-rule"]["conditions"] == [
        {"hostHeader": {"values": ["api.example.com"]}},
        {"pathPattern": {"values": ["/v1/*"]}},
    ]
    for name in ("admin", "web", "api"):
        target_group = one_owned(many, name, TARGET_GROUP)
        assert rules[f"{name}-rule"]["actions"] == [{"type": "forward", "targetGroupArn": target_group.outputs["arn"]}]


def test_target_groups_take_ip_targets_with_the_configured_health_check(env):
    (target_group,) = env.of_type(TARGET_GROUP)
    inputs = target_group.inputs
    assert inputs["targetType"] == "ip"
    assert inputs["deregistrationDelay"] == 30
    assert "name" not in inputs and "namePrefix" not in inputs  # auto-named, so it can be replaced
    assert inputs["vpcId"] == env.outputs["vpcId"]
    expected = {"small": ("/", "200", 80), "prodlike": ("/healthz", "200-399", 8080)}[env.stack]
    check = inputs["healthCheck"]
    assert (check["path"], check["matcher"], inputs["port"]) == expected
    assert (check["interval"], check["timeout"], check["healthyThreshold"], check["unhealthyThreshold"]) == (
        30,
        5,
        3,
        3,
    )


def test_an_internal_service_has_no_target_group_only_a_cloud_map_name(prodlike, many):
    for graph, name in ((prodlike, "api"), (many, "worker"), (many, "cache")):
        assert owned(graph, name, TARGET_GROUP) == []
        service = one_owned(graph, name, ECS_SERVICE).inputs
        assert service["loadBalancers"] == []
        assert "healthCheckGracePeriodSeconds" not in service
        discovery = one_owned(graph, name, "aws:servicediscovery/service:Service")
        assert discovery.inputs["name"] == name
        assert discovery.inputs["dnsConfig"]["dnsRecords"] == [{"ttl": 10, "type": "A"}]
        assert service["serviceRegistries"] == {"registryArn": discovery.outputs["arn"]}
    assert prodlike.outputs["services"]["api"]["url"] == "http://api.prodlike.internal:8080"


def test_discovery_services_state_their_custom_health_check_so_pulumi_up_does_not_replace_them(env, many):
    """ECS reports task health to Cloud Map through a custom health check. The provider sends
    HealthCheckCustomConfig only when failure_threshold is not 0 (expandHealthCheckCustomConfig in
    terraform-provider-aws internal/service/servicediscovery/service.go), and the block forces a new
    resource: an empty block never reaches AWS nor the state, so every `pulumi up` would replace the
    service, and create-before-delete collides on its name in the namespace (terraform-provider-aws
    issue #44285). AWS keeps the value at 1 (Cloud Map API Reference, HealthCheckCustomConfig)."""
    for graph in (env, many):
        services = graph.of_type("aws:servicediscovery/service:Service")
        assert services
        for discovery in services:
            assert discovery.inputs["healthCheckCustomConfig"] == {"failureThreshold": 1}, discovery.name


def test_public_services_register_with_the_alb_after_their_rule_exists(prodlike):
    service = one_owned(prodlike, "web", ECS_SERVICE)
    target_group = one_owned(prodlike, "web", TARGET_GROUP)
    assert service.inputs["loadBalancers"] == [
        {"targetGroupArn": target_group.outputs["arn"], "containerName": "web", "containerPort": 8080}
    ]
    assert one_owned(prodlike, "web", RULE).urn in service.dependencies
    assert service.inputs["healthCheckGracePeriodSeconds"] == 60


def test_service_security_groups_admit_only_the_alb_or_named_services(env, many):
    for graph in (env, many):
        alb_sg = graph.one(SECURITY_GROUP, "cluster-alb").id
        group_names = {g.id: g.name.removesuffix("-sg") for g in graph.of_type(SECURITY_GROUP)}
        service_groups = {g.id for g in graph.of_type(SECURITY_GROUP) if g.name.endswith("-sg")}
        admitted = {}
        for rule in graph.of_type(INGRESS):
            if rule.inputs["securityGroupId"] in service_groups:
                assert set(rule.inputs) >= {"referencedSecurityGroupId"}
                assert "cidrIpv4" not in rule.inputs and "prefixListId" not in rule.inputs
                source = rule.inputs["referencedSecurityGroupId"]
                target = group_names[rule.inputs["securityGroupId"]]
                admitted.setdefault(target, set()).add("alb" if source == alb_sg else group_names[source])
        expected_from = {
            "small": {"web": {"alb"}},
            "prodlike": {"web": {"alb"}, "api": {"web"}},
        }
        admitted.pop("database", None)  # the database's own rules are tested with the database
        if graph is many:
            assert admitted == {
                "admin": {"alb"},
                "web": {"alb"},
                "api": {"alb"},
                "worker": {"api"},
                "cache": {"api", "worker"},
            }
        else:
            assert admitted == expected_from[env.stack]


def test_ingress_rules_open_only_the_container_port(many):
    sg = {g.name.removesuffix("-sg"): g.id for g in many.of_type(SECURITY_GROUP)}
    cache_rules = [r.inputs for r in many.of_type(INGRESS) if r.inputs["securityGroupId"] == sg["cache"]]
    assert {(r["ipProtocol"], r["fromPort"], r["toPort"]) for r in cache_rules} == {("tcp", 6379, 6379)}


def test_tasks_run_in_private_subnets_without_public_ip_and_roll_back_failed_deployments(env):
    for service in env.of_type(ECS_SERVICE):
        inputs = service.inputs
        assert inputs["networkConfiguration"]["subnets"] == env.outputs["privateSubnetIds"]
        assert inputs["networkConfiguration"]["assignPublicIp"] is False
        assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert inputs["deploymentMaximumPercent"] == 200
        assert inputs["cluster"] == env.one("aws:ecs/cluster:Cluster").outputs["arn"]


def test_healthy_percent_keeps_a_single_task_running_and_replaces_half_of_several(prodlike, small):
    assert one_owned(small, "web", ECS_SERVICE).inputs["deploymentMinimumHealthyPercent"] == 100
    assert one_owned(prodlike, "web", ECS_SERVICE).inputs["deploymentMinimumHealthyPercent"] == 50
    assert one_owned(prodlike, "api", ECS_SERVICE).inputs["deploymentMinimumHealthyPercent"] == 50


def test_autoscaling_tracks_cpu_and_requests_and_up_keeps_the_running_count(prodlike):
    service = one_owned(prodlike, "web", ECS_SERVICE)
    assert service.ignore_changes == ["desiredCount"]
    assert service.inputs["desiredCount"] == 2
    target = one_owned(prodlike, "web", "aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 8)
    assert target["resourceId"] == f"service/ecs-platform-prodlike-cluster/{service.outputs['name']}"
    assert target["scalableDimension"] == "ecs:service:DesiredCount"
    policies = {p.name: p.inputs for p in owned(prodlike, "web", "aws:appautoscaling/policy:Policy")}
    cpu = policies["web-scale-on-cpu"]["targetTrackingScalingPolicyConfiguration"]
    assert cpu["targetValue"] == 60
    assert cpu["predefinedMetricSpecification"] == {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}
    requests = policies["web-scale-on-requests"]["targetTrackingScalingPolicyConfiguration"]
    alb = prodlike.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    tg = one_owned(prodlike, "web", TARGET_GROUP).outputs["arnSuffix"]
    assert requests["predefinedMetricSpecification"] == {
        "predefinedMetricType": "ALBRequestCountPerTarget",
        "resourceLabel": f"{alb}/{tg}",
    }
    assert requests["targetValue"] == 500


def test_without_autoscaling_the_configured_count_is_enforced(prodlike, many):
    api = one_owned(prodlike, "api", ECS_SERVICE)
    assert api.ignore_changes == [] and api.inputs["desiredCount"] == 2
    assert owned(prodlike, "api", "aws:appautoscaling/target:Target") == []
    worker_policies = [p.name for p in owned(many, "worker", "aws:appautoscaling/policy:Policy")]
    assert worker_policies == ["worker-scale-on-cpu"]


def test_execution_and_task_roles_are_separate_and_trusted_as_the_ecs_guide_documents(env, many):
    """The task role trusts ECS tasks of this account and region only: the ECS Developer Guide, "Amazon
    ECS task IAM role", documents aws:SourceAccount and aws:SourceArn for it. For the task execution
    role, "Amazon ECS task execution IAM role" documents a trust policy without them and nowhere says
    ECS sends them when it assumes that role: a condition it does not satisfy would stop every task
    from starting, so the execution role trusts the service as documented."""
    for graph in (env, many):
        definitions = graph.of_type("aws:ecs/taskDefinition:TaskDefinition")
        for definition in definitions:
            assert definition.inputs["executionRoleArn"] != definition.inputs["taskRoleArn"]
        roles = {r.outputs["arn"]: r for r in graph.of_type(ROLE)}
        for definition in definitions:
            (task_trust,) = statements(roles[definition.inputs["taskRoleArn"]].inputs["assumeRolePolicy"])
            assert task_trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
            assert task_trust["Condition"] == {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnLike": {"aws:SourceArn": "arn:aws:ecs:eu-west-1:123456789012:*"},
            }
            execution = roles[definition.inputs["executionRoleArn"]]
            (execution_trust,) = statements(execution.inputs["assumeRolePolicy"])
            assert execution_trust == {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }


def test_no_statement_allows_a_wildcard_action_and_star_resources_only_where_aws_cannot_scope(env, many):
    unscoped = {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        # the flow-log role finds its log group; Step Functions delivers its execution logs
        "logs:DescribeLogGroups",
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
    }
    for graph in (env, many):
        for policy in graph.of_type("aws:iam/rolePolicy:RolePolicy"):
            for statement in statements(policy.inputs["policy"]):
                actions = as_list(statement["Action"])
                assert not any("*" in a for a in actions), (policy.name, actions)
                if "*" in as_list(statement["Resource"]):
                    unscopable = {a for a in actions if iam_actions.resource_scopable(a) is False}
                    assert set(actions) <= unscoped | unscopable, (policy.name, actions)


def test_the_execution_role_pulls_its_own_image_writes_its_own_logs_and_reads_declared_secrets(many):
    role = many.one(ROLE, "worker-execution")
    repo = one_owned(many, "worker", "aws:ecr/repository:Repository").outputs["arn"]
    log_group = one_owned(many, "worker", "aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
    assert role_statements(many, role) == [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "PullOwnImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": repo,
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group}:log-stream:*",
        },
        {
            "Sid": "ReadDeclaredSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"],
        },
        {
            "Sid": "ReadDeclaredParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": ["arn:aws:ssm:eu-west-1:123456789012:parameter/shared/queue-token"],
        },
        {
            "Sid": "DecryptDeclaredSecrets",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": [KMS_KEY_ARN],
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"]
                }
            },
        },
    ]


def test_an_external_image_gets_no_ecr_permissions(small):
    statements_ = role_statements(small, small.one(ROLE, "web-execution"))
    assert "WriteOwnLogs" in [s["Sid"] for s in statements_]
    assert not [s for s in statements_ if "ecr:" in json.dumps(s["Action"])]
    assert [r for r in small.of_type("aws:ecr/repository:Repository") if r.name.startswith("web-")] == []
    assert container(small, "web")["image"] == "public.ecr.aws/nginx/nginx:1.27-alpine"
    assert small.outputs["services"]["web"]["repositoryUrl"] is None


def test_the_task_role_has_nothing_by_default(small, prodlike):
    assert role_statements(small, small.one(ROLE, "web-task")) == []
    assert role_statements(prodlike, prodlike.one(ROLE, "web-task")) == []


def test_the_task_role_gets_configured_grants_and_ecs_exec_channels(many, prodlike):
    api = role_statements(prodlike, prodlike.one(ROLE, "api-task"))
    assert api[0] == {
        "Sid": "Grant0",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": ["arn:aws:s3:::example-prodlike-uploads/*"],
    }
    # and the database login of `database: {iamAuth: true}` (tests/test_database_iam_auth.py)
    assert [s["Sid"] for s in api] == ["Grant0", "ConnectToDatabase"]
    worker = role_statements(many, many.one(ROLE, "worker-task"))
    assert [s["Action"] for s in worker] == [
        ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
        ["cloudwatch:PutMetricData"],
        [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ],
    ]
    assert one_owned(many, "worker", ECS_SERVICE).inputs["enableExecuteCommand"] is True
    assert container(many, "worker")["linuxParameters"] == {"initProcessEnabled": True}


def test_secrets_are_references_and_never_plain_environment(env, many):
    for graph in (env, many):
        for definition in graph.of_type("aws:ecs/taskDefinition:TaskDefinition"):
            (spec,) = json.loads(definition.inputs["containerDefinitions"])
            for variable in spec["environment"]:
                assert not any(word in variable["name"] for word in ("PASSWORD", "SECRET", "TOKEN", "KEY"))
            for secret in spec.get("secrets", []):
                assert set(secret) == {"name", "valueFrom"}
                assert secret["valueFrom"].startswith(("arn:aws:secretsmanager:", "arn:aws:ssm:"))
    assert container(many, "worker")["secrets"] == [
        {
            "name": "DB_PASSWORD",
            "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::",
        },
        {"name": "QUEUE_TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shared/queue-token"},
    ]


def test_an_ssm_parameter_name_becomes_an_arn_in_the_region_and_account(prodlike):
    secrets = {s["name"]: s["valueFrom"] for s in container(prodlike, "api")["secrets"]}
    assert (
        secrets["FEATURE_FLAGS"]
        == "arn:aws:ssm:eu-west-1:123456789012:parameter/ecs-platform/prodlike/api/feature-flags"
    )


def test_container_definitions_spell_out_what_ecs_fills_in(env):
    for definition in env.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        (spec,) = json.loads(definition.inputs["containerDefinitions"])
        assert list(spec)[:11] == [
            "name", "image", "cpu", "essential", "portMappings", "environment", "mountPoints", "volumesFrom",
            "systemControls", "readonlyRootFilesystem", "logConfiguration",
        ]  # fmt: skip
        assert spec["cpu"] == 0 and spec["essential"] is True
        port = spec["portMappings"][0]["containerPort"]
        assert spec["portMappings"] == [{"containerPort": port, "hostPort": port, "protocol": "tcp"}]
        assert spec["environment"] == sorted(spec["environment"], key=lambda e: e["name"])
        assert spec["volumesFrom"] == spec["systemControls"] == []
        assert all(m["readOnly"] is False for m in spec["mountPoints"])


def test_task_definitions_are_fargate_sized_as_configured(prodlike, many):
    web = one_owned(prodlike, "web", "aws:ecs/taskDefinition:TaskDefinition").inputs
    assert (web["cpu"], web["memory"], web["networkMode"]) == ("512", "1024", "awsvpc")
    assert web["requiresCompatibilities"] == ["FARGATE"]
    assert web["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}
    api = one_owned(many, "api", "aws:ecs/taskDefinition:TaskDefinition").inputs
    assert (api["cpu"], api["memory"], api["runtimePlatform"]["cpuArchitecture"]) == ("1024", "2048", "ARM64")


def test_logs_go_to_a_per_service_log_group_with_retention(env):
    for service in env.of_type("ecs-platform:service:Service"):
        log_group = one_owned(env, service.name, "aws:cloudwatch/logGroup:LogGroup")
        assert log_group.inputs["name"] == f"/ecs-platform/{env.stack}/services/{service.name}"
        assert log_group.inputs["retentionInDays"] == {"small": 30, "prodlike": 365}[env.stack]
        logging = container(env, service.name)["logConfiguration"]
        assert logging == {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group.inputs["name"],
                "awslogs-region": "eu-west-1",
                "awslogs-stream-prefix": service.name,
            },
        }
        assert env.outputs["services"][service.name]["logGroup"] == log_group.inputs["name"]


def test_an_ecr_repository_scans_keeps_the_last_images_and_is_encrypted(prodlike, many):
    repo = one_owned(prodlike, "api", "aws:ecr/repository:Repository")
    assert repo.inputs["name"] == "ecs-platform-prodlike-api"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
    rule = json.loads(one_owned(prodlike, "api", "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"][
        0
    ]
    assert rule["selection"]["countNumber"] == 30 and rule["action"] == {"type": "expire"}
    assert container(prodlike, "api")["image"] == f"{repo.outputs['repositoryUrl']}:1.0.0"
    assert prodlike.outputs["services"]["api"]["repositoryUrl"] == repo.outputs["repositoryUrl"]
    mutable = one_owned(many, "api", "aws:ecr/repository:Repository").inputs
    assert mutable["imageTagMutability"] == "MUTABLE"


def lifecycle_rules(graph, service: str) -> list[dict]:
    policy = one_owned(graph, service, "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"]
    return json.loads(policy)["rules"]


def test_a_pipeline_repository_never_expires_the_images_its_pipeline_deployed_beyond_the_last_ones(prodlike):
    """The pipeline pushes an image per commit, before any approval: with one count rule over every
    image, 30 unapproved builds expire the running image and its rollback target, and the next task
    start fails to pull. ECR lifecycle evaluation (ECR User Guide, "Lifecycle policies"): "An image
    that matches the tagging requirements of a rule cannot be expired by a rule with a lower
    priority", and a `tagStatus: any` rule must have the highest rulePriority. So the images the
    Release step tagged `deployed-...` are held by their own rule, which keeps the last ones."""
    deployed, rest = lifecycle_rules(prodlike, "api")
    assert deployed == {
        "rulePriority": 1,
        "description": "Keep the last 30 deployed images",
        "selection": {
            "tagStatus": "tagged",
            "tagPrefixList": ["deployed-"],
            "countType": "imageCountMoreThan",
            "countNumber": 30,
        },
        "action": {"type": "expire"},
    }
    assert rest["rulePriority"] == 2 and rest["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 30,
    }
    assert rest["action"] == {"type": "expire"}


def test_a_repository_without_pipeline_keeps_its_single_count_rule(many):
    for service, keep in (("api", 5), ("worker", 30)):
        assert lifecycle_rules(many, service) == [
            {
                "rulePriority": 1,
                "description": f"Keep the last {keep} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
                "action": {"type": "expire"},
            }
        ]


def test_every_service_alarms_on_cpu_and_memory_and_public_ones_on_5xx_and_unhealthy_tasks(env, many):
    for graph in (env, many):
        topic = graph.one("aws:sns/topic:Topic").outputs["arn"]
        for service in graph.of_type("ecs-platform:service:Service"):
            alarms = {a.name.removeprefix(f"{service.name}-"): a.inputs for a in owned(graph, service.name, ALARM)}
            public = owned(graph, service.name, TARGET_GROUP) != []
            expected = {"cpu-high", "memory-high"} | ({"target-5xx", "unhealthy-tasks"} if public else set())
            assert set(alarms) == expected
            for alarm in alarms.values():
                assert alarm["alarmActions"] == [topic] and alarm["okActions"] == [topic]
    web = {a.name: a.inputs for a in owned(many, "web", ALARM)}
    assert web["web-cpu-high"]["metricName"] == "CPUUtilization" and web["web-cpu-high"]["threshold"] == 80
    assert web["web-target-5xx"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert set(web["web-unhealthy-tasks"]["dimensions"]) == {"LoadBalancer", "TargetGroup"}


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(env):
    key = env.one("aws:kms/key:Key", "alarms-key")
    assert key.inputs["enableKeyRotation"] is True
    topic = env.one("aws:sns/topic:Topic").inputs
    assert topic["kmsMasterKeyId"] == key.outputs["arn"]
    key_policy = statements(key.inputs["policy"])
    cloudwatch = next(s for s in key_policy if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    topic_policy = statements(env.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    assert topic_policy[0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert topic_policy[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_alarm_emails_subscribe_to_the_topic(small, prodlike):
    assert small.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    (subscription,) = prodlike.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["protocol"] == "email" and subscription.inputs["endpoint"] == "ops@example.com"
    assert subscription.inputs["topic"] == prodlike.one("aws:sns/topic:Topic").outputs["arn"]


def test_one_dashboard_shows_every_service(many):
    dashboard = many.one("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    for name in ("admin", "web", "api", "worker", "cache"):
        assert f"{name}: CPU and memory (%)" in titles
    assert "api: requests and errors" in titles and "worker: requests and errors" not in titles
    service_names = {s.outputs["name"] for s in many.of_type(ECS_SERVICE)}
    shown = {m[5] for w in body["widgets"] for m in w["properties"]["metrics"] if m[1] == "CPUUtilization"}
    assert shown == service_names


def test_exports_name_each_service_url_repository_and_log_group(prodlike, many):
    assert prodlike.outputs["services"]["web"]["url"] == "https://www.example.com/"
    urls = {name: s["url"] for name, s in many.outputs["services"].items()}
    alb = many.outputs["albDnsName"]
    assert urls == {
        "admin": f"http://{alb}/admin/",
        "web": f"http://{alb}/",
        "api": "http://api.example.com/v1/",
        "worker": "http://worker.small.internal:9000",
        "cache": "http://cache.small.internal:6379",
    }

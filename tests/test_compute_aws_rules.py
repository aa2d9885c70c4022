"""AWS rules the compute layer must follow: capacity providers per architecture, ordering against the
cluster's providers, ECR images kept in production, Fargate sizes, secret references, a usable
read-only root filesystem, interface endpoints for what tasks reach at start, and config text
written as numbers by `pulumi config set --path`."""

import json

import pulumi
import pulumi_aws as aws
import pytest
from compute import container, one_owned, role_statements
from helpers import check, config_error, pack_config, with_config
from policy_helpers import passes, run, violates

from policies.guardrails.types import (
    CLUSTER_CAPACITY_PROVIDERS as ASSOCIATION,
    ECR_REPOSITORY as REPOSITORY,
    ECS_SERVICE,
    TASK_DEFINITION,
)

SPOT_POLICY = "ecs-arm64-not-on-fargate-spot"
NGINX = "public.ecr.aws/nginx/nginx:1.27-alpine"


def service(index=0, **changes):
    return lambda c: c["ecs-platform:services"][index].update(changes)


def strategy(graph, name):
    return one_owned(graph, name, ECS_SERVICE).inputs["capacityProviderStrategies"]


# --- 1. ARM64 tasks never on Fargate Spot ------------------------------------------------------


def test_arm64_services_run_on_fargate_only_and_keep_the_clusters_base(small, prodlike):
    # small's cluster is Spot only; prodlike's is one on-demand task, then two Spot for each on-demand one.
    assert strategy(small, "api") == [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    assert strategy(prodlike, "api") == [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}]
    assert container(small, "api") and one_owned(small, "api", TASK_DEFINITION).inputs["runtimePlatform"] == {
        "operatingSystemFamily": "LINUX",
        "cpuArchitecture": "ARM64",
    }


def test_x86_services_run_with_the_clusters_default_strategy(small, prodlike):
    assert strategy(small, "web") == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    assert strategy(prodlike, "web") == prodlike.one(ASSOCIATION).inputs["defaultCapacityProviderStrategies"]


def test_every_service_may_change_its_strategy_in_place(env):
    # The provider refuses a strategy change on an existing service without forceNewDeployment.
    for ecs_service in env.of_type(ECS_SERVICE):
        assert ecs_service.inputs["forceNewDeployment"] is True


def test_the_fixture_environments_pass_the_arm64_spot_policy(env):
    assert check(env).of(SPOT_POLICY) == []


def arm_service(service_strategy=None, *, cluster_default=("FARGATE_SPOT",), arch="ARM64", by_family=False, **kw):
    """A cluster with a default strategy, and a service running a task definition of `arch`."""

    def program():
        cluster = aws.ecs.Cluster("c")
        aws.ecs.ClusterCapacityProviders(
            "c",
            cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[{"capacity_provider": p, "weight": 1} for p in cluster_default],
        )
        task = aws.ecs.TaskDefinition(
            "app",
            family="app",
            cpu="256",
            memory="512",
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": arch},
            container_definitions=json.dumps([{"name": "app", "image": "nginx"}]),
        )
        aws.ecs.Service(
            "svc",
            cluster=cluster.arn,
            task_definition="app" if by_family else task.arn,
            desired_count=1,
            capacity_provider_strategies=[{"capacity_provider": p, "weight": 1} for p in service_strategy or []],
            network_configuration={"subnets": ["subnet-a"], "assign_public_ip": False},
            **kw,
        )

    return program


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_an_arm64_service_with_spot_in_its_own_strategy_is_refused(preview):
    (finding,) = violates(arm_service(["FARGATE", "FARGATE_SPOT"]), SPOT_POLICY, preview=preview)
    assert finding.urn.endswith("::svc")
    assert "ARM64 task definition app with FARGATE_SPOT in its strategy" in finding.message


def test_an_arm64_service_on_a_spot_cluster_default_is_refused():
    (finding,) = violates(arm_service(), SPOT_POLICY)
    assert "its cluster's default strategy" in finding.message
    violates(arm_service(by_family=True), SPOT_POLICY)  # task definition named by family


def test_arm64_on_fargate_and_x86_on_spot_pass():
    passes(arm_service(["FARGATE"]), SPOT_POLICY)
    passes(arm_service(cluster_default=("FARGATE",)), SPOT_POLICY)
    passes(arm_service(launch_type="FARGATE"), SPOT_POLICY)
    passes(arm_service(["FARGATE_SPOT"], arch="X86_64"), SPOT_POLICY)


def test_an_architecture_not_known_yet_is_not_judged():
    def program():
        marker = aws.ssm.Parameter("arch", type="String", value="x")
        cluster = aws.ecs.Cluster("c")
        task = aws.ecs.TaskDefinition(
            "app",
            family="app",
            container_definitions=json.dumps([{"name": "app", "image": "nginx"}]),
            runtime_platform={"cpu_architecture": marker.arn.apply(lambda _: "ARM64")},
        )
        aws.ecs.Service(
            "svc",
            cluster=cluster.arn,
            task_definition=task.arn,
            capacity_provider_strategies=[{"capacity_provider": "FARGATE_SPOT", "weight": 1}],
        )

    passes(program, SPOT_POLICY, preview=True)
    violates(program, SPOT_POLICY)  # known after deployment: ARM64 on Spot


# --- 2. services wait for the cluster's capacity providers -------------------------------------


def test_every_service_depends_on_the_capacity_provider_association(env):
    association = env.one(ASSOCIATION).urn
    for ecs_service in env.of_type(ECS_SERVICE):
        assert association in ecs_service.property_dependencies["cluster"], ecs_service.name
        assert association in ecs_service.dependencies
        assert ecs_service.inputs["cluster"] == env.one("aws:ecs/cluster:Cluster").outputs["arn"]


def _service_on(cluster_value, depends_on=()):
    def program():
        cluster = aws.ecs.Cluster("cluster")
        association = aws.ecs.ClusterCapacityProviders(
            "providers",
            cluster_name=cluster.name,
            capacity_providers=["FARGATE"],
            default_capacity_provider_strategies=[{"capacity_provider": "FARGATE", "weight": 1}],
        )
        task = aws.ecs.TaskDefinition(
            "task", family="app", container_definitions="[]", requires_compatibilities=["FARGATE"]
        )
        aws.ecs.Service(
            "app",
            cluster=cluster_value(cluster, association),
            task_definition=task.arn,
            capacity_provider_strategies=[{"capacity_provider": "FARGATE", "weight": 1}],
            opts=pulumi.ResourceOptions(depends_on=[association] if depends_on else None),
        )

    return program


def test_a_service_that_can_race_the_capacity_provider_association_is_refused():
    (finding,) = violates(_service_on(lambda cluster, _: cluster.arn), "ecs-service-waits-for-capacity-providers")
    assert finding.urn.endswith("::app") and "providers" in finding.message


def test_a_service_ordered_after_the_association_passes():
    carried = _service_on(
        lambda cluster, association: pulumi.Output.all(cluster.arn, association.id).apply(lambda v: v[0])
    )
    passes(carried, "ecs-service-waits-for-capacity-providers")
    passes(_service_on(lambda cluster, _: cluster.arn, depends_on=True), "ecs-service-waits-for-capacity-providers")


def test_the_fixture_environments_order_services_after_the_association(env):
    assert check(env).of("ecs-service-waits-for-capacity-providers") == []


# --- 3. ECR images: disposable in small, kept in prodlike (production) --------------------------


def test_small_repositories_can_be_deleted_with_their_images(small):
    (repository,) = small.of_type(REPOSITORY)
    assert repository.inputs["forceDelete"] is True


def test_prodlike_keeps_its_images(prodlike):
    assert [r.inputs["forceDelete"] for r in prodlike.of_type(REPOSITORY)] == [False, False]
    assert check(prodlike).of("ecr-retain-images") == []


def test_prodlike_pack_config_refuses_a_repository_that_deletes_its_images():
    graph = with_config("prodlike", service(0, repository={"tag": "1.0.0"}))
    assert graph.error is None, graph.error
    (finding,) = check(graph).of("ecr-retain-images")
    assert finding.level == "mandatory" and finding.urn.endswith("::web-repository")
    assert "forceDelete is true" in finding.message and "Remediation:" in finding.message


def test_ecr_retain_images_only_where_the_pack_config_requires_it():
    def program():
        aws.ecr.Repository("r", force_delete=True)

    passes(program, "ecr-retain-images")  # small: required false
    assert run(program, config=pack_config("prodlike")).of("ecr-retain-images")[0].level == "mandatory"
    violates(program, "ecr-retain-images", level="advisory", config={"ecr-retain-images": {"required": True}})
    passes(lambda: aws.ecr.Repository("r", force_delete=False), "ecr-retain-images", config=pack_config("prodlike"))


# --- 6. secrets are references -----------------------------------------------------------------

REFERENCE_ERROR = (
    "must be a reference, not a value: a Secrets Manager secret ARN "
    "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, optionally followed by "
    ":<jsonKey>:<versionStage>:<versionId>), an SSM parameter ARN, or an SSM parameter name starting with /"
)


@pytest.mark.parametrize(
    "value",
    ["sk_live_51HqLyjWDarjtT1zdp7dc", "api-key", "AKIAIOSFODNN7EXAMPLE", "arn:aws:secretsmanager:eu-west-1:1:x"],
)
def test_a_value_under_secrets_is_refused_without_being_repeated(value):
    error = config_error("small", service(0, secrets={"PAYMENT_KEY": value}))
    assert error == f"ecs-platform:services[0].secrets.PAYMENT_KEY: {REFERENCE_ERROR}"
    assert value not in error


def test_references_of_every_kind_are_accepted():
    secrets = {
        "A": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/a-AbCdEf",
        "B": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/b-AbCdEf:password::",
        "C": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/c-AbCdEf:password:AWSPREVIOUS:",
        "D": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/d-AbCdEf::"
        ":0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "E": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/e",
        "F": "/prod/f",
    }
    graph = with_config("small", service(0, secrets=secrets))
    assert graph.error is None, graph.error
    value_from = {s["name"]: s["valueFrom"] for s in container(graph, "web")["secrets"]}
    assert value_from["C"] == secrets["C"]
    assert value_from["F"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/f"


# --- 7. numbers where text is expected ------------------------------------------------------------


def test_numbers_written_by_config_set_path_are_text_where_text_is_expected(small):
    def change(c):
        c["ecs-platform:services"][1]["repository"]["tag"] = 2
        c["ecs-platform:services"][0]["healthCheck"]["matcher"] = 200
        c["ecs-platform:services"][0]["environment"] = {"WORKERS": 4}

    graph = with_config("small", change)
    assert graph.error is None, graph.error
    repository = one_owned(graph, "api", REPOSITORY).outputs["repositoryUrl"]
    assert one_owned(graph, "api", "aws:ssm/parameter:Parameter").inputs["insecureValue"] == f"{repository}:2"
    assert one_owned(graph, "web", "aws:lb/targetGroup:TargetGroup").inputs["healthCheck"]["matcher"] == "200"
    assert {"name": "WORKERS", "value": "4"} in container(graph, "web")["environment"]


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda c: c["ecs-platform:services"][1]["repository"].update(tag="first build"),
            "ecs-platform:services[1].repository.tag: string should match pattern "
            "'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' (got \"first build\")",
        ),
        (
            service(0, public="perhaps", routing={"paths": ["/*"]}),
            'ecs-platform:services[0].public: must be a valid boolean, unable to interpret input (got "perhaps")',
        ),
        (
            service(0, autoscaling={"maxTasks": 4, "cpuTarget": 5}),
            "ecs-platform:services[0].autoscaling.cpuTarget: must be greater than or equal to 10 (got 5)",
        ),
        (
            service(0, autoscaling={"minTasks": "two", "maxTasks": 4, "cpuTarget": 50}),
            'ecs-platform:services[0].autoscaling.minTasks: must be a valid integer, unable to parse string as an '
            'integer (got "two")',
        ),
        (
            lambda c: c["ecs-platform:cluster"].update(
                loadBalancer={
                    "hostedZone": {"id": "nope", "name": "example.com"},
                    "certificate": {"domainName": "x.example.com"},
                }
            ),
            "ecs-platform:cluster.loadBalancer.hostedZone.id: string should match pattern '^Z[A-Z0-9]{1,31}$' "
            '(got "nope")',
        ),
    ],
    ids=["pipeline-after-bad-tag", "routing-after-bad-public", "policy-after-bad-cpu-target", "max-after-bad-min",
         "certificate-after-bad-zone"],
)  # fmt: skip
def test_a_check_on_a_key_that_already_failed_stays_silent(change, expected):
    assert config_error("small", change) == expected


# --- 8. Fargate sizes ---------------------------------------------------------------------------


@pytest.mark.parametrize("cpu, memory", [(512, "1024"), (1024, "2048"), (8192, "16384"), (16384, "32768")])
def test_memory_left_out_is_the_smallest_fargate_offers_for_the_cpu(cpu, memory):
    graph = with_config("small", service(0, cpu=cpu))
    assert graph.error is None, graph.error
    task = one_owned(graph, "web", TASK_DEFINITION).inputs
    assert (task["cpu"], task["memory"]) == (str(cpu), memory)


def test_an_explicit_pair_fargate_does_not_offer_names_memory_and_the_valid_values():
    assert config_error("small", service(0, cpu=512, memory=512)) == (
        "ecs-platform:services[0].memory: not a valid Fargate memory for cpu 512; valid: 1024, 2048, 3072, 4096 "
        "(got 512)"
    )


# --- 9. KMS keys of secrets -----------------------------------------------------------------------

SINGLE_REGION = "arn:aws:kms:eu-west-1:123456789012:key/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a"
MULTI_REGION = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"


def test_single_and_multi_region_key_arns_may_decrypt_secrets():
    graph = with_config(
        "small",
        service(
            1,
            secrets={"TOKEN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf"},
            secretsKmsKeys=[SINGLE_REGION, MULTI_REGION],
        ),
    )
    assert graph.error is None, graph.error
    statements = role_statements(graph, graph.one("aws:iam/role:Role", "api-execution"))
    decrypt = next(s for s in statements if s["Sid"] == "DecryptDeclaredSecrets")
    assert decrypt["Resource"] == sorted([SINGLE_REGION, MULTI_REGION])


@pytest.mark.parametrize(
    "key", ["mrk-1234abcd12ab34cd56ef1234567890ab", "0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a", MULTI_REGION + "0"]
)
def test_anything_but_a_key_arn_is_refused(key):
    assert config_error("small", service(1, secretsKmsKeys=[key])).startswith(
        f"ecs-platform:services[1].secretsKmsKeys: '{key}' is not a KMS key ARN "
        "(arn:aws:kms:<region>:<account>:key/<key id or mrk-... id>) (got "
    )


# --- 10. a read-only root filesystem that works ---------------------------------------------------


def volumes(graph, name):
    return one_owned(graph, name, TASK_DEFINITION).inputs.get("volumes", [])


def test_roots_are_read_only_with_tmp_and_the_listed_paths_writable_on_task_storage(small, prodlike):
    web = container(small, "web")
    assert web["readonlyRootFilesystem"] is True
    assert web["mountPoints"] == [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False},
        {"sourceVolume": "var-cache-nginx", "containerPath": "/var/cache/nginx", "readOnly": False},
        {"sourceVolume": "var-run", "containerPath": "/var/run", "readOnly": False},
    ]
    # No host and no other configuration: a bind mount on the task's ephemeral storage.
    assert volumes(small, "web") == [{"name": "tmp"}, {"name": "var-cache-nginx"}, {"name": "var-run"}]
    for graph, name in ((small, "api"), (prodlike, "web"), (prodlike, "api")):
        assert container(graph, name)["readonlyRootFilesystem"] is True
        assert container(graph, name)["mountPoints"] == [
            {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}
        ]
        assert volumes(graph, name) == [{"name": "tmp"}]


def test_ecs_exec_keeps_the_root_writable_and_refuses_a_read_only_one():
    graph = with_config("small", service(0, ecsExec=True, writablePaths=[]))
    assert graph.error is None, graph.error
    assert container(graph, "web")["readonlyRootFilesystem"] is False
    assert container(graph, "web")["mountPoints"] == [] and volumes(graph, "web") == []
    assert config_error("small", service(0, ecsExec=True, readonlyRootFilesystem=True)) == (
        "ecs-platform:services[0].readonlyRootFilesystem: with ecsExec the root filesystem must be writable (the ECS "
        "Exec agent writes into the container); set readonlyRootFilesystem: false or turn ecsExec off (got true)"
    )


def test_a_writable_root_can_still_mount_writable_paths():
    graph = with_config("small", service(0, readonlyRootFilesystem=False, writablePaths=["/data"]))
    assert container(graph, "web")["readonlyRootFilesystem"] is False
    assert volumes(graph, "web") == [{"name": "data"}]


@pytest.mark.parametrize(
    "paths, problem",
    [
        (["var/run"], "'var/run' is not an absolute path in the container such as /var/cache/nginx (not /)"),
        (["/"], "'/' is not an absolute path in the container such as /var/cache/nginx (not /)"),
        (["/var/../etc"], "'/var/../etc' is not an absolute path in the container such as /var/cache/nginx (not /)"),
        (["/var/run/"], "'/var/run/' is not an absolute path in the container such as /var/cache/nginx (not /)"),
        (["/var/run", "/data", "/var/run"], "listed more than once: /var/run"),
    ],
)
def test_writable_paths_are_absolute_unique_and_not_the_root(paths, problem):
    assert config_error("small", service(0, writablePaths=paths)) == (
        f"ecs-platform:services[0].writablePaths: {problem} (got {json.dumps(paths)})"
    )


# --- 11. interface endpoints cover what tasks reach at start -----------------------------------


def endpoints(*names):
    return lambda c: c["ecs-platform:network"].update(interfaceEndpoints=list(names))


def test_prodlike_endpoints_cover_ecr_logs_secrets_and_parameters(prodlike):
    services = sorted(
        e.inputs["serviceName"].removeprefix("com.amazonaws.eu-west-1.")
        for e in prodlike.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    )
    assert {"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"} <= set(services)


def test_an_ssm_parameter_secret_needs_the_ssm_endpoint():
    error = config_error("prodlike", endpoints("ecr.api", "ecr.dkr", "logs", "secretsmanager"))
    assert error == (
        "ecs-platform:network.interfaceEndpoints: tasks reach these AWS services when they start and would still "
        'depend on a NAT gateway: add ssm (needed by api) (got ["ecr.api", "ecr.dkr", "logs", "secretsmanager"])'
    )


def test_each_missing_endpoint_names_the_services_that_need_it():
    # small: web has the database (credentials from Secrets Manager); api pulls from its ECR repository.
    error = config_error("small", endpoints("logs"))
    assert error == (
        "ecs-platform:network.interfaceEndpoints: tasks reach these AWS services when they start and would still "
        "depend on a NAT gateway: add ecr.api (needed by api); ecr.dkr (needed by api); secretsmanager (needed by "
        'web) (got ["logs"])'
    )


def test_without_interface_endpoints_nothing_is_required(small):
    assert small.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") == []
    graph = with_config("small", endpoints("ecr.api", "ecr.dkr", "logs", "secretsmanager"))
    assert graph.error is None, graph.error


def test_a_secret_from_ssm_or_secrets_manager_needs_only_its_own_endpoint():
    def change(c):
        c["ecs-platform:network"]["interfaceEndpoints"] = ["logs", "ssm"]
        c["ecs-platform:services"] = [
            {"name": "web", "image": NGINX, "secrets": {"FLAGS": "/dev/web/flags"}, "writablePaths": ["/var/run"]}
        ]

    assert with_config("small", change).error is None

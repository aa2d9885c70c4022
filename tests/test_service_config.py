"""Invalid service config stops the program before any resource exists, with one line naming the key."""

import pytest
from compute import several
from helpers import config_error


def service(**changes):
    return lambda c: c["ecs-platform:services"][0].update(changes)


def add(entry):
    """Adds a service right after the first, so the error names services[1] whatever follows in the stack."""
    return lambda c: c["ecs-platform:services"].insert(1, entry)


EXTERNAL = "public.ecr.aws/nginx/nginx:1.27-alpine"

CASES = {
    "memory that does not fit the cpu": (
        service(cpu=256, memory=300),
        "ecs-platform:services[0].memory: not a valid Fargate memory for cpu 256; valid: 512, 1024, 2048 (got 300)",
    ),
    "memory off the 1 GiB steps": (
        service(cpu=4096, memory=9000),
        "ecs-platform:services[0].memory: not a valid Fargate memory for cpu 4096; valid: 8192 to 30720 in steps of "
        "1024 (got 9000)",
    ),
    "cpu Fargate does not offer": (
        service(cpu=300),
        "ecs-platform:services[0].cpu: must be 256, 512, 1024, 2048, 4096, 8192 or 16384 (got 300)",
    ),
    "both image sources": (
        service(repository={"tag": "v1"}),
        "ecs-platform:services[0]: set exactly one of image (an external image) or repository (an ECR repository for "
        'the service) (got ["image", "repository"])',
    ),
    "no image source": (
        lambda c: c["ecs-platform:services"][0].pop("image"),
        "ecs-platform:services[0]: set exactly one of image (an external image) or repository (an ECR repository for "
        "the service) (got [])",
    ),
    "duplicate service names": (
        add({"name": "web", "image": EXTERNAL}),
        'ecs-platform:services[1].name: web is already the name of services[0] (got "web")',
    ),
    "two services claiming the same path and host": (
        add({"name": "web2", "public": True, "image": EXTERNAL, "routing": {"paths": ["/*"]}}),
        'ecs-platform:services[1].routing: path /* on any host is already routed to web (got {"paths": ["/*"], '
        '"hosts": []})',
    ),
    "two rules with one priority": (
        add({"name": "admin", "public": True, "image": EXTERNAL, "routing": {"paths": ["/api/*"], "priority": 10}}),
        "ecs-platform:services[1].routing.priority: 10 is already the priority of web (got 10)",
    ),
    "port out of range": (
        service(port=70000),
        "ecs-platform:services[0].port: must be less than or equal to 65535 (got 70000)",
    ),
    "port zero": (service(port=0), "ecs-platform:services[0].port: must be greater than or equal to 1 (got 0)"),
    "autoscaling min above max": (
        service(autoscaling={"minTasks": 4, "maxTasks": 2, "cpuTarget": 50}),
        "ecs-platform:services[0].autoscaling.maxTasks: must be at least minTasks (4) (got 2)",
    ),
    "autoscaling without a policy": (
        service(autoscaling={"minTasks": 1, "maxTasks": 2}),
        "ecs-platform:services[0].autoscaling.requestsPerTarget: set cpuTarget and/or requestsPerTarget: autoscaling "
        "needs a policy (got null)",
    ),
    "a secret in plain environment": (
        service(environment={"DB_PASSWORD": "hunter2"}),
        "ecs-platform:services[0].environment: the name DB_PASSWORD looks like a secret; declare it under secrets as a "
        'reference instead (got {"DB_PASSWORD": "hunter2"})',
    ),
    "a secret value instead of a reference": (
        service(secrets={"DB_PASSWORD": "hunter2 is my password"}),
        "ecs-platform:services[0].secrets.DB_PASSWORD: must be a reference, not a value: a Secrets Manager secret ARN "
        "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, optionally followed by "
        ":<jsonKey>:<versionStage>:<versionId>), an SSM parameter ARN, or an SSM parameter name starting with /",
    ),
    "a wildcard action in a grant": (
        service(permissions=[{"actions": ["s3:*"], "resources": ["arn:aws:s3:::bucket/*"]}]),
        "ecs-platform:services[0].permissions[0].actions: s3:*: wildcard actions are not allowed; name each action, "
        'e.g. s3:GetObject (got ["s3:*"])',
    ),
    "a star resource for a scopable action": (
        service(permissions=[{"actions": ["s3:GetObject"], "resources": ["*"]}]),
        'ecs-platform:services[0].permissions[0].resources: "*" is only allowed for actions AWS cannot scope; name '
        'the resources of s3:GetObject (got ["*"])',
    ),
    "routing on an internal service": (
        add({"name": "admin", "image": EXTERNAL, "routing": {"paths": ["/api/*"]}}),
        "ecs-platform:services[1].routing: only a public service is routed by the load balancer; set public: true "
        '(got {"paths": ["/api/*"]})',
    ),
    "allowFrom naming no service": (
        service(allowFrom=["wbe"]),
        'ecs-platform:services[0].allowFrom: wbe is not another service of this stack (got ["wbe"])',
    ),
    "service name that is no DNS label": (
        service(name="Web_1"),
        "ecs-platform:services[0].name: string should match pattern '^[a-z][a-z0-9-]{0,22}[a-z0-9]$' (got \"Web_1\")",
    ),
    "misspelt service key": (
        service(desiredCont=2),
        "ecs-platform:services[0].desiredCont: unknown key; did you mean desiredCount? valid keys: name, public, "
        "image, repository, cpu, memory, architecture, port, adminPort, command, containerHealthCheck, "
        "readonlyRootFilesystem, writableRootReason, writablePaths, environment, secrets, secretsKmsKeys, "
        "environmentFiles, environmentFilesKmsKeys, user, volumes, desiredCount, autoscaling, routing, healthCheck, "
        "healthCheckGracePeriod, allowFrom, database, logRetentionDays, ecsExec, permissions, pipeline",
    ),
    "a writable-root reason on a read-only root": (
        service(writableRootReason="the image writes its cache under /srv"),
        "ecs-platform:services[0].writableRootReason: the root filesystem is read-only, so there is no opt-out to "
        'explain; remove writableRootReason (got "the image writes its cache under /srv")',
    ),
    "a writable-root reason a tag cannot hold": (
        service(readonlyRootFilesystem=False, writableRootReason="writes to /srv; sorry"),
        "ecs-platform:services[0].writableRootReason: string should match pattern '^[\\w .:/=+\\-@]+$' (got "
        '"writes to /srv; sorry")',
    ),
    "a host outside the hosted zone": (
        lambda c: (
            c["ecs-platform:cluster"].update(
                loadBalancer={"hostedZone": {"id": "Z04417763KXQ2B7N6JY5E", "name": "example.com"}, "httpOnly": True}
            )
            or service(routing={"hosts": ["www.example.org"]})(c)
        ),
        "ecs-platform:services[0].routing.hosts: www.example.org is not inside the hosted zone example.com (got "
        '["www.example.org"])',
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_invalid_service_config_gives_one_line_naming_the_key(case):
    change, expected = CASES[case]
    error = config_error("small", change)
    assert error == expected
    assert "\n" not in error and "Traceback" not in error


def test_a_host_the_requested_certificate_does_not_cover():
    def change(c):
        c["ecs-platform:services"][0]["routing"] = {"hosts": ["www.shop.example.com"]}

    error = config_error("prodlike", change)
    assert error == (
        "ecs-platform:services[0].routing.hosts: www.shop.example.com is not covered by the certificate "
        '(got ["www.shop.example.com"])'
    )


def test_several_problems_give_several_lines():
    def change(c):
        several(c)
        c["ecs-platform:services"][1].update(memory=300)
        c["ecs-platform:services"][3].update(port=0)

    assert config_error("small", change).splitlines() == [
        "ecs-platform:services[1].memory: not a valid Fargate memory for cpu 256; valid: 512, 1024, 2048 (got 300)",
        "ecs-platform:services[3].port: must be greater than or equal to 1 (got 0)",
    ]


def test_cross_service_problems_are_reported_together():
    def change(c):
        several(c)
        c["ecs-platform:services"][1]["name"] = "admin"
        c["ecs-platform:services"][4]["allowFrom"] = ["nobody"]

    assert config_error("small", change).splitlines() == [
        'ecs-platform:services[1].name: admin is already the name of services[0] (got "admin")',
        'ecs-platform:services[4].allowFrom: nobody is not another service of this stack (got ["nobody"])',
    ]


def test_the_complete_example_in_the_config_reference_is_valid():
    from pathlib import Path

    import yaml
    from helpers import with_config

    readme = Path(__file__).resolve().parent.parent.joinpath("docs", "config-reference.md").read_text()
    block = readme.split("A complete entry", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    (example,) = yaml.safe_load(block)["ecs-platform:services"]
    graph = with_config("small", lambda c: c["ecs-platform:services"].append(example))
    assert graph.error is None, graph.error
    assert graph.outputs["services"]["orders"]["url"] == "http://shop.example.com/orders/"

"""Compute guardrails: EC2 instances (the bastion), ECS services and task definitions, ECR repositories.

EC2: IMDSv2 required, no public IP (asked for, or given by a public subnet) except on a NAT
instance the pack config names, no key pair, encrypted volumes. ECS: no public IP on tasks, no
privileged containers, logging on, no secret-looking names in plain `environment` (secrets go in
`secrets` from Secrets Manager or SSM), no ARM64 task on Fargate Spot. ECR: images kept on
destroy where the pack's config requires it. Task definitions carry `containerDefinitions` as JSON text.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema

from .common import (
    ADVISORY,
    MANDATORY,
    StackGraph,
    as_list,
    has_unknown,
    is_true,
    is_unknown,
    resource_policy,
    stack_policy,
)

# _routes_to_internet is how the RDS rules tell a public route table; the NAT instance rule
# must call "private" exactly what they do.
from .rds import _routes_to_internet, subnet_tier
from .secret_names import holds_plain_secret
from .types import (
    CLUSTER_CAPACITY_PROVIDERS,
    CODEBUILD_PROJECT,
    EBS_VOLUME,
    EC2_INSTANCES,
    ECR_REPOSITORY,
    ECS_CLUSTER,
    ECS_SERVICE,
    ECS_TASK_SET,
    LAUNCH_TEMPLATE,
    ROUTE,
    ROUTE_TABLES,
    TASK_DEFINITION,
)


def check_imdsv2(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    options = props.get("metadataOptions")
    if is_unknown(options):
        return
    tokens = options.get("httpTokens") if isinstance(options, Mapping) else None
    if is_unknown(tokens):
        return
    if tokens != "required":
        yield f"metadataOptions.httpTokens is {tokens or 'not set (optional)'}: IMDSv1 lets SSRF steal the role."


DEFAULT_ROUTE = "0.0.0.0/0"


def _default_routes_to(graph: StackGraph, instance: Any) -> list[tuple[Any, list[Any]]]:
    """(route, its route tables in the stack) for every default route whose target is `instance`'s interface.

    The target is followed by the engine's property dependency (known in preview too) or by
    the interface id; the tables by reference, which finds none when the id came from a lookup
    or is not known yet.
    """
    eni = graph.get(instance, "primaryNetworkInterfaceId")

    def targets(resource: Any, value: Any) -> bool:
        if isinstance(eni, str) and eni and not is_unknown(eni) and value == eni:
            return True
        return any(t.urn == instance.urn for t in graph.referenced(resource, "networkInterfaceId", EC2_INSTANCES))

    found = []
    for route in graph.of_type(ROUTE):
        if graph.get(route, "destinationCidrBlock") == DEFAULT_ROUTE and targets(
            route, graph.get(route, "networkInterfaceId")
        ):
            found.append((route, graph.referenced(route, "routeTableId", ROUTE_TABLES)))
    for table in graph.of_type(*ROUTE_TABLES):
        for route in as_list(graph.get(table, "routes")):
            if isinstance(route, Mapping) and route.get("cidrBlock") == DEFAULT_ROUTE:
                value = route.get("networkInterfaceId")
                if value == eni or (
                    is_unknown(value) and any(r.urn == instance.urn for r in graph.referenced(table, "routes"))
                ):
                    found.append((table, [table]))
    return found


def undeclared_nat_instance(graph: StackGraph, instance: Any, config: Mapping) -> str | None:
    """None when `instance` is a NAT instance the stack declares; else why not ("" when it is not named).

    Declared means both: named under the policy's `natInstances` pack config, and source/destination
    check off (it forwards other hosts' packets: "Disable source/destination checks", Amazon VPC User
    Guide, NAT instances). ec2-no-public-ip and ec2-default-route-nat-instances-only decide it here alike.
    """
    if instance.name not in as_list(config.get("natInstances")):
        return ""
    check = graph.get(instance, "sourceDestCheck")
    if not is_unknown(check) and check is not False and str(check).lower() != "false":
        return "sourceDestCheck is not false, so it cannot forward the private subnets' traffic"
    return None


def _not_a_nat_instance(graph: StackGraph, instance: Any, config: Mapping) -> str | None:
    """None when `instance` is a NAT instance the pack config allows a public IP; else why not ("" if not named).

    Allowed means a declared NAT instance (undeclared_nat_instance) that is the target of the
    default route of at least one private route table. A table is private when it routes nothing
    to an internet gateway (the test the RDS rules use). A table the graph does not hold (found by
    a lookup, or an id not known in preview) is taken as private: its one default route is the
    instance, so it has none to an internet gateway.
    """
    why = undeclared_nat_instance(graph, instance, config)
    if why is not None:
        return why
    routes = _default_routes_to(graph, instance)
    private = [route for route, tables in routes if not any(_routes_to_internet(graph, t) for t in tables)]
    if not private:
        why = "only route tables that route to an internet gateway" if routes else "no route table"
        return f"{why} send their default route ({DEFAULT_ROUTE}) to it"
    return None


def check_public_ip(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    for instance in graph.of_type(*EC2_INSTANCES):
        asked = graph.get(instance, "associatePublicIpAddress")
        if is_true(asked):
            problem = "associatePublicIpAddress is true."
        elif asked is None and subnet_tier(graph, instance, "subnetId") == "public":
            problem = "it is in a public subnet, which gives it a public IP."
        else:
            continue
        why = _not_a_nat_instance(graph, instance, config)
        if why is None:
            continue
        yield instance, problem + (f" It is listed under natInstances, but {why}." if why else "")
    for template in graph.of_type(LAUNCH_TEMPLATE):
        for i, nic in enumerate(as_list(graph.get(template, "networkInterfaces"))):
            if isinstance(nic, Mapping) and is_true(nic.get("associatePublicIpAddress")):
                yield template, f"networkInterfaces[{i}].associatePublicIpAddress is true."


DEFAULT_DESTINATIONS = {"0.0.0.0/0", "::/0"}


def _instance_behind(graph: StackGraph, holder: Any, key: str, value: Any) -> Any | None:
    """The EC2 instance whose network interface `value` is (by id, or by the engine's dependency of `key`)."""
    if isinstance(value, str) and value and not is_unknown(value):
        for instance in graph.of_type(*EC2_INSTANCES):
            if graph.get(instance, "primaryNetworkInterfaceId") == value:
                return instance
    behind = graph.referenced(holder, key, EC2_INSTANCES)
    return behind[0] if len(behind) == 1 else None


def _default_routes_to_interfaces(graph: StackGraph) -> Iterator[tuple[Any, str, Any, Any]]:
    """(resource, route description, interface value, instance or None) per default route to a network interface."""
    for route in graph.of_type(ROUTE):
        destination = graph.get(route, "destinationCidrBlock") or graph.get(route, "destinationIpv6CidrBlock")
        value = graph.get(route, "networkInterfaceId")
        if destination in DEFAULT_DESTINATIONS and value not in (None, ""):
            yield route, f"its {destination} route", value, _instance_behind(graph, route, "networkInterfaceId", value)
    for table in graph.of_type(*ROUTE_TABLES):
        routes = graph.get(table, "routes")
        for i, route in enumerate(as_list(routes)):
            if not isinstance(route, Mapping):
                continue
            destination = route.get("cidrBlock") or route.get("ipv6CidrBlock")
            value = route.get("networkInterfaceId")
            if destination in DEFAULT_DESTINATIONS and value not in (None, ""):
                instance = _instance_behind(graph, table, "routes", value)
                yield table, f"routes[{i}] ({destination})", value, instance


def check_default_route_targets(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    """Checkov CKV2_AWS_35's concern: an instance as a subnet's default route is a NAT device nobody declared."""
    for resource, where, value, instance in _default_routes_to_interfaces(graph):
        if instance is None:
            if is_unknown(value):
                continue  # an interface not known yet and no dependency to follow: cannot tell
            yield resource, (f"{where} goes to network interface {value}, which is no NAT instance the stack declares.")
            continue
        why = undeclared_nat_instance(graph, instance, config)
        if why is None:
            continue
        detail = f"It is listed under natInstances, but {why}." if why else "It is not listed under natInstances."
        yield resource, f"{where} goes to instance {instance.name}. {detail}"


def check_key_pair(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if props.get("keyName") not in (None, ""):
        yield "keyName is set: SSH keys are long-lived credentials outside IAM."


def _unencrypted(device: Any, key: str = "encrypted") -> bool:
    if not isinstance(device, Mapping):
        return False
    value = device.get(key)
    return not is_unknown(value) and not is_true(value)


def check_volumes(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if args.resource_type == EBS_VOLUME:
        if _unencrypted(props):
            yield "encrypted is not true."
        return
    if args.resource_type == LAUNCH_TEMPLATE:
        for i, mapping in enumerate(as_list(props.get("blockDeviceMappings"))):
            if isinstance(mapping, Mapping) and _unencrypted(mapping.get("ebs")):
                yield f"blockDeviceMappings[{i}].ebs.encrypted is not true."
        return
    root = props.get("rootBlockDevice")
    if root is None:
        yield "rootBlockDevice is not set, so the root volume is encrypted only if the account defaults to it."
    elif _unencrypted(root):
        yield "rootBlockDevice.encrypted is not true."
    for i, device in enumerate(as_list(props.get("ebsBlockDevices"))):
        if _unencrypted(device):
            yield f"ebsBlockDevices[{i}].encrypted is not true."


def check_ecs_public_ip(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    network = props.get("networkConfiguration")
    if isinstance(network, Mapping) and is_true(network.get("assignPublicIp")):
        yield "networkConfiguration.assignPublicIp is true: tasks get public addresses."


def containers(props: Mapping) -> list[dict] | None:
    """The container definitions of a task definition (JSON text on the wire), None while unknown."""
    raw = props.get("containerDefinitions")
    if raw is None or has_unknown(raw):
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return [c for c in as_list(value) if isinstance(c, Mapping)]


def check_privileged(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    for c in containers(props) or []:
        if is_true(c.get("privileged")):
            yield f"container {c.get('name', '?')} is privileged (root on the host)."


# The tag a task definition carries when its service opted out of a read-only root filesystem,
# with the reason (the service config's `writableRootReason`).
WRITABLE_ROOT_TAG = "WritableRootFilesystem"


def check_readonly_root(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    tags = props.get("tags")
    if is_unknown(tags) or (isinstance(tags, Mapping) and str(tags.get(WRITABLE_ROOT_TAG) or "").strip()):
        return
    for c in containers(props) or []:
        value = c.get("readonlyRootFilesystem")
        if not is_true(value) and not is_unknown(value):
            yield (
                f"container {c.get('name', '?')} has a writable root filesystem and the task definition gives no "
                f"reason (tag {WRITABLE_ROOT_TAG})."
            )


def check_host_namespaces(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    # "If the host PID mode is used, there's a heightened risk of undesired process namespace
    # exposure" (TaskDefinition pidMode, ECS API Reference); ipcMode host shares the host's
    # shared memory the same way. Fargate accepts neither, EC2 capacity would.
    for key in ("pidMode", "ipcMode"):
        if props.get(key) == "host":
            yield f"{key} is host: the containers share the host's namespace and see or signal its processes."


def check_codebuild_privileged(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    environment = props.get("environment")
    if not isinstance(environment, Mapping) or not is_true(environment.get("privilegedMode")):
        return
    allowed = [p for p in as_list(config.get("privilegedProjects")) if isinstance(p, str)]
    if not any(fnmatch.fnmatchcase(args.name, pattern) for pattern in allowed):
        yield (
            f"project {args.name} runs privileged (a Docker daemon with root on the build host) and matches no "
            "pattern under privilegedProjects."
        )


def check_logging(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    for c in containers(props) or []:
        log = c.get("logConfiguration")
        if not isinstance(log, Mapping) or not log.get("logDriver"):
            yield f"container {c.get('name', '?')} has no logConfiguration: its output is lost."


def check_plain_secrets(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    for c in containers(props) or []:
        for variable in as_list(c.get("environment")):
            if not isinstance(variable, Mapping):
                continue
            name = str(variable.get("name", ""))
            if holds_plain_secret(name, variable.get("value")):
                yield f"container {c.get('name', '?')} has {name} in plain environment."


# --- ARM64 tasks and Fargate Spot -------------------------------------------------------------


def _task_definitions(graph: StackGraph, service: Any) -> list[Any]:
    """The task definitions a service runs: by reference, or by family (`family` or `family:revision`)."""
    found = graph.referenced(service, "taskDefinition", [TASK_DEFINITION])
    value = graph.get(service, "taskDefinition")
    if found or not isinstance(value, str) or not value or has_unknown(value):
        return found
    family = value.rsplit("/", 1)[-1].split(":")[0]
    return [td for td in graph.of_type(TASK_DEFINITION) if graph.get(td, "family") == family]


def _cpu_architecture(graph: StackGraph, task_definition: Any) -> str | None:
    """ARM64 or X86_64 (the default when runtimePlatform leaves it out); None while unknown."""
    platform = graph.get(task_definition, "runtimePlatform")
    if platform is None:
        return "X86_64"
    if not isinstance(platform, Mapping) or has_unknown(platform.get("cpuArchitecture")):
        return None
    return str(platform.get("cpuArchitecture") or "X86_64").upper()


def _effective_strategy(graph: StackGraph, service: Any) -> tuple[list[Any] | None, str]:
    """(capacity providers the service's tasks may be placed on, where they come from); None while unknown."""
    own = graph.get(service, "capacityProviderStrategies")
    if has_unknown(own):
        return None, ""
    if own:
        return [item.get("capacityProvider") for item in as_list(own) if isinstance(item, Mapping)], "its strategy"
    if graph.get(service, "launchType") not in (None, ""):
        return [], "its launch type"  # a launch type: no capacity provider at all
    # Neither: ECS uses the default strategy of the service's cluster.
    associations = {r.urn: r for r in graph.referenced(service, "cluster", [CLUSTER_CAPACITY_PROVIDERS])}
    for cluster in graph.referenced(service, "cluster", [ECS_CLUSTER]):
        for association in graph.referrers(cluster, "clusterName", [CLUSTER_CAPACITY_PROVIDERS]):
            associations[association.urn] = association
    providers: list[Any] = []
    for association in associations.values():
        default = graph.get(association, "defaultCapacityProviderStrategies")
        if has_unknown(default):
            return None, ""
        providers += [item.get("capacityProvider") for item in as_list(default) if isinstance(item, Mapping)]
    return (providers, "its cluster's default strategy") if associations else (None, "")


def check_arm64_not_on_spot(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    # "Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity provider"
    # (ECS developer guide, "Fargate capacity providers"): ECS never places them there.
    for service in graph.of_type(ECS_SERVICE):
        arm = [td for td in _task_definitions(graph, service) if _cpu_architecture(graph, td) == "ARM64"]
        if not arm:
            continue
        providers, source = _effective_strategy(graph, service)
        if providers and "FARGATE_SPOT" in providers:
            yield (
                service,
                f"service {service.name} runs the ARM64 task definition {arm[0].name} with FARGATE_SPOT in {source}; "
                "Fargate Spot runs X86_64 Linux tasks only.",
            )


def check_waits_for_capacity_providers(graph: StackGraph, config: Mapping) -> Iterator[tuple[Any, str]]:
    # A service placed by capacity providers fails to create while its cluster has no provider
    # associated yet ("The specified capacity provider strategy cannot contain a capacity provider
    # that is not associated with the cluster", ECS CreateService API reference), and a destroy that
    # removes the association first strands the service. Only a dependency orders both.
    for service in graph.of_type(ECS_SERVICE):
        if graph.get(service, "launchType") not in (None, ""):
            continue
        depends_on = {dep.urn for dep in service.dependencies}
        depends_on |= {dep.urn for deps in service.property_dependencies.values() for dep in deps}
        for cluster in graph.referenced(service, "cluster", [ECS_CLUSTER]):
            for association in graph.referrers(cluster, "clusterName", [CLUSTER_CAPACITY_PROVIDERS]):
                if association.urn not in depends_on:
                    yield (
                        service,
                        f"service {service.name} uses capacity providers of cluster {cluster.name} but does not "
                        f"depend on their association {association.name}: it can be created before the providers "
                        "are associated, and destroyed after.",
                    )


# --- ECR ---------------------------------------------------------------------------------------


def check_retain_images(props: dict, config: Mapping, args: Any) -> Iterator[str]:
    if not config.get("required", False):
        return
    value = props.get("forceDelete")
    if not is_unknown(value) and is_true(value):
        yield "forceDelete is true: destroying or replacing the repository deletes every image in it."


POLICIES = [
    resource_policy(
        "ec2-imdsv2-required",
        "EC2 instances and launch templates require IMDSv2 (session tokens).",
        MANDATORY,
        [*EC2_INSTANCES, LAUNCH_TEMPLATE],
        check_imdsv2,
        'set metadataOptions={"httpTokens": "required", "httpEndpoint": "enabled"}.',
    ),
    stack_policy(
        "ec2-no-public-ip",
        "EC2 instances get no public IP, neither asked for nor from a public subnet, except NAT instances named "
        "under `natInstances` that have source/destination check off and take the default route of a private "
        "route table.",
        MANDATORY,
        check_public_ip,
        "put the instance in a private subnet with associatePublicIpAddress=False; reach it with SSM. A NAT "
        "instance: list its name under natInstances in the pack config, set sourceDestCheck=False and point a "
        "private route table's 0.0.0.0/0 route at its network interface.",
        PolicyConfigSchema(properties={"natInstances": {"type": "array", "items": {"type": "string"}, "default": []}}),
    ),
    stack_policy(
        "ec2-default-route-nat-instances-only",
        "No route table sends its default route (0.0.0.0/0, ::/0) to an instance's network interface unless "
        "the instance is a NAT instance named under `natInstances` with source/destination check off.",
        MANDATORY,
        check_default_route_targets,
        "use a NAT gateway, or declare the NAT instance: list its name under natInstances in the pack config "
        "(as for ec2-no-public-ip) and set sourceDestCheck=False.",
        PolicyConfigSchema(properties={"natInstances": {"type": "array", "items": {"type": "string"}, "default": []}}),
    ),
    resource_policy(
        "ec2-no-key-pair",
        "EC2 instances and launch templates carry no SSH key pair: access is through SSM Session Manager.",
        MANDATORY,
        [*EC2_INSTANCES, LAUNCH_TEMPLATE],
        check_key_pair,
        "remove keyName and use `aws ssm start-session`.",
    ),
    resource_policy(
        "ec2-encrypted-volumes",
        "EC2 root and data volumes (instances, launch templates, EBS volumes) are encrypted.",
        MANDATORY,
        [*EC2_INSTANCES, LAUNCH_TEMPLATE, EBS_VOLUME],
        check_volumes,
        'set rootBlockDevice={"encrypted": True, ...} and encrypted=True on every EBS volume.',
    ),
    resource_policy(
        "ecs-no-public-ip",
        "ECS services and task sets do not give tasks public IPs.",
        MANDATORY,
        [ECS_SERVICE, ECS_TASK_SET],
        check_ecs_public_ip,
        "set networkConfiguration.assignPublicIp=False and run tasks in the private subnets (NAT or endpoints).",
    ),
    resource_policy(
        "ecs-no-privileged-containers",
        "ECS containers never run privileged.",
        MANDATORY,
        [TASK_DEFINITION],
        check_privileged,
        "remove privileged (Fargate refuses it anyway); add only the Linux capabilities needed.",
    ),
    resource_policy(
        "ecs-readonly-root-filesystem",
        "ECS containers run with a read-only root filesystem unless the task definition says why not "
        "(tag WritableRootFilesystem, from the service's writableRootReason).",
        ADVISORY,
        [TASK_DEFINITION],
        check_readonly_root,
        "leave readonlyRootFilesystem on and list the paths the image writes under writablePaths; or set "
        "writableRootReason on the service to say why it needs a writable root.",
    ),
    resource_policy(
        "ecs-no-host-namespaces",
        "ECS task definitions do not share the host's process or IPC namespace (pidMode / ipcMode host).",
        MANDATORY,
        [TASK_DEFINITION],
        check_host_namespaces,
        'remove pidMode/ipcMode or use "task" to share them between the task\'s own containers only.',
    ),
    resource_policy(
        "codebuild-privileged-allow-list",
        "CodeBuild projects run in privileged mode only when their name matches a pattern of the pack config's "
        "privilegedProjects (the projects that build container images).",
        ADVISORY,
        [CODEBUILD_PROJECT],
        check_codebuild_privileged,
        "turn privilegedMode off, or add the project (a glob on its resource name, e.g. *-pipeline-build) to "
        "privilegedProjects in the pack config.",
        PolicyConfigSchema(
            properties={"privilegedProjects": {"type": "array", "items": {"type": "string"}, "default": []}}
        ),
    ),
    resource_policy(
        "ecs-container-logging",
        "Every ECS container sends its output to a log driver.",
        ADVISORY,
        [TASK_DEFINITION],
        check_logging,
        'set logConfiguration={"logDriver": "awslogs", "options": {...}} with the service\'s log group.',
    ),
    resource_policy(
        "ecs-no-secrets-in-environment",
        "ECS containers carry no secret-looking variable (PASSWORD, SECRET, TOKEN, API_KEY, ...) in plain environment.",
        MANDATORY,
        [TASK_DEFINITION],
        check_plain_secrets,
        'move the value to Secrets Manager or SSM and reference it under "secrets" (valueFrom); a variable '
        "holding only a secret's ARN or name may end in _ARN or _NAME.",
    ),
    stack_policy(
        "ecs-arm64-not-on-fargate-spot",
        "ECS services running an ARM64 task definition have no FARGATE_SPOT in their effective capacity provider "
        "strategy (their own, or else their cluster's default).",
        MANDATORY,
        check_arm64_not_on_spot,
        'give the service its own strategy with FARGATE only, e.g. [{"capacityProvider": "FARGATE", "weight": 1}] '
        "(with forceNewDeployment=True to change it in place), or build the image for X86_64.",
    ),
    stack_policy(
        "ecs-service-waits-for-capacity-providers",
        "ECS services placed by capacity providers depend on their cluster's capacity provider association, "
        "so they are created after it and destroyed before it.",
        MANDATORY,
        check_waits_for_capacity_providers,
        "name the cluster through an output that carries the association (e.g. Output.all(cluster.arn, "
        "providers.id)) or add the association to the service's dependsOn.",
    ),
    resource_policy(
        "ecr-retain-images",
        "ECR repositories keep their images on destroy (forceDelete off) where the pack config sets `required`.",
        ADVISORY,
        [ECR_REPOSITORY],
        check_retain_images,
        "set repository.forceDelete: false on the environment's services (forceDelete=False).",
        PolicyConfigSchema(properties={"required": {"type": "boolean", "default": False}}),
    ),
]

# Anchor rules (guardrails/anchors.py) each policy covers: docs/policy-coverage.md is generated from these.
COVERS: dict[str, list[str]] = {
    "ec2-imdsv2-required": ["CKV_AWS_79"],
    "ec2-no-public-ip": ["CKV_AWS_88", "awsguard:ec2-instance-no-public-ip"],
    "ec2-default-route-nat-instances-only": ["CKV2_AWS_35"],
    "ec2-no-key-pair": [],
    "ec2-encrypted-volumes": ["AwsSolutions-EC26", "CKV_AWS_3", "CKV_AWS_8", "awsguard:encrypted-volumes"],
    "ecs-no-public-ip": ["CKV_AWS_333"],
    "ecs-no-privileged-containers": ["CKV_AWS_334"],
    "ecs-container-logging": ["AwsSolutions-ECS7"],
    "ecs-readonly-root-filesystem": ["CKV_AWS_336"],
    "ecs-no-host-namespaces": ["CKV_AWS_335"],
    "codebuild-privileged-allow-list": ["AwsSolutions-CB3", "CKV_AWS_316"],
    "ecs-no-secrets-in-environment": [],
    "ecs-arm64-not-on-fargate-spot": [],
    "ecs-service-waits-for-capacity-providers": [],
    "ecr-retain-images": [],
}

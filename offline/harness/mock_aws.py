"""The mocked AWS provider behind the harness: realistic ids, ARNs and outputs, and invoke answers.

Each resource's state is its inputs plus what AWS would compute. Types whose outputs the
program reads beyond `id`, `arn` and `name` register a function with `@outputs(<type token>)`
(the tokens of policies/guardrails/types.py); every invoke the program makes registers an
answer with `@answers("<invoke token>")`. An invoke without an answer fails the run, so a new
data source never goes unnoticed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from policies.guardrails.types import (
    AWSX_VPC,
    BUCKET,
    BUCKET_V2,
    CERTIFICATE,
    CERTIFICATE_VALIDATION,
    CODESTAR_CONNECTION,
    DASHBOARD,
    DB_PARAMETER_GROUP,
    DB_SUBNET_GROUP,
    DISCOVERY_SERVICE,
    DNS_NAMESPACE,
    DNS_RECORD,
    EC2_INSTANCE,
    ECR_REPOSITORY,
    ECS_SERVICE,
    EFS_ACCESS_POINT,
    EFS_FILE_SYSTEM,
    EFS_MOUNT_TARGET,
    EGRESS_RULE,
    EVENT_RULE,
    FLOW_LOG,
    IAM_POLICY,
    IAM_ROLE,
    INGRESS_RULE,
    INSTANCE_PROFILE,
    KMS_ALIAS,
    KMS_KEY,
    LISTENER,
    LISTENER_RULE,
    LOAD_BALANCER,
    LOG_GROUP,
    METRIC_ALARM,
    PIPELINE,
    RANDOM_ID,
    RDS_INSTANCE,
    SECRET,
    SECURITY_GROUP,
    SNS_TOPIC,
    SSM_PARAMETER,
    STATE_MACHINE,
    TARGET_GROUP,
    TASK_DEFINITION,
    VPC_ENDPOINT,
    WAF_WEB_ACL,
)

ACCOUNT_ID = "123456789012"

# Id prefixes of EC2-style resources; other resources use their name as id, like AWS.
ID_PREFIX = {
    SECURITY_GROUP: "sg-",
    VPC_ENDPOINT: "vpce-",
    FLOW_LOG: "fl-",
    EC2_INSTANCE: "i-",
    INGRESS_RULE: "sgr-",
    EGRESS_RULE: "sgr-",
    DNS_NAMESPACE: "ns-",
    DISCOVERY_SERVICE: "srv-",
    EFS_FILE_SYSTEM: "fs-",
    EFS_ACCESS_POINT: "fsap-",
    EFS_MOUNT_TARGET: "fsmt-",
}

# ARNs of a shape other than arn:aws:{service}:{region}:{account}:{kind}/{name}.
ARN = {
    IAM_ROLE: "arn:aws:iam::{account}:role/{name}",
    IAM_POLICY: "arn:aws:iam::{account}:policy/{name}",
    INSTANCE_PROFILE: "arn:aws:iam::{account}:instance-profile/{name}",
    KMS_ALIAS: "arn:aws:kms:{region}:{account}:{name}",
    DB_SUBNET_GROUP: "arn:aws:rds:{region}:{account}:subgrp:{name}",
    DB_PARAMETER_GROUP: "arn:aws:rds:{region}:{account}:pg:{name}",
    LOG_GROUP: "arn:aws:logs:{region}:{account}:log-group:{name}",
    BUCKET: "arn:aws:s3:::{name}",
    BUCKET_V2: "arn:aws:s3:::{name}",
    PIPELINE: "arn:aws:codepipeline:{region}:{account}:{name}",
    SNS_TOPIC: "arn:aws:sns:{region}:{account}:{name}",
    METRIC_ALARM: "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    ECR_REPOSITORY: "arn:aws:ecr:{region}:{account}:repository/{name}",
    STATE_MACHINE: "arn:aws:states:{region}:{account}:stateMachine:{name}",
    # Rules on the default event bus.
    EVENT_RULE: "arn:aws:events:{region}:{account}:rule/{name}",
}

OutputsFn = Callable[[str, dict, "AwsMocks"], dict]
InvokeFn = Callable[[dict, "AwsMocks"], dict]
OUTPUTS: dict[str, OutputsFn] = {}
INVOKES: dict[str, InvokeFn] = {}


def outputs(type_: str) -> Callable[[OutputsFn], OutputsFn]:
    """Registers the computed outputs of a resource type: fn(logical name, inputs, mocks) -> dict."""

    def register(fn: OutputsFn) -> OutputsFn:
        OUTPUTS[type_] = fn
        return fn

    return register


def answers(token: str) -> Callable[[InvokeFn], InvokeFn]:
    """Registers the answer to an invoke: fn(args, mocks) -> dict."""

    def register(fn: InvokeFn) -> InvokeFn:
        INVOKES[token] = fn
        return fn

    return register


def fake_hex(seed: str, length: int = 17) -> str:
    """A stable hex string standing in for the random part of an AWS id."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


class AwsMocks(pulumi_mocks.Mocks):
    def __init__(self, region: str, preview: bool):
        self.region = region
        self.preview = preview
        # SSM parameters the program created, name -> value, for getParameter to read back.
        self.parameters: dict[str, str] = {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        inputs = dict(args.inputs)
        if not args.custom:
            # Components report outputs of their own (awsx's), not their inputs.
            outputs_fn = OUTPUTS.get(args.typ)
            return "", (outputs_fn(args.name, inputs, self) if outputs_fn and not self.preview else {})
        if self.preview:
            # A new resource in preview: only what the program gave is known.
            return "", inputs
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", inputs
        name = inputs.get("name") or inputs.get("bucket") or _autoname(args.name, inputs)
        resource_id = ID_PREFIX[args.typ] + fake_hex(args.name) if args.typ in ID_PREFIX else name
        service, kind = args.typ.split(":")[1].split("/")[0], args.typ.split(":")[2]
        arn_shape = ARN.get(args.typ, "arn:aws:{service}:{region}:{account}:{kind}/{name}")
        arn = arn_shape.format(service=service, region=self.region, account=ACCOUNT_ID, kind=kind.lower(), name=name)
        state = {**inputs, "name": name, "arn": arn}
        if args.typ in OUTPUTS:
            state.update(OUTPUTS[args.typ](args.name, {**inputs, "name": name}, self))
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs):
        if args.token not in INVOKES:
            raise NotImplementedError(
                f"the mock does not answer the invoke {args.token}; add it to offline/harness/mock_aws.py"
            )
        return INVOKES[args.token](args.args, self)


def _autoname(logical: str, inputs: dict) -> str:
    """Pulumi's auto-naming: the logical name (or namePrefix) plus a random-looking suffix."""
    prefix = inputs.get("namePrefix") or inputs.get("bucketPrefix")
    return f"{prefix}{fake_hex(logical, 26)}" if prefix else f"{logical}-{fake_hex(logical, 7)}"


# --- invokes -------------------------------------------------------------------------


@answers("aws:index/getAvailabilityZones:getAvailabilityZones")
def _availability_zones(args: dict, mocks: AwsMocks) -> dict:
    area, direction, number = mocks.region.split("-")[-3:]
    return {
        "id": mocks.region,
        "names": [f"{mocks.region}{letter}" for letter in "abc"],
        "zoneIds": [f"{area}{direction[0]}{number}-az{i}" for i in (1, 2, 3)],
        "state": "available",
    }


@answers("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(args: dict, mocks: AwsMocks) -> dict:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/deployer",
        "userId": "AROAEXAMPLEDEPLOYER",
    }


@answers("aws:index/getRegion:getRegion")
def _region(args: dict, mocks: AwsMocks) -> dict:
    return {"id": mocks.region, "name": mocks.region, "region": mocks.region}


@answers("aws:index/getPartition:getPartition")
def _partition(args: dict, mocks: AwsMocks) -> dict:
    return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com"}


@answers("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider")
def _oidc_provider(args: dict, mocks: AwsMocks) -> dict:
    """An existing OIDC provider of the account, as IAM describes it (GetOpenIDConnectProvider)."""
    arn = (
        args.get("arn")
        or f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{str(args.get('url', '')).removeprefix('https://')}"
    )
    url = arn.split(":oidc-provider/", 1)[1]
    return {
        "id": arn,
        "arn": arn,
        "url": url,
        "clientIdLists": list(OIDC_PROVIDER_CLIENT_IDS.get(arn, ["sts.amazonaws.com"])),
        "thumbprintLists": [],
        "tags": {},
    }


# Audiences of existing OIDC providers, by ARN, where a test needs other than sts.amazonaws.com.
OIDC_PROVIDER_CLIENT_IDS: dict[str, list[str]] = {}


# Values written into SSM parameters by something other than Pulumi, by parameter name: a
# test sets one to stand for a pipeline release that recorded a newer image since the last run.
LIVE_PARAMETER_VALUES: dict[str, str] = {}


@answers("aws:ssm/getParameter:getParameter")
def _ssm_parameter(args: dict, mocks: AwsMocks) -> dict:
    """AWS's public AMI parameters, and the parameters the program created (with their live value)."""
    name = args["name"]
    if name in mocks.parameters:
        value = LIVE_PARAMETER_VALUES.get(name, mocks.parameters[name])
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:ssm:{mocks.region}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}",
            "type": "String",
            "value": value,
            "insecureValue": value,
            "version": 2 if name in LIVE_PARAMETER_VALUES else 1,
            "withDecryption": True,
        }
    existing_efs = _existing_efs_id(name)
    if existing_efs:
        # An existing file system's ids, published by whoever owns it (`efs` path segment).
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:ssm:{mocks.region}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}",
            "type": "String",
            "value": existing_efs,
            "insecureValue": existing_efs,
            "version": 1,
            "withDecryption": False,
        }
    if not name.startswith("/aws/service/ami-amazon-linux-latest/"):
        raise NotImplementedError(f"the mock knows no SSM parameter {name}; add it to offline/harness/mock_aws.py")
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:ssm:{mocks.region}::parameter{name}",
        "type": "String",
        "value": f"ami-0{fake_hex(name + mocks.region, 16)}",
        "version": 118,
        "insecureValue": None,
        "withDecryption": True,
    }


def _existing_efs_id(name: str) -> str | None:
    """The id an SSM parameter under an `efs` segment holds, by its last segment: file system or access point."""
    if "/efs/" not in name:
        return None
    if name.endswith("file-system-id"):
        return f"fs-0{fake_hex(name, 16)}"
    if name.endswith("access-point-id"):
        return f"fsap-0{fake_hex(name, 16)}"
    return None


@answers("aws:ec2/getRouteTable:getRouteTable")
def _route_table(args: dict, mocks: AwsMocks) -> dict:
    """The route table a subnet is associated with: one per subnet, as awsx makes them."""
    subnet = args.get("subnetId")
    if not subnet:
        raise NotImplementedError("the mock finds route tables by subnetId only; add the lookup to mock_aws.py")
    table = f"rtb-{fake_hex(subnet)}"
    return {
        "id": table,
        "routeTableId": table,
        "subnetId": subnet,
        "ownerId": ACCOUNT_ID,
        "arn": f"arn:aws:ec2:{mocks.region}:{ACCOUNT_ID}:route-table/{table}",
        "associations": [
            {
                "routeTableAssociationId": f"rtbassoc-{fake_hex(subnet)}",
                "routeTableId": table,
                "subnetId": subnet,
                "main": False,
                "gatewayId": "",
            }
        ],
        "routes": [],
        "propagatingVgws": [],
        "tags": {},
    }


# --- resource outputs ----------------------------------------------------------------


@outputs(AWSX_VPC)
def _awsx_vpc(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    """What awsx.ec2.Vpc reports once deployed: ids per tier, one subnet per AZ, and its layout."""
    out: dict[str, Any] = {"vpcId": f"vpc-{fake_hex(name)}", "subnetLayout": []}
    for spec in inputs.get("subnetSpecs", []):
        tier = spec["type"].lower()
        zones = inputs["availabilityZoneNames"]
        out[f"{tier}SubnetIds"] = [f"subnet-{fake_hex(f'{name}-{tier}-{az}')}" for az in zones]
        out["subnetLayout"].append(
            {"type": spec["type"], "name": spec.get("name"), "cidrBlocks": spec.get("cidrBlocks")}
        )
    return out


def fake_uuid(seed: str) -> str:
    digest = fake_hex(seed, 32)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


@outputs(KMS_KEY)
def _kms_key(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    key_id = fake_uuid(name)
    return {"keyId": key_id, "arn": f"arn:aws:kms:{mocks.region}:{ACCOUNT_ID}:key/{key_id}"}


@outputs(RDS_INSTANCE)
def _rds_instance(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    """What RDS reports for an instance: DNS endpoint, resource id, and the secret it manages."""
    identifier = inputs.get("identifier") or f"terraform-{fake_hex(name, 26)}"
    port = int(inputs.get("port", 5432))
    address = f"{identifier}.c{fake_hex(name, 11)}.{mocks.region}.rds.amazonaws.com"
    out: dict[str, Any] = {
        "identifier": identifier,
        "arn": f"arn:aws:rds:{mocks.region}:{ACCOUNT_ID}:db:{identifier}",
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "resourceId": f"db-{fake_hex(name, 26).upper()}",
        "hostedZoneId": "Z29XKXDKYMONMX",
        "engineVersionActual": f"{inputs.get('engineVersion', '18')}.1",
        "status": "available",
    }
    if inputs.get("manageMasterUserPassword"):
        # RDS names the secret rds!db-<uuid>; Secrets Manager appends six random characters.
        secret = f"rds!db-{fake_uuid(name)}-AbCdEf"
        out["masterUserSecrets"] = [
            {
                "secretArn": f"arn:aws:secretsmanager:{mocks.region}:{ACCOUNT_ID}:secret:{secret}",
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"),
                "secretStatus": "active",
            }
        ]
    return out


@outputs(EC2_INSTANCE)
def _ec2_instance(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    instance_id = ID_PREFIX[EC2_INSTANCE] + fake_hex(name)
    # An address from the documentation range (RFC 5737) when the instance asked for one.
    public_ip = f"203.0.113.{int(fake_hex(name + 'public', 2), 16) % 250 + 4}"
    return {
        "arn": f"arn:aws:ec2:{mocks.region}:{ACCOUNT_ID}:instance/{instance_id}",
        "privateIp": f"10.0.{int(fake_hex(name, 2), 16) % 16}.{int(fake_hex(name + 'ip', 2), 16) % 250 + 4}",
        "publicIp": public_ip if inputs.get("associatePublicIpAddress") is True else "",
        "instanceState": "running",
        "primaryNetworkInterfaceId": f"eni-{fake_hex(name + 'eni')}",
    }


@outputs(INSTANCE_PROFILE)
def _instance_profile(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    return {"uniqueId": f"AIPA{fake_hex(name, 17).upper()}"}


# --- compute: cluster, load balancer, services, monitoring -------------------------------


def _arn(mocks: AwsMocks, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{mocks.region}:{ACCOUNT_ID}:{resource}"


# Route53 hosted zone ids of ALBs per region (for alias records); other regions get eu-west-1's.
_ALB_ZONE_IDS = {"eu-west-1": "Z32O12XQLNTSW2", "us-east-1": "Z35SXDOTRQ7X7K", "eu-central-1": "Z215JYRZR1TBD5"}


@outputs(LOAD_BALANCER)
def _load_balancer(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    lb_name = inputs.get("name") or name
    suffix = f"app/{lb_name}/{fake_hex(name, 16)}"
    return {
        "arn": _arn(mocks, "elasticloadbalancing", f"loadbalancer/{suffix}"),
        "arnSuffix": suffix,
        "dnsName": f"{lb_name}-{int(fake_hex(name, 8), 16) % 10**10}.{mocks.region}.elb.amazonaws.com",
        "zoneId": _ALB_ZONE_IDS.get(mocks.region, "Z32O12XQLNTSW2"),
    }


@outputs(TARGET_GROUP)
def _target_group(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    tg_name = _autoname(name, inputs)[:32]
    suffix = f"targetgroup/{tg_name}/{fake_hex(name, 16)}"
    return {"name": tg_name, "arn": _arn(mocks, "elasticloadbalancing", suffix), "arnSuffix": suffix}


@outputs(LISTENER)
def _listener(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"arn": _arn(mocks, "elasticloadbalancing", f"listener/app/alb/{fake_hex('alb', 16)}/{fake_hex(name, 16)}")}


@outputs(LISTENER_RULE)
def _listener_rule(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"arn": _arn(mocks, "elasticloadbalancing", f"listener-rule/app/alb/{fake_hex(name, 16)}")}


@outputs(WAF_WEB_ACL)
def _web_acl(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    acl_name = inputs.get("name") or name
    acl_id = fake_uuid(name)
    # A regional web ACL's ARN names its scope, its name and its id (AWS WAF API reference, WebACL).
    return {
        "id": acl_id,
        "arn": _arn(mocks, "wafv2", f"regional/webacl/{acl_name}/{acl_id}"),
        "lockToken": fake_uuid(acl_id),
    }


@outputs(ECR_REPOSITORY)
def _ecr_repository(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{mocks.region}.amazonaws.com/{inputs['name']}",
        "registryId": ACCOUNT_ID,
    }


@outputs(CERTIFICATE)
def _certificate(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    domains = [inputs["domainName"], *inputs.get("subjectAlternativeNames", [])]

    def option(domain: str) -> dict:
        base = domain.removeprefix("*.")  # a wildcard and its base name share one record, as in ACM
        token = fake_hex(base, 32)
        return {
            "domainName": domain,
            "resourceRecordName": f"_{token}.{base}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{fake_hex(token, 32)}.xlfgrmvvlj.acm-validations.aws.",
        }

    h = fake_hex(name, 32)
    cert_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return {
        "arn": _arn(mocks, "acm", f"certificate/{cert_id}"),
        "domainValidationOptions": [option(d) for d in domains],
    }


@outputs(CERTIFICATE_VALIDATION)
def _certificate_validation(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"certificateArn": inputs["certificateArn"]}


@outputs(DNS_RECORD)
def _record(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"fqdn": inputs["name"].rstrip(".")}


@outputs(DNS_NAMESPACE)
def _namespace(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {
        "arn": _arn(mocks, "servicediscovery", f"namespace/ns-{fake_hex(name)}"),
        "hostedZone": f"Z{fake_hex(name, 20).upper()}",
    }


@outputs(DISCOVERY_SERVICE)
def _discovery_service(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"arn": _arn(mocks, "servicediscovery", f"service/srv-{fake_hex(name)}")}


@outputs(EFS_FILE_SYSTEM)
def _efs_file_system(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    fs_id = "fs-" + fake_hex(name)
    return {
        "arn": _arn(mocks, "elasticfilesystem", f"file-system/{fs_id}"),
        "dnsName": f"{fs_id}.efs.{mocks.region}.amazonaws.com",
        "ownerId": ACCOUNT_ID,
    }


@outputs(EFS_ACCESS_POINT)
def _efs_access_point(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"arn": _arn(mocks, "elasticfilesystem", f"access-point/fsap-{fake_hex(name)}"), "ownerId": ACCOUNT_ID}


@outputs(EFS_MOUNT_TARGET)
def _efs_mount_target(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"ipAddress": "10.0.0.10", "networkInterfaceId": "eni-" + fake_hex(name)}


@outputs(TASK_DEFINITION)
def _task_definition(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    family = inputs["family"]
    return {
        "arn": _arn(mocks, "ecs", f"task-definition/{family}:1"),
        "arnWithoutRevision": _arn(mocks, "ecs", f"task-definition/{family}"),
        "revision": 1,
    }


@outputs(ECS_SERVICE)
def _ecs_service(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    service_name = inputs.get("name") or _autoname(name, inputs)
    cluster = str(inputs.get("cluster", "")).rsplit("/", 1)[-1]
    return {"name": service_name, "arn": _arn(mocks, "ecs", f"service/{cluster}/{service_name}")}


@outputs(BUCKET)
def _bucket(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    bucket = inputs.get("bucket") or _autoname(name, inputs)
    return {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketRegionalDomainName": f"{bucket}.s3.{mocks.region}.amazonaws.com",
    }


@outputs(DASHBOARD)
def _dashboard(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    return {"dashboardArn": f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{inputs['dashboardName']}"}


@outputs(SECRET)
def _secret(name: str, inputs: dict, mocks: AwsMocks) -> dict:
    secret_name = inputs.get("name") or _autoname(name, inputs)
    # Secrets Manager appends six random characters to the name in the ARN.
    return {"arn": _arn(mocks, "secretsmanager", f"secret:{secret_name}-{fake_hex(name, 6)}")}


# --- pipeline ----------------------------------------------------------------------------


@outputs(SSM_PARAMETER)
def _ssm_parameter_resource(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    """A parameter's ARN drops the name's leading slash; its value becomes readable through getParameter."""
    mocks.parameters[inputs["name"]] = inputs.get("insecureValue", inputs.get("value", ""))
    return {
        "arn": f"arn:aws:ssm:{mocks.region}:{ACCOUNT_ID}:parameter/{inputs['name'].lstrip('/')}",
        "version": 1,
        "tier": inputs.get("tier", "Standard"),
    }


@outputs(CODESTAR_CONNECTION)
def _codestar_connection(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    """A new connection: an ARN with a random id, PENDING until someone completes the GitHub handshake."""
    return {
        "arn": f"arn:aws:codestar-connections:{mocks.region}:{ACCOUNT_ID}:connection/{fake_uuid(name)}",
        "connectionStatus": "PENDING",
    }


# --- pulumi-random -------------------------------------------------------------------------


@outputs(RANDOM_ID)
def _random_id(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    """What the random provider reports: the same bytes as hex, base64 and decimal (stable per logical name)."""
    import base64

    raw = bytes.fromhex(fake_hex(f"{name}-{inputs.get('keepers')}", 2 * int(inputs.get("byteLength", 8))))
    hex_value = raw.hex()
    return {
        "hex": hex_value,
        "dec": str(int(hex_value, 16)),
        "b64Std": base64.standard_b64encode(raw).decode(),
        "b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "id": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


# --- stack references ------------------------------------------------------------------------

# The outputs of other stacks, by the name a program's StackReference gives
# ("organization/ecs-platform/dev"). A test sets them, e.g. to what a harness run of the
# referenced stack exported, and builds a stack of its own on them.
STACK_OUTPUTS: dict[str, dict[str, Any]] = {}


@outputs("pulumi:pulumi:StackReference")
def _stack_reference(name: str, inputs: dict, mocks: AwsMocks) -> dict[str, Any]:
    """What the engine reads for a StackReference: the referenced stack's outputs, none of them secret."""
    stack = inputs["name"]
    if stack not in STACK_OUTPUTS:
        raise NotImplementedError(
            f"the mock knows no stack {stack}; set offline.harness.mock_aws.STACK_OUTPUTS[{stack!r}]"
        )
    return {"outputs": STACK_OUTPUTS[stack], "secretOutputNames": []}

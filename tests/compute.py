"""Shared pieces of the compute tests: a config with several services, and graph readers."""

import json

from policies.guardrails.types import (
    ROLE_POLICY,
    TASK_DEFINITION,
)

SERVICE = "ecs-platform:service:Service"
KMS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b6b2b5e-6f4e-4a43-9d3a-1f2e3d4c5b6a"

SEVERAL = [
    # Narrower than the catch-all, so its rule comes first (priority 10) wherever it is listed.
    {"name": "admin", "public": True, "image": "public.ecr.aws/nginx/nginx:1.27-alpine", "port": 80,
     "routing": {"paths": ["/admin/*"]}},
    {"name": "web", "public": True, "image": "public.ecr.aws/nginx/nginx:1.27-alpine", "port": 80},
    {"name": "api", "public": True, "repository": {"tag": "v1", "immutableTags": False, "keepImages": 5},
     "cpu": 1024, "memory": 2048, "architecture": "arm64", "port": 3000,
     "routing": {"hosts": ["api.example.com"], "paths": ["/v1/*"], "priority": 5},
     "autoscaling": {"minTasks": 2, "maxTasks": 10, "requestsPerTarget": 800}},
    {"name": "worker", "repository": {"tag": "v1"}, "port": 9000, "allowFrom": ["api"], "ecsExec": True,
     "secrets": {"QUEUE_TOKEN": "arn:aws:ssm:eu-west-1:123456789012:parameter/shared/queue-token",
                 "DB_PASSWORD": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::"},
     "secretsKmsKeys": [KMS_KEY_ARN],
     "permissions": [{"actions": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                      "resources": ["arn:aws:sqs:eu-west-1:123456789012:jobs"]},
                     {"actions": ["cloudwatch:PutMetricData"], "resources": ["*"]}],
     "autoscaling": {"minTasks": 1, "maxTasks": 3, "cpuTarget": 70}},
    {"name": "cache", "image": "public.ecr.aws/docker/library/redis:7", "port": 6379, "allowFrom": ["api", "worker"]},
]  # fmt: skip


def several(config):
    config["ecs-platform:services"] = json.loads(json.dumps(SEVERAL))


def component(graph, name):
    return graph.one(SERVICE, name)


def owned(graph, service_name, type_):
    """Resources of `type_` somewhere below the Service component `service_name`."""
    root = component(graph, service_name).urn
    found = []
    for res in graph.of_type(type_):
        parent = res.parent
        while parent and parent != root:
            parent = graph.get(parent).parent if any(r.urn == parent for r in graph.resources) else ""
        if parent == root:
            found.append(res)
    return found


def one_owned(graph, service_name, type_):
    found = owned(graph, service_name, type_)
    assert len(found) == 1, f"{service_name}: {len(found)} {type_}"
    return found[0]


def container(graph, service_name):
    definitions = json.loads(one_owned(graph, service_name, TASK_DEFINITION).inputs["containerDefinitions"])
    assert len(definitions) == 1
    return definitions[0]


def statements(document: str) -> list[dict]:
    return json.loads(document)["Statement"]


def role_statements(graph, role) -> list[dict]:
    return [
        s for p in graph.of_type(ROLE_POLICY) if p.inputs["role"] == role.id for s in statements(p.inputs["policy"])
    ]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]

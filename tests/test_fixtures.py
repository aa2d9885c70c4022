"""The fixture environments are what the tests take them for.

`full` is the environment with every option on: every key the stack file's JSON Schema knows
(generated from the config models) is set in it somewhere, so a key added to the models without
a value in `full` fails here, and the tests that run on `full` (the CI roles, the pack, the
schema, the offline plan) see it. The fixtures are valid stack files, and their pack configs are
configs the pack accepts.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURE_NAMES, FIXTURES, FULL, fixture_config, pack_config

from components.config import reference
from offline.policycheck import new_analyzer, reconcile

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / reference.SCHEMA).read_text())

# Keys `full` cannot set, each with the reason and where it is tested instead.
NOT_IN_FULL = {
    # One certificate: requested by domain name (with alternative names) or an existing ARN.
    "ecs-platform:cluster.loadBalancer.certificate.arn": "test_cluster.py, with_config(certificate.arn)",
    # A created file system's own key replaces it (its creation token refuses), so full keeps the default.
    "ecs-platform:services[].volumes[].efs.customerManagedKey": "test_service_storage.py, with_config",
    # Only with natGateways: instance, which `full` (NAT gateways per AZ) does not use.
    "ecs-platform:network.natInstanceType": "test_nat_instance.py, on the natinstance fixture",
    "ecs-platform:network.natInstanceAmi": "test_instance_images.py, on the natinstance fixture",
}


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _alternatives(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if node.get("$ref") == "#/definitions/Secure":
        return  # `{secure: ...}`, the encrypted form of any text value, not a key of its own
    node = _resolve(node)
    for key in ("anyOf", "allOf", "oneOf"):
        for option in node.get(key, []):
            yield from _alternatives(option)
    if not any(key in node for key in ("anyOf", "allOf", "oneOf")):
        yield node


def schema_keys(node: dict[str, Any], path: str = "") -> set[str]:
    """Every key path the schema allows below `node` (list items as `[]`)."""
    keys = set()
    for option in _alternatives(node):
        if option.get("type") == "object" and "properties" in option:
            for name, child in option["properties"].items():
                child_path = f"{path}.{name}" if path else name
                keys.add(child_path)
                keys |= schema_keys(child, child_path)
        if option.get("type") == "array" and isinstance(option.get("items"), dict):
            keys |= schema_keys(option["items"], f"{path}[]")
    return keys


def set_keys(value: Any, path: str = "") -> set[str]:
    """Every key path a config value sets (list items as `[]`)."""
    keys = set()
    if isinstance(value, dict):
        for name, child in value.items():
            child_path = f"{path}.{name}" if path else name
            keys.add(child_path)
            keys |= set_keys(child, child_path)
    elif isinstance(value, list):
        for item in value:
            keys |= set_keys(item, f"{path}[]")
    return keys


def test_full_sets_every_key_of_the_stack_file():
    known = schema_keys(SCHEMA["properties"]["config"])
    assert "ecs-platform:services[].pipeline.source.s3.key" in known  # the walk reaches the deepest keys
    missing = known - set_keys(fixture_config(FULL)) - NOT_IN_FULL.keys()
    assert missing == set(), f"set these in tests/fixtures/Pulumi.{FULL}.yaml: {sorted(missing)}"


def test_full_has_the_features_the_tests_read_it_for():
    services = {s["name"]: s for s in fixture_config(FULL)["ecs-platform:services"]}
    public = [s for s in services.values() if s.get("public")]
    assert len(public) >= 2 and all("routing" in s for s in public if s["name"] != "web")
    clients = [s.get("database") for s in services.values() if s.get("database")]
    assert True in clients and {"iamAuth": True, "user": "api_service"} in clients
    sources = {kind for s in services.values() if "pipeline" in s for kind in s["pipeline"]["source"]}
    assert sources == {"github", "s3"}
    references = [ref for s in services.values() for ref in s.get("secrets", {}).values()]
    assert any(ref.startswith("/") for ref in references)  # an SSM parameter name
    assert any(ref.startswith("arn:aws:ssm:") for ref in references)
    assert any(ref.startswith("arn:aws:secretsmanager:") and ref.count(":") == 6 for ref in references)
    assert any(ref.startswith("arn:aws:secretsmanager:") and ref.count(":") == 9 for ref in references)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_each_fixture_has_a_pack_config_the_pack_accepts(name):
    assert (FIXTURES / "policies" / f"config.{name}.json").is_file()
    reconcile(new_analyzer().GetAnalyzerInfo(None, None), pack_config(name))

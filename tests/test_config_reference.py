"""The config documents itself: every key is described, and the reference and the JSON Schema are the models'."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from helpers import FIXTURE_NAMES, FIXTURES, with_config

from components.config import StackConfig, reference

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((ROOT / reference.SCHEMA).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def stack_file(name: str) -> dict:
    """A fixture environment's whole stack file (the schema covers the file, not only its config)."""
    return yaml.safe_load((FIXTURES / f"Pulumi.{name}.yaml").read_text())


def problems(validator, document) -> list[tuple[str, str]]:
    return [("/".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(document)]


def test_the_generated_files_are_up_to_date():
    for path, text in reference.render().items():
        assert (ROOT / path).read_text() == text, f"{path} is stale: run python3 tasks.py docs"


def test_tasks_docs_writes_both_files(tmp_path):
    import tasks

    assert tasks.TASKS["docs"] is tasks.docs
    result = subprocess.run(
        [sys.executable, "-m", "components.config.reference", str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for path in (reference.REFERENCE, reference.SCHEMA):
        assert (tmp_path / path).read_text() == (ROOT / path).read_text()


def test_every_key_and_section_is_described():
    for name, model in reference._MODELS.items():
        assert (model.__doc__ or "").strip(), f"{name} has no docstring"
        for field, info in model.model_fields.items():
            assert info.description and len(info.description) > 10, f"{name}.{field} has no description"


def test_the_reference_names_every_key_with_its_default():
    text = (ROOT / reference.REFERENCE).read_text()
    for key in ("`aws:region`", "`ecs-platform:network`", "`ecs-platform:services`", "`ecs-platform:monitoring`"):
        assert f"## {key}" in text
    assert "| `flowLogs.retentionDays` | one of `1`, `3`, " in text
    assert "| `azCount` | integer, 2 to 3 | `2` |" in text
    assert "| `target5xxPerMinute` | integer, at least 1 | `5` |" in text
    assert "| `database` | boolean or object | `false` |" in text
    assert "| `memory` | integer | the smallest for `cpu` |" in text
    assert "### `services[].pipeline`" in text and "| `source.github.branch` | text | `main` |" in text


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_schema_accepts_the_fixture_stack_files(validator, name):
    """The repository's own stack files get the same check in test_stack_files.py."""
    assert problems(validator, stack_file(name)) == []


def test_the_schema_rejects_what_the_program_rejects(validator):
    unknown = stack_file("small")
    unknown["config"]["ecs-platform:netwrok"] = {"cidr": "10.0.0.0/16"}
    assert problems(validator, unknown) == [
        ("config", "'ecs-platform:netwrok' does not match any of the regexes: '^(?!ecs-platform:)[^:]+:'")
    ]
    typo = stack_file("small")
    typo["config"]["ecs-platform:network"]["natGateway"] = "single"
    typo["config"]["ecs-platform:services"][0]["helthCheck"] = {"path": "/"}
    assert problems(validator, typo) == [
        ("config/ecs-platform:network", "Additional properties are not allowed ('natGateway' was unexpected)"),
        ("config/ecs-platform:services/0", "Additional properties are not allowed ('helthCheck' was unexpected)"),
    ]
    wrong = stack_file("small")
    wrong["config"]["aws:region"] = "Ireland"
    wrong["config"]["ecs-platform:network"]["azCount"] = 4
    wrong["config"]["ecs-platform:services"][0]["cpu"] = 300
    found = dict(problems(validator, wrong))
    assert set(found) == {
        "config/aws:region",
        "config/ecs-platform:network/azCount",
        "config/ecs-platform:services/0/cpu",
    }
    assert found["config/ecs-platform:network/azCount"] == "4 is greater than the maximum of 3"


def test_the_schema_leaves_pulumi_and_other_namespaces_alone_and_takes_secrets_and_numbers_as_text(validator):
    document = stack_file("prodlike")
    document.update(
        secretsprovider="awskms://alias/ecs-platform-prod-pulumi?region=eu-west-1",
        encryptedkey="AQICAHg...",
        environment=["ecs-platform/prod"],
    )
    config = document["config"]
    config["aws:profile"] = "prodlike"
    config["pulumi:tags"] = {"team": "platform"}
    config["ecs-platform:services"][1]["secrets"]["STRIPE_KEY"] = {"secure": "v1:abc:def"}
    config["ecs-platform:services"][0]["repository"]["tag"] = 2
    assert problems(validator, document) == []
    document["config"]["ecs-platform:services"][0]["repository"]["tag"] = {"secure": "v1:abc", "extra": 1}
    document["conifg"] = {}
    # The tag's alternatives (text, number, secret) are tried under the optional repository.
    assert {path for path, _ in problems(validator, document)} == {"", "config/ecs-platform:services/0/repository"}


def _apply(example: str, config: dict) -> None:
    """Puts a reference example into a stack config: sections replace, services replace or join by name."""
    values = yaml.safe_load(example)
    values = values.get("config", values)
    for key, value in values.items():
        if key == "ecs-platform:services":
            services = config.setdefault(key, [])
            for entry in value:
                names = [s["name"] for s in services]
                if entry["name"] in names:
                    services[names.index(entry["name"])] = entry
                else:
                    services.append(entry)
        else:
            config[key] = value


EXAMPLES = [(name, title, text) for name, model in reference._MODELS.items() for title, text in model.examples]


@pytest.mark.parametrize(("model", "title", "text"), EXAMPLES, ids=[f"{m}: {t}" for m, t, _ in EXAMPLES])
def test_every_example_in_the_reference_is_a_valid_stack_config(model, title, text):
    assert text in (ROOT / reference.REFERENCE).read_text()
    graph = with_config("small", lambda config: _apply(text, config))
    assert graph.error is None, graph.error


def test_the_models_examples_cover_every_section_with_a_use_case():
    assert {name for name, _, _ in EXAMPLES} >= {"NetworkConfig", "DatabaseConfig", "ServiceConfig", "PipelineConfig"}


def test_editors_map_the_schema_to_the_stack_files():
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text())
    ((path, globs),) = settings["yaml.schemas"].items()
    assert (ROOT / path).resolve() == (ROOT / reference.SCHEMA).resolve()
    assert globs == ["Pulumi.*.yaml"]
    assert "yaml.schemas" in (ROOT / reference.REFERENCE).read_text()


def test_the_schema_and_the_program_agree_on_the_keys_of_every_section():
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"] == reference.PROJECT
    schema = reference.model_schema()
    for key, field in reference.SECTIONS:
        assert field in StackConfig.model_fields, key
    definitions = schema["definitions"]
    for name, model in reference._MODELS.items():
        if model is StackConfig:
            continue  # the root: its keys are the stack file's config keys
        aliases = {info.alias for info in model.model_fields.values()}
        assert set(definitions[name]["properties"]) == aliases, name
        assert definitions[name]["additionalProperties"] is False, name


def test_the_reference_does_not_change_the_config_models():
    before = copy.deepcopy(StackConfig.model_json_schema(by_alias=True))
    reference.render()
    assert StackConfig.model_json_schema(by_alias=True) == before

"""The config reference and the stack file's JSON Schema, generated from the config models.

    python3 tasks.py docs      (venv/bin/python -m components.config.reference)

writes docs/config-reference.md and schema/stack-config.schema.json (`components.config.schema`).
Both come from `StackConfig.model_json_schema()`: every key's type, range, enum, default and description is the
model's, so the reference cannot drift from what `load()` accepts (a test regenerates both and
compares). Descriptions and section texts are markdown; links in them are relative to docs/.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

from components.config.base import Model
from components.config.schema import PROJECT, SECTIONS, model_schema, stack_file_schema
from components.config.stack import StackConfig

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("docs/config-reference.md")
SCHEMA = Path("schema/stack-config.schema.json")
_PLACEHOLDER_ERROR = (
    f'error: {PROJECT}:cluster.loadBalancer.hostedZone.name: "example.com" is a reserved example domain '
    "(RFC 2606/6761); replace it with your own before deploying"
)

INTRO = f"""\
# Config reference

Generated from the config models (`components/config/`) by `python3 tasks.py docs`; do not edit
it by hand, edit the model's `Field(description=...)` or docstring instead. The same models give
the JSON Schema of the whole stack file, [`schema/stack-config.schema.json`](../schema/stack-config.schema.json).

Config lives in `Pulumi.<stack>.yaml`. Keys are camelCase; an unknown key, a wrong type or
an out-of-range value stops the program before anything is created, with one line per
problem naming the key, for example:

```
error: {PROJECT}:network.azCount: must be less than or equal to 3 (got 4)
```

A number is accepted where a key expects text and becomes that text: `pulumi config set --path
'{PROJECT}:services[0].repository.tag' 2` stores the number 2, which is read as the tag `"2"`
(quote a value whose leading zeros matter). A rule that relates two keys (a timeout shorter than
its interval, a ceiling above a size) waits until both keys are valid on their own, so each line
is a problem of its own.

Example values never reach a real deployment: a real `pulumi up` refuses to run while the stack
config holds a reserved example domain (`example.com`, `example.net`, `example.org` and their
subdomains, names under `.example`, `.test`, `.invalid`, `.localhost`; RFC 2606, RFC 6761) or a
documentation account id (`123456789012`, `111122223333`, `444455556666`), one line per key to
replace:

```
{_PLACEHOLDER_ERROR}
```

`pulumi preview` (and `python3 tasks.py plan`) reports the same lines as warnings, so a pull
request shows them without failing. The check (`components/config/placeholders.py`) runs in
`config.load()` after the config is valid and before any resource is registered; a real update
is told from a preview by `pulumi.runtime.is_dry_run()`. The offline harness imitates one with
`evaluate(stack, update=True)` (its plain evaluations are test runs, which only warn). Values of
`pipeline.dockerfile`, `pipeline.buildContext` and `pipeline.source.s3.key` are paths in the
source, not domains, and are not checked for domains.

## Editor support

[`schema/stack-config.schema.json`](../schema/stack-config.schema.json) describes the whole
`Pulumi.<stack>.yaml`: the `{PROJECT}:*` keys with every type, range, enum and description
below, unknown `{PROJECT}:` keys and unknown keys inside a section rejected as the program
rejects them, `aws:region`'s format, and `{{secure: ...}}` values wherever text is expected; other
namespaces' keys and Pulumi's own top-level keys (`secretsprovider`, `encryptedkey`,
`encryptionsalt`, `environment`) are left to Pulumi. The repository's `.vscode/settings.json`
maps it to the stack files for the YAML extension (`redhat.vscode-yaml`), which then completes
keys, shows these descriptions on hover and underlines mistakes as you type:

```json
{{"yaml.schemas": {{"./schema/stack-config.schema.json": ["Pulumi.*.yaml"]}}}}
```

Other editors built on the YAML language server take the same mapping, or a first line
`# yaml-language-server: $schema=schema/stack-config.schema.json` in the stack file.
The schema checks each key on its own; the rules across keys and sections (a service's
`allowFrom`, routes that collide, endpoints a service needs) are the program's, as `python3
tasks.py plan` shows.
"""


def reference_markdown() -> str:
    raw = model_schema()
    definitions = raw["definitions"]
    parts = [INTRO, "## Sections\n"]
    parts += [f"- [`{key}`](#{_slug(key)})" for key, _ in SECTIONS] + [""]
    for key, field in SECTIONS:
        parts.append(_section(key, field, raw, definitions))
    return "\n".join(parts).rstrip() + "\n"


def _section(key: str, field: str, raw: dict[str, Any], definitions: dict[str, Any]) -> str:
    prop = raw["properties"][field]
    required = field in raw["required"]
    target = _resolve(prop, definitions)
    is_list = target.get("type") == "array"
    model = _resolve(target["items"], definitions) if is_list else target
    kind = "required" if required else "optional"
    lines = [f"## `{key}`", "", f"*{kind}{', a list' if is_list else ''}*", ""]
    if "properties" not in model:
        lines += [prop["description"], "", _table([(key, prop, required, definitions)]), ""]
        return "\n".join(lines)
    lines += [_model_text(model), ""]
    if is_list:
        lines += ["Each entry:", ""]
    rows, notes, subsections = _rows(model, "", definitions, f"{key.split(':')[1]}{'[]' if is_list else ''}")
    lines += [_table(rows), ""]
    for path, text in notes:
        lines += [f"**`{path}`**: {text}", ""]
    lines += _examples(model)
    for title, sub_model, sub_rows, sub_notes in subsections:
        lines += [f"### `{title}`", "", _model_text(sub_model), "", _table(sub_rows), ""]
        for path, text in sub_notes:
            lines += [f"**`{path}`**: {text}", ""]
        lines += _examples(sub_model, level="####")
    return "\n".join(lines)


def _rows(model: dict[str, Any], prefix: str, definitions: dict[str, Any], where: str):
    """Table rows of every key under `model` (nested sections flattened), notes, and subsections."""
    rows, notes, subsections = [], [], []
    required = set(model.get("required", ()))
    for name, prop in model["properties"].items():
        path = f"{prefix}{name}"
        rows.append((path, prop, name in required, definitions))
        nested, is_list = _nested_model(prop, definitions)
        if nested is None:
            continue
        child = f"{path}[]." if is_list else f"{path}."
        if _model_class(nested).examples:
            # A section of its own (with its examples), like a service's pipeline.
            sub_rows, sub_notes, _ = _rows(nested, "", definitions, f"{where}.{path}")
            subsections.append((f"{where}.{path}", nested, sub_rows, sub_notes))
            continue
        more = _paragraphs(nested.get("description", ""))[1:]
        if more:
            notes.append((path, " ".join(more)))
        sub_rows, sub_notes, sub_sections = _rows(nested, child, definitions, where)
        rows += sub_rows
        notes += sub_notes
        subsections += sub_sections
    return rows, notes, subsections


def _table(rows) -> str:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for path, prop, required, definitions in rows:
        description = prop.get("description") or _resolve(prop, definitions).get("description", "")
        description = _paragraphs(description)[0] if "description" not in prop else description
        cells = [f"`{path}`", _type(prop, definitions), _default(prop, required), description]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _type(prop: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "object"
    if "anyOf" in prop:
        kinds = [_type(p, definitions) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(dict.fromkeys(kinds))
    if "enum" in prop:
        values = [f"`{v}`" for v in prop["enum"]]
        return "one of " + ", ".join(values)
    kind = prop.get("type")
    if kind == "array":
        text = f"list of {_type(prop['items'], definitions)}"
        return text + _bounds(prop.get("minItems"), prop.get("maxItems"), "entries")
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"map of {_type(values, definitions)}" if isinstance(values, dict) else "object"
    if kind == "integer":
        return "integer" + _bounds(prop.get("minimum"), prop.get("maximum"))
    if kind == "string":
        return {"ipv4network": "IPv4 CIDR"}.get(prop.get("format"), "text")
    return kind or "any"


def _bounds(low: Any, high: Any, unit: str = "") -> str:
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f", {low} to {high}{unit}"
    if low is not None:
        return f", at least {low}{unit}"
    if high is not None:
        return f", at most {high}{unit}"
    return ""


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "defaultText" in prop:
        return prop["defaultText"]
    if "default" not in prop:
        return ""
    value = prop["default"]
    if value is None:
        return "none"
    if isinstance(value, dict) and value:
        return "each key's default"
    return f"`{_yaml(value)}`"


def _yaml(value: Any) -> str:
    """A value as YAML flow style writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value) if value.isdigit() or value == "" else value
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _examples(model: dict[str, Any], level: str = "###") -> list[str]:
    lines = []
    for title, text in _model_class(model).examples:
        lines += [f"{level} Example: {title}", "", "```yaml", text.rstrip(), "```", ""]
    return lines


def _model_text(model: dict[str, Any]) -> str:
    return "\n\n".join(_paragraphs(model.get("description", "")))


def _paragraphs(text: str) -> list[str]:
    """Markdown paragraphs of a docstring; a fenced block or a list stays as written."""
    blocks = [b.strip("\n") for b in inspect.cleandoc(text).split("\n\n")] if text else [""]
    return [b if b.startswith(("```", "- ")) else " ".join(b.split()) for b in blocks]


def _resolve(prop: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return definitions[prop["$ref"].rsplit("/", 1)[1]]
    options = [p for p in prop.get("anyOf", ()) if "$ref" in p]
    return definitions[options[0]["$ref"].rsplit("/", 1)[1]] if options else prop


def _nested_model(prop: dict[str, Any], definitions: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The section model under a key (`X`, `X | None`, `list[X]`), and whether it is a list of them."""
    if prop.get("type") == "array":
        return (_resolve(prop["items"], definitions), True) if "$ref" in prop["items"] else (None, False)
    target = _resolve(prop, definitions)
    return (target, False) if "properties" in target else (None, False)


def _model_class(model: dict[str, Any]) -> type[Model]:
    """The config model whose schema `model` is (pydantic titles a model's schema with the class name)."""
    return _MODELS[model["title"]]


def _all_models(model: type[Model]) -> dict[str, type[Model]]:
    found = {model.__name__: model}
    for field in model.model_fields.values():
        for inner in _inner_models(field.annotation):
            found.update(_all_models(inner))
    return found


def _inner_models(annotation: Any) -> list[type[Model]]:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _inner_models(arg)]


_MODELS = _all_models(StackConfig)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but - and _ dropped, spaces as -."""
    text = "".join(c for c in heading.lower() if c.isalnum() or c in "-_ ")
    return text.replace(" ", "-")


def render() -> dict[Path, str]:
    """Each generated file (relative to the repository root) and its content."""
    schema = json.dumps(stack_file_schema(), indent=2, ensure_ascii=False) + "\n"
    return {REFERENCE: reference_markdown(), SCHEMA: schema}


def main(root: Path = ROOT) -> None:
    for path, text in render().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        changed = not target.exists() or target.read_text() != text
        target.write_text(text)
        print(f"{'wrote' if changed else 'unchanged'} {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)

"""What every config section shares: the model base, common types and the error helpers."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

# Retention periods CloudWatch Logs accepts. "Never expire" (0) is left out on purpose:
# logs without retention grow forever and are a finding in every audit.
RetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]

# A DNS name of two or more labels, lower case (hosted zones, certificates, hosts, namespaces).
DNS_NAME = r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"

# An EC2 image id: `ami-` and 8 (older images) or 17 hexadecimal digits.
AMI_ID = re.compile(r"ami-[0-9a-f]{8,17}")


def _ami_id(value: str) -> str:
    if not AMI_ID.fullmatch(value):
        raise ValueError("must be an AMI id such as ami-0123456789abcdef0")
    return value


AmiId = Annotated[str, AfterValidator(_ami_id), WithJsonSchema({"type": "string", "pattern": f"^{AMI_ID.pattern}$"})]

# A problem found by a check across keys: (key path, what is wrong, the offending value).
Problem = tuple[tuple, str, Any]


class Model(BaseModel):
    """Base of every config section: camelCase keys, unknown keys rejected, immutable.

    A number is accepted where text is expected and becomes that text: `pulumi config set
    --path 'services[0].repository.tag' 2` writes the number 2, not the string "2".

    `examples` are YAML snippets of a stack file (title, text) that the generated reference
    shows under the section; the test suite evaluates each of them.
    """

    # defer_build: a section's validator is built when first used. The stack's validator holds every
    # section's schema, so each section's own validator, built on import, went unused when a stack loads.
    model_config = ConfigDict(
        alias_generator=to_camel, extra="forbid", frozen=True, coerce_numbers_to_str=True, defer_build=True
    )

    examples: ClassVar[tuple[tuple[str, str], ...]] = ()


def fail(problems: list[Problem], title: str = "config") -> None:
    """Raises one validation error holding every problem, each on its own key path; nothing when there is none.

    Rules across keys run once every key of their model is valid (a model validator), so a
    problem here is never a consequence of another key's error. Collecting them all keeps one
    line per problem, as the field checks give.
    """
    if problems:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
                for loc, message, value in problems
            ],
        )


def field_error(field: str, message: str, value: Any) -> ValidationError:
    """A model-level check's error on one of the model's own keys, so the message names that key."""
    return ValidationError.from_exception_data(
        "config", [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(field,), input=value)]
    )


def given(model: BaseModel, field: str) -> Any:
    """The value of `field` the way the stack config wrote it, for an error message's "(got ...)".

    A section the user wrote shows only the keys they set (as a field check shows its raw
    input); a default shows in full, since nothing was written.
    """
    value = getattr(model, field)
    if field not in model.model_fields_set:
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_unset=True, mode="json")
    if isinstance(value, list) and any(isinstance(v, BaseModel) for v in value):
        return [v.model_dump(by_alias=True, exclude_unset=True, mode="json") for v in value]
    return value

"""`policies:` of guardrail.yaml: the Rego policies to run, and how long they may take.

Two forms, the short one kept from the first versions:

    policies: [policies/]                       # paths only; the time limit is the default
    policies: {paths: [policies/], timeout: 10s}

A policy that loops over a large range must not hold the gate (or a pipeline) for ever: past `timeout`
the evaluation is stopped and the check ends with exit 3, naming the policies that were running.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guardrail.core.errors import BadInputError
from guardrail.core.locks import parse_duration

DEFAULT_POLICY_TIMEOUT = timedelta(seconds=30)


class PoliciesConfig(BaseModel):
    """Rego policy files or folders (conftest-style), relative to guardrail.yaml, and their time limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    paths: list[str] = Field(default_factory=list, description="Rego policy files or folders.")
    timeout: timedelta = Field(
        DEFAULT_POLICY_TIMEOUT,
        description="Longest a policy evaluation may run, e.g. 30s or 2m (a number is seconds); past it, exit 3.",
    )

    @model_validator(mode="before")
    @classmethod
    def _a_list_is_the_paths(cls, value: Any) -> Any:
        # `policies: [a, b]`, the original form, means the paths with the default time limit.
        return {"paths": value} if isinstance(value, list) else value

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected a duration such as 30s or 2m")
        if isinstance(value, int | float):
            return timedelta(seconds=value)
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except BadInputError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta():
            raise ValueError("must be longer than zero")
        return value

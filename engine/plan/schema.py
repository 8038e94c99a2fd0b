"""The plan: what the user edits and saves (the GUI and the CLI share this schema).

A plan is checked against :mod:`engine.limits` when it is built, whatever
built it (a file, CLI flags, an import, a GUI edit): the field bounds of the
model and the layout, and :func:`engine.limits.check_plan_limits` for the workload settings and
the size of the model as a whole.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import PlanError
from engine.finetune.config import FinetuneConfig
from engine.limits import MAX_CARDS, MAX_NAME_CHARS, MAX_PLAN_BYTES, check_plan_limits
from engine.model.params import parameter_count
from engine.model.spec import ModelSpec
from engine.plan import files
from engine.plan.files import atomic_write_text  # noqa: F401  (re-exported: callers import it from here)
from engine.plan.layout import Layout
from engine.serving.config import ServingConfig
from engine.training.config import MethodConfig, TrainingConfig

PLAN_VERSION = 1
Mode = Literal["training", "serving", "finetune"]


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(PLAN_VERSION, ge=1, le=PLAN_VERSION, description="plan file format version")
    name: str = Field("untitled", max_length=MAX_NAME_CHARS)
    mode: Mode = "training"
    model: ModelSpec
    training: TrainingConfig = TrainingConfig()
    method: MethodConfig = MethodConfig()
    layout: Layout
    serving: ServingConfig | None = None
    finetune: FinetuneConfig | None = None

    @model_validator(mode="after")
    def _check_limits(self) -> Plan:
        check_plan_limits(self, parameter_count(self.model))
        return self


def with_changes(plan: Plan, **changes: object) -> Plan:
    """``plan`` with some fields replaced, checked like a new plan (``model_copy`` checks nothing)."""
    try:
        return Plan.model_validate({**dict(plan), **changes})
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


def plan_from_json(text: str, source: str = "plan") -> Plan:
    """Parse a saved plan; schema problems become a PlanError naming the field."""
    data = files.parse_json(text, source, max_items=MAX_CARDS)
    if isinstance(data, dict) and "version" in data:
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise PlanError("version", version, f"a plan format version from 1 to {PLAN_VERSION} (an integer)")
        if version > PLAN_VERSION:
            raise PlanError("version", version, f"a plan version <= {PLAN_VERSION}; update vramplan")
    if not isinstance(data, dict):
        raise PlanError(source, type(data).__name__, "a JSON object (a vramplan plan)")
    try:
        return Plan.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


_BOUND_TEXT = {
    "greater_than": "more than {gt}",
    "greater_than_equal": "at least {ge}",
    "less_than": "less than {lt}",
    "less_than_equal": "at most {le}",
    "too_long": "at most {max_length} items or characters",
    "too_short": "at least {min_length} items or characters",
    "string_too_long": "a text of at most {max_length} characters",
    "finite_number": "a finite number",
}


def _allowed_text(error: dict) -> str:
    ctx = error.get("ctx") or {}
    template = _BOUND_TEXT.get(error["type"])
    if template is not None:
        try:
            return template.format(**{k: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v
                                      for k, v in ctx.items()})
        except (KeyError, ValueError):
            pass
    message = error["msg"].removeprefix("Value error, ")
    return message.removeprefix("Input should be ").removeprefix("input should be ")


def plan_error_from_validation(e: ValidationError, prefix: str = "") -> PlanError:
    """The first pydantic error as a PlanError (field path, value, what is allowed)."""
    first = e.errors(include_url=False)[0]
    ctx_error = (first.get("ctx") or {}).get("error")
    if isinstance(ctx_error, PlanError):
        return ctx_error
    path = ".".join(str(p) for p in first["loc"])
    field = ".".join(x for x in (prefix, path) if x) or "plan"
    if first["type"] == "missing":
        return PlanError(field, None, "a value (the field is required)")
    if first["type"] == "extra_forbidden":
        return PlanError(field, first.get("input"), "no such field (remove it)")
    return PlanError(field, first.get("input"), _allowed_text(dict(first)))


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """A plan file: a regular file of at most MAX_PLAN_BYTES, UTF-8 JSON, valid against the schema."""
    text = files.read_text(path, "plan", MAX_PLAN_BYTES)
    return plan_from_json(text, source=str(path))


def plan_to_json(plan: Plan) -> str:
    return plan.model_dump_json(indent=2) + "\n"


def save_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    files.atomic_write_text(path, plan_to_json(plan), field="plan")

"""The plan: what the user edits and saves (the GUI and the CLI share this schema)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import PlanError
from engine.finetune.config import FinetuneConfig
from engine.model.spec import ModelSpec
from engine.plan.layout import Layout
from engine.serving.config import ServingConfig
from engine.training.config import MethodConfig, TrainingConfig

PLAN_VERSION = 1
Mode = Literal["training", "serving", "finetune"]


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(PLAN_VERSION, description="plan file format version")
    name: str = "untitled"
    mode: Mode = "training"
    model: ModelSpec
    training: TrainingConfig = TrainingConfig()
    method: MethodConfig = MethodConfig()
    layout: Layout
    serving: ServingConfig | None = None
    finetune: FinetuneConfig | None = None


def plan_from_json(text: str, source: str = "plan") -> Plan:
    """Parse a saved plan; schema problems become a PlanError naming the field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PlanError(source, f"line {e.lineno} column {e.colno}", "valid JSON") from None
    if isinstance(data, dict) and data.get("version", PLAN_VERSION) > PLAN_VERSION:
        raise PlanError("version", data["version"], f"a plan version <= {PLAN_VERSION}; update vramplan")
    try:
        return Plan.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


def plan_error_from_validation(e: ValidationError, prefix: str = "") -> PlanError:
    """The first pydantic error as a PlanError (field path, value, what is allowed)."""
    first = e.errors(include_url=False)[0]
    ctx_error = (first.get("ctx") or {}).get("error")
    if isinstance(ctx_error, PlanError):
        return ctx_error
    path = ".".join(str(p) for p in first["loc"])
    field = ".".join(x for x in (prefix, path) if x) or "plan"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        return PlanError(field, None, "a value (the field is required)")
    if first["type"] == "extra_forbidden":
        return PlanError(field, first.get("input"), "no such field (remove it)")
    return PlanError(field, first.get("input"), message.removeprefix("Input should be ").removeprefix("input should be "))


def load_plan(path: str | os.PathLike[str]) -> Plan:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError("plan", str(p), "an existing plan file") from None
    except OSError as e:
        raise PlanError("plan", str(p), f"a readable file ({e.strerror})") from None
    return plan_from_json(text, source=str(p))


def plan_to_json(plan: Plan) -> str:
    return plan.model_dump_json(indent=2) + "\n"


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write to a temp file in the same folder, fsync, then os.replace: never half-written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    atomic_write_text(path, plan_to_json(plan))

"""A validation case: one published observation of a real run, and the vramplan call that reproduces it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import PlanError
from engine.resources import resource_path

Category = Literal["training", "finetune", "vllm", "llamacpp", "verdict"]
Metric = Literal[
    "weights_bytes_per_card", "kv_pool_tokens", "kv_pool_bytes", "max_concurrency", "kv_cache_bytes", "compute_buffer_bytes",
    "weights_buffer_bytes", "model_file_bytes", "peak_allocated_bytes", "peak_reserved_bytes",
    "device_used_bytes", "profile_peak_bytes", "verdict",
]
UNIT_BYTES = {"bytes": 1, "MB": 10**6, "MiB": 2**20, "GB": 10**9, "GiB": 2**30}
DEFAULT_TOLERANCE_PERCENT = 10.0
PEAK_LOW_LIMIT_PERCENT = 5.0  # an estimate may not be lower than an observed peak by more than this


class Source(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: str
    repo: str | None = None
    number: int | None = None
    url: str | None = None
    path: str | None = None
    title: str | None = None
    table: str | None = None
    where: str | None = None

    def citation(self) -> str:
        if self.repo and self.number:
            return f"{self.repo}#{self.number}"
        if self.repo and self.path:
            return f"{self.repo}:{self.path}"
        return self.url or self.title or self.kind


class Observed(BaseModel):
    model_config = ConfigDict(extra="allow")
    metric: Metric
    value: float | str
    unit: str
    kind: Literal["peak", "steady", "verdict"]
    rank: str | None = None
    card: int | None = Field(None, description="card index to compare (default: the worst card)")
    cards: Literal["one", "sum"] = Field("one", description="sum: the figure is a total over every card")
    kv_layers: Literal["all", "window"] = Field(
        "all", description="kv_cache_bytes of every layer, or only of the sliding-window layers (llama.cpp logs "
        "its iswa cache's window layers on their own line)")
    moments: list[str] | None = Field(
        None, description="peak_allocated_bytes over these moments of the card's step only (their short names in "
        "the JSON timeline, e.g. 'forward', 'loss', 'backward', 'optimizer step'), when the run that was "
        "measured never reached the others; default: the card's peak")
    phase: Literal["step", "before first optimizer step"] = Field(
        "step", description="verdicts: how far the run that was observed got: whole steps (default), or only "
        "iterations before its optimizer's first step (every step skipped by the fp16 loss scale, or the run "
        "stopped first): compared with the report's fits_before_first_optimizer_step")


class VramplanCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: Literal["estimate", "infer", "finetune"]
    args: list[str]


class Case(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    category: Category
    title: str = ""
    source: Source
    quote: str
    settings: dict = {}
    observed: Observed
    vramplan: VramplanCall
    notes: str = ""
    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT
    open_gap: str | None = Field(None, description="why the engine still misses this case (expected to fail)")

    def observed_number(self) -> float:
        """The observation in bytes, tokens or requests (verdicts have none)."""
        if self.observed.metric == "verdict":
            raise PlanError(f"{self.id}.observed.value", self.observed.value, "a number (this case is a verdict)")
        scale = UNIT_BYTES.get(self.observed.unit, 1)
        return float(self.observed.value) * scale


def validation_folder() -> Path:
    return resource_path("validation")


def load_cases(folder: Path | None = None) -> list[Case]:
    folder = folder or validation_folder()
    cases: list[Case] = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise PlanError(str(path), type(e).__name__, "a readable JSON file of validation cases") from None
        for i, raw in enumerate(data.get("cases", [])):
            try:
                cases.append(Case.model_validate(raw))
            except ValidationError as e:
                first = e.errors(include_url=False)[0]
                where = ".".join(str(p) for p in first["loc"])
                raise PlanError(f"{path.name}: cases[{i}].{where}", first.get("input"), first["msg"]) from None
    return cases

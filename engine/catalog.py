"""GPU and model catalogs: data files under ``resources/catalogs`` plus the user's own.

Names are matched case- and punctuation-insensitively (``a100-80gb``,
``A100 80GB`` and ``a10080gb`` are the same key).  User-defined entries live
in the user's config folder (``platformdirs.user_config_dir("vramplan")``)
as shareable JSON files with the same schema and override built-ins.

The user's folder is read item by item: a file that cannot be read (not UTF-8,
not JSON, too large, not a catalog) or an entry that is not valid is skipped
with a warning naming it (logger ``vramplan.catalog``; the CLI prints it as
``vramplan: warning: ...``), so one bad file never stops the app or a command.
"""

from __future__ import annotations

import json
import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import PlanError
from engine.model.spec import ModelSpec
from engine.resources import resource_path

GpuCategory = Literal["consumer", "workstation", "datacenter", "edge", "custom"]
MAX_USER_FILES = 1_024  # files read from each user catalog folder
log = logging.getLogger("vramplan.catalog")


class GpuSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    aliases: tuple[str, ...] = ()
    vendor: str = "NVIDIA"
    category: GpuCategory = "datacenter"
    memory_bytes: int = Field(gt=0, description="memory CUDA reports, in bytes: torch.cuda.get_device_properties().total_memory, "
                                                "the total of cudaMemGetInfo (on current drivers some hundred MiB under nvidia-smi's)")
    nvidia_smi_total_mib: int | None = Field(None, gt=0, description="the total nvidia-smi prints under Memory-Usage, MiB")
    marketed_memory: str = Field("", description="the size on the box, e.g. '80 GB'")
    bf16_tflops: float | None = Field(None, ge=0, description="dense BF16/FP16 tensor TFLOPs")
    fp8_tflops: float | None = Field(None, ge=0, description="dense FP8 TFLOPs")
    int8_tops: float | None = Field(None, ge=0, description="dense INT8 TOPs")
    memory_bandwidth_gbps: float | None = Field(None, ge=0, description="GB/s")
    interconnect: str = ""
    interconnect_gbps: float | None = Field(None, ge=0, description="GPU-to-GPU bandwidth per direction, GB/s")
    pcie_gbps: float | None = Field(None, ge=0)
    tdp_w: float | None = Field(None, ge=0)
    compute_capability: str | None = Field(None, pattern=r"^\d{1,2}\.\d$", description=(
        "CUDA compute capability (NVIDIA's CUDA GPUs table), e.g. '8.0' for A100: decides bf16, FP8 and "
        "int4 kernels"))
    arch: str = Field("", max_length=32, description="sm_80, gfx942 (AMD), apple, qualcomm, ascend ...")
    sm_count: int | None = Field(None, gt=0, strict=True, description=(
        "streaming multiprocessors as CUDA reports them (cudaDeviceProp.multiProcessorCount, "
        "torch.cuda.get_device_properties().multi_processor_count); None for non-NVIDIA parts (AMD compute "
        "units are not SMs) or when unknown"))
    sm_count_source: str = Field("", description="where sm_count comes from, quoted")
    unified_memory: bool = Field(False, description="shares system RAM (Apple M-series, Jetson, phones)")
    price_usd_per_hour: float | None = Field(None, ge=0, description="typical cloud price, for the planner's 'cheapest'")
    source: str = Field(description="where the figures come from")
    capacity_source: str = Field("", description="where memory_bytes and nvidia_smi_total_mib come from, quoted")


class ModelPreset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    aliases: tuple[str, ...] = ()
    family: str = ""
    published_params: int = Field(gt=0, description="parameter count the authors publish")
    source: str
    spec: ModelSpec
    release_quant: str | None = Field(None, description="the weight format the authors release, when not 16-bit "
                                                         "(serving's default for this preset: mxfp4 for gpt-oss)")

    @field_validator("release_quant")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None:
            from engine.weights.quant import find_scheme

            find_scheme(value)  # PlanError naming serving.quant and the formats allowed
        return value


def normalize(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def user_catalog_dir() -> Path:
    override = os.environ.get("VRAMPLAN_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("vramplan", appauthor=False))


def _read_entries(path: Path, key: str) -> list[dict]:
    from engine.limits import MAX_CONFIG_BYTES
    from engine.plan.files import read_json

    data = read_json(path, f"catalog file {path}", MAX_CONFIG_BYTES)  # bounded size, UTF-8, depth, numbers
    entries = data.get(key) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise PlanError(f"catalog file {path}", type(entries).__name__, f'an object with a "{key}" list')
    return entries


def _validated(cls, entry: dict, where: str):
    try:
        return cls.model_validate(entry)
    except ValidationError as e:
        from engine.plan.schema import plan_error_from_validation

        err = plan_error_from_validation(e)
        raise PlanError(f"{where}.{err.field}", err.value, err.allowed) from None


def _files(kind: str, user_root: Path) -> list[tuple[Path, bool]]:
    """(file, is it the user's) for the built-in catalog files, then the user's."""
    builtin = sorted(resource_path("catalogs").glob(f"{kind}*.json"))
    user_dir = user_root / kind
    try:
        user = sorted(user_dir.glob("*.json"))[:MAX_USER_FILES] if user_dir.is_dir() else []
    except OSError as e:
        log.warning("skipped the user catalog folder %s: %s", user_dir, e.strerror or e)
        user = []
    return [(f, False) for f in builtin] + [(f, True) for f in user]


def _entries(f: Path, key: str, user: bool, cls, prepare=lambda e: e) -> list:
    """The valid entries of one catalog file; a bad user file or entry is skipped with a warning."""
    try:
        raw = _read_entries(f, key)
    except PlanError as e:
        if not user:
            raise
        log.warning("skipped user catalog file %s: %s", f, e)
        return []
    out = []
    for i, entry in enumerate(raw):
        try:
            out.append(_validated(cls, prepare(entry), f"{f.name}[{i}]"))
        except PlanError as err:
            if not user:
                raise
            log.warning("skipped entry %d of user catalog file %s: %s", i, f, err)
    return out


def gpu_catalog() -> tuple[GpuSpec, ...]:
    """Built-in GPUs, then the user's (a user entry with the same name replaces the built-in)."""
    return _gpu_catalog(user_catalog_dir())


def model_catalog() -> tuple[ModelPreset, ...]:
    """Built-in model presets, then the user's (same name: the user's wins)."""
    return _model_catalog(user_catalog_dir())


@lru_cache(maxsize=4)  # per user folder: one in the app, many in the tests
def _gpu_catalog(user_dir: Path) -> tuple[GpuSpec, ...]:
    out: dict[str, GpuSpec] = {}
    for f, user in _files("gpus", user_dir):
        for g in _entries(f, "gpus", user, GpuSpec):
            out[normalize(g.name)] = g
    return tuple(out.values())


@lru_cache(maxsize=4)
def _model_catalog(user_dir: Path) -> tuple[ModelPreset, ...]:
    out: dict[str, ModelPreset] = {}
    for f, user in _files("models", user_dir):
        for m in _entries(f, "models", user, ModelPreset, _with_spec_name):
            out[normalize(m.name)] = m
    return tuple(out.values())


def _with_spec_name(entry: dict) -> dict:
    """A preset's spec is named after the preset unless the file names it."""
    spec = entry.get("spec") if isinstance(entry, dict) else None
    if isinstance(spec, dict) and "name" not in spec and "name" in entry:
        return {**entry, "spec": {**spec, "name": entry["name"]}}
    return entry


def reload_catalogs() -> None:
    _gpu_catalog.cache_clear()
    _model_catalog.cache_clear()
    _gpu_index.cache_clear()
    _model_index.cache_clear()


def _index(entries) -> dict[str, object]:
    idx: dict[str, object] = {}
    for e in entries:
        for alias in (e.name, *e.aliases):
            idx.setdefault(normalize(alias), e)
    return idx


@lru_cache(maxsize=4)  # per user folder, as _gpu_catalog: estimates look cards up on every call
def _gpu_index(user_dir: Path) -> dict[str, object]:
    return _index(_gpu_catalog(user_dir))


def lookup_gpu(name: str) -> GpuSpec | None:
    """The catalog entry named ``name`` (or one of its aliases), or None."""
    return _gpu_index(user_catalog_dir()).get(normalize(name))  # type: ignore[return-value]


def find_gpu(name: str) -> GpuSpec:
    key = normalize(name)
    hit = lookup_gpu(name)
    if hit is None:
        close = [g.name for g in gpu_catalog() if key and (key in normalize(g.name) or normalize(g.name) in key)]
        hint = f" (did you mean {', '.join(close[:4])}?)" if close else "; `vramplan catalog gpus` lists them"
        raise PlanError("gpu", name, "a GPU from the catalog or --gpu-memory SIZE" + hint)
    return hit


@lru_cache(maxsize=4)  # per user folder, as _gpu_index: a serving estimate looks its model's release format up
def _model_index(user_dir: Path) -> dict[str, object]:
    return _index(_model_catalog(user_dir))


def lookup_model(name: str) -> ModelPreset | None:
    """The preset named ``name`` (or one of its aliases), or None."""
    return _model_index(user_catalog_dir()).get(normalize(name))  # type: ignore[return-value]


def find_model(name: str) -> ModelPreset:
    key = normalize(name)
    hit = lookup_model(name)
    if hit is None:
        close = [m.name for m in model_catalog() if key and key in normalize(m.name)]
        hint = f" (did you mean {', '.join(close[:4])}?)" if close else "; `vramplan catalog models` lists them"
        raise PlanError("model", name, "a model preset, a local config.json or model folder" + hint)
    return hit


def save_user_gpu(gpu: GpuSpec) -> Path:
    from engine.plan.schema import atomic_write_text

    path = user_catalog_dir() / "gpus" / f"{normalize(gpu.name)}.json"
    atomic_write_text(path, json.dumps({"gpus": [gpu.model_dump(mode="json")]}, indent=2) + "\n")
    reload_catalogs()
    return path


def save_user_model(preset: ModelPreset) -> Path:
    from engine.plan.schema import atomic_write_text

    path = user_catalog_dir() / "models" / f"{normalize(preset.name)}.json"
    atomic_write_text(path, json.dumps({"models": [preset.model_dump(mode="json", exclude_none=True)]}, indent=2) + "\n")
    reload_catalogs()
    return path

"""Rows for an optional plan section (``serving``, ``finetune``) built from its pydantic fields.

The serving and fine-tuning settings are defined by the engine; this builds
a spin box, combo box or check box per scalar field from the field's type and
description, so the panel follows the engine's schema without a copy of it.
"""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

from PySide6.QtCore import QCoreApplication

from engine.finetune.bitsandbytes import BNB_RELEASES
from engine.finetune.config import TARGET_MODULES
from engine.serving.vllm_profiling import VLLM_RELEASES
from engine.weights.formats import KV_FORMATS
from engine.weights.quant import SCHEME_NAMES
from gui.panels.plan_fields import SECTION_MODELS, literal_choices

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls

# Free-text fields whose allowed values the engine lists.
_STRING_CHOICES: dict[str, tuple[str | None, ...]] = {
    "serving.quant": tuple(SCHEME_NAMES),
    "serving.kv_dtype": tuple(KV_FORMATS),
    "serving.vllm_version": (None, *VLLM_RELEASES),  # None first: the newest release
    "finetune.bnb_version": (None, *BNB_RELEASES),  # None first: a current release
}


def _scalar(annotation: Any) -> tuple[type | None, bool]:
    """(int / float / bool / str, optional?) of a field annotation; (None, _) for anything else."""
    optional = False
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        if len(args) != 1:
            return None, optional
        annotation = args[0]
    return (annotation if annotation in (int, float, bool) else None), optional


def _labels() -> dict[str, str]:
    return {
        "serving.quant": translate("section_form", "Weight format:"),
        "serving.kv_dtype": translate("section_form", "KV cache type:"),
        "serving.context": translate("section_form", "Context (tokens):"),
        "serving.batch": translate("section_form", "Concurrent sequences:"),
        "serving.runtime": translate("section_form", "Runtime:"),
        "serving.gpu_layers": translate("section_form", "GPU layers (llama.cpp):"),
        "serving.cpu_moe_layers": translate("section_form", "CPU MoE (llama.cpp):"),
        "serving.output_layer_first": translate("section_form", "Output layer first (llama.cpp)"),
        "serving.gpu_memory_utilization": translate("section_form", "GPU memory share (vLLM):"),
        "serving.kv_free_fraction": translate("section_form", "KV free fraction (TRT-LLM):"),
        "serving.max_model_len": translate("section_form", "Max model length:"),
        "serving.paged_block_size": translate("section_form", "KV block (tokens):"),
        "serving.prefill_chunk": translate("section_form", "Prefill chunk (tokens):"),
        "finetune.method": translate("section_form", "Method:"),
        "finetune.rank": translate("section_form", "LoRA rank:"),
        "finetune.alpha": translate("section_form", "LoRA alpha:"),
        "finetune.target_modules": translate("section_form", "Adapted matrices:"),
        "finetune.seq": translate("section_form", "Sequence length:"),
        "finetune.micro_batch": translate("section_form", "Micro-batch:"),
        "finetune.gradient_accumulation": translate("section_form", "Gradient accumulation:"),
        "finetune.base_dtype": translate("section_form", "Base weights:"),
        "finetune.adapter_dtype": translate("section_form", "Adapter weights:"),
        "finetune.quant": translate("section_form", "QLoRA format:"),
        "serving.group_size": translate("section_form", "Group size:"),
        "serving.double_quant": translate("section_form", "Double quant"),
        "serving.vllm_engine": translate("section_form", "vLLM engine:"),
        "serving.vllm_version": translate("section_form", "vLLM release:"),
        "serving.enforce_eager": translate("section_form", "No CUDA graphs (--enforce-eager)"),
        "serving.vllm_entry": translate("section_form", "vLLM started by:"),
        "serving.max_num_seqs": translate("section_form", "Max sequences (vLLM):"),
        "serving.flash_attention": translate("section_form", "Flash attention"),
        "serving.swa_full": translate("section_form", "Full SWA cache (--swa-full)"),
        "serving.logits": translate("section_form", "Logits:"),
        "finetune.gradient_checkpointing": translate("section_form", "Gradient checkpointing"),
        "finetune.flash_attention": translate("section_form", "Flash attention"),
        "finetune.optimizer": translate("section_form", "Optimizer:"),
        "finetune.lora_dropout": translate("section_form", "LoRA dropout:"),
        "finetune.framework": translate("section_form", "Framework:"),
        "finetune.mixed_precision": translate("section_form", "Mixed precision (fp32 master weights)"),
        "finetune.fsdp": translate("section_form", "FSDP: shard over the cards"),
        "finetune.double_quant": translate("section_form", "Double quant"),
        "finetune.bnb_version": translate("section_form", "bitsandbytes:"),
    }


def field_label(path: str) -> str:
    """The label of a serving / fine-tuning field as its row shows it (with the colon)."""
    known = _labels().get(path)
    if known:
        return known
    name = path.rpartition(".")[2]
    return translate("section_form", name.replace("_", " ").capitalize()) + ":"


def _choice_text(path: str, value: object) -> str:
    """A combo item's text: the value itself (a format, runtime or optimizer name) unless it is a plain word."""
    words: dict[tuple[str, object], str] = {
        ("serving.logits", "last"): translate("section_form", "last", "logits of the last token per sequence"),
        ("serving.logits", "all"): translate("section_form", "all", "logits of every prompt token"),
        ("finetune.method", "full"): translate("section_form", "full", "full fine-tuning (not LoRA)"),
        ("serving.vllm_version", None): translate("section_form", "newest", "the newest vLLM release"),
        ("finetune.bnb_version", None): translate("section_form", "0.43.2 or later",
                                                  "a current bitsandbytes release"),
        ("serving.vllm_entry", "serve"): translate("section_form", "vllm serve", "vLLM's OpenAI-compatible server"),
        ("serving.vllm_entry", "llm"): translate("section_form", "LLM class", "vLLM's Python LLM class"),
    }
    return words.get((path, value), str(value))


def _string_choices(path: str) -> tuple[str | None, ...] | None:
    return _STRING_CHOICES.get(path)


def _subset_choices(path: str) -> list[tuple[str, str]] | None:
    """Fields holding a subset of known values: one check box each."""
    if path == "finetune.target_modules":
        return [(m, "lm_head" if m == "head" else m) for m in TARGET_MODULES]
    return None


def add_section_fields(form, section: str) -> None:
    """Add one row per scalar field of the plan section ``section`` to ``form`` (a BoundForm)."""
    for name, field in SECTION_MODELS[section].model_fields.items():
        if name.endswith("_bytes"):
            continue  # byte overrides are for plan files and the CLI, not a spin box of bytes
        path, tip = f"{section}.{name}", field.description or ""
        label = field_label(path)
        subset = _subset_choices(path)
        if subset:
            form.add_choices(path, label, subset, tooltip=tip)
            continue
        choices = literal_choices(field.annotation) or _string_choices(path)
        kind, optional = _scalar(field.annotation)
        if choices:
            form.add_combo(path, label, [(c, _choice_text(path, c)) for c in choices], tooltip=tip)
        elif kind is bool:
            form.add_check(path, label.rstrip(":"), tooltip=tip)
        elif kind is int:  # ranges: the engine's (engine.limits.FIELD_BOUNDS, else the field's own bounds)
            none_text = translate("section_form", "auto") if optional else None
            form.add_spin(path, label, none_text=none_text, tooltip=tip)
        elif kind is float and not optional:
            form.add_double(path, label, step=0.05, decimals=3, tooltip=tip)

"""A :class:`PlanError` in the window's words: what is wrong and where in the window to fix it.

The engine names fields as the plan file does (``layout.pp_layers``, ``training.global_batch``)
and its allowed texts may mention CLI flags (``--pp-layers``).  A GUI user sees the panel and
label of the field instead, and no flags.  Labels come from the panels' own translations (the
same context and source text), so a label reads the same here as next to its field.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication

from engine.errors import PlanError
from engine.plan.schema import Plan

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls

_FLAG_IN_PARENS = re.compile(r"\s*\([^()]*--[a-z][a-z0-9-]*[^()]*\)")
_FLAG = re.compile(r"[:,;]?\s*--[a-z][a-z0-9-]*")
_NAME_EQUALS = re.compile(r"\b([a-z][a-z_]*)=([^\s,;)]+)")


def _plain(name: str) -> str:
    """A plan name in words: the few the engine's allowed texts use, else its words."""
    words = {
        "layers": translate("PlanErrors", "layers"),
        "heads": translate("PlanErrors", "attention heads"),
        "kv_heads": translate("PlanErrors", "KV heads"),
        "hidden": translate("PlanErrors", "hidden size"),
        "experts": translate("PlanErrors", "experts"),
        "max_model_len": translate("PlanErrors", "max model length"),
        "micro_batch": translate("PlanErrors", "micro-batch"),
        "pp_layers": translate("PlanErrors", "layers per stage"),
        "kind": translate("PlanErrors", "kind"),
        "zero": translate("PlanErrors", "ZeRO stage"),
    }
    return words.get(name, name.replace("_", " "))


def plain_allowed(text: str) -> str:
    """The engine's allowed text without CLI flags and with plan names in words."""
    text = _FLAG_IN_PARENS.sub("", text)
    text = _FLAG.sub("", text)
    text = _NAME_EQUALS.sub(lambda m: f"{_plain(m.group(1))} ({m.group(2)})", text)
    return re.sub(r"\bpp_layers\b|\bmicro_batch\b", lambda m: _plain(m.group(0)), text).strip()


def _value(value: object) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def field_place(field: str) -> str:
    """Where the field lives in the window, e.g. "Plan settings ▸ Workload ▸ Global batch"."""
    settings = translate("PlanErrors", "Plan settings")
    section, _, name = field.partition(".")
    if section == "layout":
        if name.startswith(("pp", "vpp")):
            return f"{settings} ▸ " + translate("MainWindow", "Stages")
        return translate("PlanErrors", "the diagram")
    if section in ("training", "method", "mode"):
        label = _panel_label(field)
        return f"{settings} ▸ " + translate("MainWindow", "Workload") + (f" ▸ {label}" if label else "")
    if section in ("serving", "finetune"):
        from gui.panels.section_form import field_label

        return f"{settings} ▸ " + translate("MainWindow", "Workload") + " ▸ " + field_label(field).rstrip(":")
    if section == "model":
        label = _panel_label(field)
        return f"{settings} ▸ " + translate("MainWindow", "Model") + (f" ▸ {label}" if label else "")
    return field


def _panel_label(field: str) -> str:
    """The label of a workload or model field in its panel, without the colon ("" when not listed)."""
    labels = {
        "mode": ("WorkloadPanel", "Workload:"),
        "training.seq": ("WorkloadPanel", "Sequence length:"),
        "training.micro_batch": ("WorkloadPanel", "Micro-batch:"),
        "training.global_batch": ("WorkloadPanel", "Global batch:"),
        "training.precision": ("WorkloadPanel", "Precision:"),
        "training.optimizer": ("WorkloadPanel", "Optimizer:"),
        "training.recompute": ("WorkloadPanel", "Recompute:"),
        "training.flash_attention": ("WorkloadPanel", "Flash attention"),
        "training.sequence_parallel": ("WorkloadPanel", "Sequence parallel (with TP)"),
        "training.zero": ("WorkloadPanel", "ZeRO stage:"),
        "training.distributed_optimizer": ("WorkloadPanel", "Distributed optimizer (Megatron)"),
        "training.offload_optimizer": ("WorkloadPanel", "Offload optimizer states to CPU"),
        "training.offload_params": ("WorkloadPanel", "Offload parameters to CPU (ZeRO-3)"),
        "training.fsdp": ("WorkloadPanel", "FSDP (PyTorch, ZeRO-3)"),
        "method.method": ("WorkloadPanel", "Method:"),
        "method.framework": ("WorkloadPanel", "Framework:"),
        "method.deepspeed_fp16_optimizer": ("WorkloadPanel", "DeepSpeed fp16 step:"),
        "model.params": ("ModelPanel", "Parameters:"),
        "model.layers": ("ModelPanel", "Layers:"),
        "model.hidden": ("ModelPanel", "Hidden size:"),
        "model.heads": ("ModelPanel", "Attention heads:"),
        "model.kv_heads": ("ModelPanel", "KV heads:"),
        "model.ffn": ("ModelPanel", "MLP size:"),
        "model.vocab": ("ModelPanel", "Vocabulary:"),
        "model.head_dim": ("ModelPanel", "Head dimension:"),
    }
    found = labels.get(field)
    return translate(*found).rstrip(":") if found else ""


def describe(error: PlanError, plan: Plan) -> str:
    """One or two sentences a GUI user understands: what is wrong and where to change it."""
    field, value, layers = error.field, error.value, plan.model.layers
    stages = sorted({c.stage for c in plan.layout.cards})
    if field == "layout.pp":
        return translate("PlanErrors", "The model's {layers} layers do not split evenly over {stages} pipeline "
                                       "stages. Give each stage its layers in Plan settings ▸ Stages (untick “Even "
                                       "split”), or use a number of stages that divides {layers}.").format(
            layers=layers, stages=_value(value))
    if field == "layout.pp_layers":
        return translate("PlanErrors", "The layers per stage ({split}) must add up to the model's {layers} layers, "
                                       "at least one on every stage (Plan settings ▸ Stages).").format(
            split=_value(value), layers=layers)
    if field == "layout.cards.stage" and isinstance(value, int):
        last = (stages[-1] + 1) if stages else 1
        return translate("PlanErrors", "Stage {stage} has no cards: stages run from 1 to {last} without gaps. "
                                       "Select cards and press {stage} to put them on stage {stage}.").format(
            stage=value + 1, last=last)
    if field.startswith("layout.cards.tp_group"):
        shown = ", ".join(str(s + 1) for s in value) if isinstance(value, list | tuple) else _value(value)
        return translate("PlanErrors", "A TP group has cards on stages {stages}: all cards of a TP group hold the "
                                       "same layers, so they need one stage. Give them one stage, or select cards "
                                       "and press T for a new TP group.").format(stages=shown)
    if field == "layout.tp":
        return translate("PlanErrors", "Tensor parallelism over {tp} cards does not fit this model: expected {allowed} "
                                       "(the TP groups on the diagram).").format(tp=_value(value),
                                                                                   allowed=plain_allowed(error.allowed))
    if field == "layout.cards" and "llama.cpp" in error.allowed:
        return translate("PlanErrors", "llama.cpp runs one card per stage (it splits the layers across cards): "
                                       "remove the data-parallel copies, or choose another runtime.")
    return translate("PlanErrors", "{place}: {value} does not work here; expected {allowed}.").format(
        place=field_place(field), value=_value(value), allowed=plain_allowed(error.allowed))


def refusal_text(error: PlanError) -> str:
    """A diagram edit the engine refused (a full node, a TP group across stages), said without field names."""
    if error.field == "tp_group" and isinstance(error.value, list | tuple):
        return translate("PlanErrors", "Not done: the selected cards are on stages {stages}, and a TP group holds "
                                       "the cards of one stage.").format(stages=", ".join(str(s + 1) for s in error.value))
    return translate("PlanErrors", "Not done: {value}: expected {allowed}.").format(
        value=_value(error.value), allowed=plain_allowed(error.allowed))

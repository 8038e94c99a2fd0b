"""The weight format a model is released in, as each runtime loads it, and what a model switch does to the
plan's format.

A preset whose authors release quantized weights (gpt-oss: MXFP4 experts; DeepSeek-V3 / R1: FP8) names that format
(``ModelPreset.release_quant``); serving it in 16 bit would count weights nobody downloads (gpt-oss-20b:
41.8 GB in bf16 against the 13.8 GB checkpoint).  llama.cpp loads the release through its own conversion:
``convert_hf_to_gguf.py`` keeps gpt-oss's MXFP4 expert blocks as they are, and the ggml-org GGUFs store
the rest in Q8_0 (file type MXFP4_MOE).
"""

from __future__ import annotations

from engine.errors import PlanError
from engine.model.spec import ModelSpec
from engine.weights.formats import StorageFormat
from engine.weights.quant import find_scheme

DEFAULT_QUANT = "bf16"  # ServingConfig.quant's default
GGUF_OF_RELEASE = {"mxfp4": "MXFP4_MOE"}  # a release format -> the GGUF file type its llama.cpp conversion gives


def release_quant(model_name: str, runtime: str) -> str | None:
    """The format ``runtime`` serves preset ``model_name``'s released weights in; None for a 16-bit release or
    a model that is not a preset."""
    from engine.catalog import lookup_model

    preset = lookup_model(model_name)
    quant = preset.release_quant if preset is not None else None
    if quant is None:
        return None
    return GGUF_OF_RELEASE.get(quant) if runtime == "llamacpp" else quant  # llama.cpp loads no FP8 checkpoint


def released_experts(spec: ModelSpec) -> StorageFormat | None:
    """The format a MoE preset's routed experts are released in when a GGUF quantization keeps them: every
    published GGUF of gpt-oss leaves the experts' MXFP4 blocks as they are and quantizes the rest (bartowski's
    gpt-oss-20b quants, llama.cpp b6096: "All quants keep the feed forward networks at mxfp4"; unsloth's
    Q4_K_M: 'type mxfp4: 72 tensors', 10.81 GiB).  None for other models."""
    if spec.moe is None:
        return None
    quant = release_quant(spec.name, "vllm")
    return find_scheme(quant).experts if quant is not None else None


def _experts_only(quant: str) -> bool:
    try:
        return find_scheme(quant).experts is not None
    except PlanError:
        return False


def quant_for_model(old: ModelSpec, new: ModelSpec, quant: str, runtime: str) -> str:
    """The format after switching the plan's model from ``old`` to ``new``: the new model's release format when
    the plan held the default or the old model's release format (the user chose neither), the default when the
    plan held an experts-only format (mxfp4) the new model has no experts for, else the user's choice."""
    old_release = release_quant(old.name, runtime)
    new_release = release_quant(new.name, runtime)
    if quant.lower() in {DEFAULT_QUANT, (old_release or DEFAULT_QUANT).lower()}:
        return new_release or DEFAULT_QUANT
    if new.moe is None and _experts_only(quant):
        return new_release or DEFAULT_QUANT
    return quant

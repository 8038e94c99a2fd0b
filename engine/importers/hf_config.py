"""Hugging Face ``config.json`` -> :class:`ModelSpec`, offline.

One small mapper per architecture family.  Field names and their defaults
follow the ``*Config`` classes of Hugging Face transformers (and, for
ChatGLM/Baichuan, the ``configuration_*.py`` files shipped with those
checkpoints): a key a family does not need is ignored, a key it needs and
that is missing raises a :class:`PlanError` naming ``config.json:<key>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from engine.errors import PlanError
from engine.limits import MAX_CONTEXT
from engine.model.spec import ModelSpec

_MISSING = object()


def positive_int_value(field: str, value: Any) -> int:
    """A config value that must be a positive integer (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PlanError(field, value, "a positive integer")
    return value


class _Config:
    """Typed access to one config.json, with errors that name the key."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def _raw(self, keys: tuple[str, ...]) -> Any:
        for key in keys:
            if self.data.get(key) is not None:
                return key, self.data[key]
        return keys[0], _MISSING

    def int(self, *keys: str, default: Any = _MISSING) -> Any:
        key, value = self._raw(keys)
        if value is _MISSING:
            if default is _MISSING:
                raise PlanError(f"{self.where}:{key}", None, "a positive integer (the key is missing)")
            return default
        return positive_int_value(f"{self.where}:{key}", value)

    def flag(self, *keys: str, default: bool) -> bool:
        key, value = self._raw(keys)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            raise PlanError(f"{self.where}:{key}", value, "true or false")
        return value


def _llama_like(c: _Config, *, qkv_bias: bool = False, qk_norm: bool = False) -> dict:
    """Llama, Mistral, Qwen2/3, Phi-3, Yi, Baichuan, GLM (HF-native): RMSNorm, SwiGLU, RoPE."""
    heads = c.int("num_attention_heads")
    attention_bias = c.flag("attention_bias", default=False)
    out = {
        "layers": c.int("num_hidden_layers"),
        "hidden": c.int("hidden_size"),
        "heads": heads,
        "kv_heads": c.int("num_key_value_heads", default=heads),
        "head_dim": c.int("head_dim", default=None),
        "ffn": c.int("intermediate_size"),
        "vocab": c.int("vocab_size"),
        "norm": "rmsnorm",
        "gated_mlp": True,
        "bias": c.flag("mlp_bias", default=False),
        "qkv_bias": qkv_bias or attention_bias,
        "qk_norm": qk_norm,
        "tied_embeddings": c.flag("tie_word_embeddings", default=False),
    }
    window = c.int("sliding_window", default=None)
    if window and c.flag("use_sliding_window", default=c.data.get("model_type") in ("mistral", "mixtral")):
        out["sliding_window"] = window
    return out


def _mixtral(c: _Config) -> dict:
    spec = _llama_like(c)
    spec["moe"] = {"experts": c.int("num_local_experts"), "top_k": c.int("num_experts_per_tok"),
                   "expert_ffn": c.int("intermediate_size")}
    return spec


def _gpt_oss(c: _Config) -> dict:
    """gpt-oss (transformers ``GptOssConfig``): biases on every projection and expert, experts of
    ``intermediate_size``, a ``sliding_window`` on the layers ``layer_types`` marks ``sliding_attention``.
    The per-head attention sinks and the router bias (96 parameters a layer in gpt-oss-20b) are not counted."""
    spec = _mixtral(c)
    spec["bias"], spec["qkv_bias"] = True, None
    window = c.int("sliding_window", default=None)
    kinds = c.data.get("layer_types")
    if window and isinstance(kinds, list):
        spec["sliding_window"] = window
        spec["sliding_window_layers"] = sum(1 for k in kinds if k == "sliding_attention")
    return spec


def _glm4_moe(c: _Config) -> dict:
    """GLM-4.5 / GLM-4.5-Air (transformers ``Glm4MoeConfig``): biased Q/K/V (``attention_bias``), an optional
    qk-norm (``use_qk_norm``), the first ``first_k_dense_replace`` layers dense, the rest routed experts of
    ``moe_intermediate_size`` beside ``n_shared_experts`` shared ones.  The multi-token-prediction layer
    (``num_nextn_predict_layers``) is not counted: vLLM loads it only for speculative decoding, and the
    router's score-correction bias (one value per expert) is left out."""
    spec = _llama_like(c, qk_norm=c.flag("use_qk_norm", default=False))
    spec["moe"] = {
        "experts": c.int("n_routed_experts"), "top_k": c.int("num_experts_per_tok"),
        "expert_ffn": c.int("moe_intermediate_size"),
        "shared_experts": c.data.get("n_shared_experts") or 0,
        "first_dense_layers": c.data.get("first_k_dense_replace") or 0,
    }
    return spec


def _qwen_moe(c: _Config, *, qwen3: bool) -> dict:
    """Qwen2-MoE (one gated shared expert) and Qwen3-MoE (no shared expert, qk-norm).

    Layers listed in ``mlp_only_layers`` are taken as MoE too (the released checkpoints leave it empty);
    the shared expert's 1-wide gate (hidden parameters per layer) is not counted.
    """
    spec = _llama_like(c, qkv_bias=not qwen3, qk_norm=qwen3)
    shared = 0 if qwen3 else c.int("shared_expert_intermediate_size", default=0)
    spec["moe"] = {
        "experts": c.int("num_experts"), "top_k": c.int("num_experts_per_tok"),
        "expert_ffn": c.int("moe_intermediate_size"), "layer_freq": c.int("decoder_sparse_step", default=1),
        "shared_experts": 1 if shared else 0, **({"shared_expert_ffn": shared} if shared else {}),
    }
    return spec


def _deepseek(c: _Config) -> dict:
    """DeepSeek-V2/V3 (transformers ``DeepseekV3Config``): MLA attention, shared + routed experts."""
    spec = _llama_like(c)
    spec.pop("kv_heads")  # MLA: no separate KV heads
    spec["mla"] = {
        "q_lora_rank": c.int("q_lora_rank", default=None),  # None in V2-Lite: plain q_proj
        "kv_lora_rank": c.int("kv_lora_rank"),
        "qk_nope_head_dim": c.int("qk_nope_head_dim"),
        "qk_rope_head_dim": c.int("qk_rope_head_dim"),
        "v_head_dim": c.int("v_head_dim"),
    }
    experts = c.int("n_routed_experts", default=None)
    if experts:
        spec["moe"] = {
            "experts": experts,
            "top_k": c.int("num_experts_per_tok"),
            "expert_ffn": c.int("moe_intermediate_size"),
            "shared_experts": c.data.get("n_shared_experts") or 0,
            "first_dense_layers": c.data.get("first_k_dense_replace") or 0,
            "layer_freq": c.int("moe_layer_freq", default=1),
        }
    return spec


def _chatglm(c: _Config) -> dict:
    """ChatGLM2/3 and GLM-4 (``configuration_chatglm.py``); ChatGLM-6B (v1) has no padded_vocab_size."""
    heads = c.int("num_attention_heads")
    hidden = c.int("hidden_size")
    if "padded_vocab_size" not in c.data:  # ChatGLM-6B v1: GELU MLP, LayerNorm, biases, tied lm_head
        return {"layers": c.int("num_layers"), "hidden": hidden, "heads": heads,
                "ffn": c.int("inner_hidden_size", default=4 * hidden), "vocab": c.int("vocab_size"),
                "tied_embeddings": c.flag("tie_word_embeddings", default=True)}
    mqa = c.flag("multi_query_attention", default=False)
    return {
        "layers": c.int("num_layers"),
        "hidden": hidden,
        "heads": heads,
        "kv_heads": c.int("multi_query_group_num") if mqa else heads,
        "head_dim": c.int("kv_channels", default=None),
        "ffn": c.int("ffn_hidden_size"),
        "vocab": c.int("padded_vocab_size"),
        "norm": "rmsnorm" if c.flag("rmsnorm", default=True) else "layernorm",
        "gated_mlp": True,
        "bias": c.flag("add_bias_linear", default=False),
        "qkv_bias": c.flag("add_qkv_bias", default=False),
        "tied_embeddings": False,  # ChatGLM2+ keep a separate output_layer
    }


def _gpt2(c: _Config) -> dict:
    hidden = c.int("n_embd", "hidden_size")
    return {
        "layers": c.int("n_layer", "num_hidden_layers"), "hidden": hidden, "heads": c.int("n_head", "num_attention_heads"),
        "ffn": c.int("n_inner", default=4 * hidden), "vocab": c.int("vocab_size"),
        "position_embedding": "learned", "max_position": c.int("n_positions", "max_position_embeddings"),
        "tied_embeddings": c.flag("tie_word_embeddings", default=True),
    }


def _gpt_neox(c: _Config) -> dict:
    """GPT-NeoX / Pythia: parallel residual with two LayerNorms per layer, untied by default."""
    return {
        "layers": c.int("num_hidden_layers"), "hidden": c.int("hidden_size"), "heads": c.int("num_attention_heads"),
        "ffn": c.int("intermediate_size"), "vocab": c.int("vocab_size"),
        "bias": c.flag("attention_bias", default=True),
        "tied_embeddings": c.flag("tie_word_embeddings", default=False),
        "parallel_residual": c.flag("use_parallel_residual", default=True),
    }


def _phi(c: _Config) -> dict:
    """phi-1 / phi-1.5 / phi-2 (``PhiConfig``): a parallel block with one LayerNorm shared by attention and MLP,
    biases, GeLU MLP, untied; its lm_head bias (V values) is not counted."""
    heads = c.int("num_attention_heads")
    return {
        "layers": c.int("num_hidden_layers"), "hidden": c.int("hidden_size"), "heads": heads,
        "kv_heads": c.int("num_key_value_heads", default=heads), "ffn": c.int("intermediate_size"),
        "vocab": c.int("vocab_size"), "norms_per_layer": 1, "parallel_residual": True,
        "qk_norm": c.flag("qk_layernorm", default=False),
        "tied_embeddings": c.flag("tie_word_embeddings", default=False),
    }


def _falcon(c: _Config) -> dict:
    """Falcon (``FalconConfig``; the older RefinedWeb configs use n_layer/n_head/n_head_kv)."""
    hidden = c.int("hidden_size")
    heads = c.int("num_attention_heads", "n_head")
    new_arch = c.flag("new_decoder_architecture", default=False)
    if new_arch:
        kv_heads, norms = c.int("num_kv_heads", "n_head_kv"), c.int("num_ln_in_parallel_attn", default=2)
    else:
        kv_heads = 1 if c.flag("multi_query", default=True) else heads
        norms = 1 if c.flag("parallel_attn", default=True) else 2
    return {
        "layers": c.int("num_hidden_layers", "n_layer"), "hidden": hidden, "heads": heads, "kv_heads": kv_heads,
        "ffn": c.int("ffn_hidden_size", default=4 * hidden), "vocab": c.int("vocab_size"),
        "bias": c.flag("bias", default=False), "norms_per_layer": norms,
        "parallel_residual": new_arch or c.flag("parallel_attn", default=True),
        "position_embedding": "alibi" if c.flag("alibi", default=False) else "rope",
        "tied_embeddings": c.flag("tie_word_embeddings", default=True),
    }


def _bloom(c: _Config) -> dict:
    return {
        "layers": c.int("n_layer", "num_hidden_layers"), "hidden": c.int("hidden_size", "n_embed"),
        "heads": c.int("n_head", "num_attention_heads"), "vocab": c.int("vocab_size"),
        "position_embedding": "alibi", "tied_embeddings": c.flag("tie_word_embeddings", default=True),
    }


def _granite(c: _Config) -> dict:
    """Granite (GraniteForCausalLM: Granite 3.x, PowerLM): Llama's layout with muP multipliers; the forward
    divides its logits by ``logits_scaling`` (models/granite/modeling_granite.py), a new logits-sized tensor."""
    _, scaling = c._raw(("logits_scaling",))
    return {**_llama_like(c), "scaled_logits": isinstance(scaling, (int, float)) and scaling != 1}


FAMILIES: dict[str, Callable[[_Config], dict]] = {
    "llama": _llama_like,
    "mistral": _llama_like,
    "yi": _llama_like,
    "phi3": _llama_like,
    "baichuan": _llama_like,
    "glm": lambda c: _llama_like(c, qkv_bias=c.flag("attention_bias", default=True)),
    "qwen2": lambda c: _llama_like(c, qkv_bias=True),
    "qwen3": lambda c: _llama_like(c, qk_norm=True),
    "granite": _granite,
    "mixtral": _mixtral,
    "gpt_oss": _gpt_oss,
    "glm4_moe": _glm4_moe,
    "qwen2_moe": lambda c: _qwen_moe(c, qwen3=False),
    "qwen3_moe": lambda c: _qwen_moe(c, qwen3=True),
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
    "chatglm": _chatglm,
    "gpt2": _gpt2,
    "gpt_neox": _gpt_neox,
    "phi": _phi,
    "falcon": _falcon,
    "RefinedWeb": _falcon,
    "RefinedWebModel": _falcon,
    "bloom": _bloom,
}


def spec_from_config(data: object, name: str, where: str = "config.json") -> ModelSpec:
    """A ModelSpec from the parsed JSON of a Hugging Face config.json."""
    if not isinstance(data, dict):
        raise PlanError(where, type(data).__name__, "a JSON object")
    model_type = data.get("model_type")
    mapper = FAMILIES.get(model_type) if isinstance(model_type, str) else None
    if mapper is None:
        raise PlanError(f"{where}:model_type", model_type, "one of " + ", ".join(sorted(FAMILIES)))
    fields = {k: v for k, v in mapper(_Config(data, where)).items() if v is not None}
    fields["name"] = name
    context = next((data[k] for k in ("max_position_embeddings", "n_positions", "seq_length", "max_sequence_length")
                    if type(data.get(k)) is int and data[k] > 0), None)
    if context is not None:  # informative only (it caps serving answers): beyond the limit, the limit
        fields.setdefault("max_context", min(context, MAX_CONTEXT))
    try:
        return ModelSpec.model_validate(fields)
    except ValidationError as e:
        from engine.plan.schema import plan_error_from_validation

        err = plan_error_from_validation(e, "" if (e.errors()[0].get("ctx") or {}).get("error") else "model")
        raise PlanError(f"{where} -> {err.field}", err.value, err.allowed) from None

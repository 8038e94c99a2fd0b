"""Model flags shared by estimate, infer, finetune and plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError

from engine.cli.arg_types import float_in, int_in
from engine.errors import PlanError
from engine.limits import (
    MAX_CONTEXT,
    MAX_EXPERTS,
    MAX_FFN,
    MAX_HEAD_DIM,
    MAX_HEADS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_NAME_CHARS,
    MAX_PARAMETERS,
    MAX_VOCAB,
)
from engine.model.spec import ModelSpec
from engine.plan.schema import plan_error_from_validation
from engine.units import parse_count


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("model (a preset or local config, and/or every architecture field)")
    g.add_argument("--model", metavar="NAME|PATH", help="catalog preset, or a local config.json / model folder / .gguf")
    g.add_argument("--name", help="name shown in reports")
    g.add_argument("--params", metavar="N", help="declared parameter count (13e9, 13B); the article's level of detail")
    for flag, hi, help_ in (
        ("--layers", MAX_LAYERS, "transformer layers"), ("--hidden", MAX_HIDDEN, "hidden size"),
        ("--heads", MAX_HEADS, "attention heads"), ("--kv-heads", MAX_HEADS, "KV heads (GQA/MQA)"),
        ("--head-dim", MAX_HEAD_DIM, "head dimension"), ("--ffn", MAX_FFN, "MLP size"),
        ("--vocab", MAX_VOCAB, "vocabulary size"), ("--moe-experts", MAX_EXPERTS, "routed experts"),
        ("--moe-topk", MAX_EXPERTS, "experts per token"), ("--moe-ffn", MAX_FFN, "FFN size of one expert"),
        ("--moe-shared-experts", MAX_EXPERTS, "shared experts"),
        ("--max-position", MAX_CONTEXT, "rows of a learned position embedding (implies --position-embedding learned)"),
        ("--sliding-window", MAX_CONTEXT, "attention window (tokens) of sliding-window layers"),
    ):
        g.add_argument(flag, type=int_in(1, hi), metavar="N", help=help_)
    g.add_argument("--sliding-window-layers", type=int_in(0, MAX_LAYERS), metavar="N",
                   help="how many layers use the window, spread evenly (default: all; e.g. 52 of Gemma 3 27B's 62)")
    g.add_argument("--position-embedding", choices=["rope", "learned", "alibi", "none"],
                   help="how positions enter the model (default rope; learned with --max-position)")
    g.add_argument("--swiglu", action=argparse.BooleanOptionalAction, default=None, help="gated MLP (3 matrices)")
    g.add_argument("--norm", choices=["layernorm", "rmsnorm"])
    g.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None, help="biases on linear layers")
    g.add_argument("--tied-embeddings", dest="tied_embeddings", action="store_true", default=None)
    g.add_argument("--untied-embeddings", dest="tied_embeddings", action="store_false")
    g.add_argument("--dropout", type=float_in(0, 1), metavar="P", help="dropout probability (0 for none)")
    g.add_argument("--parallel-residual", action=argparse.BooleanOptionalAction, default=None,
                   help="attention and MLP read the same layer input (GPT-J, GPT-NeoX, Falcon, phi)")
    g.add_argument("--norms-per-layer", type=int_in(1, 4), metavar="N",
                   help="norms per layer (default 2; 1 for a parallel block sharing one norm: GPT-J, Falcon-7B, phi-1.5)")
    g.add_argument("--qk-norm", action=argparse.BooleanOptionalAction, default=None,
                   help="a norm over each head of Q and K (Qwen3, Gemma 3, OLMo 2)")
    g.add_argument("--scaled-logits", action=argparse.BooleanOptionalAction, default=None,
                   help="the forward divides its logits by a constant (Granite's logits_scaling): one more "
                        "logits-sized tensor for the allocator replay")


_FIELD_FLAGS = {
    "layers": "layers", "hidden": "hidden", "heads": "heads", "kv_heads": "kv_heads", "head_dim": "head_dim",
    "ffn": "ffn", "vocab": "vocab", "swiglu": "gated_mlp", "norm": "norm", "bias": "bias",
    "tied_embeddings": "tied_embeddings", "dropout": "dropout", "max_position": "max_position", "name": "name",
    "position_embedding": "position_embedding", "sliding_window": "sliding_window",
    "sliding_window_layers": "sliding_window_layers", "norms_per_layer": "norms_per_layer",
    "parallel_residual": "parallel_residual", "scaled_logits": "scaled_logits", "qk_norm": "qk_norm",
}
_MOE_FLAGS = {"moe_experts": "experts", "moe_topk": "top_k", "moe_ffn": "expert_ffn", "moe_shared_experts": "shared_experts"}


def model_overrides(args: argparse.Namespace) -> dict:
    """Model fields the user gave as flags."""
    out = {field: getattr(args, flag) for flag, field in _FIELD_FLAGS.items() if getattr(args, flag, None) is not None}
    if args.params is not None:
        out["params"] = parse_count(args.params, "--params")
        if out["params"] > MAX_PARAMETERS:
            raise PlanError("--params", args.params, f"a parameter count of at most {MAX_PARAMETERS:.0e}")
    if args.name is not None and len(args.name) > MAX_NAME_CHARS:
        raise PlanError("--name", args.name, f"a name of at most {MAX_NAME_CHARS} characters")
    if out.get("max_position") and "position_embedding" not in out:
        out["position_embedding"] = "learned"  # a learned table's rows only mean something for learned positions
    if out.get("position_embedding") == "learned" and not out.get("max_position"):
        raise PlanError("--position-embedding", "learned", "with --max-position N (the rows of the learned table)")
    moe = {field: getattr(args, flag) for flag, field in _MOE_FLAGS.items() if getattr(args, flag, None) is not None}
    if moe:
        out["moe"] = moe
    return out


def looks_like_path(text: str) -> bool:
    """True when ``text`` names something on disk (names too long or with NUL bytes do not)."""
    try:
        return Path(text).expanduser().exists()
    except (OSError, ValueError, RuntimeError):  # ENAMETOOLONG, embedded NUL, unknown ~user
        return False


def base_model(name_or_path: str) -> ModelSpec:
    if looks_like_path(name_or_path):
        from engine.importers.hf_import import (
            model_from_local,  # offline reader of config.json / safetensors / GGUF
        )

        return model_from_local(Path(name_or_path).expanduser())
    from engine.catalog import find_model

    return find_model(name_or_path).spec


def apply_model_overrides(base: ModelSpec | None, overrides: dict) -> ModelSpec:
    data = base.model_dump(exclude_none=True) if base is not None else {}
    moe = overrides.pop("moe", None)
    data.update(overrides)
    if moe:
        data["moe"] = {**(data.get("moe") or {}), **moe}
    if base is None:
        for need in ("layers", "hidden", "heads"):
            if need not in data:
                raise PlanError(f"--{need}", None, "a value, or --model NAME for a preset")
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e, "model") from None


def model_from_args(args: argparse.Namespace, base: ModelSpec | None = None) -> ModelSpec:
    if args.model:
        base = base_model(args.model)
    return apply_model_overrides(base, model_overrides(args))

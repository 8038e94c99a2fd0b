"""Pasted Megatron-LM arguments (or a whole ``torchrun ... pretrain_gpt.py`` line) -> a Plan.

Megatron's flags say nothing about the GPU, so the caller names it.  The data
parallel size is the world size (``torchrun --nnodes N --nproc-per-node K``,
or ``world_size=``) divided by TP x CP x PP; without either it is 1.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from pydantic import ValidationError

from engine.errors import PlanError
from engine.export.args_text import float_flag, int_flag, int_or, parse_flags, split_command
from engine.export.grid import GridShape
from engine.limits import MAX_LAYERS
from engine.model.spec import ModelSpec
from engine.plan.schema import Plan, plan_error_from_validation
from engine.training.config import MethodConfig, TrainingConfig

KNOWN_POSITION_TYPES = {"rope": "rope", "learned_absolute": "learned", "none": "none", "yarn": "rope", "mrope": "rope"}


@dataclass(frozen=True, slots=True)
class ImportResult:
    plan: Plan
    ignored: tuple[str, ...]  # flags that were read but do not affect memory (or are unknown)


def _moe_pattern(text: str, layers: int) -> tuple[int, int]:
    """(first_dense_layers, layer_freq) from ``--moe-layer-freq`` (an int, ``([0]*3+[1]*58)`` or a list)."""
    text = text.strip()
    allowed = "an integer, ([0]*K+[1]*M) or a list of 0/1"
    if len(text) > 16 * MAX_LAYERS:  # a list of MAX_LAYERS bits with separators is ~3 characters each
        raise PlanError("--moe-layer-freq", text, allowed + f" describing at most {MAX_LAYERS:,} layers")
    if text.isascii() and text.isdigit():
        return 0, int(text)
    terms = re.findall(r"\[([01])\]\s*\*\s*(\d{1,9})", text)
    if terms:
        if sum(int(count) for _, count in terms) != layers:  # checked before the list is built
            raise PlanError("--moe-layer-freq", text, f"a pattern of {layers} layers with at least one MoE layer")
        pattern = [int(bit) for bit, count in terms for _ in range(int(count))]
    else:
        try:
            pattern = list(ast.literal_eval(text))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise PlanError("--moe-layer-freq", text, allowed) from None
        if not all(type(bit) is int and bit in (0, 1) for bit in pattern):
            raise PlanError("--moe-layer-freq", text, allowed)
    if len(pattern) != layers or not any(pattern):
        raise PlanError("--moe-layer-freq", text, f"a pattern of {layers} layers with at least one MoE layer")
    first = pattern.index(1)
    ones = [i for i, bit in enumerate(pattern) if bit]
    freq = ones[1] - ones[0] if len(ones) > 1 else 1
    if ones != list(range(first, layers, freq)):
        raise PlanError("--moe-layer-freq", text, "dense leading layers then MoE every n-th layer")
    return first, freq


def _moe(flags: dict, layers: int) -> dict | None:
    experts = int_flag(flags, "--num-experts")
    if experts is None:
        return None
    first, freq = _moe_pattern(str(flags.get("--moe-layer-freq", "1")), layers)
    expert_ffn = int_flag(flags, "--moe-ffn-hidden-size") or int_flag(flags, "--ffn-hidden-size")
    moe = {"experts": experts, "top_k": int_flag(flags, "--moe-router-topk", 2), "expert_ffn": expert_ffn,
           "first_dense_layers": first, "layer_freq": freq}
    shared = int_flag(flags, "--moe-shared-expert-intermediate-size")
    if shared:
        moe.update(shared_experts=1, shared_expert_ffn=shared)
    return moe


def _mla(flags: dict) -> dict | None:
    if not flags.get("--multi-latent-attention"):
        return None
    return {"q_lora_rank": int_flag(flags, "--q-lora-rank"), "kv_lora_rank": int_flag(flags, "--kv-lora-rank", 512),
            "qk_nope_head_dim": int_flag(flags, "--qk-head-dim", 128),
            "qk_rope_head_dim": int_flag(flags, "--qk-pos-emb-head-dim", 64), "v_head_dim": int_flag(flags, "--v-head-dim", 128)}


def _required(flags: dict, name: str, base: int | None) -> int:
    value = int_flag(flags, name, base)
    if value is None:
        raise PlanError(name, None, "a value (Megatron-LM requires it)")
    return value


def model_from_flags(flags: dict, base: ModelSpec | None = None) -> ModelSpec:
    data = base.model_dump(exclude_none=True) if base else {}
    layers = _required(flags, "--num-layers", data.get("layers"))
    data.update(name=data.get("name", "imported from Megatron-LM"), layers=layers,
                hidden=_required(flags, "--hidden-size", data.get("hidden")),
                heads=_required(flags, "--num-attention-heads", data.get("heads")))
    optional = {"--ffn-hidden-size": "ffn", "--kv-channels": "head_dim", "--vocab-size": "vocab",
                "--max-position-embeddings": "max_position"}
    data.update({field: int_flag(flags, flag) for flag, field in optional.items() if flag in flags})
    if flags.get("--group-query-attention"):
        data["kv_heads"] = int_flag(flags, "--num-query-groups", 1)
    if "--swiglu" in flags:
        data["gated_mlp"] = True
    if "--normalization" in flags:
        data["norm"] = "rmsnorm" if str(flags["--normalization"]).lower() == "rmsnorm" else "layernorm"
    if "--disable-bias-linear" in flags:
        data["bias"] = False
        data["qkv_bias"] = True if "--add-qkv-bias" in flags else None
    data["qk_norm"] = "--qk-layernorm" in flags or data.get("qk_norm", False)
    position = flags.get("--position-embedding-type", "learned_absolute" if not base else None)
    if flags.get("--use-rotary-position-embeddings"):
        position = "rope"
    if position is not None:
        data["position_embedding"] = KNOWN_POSITION_TYPES.get(str(position), "rope")
        if data["position_embedding"] != "learned":
            data.pop("max_position", None)
    data["tied_embeddings"] = "--untie-embeddings-and-output-weights" not in flags
    data["dropout"] = float_flag(flags, "--hidden-dropout", 0.1 if base is None else data.get("dropout", 0.0))
    for key, value in (("moe", _moe(flags, layers)), ("mla", _mla(flags))):
        if value is not None:
            data[key] = value
    if "--window-size" in flags:
        window = str(flags["--window-size"]).split(",")[0].strip()
        if not (window.isascii() and window.isdigit() and len(window) <= 9):
            raise PlanError("--window-size", flags["--window-size"], "a window size in tokens, e.g. 4096")
        data["sliding_window"] = int(window)
    if data.get("position_embedding") == "learned" and not data.get("max_position"):
        raise PlanError("--max-position-embeddings", None, "the number of learned positions, or "
                        "--position-embedding-type rope (Megatron's default is learned_absolute)")
    if data.get("vocab") is None and data.get("params") is None:
        raise PlanError("--vocab-size", None, "the vocabulary size (Megatron reads it from the tokenizer) or a base model preset")
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


USED_FLAGS = {
    "--tensor-model-parallel-size", "--pipeline-model-parallel-size", "--num-layers-per-virtual-pipeline-stage",
    "--num-virtual-stages-per-pipeline-rank", "--decoder-first-pipeline-num-layers", "--decoder-last-pipeline-num-layers",
    "--context-parallel-size", "--expert-model-parallel-size", "--use-distributed-optimizer", "--sequence-parallel",
    "--optimizer-cpu-offload", "--micro-batch-size", "--global-batch-size", "--seq-length", "--recompute-granularity",
    "--recompute-method", "--recompute-num-layers", "--bf16", "--fp16", "--use-flash-attn", "--attention-backend",
    "--optimizer", "--num-layers", "--hidden-size", "--num-attention-heads", "--ffn-hidden-size", "--kv-channels",
    "--vocab-size", "--max-position-embeddings", "--group-query-attention", "--num-query-groups", "--swiglu",
    "--normalization", "--disable-bias-linear", "--add-qkv-bias", "--qk-layernorm", "--position-embedding-type",
    "--use-rotary-position-embeddings", "--untie-embeddings-and-output-weights", "--hidden-dropout",
    "--attention-dropout", "--num-experts", "--moe-router-topk", "--moe-ffn-hidden-size", "--moe-layer-freq",
    "--moe-shared-expert-intermediate-size", "--multi-latent-attention", "--q-lora-rank", "--kv-lora-rank",
    "--qk-head-dim", "--qk-pos-emb-head-dim", "--v-head-dim", "--window-size", "--make-vocab-size-divisible-by",
    "--nnodes", "--nproc-per-node",
}


def training_from_flags(flags: dict) -> TrainingConfig:
    granularity = flags.get("--recompute-granularity")
    recompute = {"selective": "selective", "full": "full"}.get(str(granularity), "none") if granularity else "none"
    precision = "bf16" if "--bf16" in flags else "fp16" if "--fp16" in flags else "fp32"
    flash = "--use-flash-attn" in flags or str(flags.get("--attention-backend", "")) == "flash"
    data = {
        "seq": int_flag(flags, "--seq-length", 4096), "micro_batch": int_flag(flags, "--micro-batch-size", 1),
        "global_batch": int_flag(flags, "--global-batch-size"), "precision": precision, "recompute": recompute,
        "distributed_optimizer": "--use-distributed-optimizer" in flags, "flash_attention": flash,
        "sequence_parallel": "--sequence-parallel" in flags, "offload_optimizer": "--optimizer-cpu-offload" in flags,
        "optimizer": "sgd" if str(flags.get("--optimizer", "adam")) == "sgd" else "adamw",
    }
    try:
        return TrainingConfig.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


def _pp_layers(flags: dict, layers: int, pp: int) -> tuple[int, ...] | None:
    first = int_flag(flags, "--decoder-first-pipeline-num-layers")
    last = int_flag(flags, "--decoder-last-pipeline-num-layers")
    if first is None and last is None:
        return None
    if pp == 1:
        raise PlanError("--decoder-first-pipeline-num-layers", first or last, "only with --pipeline-model-parallel-size > 1")
    middle_stages = pp - (first is not None) - (last is not None)
    rest = layers - (first or 0) - (last or 0)
    if middle_stages == 0 and rest == 0:
        return (first or 0, last or 0)
    if middle_stages <= 0 or rest <= 0 or rest % middle_stages:
        raise PlanError("--decoder-first-pipeline-num-layers", first,
                        f"first/last stage sizes that leave layers={layers} evenly over the other stages")
    even = rest // middle_stages
    return (first if first is not None else even,) + (even,) * (pp - 2) + (last if last is not None else even,)


def grid_from_flags(flags: dict, layers: int, gpu: str, capacity_bytes: int,
                    gpus_per_node: int, world_size: int | None) -> GridShape:
    tp = int_or(flags, "--tensor-model-parallel-size", 1)
    pp = int_or(flags, "--pipeline-model-parallel-size", 1)
    cp = int_or(flags, "--context-parallel-size", 1)
    ep = int_or(flags, "--expert-model-parallel-size", 1)
    per_vstage = int_flag(flags, "--num-layers-per-virtual-pipeline-stage")
    vpp = layers // (pp * per_vstage) if per_vstage else int_or(flags, "--num-virtual-stages-per-pipeline-rank", 1)
    if world_size is None and ("--nnodes" in flags or "--nproc-per-node" in flags):
        per_node = int_or(flags, "--nproc-per-node", gpus_per_node)
        world_size = int_or(flags, "--nnodes", 1) * per_node
        gpus_per_node = max(gpus_per_node, per_node)
    model_parallel = tp * pp * cp
    world = world_size or model_parallel
    if world % model_parallel:
        raise PlanError("world_size", world, f"a multiple of TP × CP × PP = {tp} × {cp} × {pp} = {model_parallel}")
    return GridShape(tp=tp, pp=pp, dp=world // model_parallel, cp=cp, ep=ep, vpp=vpp,
                     pp_layers=_pp_layers(flags, layers, pp), gpus_per_node=gpus_per_node, gpu=gpu,
                     capacity_bytes=capacity_bytes)


def plan_from_megatron(text: str, *, gpu: str, capacity_bytes: int, gpus_per_node: int = 8,
                       world_size: int | None = None, base_model: ModelSpec | None = None,
                       name: str | None = None) -> ImportResult:
    """Megatron-LM arguments -> a Megatron-framework plan on a uniform grid of ``gpu`` cards."""
    flags = parse_flags(split_command(text, "megatron args"))
    if not flags:
        raise PlanError("megatron args", text[:40], "Megatron-LM flags such as --num-layers 40 --hidden-size 5120")
    model = model_from_flags(flags, base_model)
    grid = grid_from_flags(flags, model.layers, gpu, capacity_bytes, gpus_per_node, world_size)
    training = training_from_flags(flags)
    try:  # the plan's own bounds (engine.limits) on what the flags set
        plan = Plan(name=name or "imported from Megatron-LM", model=model, training=training,
                    method=MethodConfig(framework="megatron"), layout=grid.layout())
    except ValidationError as e:
        raise plan_error_from_validation(e) from None
    ignored = tuple(sorted(f for f in flags if f not in USED_FLAGS))
    return ImportResult(plan=plan, ignored=ignored)

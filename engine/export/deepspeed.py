"""DeepSpeed config JSON from a plan, and a pasted DeepSpeed config back into a plan.

Keys follow DeepSpeed's configuration reference
(https://www.deepspeed.ai/docs/config-json/): ``train_batch_size`` =
``train_micro_batch_size_per_gpu`` x ``gradient_accumulation_steps`` x data
parallel size; ``zero_optimization.stage``, ``offload_optimizer.device`` /
``offload_param.device`` ("cpu"), ``reduce_bucket_size`` (elements);
``bf16.enabled`` / ``fp16.enabled``.  A DeepSpeed config carries no model and
no TP/PP sizes (those belong to the training script), so import takes them as
arguments.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from engine.errors import PlanError
from engine.export.grid import GridShape, grid_shape
from engine.export.megatron_import import ImportResult
from engine.limits import MAX_CONFIG_BYTES
from engine.model.spec import ModelSpec
from engine.plan import files
from engine.plan.schema import Plan, plan_error_from_validation
from engine.training.checks import microbatches_per_step
from engine.training.config import MethodConfig, TrainingConfig


def deepspeed_config(plan: Plan) -> dict:
    """The DeepSpeed config dict for the plan (serialise with :func:`deepspeed_json`)."""
    grid = grid_shape(plan)
    tr = plan.training
    steps = microbatches_per_step(tr, grid.dp, grid.pp, grid.vpp)
    stage = max(tr.zero, 1 if tr.distributed_optimizer else 0)
    zero: dict = {"stage": stage, "reduce_bucket_size": plan.method.deepspeed_reduce_bucket_elements,
                  "overlap_comm": True, "contiguous_gradients": True}
    if tr.offload_optimizer:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
    if tr.offload_params:
        zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    config: dict = {
        "train_batch_size": tr.micro_batch * steps * grid.dp,
        "train_micro_batch_size_per_gpu": tr.micro_batch,
        "gradient_accumulation_steps": steps,
        "zero_optimization": zero,
        "bf16": {"enabled": tr.precision == "bf16"},
        "fp16": {"enabled": tr.precision == "fp16"},
        "optimizer": {"type": "SGD" if tr.optimizer == "sgd" else "AdamW" if tr.optimizer == "adamw" else "Adam"},
    }
    if tr.recompute != "none":
        config["activation_checkpointing"] = {"partition_activations": tr.partition_activations,
                                              "cpu_checkpointing": tr.cpu_checkpointing,
                                              "contiguous_memory_optimization": False}
    return config


def deepspeed_json(plan: Plan) -> str:
    return json.dumps(deepspeed_config(plan), indent=2) + "\n"


def _int(cfg: dict, key: str, where: str | None = None) -> int | None:
    value = cfg.get(key)
    if value is None or value == "auto":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON writes 5e8 as a float
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PlanError(where or key, value, "a non-negative integer")
    return value


def _enabled(cfg: dict, key: str) -> bool:
    section = cfg.get(key)
    return isinstance(section, dict) and section.get("enabled") in (True, "true", "auto")


def _offloaded(zero: dict, key: str) -> bool:
    section = zero.get(key)
    return isinstance(section, dict) and section.get("device", "none") in ("cpu", "nvme")


def _checkpointing(cfg: dict) -> dict:
    """``activation_checkpointing``: full recompute, with partitioned and CPU-resident checkpoints when asked."""
    section = cfg.get("activation_checkpointing")
    if not section:
        return {"recompute": "none"}
    if not isinstance(section, dict):
        return {"recompute": "full"}
    partition = section.get("partition_activations") is True
    return {"recompute": "full", "partition_activations": partition,
            "cpu_checkpointing": partition and section.get("cpu_checkpointing") is True}


# optimizer types for which DeepSpeed builds a FusedAdam (or 1-bit Adam), which its fp16 mode wraps in the fused
# FP16_Optimizer (deepspeed/runtime/engine.py, _configure_fp16_optimizer); others get FP16_UnfusedOptimizer
_FUSED_FP16_TYPES = {"adam", "adamw", "onebitadam", "zerooneadam"}


def _fp16_wrapper(cfg: dict) -> dict:
    """``deepspeed_fp16_optimizer`` from the config's optimizer section; without one the client passes its
    own optimizer, which the config does not name (the plan keeps its default)."""
    optimizer = cfg.get("optimizer")
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("type"), str):
        return {}
    fused = optimizer["type"].lower().replace("_", "") in _FUSED_FP16_TYPES
    return {"deepspeed_fp16_optimizer": "fused" if fused else "unfused"}


def _training(cfg: dict, zero: dict, checkpointing: dict) -> tuple[TrainingConfig, int]:
    micro = _int(cfg, "train_micro_batch_size_per_gpu") or 1
    gas = _int(cfg, "gradient_accumulation_steps") or 1
    stage = _int(zero, "stage", "zero_optimization.stage") or 0
    if stage > 3:
        raise PlanError("zero_optimization.stage", stage, "0, 1, 2 or 3")
    optimizer = cfg.get("optimizer")
    opt_type = str(optimizer.get("type", "AdamW") if isinstance(optimizer, dict) else "AdamW").lower()[:40]
    precision = "bf16" if _enabled(cfg, "bf16") or _enabled(cfg, "bfloat16") else "fp16" if _enabled(cfg, "fp16") else "fp32"
    data = {"micro_batch": micro, "precision": precision, "zero": stage,
            "optimizer": "sgd" if opt_type == "sgd" else "adam" if opt_type in ("adam", "fusedadam") else "adamw",
            "offload_optimizer": _offloaded(zero, "offload_optimizer"),
            "offload_params": stage == 3 and _offloaded(zero, "offload_param"), **checkpointing}
    try:
        return TrainingConfig.model_validate(data), gas
    except ValidationError as e:
        raise plan_error_from_validation(e) from None


def plan_from_deepspeed(text: str, *, model: ModelSpec, gpu: str, capacity_bytes: int, tp: int = 1, pp: int = 1,
                        gpus_per_node: int = 8, seq: int | None = None, name: str | None = None) -> ImportResult:
    """A DeepSpeed config JSON -> a DeepSpeed-framework plan; DP = train_batch_size / (micro x accumulation)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise PlanError("deepspeed config", f"{len(text):,} characters", f"at most {MAX_CONFIG_BYTES:,} characters")
    cfg = files.parse_json(text, "deepspeed config")
    if not isinstance(cfg, dict):
        raise PlanError("deepspeed config", type(cfg).__name__, "a JSON object")
    zero = cfg.get("zero_optimization") or {}
    if not isinstance(zero, dict):
        raise PlanError("zero_optimization", zero, "a JSON object (e.g. {\"stage\": 2})")
    training, gas = _training(cfg, zero, _checkpointing(cfg))
    per_replica = training.micro_batch * gas
    total = _int(cfg, "train_batch_size") or per_replica
    if total % per_replica:
        raise PlanError("train_batch_size", total, f"a multiple of micro-batch × accumulation = {per_replica}")
    dp = total // per_replica
    training = training.model_copy(update={"global_batch": total, **({"seq": seq} if seq else {})})
    bucket = _int(zero, "reduce_bucket_size", "zero_optimization.reduce_bucket_size")
    method = MethodConfig.model_validate(
        {"framework": "deepspeed", **({"deepspeed_reduce_bucket_elements": bucket} if bucket else {}),
         **_fp16_wrapper(cfg)})
    grid = GridShape(tp=tp, pp=pp, dp=dp, cp=1, ep=1, vpp=1, pp_layers=None, gpus_per_node=gpus_per_node,
                     gpu=gpu, capacity_bytes=capacity_bytes)
    known = {"train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "zero_optimization",
             "bf16", "bfloat16", "fp16", "optimizer", "activation_checkpointing"}
    try:  # the plan's own bounds (engine.limits) on what the config set
        plan = Plan(name=name or "imported from DeepSpeed", model=model, training=training, method=method,
                    layout=grid.layout())
    except ValidationError as e:
        raise plan_error_from_validation(e) from None
    return ImportResult(plan=plan, ignored=tuple(sorted(k for k in cfg if k not in known)))

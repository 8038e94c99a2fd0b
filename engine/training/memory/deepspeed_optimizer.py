"""What DeepSpeed's optimizer wrappers allocate beyond the ZeRO paper's 2 + 2 + 12 bytes per parameter.

Each rule is one code path of DeepSpeed (``deepspeed/runtime``), named where it is used:

* bf16 without ZeRO runs ``BF16_Optimizer``: ZeRO-1-style sharded fp32 master weights and Adam, and an
  unsharded fp32 gradient buffer (:func:`deepspeed_bf16_optimizer`);
* fp16 without ZeRO converts every gradient to fp32 at the step (:func:`deepspeed_fp32_grad_bytes_per_param`);
* without ZeRO and with data parallelism, gradients are all-reduced through flattened buckets
  (:func:`deepspeed_allreduce_bytes`);
* ZeRO 1-2 flatten and cast the partition's gradients at the step (:func:`deepspeed_zero_step_bytes_per_param`).
"""

from __future__ import annotations

from engine.training.config import MethodConfig, TrainingConfig

DEEPSPEED_ALLREDUCE_BUCKET = 500_000_000  # MEMORY_OPT_ALLREDUCE_SIZE, deepspeed/runtime/engine.py


def deepspeed_bf16_optimizer(training: TrainingConfig, method: MethodConfig, zero: int) -> bool:
    """Whether DeepSpeed runs this plan through its ``BF16_Optimizer``: bf16 without ZeRO.

    DeepSpeed accumulates bf16 gradients in fp32 when ZeRO is off (``get_data_types``) and then wraps
    the optimizer in ``BF16_Optimizer`` (``_do_optimizer_sanity_check``, ``deepspeed/runtime/engine.py``),
    which shards the fp32 master weights and the optimizer states over DP like ZeRO-1 and keeps one
    fp32 gradient buffer of every parameter, not sharded (``fp32_groups_gradients_flat``,
    ``deepspeed/runtime/bf16_optimizer.py``; BLOOM's training notes: "implements its own ZeRO Stage 1
    ... doesn't shard the static fp32 buffer ... 4 bytes * params", bigscience
    ``train/tr11-176B-ml/README.md``).  Since January 2026 (DeepSpeed PR 7790) DeepSpeed refuses bf16
    without ZeRO; ZeRO-1 with ``data_types.grad_accum_dtype`` fp32 then runs the same optimizer."""
    return (method.framework == "deepspeed" and training.precision == "bf16" and zero == 0
            and training.master_weights and not training.offload_optimizer and not training.distributed_optimizer)


def deepspeed_bucket_bytes_per_element(training: TrainingConfig, method: MethodConfig, zero: int) -> int:
    """Bytes per element of the bucket DeepSpeed's ``buffered_allreduce_fallback`` flattens when it
    all-reduces gradients without ZeRO (``allreduce_bucket``, ``deepspeed/runtime/engine.py``); 0 where
    it does not run (ZeRO 1-3 reduce their own way).  The BF16_Optimizer's fp32 gradients are flattened
    (4 B) and cast to the communication dtype, bf16 by default (2 B more); fp16 and fp32 gradients are
    flattened in their own dtype."""
    if method.framework != "deepspeed" or zero != 0 or training.offload_optimizer:
        return 0
    if deepspeed_bf16_optimizer(training, method, zero):
        return 4 + 2
    return 4 if training.precision == "fp32" else 2


def deepspeed_allreduce_bytes(training: TrainingConfig, method: MethodConfig, zero: int, shard: int,
                              grad_elements: int) -> int:
    """DeepSpeed without ZeRO, data parallel: one flattened bucket of at most 500M gradients at a time."""
    if shard <= 1:
        return 0
    per = deepspeed_bucket_bytes_per_element(training, method, zero)
    return per * min(DEEPSPEED_ALLREDUCE_BUCKET, grad_elements)


def deepspeed_fp32_grad_bytes_per_param(training: TrainingConfig, method: MethodConfig, zero: int) -> int:
    """Bytes per parameter DeepSpeed's fp16 optimizer wrapper allocates at the step without ZeRO, while
    every fp16 ``.grad`` is still alive (0 where the wrapper does not run).

    * ``FP16_UnfusedOptimizer.step`` sets ``fp32_param.grad = fp16_param.grad.to(fp32)`` for every
      parameter before the update: 4 B (``deepspeed/runtime/fp16/unfused_optimizer.py``);
    * ``FP16_Optimizer.step`` flattens a list of those fp32 copies into one buffer
      (``_flatten_dense_tensors``) before it frees the group's fp16 grads: the list and the flat buffer,
      8 B (``deepspeed/runtime/fp16/fused_optimizer.py``; counted as one parameter group: the second
      group Megatron and Hugging Face build holds only biases and norms).

    ZeRO 1-3 (and a sharded optimizer) partition their own fp32 gradients; bf16 runs DeepSpeed's
    BF16_Optimizer instead."""
    if (method.framework != "deepspeed" or training.precision != "fp16" or zero != 0
            or training.distributed_optimizer or training.offload_optimizer or not training.master_weights):
        return 0
    return 8 if method.deepspeed_fp16_optimizer == "fused" else 4


def deepspeed_zero_step_bytes_per_param(training: TrainingConfig, method: MethodConfig, zero: int) -> int:
    """Bytes per parameter of this rank's partition DeepSpeed ZeRO 1-2 allocates at the step (0 elsewhere).

    ``DeepSpeedZeroOptimizer.step`` flattens the partition's averaged 16-bit gradients
    (``flatten_dense_tensors_aligned``) and casts them to fp32 for the fp32 partition's ``.grad``; both
    exist while the cast runs: 2 + 4 B (``deepspeed/runtime/zero/stage_1_and_2.py``; fp32 training: the
    flat copy only, 4 B).  With the optimizer offloaded the fp32 gradients live in CPU memory."""
    if method.framework != "deepspeed" or zero not in (1, 2) or training.offload_optimizer:
        return 0
    return 4 if training.precision == "fp32" else 2 + 4

"""Serving launch lines: a vLLM command and llama.cpp flags, from a serving plan (``plan.serving``).

vLLM engine arguments (https://docs.vllm.ai/en/latest/serving/engine_args.html):
``--tensor-parallel-size``, ``--pipeline-parallel-size``, ``--data-parallel-size``,
``--max-model-len``, ``--gpu-memory-utilization``, ``--kv-cache-dtype``
(auto | fp8 | fp8_e4m3 | fp8_e5m2), ``--quantization``, ``--max-num-seqs``,
``--block-size``, ``--max-num-batched-tokens``.

llama.cpp ``llama-server`` (tools/server/README.md): ``-ngl`` layers on the GPU,
``--split-mode layer --tensor-split`` proportions per card, ``-c`` the context
of *all* slots together (each of ``-np`` parallel sequences gets c / np),
``-ctk``/``-ctv`` KV cache types, ``-b`` logical batch, ``--flash-attn on``
(needed for a quantized V cache; the flag takes on|off|auto since 2025).
"""

from __future__ import annotations

import shlex

from engine.errors import PlanError
from engine.export.grid import grid_shape
from engine.plan.schema import Plan

# engine.serving quant scheme -> vLLM --quantization (None: unquantized, use --dtype).
VLLM_QUANTIZATION = {
    "fp32": None, "fp16": None, "bf16": None, "fp8": "fp8", "fp8-channel": "fp8", "int8": "compressed-tensors",
    "llm-int8": "bitsandbytes", "nf4": "bitsandbytes", "fp4": "bitsandbytes", "int4-gptq": "gptq",
    "int4-awq": "awq",
}
VLLM_DTYPE = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
VLLM_KV_DTYPE = {"fp32": "auto", "fp16": "auto", "bf16": "auto", "fp8": "fp8", "fp8_e4m3": "fp8_e4m3",
                 "fp8_e5m2": "fp8_e5m2"}
LLAMACPP_KV_DTYPE = {"fp32": "f32", "fp16": "f16", "bf16": "bf16", "q8_0": "q8_0", "q4_0": "q4_0"}


def _serving(plan: Plan):
    if plan.mode != "serving" or plan.serving is None:
        raise PlanError("mode", plan.mode, "a serving plan (mode 'serving' with serving settings) for vLLM / llama.cpp")
    return plan.serving


def _quant_key(quant: str) -> str:
    from engine.weights.quant import find_scheme

    return find_scheme(quant).name.lower()


def vllm_args(plan: Plan) -> list[str]:
    cfg = _serving(plan)
    grid = grid_shape(plan)
    out = ["--tensor-parallel-size", str(grid.tp), "--pipeline-parallel-size", str(grid.pp)]
    if grid.dp > 1:
        out += ["--data-parallel-size", str(grid.dp)]
    out += ["--max-model-len", str(cfg.max_model_len or cfg.context),
            "--gpu-memory-utilization", f"{cfg.gpu_memory_utilization:g}",
            # what the estimate assumed: the plan's max_num_seqs, else vLLM's default for the card raised
            # to the plan's concurrency (it sets the sampler warm-up's requests)
            "--max-num-seqs", str(_max_num_seqs(plan))]
    kv = VLLM_KV_DTYPE.get(cfg.kv_dtype.lower())
    if kv is None:
        raise PlanError("serving.kv_dtype", cfg.kv_dtype, "fp16, bf16 or fp8 for vLLM (q8_0/q4_0 are llama.cpp's)")
    out += ["--kv-cache-dtype", kv]
    key = _quant_key(cfg.quant)
    if key not in VLLM_QUANTIZATION:
        out += ["--quantization", "gguf"]  # a GGUF file (vLLM's GGUF loader)
    else:
        method = VLLM_QUANTIZATION[key]
        out += ["--dtype", VLLM_DTYPE[key]] if method is None else ["--quantization", method]
    if cfg.paged_block_size:
        out += ["--block-size", str(cfg.paged_block_size)]
    if cfg.prefill_chunk:
        out += ["--max-num-batched-tokens", str(cfg.prefill_chunk)]
    return out


def _max_num_seqs(plan: Plan) -> int:
    from engine.serving.estimate import vllm_batch

    cfg = _serving(plan)
    batch = vllm_batch(plan, cfg.model_copy(update={"runtime": "vllm"}))  # the plan may name another runtime
    return batch.serving_seqs(cfg.batch) if batch is not None else cfg.batch


def vllm_command(plan: Plan) -> str:
    model = plan.model.name if plan.model.name not in ("", "custom") else "MODEL"
    return " \\\n  ".join([f"vllm serve {shlex.quote(model)}", *pairs(vllm_args(plan))]) + "\n"


def _tensor_split(plan: Plan) -> tuple[float, ...]:
    cfg = plan.serving
    if cfg is not None and cfg.tensor_split:
        return cfg.tensor_split
    if plan.layout.pp_layers:
        return tuple(float(x) for x in plan.layout.pp_layers)
    return (1.0,) * len(plan.layout.cards)


def llamacpp_args(plan: Plan) -> list[str]:
    cfg = _serving(plan)
    kv = LLAMACPP_KV_DTYPE.get(cfg.kv_dtype.lower())
    if kv is None:
        raise PlanError("serving.kv_dtype", cfg.kv_dtype, "fp16, bf16, fp32, q8_0 or q4_0 for llama.cpp")
    layers = plan.model.layers + 1 if cfg.gpu_layers is None else cfg.gpu_layers  # +1: the output layer
    # -c is the KV cache of all slots together: context per sequence x parallel sequences.
    out = ["-ngl", str(layers), "-c", str(cfg.context * cfg.batch), "-np", str(cfg.batch)]
    if cfg.cpu_moe_layers:
        out += ["--n-cpu-moe", str(cfg.cpu_moe_layers)]
    if len(plan.layout.cards) > 1:
        out += ["--split-mode", "layer", "--tensor-split", ",".join(f"{x:g}" for x in _tensor_split(plan))]
    out += ["-ctk", kv, "-ctv", kv, "-b", str(cfg.prefill_chunk or 2048)]
    if cfg.flash_attention or kv not in ("f16", "bf16", "f32"):
        out += ["--flash-attn", "on"]
    return out


def llamacpp_command(plan: Plan) -> str:
    return " \\\n  ".join(["llama-server -m MODEL.gguf", *pairs(llamacpp_args(plan))]) + "\n"


def pairs(args: list[str]) -> list[str]:
    """Flags with their values on one line each (values shell-quoted)."""
    out, i = [], 0
    while i < len(args):
        if i + 1 < len(args) and not args[i + 1].startswith("-"):
            out.append(f"{args[i]} {shlex.quote(args[i + 1])}")
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out

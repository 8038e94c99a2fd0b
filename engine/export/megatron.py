"""Megatron-LM launch arguments from a plan (``pretrain_gpt.py`` flags).

Flag names follow Megatron-LM's ``megatron/training/arguments.py`` (core_r0.9+):
``--tensor-model-parallel-size``, ``--pipeline-model-parallel-size``,
``--num-layers-per-virtual-pipeline-stage``, ``--decoder-first-pipeline-num-layers`` /
``--decoder-last-pipeline-num-layers`` (uneven first/last stage, middle stages
even), ``--use-distributed-optimizer``, ``--recompute-granularity`` ...
Megatron ties the output layer to the embedding unless
``--untie-embeddings-and-output-weights`` is given.
"""

from __future__ import annotations

import shlex

from engine.errors import PlanError
from engine.export.grid import GridShape, grid_shape
from engine.model.spec import ModelSpec
from engine.plan.schema import Plan
from engine.training.checks import microbatches_per_step
from engine.training.config import TrainingConfig

POSITION_TYPES = {"rope": "rope", "learned": "learned_absolute", "none": "none"}


def global_batch(training: TrainingConfig, grid: GridShape) -> int:
    """The global batch the plan runs with (the default fills the pipeline: m = PP micro-batches)."""
    m = microbatches_per_step(training, grid.dp, grid.pp, grid.vpp)
    return training.micro_batch * grid.dp * m


def _uneven_split_args(layers: int, grid: GridShape) -> list[str]:
    split = grid.pp_layers
    if split is None or len(set(split)) == 1:
        return []
    first, last, middle = split[0], split[-1], split[1:-1]
    if len(set(middle)) > 1:
        raise PlanError("layout.pp_layers", ",".join(map(str, split)),
                        "equal middle stages for Megatron-LM (only the first and last stage may differ)")
    out = []
    even = middle[0] if middle else None
    if even is None or first != even:
        out += ["--decoder-first-pipeline-num-layers", str(first)]
    if even is None or last != even:
        out += ["--decoder-last-pipeline-num-layers", str(last)]
    return out


def _parallel_args(plan: Plan, grid: GridShape) -> list[str]:
    tr = plan.training
    out = ["--tensor-model-parallel-size", str(grid.tp), "--pipeline-model-parallel-size", str(grid.pp)]
    if grid.vpp > 1:
        out += ["--num-layers-per-virtual-pipeline-stage", str(plan.model.layers // (grid.pp * grid.vpp))]
    out += _uneven_split_args(plan.model.layers, grid)
    if grid.cp > 1:
        out += ["--context-parallel-size", str(grid.cp)]
    if grid.ep > 1:
        out += ["--expert-model-parallel-size", str(grid.ep)]
    if tr.zero >= 2:
        raise PlanError("training.zero", tr.zero, "0 or 1 for Megatron-LM (ZeRO-2/3 is DeepSpeed: export --format deepspeed)")
    if tr.shards_optimizer:
        out.append("--use-distributed-optimizer")
    if tr.sequence_parallel and grid.tp > 1:
        out.append("--sequence-parallel")
    if tr.offload_optimizer:
        out += ["--optimizer-cpu-offload"]
    return out


def _training_args(plan: Plan, grid: GridShape) -> list[str]:
    tr = plan.training
    out = ["--micro-batch-size", str(tr.micro_batch), "--global-batch-size", str(global_batch(tr, grid)),
           "--seq-length", str(tr.seq)]
    if tr.recompute == "selective":
        out += ["--recompute-granularity", "selective"]
    elif tr.recompute == "full":
        out += ["--recompute-granularity", "full", "--recompute-method", "uniform", "--recompute-num-layers", "1"]
    if tr.precision != "fp32":
        out.append(f"--{tr.precision}")
    if tr.flash_attention:
        out.append("--use-flash-attn")
    out += ["--optimizer", "sgd" if tr.optimizer == "sgd" else "adam"]
    return out


def _moe_layer_freq(spec: ModelSpec) -> str:
    moe = spec.moe
    if moe is None:
        return "1"
    if moe.first_dense_layers == 0:
        return str(moe.layer_freq)
    if moe.layer_freq == 1:
        return f"([0]*{moe.first_dense_layers}+[1]*{spec.layers - moe.first_dense_layers})"
    return "[" + ",".join("1" if spec.is_moe_layer(i) else "0" for i in range(spec.layers)) + "]"


def _moe_args(spec: ModelSpec) -> list[str]:
    moe = spec.moe
    if moe is None:
        return []
    out = ["--num-experts", str(moe.experts), "--moe-router-topk", str(moe.top_k),
           "--moe-ffn-hidden-size", str(moe.expert_ffn), "--moe-layer-freq", _moe_layer_freq(spec)]
    if moe.shared_experts:
        out += ["--moe-shared-expert-intermediate-size", str(moe.shared_experts * (moe.shared_expert_ffn or moe.expert_ffn))]
    return out


def _mla_args(spec: ModelSpec) -> list[str]:
    m = spec.mla
    if m is None:
        return []
    out = ["--multi-latent-attention", "--kv-lora-rank", str(m.kv_lora_rank), "--qk-head-dim", str(m.qk_nope_head_dim),
           "--qk-pos-emb-head-dim", str(m.qk_rope_head_dim), "--v-head-dim", str(m.v_head_dim)]
    if m.q_lora_rank is not None:
        out += ["--q-lora-rank", str(m.q_lora_rank)]
    return out


def _model_args(spec: ModelSpec) -> list[str]:
    out = ["--num-layers", str(spec.layers), "--hidden-size", str(spec.hidden),
           "--num-attention-heads", str(spec.heads), "--ffn-hidden-size", str(spec.ffn_)]
    if spec.kv_heads_ != spec.heads:
        out += ["--group-query-attention", "--num-query-groups", str(spec.kv_heads_)]
    if spec.head_dim is not None and spec.head_dim != spec.hidden // spec.heads:
        out += ["--kv-channels", str(spec.head_dim)]
    if spec.gated_mlp:
        out.append("--swiglu")
    if spec.norm == "rmsnorm":
        out += ["--normalization", "RMSNorm"]
    if not spec.bias:
        out.append("--disable-bias-linear")
        if spec.qkv_bias_:
            out.append("--add-qkv-bias")
    if spec.qk_norm:
        out.append("--qk-layernorm")
    if spec.position_embedding not in POSITION_TYPES:
        raise PlanError("model.position_embedding", spec.position_embedding, "rope, learned or none for Megatron-LM")
    out += ["--position-embedding-type", POSITION_TYPES[spec.position_embedding]]
    if spec.position_embedding == "learned":
        out += ["--max-position-embeddings", str(spec.max_position)]
    if spec.vocab is not None:
        out += ["--vocab-size", str(spec.vocab), "--make-vocab-size-divisible-by", "1"]
    if not spec.tied_embeddings:
        out.append("--untie-embeddings-and-output-weights")
    out += ["--hidden-dropout", f"{spec.dropout:g}", "--attention-dropout", f"{spec.dropout:g}"]
    if spec.sliding_window is not None:
        out += ["--window-size", f"{spec.sliding_window},0"]
    return out + _moe_args(spec) + _mla_args(spec)


def megatron_args(plan: Plan) -> list[str]:
    """Megatron-LM flags (flag and value as separate items) for ``pretrain_gpt.py``."""
    grid = grid_shape(plan)
    return _parallel_args(plan, grid) + _training_args(plan, grid) + _model_args(plan.model)


def megatron_command(plan: Plan) -> str:
    """A ``torchrun`` command line, one flag per line, with the plan's world size."""
    grid = grid_shape(plan)
    args = megatron_args(plan)
    lines = [f"# vramplan plan {plan.name.splitlines()[0] if plan.name else ''!r}: {grid.world} cards = TP {grid.tp} x CP {grid.cp} x DP {grid.dp} x PP {grid.pp}",
             f"torchrun --nnodes {grid.world // grid.procs_per_node} --nproc-per-node {grid.procs_per_node} pretrain_gpt.py"]
    if plan.model.vocab is None:
        lines.insert(1, f"# article-level model ({plan.model.params:,} parameters declared): add --vocab-size and the "
                        "tokenizer flags of your run")
    i = 0
    while i < len(args):
        flag = args[i]
        if i + 1 < len(args) and not args[i + 1].startswith("--"):
            lines.append(f"  {flag} {shlex.quote(args[i + 1])}")
            i += 2
        else:
            lines.append(f"  {flag}")
            i += 1
    comments = [line for line in lines if line.startswith("#")]
    command = [line for line in lines if not line.startswith("#")]
    return "\n".join(comments) + "\n" + " \\\n".join(command) + "\n"

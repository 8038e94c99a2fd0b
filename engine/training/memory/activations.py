"""Activation memory of one transformer layer, term by term.

Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
Transformer Models", Table 2: a GPT layer saves s*b*h*(34 + 5*a*s/h) bytes
(16-bit activations, 1-byte dropout masks).  This module derives the same
number from the tensors autograd keeps, so it adapts to the architecture:

attention   LN input 2sbh, QKV input 2sbh, Q 2sb*q, K 2sb*kv, V 2sb*kv,
            softmax output 2*a*s^2*b, [dropout mask a*s^2*b, dropout output
            2*a*s^2*b], output-projection input 2sb*q, [dropout mask sbh]
MLP         LN input 2sbh, FC1 input 2sbh, GeLU input 2sbf and FC2 input 2sbf
            (gated: gate and up outputs 4sbf, FC2 input 2sbf), [dropout mask sbh]

With q = kv = h, f = 4h and dropout this is 34sbh + 5as^2b, Korthikanti's
figure (Megatron's ``compute_activation_memory`` writes it 18 + 4f/h).
TP divides what lives inside the TP region; the LN inputs, linear inputs and
dropout masks (10sbh) are split only with sequence parallelism.  Flash
attention and selective recompute drop the s^2 terms (flash keeps a fp32
log-sum-exp per head and token instead).  Megatron's theoretical estimate
ignores GQA, gated MLPs and missing dropout; this module does not.

Measured with PyTorch (tests/fidelity, docs/fidelity.md), two more terms are
real and counted here: the fused norms keep fp32 statistics per token (mean
and 1/std for LayerNorm: 8 B; 1/rms for RMSNorm: 4 B), and fused RoPE writes
the rotated Q and K to new buffers while V, a view of the QKV output, keeps
that whole buffer alive (e·sb·(q+kv) more).  Hugging Face eager code saves
much more; its profile is :mod:`engine.training.memory.huggingface`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from engine.model.spec import ModelSpec, MoESpec
from engine.report.formatting import ceil_div, n
from engine.training.config import BALANCED_LOAD, ExpertLoad


@dataclass(frozen=True, slots=True)
class LayerActivations:
    bytes: int
    formula: str


def _terms(spec: ModelSpec, moe_layer: bool, s: int, b: int, t: int, sp: bool, flash: bool,
           drop_scores: bool, e: int, ep: int, load: ExpertLoad = BALANCED_LOAD) -> list[tuple[str, int]]:
    """(label with symbols, bytes on one TP rank) for each saved tensor."""
    h = spec.hidden
    dropout = spec.dropout > 0
    sbh = s * b * h
    rep = t if sp else 1  # divisor of the tensors outside the TP region
    heads = spec.heads
    terms: list[tuple[str, int]] = []
    # Norm inputs: in a parallel block every norm reads the layer input itself, one tensor; a shared norm
    # (norms_per_layer = 1) feeds one output to both QKV and FC1.
    inputs = 1 if spec.parallel_ else spec.norms_per_layer
    terms.append((f"{inputs}·{e}·sbh norm inputs", ceil_div(inputs * e * sbh, rep)))
    stats = norm_stat_bytes(spec)
    terms.append((f"{spec.norms_per_layer}·{stats}·sb fp32 norm statistics",
                  ceil_div(spec.norms_per_layer * stats * s * b, rep)))
    linear_inputs = 2 if spec.norms_per_layer >= 2 else 1
    terms.append((f"{linear_inputs}·{e}·sbh QKV/FC1 inputs", ceil_div(linear_inputs * e * sbh, rep)))
    if spec.mla is not None:
        m = spec.mla
        q_dim = heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
        k_dim = q_dim
        v_dim = heads * m.v_head_dim
        latent = 2 * (m.q_lora_rank or 0) + 2 * m.kv_lora_rank + m.qk_rope_head_dim
        terms.append((f"{e}·sb·{latent} MLA latents", ceil_div(e * s * b * latent, rep)))
        out_dim = v_dim
    else:
        q_dim = heads * spec.head_dim_
        k_dim = v_dim = spec.kv_heads_ * spec.head_dim_
        out_dim = q_dim
    terms.append((f"{e}·sb·({q_dim}+{k_dim}+{v_dim})/t Q,K,V", ceil_div(e * s * b * (q_dim + k_dim + v_dim), t)))
    if spec.qk_norm:
        terms.append((f"{e}·sb·({q_dim}+{k_dim})/t qk-norm inputs", ceil_div(e * s * b * (q_dim + k_dim), t)))
        qk_heads = heads + (heads if spec.mla is not None else spec.kv_heads_)
        terms.append((f"{stats}·sb·{qk_heads}/t qk-norm statistics", ceil_div(stats * s * b * qk_heads, t)))
    if spec.position_embedding == "rope" and spec.mla is None:
        terms.append((f"{e}·sb·({q_dim}+{k_dim})/t RoPE-rotated Q,K", ceil_div(e * s * b * (q_dim + k_dim), t)))
    if flash:
        terms.append(("4·a·s·b/t flash log-sum-exp (fp32)", ceil_div(4 * heads * s * b, t)))
    elif not drop_scores:
        scores = heads * s * s * b
        terms.append((f"{e}·a·s²·b/t softmax output", ceil_div(e * scores, t)))
        if dropout:
            terms.append((f"(1+{e})·a·s²·b/t attention dropout mask+output", ceil_div((1 + e) * scores, t)))
    terms.append((f"{e}·sb·{out_dim}/t output-projection input", ceil_div(e * s * b * out_dim, t)))
    if dropout:
        terms.append(("2·sbh dropout masks", ceil_div(2 * sbh, rep)))
    if spec.moe is not None and moe_layer:
        terms.extend(_moe_terms(spec, spec.moe, s, b, t, rep, e, ep, load))
    else:
        f = spec.ffn_
        per_ffn = 3 if spec.gated_mlp else 2
        label = "gate/up outputs + FC2 input" if spec.gated_mlp else "activation input + FC2 input"
        terms.append((f"{per_ffn}·{e}·sbf/t {label}", ceil_div(per_ffn * e * s * b * f, t)))
    return terms


def routed_copies(moe: MoESpec, tokens: int, ep: int, load: ExpertLoad) -> int:
    """Routed token copies the busiest EP rank's experts process when each of the ``ep`` ranks of its
    expert-parallel group routes ``tokens`` tokens to its top-k experts (rules and sources:
    :class:`engine.training.config.ExpertLoad`).

    Average (balanced): ``T·k``.  A rank holding ``L = ceil(E / EP)`` experts receives at most
    ``min(k, L)`` copies of each token of the group: ``EP · T · min(k, L)`` (the drop-less worst
    case, and the cap of every rule).  A capacity factor ``c`` keeps at most
    ``ceil(T·k / E · c)`` copies per expert and source rank (Megatron-Core ``get_capacity``).
    """
    k, experts = moe.top_k, moe.experts
    average = tokens * k
    local = ceil_div(experts, ep)
    dropless = ep * tokens * min(k, local)
    factor = load.factor
    if load.kind == "dropless-worst-case":
        return dropless
    if load.kind == "balanced" or factor is None:
        return average
    if load.kind == "measured":
        return min(math.ceil(average * factor), dropless)
    capacity = math.ceil(average / experts * factor)  # per expert and source rank, as Megatron computes it
    return min(ep * min(local * min(capacity, tokens), tokens * min(k, local)), dropless)


def _moe_terms(spec: ModelSpec, moe: MoESpec, s: int, b: int, t: int, rep: int, e: int, ep: int = 1,
               load: ExpertLoad = BALANCED_LOAD) -> list[tuple[str, int]]:
    """Router, dispatch and experts of a MoE layer (Megatron's token-choice top-k with permute/unpermute).

    Measured (tests/fidelity): besides the expert inputs and FFNs, the routed
    expert outputs are kept to weight them by the router probabilities in
    backward, and the dispatch keeps three int64 index vectors (top-k choice,
    sort order, token of each copy) and the 16-bit routing weights.

    Expert load: the router's probabilities, the index vectors and the weighted expert outputs
    live on the source rank (``T·k`` copies, before the dispatch all-to-all and after the
    combine); the permuted expert inputs and the expert FFN activations live on the rank that
    holds the experts, so they count the copies the busiest EP rank receives
    (:func:`routed_copies`; equal to ``T·k`` under balanced routing).
    """
    tokens = s * b * moe.top_k  # routed token copies this rank sends (its own tokens, top-k)
    received = routed_copies(moe, s * b, ep, load)
    per_ffn = 3 if spec.gated_mlp else 2
    h = spec.hidden
    r = "R" if received != tokens else "sb·k"
    terms = [
        (f"4·sb·{moe.experts} router probabilities (fp32)", ceil_div(4 * s * b * moe.experts, rep)),
        (f"(3·8+{e})·sb·k routing indices (int64) and weights", ceil_div((24 + e) * tokens, rep)),
        ((f"busiest EP rank receives R = {n(received)} copies ({load.label}, EP {ep}, k {moe.top_k}, "
          f"{moe.experts} experts; balanced sb·k = {n(tokens)}): " if received != tokens else "")
         + f"{e}·{r}·h permuted expert inputs", ceil_div(e * received * h, rep)),
        (f"{per_ffn}·{e}·{r}·f_e/t expert FFN", ceil_div(per_ffn * e * received * moe.expert_ffn, rep * t)),
        (f"{e}·sb·k·h expert outputs", ceil_div(e * tokens * h, rep)),
    ]
    if moe.shared_experts:
        f_shared = (moe.shared_expert_ffn or moe.expert_ffn) * moe.shared_experts
        terms.append((f"{per_ffn}·{e}·sb·{f_shared}/t shared experts", ceil_div(per_ffn * e * s * b * f_shared, t)))
    return terms


def norm_stat_bytes(spec: ModelSpec) -> int:
    """fp32 statistics a fused norm keeps per token: mean and 1/std (LayerNorm) or 1/rms (RMSNorm)."""
    return 8 if spec.norm == "layernorm" else 4


@lru_cache(maxsize=16384)  # bounded: a long GUI session or a soak run must not grow it
def layer_activations(spec: ModelSpec, moe_layer: bool, s: int, b: int, t: int, sp: bool, flash: bool,
                      drop_scores: bool, e: int, ep: int = 1, load: ExpertLoad = BALANCED_LOAD) -> LayerActivations:
    """Bytes one layer saves for backward on one TP rank, for one micro-batch (``load``: the MoE expert
    load of the busiest EP rank, :class:`engine.training.config.ExpertLoad`)."""
    terms = _terms(spec, moe_layer, s, b, t, sp, flash, drop_scores, e, ep, load)
    total = sum(v for _, v in terms)
    formula = f"s={n(s)} b={b} h={n(spec.hidden)} a={spec.heads} t={t}: " + " + ".join(
        f"{label} {n(v)}" for label, v in terms
    ) + f" = {n(total)} B"
    return LayerActivations(total, formula)


def layer_input_bytes(spec: ModelSpec, s: int, b: int, t: int, sp: bool, e: int) -> int:
    """The checkpointed layer input kept by full recompute."""
    return ceil_div(e * s * b * spec.hidden, t if sp else 1)


def checkpoint_bytes(spec: ModelSpec, s: int, b: int, t: int, sp: bool, e: int, partition: bool,
                     in_cpu: bool) -> int:
    """GPU bytes of one full-recompute checkpoint (a layer input) on one TP rank.

    DeepSpeed's activation checkpointing (``deepspeed/runtime/activation_checkpointing/checkpointing.py``):
    ``partition_activations`` keeps 1/TP of each checkpointed input on each model-parallel rank (all-gathered
    again when the layer is recomputed; with sequence parallelism the input is split already), and
    ``cpu_checkpointing`` moves those partitions to host memory, so none stays on the GPU.
    """
    if in_cpu:
        return 0
    kept = layer_input_bytes(spec, s, b, t, sp, e)
    return ceil_div(kept, t) if partition and not sp else kept

"""Activation / workspace peak of one forward pass during serving.

Inference keeps nothing for backward, so the peak is one layer's working set
for the tokens of the largest forward pass (a prefill chunk of ``T`` tokens
over all sequences; vLLM and TensorRT-LLM profile one full chunk before sizing
their KV pool), in 16-bit activations (``e`` = 2 B):

* layer working set: ``e · T · (3h + max((q + 2kv + a)/t, 3f/t))``: the residual
  and its normed copy, each block's intermediates (Q/K/V and the attention
  output; a gated MLP's fused gate-up output and the activation's output, or
  FC1's output and the activation's), and the block's output projection being
  written while they are still referenced: vLLM's ``LlamaMLP.forward`` keeps
  ``gate_up`` bound until it returns, after ``down_proj`` has allocated its
  output (``vllm/model_executor/models/llama.py``; the RTX 3090 profile of
  vllm-project/vllm issue 10517 peaks 2.07 GiB above the weights at 20,000
  tokens: 20,000 × 2 B × (3 · 4,096 + 3 · 14,336) = 2.06 GiB).  ``f`` is the
  dense FFN, or ``top_k`` routed experts' FFN plus the shared experts' for MoE
  layers, where vLLM's fused MoE kernel also holds every routed expert's output
  in full hidden width (``top_k · h``, :func:`_mlp_width`);
* attention scores without flash attention: ``(e + 4) · a/t · T · context``:
  the 16-bit scores and their fp32 softmax (eager attention upcasts), each query
  of the chunk against every cached key; with flash attention only the fp32
  log-sum-exp, ``4 · a/t · T``;
* logits on the card holding the output layer: ``(e + 4) · N · V`` for the
  ``N`` positions whose logits are computed (the last token of each sequence,
  or every prompt token), 16-bit logits plus their fp32 copy for sampling;
  vLLM and TensorRT-LLM gather the vocab-parallel logits on every rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.model.spec import ModelSpec, MoESpec
from engine.report.formatting import ceil_div, n

ACT_BYTES = 2  # 16-bit activations (a model served in fp32 computes in 4 B: Setting.act_bytes)


@dataclass(frozen=True, slots=True)
class Workspace:
    activations: int
    activations_formula: str
    logits: int
    logits_formula: str


def _shared_ffn_width(moe: MoESpec) -> int:
    """The always-active shared experts' FFN width, all of them together."""
    return (moe.shared_expert_ffn or moe.expert_ffn) * moe.shared_experts


def _ffn_width(spec: ModelSpec, moe_layer: bool) -> int:
    moe = spec.moe
    if moe is None or not moe_layer:
        return spec.ffn_
    return moe.top_k * moe.expert_ffn + _shared_ffn_width(moe)


@lru_cache(maxsize=4096)  # bounded: a long GUI session or a soak run must not grow it
def _widest_ffn(spec: ModelSpec, layers: tuple[int, ...]) -> int:
    kinds = {spec.is_moe_layer(i) for i in layers} or {False}
    return max(_ffn_width(spec, k) for k in kinds)


def _qkv_width(spec: ModelSpec) -> int:
    if spec.mla is not None:
        m = spec.mla
        return spec.heads * (2 * (m.qk_nope_head_dim + m.qk_rope_head_dim) + m.v_head_dim)
    return (spec.heads + 2 * spec.kv_heads_) * spec.head_dim_


def forward_tokens(context: int, batch: int, chunk: int | None, profiled: bool = False) -> int:
    """Tokens of the largest forward pass: the whole prompt batch, or one prefill chunk.

    ``profiled``: the runtime sizes its pool after a profile run of one full
    chunk (vLLM's ``max_num_batched_tokens``, TensorRT-LLM's ``max_num_tokens``),
    whatever the requests.
    """
    whole = context * batch
    if chunk is None:
        return whole
    return chunk if profiled else min(chunk, whole)


def _mlp_width(spec: ModelSpec, layers: tuple[int, ...], tp: int, fused_moe: bool, moe_in_workspace: bool = False) -> int:
    """Elements per token of the widest MLP block among ``layers`` on one of ``tp`` ranks.

    Gated: the fused gate-up output 2f and the activation's output f alive together; otherwise
    FC1's output and the activation's output, 2f.  ``fused_moe`` (vLLM): a MoE layer's
    ``fused_experts`` also allocates, beside those two caches, the down projection's output of every
    routed (token, expert) pair in full hidden width before ``moe_sum`` adds them up:
    ``intermediate_cache3`` of shape (tokens, top_k, hidden), not divided by TP
    (``vllm/model_executor/layers/fused_moe/fused_moe.py``, ``fused_experts_impl``).  ``moe_in_workspace``
    (vLLM from 0.19): those caches live in its persistent workspace (:mod:`engine.serving.vllm_moe_workspace`),
    so a MoE layer's working set here is its shared experts' MLP only.
    """
    kinds = {spec.is_moe_layer(i) for i in layers} or {False}
    mult = 3 if spec.gated_mlp else 2

    def width(moe_layer: bool) -> int:
        if moe_layer and moe_in_workspace and spec.moe is not None:
            return mult * ceil_div(_shared_ffn_width(spec.moe), tp)
        w = mult * ceil_div(_ffn_width(spec, moe_layer), tp)
        if moe_layer and fused_moe and spec.moe is not None:
            w += spec.moe.top_k * spec.hidden
        return w

    return max(width(k) for k in kinds)


def _parts(spec: ModelSpec, layers: tuple[int, ...], tp: int, context: int, tokens: int,
           flash: bool, fused_moe: bool = False, moe_in_workspace: bool = False, e: int = ACT_BYTES) -> tuple[int, int]:
    """(layer working set, attention scores or flash statistics) in bytes, activations of ``e`` bytes."""
    if not layers:
        return 0, 0
    # The residual and its normed copy (2h), the larger of the attention block (Q/K/V and the
    # attention output) and the MLP block (:func:`_mlp_width`), and the block's output projection (h)
    # written while they are referenced.
    mlp = _mlp_width(spec, layers, tp, fused_moe, moe_in_workspace)
    attention = ceil_div(_qkv_width(spec) + spec.heads * spec.head_dim_, tp)
    per_token = 3 * spec.hidden + max(mlp, attention)
    heads = ceil_div(spec.heads, tp)
    scores = 4 * heads * tokens if flash else (e + 4) * heads * tokens * context
    return e * tokens * per_token, scores


def ggml_compute_buffer(spec: ModelSpec, layers: tuple[int, ...], context: int, ubatch: int, flash: bool,
                        holds_output: bool, staged: tuple[int, str] = (0, "")) -> tuple[int, str]:
    """llama.cpp's compute buffer: the graph reserved for a worst-case batch of ``n_ubatch`` tokens.

    ``llama_context`` reserves the graph with one output per token of the ubatch
    (``graph_reserve(n_tokens, n_seqs, n_outputs = n_tokens)`` in ``src/llama-context.cpp``) and
    ggml-alloc reuses freed tensors, so the buffer is the f32 residual and one FFN intermediate
    (``4 · n_ub · (h + f)``) plus the larger of: the f32 logits of every ubatch token
    (``4 · n_ub · V``, on the card with the output layer) and, without flash attention, the f32
    ``KQ`` of all heads against the whole context with its f32 mask (``4 · n_ub · n_ctx · (a + 1)``,
    ``build_attn_mha`` in ``src/llama-graph.cpp``; the softmax runs in place) and, on the first card, a
    weight staged from system RAM (``staged``, :mod:`engine.serving.llamacpp_offload`), which is live at
    its own op and not at the attention's or the logits'.
    """
    copy, copy_text = staged
    if not layers and not holds_output and not copy:
        return 0, "0 (no layers)"
    # a staged weight's op runs here with the width of the layer it belongs to
    widths = layers if layers else tuple(range(spec.layers)) if copy else ()
    working = 4 * ubatch * (spec.hidden + (_widest_ffn(spec, widths) if widths else 0))
    kq = 0 if flash or not layers else 4 * ubatch * context * (spec.heads + 1)
    logits = 4 * ubatch * spec.vocab if holds_output and spec.vocab else 0
    total = working + max(kq, logits, copy)
    kq_text = "0 (flash attention)" if flash else f"KQ + mask 4 B × {n(ubatch)} × {n(context)} × ({spec.heads} + 1) = {n(kq)}"
    staged_text = f", {copy_text}" if copy else ""
    return total, (f"n_ubatch {n(ubatch)}: residual + FFN 4 B × {n(ubatch)} × (h + f) {n(working)} + max({kq_text}, "
                   f"logits 4 B × {n(ubatch)} × V {n(logits)}{staged_text}) = {n(total)} B")


def workspace_bytes(spec: ModelSpec, layers: tuple[int, ...], tp: int, context: int, batch: int,
                    tokens: int, flash: bool, logits_mode: str, holds_output: bool, ggml: bool = False,
                    fused_moe: bool = False, moe_in_workspace: bool = False,
                    staged: tuple[int, str] = (0, ""), e: int = ACT_BYTES) -> tuple[int, int]:
    """(activation workspace, logits) in bytes for a forward pass of ``tokens``, without formulas; ``e``: the
    bytes of an activation (the model's compute dtype: 2, or 4 for a model served in fp32)."""
    if ggml:
        return ggml_compute_buffer(spec, layers, context, tokens, flash, holds_output, staged)[0], 0
    layer, scores = _parts(spec, layers, tp, context, tokens, flash, fused_moe, moe_in_workspace, e)
    if not holds_output or spec.vocab is None:
        return layer + scores, 0
    positions = batch if logits_mode == "last" else tokens
    return layer + scores, (e + 4) * positions * spec.vocab


def workspace(spec: ModelSpec, layers: tuple[int, ...], tp: int, context: int, batch: int,
              tokens: int, flash: bool, logits_mode: str, holds_output: bool, ggml: bool = False,
              fused_moe: bool = False, moe_in_workspace: bool = False, staged: tuple[int, str] = (0, ""),
              e: int = ACT_BYTES) -> Workspace:
    """:func:`workspace_bytes` with formulas."""
    if ggml:
        total, text = ggml_compute_buffer(spec, layers, context, tokens, flash, holds_output, staged)
        return Workspace(total, text, 0, "0 (in the compute buffer)")
    h, t = spec.hidden, tp
    f = _widest_ffn(spec, layers) if layers else 0
    qkv = _qkv_width(spec)
    layer, scores = _parts(spec, layers, tp, context, tokens, flash, fused_moe, moe_in_workspace, e)
    heads = ceil_div(spec.heads, t)
    if not layers:
        s_text = "0 (no layers)"
    elif flash:
        s_text = f"flash log-sum-exp 4 B × {heads} heads × T {n(tokens)}"
    else:
        s_text = f"scores ({e} + 4) B × {heads} heads × T {n(tokens)} × context {n(context)}"
    act = layer + scores
    moe_outputs = ""
    if moe_in_workspace and spec.moe is not None and any(spec.is_moe_layer(i) for i in layers):
        moe_outputs = "; MoE layers: shared experts only, the routed experts' caches in the persistent workspace"
    elif fused_moe and spec.moe is not None and any(spec.is_moe_layer(i) for i in layers):
        moe_outputs = f"; MoE layers + fused_moe's expert outputs {spec.moe.top_k}·{n(h)}"
    text = (f"T = {n(tokens)} tokens per forward; layer {e} B × T × (3·{n(h)} + max(attention {n(qkv)}/{t} + output,"
            f" MLP {3 if spec.gated_mlp else 2}·{n(f)}/{t}{moe_outputs}))"
            f" = {n(layer)} + {s_text} = {n(act)} B")
    if not holds_output or spec.vocab is None:
        return Workspace(act, text, 0, "0 (output layer on another card)" if spec.vocab else "0 (no vocab)")
    positions = batch if logits_mode == "last" else tokens
    logits = (e + 4) * positions * spec.vocab
    l_text = f"({e} + 4) B × {n(positions)} positions ({logits_mode}) × V {n(spec.vocab)} = {n(logits)} B"
    return Workspace(act, text, logits, l_text)

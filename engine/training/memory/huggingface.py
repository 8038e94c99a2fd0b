"""Activation memory of one layer as Hugging Face ``transformers`` eager code saves it.

Measured tensor by tensor with PyTorch (tests/fidelity/layers.py mirrors
``LlamaDecoderLayer``; docs/fidelity.md has the table).  Per layer, e bytes per
16-bit element, q = heads·head_dim, g = kv_heads·head_dim:

norms       ``LlamaRMSNorm`` upcasts: its fp32 copy of the input (4·sbh; the
            input itself when training in fp32), an fp32 1/rms per token (4·sb),
            the normalised 16-bit tensor kept for the weight's gradient (e·sbh)
            and the norm output the projections read (e·sbh).  A LayerNorm
            (``nn.LayerNorm``) keeps its input, fp32 mean and 1/std and its output.
attention   RoPE writes new Q and K (``q*cos + rotate_half(q)*sin``) and
            ``repeat_kv`` copies K and V to all heads: e·sb·q each for Q, K, V
            (MQA at micro-batch 1: K and V stay views of one head);
            the scores' fp32 softmax (4·a·s²·b) and its 16-bit copy (e·a·s²·b;
            with attention dropout the dropped copy instead, plus a 1-byte mask);
            the ``transpose().contiguous()`` output-projection input (e·sb·q).
            With flash attention (``attn_implementation="sdpa"`` without a padding
            mask, which passes ``enable_gqa``, or ``flash_attention_2``): Q, K and V
            at their own head counts, the output and an fp32 log-sum-exp per head
            and token.
MLP         gated: gate output, its SiLU, up output and their product (4·e·sbf);
            plain: FC1 output and the activation (2·e·sbf).

MoE and MLA layers use the Megatron terms (not measured for this profile).
Tensor parallelism divides the attention and MLP terms, never the norms.
"""

from __future__ import annotations

from functools import lru_cache

from engine.model.spec import ModelSpec
from engine.report.formatting import ceil_div, n
from engine.training.config import parse_transformers_version
from engine.training.memory.activations import LayerActivations, layer_activations


def _norm_terms(spec: ModelSpec, s: int, b: int, e: int, k: int, one_input: bool = False) -> tuple[str, int]:
    """``k`` norms of width h; ``one_input``: they all read one tensor (a parallel block's layer input)."""
    sbh = s * b * spec.hidden
    if spec.norm == "rmsnorm":
        upcast = max(4, e)
        return (f"{k}·(({upcast}+{e}+{e})·sbh + 4·sb) RMSNorm fp32 copy, 1/rms, normalised, output",
                k * ((upcast + 2 * e) * sbh + 4 * s * b))
    if one_input and k > 1:
        return (f"{e}·sbh shared input + {k}·({e}·sbh + 8·sb) LayerNorm mean/rstd, outputs",
                e * sbh + k * (e * sbh + 8 * s * b))
    return f"{k}·(2·{e}·sbh + 8·sb) LayerNorm input, mean/rstd, output", k * (2 * e * sbh + 8 * s * b)


def _attention_terms(spec: ModelSpec, s: int, b: int, t: int, flash: bool, drop_scores: bool,
                     e: int) -> list[tuple[str, int]]:
    q, g, a = spec.heads * spec.head_dim_, spec.kv_heads_ * spec.head_dim_, spec.heads
    terms: list[tuple[str, int]] = []
    if flash:
        terms.append((f"{e}·sb·({q}+{g}+{g}+{q})/t Q,K,V,output", ceil_div(e * s * b * (2 * q + 2 * g), t)))
        terms.append(("4·a·s·b/t flash log-sum-exp (fp32)", ceil_div(4 * a * s * b, t)))
        return terms
    # ``repeat_kv`` of a single KV head is a stride-0 view, and ``matmul`` folds a batch of one
    # into its heads without copying: MQA at b = 1 keeps K and V at one head (measured).
    kv = g if spec.kv_heads_ == 1 and b == 1 else q
    terms.append((f"{e}·sb·({q}+{kv}+{kv})/t rotated Q, repeated K,V", ceil_div(e * s * b * (q + 2 * kv), t)))
    if not drop_scores:
        scores = a * s * s * b
        mask = 1 if spec.dropout > 0 else 0
        terms.append((f"(4+{e}+{mask})·a·s²·b/t fp32 softmax, 16-bit probabilities"
                      + (", dropout mask" if mask else ""), ceil_div((4 + e + mask) * scores, t)))
    terms.append((f"{e}·sb·{q}/t output-projection input", ceil_div(e * s * b * q, t)))
    return terms


@lru_cache(maxsize=16384)  # bounded: a long GUI session or a soak run must not grow it
def hf_layer_activations(spec: ModelSpec, moe_layer: bool, s: int, b: int, t: int, flash: bool,
                         drop_scores: bool, e: int) -> LayerActivations:
    """Bytes one layer of eager ``transformers`` code saves for backward, one micro-batch."""
    if spec.mla is not None or (moe_layer and spec.moe is not None):
        return layer_activations(spec, moe_layer, s, b, t, False, flash, drop_scores, e)
    terms = [_norm_terms(spec, s, b, e, spec.norms_per_layer, spec.parallel_),
             *_attention_terms(spec, s, b, t, flash, drop_scores, e)]
    f = spec.ffn_
    if spec.gated_mlp:
        terms.append((f"4·{e}·sbf/t gate, SiLU, up, product", ceil_div(4 * e * s * b * f, t)))
    else:
        terms.append((f"2·{e}·sbf/t FC1 output, activation", ceil_div(2 * e * s * b * f, t)))
    total = sum(v for _, v in terms)
    formula = f"HF eager, s={n(s)} b={b} h={n(spec.hidden)} a={spec.heads} t={t}: " + " + ".join(
        f"{label} {n(v)}" for label, v in terms) + f" = {n(total)} B"
    return LayerActivations(total, formula)


def hf_final_norm_bytes(spec: ModelSpec, s: int, b: int, e: int) -> tuple[int, str]:
    """The model's final norm; its output is the LM head's input.  The last layer's output
    itself is not kept (``LlamaRMSNorm`` keeps its fp32 copy instead)."""
    label, bytes_ = _norm_terms(spec, s, b, e, 1)
    return bytes_, label.removeprefix("1·")


# transformers releases whose ForCausalLMLoss copies the shifted fp32 logits (loss/loss_utils.py from 4.46; PR 35646,
# in 4.49, pads the labels instead)
SHIFTED_LOGITS_COPY = ((4, 46, 0), (4, 49, 0))
# before 4.46 each causal-LM forward computed its loss inline: ``logits = logits.float()`` rebinds the name (the
# 16-bit logits go), then ``shift_logits = logits[..., :-1, :].contiguous()`` copies (models/llama/modeling_llama.py)
INLINE_LOSS_BEFORE = (4, 46, 0)


def copies_shifted_logits(version: str | None) -> bool:
    """Whether ``ForCausalLMLoss`` of transformers ``version`` (None: a current release) copies the shifted logits."""
    if version is None:
        return False
    low, high = SHIFTED_LOGITS_COPY
    return low <= parse_transformers_version(version) < high


def computes_loss_inline(version: str | None) -> bool:
    """Whether the causal-LM forward of transformers ``version`` computes its loss inline (before 4.46)."""
    return version is not None and parse_transformers_version(version) < INLINE_LOSS_BEFORE


def causal_lm_loss_instants(e: int, version: str | None) -> tuple[int, int]:
    """(forward, backward) bytes per token and vocabulary entry of ``ForCausalLMLoss`` with ``e``-byte logits
    (:func:`causal_lm_loss_bytes`); before 4.46 the inline loss's fp32 logits, their shifted copy and the
    log-softmax (the 16-bit logits already gone): 12 B."""
    if computes_loss_inline(version):
        return 4 + 4 + 4, 4 + 4 + 4
    upcast = 4 if e < 4 else 0
    shifted = 4 if copies_shifted_logits(version) else 0
    return e + upcast + shifted + 4, 4 + 4 + 4


def causal_lm_loss_terms(e: int, version: str | None) -> str:
    """What the loss's forward instant holds per token and vocabulary entry, in words (the bytes:
    :func:`causal_lm_loss_instants`)."""
    if computes_loss_inline(version):
        return "4 fp32 logits + 4 shifted copy + 4 log-softmax"
    return (f"{e} logits" + (" + 4 fp32 copy" if e < 4 else "")
            + (" + 4 shifted copy" if copies_shifted_logits(version) else "") + " + 4 log-softmax")


def causal_lm_loss_bytes(e: int, version: str | None) -> tuple[int, str]:
    """Bytes per token and vocabulary entry at the highest instant of ``ForCausalLMLoss`` with ``e``-byte logits.

    The loss keeps the e-byte logits in the model output, upcasts them (``logits.float()``; the logits
    themselves in fp32 training) and ``cross_entropy`` keeps its fp32 log-softmax for the backward; from
    4.46 to 4.48 it also copies the shifted fp32 logits (``logits[..., :-1, :].contiguous()``), since 4.49
    it pads the labels instead.  The model output and the loss's locals are gone when the Trainer calls
    ``backward`` (``compute_loss`` returns the loss alone), and the backward then holds the saved
    log-softmax, ``nll_loss``'s fp32 gradient and the log-softmax's input gradient: 12 B.  torchtune's
    recipes reach the same backward (``output(h).float()``, then ``del logits`` before ``backward``)."""
    forward, backward = causal_lm_loss_instants(e, version)
    terms = causal_lm_loss_terms(e, version)
    if forward > backward:
        return forward, f"the loss's forward (transformers {version}): ({terms}) B"
    return backward, ("the loss's backward: (4 log-softmax + 4 nll gradient + 4 log-softmax gradient) B (the forward's "
                      f"{terms} is not more)")


def hf_logits_bytes(s: int, b: int, t: int, V: int, e: int, version: str | None = None) -> tuple[int, str]:
    """The loss over the full logits of one micro-batch (:func:`causal_lm_loss_bytes`) with the int64 labels."""
    per, text = causal_lm_loss_bytes(e, version)
    bytes_ = ceil_div(per * s * b * V, t) + 8 * s * b
    return bytes_, f"{text} × s {n(s)} × b {b} × V {n(V)} / TP {t} + 8 B × s·b labels"

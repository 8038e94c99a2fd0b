"""LitGPT's transformer block (``litgpt/model.py``) as autograd keeps it, per token: the parts shared by
full fine-tuning and LoRA (norms, attention), and the block of a full fine-tuning step.

LitGPT writes its block in plain PyTorch, so what it keeps is what each op needs for backward (measured
on the CPU with ``tests/fidelity/litgpt.py``; the fidelity grid compares), per token, e bytes per element
of the compute dtype, q = heads·head_dim, g = kv_heads·head_dim, f the MLP width:

norms       per norm call: ``RMSNorm`` upcasts its input (``x.float()``, 4·h kept) and keeps an fp32
            1/rms (4); ``LayerNorm`` keeps its input (e·h; one tensor for a parallel block's norms,
            which all read the layer input) and fp32 mean and 1/std (8).
attention   the QKV output is viewed (B, groups, q_per_kv + 2, T, hs): with as many KV heads as heads,
            V stays a view and keeps the whole QKV buffer (e·(q + 2g)) and RoPE's ``torch.cat`` writes
            new Q and K (e·q, e·g); with GQA, K and V are expanded to every head by a copy, so flash
            attention keeps V, Q and K at q width (3·e·q); plus its output (e·q) and an fp32 log-sum-exp
            per head (4·heads).

With every weight trainable (full fine-tuning) each linear also keeps its input for its weight gradient
and each norm its normalised input for its weight's: an ``RMSNorm`` call its normalised 16-bit tensor
and its output (2·e·h), a ``LayerNorm`` call its output (e·h); the output projection the attention
output transposed and reshaped (a copy, e·q); ``LLaMAMLP``'s down projection the SiLU × fc_2 product
(e·f), ``GptNeoxMLP``'s the GeLU output (e·f).

With one KV head (MQA) the CPU measurement keeps 2·e·g per token more than these terms (the LoRA count has
the same gap); GQA and MHA match byte for byte (tests/fidelity/test_fidelity.py).
"""

from __future__ import annotations

from functools import lru_cache

from engine.model.spec import ModelSpec
from engine.report.formatting import n
from engine.training.memory.activations import LayerActivations


def norm_bytes(spec: ModelSpec, e: int) -> tuple[int, int]:
    """(input, fp32 statistics) one norm call keeps per token: RMSNorm's fp32 input copy and 1/rms, or
    LayerNorm's input and mean and 1/std."""
    if spec.norm == "rmsnorm":
        return max(4, e) * spec.hidden, 4
    return e * spec.hidden, 8


def norm_terms(spec: ModelSpec, tokens: int, e: int) -> list[tuple[str, int]]:
    calls = spec.norms_per_layer  # each call keeps its own statistics (and RMSNorm its own fp32 copy)
    kept, stats = norm_bytes(spec, e)
    if spec.norm == "rmsnorm":
        return [(f"{calls}·({kept // spec.hidden}·h + {stats}) RMSNorm fp32 input copy and 1/rms",
                 calls * (kept + stats) * tokens)]
    inputs = 1 if spec.parallel_ else calls  # a parallel block's norms all read the layer input
    return [(f"{inputs}·{e}·h LayerNorm input + {calls}·{stats} fp32 mean and 1/std",
             (inputs * kept + calls * stats) * tokens)]


def attention_terms(spec: ModelSpec, tokens: int, e: int) -> list[tuple[str, int]]:
    q, g, heads = spec.heads * spec.head_dim_, spec.kv_heads_ * spec.head_dim_, spec.heads
    if spec.kv_heads_ == spec.heads:
        kept = [(f"{e}·(q+2g) QKV buffer kept by the V view", e * (q + 2 * g) * tokens),
                (f"{e}·(q+g) RoPE-rebuilt Q, K", e * (q + g) * tokens)]
    else:
        kept = [(f"3·{e}·q Q, K and V expanded to every head", 3 * e * q * tokens)]
    return [*kept, (f"{e}·q attention output", e * q * tokens), ("4·heads flash log-sum-exp", 4 * heads * tokens)]


def _trainable_terms(spec: ModelSpec, tokens: int, e: int) -> list[tuple[str, int]]:
    """What the block keeps only because its weights are trainable (see the module's docstring)."""
    h, q, f = spec.hidden, spec.heads * spec.head_dim_, spec.ffn_
    per_norm = 2 * e * h if spec.norm == "rmsnorm" else e * h
    calls = spec.norms_per_layer
    return [(f"{calls}·{per_norm // h}·h norm outputs the weights' gradients read", calls * per_norm * tokens),
            (f"{e}·q output-projection input (the reshaped attention output)", e * q * tokens),
            (f"{e}·f down-projection input", e * f * tokens)]


@lru_cache(maxsize=4096)
def litgpt_full_layer_activations(spec: ModelSpec, s: int, b: int, e: int) -> LayerActivations:
    """Bytes one dense LitGPT block keeps for backward with every weight trainable, one micro-batch."""
    tokens = s * b
    mlp = 3 * e * spec.ffn_ if spec.gated_mlp else e * spec.ffn_
    terms = [*norm_terms(spec, tokens, e), *attention_terms(spec, tokens, e), *_trainable_terms(spec, tokens, e),
             ("3·e·f SwiGLU fc_1, SiLU, fc_2 outputs" if spec.gated_mlp else "e·f GeLU input", mlp * tokens)]
    total = sum(v for _, v in terms)
    formula = f"LitGPT block, every weight trainable, {n(tokens)} tokens: " + " + ".join(
        f"{label} {n(v)}" for label, v in terms) + f" = {n(total)} B"
    return LayerActivations(total, formula)

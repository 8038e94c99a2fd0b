"""Activation memory of one LitGPT block under LoRA or QLoRA, tensor by tensor.

LitGPT (``litgpt/model.py``, ``litgpt/lora.py``) writes its block in plain PyTorch, so autograd
keeps what each op needs for backward; frozen base linears keep nothing of their own.  Measured
with PyTorch (tests/fidelity/litgpt.py mirrors the block; the fidelity grid compares), per token,
e bytes per element of the compute dtype, q = heads·head_dim, g = kv_heads·head_dim, r the rank:

norms       per norm of the block (``norms_per_layer``; 1 for a shared attention/MLP norm):
            ``RMSNorm`` upcasts its input (``x.float()``, 4·h kept) and keeps an fp32 1/rms (4);
            ``LayerNorm`` keeps its input (e·h; one tensor for a parallel block's norms, which
            all read the layer input) and fp32 mean and 1/std (8).
attention   the QKV output is viewed (B, groups, q_per_kv + 2, T, hs): with as many KV heads as
            heads, V stays a view and keeps the whole QKV buffer (e·(q + 2g)) and RoPE's
            ``torch.cat`` writes new Q and K (e·q, e·g); with GQA, K and V are expanded to every
            head by a copy, so flash attention keeps V, Q and K at q width (3·e·q); plus its output
            (e·q) and an fp32 log-sum-exp per head (4·heads).  Partial rotary changes nothing:
            ``torch.cat`` rebuilds the whole head.
LoRA        on the fused QKV: ``lora_dropout`` writes its output and a 1-byte mask ((e + 1)·h;
            without dropout ``lora_A`` keeps the norm output itself, e·h), ``lora_A``'s rank
            output is kept by ``lora_B``'s convolution (e·r per adapted part), and when only some
            of q, k, v are adapted ``zero_pad``'s ``index_copy`` keeps its source (e × the adapted
            width) and an int64 index per layer.  On another linear (``LoRALinear``): the
            dropout output and mask of its input and the rank output.
MLP         ``LLaMAMLP`` keeps fc_1's output, its SiLU and fc_2's output (3·e·f);
            ``GptNeoxMLP`` keeps fc's output, the GeLU input (e·f).
QLoRA       every base linear is bitsandbytes' 4-bit ``Linear4bit``.  Before bitsandbytes 0.43.2
            its ``MatMul4Bit`` keeps its input (``ctx.tensors = (A, B)``, see
            :mod:`engine.finetune.bitsandbytes`): the two norm outputs (one when shared), the
            attention output-projection input (e·q) and the MLP down-projection input (e·f),
            each counted once when a LoRA input above is that same tensor.  Later releases keep
            nothing of their own.

MoE and MLA layers are not LitGPT blocks this module knows; their caller uses the Megatron terms.
"""

from __future__ import annotations

from functools import lru_cache

from engine.finetune.lora import head_adapter_activation_bytes
from engine.model.spec import ModelSpec
from engine.report.formatting import n
from engine.training.memory.activations import LayerActivations
from engine.training.memory.litgpt import attention_terms, norm_bytes, norm_terms

QKV_TARGETS = ("q", "k", "v")


def _adapter_terms(spec: ModelSpec, targets: tuple[str, ...], rank: int, tokens: int, e: int,
                   dropout: bool) -> list[tuple[str, int]]:
    h, f = spec.hidden, spec.ffn_
    q, g = spec.heads * spec.head_dim_, spec.kv_heads_ * spec.head_dim_
    own = e + 1 if dropout else e  # dropout output + mask, or the input itself
    terms: list[tuple[str, int]] = []
    enabled = [t for t in QKV_TARGETS if t in targets]
    if enabled:
        terms.append((f"QKV LoRA input {own}·h and rank output {e}·{rank}·{len(enabled)}",
                      (own * h + e * rank * len(enabled)) * tokens))
        if len(enabled) < 3:
            width = sum(q if t == "q" else g for t in enabled)
            terms.append((f"zero_pad index_copy source {e}·{width} + int64 index", e * width * tokens + 8 * width))
    inputs = {"o": q, "gate": h, "up": h, "down": f}
    mlp_inputs = [t for t in ("gate", "up") if t in targets and (t == "up" or spec.gated_mlp)]
    for t in ("o", "gate", "up", "down"):
        if t not in targets or (t in ("gate", "up") and t not in mlp_inputs):
            continue
        # without dropout the two MLP input adapters keep one tensor, the norm output
        shared = not dropout and t == "up" and "gate" in mlp_inputs
        kept = 0 if shared else own * inputs[t]
        terms.append((f"{t} LoRA input {0 if shared else own}·{inputs[t]} and rank output {e}·{rank}",
                      (kept + e * rank) * tokens))
    return terms


def _matmul4bit_inputs(spec: ModelSpec) -> list[tuple[str, int, set[str]]]:
    """The distinct tensors a block's 4-bit linears read, per token: (name, width, adapters reading the same
    tensor).  One norm output feeds QKV and the MLP when the block shares its norm."""
    h, f, q = spec.hidden, spec.ffn_, spec.heads * spec.head_dim_
    if spec.norms_per_layer == 1:
        return [("norm output", h, set(QKV_TARGETS) | {"gate", "up"}), ("output-projection input", q, {"o"}),
                ("down-projection input", f, {"down"})]
    return [("norm-1 output", h, set(QKV_TARGETS)), ("output-projection input", q, {"o"}),
            ("norm-2 output", h, {"gate", "up"}), ("down-projection input", f, {"down"})]


def litgpt_matmul4bit_input_bytes(spec: ModelSpec, tokens: int, e: int) -> int:
    """Every input a block's 4-bit linears keep on ``ctx`` (bitsandbytes before 0.43.2), which the backward
    does not release: what the block still holds of a micro-batch whose graph is still referenced."""
    return e * sum(width for _, width, _ in _matmul4bit_inputs(spec)) * tokens


def _quantized_input_terms(spec: ModelSpec, targets: tuple[str, ...], tokens: int, e: int,
                           dropout: bool) -> list[tuple[str, int]]:
    """The inputs MatMul4Bit keeps that no LoRA term above already holds."""
    held = set() if dropout else set(targets)  # without dropout lora_A keeps the very input tensor
    parts = [(name, width) for name, width, readers in _matmul4bit_inputs(spec) if not held & readers]
    width = sum(w for _, w in parts)
    return [(f"{e}·({' + '.join(name for name, _ in parts)}) kept by MatMul4Bit", e * width * tokens)]


@lru_cache(maxsize=4096)  # bounded; a sweep over sequence lengths reuses each
def litgpt_layer_activations(spec: ModelSpec, s: int, b: int, targets: tuple[str, ...], rank: int, e: int,
                             dropout: bool, inputs_kept: bool) -> LayerActivations:
    """Bytes one dense LitGPT block keeps for backward for one micro-batch of ``b`` × ``s`` tokens;
    ``inputs_kept``: its 4-bit linears keep their inputs (QLoRA, bitsandbytes before 0.43.2)."""
    tokens = s * b
    mlp = 3 * e * spec.ffn_ if spec.gated_mlp else e * spec.ffn_
    terms = [*norm_terms(spec, tokens, e), *attention_terms(spec, tokens, e),
             *_adapter_terms(spec, targets, rank, tokens, e, dropout),
             ("3·e·f SwiGLU fc_1, SiLU, fc_2 outputs" if spec.gated_mlp else "e·f GeLU input", mlp * tokens)]
    if inputs_kept:
        terms += _quantized_input_terms(spec, targets, tokens, e, dropout)
    total = sum(v for _, v in terms)
    formula = f"LitGPT block, {n(tokens)} tokens: " + " + ".join(f"{label} {n(v)}" for label, v in terms) + \
        f" = {n(total)} B"
    return LayerActivations(total, formula)


def litgpt_outer_activations(spec: ModelSpec, tokens: int, e: int, inputs_kept: bool, targets: tuple[str, ...],
                             rank: int, dropout: bool) -> tuple[int, str]:
    """The final norm's saved tensors, with a 4-bit lm_head that keeps its input (``inputs_kept``) that input,
    and an lm_head adapter's (``lora_head``: dropout output and mask, or the norm output itself, and the rank
    output)."""
    h = spec.hidden
    norm = sum(norm_bytes(spec, e))
    head = e * h if inputs_kept else 0
    adapter = head_adapter_activation_bytes(spec, targets, rank, 1, e, e, dropout, input_kept=inputs_kept)
    total = (norm + head + adapter) * tokens
    per_token = f"final norm {n(norm)} B" + (f" + 4-bit lm_head input {n(head)} B" if inputs_kept else "") + \
        (f" + lm_head adapter {n(adapter)} B" if adapter else "")
    text = f"({per_token}) per token × {n(tokens)} = {n(total)} B"
    return total, text

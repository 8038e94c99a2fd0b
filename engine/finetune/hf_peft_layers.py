"""The tensors of a transformers decoder layer and of its loss under the Trainer, as :class:`Op` lists.

Three setups, as the Trainer (TRL's SFTTrainer) runs them (transformers 4.48 ``MistralDecoderLayer`` /
``LlamaDecoderLayer`` with ``flash_attention_2``, PEFT 0.13, bitsandbytes 0.43.3):

* **full fine-tuning** of a model loaded in 16 bits, no autocast: every linear saves its input for
  its weight's gradient (``MmBackward0``), each norm its normalised input (``weight * x``), and the
  backward gives each weight a 16-bit gradient;

* **LoRA**: a 16-bit base, no autocast.  Each adapted ``lora.Linear`` casts its input to the adapters'
  dtype (``x.to(lora_A.weight.dtype)``, bound to ``x`` until the forward returns), and adds the
  adapters' output to the base output in that dtype before casting back.
* **QLoRA** (``bf16=True``: autocast to bf16): ``prepare_model_for_kbit_training`` leaves the norms'
  weights in fp32, so ``LlamaRMSNorm`` returns fp32; each bitsandbytes ``Linear4bit`` casts an fp32
  input to its compute dtype, multiplies by its weight dequantized to bf16 (``MatMul4Bit``; since
  0.43.2 it keeps no input for the backward) and casts the output back to the input's dtype
  (``out.to(inp_dtype)``), so the MLP and the residual stream from the first MLP on are fp32.  PEFT's
  ``lora.bnb.Linear4bit`` clones the base output (``result.clone()``) and, under autocast, hands its
  input to dropout and ``lora_A`` as it is: autocast casts an fp32 input to bf16, the copy ``lora_A``
  saves.  Flash-attention gets bf16 copies of fp32 Q, K and V (``fa_peft_integration_check``), and
  the fp32 ones stay bound until the attention module returns.  ``lm_head`` (bf16 again after TRL's
  ``peft_module_casting_to_bf16``) reads an autocast bf16 copy of the fp32 final norm.

An op's output dtype follows PyTorch's type promotion (bf16 with fp32 gives fp32), and so do the
gradients: an addition's gradient reaches an operand of the other dtype as a cast copy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.finetune.autograd_tape import Op

BF16 = 2
FP32 = 4


@dataclass(frozen=True)
class LayerShapes:
    tokens: int  # s x b
    seq: int
    batch: int
    hidden: int
    q: int  # heads x head_dim
    g: int  # kv_heads x head_dim
    ffn: int
    heads: int
    head_dim: int
    vocab: int
    e: int  # base (and compute) dtype bytes
    a: int  # adapter dtype bytes
    rank: int
    dropout: bool
    targets: frozenset[str]
    quantized: bool  # QLoRA: 4-bit linears, fp32 norms, bf16 autocast
    trains_base: bool = False  # full fine-tuning: every weight trains (no adapters)
    shifted_copy: bool = False  # ForCausalLMLoss copies the shifted fp32 logits (transformers 4.46 to 4.48)
    inline_loss: bool = False  # the forward computes the loss itself (before 4.46): fp32 logits, shifted copy
    scaled_logits: bool = False  # Granite: logits = logits / logits_scaling (a new 16-bit tensor)
    # QLoRA: prepare_model_for_kbit_training made the norms' weights fp32; not under FSDP, where TRL skips it
    # (SFTTrainer: a sharded QLoRA model's 4-bit weights are still on the CPU when it is built)
    fp32_norms: bool = False


def _add(out: str, left: tuple[str, int], right: tuple[str, int], t: int, width: int) -> tuple[Op, int]:
    """``left + right``: the result in the wider dtype; the gradient passes through to an operand of that
    dtype and is cast for the other."""
    d = max(left[1], right[1])
    through = tuple(name for name, dt in (left, right) if dt == d)
    cast = tuple(name for name, dt in (left, right) if dt != d)
    return Op(out, d * t * width, (left[0], right[0]), grads=cast, passthrough=through), d


def rms_norm(p: str, x: str, dx: int, sh: LayerShapes) -> tuple[list[Op], int]:
    """``LlamaRMSNorm`` with a frozen weight: fp32 copy (none when ``x`` is fp32), ``pow``, ``mean``, ``rsqrt``,
    the normalised fp32 tensor, its cast back to the input dtype, the weight product (fp32 with QLoRA's
    fp32 weight).  Autograd keeps the fp32 input and 1/rms."""
    t, h = sh.tokens, sh.hidden
    f32 = FP32 * t * h
    ops: list[Op] = []
    xf = x
    if dx != FP32:
        xf = f"{p}.xf"
        ops.append(Op(xf, f32, (x,), grads=(x,)))
    ops += [
        Op(f"{p}.sq", f32, (xf,), saves=(xf,), grads=(xf,), grad_scratch=(f32,)),
        Op(f"{p}.var", FP32 * t, (f"{p}.sq",), grads=(f"{p}.sq",)),
        Op(f"{p}.rs", FP32 * t, (f"{p}.var",), saves=(f"{p}.rs",), grads=(f"{p}.var",), scratch=FP32 * t),
        Op(f"{p}.n32", f32, (xf, f"{p}.rs"), saves=(xf, f"{p}.rs"), grads=(xf, f"{p}.rs"), grad_scratch=(f32,)),
    ]
    normalised = f"{p}.n32"
    if dx != FP32:
        normalised = f"{p}.n"
        ops.append(Op(normalised, dx * t * h, (f"{p}.n32",), grads=(f"{p}.n32",)))
    out = max(FP32 if sh.fp32_norms else sh.e, dx)
    if sh.trains_base:  # weight * x: the weight's gradient is grad * x over the tokens, summed to its shape
        ops.append(Op(p, out * t * h, (normalised,), saves=(normalised,), grads=(normalised,),
                      param_grads=(sh.e * h,), param_grad_scratch=out * t * h))
    else:
        ops.append(Op(p, out * t * h, (normalised,), grads=(normalised,)))
    return ops, out


def _base(p: str, x: str, dx: int, cols: int, rows: int, sh: LayerShapes) -> tuple[list[Op], int]:
    """The frozen base of a linear layer: ``nn.Linear`` (its input's dtype), or ``Linear4bit`` (bf16 compute,
    the output cast back to an fp32 input's dtype; the weight dequantized to bf16 in the forward and again
    in the backward, with double quantization's fp32 absmax)."""
    t = sh.tokens
    if sh.trains_base:  # its input is saved for the weight's gradient (input^T @ grad)
        return [Op(p, dx * t * rows, (x,), saves=(x,), grads=(x,), param_grads=(sh.e * rows * cols,))], dx
    if not sh.quantized:
        return [Op(p, dx * t * rows, (x,), grads=(x,))], dx
    dequantized = BF16 * rows * cols + FP32 * rows * cols // 64
    ops: list[Op] = []
    xb = x
    if dx == FP32:
        xb = f"{p}.xb"
        ops.append(Op(xb, BF16 * t * cols, (x,), grads=(x,)))
    mm = p if dx == BF16 else f"{p}.mm"
    ops.append(Op(mm, BF16 * t * rows, (xb,), grads=(xb,), scratch=dequantized, grad_scratch=(dequantized,)))
    if dx == FP32:
        ops.append(Op(p, FP32 * t * rows, (mm,), grads=(mm,)))
    return ops, dx


def linear(p: str, x: str, dx: int, cols: int, rows: int, sh: LayerShapes) -> tuple[list[Op], int]:
    """A frozen linear layer, or PEFT's LoRA layer around it when ``p`` ends with a target (q, k, v, o, gate,
    up, down); output ``{p}`` and its dtype."""
    adapted = p.split(".")[-1] in sh.targets
    ops, d = _base(p if not adapted else f"{p}.base", x, dx, cols, rows, sh)
    if not adapted:
        return ops, d
    return ops + (_qlora_adapter(p, x, dx, cols, rows, sh) if sh.quantized else _lora_adapter(p, x, cols, rows, sh)), (
        dx if sh.quantized else sh.e)


def _dropout(p: str, x: str, dx: int, cols: int, sh: LayerShapes) -> tuple[list[Op], str]:
    """``lora_dropout``: with p > 0 a new tensor and a 1-byte mask (kept for the backward); else the input."""
    if not sh.dropout:
        return [], x
    t = sh.tokens
    return [Op(f"{p}.mask", t * cols, (x,)),
            Op(f"{p}.drop", dx * t * cols, (x, f"{p}.mask"), saves=(f"{p}.mask",), grads=(x,))], f"{p}.drop"


def _lora_adapter(p: str, x: str, cols: int, rows: int, sh: LayerShapes) -> list[Op]:
    t, e, a = sh.tokens, sh.e, sh.a
    ops: list[Op] = []
    xa = x
    if a != e:  # x = x.to(lora_A.weight.dtype)
        xa = f"{p}.x32"
        ops.append(Op(xa, a * t * cols, (x,), grads=(x,)))
    dropping, dropped = _dropout(p, xa, a, cols, sh)
    ops += dropping
    ops += [
        Op(f"{p}.A", a * t * sh.rank, (dropped,), saves=(dropped,), grads=(dropped,)),
        Op(f"{p}.B", a * t * rows, (f"{p}.A",), saves=(f"{p}.A",), grads=(f"{p}.A",)),
        Op(f"{p}.scaled", a * t * rows, (f"{p}.B",), grads=(f"{p}.B",)),
    ]
    if a == e:
        total, _ = _add(p, (f"{p}.base", e), (f"{p}.scaled", a), t, rows)
        return [*ops, total]
    total, _ = _add(f"{p}.sum", (f"{p}.base", e), (f"{p}.scaled", a), t, rows)
    total = replace(total, reads=(*total.reads, xa))
    return [*ops, total, Op(p, e * t * rows, (f"{p}.sum",), grads=(f"{p}.sum",))]  # result.to(result dtype)


def _qlora_adapter(p: str, x: str, dx: int, cols: int, rows: int, sh: LayerShapes) -> list[Op]:
    t = sh.tokens
    ops = [Op(f"{p}.clone", dx * t * rows, (f"{p}.base",), passthrough=(f"{p}.base",))]
    dropping, dropped = _dropout(p, x, dx, cols, sh)
    ops += dropping
    a_input = dropped
    if dx == FP32:  # autocast's bf16 copy of lora_A's input, which lora_A keeps
        a_input = f"{p}.cast"
        ops.append(Op(a_input, BF16 * t * cols, (dropped,), grads=(dropped,)))
    ops += [
        Op(f"{p}.A", BF16 * t * sh.rank, (a_input,), saves=(a_input,), grads=(a_input,)),
        Op(f"{p}.B", BF16 * t * rows, (f"{p}.A",), saves=(f"{p}.A",), grads=(f"{p}.A",)),
        Op(f"{p}.scaled", BF16 * t * rows, (f"{p}.B",), grads=(f"{p}.B",)),
    ]
    total, _ = _add(p, (f"{p}.clone", dx), (f"{p}.scaled", BF16), t, rows)
    return [*ops, total]


def _rope(p: str, x: str, dx: int, width: int, sh: LayerShapes) -> list[Op]:
    """``apply_rotary_pos_emb``: ``x*cos + rotate_half(x)*sin`` (``rotate_half``: ``cat(-x2, x1)``), in x's dtype."""
    size = dx * sh.tokens * width
    return [
        Op(f"{p}.cos", size, (x, "cos"), grads=(x,)),
        Op(f"{p}.rot", size, (x,), grads=(x,), scratch=size // 2),
        Op(f"{p}.sin", size, (f"{p}.rot", "sin"), grads=(f"{p}.rot",)),
        Op(p, size, (f"{p}.cos", f"{p}.sin"), passthrough=(f"{p}.cos", f"{p}.sin")),
    ]


def _attention(dq: int, sh: LayerShapes) -> list[Op]:
    """RoPE on Q and K, the bf16 copies flash-attention needs of fp32 inputs, flash-attention's output and
    log-sum-exp; its backward's fp32 ``dq_accum`` and, with grouped KV heads, dK and dV expanded to every
    head (``mha_bwd``)."""
    t = sh.tokens
    ops = _rope("qr", "attn.q", dq, sh.q, sh) + _rope("kr", "attn.k", dq, sh.g, sh)
    q, k, v = "qr", "kr", "attn.v"
    if dq == FP32:
        ops += [Op("qb", BF16 * t * sh.q, ("qr",), grads=("qr",)), Op("kb", BF16 * t * sh.g, ("kr",), grads=("kr",)),
                Op("vb", BF16 * t * sh.g, ("attn.v",), grads=("attn.v",))]
        q, k, v = "qb", "kb", "vb"
    lse = FP32 * sh.batch * sh.heads * sh.seq
    expanded = (BF16 * t * sh.q, BF16 * t * sh.q) if sh.q != sh.g else ()
    return [*ops, Op("lse", lse, ()),
            Op("attn", BF16 * t * sh.q, (q, k, v, "lse"), saves=(q, k, v, "attn", "lse"), grads=(q, k, v),
               grad_scratch=(FP32 * t * sh.q, *expanded, lse))]


def _holding(ops: list[Op], names: tuple[str, ...]) -> list[Op]:
    """``ops`` with the last one also reading ``names``: Python variables that keep them until then."""
    return [*ops[:-1], replace(ops[-1], reads=(*ops[-1].reads, *names))]


def layer_ops(dx: int, sh: LayerShapes) -> tuple[tuple[Op, ...], int]:
    """One decoder layer on input ``x`` of ``dx`` bytes per element; output ``out`` and its dtype."""
    t, h = sh.tokens, sh.hidden
    ops, dn = rms_norm("norm1", "x", dx, sh)
    for name, rows in (("attn.q", sh.q), ("attn.k", sh.g), ("attn.v", sh.g)):
        more, dq = linear(name, "norm1", dn, h, rows, sh)
        ops += more
    ops += _attention(dq, sh)
    more, do = linear("attn.o", "attn", BF16, sh.q, h, sh)
    # the attention module returns here: its locals (Q and K after RoPE, V, the attention output) and the
    # layer's normed input, bound until then, die with it
    ops += _holding(more, ("qr", "kr", "attn.v", "attn", "norm1"))
    residual, dh = _add("h1", ("x", dx), ("attn.o", do), t, h)
    ops.append(residual)
    more, dn = rms_norm("norm2", "h1", dh, sh)
    ops += more
    more, dg = linear("mlp.gate", "norm2", dn, h, sh.ffn, sh)
    ops += more
    ops.append(Op("act", dg * t * sh.ffn, ("mlp.gate",), saves=("mlp.gate",), grads=("mlp.gate",)))
    more, du = linear("mlp.up", "norm2", dn, h, sh.ffn, sh)
    ops += more
    dp = max(dg, du)
    ops.append(Op("prod", dp * t * sh.ffn, ("act", "mlp.up"), saves=("act", "mlp.up"), grads=("act", "mlp.up")))
    more, dd = linear("mlp.down", "prod", dp, sh.ffn, h, sh)
    ops += _holding(more, ("norm2",))  # the MLP's input is bound until it returns
    out, dout = _add("out", ("h1", dh), ("mlp.down", dd), t, h)
    ops.append(out)
    return tuple(ops), dout


def head_ops(dx: int, sh: LayerShapes) -> tuple[Op, ...]:
    """The final norm, ``lm_head`` (under QLoRA: on autocast's bf16 copy) and ``ForCausalLMLoss``
    (``logits.float()``; from transformers 4.46 to 4.48 the shifted ``contiguous()`` copy, since 4.49 padded
    labels instead; ``cross_entropy``'s fp32 log-softmax) on input ``x``; output ``loss``.  Before 4.46 the
    forward computes the loss inline (``inline_loss``): ``logits = logits.float()`` rebinds the name, so the
    16-bit logits go once upcast and the model output holds the fp32 ones; then the shifted copy.  Granite
    (``scaled_logits``) divides lm_head's output by ``logits_scaling`` first: a new 16-bit tensor, the model
    output's logits."""
    t, v = sh.tokens, sh.vocab
    shifted = (sh.seq - 1) * sh.batch
    ops, dn = rms_norm("norm", "x", dx, sh)
    head_input = "norm"
    if dn == FP32 and sh.e == BF16:  # autocast's copy for the bf16 lm_head
        head_input = "norm.bf16"
        ops.append(Op(head_input, BF16 * t * sh.hidden, ("norm",), grads=("norm",)))
    lm_head = (Op("logits", sh.e * t * v, (head_input,), saves=(head_input,), grads=(head_input,),
                  param_grads=(sh.e * v * sh.hidden,)) if sh.trains_base
               else Op("logits", sh.e * t * v, (head_input,), grads=(head_input,)))
    ops.append(lm_head)
    upcast_from = "logits"
    if sh.scaled_logits:  # Granite divides them by logits_scaling; the name is rebound, lm_head's output goes
        upcast_from = "logits.scaled"
        ops.append(Op(upcast_from, sh.e * t * v, ("logits",), grads=("logits",)))
    ops.append(Op("logits32", FP32 * t * v, (upcast_from,), grads=(upcast_from,)))
    if sh.inline_loss or sh.shifted_copy:  # logits[..., :-1, :].contiguous()
        ops.append(Op("shifted", FP32 * shifted * v, ("logits32",), grads=("logits32",)))
        rows, scores = shifted, "shifted"
    else:  # the labels are padded instead; the log-softmax reads the upcast logits' view
        rows, scores = t, "logits32"
    ops += [
        Op("log_softmax", FP32 * rows * v, (scores,), saves=("log_softmax",), grads=(scores,)),
        # the loss function's locals (the fp32 logits, the shifted copy) live until it returns, and the
        # model's output (the final norm's) until the causal-LM forward returns
        Op("loss", FP32, tuple(dict.fromkeys(("log_softmax", "logits32", scores, "norm"))), grads=("log_softmax",)),
    ]
    return tuple(ops)

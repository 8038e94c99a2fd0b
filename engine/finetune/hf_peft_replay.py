"""A Hugging Face Trainer + PEFT LoRA step, replayed through PyTorch's caching allocator.

The reserved memory of these runs (what ``nvidia-smi`` shows, less the CUDA context) is 15-30 % above
``max_memory_allocated`` (fms-acceleration's A100 table: Mistral-7B LoRA at batch 4 and 8, the same
rows whose allocated peaks the engine matches), far more than a flat allowance.  The step's requests
come in a few sizes that do not nest: the fp32 copies of the logits (4 B x tokens x vocabulary) are
the largest, and the layer checkpoints of the next step's forward land in the cached blocks the
previous step's loss and backward left, so the next loss takes new segments.  This module rebuilds
the step tensor by tensor (:mod:`engine.finetune.autograd_tape`) and hands it to
:class:`~engine.training.memory.caching_allocator.CachingAllocator`, step after step until the
reserve stops growing.

What it rebuilds (transformers 4.4x ``LlamaDecoderLayer`` / ``MistralDecoderLayer`` with
``flash_attention_2``, PEFT ``lora.Linear``, torch ``checkpoint`` with ``use_reentrant=True``,
the transformers default):

* **start-up**: the base weights in ``model.parameters()`` order (``Module._apply`` moves children
  first), each adapter's A and B in the adapter dtype;
* **forward**: the embedding output, RoPE's cos and sin (kept by every checkpoint); each layer
  without autograd, its output kept as the next checkpoint; ``LlamaRMSNorm`` (fp32 copy, ``pow``,
  ``mean``, ``rsqrt``, the normalised fp32 tensor, its cast, the weight product); each target's
  ``lora.Linear``: the frozen base output, the input cast to the adapter dtype (held until the
  forward returns), ``lora_dropout``'s output and mask, ``lora_A``'s rank-r output, ``lora_B``'s,
  its scaling, the fp32 sum and its cast back; RoPE's ``q*cos + rotate_half(q)*sin``; flash-attention's
  output and log-sum-exp; the gated MLP; the residual adds;
* **loss** (transformers 4.48 ``ForCausalLMLoss``): the final norm, ``lm_head``'s 16-bit logits (held
  by the model output until ``compute_loss`` returns), ``logits.float()``, the shifted
  ``contiguous()`` copy, ``cross_entropy``'s fp32 log-softmax;
* **backward**: the loss's gradients (nll's zeros, the log-softmax gradient, the slice's full-size
  zeros, the cast), then each checkpoint from the last: the layer recomputed with autograd (its
  recomputed output held until its backward returns), its backward op by op (flash-attention's
  backward with its fp32 ``dq_accum`` and, with grouped KV heads, the expanded dK and dV), each
  adapter's fp32 ``.grad`` at its first gradient;
* **optimizer**: torch AdamW (foreach) creates both moments at the first step and a sqrt copy of
  ``exp_avg_sq`` each step; ``zero_grad(set_to_none=True)`` drops the adapter gradients.

Not replayed: the small integer tensors (ids, labels, positions), gradient clipping's per-tensor
norms, and library workspaces (counted separately).  Sources: huggingface/transformers
``models/mistral/modeling_mistral.py`` and ``loss/loss_utils.py`` (4.48), huggingface/peft
``tuners/lora/layer.py`` (0.13), pytorch ``torch/utils/checkpoint.py`` and ``torch/optim/adamw.py``
(2.4), Dao-AILab/flash-attention ``csrc/flash_attn/flash_api.cpp`` (``mha_bwd``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.finetune.autograd_tape import Op, Tensors, run_backward, run_forward
from engine.finetune.base_format import DTYPE_BYTES
from engine.finetune.config import FinetuneConfig
from engine.finetune.lora import TARGET_TENSORS
from engine.model.spec import ModelSpec
from engine.training.memory.caching_allocator import CachingAllocator
from engine.weights.tensors import layer_tensors, outer_tensors

MAX_STEPS = 8
FIELD = "method.overhead.fragmentation_model"


@dataclass(frozen=True)
class PeftReplay:
    """Peaks of the replayed steps (rounded as PyTorch counts them)."""

    peak_allocated: int
    peak_reserved: int
    steps: int

    @property
    def reserve(self) -> int:
        return self.peak_reserved - self.peak_allocated


def peft_replay_problem(spec: ModelSpec, cfg: FinetuneConfig) -> str | None:
    """Why the replay cannot model this fine-tuning card (None: it can)."""
    if cfg.framework != "peft" or cfg.method != "lora":
        return "LoRA under Hugging Face PEFT (finetune.framework peft, finetune.method lora)"
    if not cfg.flash_attention:
        return "flash attention (finetune.flash_attention)"
    if spec.moe is not None or spec.mla is not None or spec.parallel_ or spec.qk_norm:
        return "a Llama-style model (no MoE, MLA, parallel block or QK norm)"
    if spec.norm != "rmsnorm" or not spec.gated_mlp or not spec.vocab or spec.bias:
        return "a Llama-style model (RMSNorm, gated MLP, no biases, a vocabulary)"
    if "head" in cfg.target_modules:
        return "adapters inside the layers (not on lm_head)"
    if cfg.base_dtype == "fp32":
        return "a 16-bit base (finetune.base_dtype bf16 or fp16)"
    return None


@dataclass(frozen=True)
class _Shapes:
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
    e: int  # compute dtype bytes
    a: int  # adapter dtype bytes
    rank: int
    dropout: bool
    targets: frozenset[str]


def _linear(p: str, x: str, cols: int, rows: int, sh: _Shapes) -> list[Op]:
    """``nn.Linear`` on a frozen weight, or PEFT's ``lora.Linear`` around it (``p`` ends with a target
    name: q, k, v, o, gate, up, down); output ``{p}``."""
    t, e, a = sh.tokens, sh.e, sh.a
    adapted = p.split(".")[-1] in sh.targets
    base = Op(f"{p}.base" if adapted else p, e * t * rows, (x,), grads=(x,))
    if not adapted:
        return [base]
    ops = [base]
    xa = x
    if a != e:  # x = x.to(lora_A.weight.dtype): a new tensor, bound to ``x`` until forward returns
        xa = f"{p}.x32"
        ops.append(Op(xa, a * t * cols, (x,), grads=(x,)))
    dropped = xa
    if sh.dropout:  # native_dropout: its output and a bool mask, the mask saved
        dropped = f"{p}.drop"
        ops.append(Op(f"{p}.mask", t * cols, (xa,)))
        ops.append(Op(dropped, a * t * cols, (xa, f"{p}.mask"), saves=(f"{p}.mask",), grads=(xa,)))
    ops += [
        Op(f"{p}.A", a * t * sh.rank, (dropped,), saves=(dropped,), grads=(dropped,)),
        Op(f"{p}.B", a * t * rows, (f"{p}.A",), saves=(f"{p}.A",), grads=(f"{p}.A",)),
        Op(f"{p}.scaled", a * t * rows, (f"{p}.B",), grads=(f"{p}.B",)),
        Op(f"{p}.sum", max(a, e) * t * rows, (f"{p}.base", f"{p}.scaled", xa),
           grads=(f"{p}.base",) if a != e else (), passthrough=(f"{p}.scaled",) if a != e else (
               f"{p}.base", f"{p}.scaled")),
    ]
    if a != e:  # result.to(torch_result_dtype)
        ops.append(Op(p, e * t * rows, (f"{p}.sum",), grads=(f"{p}.sum",)))
    else:
        ops[-1] = Op(p, ops[-1].nbytes, ops[-1].reads, passthrough=ops[-1].passthrough)
    return ops


def _rms_norm(p: str, x: str, sh: _Shapes) -> list[Op]:
    """``LlamaRMSNorm``: fp32 copy, variance, 1/rms, normalised fp32, its cast, the (frozen) weight product."""
    t, h, e = sh.tokens, sh.hidden, sh.e
    f32 = 4 * t * h
    return [
        Op(f"{p}.xf", f32, (x,), grads=(x,)),
        Op(f"{p}.sq", f32, (f"{p}.xf",), saves=(f"{p}.xf",), grads=(f"{p}.xf",), grad_scratch=(f32,)),
        Op(f"{p}.var", 4 * t, (f"{p}.sq",), grads=(f"{p}.sq",)),
        Op(f"{p}.rs", 4 * t, (f"{p}.var",), saves=(f"{p}.rs",), grads=(f"{p}.var",), scratch=4 * t),
        Op(f"{p}.n32", f32, (f"{p}.xf", f"{p}.rs"), saves=(f"{p}.xf", f"{p}.rs"), grads=(f"{p}.xf", f"{p}.rs"),
           grad_scratch=(f32,)),
        Op(f"{p}.n", e * t * h, (f"{p}.n32",), grads=(f"{p}.n32",)),
        Op(p, e * t * h, (f"{p}.n",), grads=(f"{p}.n",)),
    ]


def _rope(p: str, x: str, width: int, sh: _Shapes) -> list[Op]:
    """``apply_rotary_pos_emb``: ``x*cos + rotate_half(x)*sin`` (``rotate_half``: ``cat(-x2, x1)``)."""
    size = sh.e * sh.tokens * width
    return [
        Op(f"{p}.cos", size, (x, "cos"), grads=(x,)),
        Op(f"{p}.rot", size, (x,), grads=(x,), scratch=size // 2),
        Op(f"{p}.sin", size, (f"{p}.rot", "sin"), grads=(f"{p}.rot",)),
        Op(p, size, (f"{p}.cos", f"{p}.sin"), passthrough=(f"{p}.cos", f"{p}.sin")),
    ]


def _layer_ops(sh: _Shapes) -> tuple[Op, ...]:
    """One decoder layer on input ``x``; output ``out``."""
    t, h, e = sh.tokens, sh.hidden, sh.e
    lse = 4 * sh.batch * sh.heads * sh.seq
    gqa = sh.q != sh.g
    fa_scratch = (4 * t * sh.q, *((e * t * sh.q, e * t * sh.q) if gqa else ()), lse)
    ops = _rms_norm("norm1", "x", sh)
    ops += _linear("attn.q", "norm1", h, sh.q, sh)
    ops += _linear("attn.k", "norm1", h, sh.g, sh)
    ops += _linear("attn.v", "norm1", h, sh.g, sh)
    ops += _rope("qr", "attn.q", sh.q, sh) + _rope("kr", "attn.k", sh.g, sh)
    ops += [
        Op("lse", lse, ()),
        Op("attn", e * t * sh.q, ("qr", "kr", "attn.v", "lse"), saves=("qr", "kr", "attn.v", "attn", "lse"),
           grads=("qr", "kr", "attn.v"), grad_scratch=fa_scratch),
    ]
    ops += _linear("attn.o", "attn", sh.q, h, sh)
    ops.append(Op("h1", e * t * h, ("x", "attn.o"), passthrough=("x", "attn.o")))
    ops += _rms_norm("norm2", "h1", sh)
    ops += _linear("mlp.gate", "norm2", h, sh.ffn, sh)
    ops.append(Op("act", e * t * sh.ffn, ("mlp.gate",), saves=("mlp.gate",), grads=("mlp.gate",)))
    ops += _linear("mlp.up", "norm2", h, sh.ffn, sh)
    ops.append(Op("prod", e * t * sh.ffn, ("act", "mlp.up"), saves=("act", "mlp.up"), grads=("act", "mlp.up")))
    ops += _linear("mlp.down", "prod", sh.ffn, h, sh)
    ops.append(Op("out", e * t * h, ("h1", "mlp.down"), passthrough=("h1", "mlp.down")))
    return tuple(ops)


def _head_ops(sh: _Shapes) -> tuple[Op, ...]:
    """The final norm, ``lm_head`` and ``ForCausalLMLoss`` (transformers 4.48) on input ``x``; output ``loss``."""
    t, v = sh.tokens, sh.vocab
    shifted = (sh.seq - 1) * sh.batch
    ops = _rms_norm("norm", "x", sh)
    ops += [
        Op("logits", sh.e * t * v, ("norm",), grads=("norm",)),
        Op("logits32", 4 * t * v, ("logits",), grads=("logits",)),
        Op("shifted", 4 * shifted * v, ("logits32",), grads=("logits32",)),
        Op("log_softmax", 4 * shifted * v, ("shifted",), saves=("log_softmax",), grads=("shifted",)),
        # the loss function's locals (the fp32 logits, the shifted copy) live until it returns
        Op("loss", 4, ("log_softmax", "logits32", "shifted"), grads=("log_softmax",)),
    ]
    return tuple(ops)


_TENSOR_TARGET = {name.split(".")[-1]: target for target, names in TARGET_TENSORS.items() for name in names}


def _load(alloc: CachingAllocator, spec: ModelSpec, cfg: FinetuneConfig) -> list[tuple[int, int]]:
    """The base weights in ``parameters()`` order and each adapter's A and B; returns the adapters'
    (A bytes, B bytes) for their gradients and moments."""
    e, a = DTYPE_BYTES[cfg.base_dtype], DTYPE_BYTES[cfg.adapter_dtype]
    outer = outer_tensors(spec)
    adapters: list[tuple[int, int]] = []
    for tensor in outer:
        if tensor.cls in ("embedding", "position"):
            alloc.malloc(e * tensor.elements)
    for tensors in layer_tensors(spec):
        for tensor in tensors:
            alloc.malloc(e * tensor.elements)
            if _TENSOR_TARGET.get(tensor.name) in cfg.target_modules:
                pair = (a * cfg.rank * tensor.cols, a * tensor.rows * cfg.rank)
                alloc.malloc(pair[0])
                alloc.malloc(pair[1])
                adapters.append(pair)
    for tensor in outer:
        if tensor.cls not in ("embedding", "position"):
            alloc.malloc(e * tensor.elements)
    return adapters


def _shapes(spec: ModelSpec, cfg: FinetuneConfig) -> _Shapes:
    return _Shapes(cfg.seq * cfg.micro_batch, cfg.seq, cfg.micro_batch, spec.hidden, spec.heads * spec.head_dim_,
                   spec.kv_heads_ * spec.head_dim_, spec.ffn_, spec.heads, spec.head_dim_, spec.vocab or 0,
                   DTYPE_BYTES[cfg.base_dtype], DTYPE_BYTES[cfg.adapter_dtype], cfg.rank, cfg.lora_dropout > 0,
                   frozenset(cfg.target_modules))


class _Step:
    def __init__(self, alloc: CachingAllocator, spec: ModelSpec, cfg: FinetuneConfig,
                 adapters: list[tuple[int, int]]) -> None:
        self.alloc, self.cfg, self.layers = alloc, cfg, spec.layers
        self.sh = _shapes(spec, cfg)
        self.layer, self.head = _layer_ops(self.sh), _head_ops(self.sh)
        self.adapters = adapters
        self.per_layer = len(adapters) // spec.layers
        self.moments: list[int] = []

    def run(self) -> None:
        sh, alloc = self.sh, self.alloc
        t, h = sh.tokens, sh.hidden
        rope = sh.e * t * sh.head_dim
        embedded = alloc.malloc(sh.e * t * h)
        alloc.free(alloc.malloc(4 * t * sh.head_dim // 2))  # inv_freq @ position_ids (fp32)
        emb = alloc.malloc(4 * t * sh.head_dim)  # cat(freqs, freqs)
        cos32, sin32 = alloc.malloc(4 * t * sh.head_dim), alloc.malloc(4 * t * sh.head_dim)
        alloc.free(emb)
        cos, sin = alloc.malloc(rope), alloc.malloc(rope)
        alloc.free(cos32)
        alloc.free(sin32)
        checkpointing = self.cfg.gradient_checkpointing
        checkpoints = [embedded]  # each layer's input: kept by its checkpoint, else until the next layer has run
        graphs: list[Tensors] = []  # without checkpointing: each layer's saved tensors, for its backward
        for i in range(self.layers):
            live = Tensors(alloc, {"x": checkpoints[-1], "cos": cos, "sin": sin}, {"x": sh.e * t * h})
            run_forward(live, self.layer, keep=frozenset({"out"}), autograd=not checkpointing)
            checkpoints.append(live.handles.pop("out"))
            if not checkpointing:
                graphs.append(live)
                # nothing saved this layer's input: it dies once the layer is done with it (the embedding
                # output with the model's forward, before the loss)
                alloc.free(checkpoints[i])
        head = Tensors(alloc, {"x": checkpoints[-1]}, {"x": sh.e * t * h})
        run_forward(head, self.head, keep=frozenset({"logits"}), autograd=True)
        head.drop("logits")  # the model output dies with compute_loss's frame, before backward
        grads = run_backward(head, self.head, "loss", alloc.malloc(4))
        grad = grads["x"]
        grads_made: list[int] = []
        for i in range(self.layers - 1, -1, -1):
            if checkpointing:  # recomputed with autograd; its output is held until its backward returns
                live = Tensors(alloc, {"x": checkpoints[i], "cos": cos, "sin": sin}, {"x": sh.e * t * h})
                run_forward(live, self.layer, keep=frozenset({"out"}), autograd=True)
            else:
                live = graphs[i]
            left = run_backward(live, self.layer, "out", grad)
            for pair in self.adapters[i * self.per_layer:(i + 1) * self.per_layer]:
                grads_made += [alloc.malloc(pair[0]), alloc.malloc(pair[1])]
            live.drop("out")
            grad = left["x"]
            for handle in {v for k, v in left.items() if k != "x"}:
                alloc.free(handle)
            if checkpointing or i == self.layers - 1:
                alloc.free(checkpoints[i + 1])
        alloc.free(grad)
        if checkpointing:
            alloc.free(checkpoints[0])
        alloc.free(cos)
        alloc.free(sin)
        self._optimizer_step(grads_made)

    def _optimizer_step(self, grads: list[int]) -> None:
        alloc = self.alloc
        sizes = [size for pair in self.adapters for size in pair]
        if self.cfg.optimizer == "adamw":
            if not self.moments:
                for size in sizes:
                    self.moments += [alloc.malloc(size), alloc.malloc(size)]
            sqrt = [alloc.malloc(size) for size in sizes]
            for handle in sqrt:
                alloc.free(handle)
        for handle in grads:
            alloc.free(handle)


@lru_cache(maxsize=64)
def peft_replay(spec: ModelSpec, cfg: FinetuneConfig) -> PeftReplay:
    """Replay steps until the reserve stops growing (at most ``MAX_STEPS``)."""
    alloc = CachingAllocator()
    step = _Step(alloc, spec, cfg, _load(alloc, spec, cfg))
    steps, reserved = 0, -1
    while steps < MAX_STEPS and alloc.peak_reserved != reserved:
        reserved = alloc.peak_reserved
        step.run()
        steps += 1
    return PeftReplay(alloc.peak_allocated, alloc.peak_reserved, steps)

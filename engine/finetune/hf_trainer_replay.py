"""A Hugging Face Trainer step (PEFT LoRA or QLoRA, or full fine-tuning in pure 16 bits), replayed through
PyTorch's caching allocator.

The reserved memory of these runs (what ``nvidia-smi`` shows, less the CUDA context) is 15-30 % above
``max_memory_allocated`` (fms-acceleration's A100 table: Mistral-7B LoRA and QLoRA at batch 4 and 8,
the same rows whose allocated peaks the engine matches), far more than a flat allowance.  The step's
requests come in a few sizes that do not nest: the fp32 copies of the logits (4 B x tokens x
vocabulary) are the largest and arrive last in the forward, after the layers' transients have taken
segments of their own sizes.  This module rebuilds the step tensor by tensor (the layer and the loss:
:mod:`engine.finetune.hf_peft_layers`, run by :mod:`engine.finetune.autograd_tape`) and hands it to
:class:`~engine.training.memory.caching_allocator.CachingAllocator`, step after step until the
reserve stops growing.

* **start-up**: the base weights in ``model.parameters()`` order (``Module._apply`` moves children
  first); QLoRA: each linear quantized as it arrives (a bf16 copy, an fp32 absmax, the packed
  4-bit weight and, with double quantization, the absmax's own statistics), then
  ``prepare_model_for_kbit_training`` upcasts every 16-bit parameter to fp32 and TRL's
  ``peft_module_casting_to_bf16`` casts the embedding and ``lm_head`` back; then each adapter's A
  and B in the adapter dtype;
* **forward**: the embedding output and RoPE's cos and sin (kept by every checkpoint); each layer
  without autograd under gradient checkpointing (its output kept as the next checkpoint; torch
  ``checkpoint`` with ``use_reentrant=True``, the transformers default), else with autograd; the
  final norm, ``lm_head`` and ``ForCausalLMLoss`` (the shifted fp32 copy with transformers 4.46 to 4.48,
  ``method.transformers_version``); what Python still binds stays alive (the attention
  module's Q, K, V and normed input until it returns, the MLP's input, the model output until the
  causal-LM forward returns, the 16-bit logits until ``compute_loss`` returns; under QLoRA's bf16 mixed
  precision accelerate's ``convert_outputs_to_fp32`` first copies them to fp32, accelerate ``prepare_model``);
* **backward**: the loss's gradients, then each layer from the last (recomputed with autograd under
  checkpointing, its recomputed output held until its backward returns), op by op, each adapter's
  ``.grad`` at its first gradient;
* **optimizer**: torch AdamW (foreach) creates both moments at the first step and a sqrt copy of
  ``exp_avg_sq`` each step; bitsandbytes' 8-bit Adam its 1-byte states and absmax (the paged
  variants' states live in managed memory, outside the allocator); ``zero_grad(set_to_none=True)``
  drops the adapter gradients.

Not replayed: the small integer tensors (ids, labels, positions), gradient clipping's per-tensor
norms, autocast's cached casts of the adapters, and library workspaces (counted separately).
Sources: huggingface/transformers ``models/mistral/modeling_mistral.py``, ``loss/loss_utils.py`` and
``quantizers/quantizer_bnb_4bit.py`` (4.48), huggingface/peft ``tuners/lora/layer.py``, ``bnb.py`` and
``utils/other.py`` (0.13), huggingface/trl ``trainer/utils.py`` (0.13), bitsandbytes ``functional.py``
(0.43), pytorch ``torch/utils/checkpoint.py`` and ``torch/optim/adamw.py`` (2.4),
Dao-AILab/flash-attention ``csrc/flash_attn/flash_api.cpp`` (``mha_bwd``).

Full fine-tuning: every linear saves its input and gives its weight a gradient at its backward, the
embedding's dense backward (aten ``EmbeddingBackwardKernel.cu``), AdamW per Trainer parameter group.
The allocator takes segments up to ``capacity`` and releases its wholly free ones there, as PyTorch does
before it fails.

Against fms-acceleration's published figures the replay's allocated peak is within 0.15 % for all six
Mistral-7B rows (LoRA, QLoRA, full); with its reserve the estimate is within -0.3 to +0.9 % of nvidia-smi
for QLoRA, -5.3 and -4.8 % for LoRA (batch 4 an open gap: ``resources/validation/finetune.json``), -6.6 and
+9.4 % for full fine-tuning, and -6.3 to +1.9 % on the PowerLM-3B rows of the older stack, where a flat 5 %
is 5-25 % low: it is the default reserve for fine-tuning on one card (``engine.replay_scope``).  On the
cards of an FSDP run :mod:`engine.finetune.fsdp_replay` runs the same step with FSDP's requests on their
streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.finetune.autograd_tape import Op, Tensors, run_backward, run_forward
from engine.finetune.base_format import DTYPE_BYTES
from engine.finetune.bitsandbytes import keeps_linear_inputs
from engine.finetune.config import FinetuneConfig
from engine.finetune.hf_peft_layers import BF16, FP32, LayerShapes, head_ops, layer_ops
from engine.finetune.lora import TARGET_TENSORS
from engine.model.spec import ModelSpec
from engine.training.memory.caching_allocator import CachingAllocator
from engine.training.memory.huggingface import computes_loss_inline, copies_shifted_logits
from engine.weights.tensors import layer_tensors, outer_tensors

MAX_STEPS = 8


@dataclass(frozen=True)
class TrainerReplay:
    """Peaks of the replayed steps (rounded as PyTorch counts them), and of the first step up to its
    optimizer step (before the optimizer has created its states)."""

    peak_allocated: int
    peak_reserved: int
    steps: int
    first_backward_allocated: int
    first_backward_reserved: int
    out_of_memory: bool  # a segment did not fit even after the cached ones were released

    @property
    def reserve(self) -> int:
        return self.peak_reserved - self.peak_allocated

    @property
    def first_backward_reserve(self) -> int:
        return self.first_backward_reserved - self.first_backward_allocated


def trainer_replay_problem(spec: ModelSpec, cfg: FinetuneConfig) -> str | None:
    """Why the replay cannot model this fine-tuning card (None: it can)."""
    if cfg.framework != "peft":
        return ("the Hugging Face Trainer: LoRA or QLoRA under PEFT, or full fine-tuning in pure 16 bits "
                "(finetune.framework peft)")
    if cfg.method == "full" and cfg.mixed_precision:
        return "full fine-tuning in pure 16 bits (finetune.mixed_precision false)"
    if cfg.gradient_accumulation > 1:
        return "one micro-batch per optimizer step (finetune.gradient_accumulation 1)"
    if cfg.method == "qlora" and (keeps_linear_inputs(cfg.bnb_version) or cfg.base_dtype != "bf16"):
        return "QLoRA on bitsandbytes 0.43.2 or later with bf16 compute (finetune.bnb_version, finetune.base_dtype)"
    if not cfg.flash_attention:
        return "flash attention (finetune.flash_attention)"
    if spec.moe is not None or spec.mla is not None or spec.parallel_ or spec.qk_norm:
        return "a Llama-style model (no MoE, MLA, parallel block or QK norm)"
    if spec.norm != "rmsnorm" or not spec.gated_mlp or not spec.vocab or spec.bias or spec.position_embedding != "rope":
        return "a Llama-style model (RMSNorm, gated MLP, RoPE, no biases, a vocabulary)"
    if cfg.method != "full" and "head" in cfg.target_modules:
        return "adapters inside the layers (not on lm_head)"
    if cfg.base_dtype == "fp32":
        return "a 16-bit base (finetune.base_dtype bf16 or fp16)"
    return None


_TENSOR_TARGET = {name.split(".")[-1]: target for target, names in TARGET_TENSORS.items() for name in names}
BNB_MIN_8BIT_SIZE = 4096  # bitsandbytes Optimizer8bit: smaller parameters keep fp32 states
INDEX = 8  # int64 token indices
QUANT_BLOCK = 64  # bitsandbytes' 4-bit blocksize: one absmax per 64 weights
ABSMAX_BLOCK = 256  # double quantization: one fp32 absmax per 256 8-bit absmax


def adapter_matrices(spec: ModelSpec, cfg: FinetuneConfig) -> tuple[tuple[int, tuple[int, int]], ...]:
    """Each adapted linear's layer and its LoRA matrices' bytes (``lora_A``: r x in, ``lora_B``: out x r), in
    ``parameters()`` order; none when the whole model trains."""
    if cfg.method == "full":
        return ()
    a = DTYPE_BYTES[cfg.adapter_dtype]
    return tuple((i, (a * cfg.rank * t.cols, a * t.rows * cfg.rank)) for i, tensors in enumerate(layer_tensors(spec))
                 for t in tensors if _TENSOR_TARGET.get(t.name) in cfg.target_modules)


def quantize(alloc: CachingAllocator, elements: int, double_quant: bool) -> int:
    """``Params4bit`` moved to the card (bitsandbytes 0.43 ``quantize_4bit``): the bf16 weight, its fp32
    absmax per block and the packed 4-bit output; with double quantization the offset, the absmax's own
    fp32 absmax and its 8-bit codes, then the fp32 absmax goes; then the bf16 weight goes.  Returns the
    packed weight."""
    weight = alloc.malloc(BF16 * elements)
    blocks = -(-elements // QUANT_BLOCK)
    absmax = alloc.malloc(FP32 * blocks)
    packed = alloc.malloc(packed_bytes(elements))
    if double_quant:
        alloc.malloc(FP32)  # offset = absmax.mean()
        alloc.malloc(FP32 * -(-blocks // ABSMAX_BLOCK))
        alloc.malloc(blocks)
        alloc.free(absmax)
    alloc.free(weight)
    return packed


def packed_bytes(elements: int) -> int:
    """A 4-bit weight's bytes: two weights a byte."""
    return (elements + 1) // 2


def _load(alloc: CachingAllocator, spec: ModelSpec, cfg: FinetuneConfig) -> tuple[tuple[int, ...], ...]:
    """The base weights in ``parameters()`` order (QLoRA: each linear quantized as it arrives; then
    ``prepare_model_for_kbit_training`` makes every 16-bit parameter fp32), each adapter's A and B (QLoRA:
    then TRL casts the embedding and ``lm_head`` back to bf16).  Returns the bytes of the trainable
    parameters by optimizer group, in the Trainer's order (``create_optimizer``: the weights that decay,
    then the norms): the adapters; or, fully fine-tuned, every matrix, then every norm."""
    e = DTYPE_BYTES[cfg.base_dtype]
    quantized = cfg.method == "qlora"
    outer = outer_tensors(spec)
    ends = [t for t in outer if t.cls in ("embedding", "position")]
    tail = [t for t in outer if t.cls not in ("embedding", "position")]
    sixteen_bit: list[tuple[int, int, str]] = []  # handle, elements, class of each 16-bit parameter

    def place(tensor) -> None:
        if quantized and tensor.is_matrix and tensor.layer is not None:
            quantize(alloc, tensor.elements, cfg.double_quant)
        else:
            sixteen_bit.append((alloc.malloc(e * tensor.elements), tensor.elements, tensor.cls))

    in_order = [*ends, *(tensor for tensors in layer_tensors(spec) for tensor in tensors), *tail]
    for tensor in in_order:
        place(tensor)
    if cfg.method == "full":
        return (tuple(e * t.elements for t in in_order if t.is_matrix),
                tuple(e * t.elements for t in in_order if not t.is_matrix))
    if quantized:  # prepare_model_for_kbit_training: param.data = param.data.to(torch.float32)
        upcast = []
        for handle, elements, cls in sixteen_bit:
            upcast.append((alloc.malloc(FP32 * elements), elements, cls))
            alloc.free(handle)
        sixteen_bit = upcast
    adapters = [size for _, pair in adapter_matrices(spec, cfg) for size in pair]
    for size in adapters:
        alloc.malloc(size)
    if quantized:  # peft_module_casting_to_bf16: embed_tokens and lm_head back to bf16, norms stay fp32
        for handle, elements, cls in sixteen_bit:
            if cls in ("embedding", "position", "output"):
                alloc.malloc(BF16 * elements)
                alloc.free(handle)
    return (tuple(adapters),)


def _shapes(spec: ModelSpec, cfg: FinetuneConfig, transformers_version: str | None, sharded: bool) -> LayerShapes:
    full = cfg.method == "full"
    return LayerShapes(cfg.seq * cfg.micro_batch, cfg.seq, cfg.micro_batch, spec.hidden, spec.heads * spec.head_dim_,
                       spec.kv_heads_ * spec.head_dim_, spec.ffn_, spec.heads, spec.head_dim_, spec.vocab or 0,
                       DTYPE_BYTES[cfg.base_dtype], DTYPE_BYTES[cfg.adapter_dtype], cfg.rank, cfg.lora_dropout > 0,
                       frozenset() if full else frozenset(cfg.target_modules), cfg.method == "qlora", full,
                       copies_shifted_logits(transformers_version), computes_loss_inline(transformers_version),
                       spec.scaled_logits, cfg.method == "qlora" and not sharded)


class TrainerStep:
    """One Trainer step on one card, replayed request by request (``run``); the hooks between the layers are where
    a sharding wrapper puts its own requests (:class:`engine.finetune.fsdp_replay.FsdpStep`)."""

    def __init__(self, alloc: CachingAllocator, spec: ModelSpec, cfg: FinetuneConfig,
                 groups: tuple[tuple[int, ...], ...], transformers_version: str | None, sharded: bool = False) -> None:
        self.alloc, self.cfg, self.layers = alloc, cfg, spec.layers
        self.sh = _shapes(spec, cfg, transformers_version, sharded)
        # the embedding's output is in the base dtype; the first layer's output sets the rest's input (a layer
        # on the stream's dtype returns that dtype: bf16 under LoRA, fp32 under QLoRA)
        first, self.stream = layer_ops(self.sh.e, self.sh)
        rest, _ = layer_ops(self.stream, self.sh)
        self.layer_ops = (first, rest)
        self.head = head_ops(self.stream, self.sh)
        self.groups = groups
        self.full = cfg.method == "full"
        self.element = self.sh.e if self.full else self.sh.a
        self.adapters = () if self.full else groups[0]
        self.per_layer = len(self.adapters) // spec.layers
        self.moments: list[int] = []
        self.first_backward = (0, 0)  # peak allocated and reserved before the first optimizer step

    def _ops(self, layer: int) -> tuple[Op, ...]:
        return self.layer_ops[min(layer, 1)]

    def _input_bytes(self, layer: int) -> int:
        return (self.sh.e if layer == 0 else self.stream) * self.sh.tokens * self.sh.hidden

    # What a sharding wrapper does around the step (:mod:`engine.finetune.fsdp_replay`); on one card nothing.
    def _gather(self, unit: int | None) -> None:
        """Before decoder layer ``unit`` computes (None: the root, before the embedding)."""

    def _reshard(self, unit: int | None) -> None:
        """After ``unit``'s forward (a decoder layer) or its backward."""

    def _prefetch(self, unit: int | None) -> None:
        """As ``unit``'s backward starts: what the wrapper gathers ahead."""

    def _reduce(self, unit: int | None, grads: list[int]) -> list[int]:
        """The gradients ``unit``'s backward made (None: the root's); returns the ones the optimizer reads."""
        return grads

    def _backward_done(self) -> None:
        """After the backward, before the optimizer step."""

    def run(self) -> None:
        sh, alloc = self.sh, self.alloc
        t, h = sh.tokens, sh.hidden
        rope = sh.e * t * sh.head_dim
        self._gather(None)
        embedded = alloc.malloc(sh.e * t * h)
        alloc.free(alloc.malloc(FP32 * t * sh.head_dim // 2))  # inv_freq @ position_ids
        emb = alloc.malloc(FP32 * t * sh.head_dim)  # cat(freqs, freqs)
        cos32, sin32 = alloc.malloc(FP32 * t * sh.head_dim), alloc.malloc(FP32 * t * sh.head_dim)
        alloc.free(emb)
        cos, sin = alloc.malloc(rope), alloc.malloc(rope)
        alloc.free(cos32)
        alloc.free(sin32)
        checkpointing = self.cfg.gradient_checkpointing
        checkpoints = [embedded]  # each layer's input: kept by its checkpoint, else until the next layer has run
        graphs: list[Tensors] = []  # without checkpointing: each layer's saved tensors, for its backward
        for i in range(self.layers):
            self._gather(i)
            live = Tensors(alloc, {"x": checkpoints[-1], "cos": cos, "sin": sin}, {"x": self._input_bytes(i)})
            run_forward(live, self._ops(i), keep=frozenset({"out"}), autograd=not checkpointing)
            self._reshard(i)
            checkpoints.append(live.handles.pop("out"))
            if not checkpointing:
                graphs.append(live)
                # nothing saved this layer's input: it dies once the layer is done with it (the embedding
                # output with the model's forward, before the loss)
                alloc.free(checkpoints[i])
        # no checkpoint keeps the last layer's output: the final norm's reference is the last one
        last = frozenset({"x"})
        head = Tensors(alloc, {"x": checkpoints.pop()}, {"x": self._input_bytes(self.layers)})
        # what the model output holds: before 4.46 the fp32 logits, Granite's divided ones, else lm_head's output
        returned = "logits32" if sh.inline_loss else "logits.scaled" if sh.scaled_logits else "logits"
        run_forward(head, self.head, keep=frozenset({returned}), autograd=True, consumed=last)
        if self.sh.quantized and not sh.inline_loss:  # bf16=True: accelerate's convert_outputs_to_fp32 copies
            converted = alloc.malloc(FP32 * sh.tokens * sh.vocab)  # the returned 16-bit logits
            head.drop(returned)  # the original output goes once the converted one is returned
            alloc.free(converted)  # the model output dies with compute_loss's frame, before backward
        else:
            head.drop(returned)  # the model output dies with compute_loss's frame, before backward
        self._prefetch(None)
        root_grads: list[int] = []
        grads = run_backward(head, self.head, "loss", alloc.malloc(4), consumed=last, param_grads=root_grads)
        grad = grads["x"]
        grads_made: list[int] = []
        for i in range(self.layers - 1, -1, -1):
            self._gather(i)
            if checkpointing:  # recomputed with autograd; its output is held until its backward returns
                live = Tensors(alloc, {"x": checkpoints[i], "cos": cos, "sin": sin}, {"x": self._input_bytes(i)})
                run_forward(live, self._ops(i), keep=frozenset({"out"}), autograd=True)
                # the recompute is a forward of its own: the wrapper reshards after it and gathers again for the
                # backward (FSDP1's pre-forward sees no backward state under reentrant checkpointing)
                self._reshard(i)
                self._gather(i)
            else:
                live = graphs[i]
            self._prefetch(i)
            made: list[int] = []
            left = run_backward(live, self._ops(i), "out", grad, param_grads=made)
            for size in self.adapters[i * self.per_layer:(i + 1) * self.per_layer]:
                made.append(alloc.malloc(size))
            self._reshard(i)
            grads_made += self._reduce(i, made)
            live.drop("out")
            grad = left["x"]
            for handle in {v for k, v in left.items() if k != "x"}:
                alloc.free(handle)
            if checkpointing and i + 1 < self.layers:
                alloc.free(checkpoints[i + 1])
        if self.full:
            root_grads.append(self._embedding_backward())
        alloc.free(grad)
        if checkpointing:
            alloc.free(checkpoints[0])
        alloc.free(cos)
        alloc.free(sin)
        self._reshard(None)
        grads_made += self._reduce(None, root_grads)
        self._backward_done()
        if not self.first_backward[0]:
            self.first_backward = (alloc.peak_allocated, alloc.peak_reserved)
        self._optimizer_step(grads_made)

    def _embedding_backward(self) -> int:
        """``embedding_dense_backward`` (aten ``EmbeddingBackwardKernel.cu``, the path without a host sync):
        the sorted and original token indices, the zeroed weight gradient it returns, four int64 index
        buffers and the fp32 partial sums, one row per token; returns the weight gradient."""
        alloc, t = self.alloc, self.sh.tokens
        indices = [alloc.malloc(INDEX * t) for _ in range(2)]
        weight_grad = alloc.malloc(self.sh.e * self.sh.vocab * self.sh.hidden)
        indices += [alloc.malloc(INDEX * t) for _ in range(4)]
        alloc.free(alloc.malloc(FP32 * t * self.sh.hidden))
        for handle in reversed(indices):
            alloc.free(handle)
        return weight_grad

    def _optimizer_step(self, grads: list[int]) -> None:
        """Each parameter group in turn (the Trainer's: the weights that decay, then the rest): its states at
        the optimizer's first step, each parameter in turn: torch AdamW's two moments in the parameter's
        dtype (and, foreach, a sqrt copy of the group's ``exp_avg_sq`` every step); bitsandbytes' 8-bit Adam
        two 1-byte states with an fp32 absmax per 256 (fp32 states under 4,096 elements, its
        ``min_8bit_size``); the paged variants keep theirs in managed memory, outside PyTorch's allocator;
        SGD none.  Then ``zero_grad`` drops the gradients."""
        alloc, optimizer = self.alloc, self.cfg.optimizer
        first = not self.moments
        for group in self.groups:
            if first:
                for size in group:
                    elements = size // self.element
                    if optimizer == "adamw":  # zeros_like(param)
                        self.moments += [alloc.malloc(size), alloc.malloc(size)]
                    elif optimizer == "adamw-8bit" and elements < BNB_MIN_8BIT_SIZE:
                        self.moments += [alloc.malloc(FP32 * elements), alloc.malloc(FP32 * elements)]
                    elif optimizer == "adamw-8bit":
                        for _ in range(2):
                            self.moments += [alloc.malloc(elements), alloc.malloc(FP32 * -(-elements // 256))]
            if optimizer == "adamw":
                for handle in [alloc.malloc(size) for size in group]:
                    alloc.free(handle)
        for handle in grads:
            alloc.free(handle)


@lru_cache(maxsize=64)
def trainer_replay(spec: ModelSpec, cfg: FinetuneConfig, capacity: int | None = None,
                   transformers_version: str | None = None) -> TrainerReplay:
    """Replay steps until the reserve stops growing (at most ``MAX_STEPS``); ``capacity``: the bytes the card
    has for the allocator's segments (its memory less the CUDA context), where PyTorch releases its cached
    segments and retries before it fails (None: never); ``transformers_version``: the release whose
    ``ForCausalLMLoss`` runs (None: a current one)."""
    alloc = CachingAllocator(capacity=capacity)
    return replay_steps(TrainerStep(alloc, spec, cfg, _load(alloc, spec, cfg), transformers_version))


def replay_steps(step: TrainerStep) -> TrainerReplay:
    """Run ``step`` until its allocator's reserve stops growing (at most ``MAX_STEPS``)."""
    alloc = step.alloc
    steps, reserved = 0, -1
    while steps < MAX_STEPS and alloc.peak_reserved != reserved:
        reserved = alloc.peak_reserved
        step.run()
        steps += 1
    return TrainerReplay(alloc.peak_allocated, alloc.peak_reserved, steps, *step.first_backward, alloc.out_of_memory)

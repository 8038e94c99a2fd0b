"""The allocations of a Megatron-LM 2021 pipeline stage, replayed through PyTorch's caching allocator.

The ``megatron-2021`` profile's reserved memory runs 17-24 % above its allocated peak (BigScience's
2021 runs, every stage of five models: ``resources/validation/training.json``), far above a flat
allowance.  The cause is the order of its requests, which this module rebuilds tensor by tensor from
the code of that version and hands to :class:`~engine.training.memory.caching_allocator.CachingAllocator`:

* **start-up**: the fp16 parameters in ``module.parameters()`` order (embeddings, each layer's
  norms, QKV, projection and MLP weights and biases, the final norm, the last stage's copy of the
  tied embedding); ``Float16OptimizerWithFloat16Params`` then makes each fp32 main parameter with
  ``param.detach().clone().float()`` (an fp16 clone, freed once the fp32 copy exists);
* **each iteration**: ``zero_grad`` drops the fp16 ``.grad`` tensors, but ``param.main_grad`` (set by
  the local DDP's ``allreduce_gradients``) keeps the previous step's alive.  The 1F1B schedule runs
  its warm-up forwards, its steady forward/backward pairs and its cool-down backwards.  A forward
  under full recompute runs each layer without autograd and keeps its output as the next layer's
  checkpoint; a backward recomputes the layer with autograd, then walks back through its four
  matrices.  The first backward of the step creates each fp16 ``.grad``; later ones create the
  weight gradient and add it in.  Tensors from a neighbouring stage arrive as 1/TP chunks gathered
  into a new tensor (``scatter_gather_tensors_in_pipeline``, ``megatron/p2p_communication.py``), and
  the model keeps the latest received activation (``ParallelTransformer.set_input_tensor``) with the
  gradient ``backward_step``'s ``retain_grad()`` leaves on it until the next forward (``megatron/
  schedules.py``);
* **after the backward**: ``allreduce_gradients`` points ``main_grad`` at the new ``.grad`` (freeing
  the previous step's) and all-reduces a flattened copy of every gradient
  (``_flatten_dense_tensors``: one request of 2 B × the stage's parameters);
* **the optimizer step**: ``main_param.grad = main_grad.float()`` creates each new fp32 gradient
  before the old one is freed; apex ``FusedAdam`` creates ``exp_avg`` and ``exp_avg_sq`` for each
  parameter in turn at its first successful step.  fp16 skips the first step (Megatron's loss scale
  starts at 2^32, which overflows fp16 gradients).

Against the sixteen reserved figures BigScience's 2021 logs print (``vramplan validate``), every stage of two
layers or more comes out within 4 %; one-layer stages, a handful of 0.4-2 GB blocks, land one flattened
copy either side (+6.6 % and -8.0 %).

Code: NVIDIA/Megatron-LM of spring 2021 (``megatron/optimizer/optimizer.py`` at b4bc51b1,
``megatron/model/distributed.py`` and ``megatron/training.py`` at 63121a9e).

The replay runs iterations until the reserve stops growing (three after the first real step in the
BigScience stages).  Steady 1F1B pairs repeat the allocator's state, so it runs at most
``STEADY_PAIRS`` of them; further skipped steps before the first real one change the result by
under 0.1 % (the 18B stage of two: one skipped step 29,106 MiB, ten 29,108 MiB).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.errors import PlanError
from engine.training.checks import microbatches_per_step
from engine.training.config import FRAGMENTATION_MODEL_FIELD
from engine.training.memory.caching_allocator import CachingAllocator
from engine.training.memory.context import CardContext
from engine.training.memory.model_states import card_params
from engine.training.memory.schedule import in_flight_chunks

STEADY_PAIRS = 2
MAX_ITERATIONS = 12


@dataclass(frozen=True)
class Replay:
    """Peaks of the replayed allocations (rounded as PyTorch counts them)."""

    peak_allocated: int
    peak_reserved: int
    steady_allocated: int            # allocated after the last iteration (the step's persistent tensors)
    iterations: int
    skipped_steps: int

    @property
    def reserve(self) -> int:
        return self.peak_reserved - self.peak_allocated


def replay_problem(ctx: CardContext) -> str | None:
    """Why the replay cannot model this card (None: it can)."""
    m, tr = ctx.model, ctx.training
    if ctx.method.framework != "megatron-2021":
        return f"the megatron-2021 framework (this plan uses {ctx.method.framework})"
    if m.moe is not None or m.mla is not None:
        return "a dense model without MoE or MLA"
    if m.parallel_residual or m.qk_norm or m.norms_per_layer != 2:
        return "a sequential block with two norms and no QK norm"
    if m.vocab is None:
        return "a model with a vocabulary (not an article-level model)"
    if tr.recompute not in ("full", "none") or tr.sequence_parallel:
        return ("recompute full or none, without sequence parallelism (Megatron-LM 2021 had no selective "
                "recompute or sequence parallelism)")
    if ctx.cp > 1 or ctx.vpp > 1 or tr.zero or tr.distributed_optimizer or tr.precision == "fp32":
        return "fp16 or bf16 without ZeRO, the distributed optimizer, context parallelism or interleaving"
    return None


def check_replayable(ctx: CardContext) -> None:
    problem = replay_problem(ctx)
    if problem is not None:
        raise PlanError(FRAGMENTATION_MODEL_FIELD, "replay", f"percent, or replay for {problem}")


def megatron_2021_replay(ctx: CardContext, *, with_state: bool = True) -> Replay:
    """Replay the stage's iterations; ``with_state=False``: the optimizer never steps (every step
    skipped), for the card before its first optimizer step."""
    check_replayable(ctx)
    m = microbatches_per_step(ctx.training, ctx.dp, ctx.stages, ctx.vpp)
    return _replay(_Shapes.of(ctx), ctx.stage, ctx.stages, m, ctx.training.precision == "fp16", with_state)


@dataclass(frozen=True)
class _Shapes:
    """Request sizes in bytes (16-bit activations and weights) of one card."""

    params: tuple[int, ...]          # elements, module.parameters() order
    # per layer: its first and past-the-end parameter index, and its four matrices in backward order
    layer_params: tuple[tuple[int, int, tuple[int, int, int, int]], ...]
    last: bool
    layers: int
    recompute: bool
    tokens_hidden: int               # s·b·h × 2 B
    qkv: int
    context: int
    scores: int                      # per attention probability tensor (0 with flash attention)
    softmax_stats: int               # flash attention's fp32 log-sum-exp per head and token
    mask: int                        # its dropout mask (0 without dropout)
    hidden_mask: int
    fc1: int
    ffn_out: int
    logits: int                      # s·b·V/TP × 2 B
    tp: int
    output_weight: int               # index of the weight the logits' matmul reads
    embeddings: tuple[int, ...]      # indices of the first stage's embedding tables

    @staticmethod
    def of(ctx: CardContext) -> _Shapes:
        spec, tr, t = ctx.model, ctx.training, ctx.tp
        h, d, a, kv = spec.hidden, spec.head_dim_, spec.heads, spec.kv_heads_
        ffn = spec.ffn_
        fc1_width = 2 * ffn if spec.gated_mlp else ffn
        qkv_width = (a + 2 * kv) * d // t
        norm = (h, h) if spec.norm == "layernorm" else (h,)
        bias = spec.bias
        qkv_bias = spec.bias if spec.qkv_bias is None else spec.qkv_bias
        params: list[int] = []
        embeddings: tuple[int, ...] = ()
        if ctx.first:
            assert spec.vocab is not None
            params.append(-(-spec.vocab // t) * h)
            if spec.position_embedding == "learned":
                params.append(spec.max_position * h)
            embeddings = tuple(range(len(params)))
        layer_params = []
        for _ in ctx.layer_indices:
            start = len(params)
            params += norm
            qkv_i = len(params)
            params += [qkv_width * h] + ([qkv_width] if qkv_bias else [])
            dense_i = len(params)
            params += [a * d // t * h] + ([h] if bias else [])
            params += norm
            fc1_i = len(params)
            params += [fc1_width // t * h] + ([fc1_width // t] if bias else [])
            fc2_i = len(params)
            params += [ffn // t * h] + ([h] if bias else [])
            layer_params.append((start, len(params), (fc2_i, fc1_i, dense_i, qkv_i)))
        if ctx.last:
            params += norm
            if not ctx.first or not spec.tied_embeddings:
                assert spec.vocab is not None
                params.append(-(-spec.vocab // t) * h)
        expected = card_params(ctx).total
        if sum(params) != expected:  # a layer shape this replay does not rebuild
            raise PlanError(FRAGMENTATION_MODEL_FIELD, "replay", f"percent for this model: its card holds {expected:,} parameters and the "
                            f"replay rebuilds {sum(params):,}")
        e = tr.seq * tr.micro_batch
        scores = 0 if tr.flash_attention else a // t * tr.micro_batch * tr.seq * tr.seq * 2
        dropout = spec.dropout > 0
        return _Shapes(
            params=tuple(params), layer_params=tuple(layer_params), last=ctx.last,
            layers=ctx.layers, recompute=tr.recompute == "full", tokens_hidden=e * h * 2, qkv=e * qkv_width * 2,
            context=e * a * d // t * 2, scores=scores, mask=scores // 2 if dropout else 0,
            softmax_stats=e * a // t * 4 if tr.flash_attention else 0,
            hidden_mask=e * h if dropout else 0, fc1=e * fc1_width // t * 2, ffn_out=e * ffn // t * 2,
            logits=e * -(-(spec.vocab or 0) // t) * 2, tp=t,
            embeddings=embeddings,
            output_weight=len(params) - 1 if ctx.last and (not ctx.first or not spec.tied_embeddings) else 0,
        )


@dataclass
class _InFlight:
    """What one micro-batch's forward left alive for its backward."""

    checkpoints: list[int]            # the stage's input, then each checkpointed layer's output
    saved: list[list[int]]            # without recompute: each layer's saved tensors
    logits: int | None = None


class _Stage:
    """One stage's requests, issued into an allocator."""

    def __init__(self, shapes: _Shapes) -> None:
        self.s = shapes
        self.a = CachingAllocator()
        self.grads: list[int | None] = []
        self.main_grads: list[int | None] = [None] * len(shapes.params)
        self.fp32_grads: list[int | None] = [None] * len(shapes.params)
        self.state: list[int] = []
        # What the model itself keeps: ParallelTransformer.set_input_tensor holds the latest forward's received
        # activation (and, once its backward ran, the .grad retain_grad() left on it) until the next forward.
        self.latest: _InFlight | None = None
        self.held: tuple[int, ...] = ()
        a = self.a
        for n in shapes.params:  # fp16 parameters
            a.malloc(2 * n)
        for n in shapes.params:  # main_param = param.detach().clone().float()
            clone = a.malloc(2 * n)
            a.malloc(4 * n)
            a.free(clone)

    # -- one layer ------------------------------------------------------------------------------
    def _saved(self) -> list[int]:
        """What a layer's forward with autograd keeps for its backward, in creation order."""
        s = self.s
        sizes = [s.tokens_hidden, s.qkv, s.scores, s.mask, s.scores, s.softmax_stats, s.context, s.hidden_mask,
                 s.tokens_hidden, s.tokens_hidden, s.fc1, s.ffn_out, s.hidden_mask]
        return [self.a.malloc(n) for n in sizes if n]

    def _forward_no_grad(self) -> int:
        """A checkpointed layer's forward: intermediates freed as soon as used; returns its output."""
        s, a = self.s, self.a
        norm = a.malloc(s.tokens_hidden)
        qkv = a.malloc(s.qkv)
        a.free(norm)
        if s.scores:
            raw = a.malloc(s.scores)
            probs = a.malloc(s.scores)
            a.free(raw)
            if s.mask:
                mask, dropped = a.malloc(s.mask), a.malloc(s.scores)
                a.free(probs)
                a.free(mask)
                probs = dropped
            ctx = a.malloc(s.context)
            a.free(probs)
        else:  # flash attention: the output and its softmax statistics, no s x s tensor
            stats = a.malloc(s.softmax_stats)
            ctx = a.malloc(s.context)
            a.free(stats)
        a.free(qkv)
        attn = a.malloc(s.tokens_hidden)
        a.free(ctx)
        residual = self._bias_dropout_add(attn)
        norm = a.malloc(s.tokens_hidden)
        fc1 = a.malloc(s.fc1)
        a.free(norm)
        act = a.malloc(s.ffn_out)
        a.free(fc1)
        fc2 = a.malloc(s.tokens_hidden)
        a.free(act)
        out = self._bias_dropout_add(fc2)
        a.free(residual)
        return out

    def _bias_dropout_add(self, x: int) -> int:
        s, a = self.s, self.a
        mask = a.malloc(s.hidden_mask) if s.hidden_mask else None
        out = a.malloc(s.tokens_hidden)
        a.free(x)
        if mask is not None:
            a.free(mask)
        return out

    def _weight_grad(self, i: int, first_backward: bool) -> None:
        n = 2 * self.s.params[i]
        if first_backward and self.grads[i] is None:
            self.grads[i] = self.a.malloc(n)
        else:  # autograd computes the gradient, then adds it into .grad (a tied table's second use too)
            self.a.free(self.a.malloc(n))

    def _layer_backward(self, layer: int, saved: list[int], grad_out: int, first_backward: bool) -> int:
        """Back through the layer's four matrices (the MLP's, then attention's), freeing what each read;
        the first backward of the step also creates the norms' and biases' gradients."""
        s, a = self.s, self.a
        start, end, matrices = s.layer_params[layer]
        inputs = (s.ffn_out, s.tokens_hidden, s.context, s.tokens_hidden)
        per_matrix = -(-len(saved) // len(matrices))
        for i, width in zip(matrices, inputs, strict=True):
            self._weight_grad(i, first_backward)
            grad_in = a.malloc(width)
            a.free(grad_out)
            grad_out = grad_in
            for _ in range(per_matrix):
                if saved:
                    a.free(saved.pop())
        if first_backward:
            for i in range(start, end):
                if self.grads[i] is None:
                    self.grads[i] = a.malloc(2 * s.params[i])
        grad_in = a.malloc(s.tokens_hidden)
        a.free(grad_out)
        return grad_in

    # -- micro-batches ---------------------------------------------------------------------------
    def _received(self) -> int:
        """A tensor from the neighbouring stage: with scatter_gather_tensors_in_pipeline (on by default) each TP
        rank receives 1/TP of it and all-gathers the whole into a new tensor."""
        s, a = self.s, self.a
        if s.tp == 1:
            return a.malloc(s.tokens_hidden)
        chunk = a.malloc(s.tokens_hidden // s.tp)
        whole = a.malloc(s.tokens_hidden)
        a.free(chunk)
        return whole

    def forward(self) -> _InFlight:
        s, a = self.s, self.a
        # the first stage's embedding output, or the activation received from the previous stage
        mb = _InFlight([a.malloc(s.tokens_hidden) if s.embeddings else self._received()], [])
        if not s.embeddings:  # set_input_tensor: the model lets go of the previous input and its gradient
            for h in self.held:
                a.free(h)
            self.held, self.latest = (), mb
        for _ in range(s.layers):
            if s.recompute:
                mb.checkpoints.append(self._forward_no_grad())
            else:
                mb.saved.append(self._saved())
        if s.last:
            half = a.malloc(s.logits)
            mb.logits = a.malloc(2 * s.logits)  # the fp32 logits the cross entropy keeps
            a.free(half)
        return mb

    def backward(self, mb: _InFlight, first_backward: bool) -> None:
        s, a = self.s, self.a
        if mb.logits is not None:
            grad = a.malloc(s.logits)
            a.free(mb.logits)
            self._weight_grad(s.output_weight, first_backward)
            grad_out = a.malloc(s.tokens_hidden)
            a.free(grad)
        else:
            grad_out = self._received()  # the gradient received from the next stage
        for layer in reversed(range(s.layers)):
            if s.recompute:
                a.free(mb.checkpoints.pop())
                saved = self._saved()
                a.free(a.malloc(s.tokens_hidden))  # the recomputed output, not kept
            else:
                saved = mb.saved.pop()
            grad_out = self._layer_backward(layer, saved, grad_out, first_backward)
        for i in s.embeddings:  # the lookup's dense weight gradient
            self._weight_grad(i, first_backward)
        if first_backward:  # the final norm
            for i, n in enumerate(s.params):
                if self.grads[i] is None:
                    self.grads[i] = a.malloc(2 * n)
        if mb is self.latest:  # the model still holds this input, and retain_grad() left its gradient on it
            self.held = (*mb.checkpoints, grad_out)
            return
        for h in mb.checkpoints:
            a.free(h)
        a.free(grad_out)

    # -- iterations ------------------------------------------------------------------------------
    def iteration(self, schedule: list[str], step: bool) -> None:
        s, a = self.s, self.a
        self.grads = [None] * len(s.params)
        queue: list[_InFlight] = []
        backwards = 0
        for op in schedule:
            if op == "F":
                queue.append(self.forward())
            else:
                self.backward(queue.pop(0), backwards == 0)
                backwards += 1
        for i, n in enumerate(s.params):  # allreduce_gradients: main_grad = grad
            grad = self.grads[i]
            if grad is None:
                grad = self.grads[i] = a.malloc(2 * n)
            old = self.main_grads[i]
            if old is not None:
                a.free(old)
            self.main_grads[i] = grad
        a.free(a.malloc(2 * sum(s.params)))  # the flattened copy all-reduced
        for i, n in enumerate(s.params):  # main_param.grad = main_grad.float()
            new = a.malloc(4 * n)
            old = self.fp32_grads[i]
            if old is not None:
                a.free(old)
            self.fp32_grads[i] = new
        if step and not self.state:
            for n in s.params:
                self.state.append(a.malloc(4 * n))
                self.state.append(a.malloc(4 * n))


def one_f_one_b(stage: int, stages: int, microbatches: int) -> list[str]:
    """The stage's forwards ("F") and backwards ("B") in 1F1B order, at most ``STEADY_PAIRS`` steady pairs."""
    in_flight = in_flight_chunks(stage, stages, microbatches, 1)
    if stages == 1:
        warm, pairs = 0, min(microbatches, STEADY_PAIRS)
    elif in_flight < stages - stage:  # fewer micro-batches than the warm-up: all forwards, then all backwards
        warm, pairs = in_flight, 0
    else:
        warm = stages - stage - 1
        pairs = min(microbatches - warm, STEADY_PAIRS)
    return ["F"] * warm + ["F", "B"] * pairs + ["B"] * warm


@lru_cache(maxsize=64)
def _replay(shapes: _Shapes, stage: int, stages: int, microbatches: int, fp16: bool, with_state: bool) -> Replay:
    schedule = one_f_one_b(stage, stages, microbatches)
    run = _Stage(shapes)
    skipped = 1 if fp16 else 0
    previous = -1
    stepped_at = None
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):
        step = with_state and iterations > skipped
        run.iteration(schedule, step)
        if step and stepped_at is None:
            stepped_at = iterations
        settled = stepped_at is not None or not with_state
        if settled and run.a.reserved == previous and iterations >= (stepped_at or 0) + 2:
            break
        previous = run.a.reserved
    return Replay(run.a.peak_allocated, run.a.peak_reserved, run.a.allocated, iterations,
                  skipped if with_state else iterations)


def clear_replay_cache() -> None:
    """Forget the memoised replays (benchmarks time them cold)."""
    _replay.cache_clear()

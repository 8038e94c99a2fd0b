"""One serving card's breakdown: weights, KV cache, workspace, logits, runtime overhead.

Static parts (the weights of a stage's layers on one TP rank) are computed once
per estimate; the parts that depend on context and batch are recomputed by the
answer searches (longest context, most sequences).

KV pools.  vLLM reserves ``gpu_memory_utilization × capacity``; the KV pool is
that budget minus weights, the profiled activation peak, logits, CUDA context,
library workspaces and CUDA graphs.  TensorRT-LLM gives the KV pool
``kv_cache_free_gpu_mem_fraction`` of what is left after loading.  In both
cases the breakdown's ``kv_cache`` is what the requested sequences occupy, and
``overhead`` includes the share the runtime leaves unused, so the card's
headroom is the free part of the pool and a request that needs more than the
pool does not fit.  transformers and llama.cpp allocate what the sequences need.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.model.spec import ModelSpec
from engine.report.formatting import ceil_div, n
from engine.report.records import Breakdown, Figure, figure, make_breakdown
from engine.serving.config import ServingConfig
from engine.serving.kv_cache import KvUse, WindowPolicy, kv_bytes, kv_use
from engine.serving.llamacpp_offload import expert_bytes, staged_weight
from engine.serving.runtimes import RuntimeProfile
from engine.serving.split import StageSplit
from engine.serving.vllm_batch import VllmBatch
from engine.serving.vllm_moe_workspace import moe_workspace_bytes
from engine.serving.vllm_mxfp4 import Mxfp4Backend
from engine.serving.vllm_profiling import VLLM_NON_TORCH_GROWTH_BYTES, VllmProfiling
from engine.serving.vllm_sampler import FP32_BYTES, SamplerWarmup, sampler_warmup
from engine.serving.workspace import ACT_BYTES, forward_tokens, workspace, workspace_bytes
from engine.weights.formats import StorageFormat
from engine.weights.quant import QuantScheme, tensor_bytes, tensor_format
from engine.weights.tensors import Tensor, layer_tensors, outer_tensors, output_matrix


@dataclass(frozen=True, slots=True)
class Setting:
    """What every card of one estimate shares."""

    spec: ModelSpec
    cfg: ServingConfig
    scheme: QuantScheme
    kv_fmt: StorageFormat
    runtime: RuntimeProfile
    split: StageSplit
    block: int | None
    chunk: int | None
    world: int
    window: WindowPolicy
    vllm: VllmProfiling | None = None  # what the vLLM release counts inside its budget (None: not vLLM)
    vllm_batch: VllmBatch | None = None  # vLLM's profiled chunk and max_num_seqs (None: not vLLM)
    nccl: tuple[int, str] = (0, "0 (single card)")  # NCCL buffers on each card, and why
    mxfp4: Mxfp4Backend | None = None  # vLLM's MXFP4 MoE kernel (None: not vLLM serving MXFP4 experts)

    def tokens(self, context: int, batch: int) -> int:
        """Tokens of the forward pass that sets the activation peak."""
        if self.ggml:  # llama.cpp reserves its graph for a full ubatch whatever the prompt
            return self.chunk or 512
        return forward_tokens(context, batch, self.chunk, self.runtime.kv_pool != "dynamic")

    @property
    def ggml(self) -> bool:
        return self.runtime.name == "llamacpp"

    @property
    def act_bytes(self) -> int:
        """Bytes of an activation: the model's compute dtype, 16-bit except for a model served in fp32 (vLLM's
        ``--dtype float32``: its llm-d-planner 0.19.0 log of Llama-3.1-8B peaks 0.32 GiB above the bf16 run's)."""
        return FP32_BYTES if self.scheme.name == "fp32" else ACT_BYTES


@dataclass(frozen=True, slots=True)
class StageWeights:
    bytes: int
    formula: str
    embedding: int
    output: int


@dataclass(frozen=True, slots=True)
class CardResult:
    breakdown: Breakdown
    pool_bytes: int | None  # KV pool (vLLM / TensorRT-LLM), None for dynamic runtimes
    kv_per_token: int  # KV bytes per context token on this card (all its layers)

    @property
    def pool_tokens(self) -> int | None:
        if self.pool_bytes is None or self.kv_per_token == 0:
            return None
        return max(self.pool_bytes, 0) // self.kv_per_token


def _sum(s: Setting, tensors: list[Tensor], tp: int) -> int:
    return sum(tensor_bytes(s.scheme, t, s.spec, tp) for t in tensors)


@lru_cache(maxsize=65536)  # bounded: a long GUI session or a soak run must not grow it
def layer_weight_bytes(scheme: QuantScheme, spec: ModelSpec, layer: int, tp: int) -> int:
    """Bytes of one layer on one of ``tp`` ranks (memoised: GUI edits and answer searches repeat it)."""
    return sum(tensor_bytes(scheme, t, spec, tp) for t in layer_tensors(spec)[layer])


def kernel_extra_bytes(s: Setting, layers: tuple[int, ...] | range, tp: int) -> tuple[int, str]:
    """(bytes, formula) a runtime's kernels keep beside the weights of ``layers`` on one of ``tp`` ranks: vLLM's
    Triton MXFP4 path (:meth:`engine.serving.vllm_mxfp4.Mxfp4Backend.resident_extra`) and its MLA attention's
    16-bit copy of a quantized ``kv_b_proj`` (:func:`mla_absorbed_bytes`)."""
    total, parts = 0, []
    if s.mxfp4 is not None:
        per_layer, formula = s.mxfp4.resident_extra(s.spec, tp)
        moe_layers = sum(1 for i in layers if s.spec.is_moe_layer(i))
        if per_layer and moe_layers:
            total += per_layer * moe_layers
            parts.append(f"{s.mxfp4.name} MXFP4 kernel's copies, {moe_layers} MoE layers × ({formula}) = "
                         f"{n(per_layer * moe_layers)} B")
    if s.vllm is not None and layers:
        per_layer, formula = mla_absorbed_bytes(s, tp)
        if per_layer:
            total += per_layer * len(layers)
            parts.append(f"{len(layers)} layers × {formula}")
    return total, "; ".join(parts)


def mla_absorbed_bytes(s: Setting, tp: int) -> tuple[int, str]:
    """(bytes a layer, formula) of vLLM's MLA absorbed weights on one of ``tp`` ranks.  ``MLACommonImpl.
    process_weights_after_loading`` splits ``kv_b_proj`` into ``W_UK_T`` and ``W_UV`` for the decode's batched
    matmuls, which run in 16 bit ("we currently do not have quantized bmm's ... we just store fp16/bf16 copies"):
    a quantized ``kv_b_proj`` is dequantized into a new tensor, heads/TP × kv_lora_rank × (qk_nope + v_head) × 2 B,
    held beside the quantized one; a 16-bit one is viewed, not copied."""
    m = s.spec.mla
    if m is None:
        return 0, ""
    kv_b = next((t for t in layer_tensors(s.spec)[0] if t.name == "kv_b_proj"), None)  # every MLA layer has one
    if kv_b is None or tensor_format(s.scheme, kv_b, s.spec).bits >= 16:
        return 0, ""
    heads = ceil_div(s.spec.heads, tp)
    width = m.qk_nope_head_dim + m.v_head_dim
    per_layer = heads * m.kv_lora_rank * width * ACT_BYTES
    return per_layer, (f"vLLM MLA's 16-bit W_UK_T / W_UV ({heads} heads × kv_lora_rank {m.kv_lora_rank} × "
                       f"{width} × {ACT_BYTES} B = {n(per_layer)} B)")


def stage_weights(s: Setting, stage: int, tp: int) -> StageWeights:
    layers = s.split.layers[stage]
    extra, extra_text = kernel_extra_bytes(s, layers, tp)
    body = sum(layer_weight_bytes(s.scheme, s.spec, i, tp) for i in layers) + extra
    on_host = set(s.split.host_expert_layers)
    experts = sum(expert_bytes(s.scheme, s.spec, i) for i in layers if i in on_host)
    body -= experts
    outer = outer_tensors(s.spec)
    emb = out = 0
    if s.split.embedding_stage == stage:
        emb = _sum(s, [t for t in outer if t.cls in ("embedding", "position")], tp)
    if s.split.output_stage == stage:
        out = _sum(s, [t for t in outer if t.cls in ("norm", "output")], tp)
        tied = output_matrix(s.spec) if s.spec.tied_embeddings and s.split.embedding_stage != stage else None
        if tied is not None:  # the output layer is a copy of the tied embedding on this card
            out += _sum(s, [tied], tp)
    total = body + emb + out
    kept = (f" (less the routed experts of {sum(1 for i in layers if i in on_host)} layers kept in system RAM, "
            f"{n(experts)})" if experts else "") + (f" (with the {extra_text})" if extra else "")
    text = (f"{s.scheme.name}: {len(layers)} layers {n(body)}{kept} + embedding {n(emb)} + final norm/output {n(out)}"
            + (f" on one of {tp} TP ranks" if tp > 1 else "") + f" = {n(total)} B")
    return StageWeights(total, text, emb, out)


def host_weights(s: Setting) -> int:
    """System RAM the llama.cpp offload keeps: CPU layers, the token embedding, maybe the output."""
    if not s.runtime.embedding_on_host:
        return 0
    total = sum(layer_weight_bytes(s.scheme, s.spec, i, 1) for i in s.split.host_layers)
    total += sum(expert_bytes(s.scheme, s.spec, i) for i in s.split.host_expert_layers)
    outer = outer_tensors(s.spec)
    total += _sum(s, [t for t in outer if t.cls in ("embedding", "position")], 1)
    if s.split.output_stage is None:
        total += _sum(s, [t for t in outer if t.cls in ("norm", "output")], 1)
    return total


def host_kv(s: Setting, context: int, batch: int) -> int:
    if not s.split.host_layers:
        return 0
    return kv_bytes(s.spec, s.split.host_layers, s.kv_fmt, 1, context, batch, s.block, s.window)


@dataclass(frozen=True, slots=True)
class RuntimeBytes:
    """The runtime's own memory on one card, beyond weights, KV cache and the forward's workspace."""

    context: int  # CUDA context
    library: int  # cuBLAS workspace
    graphs: int  # CUDA graphs (vLLM)
    nccl: int  # NCCL communicators (several cards)
    non_torch: int  # vLLM: non-torch memory allocated after start-up (kernels loaded during the profile)
    fragmentation: int  # caching-allocator reserve
    fragmentation_percent: float

    @property
    def total(self) -> int:
        return self.context + self.library + self.graphs + self.nccl + self.non_torch + self.fragmentation

    def outside_budget(self, p: VllmProfiling | None) -> int:
        """What a vLLM release leaves out of its gpu_memory_utilization budget (0 for other runtimes)."""
        if p is None:
            return 0
        return ((0 if p.context else self.context) + (0 if p.graphs else self.graphs)
                + (0 if p.non_torch else self.nccl + self.non_torch))


def _runtime_bytes(s: Setting, dynamic: int) -> RuntimeBytes:
    rt, cfg = s.runtime, s.cfg
    ctx = rt.cuda_context_bytes if cfg.cuda_context_bytes is None else cfg.cuda_context_bytes
    frag_pct = rt.fragmentation_percent if cfg.fragmentation_percent is None else cfg.fragmentation_percent
    lib = rt.library_workspace_bytes if cfg.library_workspace_bytes is None else cfg.library_workspace_bytes
    graphs = 0 if cfg.enforce_eager else rt.cuda_graph_bytes if cfg.cuda_graph_bytes is None else cfg.cuda_graph_bytes
    nccl = s.nccl[0]
    non_torch = VLLM_NON_TORCH_GROWTH_BYTES if s.vllm is not None else 0
    return RuntimeBytes(ctx, lib, graphs, nccl, non_torch, int(dynamic * frag_pct / 100), frag_pct)


def _overhead(s: Setting, dynamic: int) -> tuple[RuntimeBytes, list[Figure]]:
    rb = _runtime_bytes(s, dynamic)
    name = s.runtime.name
    lib = rb.library + rb.graphs
    lib_text = (f"cuBLAS {n(rb.library)} + CUDA graphs {n(rb.graphs)} = {n(lib)} B ({name} profile constants)"
                if rb.graphs else f"{n(lib)} B ({name} profile constant)")
    figs = [
        figure("cuda_context", "CUDA context", rb.context, f"{n(rb.context)} B ({name} profile constant)"),
        figure("library_workspace", "cuBLAS workspace / CUDA graphs", lib, lib_text),
        figure("nccl", "NCCL buffers", rb.nccl, s.nccl[1]),
        figure("fragmentation", "allocator reserve", rb.fragmentation,
               f"{rb.fragmentation_percent}% × {n(dynamic)} B allocated"),
    ]
    if s.vllm is not None:
        figs.append(figure("non_torch", "non-torch memory allocated after start-up", rb.non_torch,
                           f"{n(rb.non_torch)} B (kernels loaded during vLLM's profile; its log's non_torch_memory "
                           "at TP 1)"))
    return rb, figs


def allreduce_inputs_bytes(s: Setting, stage: int, tp: int, tokens: int) -> int:
    """vLLM 0.2.5 at TP > 1: every all-reduce input of a forward stays allocated (recordStream on NCCL's stream).

    Each layer all-reduces its attention output projection and its MLP down projection (16-bit,
    ``T × h``), the card with the embedding also its vocab-parallel embedding output.
    """
    if s.vllm is None or not s.vllm.allreduce_inputs or tp <= 1:
        return 0
    count = 2 * len(s.split.layers[stage]) + (1 if s.split.embedding_stage == stage else 0)
    return count * tokens * s.spec.hidden * s.act_bytes


def warmup_of(s: Setting, stage: int, tokens: int, batch: int) -> SamplerWarmup | None:
    """vLLM's sampler warm-up on this card (:mod:`engine.serving.vllm_sampler`), over the max_num_seqs that
    serves ``batch`` sequences; None elsewhere and for releases without one.  V1 samples on every TP rank
    of the stage holding the output layer; V0 on that stage's first TP rank only, but it sizes every
    rank's pool as the smallest, so counting the warm-up on each rank of the stage gives V0's pool too."""
    if s.vllm_batch is None or not s.vllm_batch.warms_sampler or s.split.output_stage != stage or not s.spec.vocab:
        return None
    b = s.vllm_batch
    return sampler_warmup(s.spec, b.warmup_requests(batch), tokens, s.act_bytes, sorts=b.sorts, sms=b.sms)


def profile_peak(s: Setting, stage: int, tokens: int, batch: int, act: int,
                 logits: int) -> tuple[int, int, SamplerWarmup | None]:
    """(activations, logits, the warm-up) at the peak of vLLM's profile on this card: the forward's ``act``
    and ``logits``, or the sampler warm-up's held hidden states and sampler bytes when it is larger (it runs
    after the forward's activations are freed).  The warm-up is returned whenever the card has one."""
    warm = warmup_of(s, stage, tokens, batch)
    if warm is not None and warm.exceeds(act + logits):
        return warm.hidden, warm.sampler, warm
    return act, logits, warm


def _moe_in_workspace(s: Setting) -> bool:
    return s.vllm_batch is not None and s.vllm_batch.moe_workspace


def persistent_workspace(s: Setting, stage: int, tp: int, tokens: int) -> tuple[int, str]:
    """vLLM's persistent MoE workspace on this card (:mod:`engine.serving.vllm_moe_workspace`), (0, "") elsewhere."""
    if not _moe_in_workspace(s):
        return 0, ""
    return moe_workspace_bytes(s.spec, s.split.layers[stage], tp, tokens)


def pipeline_receive_bytes(s: Setting, stage: int, tokens: int) -> int:
    """vLLM V1 on a pipeline stage after the first: the buffers it receives the previous stage's hidden states and
    residual into, sized for the profile's ``max_num_batched_tokens`` and kept from the profile on
    (``GPUModelRunner._dummy_run``: ``self.model.make_empty_intermediate_tensors(batch_size=self.max_num_tokens,
    ...)``), 2 × 2 B × T × h.  llm-d-planner's vLLM 0.19.0 logs of Llama-3.1-8B on H100s show them: the last stage's
    profile peaks at 2.01 GiB at PP 2 and PP 4 against 1.89 GiB at PP 1, 2 × 2 B × 8,192 × 4,096 = 0.125 GiB more."""
    if s.vllm is None or s.cfg.vllm_engine != "v1" or stage == 0:
        return 0
    return 2 * s.act_bytes * tokens * s.spec.hidden


def _batch_why(s: Setting, batch: int) -> str:
    return s.vllm_batch.why_at(batch) if s.vllm_batch is not None else ""


def staged(s: Setting, stage: int, tokens: int) -> tuple[int, str]:
    """The weight llama.cpp stages from system RAM into this card's compute buffer (the first card only)."""
    if not s.ggml or stage != 0:
        return 0, ""
    return staged_weight(s.scheme, s.spec, s.split.host_layers, s.split.host_expert_layers,
                         s.split.output_stage is None, tokens)


def card_fits(s: Setting, stage: int, tp: int, capacity: int, weights: int, context: int, batch: int) -> bool:
    """The card verdict of :func:`card_result` without building figures (answer searches)."""
    layers = s.split.layers[stage]
    kv = kv_bytes(s.spec, layers, s.kv_fmt, tp, context, batch, s.block, s.window)
    tokens = s.tokens(context, batch)
    act, logits = workspace_bytes(s.spec, layers, tp, context, batch, tokens, s.cfg.flash_attention,
                                  s.cfg.logits, s.split.output_stage == stage, s.ggml, s.vllm is not None,
                                  _moe_in_workspace(s), staged(s, stage, tokens), s.act_bytes)
    act += allreduce_inputs_bytes(s, stage, tp, tokens)
    act, logits, _ = profile_peak(s, stage, tokens, batch, act, logits)
    act += pipeline_receive_bytes(s, stage, tokens) + persistent_workspace(s, stage, tp, tokens)[0]
    rb = _runtime_bytes(s, weights + kv + act + logits)
    fixed = weights + act + logits + rb.total
    _, unused = _pool_bytes(s, capacity, fixed, rb.outside_budget(s.vllm), kv)
    return fixed + unused + kv <= capacity


def card_result(s: Setting, stage: int, tp: int, capacity: int, weights: StageWeights,
                context: int, batch: int) -> CardResult:
    layers = s.split.layers[stage]
    kv: KvUse = kv_use(s.spec, layers, s.kv_fmt, tp, context, batch, s.block, s.window)
    tokens = s.tokens(context, batch)
    ws = workspace(s.spec, layers, tp, context, batch, tokens, s.cfg.flash_attention, s.cfg.logits,
                   s.split.output_stage == stage, s.ggml, s.vllm is not None, _moe_in_workspace(s),
                   staged(s, stage, tokens), s.act_bytes)
    activations, act_text = ws.activations, ws.activations_formula
    pending = allreduce_inputs_bytes(s, stage, tp, tokens)
    if pending and s.vllm is not None:
        activations += pending
        act_text += (f" + all-reduce inputs kept by {s.vllm.label}: {pending // (tokens * s.spec.hidden * s.act_bytes)}"
                     f" × {s.act_bytes} B × T {n(tokens)} × h {n(s.spec.hidden)} = {n(pending)} B")
    logits, logits_text = ws.logits, ws.logits_formula
    forward = activations + logits
    activations, logits, warm = profile_peak(s, stage, tokens, batch, activations, logits)
    if warm is not None and warm.exceeds(forward):
        act_text = (f"the profile peaks in its sampler warm-up, above the forward's {n(forward)} B "
                    f"({act_text}); the forward's hidden states, still held: {n(warm.hidden)} B")
        logits_text = f"{warm.formula} ({_batch_why(s, batch)})"
    received = pipeline_receive_bytes(s, stage, tokens)
    if received:
        activations += received
        act_text += (f" + the buffers this pipeline stage receives hidden states and residual into: 2 × {s.act_bytes} B × "
                     f"T {n(tokens)} × h {n(s.spec.hidden)} = {n(received)} B")
    moe_ws, moe_ws_text = persistent_workspace(s, stage, tp, tokens)
    if moe_ws:
        activations += moe_ws
        act_text += f" + {moe_ws_text}"
    allocated = weights.bytes + kv.bytes + activations + logits
    rb, details = _overhead(s, allocated)
    overhead = rb.total
    pool, reserve = _pool(s, capacity, weights.bytes + activations + logits + overhead, rb.outside_budget(s.vllm),
                          kv.bytes)
    if reserve is not None:
        details.append(reserve)
        overhead += reserve.bytes
    parts = {
        "weights": figure("weights", f"weights ({s.scheme.name})", weights.bytes, weights.formula),
        "kv_cache": figure("kv_cache", f"KV cache ({s.kv_fmt.name})", kv.bytes, kv.formula),
        "activations": figure("activations", "activation workspace", activations, act_text),
        "logits": figure("logits", "logits", logits, logits_text),
        "overhead": figure("overhead", "runtime overhead", overhead,
                           " + ".join(f"{d.label} {n(d.bytes)}" for d in details)),
    }
    extra = [figure("embedding_weights", "input embedding share of weights", weights.embedding, f"{n(weights.embedding)} B"),
             figure("output_layer_weights", "output layer share of weights", weights.output, f"{n(weights.output)} B")]
    if s.spec.sliding_window is not None:
        extra.append(figure("kv_cache_window_layers", "KV cache of the sliding-window layers", kv.window_bytes,
                            f"{n(kv.window_bytes)} B of the KV cache"))
    if rb.graphs:
        extra.append(figure("cuda_graphs", "CUDA graphs (part of the library workspace)", rb.graphs,
                            f"{n(rb.graphs)} B ({s.runtime.name} profile constant)"))
    if warm is not None:
        extra.append(figure("sampler_warmup", "vLLM's sampler warm-up (profile)", warm.total,
                            f"{warm.formula} ({_batch_why(s, batch)})"))
    if received:
        extra.append(figure("pipeline_receive_buffers", "vLLM's pipeline receive buffers (part of activations)", received,
                            f"2 × {s.act_bytes} B × T {n(tokens)} × h {n(s.spec.hidden)} = {n(received)} B"))
    if moe_ws:
        extra.append(figure("moe_workspace", "vLLM's persistent MoE workspace (part of activations)", moe_ws, moe_ws_text))
    if pool is not None:
        extra.append(figure("kv_pool", "KV pool reserved by the runtime", max(pool, 0), f"{n(pool)} B"))
    return CardResult(make_breakdown(parts, tuple(details + extra)), pool, kv.bytes_per_token)


def _pool_bytes(s: Setting, capacity: int, fixed: int, outside: int, kv: int) -> tuple[int | None, int]:
    """(KV pool, memory the runtime leaves unused) for runtimes that pre-allocate a pool.

    vLLM: the budget is ``gpu_memory_utilization × capacity``; ``outside`` is the part of ``fixed``
    its release does not count (:meth:`RuntimeBytes.outside_budget`), which lives in the margin.  When
    the margin cannot hold it, vLLM still allocates the whole pool at start-up and then runs out of
    memory (:func:`margin_excess`): the card counts the whole pool, so it does not fit.
    """
    kind = s.runtime.kv_pool
    if kind == "utilization":
        margin = _margin(s, capacity)
        pool = capacity - margin - (fixed - outside)
        if outside > margin:
            return pool, max(pool - kv, 0)
        return pool, margin - outside
    if kind == "free_fraction":
        free = max(capacity - fixed, 0)
        pool = int(free * s.cfg.kv_free_fraction)
        return (pool if capacity >= fixed else capacity - fixed), free - pool
    return None, 0


def _margin(s: Setting, capacity: int) -> int:
    """vLLM's ``1 − gpu_memory_utilization`` share of the card: capacity minus its budget."""
    return capacity - int(capacity * s.cfg.gpu_memory_utilization)


def margin_excess(s: Setting, capacity: int) -> tuple[int, int]:
    """(what a vLLM release keeps outside its budget, the part of it the margin cannot hold) on a card.

    Before 0.20 vLLM captures its CUDA graphs after allocating the KV pool, so an excess is an
    out-of-memory error at start-up; newer V1 workers also refuse to start when the free memory is
    below ``gpu_memory_utilization × capacity`` (the CUDA context alone can do that).
    """
    if s.vllm is None:
        return 0, 0
    outside = _runtime_bytes(s, 0).outside_budget(s.vllm)
    return outside, max(outside - _margin(s, capacity), 0)


def _pool(s: Setting, capacity: int, fixed: int, outside: int, kv: int) -> tuple[int | None, Figure | None]:
    """(KV pool bytes, the unused-reserve figure)."""
    pool, unused = _pool_bytes(s, capacity, fixed, outside, kv)
    if s.runtime.kv_pool == "utilization":
        margin = _margin(s, capacity)
        label = s.vllm.label if s.vllm else "vLLM"
        if outside > margin:
            text = (f"the rest of the KV pool, allocated at start-up although the margin {n(margin)} cannot hold "
                    f"what {label} keeps outside the budget {n(outside)}")
        else:
            text = f"(1 − gpu_memory_utilization {s.cfg.gpu_memory_utilization}) × {n(capacity)} B"
            if outside:
                text = f"{text} {n(margin)} − what {label} keeps outside the budget {n(outside)}"
        return pool, figure("unreserved", "left outside gpu_memory_utilization", unused, text)
    if s.runtime.kv_pool == "free_fraction":
        text = f"(1 − kv_cache_free_gpu_mem_fraction {s.cfg.kv_free_fraction}) × {n(capacity - fixed)} B free"
        return pool, figure("unreserved", "left outside the KV pool", unused, text)
    return None, None

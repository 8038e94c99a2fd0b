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
from engine.report.formatting import n
from engine.report.records import Breakdown, Figure, figure, make_breakdown
from engine.serving.config import ServingConfig
from engine.serving.kv_cache import KvUse, WindowPolicy, kv_bytes, kv_use
from engine.serving.runtimes import NCCL_BYTES, RuntimeProfile
from engine.serving.split import StageSplit
from engine.serving.workspace import forward_tokens, workspace, workspace_bytes
from engine.weights.formats import StorageFormat
from engine.weights.quant import QuantScheme, tensor_bytes
from engine.weights.tensors import Tensor, layer_tensors, outer_tensors


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

    def tokens(self, context: int, batch: int) -> int:
        """Tokens of the forward pass that sets the activation peak."""
        if self.ggml:  # llama.cpp reserves its graph for a full ubatch whatever the prompt
            return self.chunk or 512
        return forward_tokens(context, batch, self.chunk, self.runtime.kv_pool != "dynamic")

    @property
    def ggml(self) -> bool:
        return self.runtime.name == "llamacpp"


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


def stage_weights(s: Setting, stage: int, tp: int) -> StageWeights:
    layers = s.split.layers[stage]
    body = sum(layer_weight_bytes(s.scheme, s.spec, i, tp) for i in layers)
    outer = outer_tensors(s.spec)
    emb = out = 0
    if s.split.embedding_stage == stage:
        emb = _sum(s, [t for t in outer if t.cls in ("embedding", "position")], tp)
    if s.split.output_stage == stage:
        out = _sum(s, [t for t in outer if t.cls in ("norm", "output")], tp)
        if s.spec.tied_embeddings and s.split.embedding_stage != stage:
            # the output layer is a copy of the tied embedding on this card
            out += _sum(s, [Tensor("lm_head", "output", t.rows, t.cols, t.split)
                            for t in outer if t.cls == "embedding" and t.rows > 1], tp)
    total = body + emb + out
    text = (f"{s.scheme.name}: {len(layers)} layers {n(body)} + embedding {n(emb)} + final norm/output {n(out)}"
            + (f" on one of {tp} TP ranks" if tp > 1 else "") + f" = {n(total)} B")
    return StageWeights(total, text, emb, out)


def host_weights(s: Setting) -> int:
    """System RAM the llama.cpp offload keeps: CPU layers, the token embedding, maybe the output."""
    if not s.runtime.embedding_on_host:
        return 0
    total = sum(layer_weight_bytes(s.scheme, s.spec, i, 1) for i in s.split.host_layers)
    outer = outer_tensors(s.spec)
    total += _sum(s, [t for t in outer if t.cls in ("embedding", "position")], 1)
    if s.split.output_stage is None:
        total += _sum(s, [t for t in outer if t.cls in ("norm", "output")], 1)
    return total


def host_kv(s: Setting, context: int, batch: int) -> int:
    if not s.split.host_layers:
        return 0
    return kv_bytes(s.spec, s.split.host_layers, s.kv_fmt, 1, context, batch, s.block, s.window)


def _runtime_bytes(s: Setting, dynamic: int) -> tuple[int, int, int, int, float]:
    """(CUDA context, library workspace, NCCL, fragmentation reserve, its percent)."""
    rt, cfg = s.runtime, s.cfg
    ctx = rt.cuda_context_bytes if cfg.cuda_context_bytes is None else cfg.cuda_context_bytes
    frag_pct = rt.fragmentation_percent if cfg.fragmentation_percent is None else cfg.fragmentation_percent
    lib = rt.library_workspace_bytes if cfg.library_workspace_bytes is None else cfg.library_workspace_bytes
    nccl = NCCL_BYTES if s.world > 1 else 0
    return ctx, lib, nccl, int(dynamic * frag_pct / 100), frag_pct


def _overhead(s: Setting, dynamic: int) -> tuple[int, list[Figure]]:
    ctx, lib, nccl, frag, frag_pct = _runtime_bytes(s, dynamic)
    name = s.runtime.name
    figs = [
        figure("cuda_context", "CUDA context", ctx, f"{n(ctx)} B ({name} profile constant)"),
        figure("library_workspace", "cuBLAS workspace / CUDA graphs", lib, f"{n(lib)} B ({name} profile constant)"),
        figure("nccl", "NCCL buffers", nccl, f"{n(nccl)} B" if nccl else "0 (single card)"),
        figure("fragmentation", "allocator reserve", frag, f"{frag_pct}% × {n(dynamic)} B allocated"),
    ]
    return ctx + lib + nccl + frag, figs


def card_fits(s: Setting, stage: int, tp: int, capacity: int, weights: int, context: int, batch: int) -> bool:
    """The card verdict of :func:`card_result` without building figures (answer searches)."""
    layers = s.split.layers[stage]
    kv = kv_bytes(s.spec, layers, s.kv_fmt, tp, context, batch, s.block, s.window)
    act, logits = workspace_bytes(s.spec, layers, tp, context, batch, s.tokens(context, batch), s.cfg.flash_attention,
                                  s.cfg.logits, s.split.output_stage == stage, s.ggml)
    ctx, lib, nccl, frag, _ = _runtime_bytes(s, weights + kv + act + logits)
    fixed = weights + act + logits + ctx + lib + nccl + frag
    _, unused = _pool_bytes(s, capacity, fixed)
    return fixed + unused + kv <= capacity


def card_result(s: Setting, stage: int, tp: int, capacity: int, weights: StageWeights,
                context: int, batch: int) -> CardResult:
    layers = s.split.layers[stage]
    kv: KvUse = kv_use(s.spec, layers, s.kv_fmt, tp, context, batch, s.block, s.window)
    ws = workspace(s.spec, layers, tp, context, batch, s.tokens(context, batch), s.cfg.flash_attention, s.cfg.logits,
                   s.split.output_stage == stage, s.ggml)
    allocated = weights.bytes + kv.bytes + ws.activations + ws.logits
    overhead, details = _overhead(s, allocated)
    pool, reserve = _pool(s, capacity, weights.bytes + ws.activations + ws.logits + overhead)
    if reserve is not None:
        details.append(reserve)
        overhead += reserve.bytes
    parts = {
        "weights": figure("weights", f"weights ({s.scheme.name})", weights.bytes, weights.formula),
        "kv_cache": figure("kv_cache", f"KV cache ({s.kv_fmt.name})", kv.bytes, kv.formula),
        "activations": figure("activations", "activation workspace", ws.activations, ws.activations_formula),
        "logits": figure("logits", "logits", ws.logits, ws.logits_formula),
        "overhead": figure("overhead", "runtime overhead", overhead,
                           " + ".join(f"{d.label} {n(d.bytes)}" for d in details)),
    }
    extra = [figure("embedding_weights", "input embedding share of weights", weights.embedding, f"{n(weights.embedding)} B"),
             figure("output_layer_weights", "output layer share of weights", weights.output, f"{n(weights.output)} B")]
    if s.spec.sliding_window is not None:
        extra.append(figure("kv_cache_window_layers", "KV cache of the sliding-window layers", kv.window_bytes,
                            f"{n(kv.window_bytes)} B of the KV cache"))
    if pool is not None:
        extra.append(figure("kv_pool", "KV pool reserved by the runtime", max(pool, 0), f"{n(pool)} B"))
    return CardResult(make_breakdown(parts, tuple(details + extra)), pool, kv.bytes_per_token)


def _pool_bytes(s: Setting, capacity: int, fixed: int) -> tuple[int | None, int]:
    """(KV pool, memory the runtime leaves unused) for runtimes that pre-allocate a pool."""
    kind = s.runtime.kv_pool
    if kind == "utilization":
        budget = int(capacity * s.cfg.gpu_memory_utilization)
        return budget - fixed, capacity - budget
    if kind == "free_fraction":
        free = max(capacity - fixed, 0)
        pool = int(free * s.cfg.kv_free_fraction)
        return (pool if capacity >= fixed else capacity - fixed), free - pool
    return None, 0


def _pool(s: Setting, capacity: int, fixed: int) -> tuple[int | None, Figure | None]:
    """(KV pool bytes, the unused-reserve figure)."""
    pool, unused = _pool_bytes(s, capacity, fixed)
    if s.runtime.kv_pool == "utilization":
        text = f"(1 − gpu_memory_utilization {s.cfg.gpu_memory_utilization}) × {n(capacity)} B"
        return pool, figure("unreserved", "left outside gpu_memory_utilization", unused, text)
    if s.runtime.kv_pool == "free_fraction":
        text = f"(1 − kv_cache_free_gpu_mem_fraction {s.cfg.kv_free_fraction}) × {n(capacity - fixed)} B free"
        return pool, figure("unreserved", "left outside the KV pool", unused, text)
    return None, None

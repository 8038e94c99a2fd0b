"""``serving_estimate(plan) -> Estimate``: per-card memory of an inference deployment.

Cards are the same :mod:`engine.plan.layout` cards as for training: a card's
``stage`` is its position in the layer split (llama.cpp's tensor split, or
pipeline parallelism), cards sharing a ``tp_group`` split every layer's weights
and KV heads (tensor parallelism).  Mixed cards are allowed anywhere.
"""

from __future__ import annotations

from dataclasses import replace

from engine.errors import PlanError
from engine.model.params import parameter_count
from engine.model.spec import ModelSpec
from engine.plan.checks import check_stages, check_tp_heads
from engine.plan.schema import Plan
from engine.report.formatting import n
from engine.report.records import CardEstimate, Estimate, PlanWarning, figure, over_capacity_warning
from engine.serving.card import (
    CardResult,
    Setting,
    StageWeights,
    card_fits,
    card_result,
    host_kv,
    host_weights,
    kernel_extra_bytes,
    layer_weight_bytes,
    margin_excess,
    stage_weights,
)
from engine.serving.config import ServingConfig
from engine.serving.kv_cache import (
    LLAMACPP_SWA_PAD,
    WINDOW_ONLY,
    WindowPolicy,
    kv_format,
    model_bytes_per_token,
)
from engine.serving.llamacpp_offload import expert_layers_on_host
from engine.serving.release import released_experts
from engine.serving.runtimes import RuntimeProfile, profile
from engine.serving.split import split_layers
from engine.serving.summary import ServingSummary
from engine.serving.support import (
    catalog_gpu,
    format_support,
    nccl_buffers,
    streaming_multiprocessors,
)
from engine.serving.vllm_batch import VllmBatch, v0_batch, v1_batch
from engine.serving.vllm_mxfp4 import Mxfp4Backend, mxfp4_backend
from engine.serving.vllm_profiling import parse_vllm_version, vllm_profiling
from engine.units import format_bytes
from engine.weights.quant import QuantScheme, find_scheme, tensor_bytes
from engine.weights.tensors import outer_tensors

MAX_SEARCH_TOKENS = 1 << 24  # longest context the search tries (16,777,216 tokens)
MAX_SEARCH_BATCH = 1 << 20


def _check_layout(plan: Plan, cfg: ServingConfig):
    layout, spec = plan.layout, plan.model
    topo = check_stages(layout)
    check_tp_heads(topo, spec, replicate_kv=True)
    for t in set(topo.tp_size):
        if t > 1 and cfg.runtime == "llamacpp":
            raise PlanError("layout.tp", t, "1 with llama.cpp (it splits layers across cards: --tensor-split)")
    if max(topo.dp_size) > 1 and cfg.runtime == "llamacpp":
        raise PlanError("layout.cards", len(layout.cards), "one card per stage with llama.cpp")
    return topo


V0_LONG_CONTEXT = 32_768  # vLLM V0 turns chunked prefill on by default above this max_model_len
V0_MIN_BATCHED_TOKENS = 2_048  # V0 SchedulerConfig: max_num_batched_tokens = max(max_model_len, 2048)
V0_CHUNKED_BATCHED_TOKENS = 2_048  # V0's default max_num_batched_tokens with chunked prefill (0.6.5+) ...
V0_CHUNKED_BATCHED_TOKENS_BEFORE_065 = 512  # ... and before vllm-project/vllm PR 10544 ("512 is a very conservative value")


def _v0_profile_tokens(cfg: ServingConfig) -> int:
    """Tokens of the forward pass vLLM V0 profiles before sizing its KV pool.

    vLLM V0 without chunked prefill profiles ``max_num_batched_tokens = max(max_model_len, 2048)``
    tokens (``vllm/config.py`` SchedulerConfig), so a longer max_model_len shrinks the KV pool
    (vllm-project/vllm issue 10517: 1,952 blocks at 20k, 1,478 at 29k on an RTX 3090); above
    32,768 it enables chunked prefill, with chunks of 2,048 tokens from 0.6.5 (PR 10544) and of 512
    before.  V1 always chunks; its chunk depends on the card and the entry point
    (:mod:`engine.serving.vllm_batch`).
    """
    max_len = cfg.max_model_len or cfg.context
    if max_len > V0_LONG_CONTEXT:
        if cfg.vllm_version is not None and parse_vllm_version(cfg.vllm_version) < (0, 6, 5):
            return V0_CHUNKED_BATCHED_TOKENS_BEFORE_065
        return V0_CHUNKED_BATCHED_TOKENS
    return max(max_len, V0_MIN_BATCHED_TOKENS)


def vllm_batch(plan: Plan, cfg: ServingConfig) -> VllmBatch | None:
    """vLLM's profiled chunk and max_num_seqs (None for other runtimes); V1 reads its defaults on the first
    card, as vLLM does on the device it runs on."""
    if cfg.runtime != "vllm":
        return None
    if cfg.vllm_engine != "v1":
        return v0_batch(cfg.prefill_chunk or _v0_profile_tokens(cfg), cfg.max_num_seqs)
    card = plan.layout.cards[0]
    version = parse_vllm_version(cfg.vllm_version) if cfg.vllm_version is not None else None
    return v1_batch(version, cfg.vllm_entry, card.gpu, card.capacity_bytes, cfg.prefill_chunk, cfg.max_num_seqs,
                    streaming_multiprocessors(card.gpu))


def _setting(plan: Plan, cfg: ServingConfig, topo) -> Setting:
    spec, layout = plan.model, plan.layout
    rt = profile(cfg.runtime)
    batch = vllm_batch(plan, cfg)
    stage_caps = tuple(min(layout.cards[i].capacity_bytes for i in topo.stage_members[k]) for k in range(topo.stages))
    split = split_layers(spec.layers, topo.stages, pp_layers=layout.pp_layers, shares=cfg.tensor_split,
                         capacities=stage_caps, llamacpp=cfg.runtime == "llamacpp", gpu_layers=cfg.gpu_layers,
                         output_first=cfg.output_layer_first)
    split = replace(split, host_expert_layers=expert_layers_on_host(spec, cfg.cpu_moe_layers, split.host_layers))
    if cfg.runtime == "llamacpp" and spec.sliding_window is not None and not llamacpp_keeps_windows(spec):
        spec = spec.model_copy(update={"sliding_window": None})
    mxfp4 = vllm_mxfp4_backend(cfg, layout.cards[0].gpu)
    return Setting(
        spec=spec, cfg=cfg, scheme=served_scheme(cfg, mxfp4, spec), mxfp4=mxfp4,
        kv_fmt=kv_format(cfg.kv_dtype), runtime=rt, split=split,
        block=cfg.paged_block_size or rt.paged_block,
        chunk=batch.tokens if batch else cfg.prefill_chunk or rt.prefill_chunk,
        world=len(layout.cards), window=_window_policy(cfg, rt),
        vllm=vllm_profiling(cfg.vllm_version, cfg.vllm_engine) if cfg.runtime == "vllm" else None,
        vllm_batch=batch,
        nccl=nccl_buffers(cfg.runtime, layout.cards[0].gpu, len(layout.cards), max(topo.tp_size)),
    )


def vllm_mxfp4_backend(cfg: ServingConfig, gpu: str) -> Mxfp4Backend | None:
    """vLLM's MXFP4 MoE kernel for the plan's release and first card (:mod:`engine.serving.vllm_mxfp4`); None when
    the plan is not vLLM serving MXFP4 experts."""
    scheme = find_scheme(cfg.quant)
    if cfg.runtime != "vllm" or scheme.experts is None or scheme.family != "hf":
        return None
    version = parse_vllm_version(cfg.vllm_version) if cfg.vllm_version is not None else None
    return mxfp4_backend(catalog_gpu(gpu), version)


def served_scheme(cfg: ServingConfig, mxfp4: Mxfp4Backend | None, spec: ModelSpec) -> QuantScheme:
    """The plan's weight format as its runtime holds it: vLLM pads MXFP4 experts for its kernel; a GGUF of a model
    released with quantized experts keeps them (:func:`engine.serving.release.released_experts`)."""
    scheme = find_scheme(cfg.quant, cfg.group_size, cfg.double_quant, cfg.keep_modules)
    if mxfp4 is not None:
        return replace(scheme, expert_pad=mxfp4.pad)
    kept = released_experts(spec) if scheme.family == "gguf" and scheme.experts is None else None
    return replace(scheme, experts=kept) if kept is not None else scheme


def llamacpp_keeps_windows(spec: ModelSpec) -> bool:
    """Whether llama.cpp caches ``spec``'s sliding windows (so ``swa_full`` matters): only for interleaved-SWA
    architectures, a window on some layers but not all (its iswa cache: Gemma 2/3, gpt-oss).  A model with a
    window on every layer (Mistral v0.1) loads as plain llama and keeps the whole context (ggml-org/llama.cpp
    issue 7450: 4000 MiB at n_ctx 32000)."""
    return (spec.sliding_window is not None and spec.sliding_window_layers is not None
            and spec.sliding_window_layers < spec.layers)


def _window_policy(cfg: ServingConfig, rt: RuntimeProfile) -> WindowPolicy:
    """llama.cpp's iswa cache: window + one ubatch (n_ubatch, 512 by default), padded to 256 cells (or the
    whole context with --swa-full); other runtimes keep the window."""
    if cfg.runtime != "llamacpp":
        return WINDOW_ONLY
    return WindowPolicy(extra=cfg.prefill_chunk or rt.prefill_chunk or 0, pad=LLAMACPP_SWA_PAD,
                        full=cfg.swa_full)


class Evaluator:
    """Card results of one plan at any (context, batch); static weights computed once."""

    def __init__(self, plan: Plan, cfg: ServingConfig) -> None:
        self.topo = _check_layout(plan, cfg)
        self.s = _setting(plan, cfg, self.topo)
        self.gpu_names = tuple(dict.fromkeys(c.gpu for c in plan.layout.cards))
        self.keys = sorted({(c.stage, self.topo.tp_size[i], c.capacity_bytes) for i, c in enumerate(plan.layout.cards)})
        self.weights: dict[tuple[int, int], StageWeights] = {}
        for stage, tp, _ in self.keys:
            if (stage, tp) not in self.weights:
                self.weights[(stage, tp)] = stage_weights(self.s, stage, tp)

    def results(self, context: int, batch: int) -> dict[tuple[int, int, int], CardResult]:
        return {k: card_result(self.s, k[0], k[1], k[2], self.weights[(k[0], k[1])], context, batch)
                for k in self.keys}

    def fits(self, context: int, batch: int) -> bool:
        return all(card_fits(self.s, k[0], k[1], k[2], self.weights[(k[0], k[1])].bytes, context, batch)
                   for k in self.keys)


def _largest(fits, hi: int) -> int:
    """Largest x in [0, hi] with fits(x) (fits monotone non-increasing; fits(0) assumed)."""
    if not fits(1):
        return 0
    lo = 1
    if fits(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def max_context_tokens(ev: Evaluator, batch: int) -> int:
    """Longest context that fits at ``batch``, never beyond what the model was trained for."""
    ceiling = min(MAX_SEARCH_TOKENS, ev.s.spec.max_context or MAX_SEARCH_TOKENS)
    return _largest(lambda c: ev.fits(c, batch), ceiling)


def max_batch(ev: Evaluator, context: int) -> int:
    return _largest(lambda b: ev.fits(context, b), MAX_SEARCH_BATCH)


def _pool_tokens(s: Setting, results: dict) -> tuple[int | None, int | None]:
    pools = [(r.pool_tokens, r.pool_bytes) for r in results.values() if r.pool_tokens is not None]
    if not pools:
        return None, None
    tokens = min(p[0] for p in pools)
    if s.block:
        tokens = tokens // s.block * s.block
    return tokens, min(p[1] for p in pools)


def whole_model_weight_bytes(s: Setting) -> int:
    spec = s.spec
    layers = sum(layer_weight_bytes(s.scheme, spec, i, 1) for i in range(spec.layers))
    extra = kernel_extra_bytes(s, tuple(range(spec.layers)), 1)[0]
    return layers + extra + sum(tensor_bytes(s.scheme, t, spec, 1) for t in outer_tensors(spec))


def _warnings(ev: Evaluator, rows: list[CardEstimate], host: int) -> list[PlanWarning]:
    s, out = ev.s, []
    over = [c for c in rows if not c.fits]
    if over:
        out.append(over_capacity_warning(over))
    if host:
        parts = ["the token embedding"]
        if s.split.host_layers:
            parts.append(f"{len(s.split.host_layers)} of {s.spec.layers} layers with their KV cache")
        if s.split.host_expert_layers:
            parts.append(f"the routed experts of {len(s.split.host_expert_layers)} more layers (--n-cpu-moe)")
        if s.split.output_stage is None:
            parts.append("the output layer")
        out.append(PlanWarning("host-offload", (
            f"llama.cpp keeps {', '.join(parts)} in system RAM: {format_bytes(host)}"), severity="info"))
    margin = max((margin_excess(s, cap) for cap in {c.slot.capacity_bytes for c in rows}), key=lambda m: m[1],
                 default=(0, 0))
    if margin[1] and s.vllm is not None:
        out.append(PlanWarning("vllm-margin", (
            f"{s.vllm.label} keeps {format_bytes(margin[0])} (CUDA context, CUDA graphs) outside "
            f"gpu_memory_utilization {s.cfg.gpu_memory_utilization}, {format_bytes(margin[1])} more than the "
            "margin: vLLM fails at start-up; lower gpu_memory_utilization or use --enforce-eager")))
    scheduled = s.vllm_batch
    if scheduled is not None and scheduled.refused(s.cfg.batch):
        seqs = scheduled.serving_seqs(s.cfg.batch)
        out.append(PlanWarning("vllm-batch-refused", (
            f"vLLM refuses to start with max_num_seqs {seqs:,} above max_num_batched_tokens {scheduled.tokens:,} "
            f"(each scheduled sequence needs a token of the batch): raise --prefill-chunk "
            f"(--max-num-batched-tokens) to at least {seqs:,} or lower the sequences")))
    elif scheduled is not None and scheduled.seqs_set and s.cfg.batch > scheduled.seqs:
        out.append(PlanWarning("vllm-max-num-seqs", (
            f"vLLM schedules at most max_num_seqs {scheduled.seqs:,} sequences at once, fewer than the plan's "
            f"{s.cfg.batch:,}: the others wait; --max-num-seqs {s.cfg.batch:,} serves them all (its sampler "
            "warm-up then takes more memory)")))
    trained = s.spec.max_context
    if trained and s.cfg.context > trained:
        out.append(PlanWarning("context-beyond-training", (
            f"context {s.cfg.context:,} tokens exceeds the {trained:,} the model was trained for "
            "(needs RoPE scaling; runtimes refuse it by default)")))
    for gpu in filter(None, map(catalog_gpu, ev.gpu_names)):
        support = format_support(gpu, s.scheme, s.cfg.runtime)
        if not support.ok:
            out.append(PlanWarning("format-unsupported", f"{s.scheme.name} on {gpu.name}: {support.note}"))
        elif support.note:
            out.append(PlanWarning("format-emulated", f"{s.scheme.name} on {gpu.name}: {support.note}", severity="info"))
    padding = _mxfp4_padding_note(s, ev.gpu_names[0], max(ev.topo.tp_size))
    if padding is not None:
        out.append(padding)
    if s.scheme.name == "mxfp4" and s.cfg.runtime == "llamacpp":
        out.append(PlanWarning("mxfp4-gguf", (
            "mxfp4 keeps every tensor but the experts in 16 bit, as a GGUF converted at F16/BF16 (unsloth's "
            "gpt-oss-*-F16.gguf); the ggml-org gpt-oss-*-mxfp4.gguf files are MXFP4_MOE (the rest Q8_0)"),
            severity="info"))
    if s.scheme.family == "gguf" and s.cfg.runtime != "llamacpp":
        out.append(PlanWarning("gguf-runtime", f"{s.scheme.name} is a GGUF format, usually served by llama.cpp",
                               severity="info"))
    return out


def _mxfp4_padding_note(s: Setting, gpu: str, tp: int) -> PlanWarning | None:
    backend = s.mxfp4
    if backend is None:
        return None
    ffn, hidden = s.scheme.expert_pad
    plain = replace(s.scheme, expert_pad=(1, 1))
    extra = sum(layer_weight_bytes(s.scheme, s.spec, i, tp) - layer_weight_bytes(plain, s.spec, i, tp)
                for i in range(s.spec.layers))
    if extra <= 0:
        return None
    return PlanWarning("vllm-mxfp4-padding", (
        f"vLLM runs the MXFP4 experts through its {backend.name} kernel on {gpu}, which pads every expert matrix "
        f"(FFN width per rank to a multiple of {ffn}" + (f", hidden size to {hidden}" if hidden > 1 else "")
        + f"): {format_bytes(extra)} more than the checkpoint's experts"
        + (f" on each of {tp} TP ranks" if tp > 1 else "")), severity="info")


def serving_estimate(plan: Plan) -> Estimate:
    cfg = plan.serving or ServingConfig()
    ev = Evaluator(plan, cfg)
    s, topo = ev.s, ev.topo
    results = ev.results(cfg.context, cfg.batch)
    rows = [CardEstimate(slot, 1, results[(slot.stage, slot.tp_size, slot.capacity_bytes)].breakdown)
            for slot in topo.slots]
    host = host_weights(s) + host_kv(s, cfg.context, cfg.batch)
    pool_tokens, pool_bytes = _pool_tokens(s, results)
    summary = ServingSummary(
        runtime=cfg.runtime, quant=s.scheme.name, bits_per_weight=s.scheme.bits_per_weight, kv_dtype=cfg.kv_dtype,
        context=cfg.context, batch=cfg.batch, weight_bytes=whole_model_weight_bytes(s),
        kv_bytes_per_token=model_bytes_per_token(s.spec, s.kv_fmt), host_bytes=host,
        max_context_tokens=max_context_tokens(ev, cfg.batch), max_batch=max_batch(ev, cfg.context),
        kv_pool_tokens=pool_tokens, kv_pool_bytes=pool_bytes,
    )
    params = parameter_count(plan.model)
    notes = (
        figure("parameters", "parameters", params, f"{n(params)} parameters"),
        figure("weight_bytes", f"weights, whole model ({s.scheme.name})", summary.weight_bytes,
               f"{s.scheme.description} = {n(summary.weight_bytes)} B"),
        figure("kv_bytes_per_token", "KV cache per token, whole model", summary.kv_bytes_per_token,
               f"{s.spec.layers} layers × {n(summary.kv_bytes_per_token // s.spec.layers)} B"),
    )
    return Estimate(
        plan_name=plan.name, mode="serving", method="serving", framework=cfg.runtime, parameters=params,
        microbatches_per_step=1, cards=tuple(rows), warnings=tuple(_warnings(ev, rows, host)), notes=notes,
        serving=summary,
    )

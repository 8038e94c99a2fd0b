"""The JSON report scripts read (``vramplan estimate --json``): bytes, stable key names.

The key names are a promise to users' scripts: add keys freely, never rename.
``breakdown`` keys are disjoint and sum exactly to ``total_bytes``; finer
detail (the embedding's share of the weights, master vs moments ...) goes in
``details``.  ``ReportModel`` is the same shape as a pydantic model, for
``vramplan schema`` and for validating the dict in tests.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.compare.compare import ExpertLoadSummary
from engine.report.records import CardEstimate, Estimate


class WarningModel(BaseModel):
    code: str
    severity: str
    message: str
    cards: list[int]


class CardModel(BaseModel):
    card: int
    card_id: str
    node: int
    node_id: str
    gpu: str
    stage: int
    tp_rank: int
    tp_size: int
    dp_rank: int
    dp_size: int
    capacity_bytes: int
    total_bytes: int
    headroom_bytes: int
    in_flight_microbatches: int
    fits: bool
    breakdown: dict[str, int] = Field(description=(
        "disjoint parts at the card's peak moment, summing exactly to total_bytes: weights, gradients, "
        "optimizer_states, activations, logits, communication (buffers of the data-parallel runtime: DeepSpeed's "
        "buckets and ZeRO-3 gathered layer, PyTorch DDP's gradient buckets; with training.fsdp or finetune.fsdp "
        "what PyTorch FSDP holds unsharded at the peak moment: the root unit, the decoder units computing, the "
        "full gradient of the one back-propagating), transient (short-lived buffers of the peak "
        "moment: a layer's backward, the gradient all-reduce copy, the optimizer step's temporaries), "
        "kv_cache, overhead (CUDA context, NCCL, allocator reserve: not seen by the allocator; and the library "
        "workspaces, details.library_workspace, which PyTorch's allocator does hold)"))
    details: dict[str, int] = Field(description=(
        "finer figures (not disjoint): e.g. master_weights, optimizer_moments, activations_per_layer, "
        "activations_after_forward (full recompute: what the forwards and the loss hold, every checkpoint and no "
        "layer's working set, which the backward's recompute adds), "
        "backward_buffers, optimizer_step_temporaries, allreduce_buffer (the gradient all-reduce moment's copies: "
        "Megatron-LM of 2021's flattened fp16 gradients, DeepSpeed's flattened bucket without ZeRO at DP > 1), "
        "pipeline_output_buffers (DeepSpeed pipeline's last stage: the fp32 logits of its last two micro-batches, "
        "kept in their pipe buffers through the step; part of logits at every moment), loop_kept_logits (a training "
        "loop that keeps the last micro-batch's fp32 logits bound until the next forward returns: LitGPT full "
        "fine-tuning, method.model_code litgpt; part of logits at every moment), "
        "loss_logits (the loss moment's logits whether or not "
        "it is the peak; LitGPT QLoRA: with its 4-bit lm_head dequantized), dequantization_buffer (QLoRA: the "
        "largest 4-bit layer matrix while bitsandbytes uses it dequantized), peak_moment (allocator-visible bytes at the peak, without library_workspace), cuda_context, "
        "nccl (NCCL buffers on a card of a multi-card plan: a profile constant, or for vLLM at TP > 1 on NVLink 4 cards "
        "the 1.8 GiB its start-up logs show), fragmentation (the allocator's reserve, training and fine-tuning: a percentage of what it allocates, or "
        "with method.overhead.fragmentation_model replay (or auto, for the Hugging Face Trainer) what PyTorch's "
        "caching allocator reserved above its peak over the replayed steps; under FSDP rank 0's, FSDP's streams "
        "included, given to every card), library_workspace (training and fine-tuning: cuBLAS workspaces of the forward and "
        "backward threads, plus Transformer Engine's for Megatron-LM; part of PyTorch's max_memory_allocated); "
        "serving: kv_pool (the runtime's pre-allocated KV pool), kv_cache_window_layers (the part of kv_cache "
        "held by sliding-window layers: the window, or llama.cpp's window + one ubatch padded to 256 cells), "
        "library_workspace (cuBLAS workspace + CUDA graphs), cuda_graphs (vLLM's CUDA graphs, part of "
        "library_workspace; 0 with enforce_eager), non_torch (vLLM: non-torch memory allocated after start-up), "
        "sampler_warmup (vLLM, every V0 release and V1 from 0.8, on the cards with the output layer: its "
        "profile's sampler run over "
        "max_num_seqs dummy requests, the logits and the top-k/top-p temporaries (the sort's before 0.19, the Triton or "
        "FlashInfer kernel's since) with the forward's hidden "
        "states; when it exceeds the forward, the profile peaks there and activations + logits are this moment, with the "
        "buffers below), pipeline_receive_buffers (vLLM V1, a pipeline stage after the first: the hidden states and "
        "residual it receives, 2 x 2 B x max_num_batched_tokens x hidden, part of activations), moe_workspace (vLLM "
        "0.19 and later: the fused-MoE kernel's persistent workspace, part of activations), "
        "unreserved (vLLM: what the gpu_memory_utilization margin leaves after the CUDA context and, before "
        "0.20, the CUDA graphs; when the margin cannot hold them, the rest of the pool vLLM allocates anyway)"))
    formulas: dict[str, str]
    host_bytes: int
    peak_moment: str = Field("", description="the moment of the step the card peaks at (training and "
                             "fine-tuning), e.g. 'backward of the first layer, every in-flight activation saved' "
                             "or 'loss over the logits and its gradient'; empty for serving estimates")
    timeline: list[dict] = Field(default_factory=list, description=(
        "training and fine-tuning: the card's step moment by moment, each {moment (words), short (a few words: "
        "'forward', 'loss', 'backward', 'optimizer step', LitGPT's 'next forward', ...), bytes (allocated at "
        "that moment: the breakdown without overhead; add details.library_workspace for what "
        "torch.cuda.max_memory_allocated reports)}; the peak is the largest; empty for serving estimates.  Where "
        "the gradients start at the backward (Hugging Face, LitGPT and torchtune loops with one micro-batch per "
        "optimizer step: zero_grad frees them between steps), the start, the forwards and the loss hold none, "
        "'backward' holds the output layer's and the last layer's, and 'backward end' (the stage's first layer "
        "back-propagated) every one but the embedding's"))
    before_first_optimizer_step: dict | None = Field(None, description=(
        "training plans whose optimizer creates its state in its first step (Megatron-LM, Hugging Face: "
        "PyTorch's and apex's Adam, SGD's momentum; not DeepSpeed, which creates it at start-up): the card until "
        "that step, when a run that starts fresh has no moments yet (fp16 runs skip the step while the loss "
        "scale overflows, so it can come several iterations in): {total_bytes (overhead included, at the highest "
        "moment but the optimizer step), fits, optimizer_state_bytes (what the first step adds), moment, "
        "formula}; null otherwise"))


class ReportModel(BaseModel):
    plan: str
    mode: str
    method: str
    framework: str
    fits: bool
    fits_before_first_optimizer_step: bool | None = Field(None, description=(
        "training: every card gets through the iterations before its optimizer's first step "
        "(cards.before_first_optimizer_step; a card without one counts its whole figure); true with fits false "
        "means the run starts and fails at its first optimizer step; null when no card's optimizer creates its "
        "state in that step"))
    parameters: int
    microbatches_per_step: int
    units: str
    warnings: list[WarningModel]
    cards: list[CardModel]
    # serving mode (vramplan infer): stable names, see engine.serving.report
    weight_bytes: int | None = None
    kv_bytes_per_token: int | None = None
    host_bytes: int | None = None
    max_context_tokens: int | None = None
    kv_pool_tokens: int | None = None
    serving: dict | None = None
    finetune: dict | None = Field(None, description=(
        "finetune mode (vramplan finetune): method, trainable_parameters, base_weight_bytes (the whole frozen "
        "base in its format; full: the trained weights), adapter_weight_bytes, seq, micro_batch, rank, "
        "target_modules, optimizer, gradient_checkpointing, fsdp_shards (cards PyTorch FSDP shards the model "
        "states over: the data-parallel cards with finetune.fsdp, else 1)"))
    # vramplan infer --best-quant / --cheapest-gpu
    best_quant: dict | None = Field(None, description="infer --best-quant: the least aggressive format that fits "
                                    "and every card can run: quant, weight_bytes, total_bytes, headroom_bytes, note")
    ruled_out_quants: list[dict] | None = Field(None, description="infer --best-quant: formats the cards cannot run, "
                                                "each {quant, reason} (e.g. FP8 below compute capability 8.0)")
    cheapest_gpu: dict | None = Field(None, description="infer --cheapest-gpu: gpu, memory_bytes, price_usd_per_hour, "
                                      "total_bytes, headroom_bytes")
    fewest_cpu_moe_layers: dict | None = Field(None, description=(
        "infer --fewest-cpu-moe (llama.cpp, mixture of experts): the fewest layers whose routed experts stay in "
        "system RAM (--n-cpu-moe) for the plan to fit: layers, total_bytes and headroom_bytes of the fullest card, "
        "host_bytes; null when none fits"))
    # vramplan estimate of a mixture-of-experts training plan (vramplan plan writes the same for its best layout)
    expert_load: ExpertLoadSummary | None = Field(None, description=(
        "MoE training plans only: the heaviest card as the busiest expert-parallel rank under "
        "training.expert_load (--expert-load; what every card above is sized as) and as the average rank "
        "(balanced routing)"))


def _before_first_step(c: CardEstimate) -> dict | None:
    first = c.breakdown.before_first_step
    if first is None:
        return None
    return {"total_bytes": first.total_bytes, "fits": first.total_bytes <= c.capacity_bytes,
            "optimizer_state_bytes": first.state_bytes, "moment": first.moment, "formula": first.formula}


def estimate_to_json(est: Estimate) -> dict:
    per_breakdown: dict[int, tuple[dict, dict, dict]] = {}
    cards = []
    for c in est.cards:
        bd = c.breakdown
        cached = per_breakdown.get(id(bd))
        if cached is None:
            parts = bd.parts()
            cached = per_breakdown[id(bd)] = (
                {f.key: f.bytes for f in parts},
                {f.key: f.bytes for f in bd.details},
                {f.key: f.formula for f in parts + bd.details},
            )
        cards.append({
            "card": c.index, "card_id": c.card_id, "node": c.node, "node_id": c.node_id, "gpu": c.gpu,
            "stage": c.stage, "tp_rank": c.tp_rank, "tp_size": c.tp_size, "dp_rank": c.dp_rank,
            "dp_size": c.dp_size, "capacity_bytes": c.capacity_bytes, "total_bytes": bd.total_bytes,
            "headroom_bytes": c.capacity_bytes - bd.total_bytes,
            "in_flight_microbatches": c.in_flight_microbatches, "fits": bd.total_bytes <= c.capacity_bytes,
            "breakdown": dict(cached[0]), "details": dict(cached[1]), "formulas": dict(cached[2]),
            "host_bytes": bd.host_bytes,
            "peak_moment": bd.timeline[bd.peak_moment].label if bd.timeline else "",
            "timeline": [{"moment": m.label, "short": m.short, "bytes": m.total_bytes} for m in bd.timeline],
            "before_first_optimizer_step": _before_first_step(c),
        })
    out = {
        "plan": est.plan_name, "mode": est.mode, "method": est.method, "framework": est.framework,
        "fits": est.fits, "fits_before_first_optimizer_step": est.fits_before_first_step,
        "parameters": est.parameters, "microbatches_per_step": est.microbatches_per_step,
        "units": "bytes",
        "warnings": [
            {"code": w.code, "severity": w.severity, "message": w.message, "cards": list(w.cards)}
            for w in est.warnings
        ],
        "cards": cards,
    }
    if est.serving is not None:
        from engine.serving.report import summary_json

        out.update(summary_json(est.serving))
    if est.finetune is not None:
        from engine.finetune.report import finetune_json

        out["finetune"] = finetune_json(est.finetune)
    return out


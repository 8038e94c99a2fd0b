"""``finetune_estimate(plan) -> Estimate``: full fine-tuning, LoRA and QLoRA per card.

Full fine-tuning is training: the plan goes through the training engine with
the fine-tuning workload (sequence, micro-batch, checkpointing, precision).

LoRA / QLoRA (PEFT on Hugging Face transformers), per card:

* weights: the frozen base in ``base_dtype`` (LoRA) or NF4/FP4 with double
  quantization for the linear layers and bf16 for embeddings, ``lm_head`` and
  norms (QLoRA, bitsandbytes' skip list), plus the adapters in ``adapter_dtype``
  (PEFT upcasts adapters to fp32 by default);
* gradients: adapters only, in their dtype; the frozen base has none;
* optimizer: AdamW keeps two moments in the parameter dtype (2 × 4 B for fp32
  adapters); the 8-bit optimizers keep two 1-byte states with an fp32 absmax
  per 256-element block (bitsandbytes ``Adam8bit``); paged optimizers keep the
  states in unified memory that can be evicted to the host under pressure;
* activations of the frozen base: the training engine's per-layer count
  (Korthikanti et al.; an upper bound for frozen matrices without adapters,
  whose inputs autograd may drop) plus each adapter's rank-r intermediate, in
  2 B per element, or 4 B under PEFT QLoRA, whose fp32 norms promote the
  residual stream to fp32 (:func:`residual_bytes`); gradient checkpointing
  keeps one layer input per layer, and the layer recomputed in the backward
  adds its working set; QLoRA dequantizes one matrix at a time to bf16 in the
  backward (a transient buffer of the largest quantized matrix);
* the loss over the logits (:func:`engine.finetune.loss.loss_bytes`) on the card with the output layer;
* overhead: the plan's CUDA context, NCCL (several cards) and fragmentation.

The card's figure is the highest moment of its step: the forward, the loss
(saved activations + the loss buffers), the backward of the last layer (saved
activations + the recomputed layer's working set + the dequantized matrix;
the loss buffers are freed by then) and the optimizer step; under LitGPT also the end of the next
micro-batch's forward, with the previous micro-batch's graph still held (:mod:`engine.finetune.litgpt_loop`).

Layouts: one card, data-parallel replicas, or a layer split over stages
(``device_map="auto"``, one micro-batch at a time); no tensor parallelism.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from engine.errors import PlanError
from engine.finetune.base_format import DTYPE_BYTES, base_scheme, dequantized_element
from engine.finetune.bitsandbytes import qlora_keeps_inputs
from engine.finetune.config import FinetuneConfig
from engine.finetune.fsdp_cards import (
    PEFT_FSDP_WARNING,
    check_fsdp,
    fsdp_shards,
    peft_fsdp_units,
    sharded_base,
)
from engine.finetune.fsdp_replay import FSDP_REPLAYED_RESERVE_WARNING, fsdp_trainer_replay
from engine.finetune.hf_trainer_replay import TrainerReplay, trainer_replay
from engine.finetune.litgpt_block import litgpt_layer_activations, litgpt_outer_activations
from engine.finetune.litgpt_loop import previous_micro_batch
from engine.finetune.lora import (
    adapter_activation_bytes,
    adapter_params,
    head_adapter_activation_bytes,
    layer_adapter_params,
)
from engine.finetune.loss import loss_bytes, output_backward_bytes
from engine.finetune.summary import FinetuneSummary
from engine.model.params import parameter_count
from engine.model.spec import ModelSpec
from engine.plan.checks import check_stages
from engine.plan.schema import Plan
from engine.replay_scope import allocator_replay_problem, replays_by_default
from engine.report.formatting import ceil_div, n
from engine.report.records import (
    Breakdown,
    CardEstimate,
    Estimate,
    Figure,
    Moment,
    PlanWarning,
    figure,
    make_breakdown,
    over_capacity_warning,
)
from engine.training.config import FRAGMENTATION_MODEL_FIELD
from engine.training.estimate import training_estimate
from engine.training.memory.activations import layer_activations, layer_input_bytes
from engine.training.memory.context import ReplayedReserve
from engine.training.memory.detailed import REPLAYED_RESERVE, percent_reserve_figure
from engine.training.memory.fsdp import FSDP_RESERVE_WARNING
from engine.training.memory.huggingface import computes_loss_inline
from engine.training.memory.schedule import stage_layer_indices
from engine.training.memory.workspace import library_workspace_bytes
from engine.weights.quant import QuantScheme, tensor_bytes, tensor_format
from engine.weights.tensors import layer_tensors, outer_tensors

ACT_BYTES = 2  # bf16/fp16 compute


def _base_weights(plan: Plan, cfg: FinetuneConfig, layers: tuple[int, ...], first: bool, last: bool) -> int:
    spec, scheme = plan.model, base_scheme(cfg)
    total = sum(_layer_weight_bytes(spec, scheme, i) for i in layers)
    outer = outer_tensors(spec)
    ends = [t for t in outer if (first and t.cls in ("embedding", "position")) or (last and t.cls in ("norm", "output"))]
    return total + sum(tensor_bytes(scheme, t, spec) for t in ends)


@lru_cache(maxsize=16384)  # bounded; a sweep over LoRA ranks or sequence lengths reuses every layer's bytes
def _layer_weight_bytes(spec: ModelSpec, scheme: QuantScheme, layer: int) -> int:
    return sum(tensor_bytes(scheme, t, spec) for t in layer_tensors(spec)[layer])


def _optimizer_bytes(cfg: FinetuneConfig, params: int) -> tuple[int, str]:
    a = DTYPE_BYTES[cfg.adapter_dtype]
    if cfg.optimizer in ("adamw", "paged-adamw"):
        return 2 * a * params, f"2 moments × {a} B × {n(params)} adapter params"
    if cfg.optimizer in ("adamw-8bit", "paged-adamw-8bit"):
        return 2 * (params + 4 * ceil_div(params, 256)), f"2 × (1 B + 4 B per 256) × {n(params)} adapter params"
    return 0, "0 (SGD without momentum)"


@dataclasses.dataclass(frozen=True, slots=True)
class ActivationUse:
    """Saved activations of the card's layers for one micro-batch."""

    kept: int  # alive from the forward to the backward (every layer's, or the checkpoints)
    working: int  # gradient checkpointing: the layer recomputed in the backward; else 0
    text: str


def residual_bytes(cfg: FinetuneConfig) -> int:
    """Bytes per element of the residual stream and the base layers' activations.

    QLoRA under PEFT: ``prepare_model_for_kbit_training`` (``peft/utils/other.py``) upcasts every
    parameter that is not 4-bit to fp32, and TRL keeps the norms in fp32 when it casts the
    embeddings back to bf16 (``peft_module_casting_to_bf16``).  ``LlamaRMSNorm`` returns
    ``weight * hidden.to(input_dtype)``, fp32 with an fp32 weight, and bitsandbytes' ``Linear4bit``
    returns its output in its input's dtype (``out.to(inp_dtype)``), so the residual stream, the
    checkpointed layer inputs and the MLP intermediates are fp32: 4 B per element.  The attention
    runs in bf16 inside flash-attention, so 4 B over the whole layer is an upper bound there.
    Plain LoRA keeps the compute dtype (2 B); LitGPT computes in its precision (``bf16-true``,
    ``16-true``: 2 B; ``32-true``: 4 B), the base dtype here.

    QLoRA under FSDP (``fsdp``) computes in 16 bits: FSDP needs the 4-bit weights stored in the model's
    dtype, so the norms of a decoder unit share it (a flat parameter has one dtype), and the Trainer sets
    FSDP's mixed precision to it (``Trainer._fsdp_qlora_plugin_updates``: ``set_mixed_precision(
    bnb_4bit_quant_storage)``): 2 B.  fms-acceleration's PowerLM-3B rows (transformers 4.45) match it within
    0.4 %; its rows on transformers 4.48 lie above it and below the 4 B count
    (:data:`engine.finetune.fsdp_cards.PEFT_FSDP_WARNING`).
    """
    if cfg.framework == "litgpt":
        return DTYPE_BYTES[cfg.base_dtype]
    return 4 if cfg.method == "qlora" and not cfg.fsdp else ACT_BYTES


def _layer_bytes(spec: ModelSpec, cfg: FinetuneConfig, layer: int, e: int) -> int:
    """One layer's saved activations: LitGPT's block as measured, else the training count plus the adapters."""
    s, b = cfg.seq, cfg.micro_batch
    moe = spec.is_moe_layer(layer)
    if cfg.framework == "litgpt" and not moe and spec.mla is None:
        return litgpt_layer_activations(spec, s, b, cfg.target_modules, cfg.rank, e, cfg.lora_dropout > 0,
                                        qlora_keeps_inputs(cfg.method, cfg.bnb_version)).bytes
    base = layer_activations(spec, moe, s, b, 1, False, cfg.flash_attention, False, e).bytes
    return base + adapter_activation_bytes(spec, layer, cfg.target_modules, cfg.rank, s * b, e,
                                           DTYPE_BYTES[cfg.adapter_dtype], cfg.lora_dropout > 0)


def _outer_activations(spec: ModelSpec, cfg: FinetuneConfig, e: int) -> tuple[int, str]:
    """What the output end of the model keeps on the last card: under LitGPT the final norm (and a 4-bit
    lm_head's input); an adapter on the output layer, in either framework."""
    tokens, dropout = cfg.seq * cfg.micro_batch, cfg.lora_dropout > 0
    if cfg.framework == "litgpt":
        total, text = litgpt_outer_activations(spec, tokens, e, qlora_keeps_inputs(cfg.method, cfg.bnb_version), cfg.target_modules, cfg.rank,
                                               dropout)
        return total, f" + {text}"
    adapter = head_adapter_activation_bytes(spec, cfg.target_modules, cfg.rank, tokens, e,
                                            DTYPE_BYTES[cfg.adapter_dtype], dropout, input_kept=False)
    norm, norm_text = _final_norm_kept(spec, tokens, e)
    return adapter + norm, f" + {norm_text}" + (f" + lm_head adapter {n(adapter)} B" if adapter else "")


def _final_norm_kept(spec: ModelSpec, tokens: int, e: int) -> tuple[int, str]:
    """What the final norm saves for its input's gradient under PEFT (its weight is frozen, and the frozen
    ``lm_head`` keeps nothing): ``LlamaRMSNorm``'s fp32 copy of its input (``pow`` and the product with
    1/rms save it; with an fp32 residual stream it is the input itself) and 1/rms per token;
    ``nn.LayerNorm``'s input with its fp32 mean and 1/std."""
    h = spec.hidden
    if spec.norm == "rmsnorm":
        return 4 * tokens * h + 4 * tokens, f"final RMSNorm's fp32 input copy 4 B × {n(tokens)} × {n(h)} + 1/rms 4 B × tokens"
    return e * tokens * h + 8 * tokens, f"final LayerNorm's input {e} B × {n(tokens)} × {n(h)} + mean, 1/std 8 B × tokens"


def _activations(plan: Plan, cfg: FinetuneConfig, layers: tuple[int, ...], last: bool) -> ActivationUse:
    """Saved activations of the card's layers for one micro-batch (base layers + adapter inputs); the card
    with the output layer adds what the output end keeps (:func:`_outer_activations`)."""
    spec = plan.model
    s, b, e = cfg.seq, cfg.micro_batch, residual_bytes(cfg)
    if not layers:
        return ActivationUse(0, 0, "0 (no layers)")
    per_layer = {i: _layer_bytes(spec, cfg, i, e) for i in layers}
    outer, outer_text = _outer_activations(spec, cfg, e) if last else (0, "")
    unit = f" ({e} B per element: fp32 residual stream)" if e != ACT_BYTES else ""
    if cfg.gradient_checkpointing:  # the final norm and the output layer are not checkpointed
        checkpoint = layer_input_bytes(spec, s, b, 1, False, e)
        kept, working = checkpoint * len(layers) + outer, max(per_layer.values())
        return ActivationUse(kept, working, (
            f"checkpointing{unit}: layer input {n(checkpoint)} B × {len(layers)} layers{outer_text} = {n(kept)} B "
            f"kept; the layer recomputed in the backward adds its working set {n(working)} B"))
    kept = sum(per_layer.values()) + outer
    return ActivationUse(kept, 0, f"{len(layers)} layers{unit}, {n(max(per_layer.values()))} B per layer "
                                  f"(base + adapter intermediates){outer_text} = {n(kept)} B")


def _dequantization_buffer(plan: Plan, cfg: FinetuneConfig, layers: tuple[int, ...]) -> Figure:
    """QLoRA: bitsandbytes dequantizes one 4-bit matrix at a time (forward and backward)."""
    if cfg.method != "qlora":
        return figure("transient", "dequantization buffer", 0, "0 (no 4-bit base)")
    spec, scheme = plan.model, base_scheme(cfg)
    matrices = [t for i in layers for t in layer_tensors(spec)[i] if t.is_matrix
                and tensor_format(scheme, t, spec) is scheme.base]
    largest = max((t.rows * t.cols for t in matrices), default=0)
    element, element_text = dequantized_element(cfg)
    return figure("transient", "dequantization buffer", element * largest,
                  f"{element_text} × the largest 4-bit matrix {n(largest)} (bitsandbytes dequantize_4bit)")


def _step_temporaries(cfg: FinetuneConfig, trainable: int) -> Figure:
    """torch AdamW (foreach) copies sqrt(exp_avg_sq): one moment of the adapters; fused / paged 8-bit: none."""
    if cfg.optimizer != "adamw":
        return figure("transient", "optimizer-step temporaries", 0, f"0 ({cfg.optimizer} updates in place)")
    a = DTYPE_BYTES[cfg.adapter_dtype]
    return figure("transient", "optimizer-step temporaries", a * trainable,
                  f"torch AdamW (foreach) sqrt(exp_avg_sq) copy {a} B × {n(trainable)} adapter params")


def _replay(plan: Plan, cfg: FinetuneConfig) -> TrainerReplay:
    """The Trainer's steps replayed on the plan's first card (under FSDP its rank 0): segments up to its memory
    less the CUDA context (and, over several cards, NCCL's buffers)."""
    o = plan.method.overhead
    capacity = plan.layout.cards[0].capacity_bytes - o.cuda_context_bytes
    shards = fsdp_shards(plan, cfg)
    if shards > 1:
        return fsdp_trainer_replay(plan.model, cfg, shards, capacity - o.nccl_bytes, plan.method.transformers_version)
    return trainer_replay(plan.model, cfg, capacity, plan.method.transformers_version)


def _replayed_reserve(r: TrainerReplay, shards: int) -> ReplayedReserve:
    card = f"FSDP rank 0 of {shards}, given to every card" if shards > 1 else "this card"
    steps = f"{r.steps} Trainer steps of {card}" if r.steps > 1 else f"1 Trainer step of {card}"
    at_peak = figure("fragmentation", REPLAYED_RESERVE, r.reserve,
                     f"PyTorch caching allocator replayed over {steps}: peak reserved {n(r.peak_reserved)} B − peak "
                     f"allocated {n(r.peak_allocated)} B = {n(r.reserve)} B")
    before = figure("fragmentation", REPLAYED_RESERVE, r.first_backward_reserve,
                    f"PyTorch caching allocator replayed up to the first optimizer step: peak reserved "
                    f"{n(r.first_backward_reserved)} B − peak allocated {n(r.first_backward_allocated)} B = "
                    f"{n(r.first_backward_reserve)} B")
    return ReplayedReserve(at_peak, before)


def _reserve(plan: Plan, cfg: FinetuneConfig, visible: int, side_streams: Figure | None) -> Figure:
    """The allocator's reserve above the ``visible`` bytes: the plan's percentage (with FSDP's
    ``side_streams``), or (``fragmentation_model`` replay) what PyTorch's caching allocator reserves above its
    peak over replayed Trainer steps."""
    o = plan.method.overhead
    if replays_by_default(plan):
        return _replayed_reserve(_replay(plan, cfg), fsdp_shards(plan, cfg)).at_peak
    return percent_reserve_figure(o.fragmentation_percent, visible, side_streams)


def _check_replayable(plan: Plan) -> None:
    if plan.method.overhead.fragmentation_model != "replay":
        return
    problem = allocator_replay_problem(plan)
    if problem is not None:
        raise PlanError(FRAGMENTATION_MODEL_FIELD, "replay", f"percent, or replay for {problem}")


def _card_breakdown(plan: Plan, cfg: FinetuneConfig, layers: tuple[int, ...], first: bool, last: bool,
                    world: int) -> Breakdown:
    spec = plan.model
    a = DTYPE_BYTES[cfg.adapter_dtype]
    shards = world if cfg.fsdp else 1
    share = f" ÷ {shards} (FSDP shards)" if shards > 1 else ""
    trainable = ceil_div(adapter_params(spec, layers, cfg.target_modules, cfg.rank, output_layer=last), shards)
    base, base_text = sharded_base(plan, cfg, layers, _base_weights(plan, cfg, layers, first, last), shards)
    adapters = a * trainable
    opt, opt_text = _optimizer_bytes(cfg, trainable)
    act = _activations(plan, cfg, layers, last)
    tokens = cfg.seq * cfg.micro_batch
    logits, logits_text = (loss_bytes(cfg, spec.vocab, plan.method.transformers_version,
                                      residual_bytes(cfg) * tokens * spec.hidden if cfg.framework == "peft" else 0)
                           if last and spec.vocab else (0, "0 (output layer on another card)"))
    if last:
        head, head_text = output_backward_bytes(cfg, spec)
        if head > logits:
            logits, logits_text = head, f"{head_text} (more than the loss: {logits_text})"
    buffer, step = _dequantization_buffer(plan, cfg, layers), _step_temporaries(cfg, trainable)
    static: dict[str, Figure] = {
        "weights": figure("weights", "frozen base + adapters", base + adapters,
                          f"{base_text} + adapters {a} B × {n(trainable)} params{share}"),
        "gradients": figure("gradients", "adapter gradients", a * trainable,
                            f"{a} B × {n(trainable)} adapter params{share} (frozen base: none)"),
        "optimizer_states": figure("optimizer_states", f"optimizer ({cfg.optimizer})", opt, opt_text),
    }
    base_live = tuple((k, f.bytes) for k, f in static.items())
    # The loss runs before any layer's backward: the logits (and their gradient) are freed once the output
    # layer has back-propagated, before the last layer is recomputed (checkpointing) or dequantized (QLoRA).
    recomputed = " recomputed" if cfg.gradient_checkpointing else ""
    previous = previous_micro_batch(plan.model, cfg, layers, last, residual_bytes(cfg)) \
        if cfg.framework == "litgpt" else None
    timeline: tuple[Moment, ...] = (
        Moment("step start: frozen base, adapters, optimizer states", base_live, "start"),
        Moment("forward of the micro-batch", (*base_live, ("activations", act.kept)), "forward"),
        Moment("loss over the logits and its gradient", (*base_live, ("activations", act.kept), ("logits", logits)),
               "loss"),
        Moment(f"backward of the last layer{recomputed} (dequantized matrix)",
               (*base_live, ("activations", act.kept + act.working), ("transient", buffer.bytes)), "backward"),
        Moment("optimizer step", (*base_live, *(previous.held() if previous else ()), ("transient", step.bytes)),
               "optimizer step"),
    )
    if previous is not None:
        timeline += (previous.next_forward(base_live, act.kept),)
    units = (peft_fsdp_units(plan, cfg, layers, {i: _layer_weight_bytes(spec, base_scheme(cfg), i) for i in layers},
                             _base_weights(plan, cfg, (), True, True), shards) if shards > 1 else None)
    if units is not None:
        timeline = units.across(timeline)
    peak = max(range(len(timeline)), key=lambda i: timeline[i].total_bytes)
    at_peak = dict(timeline[peak].live)
    act_text = act.text
    if previous is not None:
        act_text, logits_text = previous.formulas(timeline[peak].short, act.text, logits_text)
    parts = dict(static)
    parts["activations"] = figure("activations", "activations", at_peak.get("activations", 0), act_text)
    parts["logits"] = figure("logits", "logits and loss", at_peak.get("logits", 0), logits_text)
    peak_transient = {"optimizer step": step, "next forward": previous.transient() if previous else buffer}.get(
        timeline[peak].short, buffer)
    parts["transient"] = figure("transient", peak_transient.label, at_peak.get("transient", 0), peak_transient.formula)
    if units is not None:
        parts["communication"] = units.figure(timeline[peak].short)
    o = plan.method.overhead
    visible = sum(f.bytes for f in parts.values())
    nccl = o.nccl_bytes if world > 1 else 0
    # the adapters' gradient shards are a few small-pool blocks: only the gathered units count
    reserve = _reserve(plan, cfg, visible, None if units is None else units.side_streams(timeline[peak].short, 0))
    frag = reserve.bytes
    lib, lib_text = library_workspace_bytes(plan.method, transformer_engine=False)
    parts["overhead"] = figure("overhead", "runtime overhead", o.cuda_context_bytes + nccl + frag + lib,
                               f"CUDA context {n(o.cuda_context_bytes)} + NCCL {n(nccl)} + fragmentation {n(frag)}"
                               f" + library workspaces {n(lib)}")
    details = (figure("base_weights", "frozen base weights", base, f"{n(base)} B"),
               figure("adapter_weights", "adapter weights", adapters, f"{a} B × {n(trainable)}"),
               Figure("dequantization_buffer", buffer.label, buffer.bytes, buffer.formula),
               Figure("optimizer_step_temporaries", step.label, step.bytes, step.formula),
               Figure("loss_logits", "logits and loss", logits, logits_text),
               figure("library_workspace", "cuBLAS workspaces", lib, lib_text),
               reserve)
    return make_breakdown(parts, details, timeline=timeline, peak_moment=peak)


def _summary(plan: Plan, cfg: FinetuneConfig) -> FinetuneSummary:
    spec = plan.model
    everything = tuple(range(spec.layers))
    if cfg.method == "full":
        trainable, adapters = parameter_count(spec), 0
        base = DTYPE_BYTES[cfg.base_dtype] * trainable
    else:
        trainable = adapter_params(spec, everything, cfg.target_modules, cfg.rank, output_layer=True)
        adapters = DTYPE_BYTES[cfg.adapter_dtype] * trainable
        base = _base_weights(plan, cfg, everything, True, True)
    return FinetuneSummary(cfg.method, trainable, base, adapters, cfg.seq, cfg.micro_batch,
                           None if cfg.method == "full" else cfg.rank,
                           () if cfg.method == "full" else cfg.target_modules, cfg.optimizer,
                           cfg.gradient_checkpointing, fsdp_shards(plan, cfg))


def _full(plan: Plan, cfg: FinetuneConfig) -> Estimate:
    # Single-node fine-tuning stacks (transformers Trainer, LitGPT, torchtune) train eager PyTorch modules
    # with torch AdamW: the huggingface profile (16-bit gradients, foreach AdamW's step copy).
    # one optimizer step: gradient_accumulation micro-batches on each data-parallel replica
    replicas = check_stages(plan.layout).dp_for_batch
    sharded = cfg.fsdp and replicas > 1
    training = plan.training.model_copy(update={
        "zero": 3 if sharded else plan.training.zero, "fsdp": sharded,
        "seq": cfg.seq, "micro_batch": cfg.micro_batch, "flash_attention": cfg.flash_attention,
        "global_batch": cfg.micro_batch * cfg.gradient_accumulation * replicas,
        "precision": cfg.base_dtype, "optimizer": "sgd" if cfg.optimizer == "sgd" else "adamw",
        "master_weights": cfg.mixed_precision,
        "recompute": "full" if cfg.gradient_checkpointing else plan.training.recompute})
    # LitGPT's block and its full.py loop (`logits = model(input_ids)`: bound until the next forward returns)
    method = plan.method.model_copy(update={"framework": "huggingface",
                                            "model_code": "litgpt" if cfg.framework == "litgpt" else "framework"})
    reserve = _replayed_reserve(_replay(plan, cfg), fsdp_shards(plan, cfg)) if replays_by_default(plan) else None
    est = training_estimate(plan.model_copy(update={"mode": "training", "training": training, "method": method}),
                            reserve)
    warnings = tuple(_fsdp_reserve_warning(plan) if w.code == "fsdp-reserve" else w for w in est.warnings)
    return dataclasses.replace(est, mode="finetune", finetune=_summary(plan, cfg), warnings=warnings)


def _fsdp_reserve_warning(plan: Plan) -> PlanWarning:
    """What the FSDP runs reserved beyond this estimate's reserve: the replayed one, or the flat percentage."""
    return PlanWarning("fsdp-reserve", FSDP_REPLAYED_RESERVE_WARNING if replays_by_default(plan) else FSDP_RESERVE_WARNING)


LITGPT_SHARDS_WARNING = (
    "LitGPT shards over several devices: finetune/full.py runs Fabric's FSDPStrategy and finetune/lora.py its "
    "ModelParallelStrategy (FSDP2) when devices > 1, where this estimate holds the whole model on every card (its "
    "one-device step); the model states per card are an upper bound")


def finetune_estimate(plan: Plan) -> Estimate:
    cfg = plan.finetune or FinetuneConfig()
    _check_replayable(plan)
    check_fsdp(plan, cfg)
    est = _full(plan, cfg) if cfg.method == "full" else _adapters(plan, cfg)
    if cfg.framework == "litgpt" and check_stages(plan.layout).dp_for_batch > 1:
        est = dataclasses.replace(est, warnings=(*est.warnings, PlanWarning("litgpt-shards", LITGPT_SHARDS_WARNING,
                                                                             severity="info")))
    return est


def _adapters(plan: Plan, cfg: FinetuneConfig) -> Estimate:
    """LoRA and QLoRA: every card's breakdown (:func:`_card_breakdown`) and the plan's warnings."""
    layout = plan.layout
    topo = check_stages(layout)
    if max(topo.tp_size) > 1:
        raise PlanError("layout.tp", max(topo.tp_size), f"1 for {cfg.method} (PEFT has no tensor parallelism)")
    stages = topo.stages
    by_stage = stage_layer_indices(plan.model.layers, stages, layout.pp_layers, 1)
    # Stages with the same number of dense and MoE layers, neither first nor last, have the same breakdown
    # (every layer of a kind has the same tensors and activations): compute it once (a 126-stage split).
    cache: dict[tuple[int, int, bool, bool], Breakdown] = {}
    rows = []
    for slot in topo.slots:
        stage = slot.stage
        layers = by_stage[stage]
        moe = sum(map(plan.model.is_moe_layer, layers)) if plan.model.moe is not None else 0
        key = (len(layers) - moe, moe, stage == 0, stage == stages - 1)
        if key not in cache:
            cache[key] = _card_breakdown(plan, cfg, layers, key[2], key[3], len(layout.cards))
        rows.append(CardEstimate(slot, 1, cache[key]))
    warnings = []
    over = [c for c in rows if not c.fits]
    if over:
        warnings.append(over_capacity_warning(over))
    if cfg.fsdp and len(layout.cards) > 1:
        warnings.append(_fsdp_reserve_warning(plan))
        if not computes_loss_inline(plan.method.transformers_version):  # measured only on the newer stack
            warnings.append(PlanWarning("peft-fsdp", PEFT_FSDP_WARNING))
    if cfg.optimizer.startswith("paged"):
        warnings.append(PlanWarning("paged-optimizer", (
            "paged optimizer: its states live in unified memory and move to system RAM when the card runs "
            "short, so a small overflow slows training instead of failing"), severity="info"))
    summary = _summary(plan, cfg)
    params = parameter_count(plan.model)
    notes = (figure("parameters", "parameters", params, f"{n(params)} parameters"),
             figure("trainable_parameters", "trainable (adapter) parameters", summary.trainable_parameters,
                    f"r {cfg.rank} × (rows + cols) over {','.join(cfg.target_modules)} in {plan.model.layers} layers"
                    + (" (head: the output layer once)" if "head" in cfg.target_modules else "")),
             figure("adapter_params_per_layer", "adapter parameters per layer",
                    layer_adapter_params(plan.model, 0, cfg.target_modules, cfg.rank), "layer 0"))
    return Estimate(plan_name=plan.name, mode="finetune", method=cfg.method, framework="peft", parameters=params,
                    microbatches_per_step=1, cards=tuple(rows), warnings=tuple(warnings), notes=notes,
                    finetune=summary)

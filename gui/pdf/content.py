"""What the PDF says, as plain data (no Qt): verdict, workload rows, card rows, formulas.

The renderer only lays these out; every number here comes from the engine's
estimate and is formatted once with ``engine.units.format_bytes``/``to_unit``.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.finetune.config import FinetuneConfig
from engine.model.params import parameter_counts
from engine.plan.schema import Plan
from engine.replay_scope import replays_by_default
from engine.report.records import CardEstimate, Estimate, index_ranges
from engine.serving.report import sampler_warmup_of
from engine.units import Unit, format_bytes, plural, to_unit

# (breakdown key, column header) of the per-card table, in the engine's order.
MEMORY_COLUMNS = (
    ("weights", "weights"), ("gradients", "grads"), ("optimizer_states", "optim."), ("activations", "activ."),
    ("logits", "logits"), ("communication", "comm."), ("transient", "transient"), ("kv_cache", "KV cache"),
    ("overhead", "overhead"),
)
ALWAYS_SHOWN = {"weights", "gradients", "optimizer_states", "activations", "kv_cache", "overhead"}


@dataclass(frozen=True, slots=True)
class CardRow:
    cards: str  # "0-7,16-23" (grouped) or "5"
    count: int
    node: str
    gpu: str
    stage: int
    tp: str
    zero: str
    parts: dict[str, int]  # breakdown key -> bytes
    total_bytes: int
    capacity_bytes: int
    fits: bool

    @property
    def headroom_bytes(self) -> int:
        return self.capacity_bytes - self.total_bytes


def visible_columns(est: Estimate) -> tuple[tuple[str, str], ...]:
    seen = {id(c.breakdown): c.breakdown for c in est.cards}.values()
    return tuple((k, h) for k, h in MEMORY_COLUMNS if k in ALWAYS_SHOWN or any(getattr(b, k).bytes for b in seen))


def _node_label(plan: Plan, members: list[CardEstimate]) -> str:
    nodes = sorted({c.node for c in members})
    first = plan.layout.nodes[nodes[0]].name
    return first if len(nodes) == 1 else f"{first} +{len(nodes) - 1}"


def card_rows(plan: Plan, est: Estimate, all_cards: bool = False) -> list[CardRow]:
    """One row per card, or identical cards (same stage, GPU, group sizes and breakdown) grouped with a count."""
    groups: dict[tuple, list[CardEstimate]] = {}
    for c in est.cards:
        key = (c.index,) if all_cards else (c.stage, c.gpu, c.capacity_bytes, c.tp_size, c.dp_size, id(c.breakdown))
        groups.setdefault(key, []).append(c)
    rows = []
    for members in groups.values():
        c = members[0]
        if all_cards:
            # ranks as the window shows them: "rank r/n", 1-based (the JSON's tp_rank / dp_rank are 0-based)
            tp, zero = f"{c.tp_rank + 1}/{c.tp_size}", f"{c.dp_rank + 1}/{c.dp_size}"
        else:
            tp, zero = f"×{c.tp_size}", f"×{c.dp_size}"
        bd = c.breakdown
        rows.append(CardRow(
            cards=index_ranges([m.index for m in members], limit=3), count=len(members), node=_node_label(plan, members),
            gpu=c.gpu, stage=c.stage, tp=tp, zero=zero, parts=bd.bytes_by_key(), total_bytes=bd.total_bytes,
            capacity_bytes=c.capacity_bytes, fits=c.fits))
    return rows


def number(n_bytes: int, unit: Unit | str, signed: bool = False) -> str:
    """A table cell: the value in ``unit`` with two decimals (the unit is named in the header)."""
    return f"{to_unit(n_bytes, unit):{'+' if signed else ''}.2f}"


def verdict_text(plan: Plan, est: Estimate, unit: Unit | str) -> str:
    cards = len(est.cards)
    gpus = sorted({c.gpu for c in est.cards})
    worst = est.worst_card
    if worst is None:
        return "The plan has no cards."
    where = f"card {worst.index} (stage {worst.stage + 1}, {plan.layout.nodes[worst.node].name}, {worst.gpu})"
    need = f"{format_bytes(worst.total_bytes, unit)} of {format_bytes(worst.capacity_bytes, unit)}"
    if est.fits:
        fits = (f"The card ({gpus[0]}) stays within its memory. It is {where}" if cards == 1 else
                f"All {cards:,} cards ({', '.join(gpus)}) stay within their memory. The fullest is {where}")
        return (f"FITS. {fits}: "
                f"{need}, leaving {format_bytes(worst.headroom_bytes, unit)} headroom. "
                f"Method: {est.method}" + (f" ({est.framework})" if est.method == "detailed" else "") + ".")
    over = sum(1 for c in est.cards if not c.fits)
    late = (" Every card gets through forward and backward: the run starts and runs out at its first optimizer "
            "step, which creates the optimizer's state." if est.fits_before_first_step else "")
    return (f"DOES NOT FIT. {over:,} of {cards:,} cards ({', '.join(gpus)}) are over capacity. The worst is {where}: "
            f"it needs {need}, {format_bytes(-worst.headroom_bytes, unit)} more than the card has.{late} "
            f"Method: {est.method}" + (f" ({est.framework})" if est.method == "detailed" else "") + ".")


def _count(n: int) -> str:
    return f"{n:,} ({n / 1e9:.2f} B)"


def model_rows(plan: Plan) -> list[tuple[str, str]]:
    m = plan.model
    pc = parameter_counts(m)
    arch = (f"{m.layers} layers, hidden {m.hidden:,}, {m.heads} heads"
            + (f" ({m.kv_heads_} KV heads)" if m.kv_heads_ != m.heads else "")
            + f", FFN {m.ffn_:,}" + (" gated (SwiGLU)" if m.gated_mlp else "") + f", {m.norm}"
            + (f", vocab {m.vocab:,}" if m.vocab else "") + (", tied embeddings" if m.tied_embeddings else ""))
    if m.moe:
        arch += f", MoE {m.moe.experts} experts top-{m.moe.top_k} (FFN {m.moe.expert_ffn:,})"
    if m.mla:
        arch += f", MLA (KV latent {m.mla.kv_lora_rank})"
    rows = [("model", m.name), ("architecture", arch), ("parameters (total)", _count(pc.total))]
    if m.complete:
        rows += [("  embedding", _count(pc.embedding)), ("  transformer layers", _count(pc.transformer)),
                 ("  output layer", _count(pc.output_layer) if pc.output_layer else "0 (tied to the embedding)")]
        if pc.position_embedding:
            rows.append(("  position embedding", _count(pc.position_embedding)))
        if pc.inactive_expert_params:
            rows.append(("  active per token", _count(pc.active_per_token)))
    else:
        rows.append(("  note", "article-level model: the declared count, no per-component split"))
    return rows


def workload_rows(plan: Plan, est: Estimate) -> list[tuple[str, str]]:
    t, layout = plan.training, plan.layout
    topo = layout.topology
    rows = [("mode", plan.mode), ("method", est.method + (f" ({est.framework})" if est.method == "detailed" else ""))]
    if plan.mode != "serving" and plan.method.transformers_version:
        rows.append(("transformers", f"release {plan.method.transformers_version}"))
    serving = getattr(plan, "serving", None)
    if plan.mode == "serving" and serving is not None:
        for key, value in serving.model_dump().items():
            if value is not None:
                text = {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)
                rows.append((f"serving: {key.replace('_', ' ')}", text))
        return rows + _layout_rows(plan, topo)
    finetune = getattr(plan, "finetune", None)
    if plan.mode == "finetune" and finetune is not None:
        return rows + finetune_rows(finetune) + [_reserve_row(plan)] + _layout_rows(plan, topo)
    gb = t.global_batch or t.micro_batch * topo.dp_for_batch * est.microbatches_per_step
    rows += [
        ("sequence", f"{t.seq:,} tokens"),
        ("batches", f"micro-batch {t.micro_batch}, global batch {gb}, {est.microbatches_per_step} micro-batches per step"),
        ("precision / optimizer", f"{t.precision}, {t.optimizer}"),
        ("ZeRO", f"stage {t.zero}" + (" run by PyTorch FSDP (FULL_SHARD)" if t.fsdp else "")
         + (", distributed optimizer" if t.distributed_optimizer else "")
         + (", optimizer offloaded to CPU" if t.offload_optimizer else "") + (", parameters offloaded" if t.offload_params else "")),
        ("recompute", t.recompute),
        ("attention / SP", ("flash attention" if t.flash_attention else "standard attention")
         + (", sequence parallel" if t.sequence_parallel else "")),
        _reserve_row(plan),
    ]
    return rows + _layout_rows(plan, topo)


def finetune_rows(f: FinetuneConfig) -> list[tuple[str, str]]:
    """What a fine-tuning plan trains with: the settings its estimate reads (not the training section's)."""
    base: str = f.base_dtype
    if f.method == "qlora":
        base += f", {f.quant}" + (" with double quantization" if f.double_quant else "") + (
            f", bitsandbytes {f.bnb_version}" if f.bnb_version else "")
    hf = "Hugging Face transformers" if f.method == "full" else "Hugging Face transformers + PEFT"
    rows = [("framework", {"peft": hf, "litgpt": "LitGPT"}[f.framework]),
            ("sharding", "PyTorch FSDP (FULL_SHARD) over the data-parallel cards" if f.fsdp
             else "none: each card holds the whole model"),
            ("sequence", f"{f.seq:,} tokens"),
            ("batch", f"micro-batch {f.micro_batch} per card" + (
                f", {f.gradient_accumulation} micro-batches per optimizer step" if f.gradient_accumulation > 1
                else ", one micro-batch per optimizer step"))]
    if f.method != "full":
        rows.append(("adapters", f"rank {f.rank}, alpha {f.alpha:g} on {', '.join(f.target_modules)}; dropout "
                                 f"{f.lora_dropout:g}; {f.adapter_dtype}"))
    rows += [("base weights", base),
             ("optimizer", f.optimizer + (", fp32 master weights" if f.method == "full" and f.mixed_precision else "")),
             ("recompute", "gradient checkpointing" if f.gradient_checkpointing else "none"),
             ("attention", "flash attention" if f.flash_attention else "standard attention")]
    return rows


def _reserve_row(plan: Plan) -> tuple[str, str]:
    o = plan.method.overhead
    if plan.mode == "training" and plan.method.method == "seed":
        return "allocator reserve", "none (the seed method counts no overhead)"
    if replays_by_default(plan):
        return "allocator reserve", "PyTorch's caching allocator replayed over the card's steps"
    return "allocator reserve", f"{o.fragmentation_percent:g} % of the allocated bytes"


def _layout_rows(plan: Plan, topo) -> list[tuple[str, str]]:
    layout = plan.layout
    sizes = f"TP {max(topo.tp_size)} × CP {max(topo.cp_size)} × DP {max(topo.dp_size)} × PP {topo.stages}"
    split = f", layers per stage {', '.join(map(str, layout.pp_layers))}" if layout.pp_layers else ""
    vpp = f", {layout.vpp} virtual stages" if layout.vpp > 1 else ""
    return [("layout", f"{plural(len(layout.cards), 'card')} on {plural(len(layout.nodes), 'node')}: {sizes}{split}{vpp}")]


@dataclass(frozen=True, slots=True)
class FormulaBlock:
    title: str
    lines: tuple[tuple[str, str, int], ...]  # (label, formula with numbers, bytes)
    indices: tuple[int, ...] = ()  # the cards the block is for (none: the whole plan)


def formula_blocks(est: Estimate) -> list[FormulaBlock]:
    """One block per distinct breakdown (stage and group sizes), each formula with its result."""
    groups: dict[int, list[CardEstimate]] = {}
    for c in est.cards:
        groups.setdefault(id(c.breakdown), []).append(c)
    blocks = [FormulaBlock("whole plan", tuple((f.label, f.formula, f.bytes) for f in est.notes))] if est.notes else []
    for members in groups.values():
        c = members[0]
        bd = c.breakdown
        title = (f"cards {index_ranges([m.index for m in members], limit=4)} ({len(members)}): stage {c.stage + 1}, "
                 f"TP {c.tp_size}, DP {c.dp_size}, {c.in_flight_microbatches} micro-batch(es) in flight")
        lines = tuple((f.label, f.formula, f.bytes) for f in bd.parts() if f.bytes or f.key in ALWAYS_SHOWN)
        lines += tuple((f"  {f.label}", f.formula, f.bytes) for f in bd.details)
        blocks.append(FormulaBlock(title, lines + (("total", "sum of the parts above", bd.total_bytes),),
                                   tuple(m.index for m in members)))
    return blocks


def serving_rows(est: Estimate, unit: Unit | str) -> list[tuple[str, str]]:
    """The serving answers (engine.serving's summary), empty for training plans."""
    s = getattr(est, "serving", None)
    if s is None:
        return []
    rows = [
        ("weights in the format", f"{format_bytes(s.weight_bytes, unit)} ({s.quant}, {s.bits_per_weight:g} bits per weight nominal)"),
        ("KV cache per token", f"{s.kv_bytes_per_token:,} B ({s.kv_dtype}, all layers)"),
        ("longest context at this batch", f"{s.max_context_tokens:,} tokens × {s.batch} sequences"),
        ("most sequences at this context", f"{s.max_batch:,} × {s.context:,} tokens"),
    ]
    if s.kv_pool_tokens is not None and s.kv_pool_bytes is not None:
        rows.append(("runtime KV pool", f"{s.kv_pool_tokens:,} tokens = {format_bytes(s.kv_pool_bytes, unit)}"))
    warm = sampler_warmup_of(est.worst_card)
    if warm is not None:
        where = "its profile's peak, above the forward" if warm[1] else "below its profile's forward"
        rows.append(("vLLM sampler warm-up", f"{format_bytes(warm[0], unit)} ({where})"))
    if s.host_bytes:
        rows.append(("system RAM (offload)", format_bytes(s.host_bytes, unit)))
    return rows

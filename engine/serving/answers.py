"""Direct answers to what serving users ask.

* :func:`longest_context`: the longest context that fits at the plan's batch;
* :func:`most_sequences`: the most concurrent sequences at the plan's context;
* :func:`quant_options` / :func:`best_quant`: every weight format the runtime
  loads with its verdict, and the least aggressive one that still fits (the
  largest weights);
* :func:`cheapest_gpu`: the cheapest catalog card that fits the model at the
  plan's format, context and batch (cards with a price first, by price; then
  by memory, smallest first);
* :func:`fewest_cpu_moe_layers`: for a mixture of experts on llama.cpp, the
  fewest layers whose routed experts must stay in system RAM (``--n-cpu-moe``)
  for the plan to fit: every expert left on the card is faster.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import GpuSpec, gpu_catalog
from engine.errors import PlanError
from engine.plan.layout import Layout, build_grid
from engine.plan.schema import Plan
from engine.serving.config import ServingConfig
from engine.serving.estimate import Evaluator, max_batch, max_context_tokens, serving_estimate
from engine.serving.support import catalog_gpu, format_support
from engine.weights.quant import SCHEME_NAMES, find_scheme


def _config(plan: Plan) -> ServingConfig:
    if plan.mode != "serving":
        raise PlanError("mode", plan.mode, "serving")
    return plan.serving or ServingConfig()


def longest_context(plan: Plan) -> int:
    cfg = _config(plan)
    return max_context_tokens(Evaluator(plan, cfg), cfg.batch)


def most_sequences(plan: Plan) -> int:
    cfg = _config(plan)
    return max_batch(Evaluator(plan, cfg), cfg.context)


@dataclass(frozen=True, slots=True)
class QuantOption:
    quant: str
    bits_per_weight: float
    weight_bytes: int
    fits: bool
    worst_total_bytes: int  # the fullest card's total
    worst_headroom_bytes: int
    supported: bool = True  # every card of the plan can run it (engine.serving.support)
    note: str = ""  # why not, or how it runs


def runtime_schemes(runtime: str) -> tuple[str, ...]:
    """Formats a runtime loads: GGUF types for llama.cpp, the Hugging Face ones otherwise."""
    family = ("float", "gguf") if runtime == "llamacpp" else ("float", "hf")
    return tuple(n for n in SCHEME_NAMES if find_scheme(n).family in family)


def quant_options(plan: Plan, names: tuple[str, ...] | None = None) -> list[QuantOption]:
    """Every format in ``names`` (default: those the runtime loads) applied to the plan, largest weights first."""
    cfg = _config(plan)
    gpus = [g for g in (catalog_gpu(name) for name in dict.fromkeys(c.gpu for c in plan.layout.cards)) if g]
    out = []
    for name in names or runtime_schemes(cfg.runtime):
        scheme = find_scheme(name, cfg.group_size, cfg.double_quant)
        if scheme.experts is not None and plan.model.moe is None:
            continue  # quantizes routed experts only: for a dense model the 16-bit (or Q8_0) weights again
        support = [format_support(g, scheme, cfg.runtime) for g in gpus]
        refused = next((s for s in support if not s.ok), None)
        caveat = next((s.note for s in support if s.note), "")
        variant = plan.model_copy(update={"serving": cfg.model_copy(update={"quant": scheme.name})})
        est = serving_estimate(variant)
        worst, summary = est.worst_card, est.serving
        if worst is None or summary is None:
            continue  # a serving estimate always has cards and a summary
        out.append(QuantOption(scheme.name, scheme.bits_per_weight, summary.weight_bytes, est.fits,
                               worst.total_bytes, worst.headroom_bytes, refused is None,
                               refused.note if refused else caveat))
    return sorted(out, key=lambda o: (-o.weight_bytes, o.quant))


def best_quant(plan: Plan, names: tuple[str, ...] | None = None) -> QuantOption | None:
    """The least aggressive format (largest weights) that fits and the cards can run; None when none does."""
    return next((o for o in quant_options(plan, names) if o.fits and o.supported), None)


@dataclass(frozen=True, slots=True)
class GpuOption:
    gpu: GpuSpec
    cards: int
    fits: bool
    total_bytes: int  # the fullest card's total
    headroom_bytes: int


def _layout_of(gpu: GpuSpec, cards: int, runtime: str) -> Layout:
    if runtime == "llamacpp":
        return build_grid(pp=cards, gpu=gpu.name, capacity_bytes=gpu.memory_bytes)
    return build_grid(tp=cards, gpu=gpu.name, capacity_bytes=gpu.memory_bytes)


def gpu_options(plan: Plan, cards: int = 1, gpus: tuple[GpuSpec, ...] | None = None) -> list[GpuOption]:
    """The plan on ``cards`` identical cards of each catalog GPU (TP, or a layer split for llama.cpp)."""
    cfg = _config(plan)
    out = []
    for gpu in gpus if gpus is not None else gpu_catalog():
        variant = plan.model_copy(update={"layout": _layout_of(gpu, cards, cfg.runtime),
                                          "serving": cfg.model_copy(update={"tensor_split": None})})
        try:
            est = serving_estimate(variant)
        except PlanError:
            continue  # e.g. TP size not a divisor of the heads
        worst = est.worst_card
        if worst is None:
            continue
        out.append(GpuOption(gpu, cards, est.fits, worst.total_bytes, worst.headroom_bytes))
    return out


def cheapest_gpu(plan: Plan, cards: int = 1, gpus: tuple[GpuSpec, ...] | None = None) -> GpuOption | None:
    """The cheapest fitting card: priced cards by price, then unpriced ones by memory size."""
    fitting = [o for o in gpu_options(plan, cards, gpus) if o.fits]
    inf = float("inf")
    fitting.sort(key=lambda o: (o.gpu.price_usd_per_hour is None, o.gpu.price_usd_per_hour or inf,
                                o.gpu.memory_bytes, o.gpu.name))
    return fitting[0] if fitting else None


@dataclass(frozen=True, slots=True)
class CpuMoeOption:
    layers: int  # --n-cpu-moe N (0: every expert on the cards)
    total_bytes: int  # the fullest card's total
    headroom_bytes: int
    host_bytes: int  # system RAM for what stays there


def _with_cpu_moe(plan: Plan, cfg: ServingConfig, layers: int) -> Plan:
    return plan.model_copy(update={"serving": cfg.model_copy(update={"cpu_moe_layers": layers or None})})


def fewest_cpu_moe_layers(plan: Plan) -> CpuMoeOption | None:
    """The fewest layers whose routed experts llama.cpp must keep in system RAM for the plan to fit; None when the
    runtime is not llama.cpp, the model has no routed experts, or it does not fit even with every layer's there.

    From one layer on, each further layer moves a whole layer of experts off the cards while what the first card
    stages from RAM (:mod:`engine.serving.llamacpp_offload`: the largest expert stack) stays the same, so the cards'
    totals only fall and a bisection over 1 .. layers finds the answer in a handful of estimates."""
    cfg = _config(plan)
    if cfg.runtime != "llamacpp" or plan.model.moe is None:
        return None

    def estimate(layers: int):
        est = serving_estimate(_with_cpu_moe(plan, cfg, layers))
        return est if est.worst_card is not None and est.serving is not None else None

    def option(layers: int, est) -> CpuMoeOption:
        return CpuMoeOption(layers, est.worst_card.total_bytes, est.worst_card.headroom_bytes, est.serving.host_bytes)

    first = estimate(0)
    if first is not None and first.fits:
        return option(0, first)
    low, high = 1, plan.model.layers
    best = estimate(high)
    if best is None or not best.fits:
        return None
    best_layers = high
    while low < high:
        middle = (low + high) // 2
        est = estimate(middle)
        if est is not None and est.fits:
            high, best, best_layers = middle, est, middle
        else:
            low = middle + 1
    return option(best_layers, best)

"""What one value of a swept knob gives: a :class:`SweepPoint`, exactly as ``engine.estimate`` reports it.

Probes by workload (each built once per sweep, called once per value):

* training seq / micro-batch (:class:`TrainingProbe`): the planner's closed form per distinct card
  context, checked against the engine's ``card_breakdown``;
* serving context / batch (:class:`ServingProbe`): the serving estimator's
  :class:`~engine.serving.estimate.Evaluator` (card results without the answer searches);
* fine-tuning (:class:`FinetuneProbe`) and layout sizes (:func:`layout_candidates`): ``estimate`` of the
  plan :func:`engine.compare.sweep.plan_with_knob` builds for the value.

Derived settings are memoised by (object, field, value) (:func:`variant`): the engine's memos key on
the identity of the settings objects, so a repeated sweep of an unchanged plan hits them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache

from pydantic import BaseModel, ValidationError

from engine.compare.compare import FrozenRecord
from engine.errors import PlanError
from engine.estimate import estimate
from engine.plan.schema import Plan, plan_error_from_validation, with_changes


class SweepPoint(FrozenRecord):
    value: int
    peak_bytes: int  # the heaviest card's total
    peak_card: int
    peak_stage: int  # 0-based
    headroom_bytes: int  # the least headroom of any card (the binding card's)
    binding_card: int
    binding_stage: int
    fits: bool


class ExcludedValue(FrozenRecord):
    value: int
    reason: str


def section_config(plan: Plan, section: str):
    if section == "serving":
        from engine.serving.config import ServingConfig

        return plan.serving or ServingConfig()
    if section == "finetune":
        from engine.finetune.config import FinetuneConfig

        return plan.finetune or FinetuneConfig()
    return plan.training


# --- memoised derived settings -------------------------------------------------------------------
_VARIANTS: OrderedDict[tuple[int, str, int], tuple[BaseModel, BaseModel]] = OrderedDict()
_VARIANTS_MAX = 8192
_LOCK = threading.Lock()


def variant(config: BaseModel, attr: str, value: int) -> BaseModel:
    """``config`` with ``attr = value``, the same object for the same (config, attr, value): the
    engine's memos key on the identity of the settings objects.  The cache keeps ``config`` alive,
    so its id is not reused while the entry exists.  Values are range-checked by the caller."""
    key = (id(config), attr, value)
    with _LOCK:
        hit = _VARIANTS.get(key)
        if hit is not None and hit[0] is config:
            _VARIANTS.move_to_end(key)
            return hit[1]
    new = config.model_copy(update={attr: value})
    with _LOCK:
        _VARIANTS[key] = (config, new)
        while len(_VARIANTS) > _VARIANTS_MAX:
            _VARIANTS.popitem(last=False)
    return new


def clear_memo() -> None:
    """Forget the memoised settings and closed-form totals (the engine's own caches are separate)."""
    with _LOCK:
        _VARIANTS.clear()
    _rest.cache_clear()
    _seed_rest.cache_clear()


# --- probes: one value -> one point, exactly as estimate() ----------------------------------------
def _point(value: int, cards: Iterable[tuple[int, int, int, int]]) -> SweepPoint:
    """``cards``: (total, capacity, card index, stage) of every card or distinct card context."""
    rows = list(cards)
    heavy = max(rows, key=lambda r: (r[0], -r[2]))
    binding = min(rows, key=lambda r: (r[1] - r[0], r[2]))
    return SweepPoint(value=value, peak_bytes=heavy[0], peak_card=heavy[2], peak_stage=heavy[3],
                      headroom_bytes=binding[1] - binding[0], binding_card=binding[2], binding_stage=binding[3],
                      fits=all(r[0] <= r[1] for r in rows))


def estimate_point(value: int, plan: Plan) -> SweepPoint:
    est = estimate(plan)
    return _point(value, ((c.total_bytes, c.capacity_bytes, c.index, c.stage) for c in est.cards))


@lru_cache(maxsize=16384)  # keyed like card_breakdown (CardContext: settings by identity); bounded
def _rest(ctx) -> int:
    from engine.planner.activations import rest_bytes_fast

    return rest_bytes_fast(ctx)


@lru_cache(maxsize=16384)
def _seed_rest(ctx) -> int:
    from engine.planner.activations import seed_rest_bytes_fast

    return seed_rest_bytes_fast(ctx)


class TrainingProbe:
    """Training seq / micro-batch: ``training_estimate``'s loop over distinct card contexts.

    Each context's total is the planner's closed form (:mod:`engine.planner.activations`,
    :class:`engine.planner.memory.MemoryModel`): the static states (weights, gradients, optimizer
    states, communication buffers: they do not depend on seq or micro-batch) taken from the engine's
    ``card_breakdown`` once, plus the backward peak on top of them, plus the runtime overhead.  It
    is checked against ``card_breakdown`` at the first value each context meets (the smallest the
    sweep evaluates); where they differ the engine is used for that context.  The check holds for
    every larger value: the closed form is the step's backward moment, which only grows with seq
    and micro-batch, while the moments it can miss (the optimizer step, a flattened all-reduce) do
    not depend on them.  The Hugging Face profile always uses the engine.
    """

    def __init__(self, plan: Plan, attr: str) -> None:
        from engine.planner.memory import MemoryModel
        from engine.training.checks import check_layout
        from engine.training.memory.schedule import stage_layer_indices

        self.plan, self.attr = plan, attr
        layout = plan.layout
        self.topo = check_layout(layout, plan.model, plan.training, plan.method)
        self.layers = stage_layer_indices(plan.model.layers, self.topo.stages, layout.pp_layers, layout.vpp)
        groups: dict[tuple, list[int]] = {}
        for i, key in enumerate(self.topo.keys):
            groups.setdefault(key, []).append(i)
        self.caps = [c.capacity_bytes for c in layout.cards]
        # per distinct context: its key, its first card and its smallest card (the binding one)
        self.entries = [(key, members[0], min(members, key=lambda i: (self.caps[i], i)))
                        for key, members in groups.items()]
        self.seed = plan.method.method == "seed"
        self.fast = self.seed or plan.method.framework != "huggingface"
        self.memory = MemoryModel(plan.model, plan.training, plan.method)
        self.static: dict[tuple, int | None] = {}  # key -> static bytes, None where the fast path disagreed

    def _total(self, key: tuple, ctx) -> int:
        from engine.training.estimate import card_breakdown

        if not self.fast:
            return card_breakdown(ctx).total_bytes
        rest = _seed_rest if self.seed else _rest
        if key not in self.static:
            bd = card_breakdown(ctx)
            static = bd.weights.bytes + bd.gradients.bytes + bd.optimizer_states.bytes + bd.communication.bytes
            agrees = self.memory.with_overhead(static + rest(ctx), ctx.world) == bd.total_bytes
            self.static[key] = static if agrees else None
            return bd.total_bytes
        known = self.static[key]
        if known is None:
            return card_breakdown(ctx).total_bytes
        return self.memory.with_overhead(known + rest(ctx), ctx.world)

    def __call__(self, value: int) -> SweepPoint:
        from engine.training.checks import microbatches_per_step
        from engine.training.memory.context import CardContext
        from engine.training.memory.schedule import in_flight_chunks

        plan, topo = self.plan, self.topo
        tr = variant(plan.training, self.attr, value)
        stages, vpp = topo.stages, plan.layout.vpp
        m = microbatches_per_step(tr, topo.dp_for_batch, stages, vpp)  # type: ignore[arg-type]
        world = len(plan.layout.cards)
        rows = []
        for key, first, smallest in self.entries:
            stage = key[0]
            ctx = CardContext(model=plan.model, training=tr, method=plan.method, stage=stage,  # type: ignore[arg-type]
                              stages=stages, vpp=vpp, layer_indices=self.layers[stage], tp=key[1], dp=key[2],
                              cp=key[3], ep=key[4], in_flight_chunks=in_flight_chunks(stage, stages, m, vpp),
                              world=world)
            total = self._total(key, ctx)
            rows.append((total, self.caps[first], first, stage))
            if smallest != first:
                rows.append((total, self.caps[smallest], smallest, stage))
        return _point(value, rows)


class ServingProbe:
    """Serving context / batch: the serving estimator's card results at (context, batch)."""

    def __init__(self, plan: Plan, attr: str) -> None:
        from engine.serving.estimate import Evaluator

        self.plan, self.attr = plan, attr
        self.cfg = section_config(plan, "serving")
        # vLLM V0 sizes its profiling pass from the context when max_model_len is not given
        self.per_value = attr == "context" and self.cfg.runtime == "vllm" and self.cfg.vllm_engine == "v0" \
            and self.cfg.max_model_len is None
        self.ev = Evaluator(plan, self.cfg)
        self.slots = plan.layout.topology.slots

    def __call__(self, value: int) -> SweepPoint:
        from engine.serving.estimate import Evaluator

        cfg = variant(self.cfg, self.attr, value)
        ev = Evaluator(self.plan, cfg) if self.per_value else self.ev  # type: ignore[arg-type]
        results = ev.results(cfg.context, cfg.batch)  # type: ignore[attr-defined]
        return _point(value, ((results[(s.stage, s.tp_size, s.capacity_bytes)].breakdown.total_bytes,
                               s.capacity_bytes, s.index, s.stage) for s in self.slots))


class FinetuneProbe:
    """Fine-tuning: ``estimate`` of the plan at each value (``apply``: value -> that plan)."""

    def __init__(self, apply: Callable[[int], Plan]) -> None:
        self.apply = apply

    def __call__(self, value: int) -> SweepPoint:
        return estimate_point(value, self.apply(value))


def with_value(plan: Plan, section: str, attr: str, value: int) -> Plan:
    """``plan`` with ``section.attr = value`` (a serving or fine-tuning plan without that section gets its
    defaults), checked like an edit: a value the section or the plan refuses raises a PlanError naming
    the field.  The section is the memoised :func:`variant`, so the engine's caches see the same object
    for the same value."""
    config = section_config(plan, section)
    try:  # the validators of the section (model_copy runs none)
        type(config).model_validate({**{name: getattr(config, name) for name in type(config).model_fields},
                                     attr: value})
    except ValidationError as e:
        raise plan_error_from_validation(e, section) from None
    return with_changes(plan, **{section: variant(config, attr, value)})


def layout_candidates(plan: Plan, knob: str, start: int, stop: int) -> tuple[list[int], Callable[[int], Plan]]:
    """(``tp`` or ``pp`` sizes worth trying in [start, stop]: divisors of the heads / layers, size -> the
    plan on that uniform grid, the other sizes kept; an uneven pp_layers split is dropped)."""
    from engine.export.grid import grid_shape

    try:
        shape = grid_shape(plan)
    except PlanError as e:
        raise PlanError("--knob", knob, f"a uniform TP × CP × DP × PP layout to sweep {knob} "
                                        f"({e.field}: {e.allowed})") from None
    model = plan.model
    if knob == "tp":
        values = [v for v in range(start, min(stop, model.heads) + 1) if model.heads % v == 0]
    else:
        values = [v for v in range(start, min(stop, model.layers) + 1) if model.layers % (v * shape.vpp) == 0]

    def build(v: int) -> Plan:
        changed = {"tp": v} if knob == "tp" else {"pp": v, "pp_layers": None}
        return with_changes(plan, layout=dataclasses.replace(shape, **changed).layout())  # type: ignore[arg-type]

    return values, build


def microbatch_domain(plan: Plan, start: int, stop: int) -> list[int] | None:
    """Micro-batch sizes a global batch allows (None: any)."""
    from engine.training.checks import microbatches_per_step

    tr = plan.training
    if plan.mode != "training" or tr.global_batch is None:
        return None
    topo = plan.layout.topology
    out = []
    for v in range(start, min(stop, tr.global_batch) + 1):
        if tr.global_batch % v:
            continue
        try:
            microbatches_per_step(variant(tr, "micro_batch", v), topo.dp_for_batch, topo.stages,  # type: ignore[arg-type]
                                  plan.layout.vpp)
        except PlanError:
            continue
        out.append(v)
    return out

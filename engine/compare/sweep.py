"""One knob swept over a range: the heaviest card's peak per value and the largest value that fits (issue 14).

``sweep(plan, knob, start, stop, points, scale) -> Sweep``.  Knobs by workload:

* training: ``seq``, ``micro-batch``, ``tp``, ``pp``;
* fine-tuning: ``seq``, ``micro-batch``, ``lora-rank`` (LoRA / QLoRA), ``tp``, ``pp``;
* serving: ``context``, ``batch`` (concurrent sequences), ``tp``, ``pp``.

Values are a geometric or linear series of integers from ``start`` to ``stop`` (at most ``points``,
duplicates from rounding dropped), or, where only some values are allowed (``tp`` and ``pp``:
sizes that divide the heads / layers, on the plan's uniform grid; ``micro-batch`` under a global
batch: divisors of it), those values; PP sizes up to ``engine.limits.MAX_PP``.  Each point is exactly
what ``engine.estimate`` reports for the plan with that one value changed (:func:`plan_with_knob`, the
plan the GUI applies when a point is clicked): training points go through the engine's memoised
``card_breakdown`` once per distinct card context, serving points through the serving estimator's
own :class:`~engine.serving.estimate.Evaluator` (no answer searches), the rest through ``estimate``.
Derived settings are memoised by (object, knob, value), so a repeated sweep of an unchanged plan
(the GUI's redraw) hits the engine's caches.

The largest fitting value is found by bisection over every integer of the range (or every allowed
value), assuming the peak does not fall as the knob grows (``tp`` and ``pp``: does not rise), and
bracketed by the series' own points; the smallest fitting value likewise.  Where every allowed
value is a point, both are read off the points exactly.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Sequence
from typing import Literal

from engine.compare.compare import FrozenRecord
from engine.compare.probes import (
    ExcludedValue,
    FinetuneProbe,
    ServingProbe,
    SweepPoint,
    TrainingProbe,
    clear_memo,
    estimate_point,
    layout_candidates,
    microbatch_domain,
    section_config,
    with_value,
)
from engine.errors import PlanError
from engine.estimate import estimate
from engine.limits import MAX_BATCH, MAX_CONTEXT, MAX_PARALLEL, MAX_PP, MAX_RANK, MAX_SEQ, check_int
from engine.plan.schema import Plan

__all__ = ["DEFAULT_POINTS", "KNOBS", "MAX_POINTS", "ExcludedValue", "Knob", "KnobRule", "Sweep", "SweepPoint",
           "clear_memo", "knob_rule", "knobs_for", "plan_with_knob", "series", "sweep"]

Knob = Literal["seq", "micro-batch", "context", "batch", "lora-rank", "tp", "pp"]
KNOBS: tuple[Knob, ...] = ("seq", "micro-batch", "context", "batch", "lora-rank", "tp", "pp")
Scale = Literal["geometric", "linear"]
DEFAULT_POINTS = 24
MAX_POINTS = 1000


class Sweep(FrozenRecord):
    plan: str
    mode: str
    knob: Knob
    field: str  # the plan field the knob sets, e.g. "training.seq"
    current: int  # the plan's own value
    start: int
    stop: int
    scale: Literal["geometric", "linear", "allowed values"]
    memory_grows: bool  # the peak rises with the knob (False for tp and pp)
    capacity_bytes: int  # the smallest card's capacity: the capacity line
    points: list[SweepPoint]
    excluded: list[ExcludedValue]  # allowed-value candidates the layout or the workload refuses
    largest_fitting: int | None
    largest_fitting_point: SweepPoint | None
    smallest_fitting: int | None  # what tp and pp sweeps ask: the smallest size that fits
    smallest_fitting_point: SweepPoint | None
    search: str  # how the fitting values were found
    units: Literal["bytes"] = "bytes"


@dataclasses.dataclass(frozen=True, slots=True)
class KnobRule:
    knob: Knob
    section: str  # "training", "finetune", "serving" or "layout"
    attr: str
    limit: int  # the largest value the plan accepts
    memory_grows: bool

    @property
    def field(self) -> str:
        return f"{self.section}.{self.attr}"


_RULES: dict[str, dict[str, KnobRule]] = {
    "training": {"seq": KnobRule("seq", "training", "seq", MAX_SEQ, True),
                 "micro-batch": KnobRule("micro-batch", "training", "micro_batch", MAX_BATCH, True)},
    "finetune": {"seq": KnobRule("seq", "finetune", "seq", MAX_SEQ, True),
                 "micro-batch": KnobRule("micro-batch", "finetune", "micro_batch", MAX_BATCH, True),
                 "lora-rank": KnobRule("lora-rank", "finetune", "rank", MAX_RANK, True)},
    "serving": {"context": KnobRule("context", "serving", "context", MAX_CONTEXT, True),
                "batch": KnobRule("batch", "serving", "batch", MAX_BATCH, True)},
}
_LAYOUT_RULES = {"tp": KnobRule("tp", "layout", "tp", MAX_PARALLEL, False),
                 "pp": KnobRule("pp", "layout", "pp", MAX_PP, False)}


def knobs_for(plan: Plan) -> tuple[Knob, ...]:
    """The knobs a plan of this workload can sweep (the GUI's choice list)."""
    names = [*_RULES[plan.mode], "tp", "pp"]
    if plan.mode == "finetune" and section_config(plan, "finetune").method == "full":
        names.remove("lora-rank")
    return tuple(k for k in KNOBS if k in names)


def knob_rule(plan: Plan, knob: str) -> KnobRule:
    allowed = knobs_for(plan)
    if knob not in allowed:
        raise PlanError("--knob", knob, f"one of {', '.join(allowed)} for a {plan.mode} plan")
    return _LAYOUT_RULES.get(knob) or _RULES[plan.mode][knob]


# --- values ----------------------------------------------------------------------------------------
def series(start: int, stop: int, points: int, scale: Scale) -> list[int]:
    """At most ``points`` integers from ``start`` to ``stop`` (both included), evenly spaced on a
    linear or geometric scale."""
    if stop - start + 1 <= points:
        return list(range(start, stop + 1))
    steps = points - 1
    if scale == "linear":
        values = {start + round((stop - start) * i / steps) for i in range(points)}
    else:
        ratio = stop / start
        values = {min(stop, max(start, round(start * ratio ** (i / steps)))) for i in range(points)}
    return sorted(values | {start, stop})


def _pick(domain: Sequence[int], points: int) -> list[int]:
    if len(domain) <= points:
        return list(domain)
    return sorted({domain[round(i * (len(domain) - 1) / (points - 1))] for i in range(points)})


def _check_range(rule: KnobRule, start: int, stop: int, points: int, scale: str) -> None:
    for name, value in (("--from", start), ("--to", stop)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= rule.limit:
            raise PlanError(name, value, f"an integer from 1 to {rule.limit:,} ({rule.field})")
    if stop < start:
        raise PlanError("--to", stop, f"at least --from={start:,}")
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= MAX_POINTS:
        raise PlanError("--points", points, f"an integer from 2 to {MAX_POINTS:,}")
    if scale not in ("geometric", "linear"):
        raise PlanError("--scale", scale, "geometric or linear")


# --- the sweep -------------------------------------------------------------------------------------
def _current(plan: Plan, rule: KnobRule) -> int:
    if rule.section == "layout":
        topo = plan.layout.topology
        return topo.stages if rule.knob == "pp" else max(topo.tp_size)
    return getattr(section_config(plan, rule.section), rule.attr)


def _default_range(rule: KnobRule, current: int, plan: Plan) -> tuple[int, int]:
    if rule.section == "layout":
        return 1, min(rule.limit, plan.model.heads if rule.knob == "tp" else plan.model.layers)
    return max(1, current // 8), min(rule.limit, current * 8)


def plan_with_knob(plan: Plan, knob: str, value: int) -> Plan:
    """The plan a sweep point stands for: ``plan`` with ``knob`` at ``value`` (``estimate`` of it is the
    point).  A workload knob sets its field (a serving or fine-tuning plan without its section gets the
    defaults the sweep used); ``tp`` and ``pp`` rebuild the uniform grid with that size, the other sizes
    kept and an uneven layer split dropped.  A value the plan refuses raises a PlanError naming the field.
    The sweep evaluates fine-tuning and layout points on this plan, and the GUI applies a clicked point
    with it."""
    rule = knob_rule(plan, knob)
    check_int(rule.field, value, 1, rule.limit)
    if rule.section != "layout":
        return with_value(plan, rule.section, rule.attr, value)
    sizes, build = layout_candidates(plan, rule.knob, value, value)
    if value not in sizes:
        what = f"heads={plan.model.heads}" if rule.knob == "tp" else f"layers={plan.model.layers}"
        if rule.knob == "pp" and plan.layout.vpp > 1:
            what += f" with {plan.layout.vpp} interleaved chunks per stage"
        raise PlanError(rule.field, value, f"a {rule.knob.upper()} size that divides {what}")
    return build(value)


def _index_in(domain: Sequence[int], value: int) -> int:
    if isinstance(domain, range):
        return value - domain.start
    return bisect.bisect_left(domain, value)


def _edge(domain: Sequence[int], fits: Callable[[int], bool], known: dict[int, bool], grows: bool) -> int | None:
    """The last fitting value (``grows``: fits is non-increasing along ``domain``) or the first
    (not ``grows``: non-decreasing), by bisection bracketed by the ``known`` verdicts."""
    n = len(domain)
    ok_i, bad_i = (-1, n) if grows else (n, -1)
    for value, ok in known.items():
        i = _index_in(domain, value)
        if grows:
            ok_i, bad_i = (max(ok_i, i), bad_i) if ok else (ok_i, min(bad_i, i))
        else:
            ok_i, bad_i = (min(ok_i, i), bad_i) if ok else (ok_i, max(bad_i, i))
    if grows and bad_i <= ok_i:  # not monotone after all: search above the last fitting point
        bad_i = n
    if not grows and bad_i >= ok_i:
        bad_i = -1
    while abs(ok_i - bad_i) > 1:
        mid = (ok_i + bad_i) // 2
        if fits(domain[mid]):
            ok_i = mid
        else:
            bad_i = mid
    return domain[ok_i] if 0 <= ok_i < n else None


class _Points:
    """Points by value, each computed once (the series, then the bisection's extra values)."""

    def __init__(self, probe: Callable[[int], SweepPoint]) -> None:
        self.probe, self.memo = probe, dict[int, SweepPoint]()

    def __call__(self, value: int) -> SweepPoint:
        hit = self.memo.get(value)
        if hit is None:
            hit = self.memo[value] = self.probe(value)
        return hit

    def fits(self, value: int) -> bool:
        return self(value).fits


def _domain(plan: Plan, rule: KnobRule, start: int, stop: int) -> tuple[Sequence[int], _Points, list[ExcludedValue]]:
    """(the values the knob may take in [start, stop], their points, the sizes the layout refuses)."""
    if rule.section == "serving" and rule.attr == "context":
        limit = section_config(plan, "serving").max_model_len
        if limit is not None and stop > limit:
            raise PlanError("--to", stop, f"at most serving.max_model_len={limit:,}")
    estimate(plan)  # the plan itself must be valid: its error names the plan's field, not a point's
    excluded: list[ExcludedValue] = []
    if rule.section == "layout":
        candidates, _build = layout_candidates(plan, rule.knob, start, stop)
        evaluated: dict[int, SweepPoint] = {}
        for v in candidates:  # a few divisors: each one's whole estimate, refused sizes listed with the reason
            try:
                evaluated[v] = estimate_point(v, plan_with_knob(plan, rule.knob, v))
            except PlanError as e:
                excluded.append(ExcludedValue(value=v, reason=str(e)))
        domain: Sequence[int] = list(evaluated)
        points = _Points(evaluated.__getitem__)
    else:
        allowed = microbatch_domain(plan, start, stop) if rule.knob == "micro-batch" else None
        domain = range(start, stop + 1) if allowed is None else allowed
        probe: Callable[[int], SweepPoint]
        if plan.mode == "finetune":
            probe = FinetuneProbe(lambda v: plan_with_knob(plan, rule.knob, v))
        else:
            probe = (TrainingProbe if plan.mode == "training" else ServingProbe)(plan, rule.attr)
        points = _Points(probe)
    if not domain:
        why = f"; {excluded[0].reason}" if excluded else ""
        raise PlanError("--from", start, f"a range holding at least one allowed {rule.knob} value "
                                         f"(none from {start:,} to {stop:,}{why})")
    return domain, points, excluded


def _fitting(domain: Sequence[int], rows: list[SweepPoint], points: _Points,
             rule: KnobRule) -> tuple[int | None, int | None, str]:
    """(largest fitting value, smallest fitting value, how they were found)."""
    if len(rows) == len(domain):  # every allowed value is a point: read the answers off them
        fitting = [p.value for p in rows if p.fits]
        if not fitting:
            return None, None, f"every allowed value evaluated ({len(rows)})"
        return max(fitting), min(fitting), f"every allowed value evaluated ({len(rows)})"
    before = len(points.memo)
    edge = _edge(domain, points.fits, {p.value: p.fits for p in rows}, rule.memory_grows)
    if rule.memory_grows:
        largest, smallest = edge, (domain[0] if points.fits(domain[0]) else None)
    else:
        smallest, largest = edge, (domain[-1] if points.fits(domain[-1]) else None)
    what = "integers" if isinstance(domain, range) else "allowed values"
    how = (f"bisection over the {what} {domain[0]:,}..{domain[-1]:,} (peak "
           f"{'non-decreasing' if rule.memory_grows else 'non-increasing'} in {rule.knob}), "
           f"bracketed by the {len(rows)} points: {len(points.memo) - before} more evaluations")
    return largest, smallest, how


def sweep(plan: Plan, knob: str, start: int | None = None, stop: int | None = None, points: int = DEFAULT_POINTS,
          scale: str = "geometric") -> Sweep:
    """The heaviest card's peak for each value of ``knob`` from ``start`` to ``stop`` (defaults:
    the current value / 8 to x 8; TP and PP: 1 to the heads / layers)."""
    rule = knob_rule(plan, knob)
    current = _current(plan, rule)
    lo, hi = _default_range(rule, current, plan)
    start, stop = (lo if start is None else start), (hi if stop is None else stop)
    _check_range(rule, start, stop, points, scale)
    domain, point, excluded = _domain(plan, rule, start, stop)
    listed = not isinstance(domain, range)
    values = _pick(domain, points) if listed else series(start, stop, points, scale)  # type: ignore[arg-type]
    rows = [point(v) for v in values]
    largest, smallest, how = _fitting(domain, rows, point, rule)
    return Sweep(plan=plan.name, mode=plan.mode, knob=rule.knob, field=rule.field, current=current, start=start,
                 stop=stop, scale="allowed values" if listed else scale, memory_grows=rule.memory_grows,  # type: ignore[arg-type]
                 capacity_bytes=min(c.capacity_bytes for c in plan.layout.cards), points=rows, excluded=excluded,
                 largest_fitting=largest, largest_fitting_point=None if largest is None else point(largest),
                 smallest_fitting=smallest, smallest_fitting_point=None if smallest is None else point(smallest),
                 search=how)

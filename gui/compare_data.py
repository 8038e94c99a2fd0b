"""Qt-free data for the compare dock and the PDF's alternatives: a comparison's figures in the display unit.

The engine computes every byte count and step time (``engine.compare.compare_plans``); this module
formats them once, picks which stage's categories to draw and states relative changes
(``B / A - 1``) so no widget does arithmetic.  A is the baseline, B the plan compared with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.compare import (
    PlanComparison,
    StageSide,
    StepCost,
    compare_plans,
    expert_load_comparison,
)
from engine.errors import PlanError
from engine.plan.schema import Plan
from engine.units import Unit, to_unit

SAME_SPEED = 0.005  # relative changes of training time below 0.5 % read as "the same speed"


@dataclass(frozen=True)
class StageRow:
    """One row of the compare table, formatted (stages counted from 1; "all" for the whole plan)."""

    stage: str
    peak_a: str
    peak_b: str
    delta: str
    headroom_a: str
    headroom_b: str
    fits_a: bool | None  # None: that plan has no such stage
    fits_b: bool | None
    delta_sign: int  # +1: B needs more memory, -1: less, 0: the same (or a side is missing)
    card_a: int | None  # the heaviest card of the stage (its index in the plan)
    card_b: int | None


@dataclass(frozen=True)
class CategoryBars:
    """The categories that differ on one stage's heaviest cards, in the display unit (delta = B - A)."""

    stage: int  # 0-based
    keys: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    deltas: np.ndarray
    delta_texts: tuple[str, ...]  # signed, in the display unit
    x0: np.ndarray  # where each diverging bar starts (min(0, delta))
    widths: np.ndarray  # |delta|
    x_range: tuple[float, float]  # both sides of zero, with a margin


def number(n: int, unit: Unit) -> str:
    """Bytes in the display unit without the unit (the table's header names it); a true minus sign."""
    text = f"{to_unit(n, unit):,.2f}"
    return text.replace("-", "−")


def signed(n: int, unit: Unit) -> str:
    return ("+" if n > 0 else "±" if n == 0 else "") + number(n, unit)


def _side(s: StageSide | None, unit: Unit) -> tuple[str, str, bool | None, int | None]:
    if s is None:
        return "–", "–", None, None
    return number(s.peak_bytes, unit), number(s.headroom_bytes, unit), s.fits, s.peak_card


def _sign(n: int | None) -> int:
    return 0 if not n else (1 if n > 0 else -1)


def stage_rows(c: PlanComparison, unit: Unit | str) -> list[StageRow]:
    """One row per pipeline stage (aligned by index), then the whole plan ("all")."""
    u = Unit(unit)
    rows = []
    for r in c.stages:
        pa, ha, fa, ca = _side(r.a, u)
        pb, hb, fb, cb = _side(r.b, u)
        rows.append(StageRow(str(r.stage + 1), pa, pb, "–" if r.delta_bytes is None else signed(r.delta_bytes, u),
                             ha, hb, fa, fb, _sign(r.delta_bytes), ca, cb))
    a, b = c.a, c.b
    rows.append(StageRow("all", number(a.peak_bytes, u), number(b.peak_bytes, u),
                         signed(c.peak_delta_bytes, u), number(a.headroom_bytes, u), number(b.headroom_bytes, u),
                         a.fits, b.fits, _sign(c.peak_delta_bytes), a.peak_card, b.peak_card))
    return rows


def default_stage(c: PlanComparison) -> int | None:
    """The stage whose categories to draw first: B's heaviest stage when its categories differ, else the
    stage that changed most, else None (no category differs anywhere)."""
    changed = [r for r in c.stages if r.categories]
    if not changed:
        return None
    for r in changed:
        if r.stage == c.b.peak_stage:
            return r.stage
    return max(changed, key=lambda r: abs(r.delta_bytes or 0)).stage


def category_bars(c: PlanComparison, stage: int, unit: Unit | str) -> CategoryBars | None:
    """The differing categories of ``stage`` (0-based), or None when the stage has none (or no such stage)."""
    row = next((r for r in c.stages if r.stage == stage), None)
    if row is None or not row.categories:
        return None
    u = Unit(unit)
    cats = row.categories
    deltas = np.array([to_unit(d.delta_bytes, u) for d in cats])
    span = float(np.abs(deltas).max()) or 1.0
    return CategoryBars(
        stage=stage, keys=tuple(d.key for d in cats),
        a=np.array([to_unit(d.a_bytes, u) for d in cats]), b=np.array([to_unit(d.b_bytes, u) for d in cats]),
        deltas=deltas, delta_texts=tuple(signed(d.delta_bytes, u) for d in cats),
        x0=np.minimum(deltas, 0.0), widths=np.abs(deltas),
        x_range=(min(0.0, float(deltas.min())) - span * 0.05, max(0.0, float(deltas.max())) + span * 0.05))


# --- step time and cost -------------------------------------------------------------------------
def relative_change(a: float, b: float) -> float:
    """``b / a - 1``: +0.18 means B is 18 % more than A."""
    return b / a - 1.0


def time_change(a: StepCost, b: StepCost) -> float:
    """Relative change of the time to train the same tokens (+0.18: B is 18 % slower).  Training time, not
    step time: a plan with another micro-batch or card count processes a different number of tokens per step."""
    return relative_change(a.days_to_train, b.days_to_train)


def percent(change: float) -> str:
    """``0.184`` -> ``"18 %"`` (magnitude only; the words say which way)."""
    value = abs(change) * 100
    return f"{value:.0f} %" if value >= 10 else f"{value:.1f} %"


@dataclass(frozen=True)
class StepFigures:
    """One side's step time and cost, formatted (None where the planner's model does not apply)."""

    step: str
    tokens_per_s_per_gpu: str
    days: str
    cost: str


def step_figures(s: StepCost | None) -> StepFigures | None:
    if s is None:
        return None
    cost = f"{s.cost:,.0f} USD" if s.cost_unit == "USD" else f"{s.cost:,.0f} GPU-h"
    return StepFigures(step=f"{s.step_s:.2f} s", tokens_per_s_per_gpu=f"{s.tokens_per_s_per_gpu:,.0f}",
                       days=f"{s.days_to_train:,.1f}", cost=cost)


# --- the engine calls (the document makes them after each estimate) -----------------------------
def run_comparison(a: Plan, b: Plan, **kwargs) -> tuple[PlanComparison | None, PlanError | None]:
    """``engine.compare.compare_plans(a, b, **kwargs)``: A is the baseline, B the plan compared with it."""
    try:
        return compare_plans(a, b, **kwargs), None
    except PlanError as e:
        return None, e


def run_expert_load(plan: Plan) -> tuple[PlanComparison | None, PlanError | None]:
    """A MoE plan's average expert-parallel rank (A) against its busiest (B)."""
    try:
        return expert_load_comparison(plan), None
    except PlanError as e:
        return None, e

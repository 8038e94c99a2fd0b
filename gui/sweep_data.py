"""Qt-free data for the sweep dock and the PDF's sweep plot: a :class:`engine.compare.Sweep` in plot coordinates.

The engine computes every point and the fitting values (``engine.compare.sweep``); this module scales
the peaks to the display unit, puts the knob's values on a log axis for geometric series, picks the
value to mark (the largest that fits, or for TP and PP sizes the smallest).  The plan a clicked point
stands for is the engine's (``engine.compare.sweep.plan_with_knob``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.compare import Sweep, SweepPoint, sweep
from engine.compare.sweep import knob_rule
from engine.errors import PlanError
from engine.plan.schema import Plan
from engine.units import Unit, to_unit

MAX_TICKS = 9
MAX_LISTED_TICKS = 14


@dataclass(frozen=True)
class SweepCurve:
    values: np.ndarray  # the knob's values (ints)
    x: np.ndarray  # plot x: the values, or their log10 on a log axis
    peaks: np.ndarray  # the heaviest card's peak per value, display unit
    fits: np.ndarray  # bool per value
    capacity: float  # the capacity line, display unit
    log_x: bool
    ticks: list[tuple[float, str]]  # x-axis ticks (plot x, label); empty: the plot's own
    x_range: tuple[float, float]
    y_top: float
    current_x: float | None  # the plan's own value, when inside the range
    marker: int | None  # the value marked: the largest that fits, or (TP, PP) the smallest
    marker_x: float | None
    marker_point: SweepPoint | None
    marker_is_largest: bool


def short_value(v: int) -> str:
    """``65536`` -> ``"64K"`` for powers of two from 1,024 (sequence lengths); else ``"1,000"``."""
    if v >= 1024 and v % 1024 == 0 and (v & (v - 1)) == 0:
        return f"{v // 1024}K"
    return f"{v:,}"


def _ticks(values: np.ndarray, start: int, stop: int, log_x: bool, listed: bool) -> list[tuple[float, str]]:
    if not log_x:
        return []
    if len(values) <= (MAX_LISTED_TICKS if listed else MAX_TICKS):  # few values (TP, PP sizes): each one
        return [(math.log10(v), short_value(int(v))) for v in values]
    powers = [2**k for k in range(0, 31) if start <= 2**k <= stop]
    step = max(1, math.ceil(len(powers) / MAX_TICKS))
    return [(math.log10(v), short_value(v)) for v in powers[::step]]


def sweep_curve(s: Sweep, unit: Unit | str) -> SweepCurve:
    u = Unit(unit)
    values = np.array([p.value for p in s.points], dtype=np.int64)
    log_x = s.scale != "linear" and s.stop >= 4 * s.start
    to_x = np.log10 if log_x else (lambda v: np.asarray(v, dtype=np.float64))
    x = to_x(values.astype(np.float64))
    peaks = np.array([to_unit(p.peak_bytes, u) for p in s.points])
    capacity = to_unit(s.capacity_bytes, u)
    if s.memory_grows:
        marker, point = s.largest_fitting, s.largest_fitting_point
    else:
        marker, point = s.smallest_fitting, s.smallest_fitting_point
    lo, hi = float(to_x(float(s.start))), float(to_x(float(s.stop)))
    pad = (hi - lo) * 0.03 or 0.5
    top = max(float(peaks.max(initial=0.0)), capacity) * 1.08
    return SweepCurve(
        values=values, x=x, peaks=peaks, fits=np.array([p.fits for p in s.points], dtype=bool), capacity=capacity,
        log_x=log_x, ticks=_ticks(values, s.start, s.stop, log_x, s.scale == "allowed values"), x_range=(lo - pad, hi + pad), y_top=top,
        current_x=float(to_x(float(s.current))) if s.start <= s.current <= s.stop else None, marker=marker,
        marker_x=None if marker is None else float(to_x(float(marker))), marker_point=point,
        marker_is_largest=s.memory_grows)


def knob_limit(plan: Plan, knob: str) -> int:
    """The largest value the plan accepts for ``knob`` (the range boxes' maximum)."""
    return knob_rule(plan, knob).limit


def run_sweep(plan: Plan, knob: str, start: int | None, stop: int | None, points: int) -> Sweep | PlanError:
    """``engine.compare.sweep`` (the sweep dock's worker calls it): the sweep, or why it cannot be made."""
    try:
        return sweep(plan, knob, start, stop, points)
    except PlanError as e:
        return e

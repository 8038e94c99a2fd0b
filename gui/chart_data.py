"""Qt-free data for the chart: an estimate's figures scaled to the display unit.

The engine computes every byte count; this module only stacks the parts the
engine returned (each bar starts where the previous category ends) and scales
bytes to the chosen unit for plotting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.report.records import BREAKDOWN_KEYS, CardEstimate, Estimate
from engine.units import Unit, format_bytes


@dataclass(frozen=True)
class StackedBars:
    x: np.ndarray  # card index
    bottoms: dict[str, np.ndarray]  # per category, in the display unit
    heights: dict[str, np.ndarray]
    totals: np.ndarray
    capacities: np.ndarray
    over: np.ndarray  # bool: card does not fit


def stacked_bars(estimate: Estimate, unit: Unit | str) -> StackedBars:
    cards = estimate.cards
    scale = Unit(unit).bytes
    # Cards share breakdown objects (the engine memoises them): read each distinct one once.
    row_of: dict[int, int] = {}
    distinct: list[list[int]] = []
    rows = np.empty(len(cards), dtype=np.intp)
    for i, c in enumerate(cards):
        row = row_of.get(id(c.breakdown))
        if row is None:
            row = row_of[id(c.breakdown)] = len(distinct)
            distinct.append([f.bytes for f in c.breakdown.parts()] + [c.breakdown.total_bytes])
        rows[i] = row
    table = np.array(distinct, dtype=np.float64).reshape(len(distinct), len(BREAKDOWN_KEYS) + 1)[rows] / scale
    parts, totals = table[:, :-1], table[:, -1]
    tops = np.cumsum(parts, axis=1)
    bottoms = tops - parts
    return StackedBars(
        x=np.arange(len(cards), dtype=np.float64),
        bottoms={k: bottoms[:, i] for i, k in enumerate(BREAKDOWN_KEYS)},
        heights={k: parts[:, i] for i, k in enumerate(BREAKDOWN_KEYS)},
        totals=totals,
        capacities=np.array([c.capacity_bytes for c in cards], dtype=np.float64) / scale,
        over=np.array([not c.fits for c in cards], dtype=bool),
    )


def capacities_of(plan, unit: Unit | str) -> np.ndarray:
    """The plan's card capacities in the display unit (what the chart shows without an estimate)."""
    return np.array([c.capacity_bytes for c in plan.layout.cards], dtype=np.float64) / Unit(unit).bytes


def axis_top(value: float) -> float:
    """A round upper bound a little above ``value`` (so small edits do not rescale the axis)."""
    if value <= 0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(value * 1.08))
    step = step / 2 if value * 1.08 / step < 3 else step
    return math.ceil(value * 1.08 / step) * step


def capacity_segments(capacities: np.ndarray, half_width: float = 0.45) -> tuple[np.ndarray, np.ndarray]:
    """x, y of one horizontal segment per card at its capacity (drawn with connect='pairs')."""
    x = np.arange(len(capacities), dtype=np.float64)
    xs = np.column_stack([x - half_width, x + half_width]).ravel()
    ys = np.repeat(capacities, 2)
    return xs, ys


def display_bytes(n: int, unit: Unit | str) -> str:
    """``format_bytes`` for a bar's label: two decimals, or whole units with thousands separators
    past 10,000 units ("2,199,062 GB", not "2199062.26 GB"), so a label stays about 9 characters."""
    text = format_bytes(n, unit)
    number, _, name = text.partition(" ")
    if len(number) > 7:  # 10000.00 and up
        return f"{float(number):,.0f} {name}"
    return text


def axis_label(value: float) -> str:
    """A memory axis tick: plain numbers with thousands separators, never "2e+06"."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def breakdown_rows(card: CardEstimate, unit: Unit | str) -> list[tuple[str, str, str]]:
    """(label, amount, formula) for every non-zero part of one card, in stacking order."""
    return [(f.label, format_bytes(f.bytes, unit), f.formula) for f in card.breakdown.parts() if f.bytes]

"""Qt-free data for the step-timeline plot: one card's moments stacked by category in the display unit.

The engine computes every byte count (``Breakdown.timeline``); this module only picks the card to show,
stacks the live parts of each moment and scales bytes to the chosen unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.report.records import BREAKDOWN_KEYS, CardEstimate, Estimate
from engine.units import Unit, format_bytes

TIMELINE_KEYS = tuple(k for k in BREAKDOWN_KEYS if k != "overhead")


@dataclass(frozen=True)
class TimelineSeries:
    card: CardEstimate
    labels: tuple[str, ...]  # one per moment
    ticks: tuple[str, ...]  # a few words per moment, for the axis
    x: np.ndarray  # moment index
    tops: dict[str, np.ndarray]  # cumulative top of each category, display unit
    overhead: float  # the card's overhead at its peak (CUDA context, NCCL, reserve), display unit
    capacity: float  # display unit
    peak: int  # index of the peak moment
    peak_label: str  # the engine's name of the peak moment
    peak_total: str  # the card's total at the peak, formatted in the display unit
    peak_overhead: str  # its overhead, formatted
    peak_parts: tuple[tuple[str, str], ...]  # (category key, formatted bytes) of the live parts at the peak
    # Over capacity only from the optimizer's first step on (it creates its state there): (the card until then,
    # the state it creates), formatted; None otherwise
    first_step: tuple[str, str] | None = None


def focus_card(estimate: Estimate, selected_ids: tuple[str, ...]) -> CardEstimate | None:
    """The first selected card, else the card with the least headroom."""
    by_id = {c.card_id: c for c in estimate.cards}
    for card_id in selected_ids:
        if card_id in by_id:
            return by_id[card_id]
    return estimate.worst_card


def timeline_series(card: CardEstimate, unit: Unit | str) -> TimelineSeries | None:
    """The card's step stacked by category; None when its estimate has no timeline (serving: a steady state)."""
    bd = card.breakdown
    if not bd.timeline:
        return None
    scale = Unit(unit).bytes
    table = np.array([[dict(m.live).get(k, 0) for k in TIMELINE_KEYS] for m in bd.timeline], dtype=np.float64) / scale
    tops = np.cumsum(table, axis=1)
    peak = bd.timeline[bd.peak_moment]
    live = dict(peak.live)
    parts = tuple((k, format_bytes(live[k], unit)) for k in TIMELINE_KEYS if live.get(k))
    return TimelineSeries(
        card=card, labels=tuple(m.label for m in bd.timeline), ticks=tuple(m.short or m.label for m in bd.timeline), x=np.arange(len(bd.timeline), dtype=np.float64),
        tops={k: tops[:, i] for i, k in enumerate(TIMELINE_KEYS)}, overhead=bd.overhead.bytes / scale,
        capacity=card.capacity_bytes / scale, peak=bd.peak_moment, peak_label=peak.label,
        peak_total=format_bytes(bd.total_bytes, unit), peak_overhead=format_bytes(bd.overhead.bytes, unit),
        peak_parts=parts, first_step=_fails_at_first_step(card, unit))


def _fails_at_first_step(card: CardEstimate, unit: Unit | str) -> tuple[str, str] | None:
    first = card.breakdown.before_first_step
    if first is None or card.fits or first.total_bytes > card.capacity_bytes:
        return None
    return format_bytes(first.total_bytes, unit), format_bytes(first.state_bytes, unit)


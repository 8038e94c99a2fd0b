"""What an estimate returns: per-card breakdowns whose figures carry their formula.

These are frozen, slotted dataclasses rather than pydantic models: an estimate
of a 1,024-card plan builds 1,024 of them and must take well under a
millisecond.  The JSON shape scripts read is :mod:`engine.report.json_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from engine.units import format_both_units

if TYPE_CHECKING:
    from engine.finetune.summary import FinetuneSummary
    from engine.serving.summary import ServingSummary

BREAKDOWN_KEYS = (
    "weights",
    "gradients",
    "optimizer_states",
    "activations",
    "logits",
    "communication",
    "kv_cache",
    "overhead",
)


@dataclass(frozen=True, slots=True)
class Figure:
    """A byte count and the formula, with numbers substituted, that produced it."""

    key: str
    label: str
    bytes: int
    formula: str


def figure(key: str, label: str, n: int, formula: str) -> Figure:
    return Figure(key, label, int(n), formula)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Disjoint parts of one card's memory; they sum exactly to ``total_bytes``.

    ``overhead`` is what the framework's allocator does not see (CUDA context,
    NCCL, fragmentation reserve); the other parts sum to what
    ``torch.cuda.max_memory_allocated`` would report.
    """

    weights: Figure
    gradients: Figure
    optimizer_states: Figure
    activations: Figure
    logits: Figure
    communication: Figure
    kv_cache: Figure
    overhead: Figure
    details: tuple[Figure, ...]
    host_bytes: int  # CPU memory used by offload (not part of the card total)
    total_bytes: int

    def parts(self) -> tuple[Figure, ...]:
        return (self.weights, self.gradients, self.optimizer_states, self.activations,
                self.logits, self.communication, self.kv_cache, self.overhead)

    def bytes_by_key(self) -> dict[str, int]:
        return {f.key: f.bytes for f in self.parts()}


def make_breakdown(parts: dict[str, Figure], details: tuple[Figure, ...] = (), host_bytes: int = 0) -> Breakdown:
    w, g, o, a, lg, c, kv, ov = (parts.get(k) or Figure(k, k.replace("_", " "), 0, "0") for k in BREAKDOWN_KEYS)
    total = w.bytes + g.bytes + o.bytes + a.bytes + lg.bytes + c.bytes + kv.bytes + ov.bytes
    return Breakdown(w, g, o, a, lg, c, kv, ov, details=details, host_bytes=host_bytes, total_bytes=total)


@dataclass(frozen=True, slots=True)
class PlanWarning:
    code: str  # stable identifier, e.g. "tp-spans-nodes"
    message: str
    cards: tuple[int, ...] = ()  # card indices concerned (for highlighting)
    severity: str = "warning"  # "warning" or "info"


class CardEstimate(NamedTuple):
    """One card's estimate (a NamedTuple: immutable and cheap to build by the thousand)."""

    index: int  # type: ignore[assignment]  # the card's position; shadows tuple.index on purpose
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
    in_flight_microbatches: int
    breakdown: Breakdown

    @property
    def total_bytes(self) -> int:
        return self.breakdown.total_bytes

    @property
    def headroom_bytes(self) -> int:
        return self.capacity_bytes - self.breakdown.total_bytes

    @property
    def fits(self) -> bool:
        return self.breakdown.total_bytes <= self.capacity_bytes


@dataclass(frozen=True, slots=True)
class Estimate:
    plan_name: str
    mode: str  # "training", "serving" or "finetune"
    method: str
    framework: str
    parameters: int
    microbatches_per_step: int
    cards: tuple[CardEstimate, ...]
    warnings: tuple[PlanWarning, ...] = ()
    notes: tuple[Figure, ...] = ()  # plan-wide figures (parameters, activations per sample ...)
    serving: ServingSummary | None = None  # serving mode: weight bytes, KV per token, longest context ...
    finetune: FinetuneSummary | None = None  # finetune mode: trainable parameters, adapter bytes ...

    @property
    def fits(self) -> bool:
        return all(c.fits for c in self.cards)

    @property
    def worst_card(self) -> CardEstimate | None:
        """The card with the least headroom (the one that decides the verdict)."""
        return min(self.cards, key=lambda c: c.headroom_bytes, default=None)


def index_ranges(indices: list[int], limit: int = 0) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2,5,7-8"``; with ``limit`` > 0, more runs end with an ellipsis."""
    runs: list[str] = []
    start = prev = indices[0]
    for i in [*indices[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        runs.append(f"{start}" if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    if limit and len(runs) > limit:
        return ",".join(runs[:limit]) + ",…"
    return ",".join(runs)


def over_capacity_warning(over: list[CardEstimate], stage_note: str = "") -> PlanWarning:
    """The one 'over capacity' warning, naming the worst card in both units."""
    worst = min(over, key=lambda c: c.headroom_bytes)
    return PlanWarning("over-capacity", (
        f"{len(over)} card(s) over capacity{stage_note}; worst: card {worst.index} needs "
        f"{format_both_units(worst.total_bytes)} of {format_both_units(worst.capacity_bytes)}"),
        tuple(c.index for c in over))

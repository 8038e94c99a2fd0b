"""What an estimate returns: per-card breakdowns whose figures carry their formula.

These are frozen, slotted dataclasses rather than pydantic models: an estimate
of a 1,024-card plan builds 1,024 of them and must take well under a
millisecond.  The JSON shape scripts read is :mod:`engine.report.json_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from engine.units import format_both_units, plural

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
    "transient",
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
class Moment:
    """One moment of a card's step (a micro-batch's forward, a layer's backward, the optimizer step)
    and the bytes alive then, by breakdown key (the allocator-visible keys; no overhead)."""

    label: str
    live: tuple[tuple[str, int], ...]
    short: str = ""  # a few words for an axis tick ("forward 2/4", "backward")

    @property
    def total_bytes(self) -> int:
        return sum(b for _, b in self.live)


@dataclass(frozen=True, slots=True)
class BeforeFirstStep:
    """A card until its optimizer's first step, for optimizers that create their state in that step.

    ``total_bytes`` is the card's figure (overhead included) at its highest moment of an iteration whose
    optimizer step has not run yet (or was skipped); ``state_bytes`` is what the first step that runs
    creates (Adam's moments, SGD's momentum)."""

    total_bytes: int
    state_bytes: int
    moment: str  # the highest moment before the first step (Moment.label)
    formula: str


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Disjoint parts of one card's memory at its peak moment; they sum exactly to ``total_bytes``.

    ``overhead`` is what the framework's allocator does not see (CUDA context,
    NCCL, fragmentation reserve); the other parts sum to what
    ``torch.cuda.max_memory_allocated`` would report.  ``transient`` holds the
    short-lived buffers of the peak moment (a layer's backward, the optimizer
    step's temporaries).  ``timeline`` is the card's step moment by moment
    (empty where a method has no timeline); ``peak_moment`` indexes it.
    """

    weights: Figure
    gradients: Figure
    optimizer_states: Figure
    activations: Figure
    logits: Figure
    communication: Figure
    transient: Figure
    kv_cache: Figure
    overhead: Figure
    details: tuple[Figure, ...]
    host_bytes: int  # CPU memory used by offload (not part of the card total)
    total_bytes: int
    timeline: tuple[Moment, ...] = ()
    peak_moment: int = -1
    before_first_step: BeforeFirstStep | None = None  # None: the state exists from start-up, or none is on the card

    def parts(self) -> tuple[Figure, ...]:
        return (self.weights, self.gradients, self.optimizer_states, self.activations,
                self.logits, self.communication, self.transient, self.kv_cache, self.overhead)

    def bytes_by_key(self) -> dict[str, int]:
        return {f.key: f.bytes for f in self.parts()}


def with_part(moment: Moment, key: str, bytes_: int) -> Moment:
    """``moment`` with its ``key`` part set to ``bytes_`` (added when the moment has none)."""
    live = tuple((k, bytes_ if k == key else b) for k, b in moment.live)
    if all(k != key for k, _ in moment.live):
        live += ((key, bytes_),)
    return Moment(moment.label, live, moment.short)


def make_breakdown(parts: dict[str, Figure], details: tuple[Figure, ...] = (), host_bytes: int = 0,
                   timeline: tuple[Moment, ...] = (), peak_moment: int = -1,
                   before_first_step: BeforeFirstStep | None = None) -> Breakdown:
    w, g, o, a, lg, c, tr, kv, ov = (parts.get(k) or Figure(k, k.replace("_", " "), 0, "0") for k in BREAKDOWN_KEYS)
    total = w.bytes + g.bytes + o.bytes + a.bytes + lg.bytes + c.bytes + tr.bytes + kv.bytes + ov.bytes
    return Breakdown(w, g, o, a, lg, c, tr, kv, ov, details=details, host_bytes=host_bytes, total_bytes=total,
                     timeline=timeline, peak_moment=peak_moment, before_first_step=before_first_step)


@dataclass(frozen=True, slots=True)
class PlanWarning:
    code: str  # stable identifier, e.g. "tp-spans-nodes"
    message: str
    cards: tuple[int, ...] = ()  # card indices concerned (for highlighting)
    severity: str = "warning"  # "warning" or "info"


@dataclass(frozen=True, slots=True)
class CardSlot:
    """Who a card is in the layout: position, node, GPU, stage and group ranks (built once per layout)."""

    index: int  # the card's position in layout.cards
    card_id: str
    node: int  # the node's position in layout.nodes
    node_id: str
    gpu: str
    stage: int  # 0-based pipeline stage
    tp_rank: int
    tp_size: int
    dp_rank: int
    dp_size: int
    capacity_bytes: int


class CardEstimate(NamedTuple):
    """One card's estimate: its slot in the layout and its breakdown (the one card record).

    A NamedTuple rather than a frozen dataclass: immutable, and an estimate of 1,024 cards
    builds 1,024 of them (a frozen dataclass's ``__init__`` costs 0.4 µs each, this 0.24 µs).
    """

    slot: CardSlot
    in_flight_microbatches: int
    breakdown: Breakdown

    @property  # shadows tuple.index on purpose: the card's position in the layout
    def index(self) -> int:  # type: ignore[override]
        return self.slot.index

    @property
    def card_id(self) -> str:
        return self.slot.card_id

    @property
    def node(self) -> int:
        return self.slot.node

    @property
    def node_id(self) -> str:
        return self.slot.node_id

    @property
    def gpu(self) -> str:
        return self.slot.gpu

    @property
    def stage(self) -> int:
        return self.slot.stage

    @property
    def tp_rank(self) -> int:
        return self.slot.tp_rank

    @property
    def tp_size(self) -> int:
        return self.slot.tp_size

    @property
    def dp_rank(self) -> int:
        return self.slot.dp_rank

    @property
    def dp_size(self) -> int:
        return self.slot.dp_size

    @property
    def capacity_bytes(self) -> int:
        return self.slot.capacity_bytes

    @property
    def total_bytes(self) -> int:
        return self.breakdown.total_bytes

    @property
    def headroom_bytes(self) -> int:
        return self.slot.capacity_bytes - self.breakdown.total_bytes

    @property
    def fits(self) -> bool:
        return self.breakdown.total_bytes <= self.slot.capacity_bytes

    @property
    def before_first_step_bytes(self) -> int:
        """The card's figure until its optimizer first steps (its whole figure where the state exists from
        start-up)."""
        first = self.breakdown.before_first_step
        return self.breakdown.total_bytes if first is None else first.total_bytes


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
    def fits_before_first_step(self) -> bool | None:
        """Whether every card gets through the iterations before its optimizer's first step; None where
        no card's optimizer creates its state in that step (:class:`BeforeFirstStep`)."""
        if not any(c.breakdown.before_first_step for c in self.cards):
            return None
        return all(c.before_first_step_bytes <= c.capacity_bytes for c in self.cards)

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
        f"{plural(len(over), 'card')} over capacity{stage_note}; worst: card {worst.index} needs "
        f"{format_both_units(worst.total_bytes)} of {format_both_units(worst.capacity_bytes)}"),
        tuple(c.index for c in over))

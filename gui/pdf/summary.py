"""How much of a large plan the PDF draws, and the summaries that stand in for the rest (issue 15).

Plain data (no Qt).  A plan may hold up to ``engine.limits.MAX_CARDS`` cards on ``MAX_NODES``
nodes; drawn card by card, 1,024 cards made a 100 MB PDF in 16 s and 10,000 empty nodes hundreds
of MB, and a diagram of a thousand cards on one page is unreadable anyway.  Past the bounds below
the PDF summarises instead, so every section stays a few pages however large the plan:

* the node diagram: up to :data:`DIAGRAM_MAX_NODES` nodes and :data:`DIAGRAM_MAX_CARDS` cards it is
  the app's diagram; beyond, one representative node per distinct node layout ("× 16 identical
  nodes"), at most :data:`SUMMARY_MAX_LAYOUTS` of them;
* the card table: ``all_cards`` lists one row per card up to :data:`LISTED_MAX_CARDS` cards;
  beyond, identical cards share a row with their count, as in the default table; at most
  :data:`TABLE_MAX_ROWS` rows in either case;
* the memory chart: at most :data:`CHART_MAX_BARS` bars (runs of identical neighbours are one bar;
  past that each bar is the heaviest of a few neighbouring cards);
* the formulas: at most :data:`FORMULA_MAX_BLOCKS` blocks (one per distinct breakdown).

Whatever is left out, the heaviest card (the one the verdict names) is always kept, and the text
says how many rows, layouts or blocks were left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.plan.schema import Plan
from engine.report.records import CardEstimate, Estimate

# The app's diagram, card by card, up to this size: 32 eight-GPU servers fill a page at a
# readable scale (about four nodes across); the bench's 1,024 cards are 128 nodes.
DIAGRAM_MAX_NODES = 32
DIAGRAM_MAX_CARDS = 256
# Representative nodes drawn in the summary: two to a row, about 14 to a page.  A grid plan has one
# layout per pipeline stage (its data-parallel replicas are identical), so deeper pipelines than
# this are the usual way to reach the cap.  Their slots together (64-GPU racks are big boxes) stop
# at the card diagram's bound.
SUMMARY_MAX_LAYOUTS = 32
SUMMARY_MAX_SLOTS = DIAGRAM_MAX_CARDS
# ``all_cards``: one row per card up to this many cards (about nine pages of ~60 rows).
LISTED_MAX_CARDS = 512
# Rows of the card table at most, grouped or not (a grouped table reaches it only when nearly every
# card differs): as many as ``all_cards`` lists.
TABLE_MAX_ROWS = LISTED_MAX_CARDS
# Bars in the memory chart: a bar narrower than ~1/4 pt (A4's 515 pt over 2,048) cannot be seen.
CHART_MAX_BARS = 2_048
# Formula blocks at most: each is ~25 lines, so 16 blocks are about eight pages.
FORMULA_MAX_BLOCKS = 16


def summarised(plan: Plan) -> bool:
    """Whether the node diagram is a summary (too many nodes or cards to draw one by one)."""
    return len(plan.layout.nodes) > DIAGRAM_MAX_NODES or len(plan.layout.cards) > DIAGRAM_MAX_CARDS


@dataclass(frozen=True, slots=True)
class NodeLayout:
    """Nodes that look the same card for card: the first one stands for all of them."""

    nodes: tuple[int, ...]  # positions in plan.layout.nodes, the representative first
    slots: int
    cards: tuple[tuple[int, CardEstimate], ...]  # (slot, estimate) of the representative's cards, by slot


def _card_look(slot: int, c: CardEstimate, parts_of: dict[int, tuple[int, ...]]) -> tuple:
    """What makes two cards look the same: slot, GPU, capacity, stage, group sizes and every byte."""
    bd = c.breakdown
    parts = parts_of.get(id(bd))
    if parts is None:
        parts = parts_of[id(bd)] = tuple(f.bytes for f in bd.parts())
    return (slot, c.gpu, c.capacity_bytes, c.stage, c.tp_size, c.dp_size, parts)


def node_layouts(plan: Plan, est: Estimate) -> list[NodeLayout]:
    """Every distinct node layout, in the order of the first node that has it."""
    layout = plan.layout
    per_node: list[list[tuple[int, CardEstimate]]] = [[] for _ in layout.nodes]
    for card, c in zip(layout.cards, est.cards, strict=True):
        per_node[c.node].append((card.slot, c))
    parts_of: dict[int, tuple[int, ...]] = {}
    groups: dict[tuple, list[int]] = {}
    members: dict[tuple, tuple[tuple[int, CardEstimate], ...]] = {}
    for i, (node, cards) in enumerate(zip(layout.nodes, per_node, strict=True)):
        cards.sort(key=lambda sc: sc[0])
        key = (node.slots, tuple(_card_look(s, c, parts_of) for s, c in cards))
        if key not in groups:
            groups[key], members[key] = [], tuple(cards)
        groups[key].append(i)
    return [NodeLayout(tuple(nodes), layout.nodes[nodes[0]].slots, members[key]) for key, nodes in groups.items()]


def drawn_layouts(layouts: list[NodeLayout], worst_node: int | None) -> list[NodeLayout]:
    """The layouts the summary draws: in order, up to :data:`SUMMARY_MAX_LAYOUTS` layouts and
    :data:`SUMMARY_MAX_SLOTS` slots, the layout of ``worst_node`` (the fullest card's) always among them."""
    kept: list[NodeLayout] = []
    slots = 0
    for lay in layouts:
        if len(kept) == SUMMARY_MAX_LAYOUTS or (kept and slots + lay.slots > SUMMARY_MAX_SLOTS):
            break
        kept.append(lay)
        slots += lay.slots
    if worst_node is not None and not any(worst_node in lay.nodes for lay in kept):
        worst = next(lay for lay in layouts if worst_node in lay.nodes)
        while len(kept) > 1 and slots + worst.slots - kept[-1].slots > SUMMARY_MAX_SLOTS:
            slots -= kept.pop().slots
        slots += worst.slots - kept[-1].slots
        kept[-1] = worst
    return kept


def keep_with_worst(items: list, limit: int, holds_worst) -> tuple[list, int]:
    """At most ``limit`` of ``items`` in order, the first that ``holds_worst`` always among them;
    and how many were left out."""
    if len(items) <= limit:
        return items, 0
    kept = items[:limit]
    if not any(holds_worst(x) for x in kept):
        worst = next((x for x in items[limit:] if holds_worst(x)), None)
        if worst is not None:
            kept[-1] = worst
    return kept, len(items) - limit


def chart_bars(est: Estimate) -> tuple[list[tuple[int, int, CardEstimate]], int]:
    """(first card, card count, the card drawn) per bar, and how many cards one bar stands for at most.

    Neighbouring cards with the same bytes and capacity are one bar (they would be drawn touching
    anyway).  Past :data:`CHART_MAX_BARS` runs, every ``k`` neighbouring cards are one bar showing
    the heaviest of them, so the chart still shows every peak.
    """
    cards = est.cards
    runs: list[tuple[int, int, CardEstimate]] = []
    for i, c in enumerate(cards):
        if runs:
            start, n, first = runs[-1]
            if first.breakdown is c.breakdown and first.capacity_bytes == c.capacity_bytes:
                runs[-1] = (start, n + 1, first)
                continue
        runs.append((i, 1, c))
    if len(runs) <= CHART_MAX_BARS:
        return runs, 1
    k = -(-len(cards) // CHART_MAX_BARS)
    bars = [(i, len(cards[i:i + k]), max(cards[i:i + k], key=lambda c: c.total_bytes - c.capacity_bytes))
            for i in range(0, len(cards), k)]
    return bars, k

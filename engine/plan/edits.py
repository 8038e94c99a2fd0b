"""Pure plan edits: each takes a plan and returns a new one, never mutating it.

The diagram's gestures (drop a GPU, move cards, set a stage, group cards,
fill a grid ...) are these functions; the GUI wraps each call in one undo
command.  Bad input raises :class:`PlanError` naming the field, the value and
what is allowed.

Group ids are plan-wide labels (see :mod:`engine.plan.layout`); a fresh group gets
``max(existing) + 1``.  When an edit splits a group (some members move to a
different stage), the moved members get a fresh id, so a TP group never spans
two stages.  When the number of stages changes, an uneven ``pp_layers`` split
no longer matches and is dropped (back to an even split).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.errors import PlanError
from engine.limits import check_layout_limits
from engine.plan.layout import Card, Layout, Node, new_id
from engine.plan.schema import Plan

GROUP_FIELDS = ("tp_group", "dp_group", "cp_group", "ep_group")
MAX_COPIES = 128
MAX_NAME_CHARS = 64


# Helpers ---------------------------------------------------------------------
def _with_layout(plan: Plan, **update) -> Plan:
    # A new Layout, not ``layout.model_copy``: a copy would carry the old layout's
    # cached ``topology`` (a cached_property kept in the instance __dict__).
    old = plan.layout
    fields = {name: getattr(old, name) for name in Layout.model_fields}
    fields.update(update)
    if fields["pp_layers"] is not None and len(fields["pp_layers"]) != len({c.stage for c in fields["cards"]}):
        fields["pp_layers"] = None
    layout = Layout.model_construct(**fields)
    # model_construct checks nothing: a gesture that takes the plan past MAX_CARDS or MAX_NODES
    # (duplicating a node, filling a grid) is refused here, at the gesture, not by the next estimate
    check_layout_limits(layout)
    return plan.model_copy(update={"layout": layout})


def _node(layout: Layout, node_id: str) -> Node:
    for node in layout.nodes:
        if node.id == node_id:
            return node
    raise PlanError("node", node_id, "the id of a node in the plan")


def _card_id_set(layout: Layout, card_ids: Iterable[str]) -> set[str]:
    ids = set(card_ids)
    if not ids:
        raise PlanError("cards", (), "at least one selected card")
    unknown = ids - {c.id for c in layout.cards}
    if unknown:
        raise PlanError("cards", sorted(unknown)[0], "the id of a card in the plan")
    return ids


def _next_group(cards: Iterable[Card], field: str) -> int:
    return max((g for c in cards if (g := getattr(c, field)) is not None), default=-1) + 1


def _free_slots(layout: Layout, node: Node) -> list[int]:
    used = {c.slot for c in layout.cards if c.node == node.id}
    return [s for s in range(node.slots) if s not in used]


def _split_partial_groups(cards: Sequence[Card], selected: set[str]) -> list[Card]:
    """Selected members of a group that also has unselected members move to a fresh group id."""
    out = list(cards)
    for field in GROUP_FIELDS:
        partial = {getattr(c, field) for c in cards if c.id in selected} & {
            getattr(c, field) for c in cards if c.id not in selected
        }
        fresh = _next_group(cards, field)
        remap = {g: fresh + k for k, g in enumerate(sorted(partial))}
        out = [
            c.model_copy(update={field: remap[getattr(c, field)]})
            if c.id in selected and getattr(c, field) in remap else c
            for c in out
        ]
    return out


# Nodes -----------------------------------------------------------------------
def add_node(
    plan: Plan, name: str | None = None, x: float = 0.0, y: float = 0.0, slots: int = 8,
    node_id: str | None = None,
) -> Plan:
    """Append an empty node (the new node is ``plan.layout.nodes[-1]``)."""
    if not 1 <= slots <= 64:
        raise PlanError("node.slots", slots, "1 to 64 slots")
    layout = plan.layout
    nid = node_id or new_id()
    if any(n.id == nid for n in layout.nodes):
        raise PlanError("node.id", nid, "an id not used by another node")
    label = _clean_name(name) if name is not None else f"node-{len(layout.nodes)}"
    node = Node(id=nid, name=label, slots=slots, x=float(x), y=float(y))
    return _with_layout(plan, nodes=(*layout.nodes, node))


def remove_node(plan: Plan, node_id: str) -> Plan:
    """Remove a node and every card in it."""
    layout = plan.layout
    _node(layout, node_id)
    return _with_layout(
        plan,
        nodes=tuple(n for n in layout.nodes if n.id != node_id),
        cards=tuple(c for c in layout.cards if c.node != node_id),
    )


def _clean_name(name: str) -> str:
    text = " ".join(str(name).split())
    if not text or len(text) > MAX_NAME_CHARS:
        raise PlanError("node.name", name, f"1 to {MAX_NAME_CHARS} characters")
    return text


def rename_node(plan: Plan, node_id: str, name: str) -> Plan:
    layout = plan.layout
    _node(layout, node_id)
    label = _clean_name(name)
    nodes = tuple(n.model_copy(update={"name": label}) if n.id == node_id else n for n in layout.nodes)
    return _with_layout(plan, nodes=nodes)


def set_node_position(plan: Plan, node_id: str, x: float, y: float) -> Plan:
    """Place a node; ``x``/``y`` are in the diagram's node-pitch units (see gui.diagram)."""
    layout = plan.layout
    _node(layout, node_id)
    for field, value in (("node.x", x), ("node.y", y)):
        if value != value or abs(value) > 1e6:
            raise PlanError(field, value, "a finite position within ±1,000,000")
    nodes = tuple(
        n.model_copy(update={"x": float(x), "y": float(y)}) if n.id == node_id else n for n in layout.nodes
    )
    return _with_layout(plan, nodes=nodes)


def arrange_nodes(plan: Plan, columns: int) -> Plan:
    """Place the nodes in plan order on a grid ``columns`` wide (node-pitch units)."""
    if not isinstance(columns, int) or columns < 1:
        raise PlanError("columns", columns, "a positive integer")
    nodes = tuple(
        n.model_copy(update={"x": float(i % columns), "y": float(i // columns)})
        for i, n in enumerate(plan.layout.nodes)
    )
    return _with_layout(plan, nodes=nodes)


def duplicate_node(plan: Plan, node_id: str, copies: int = 1) -> Plan:
    """Add ``copies`` copies of a node below the lowest node.

    A copy is a data-parallel replica: each copied card keeps its stage and
    joins its original's DP group, and gets a fresh TP / CP / EP group per
    original group (so the copy's TP groups stay inside the copy).
    """
    if not 1 <= copies <= MAX_COPIES:
        raise PlanError("copies", copies, f"1 to {MAX_COPIES}")
    layout = plan.layout
    source = _node(layout, node_id)
    members = [c for c in layout.cards if c.node == node_id]
    nodes, cards = list(layout.nodes), list(layout.cards)
    bottom = max(n.y for n in layout.nodes)
    for k in range(1, copies + 1):
        nid = new_id()
        nodes.append(source.model_copy(update={"id": nid, "name": f"{source.name} ({k + 1})", "y": bottom + k}))
        remaps = {}
        for field in ("tp_group", "cp_group", "ep_group"):
            fresh = _next_group(cards, field)
            olds = sorted({getattr(c, field) for c in members})
            remaps[field] = {g: fresh + i for i, g in enumerate(olds)}
        for c in members:
            update = {f: remaps[f][getattr(c, f)] for f in remaps}
            cards.append(c.model_copy(update={"id": new_id(), "node": nid, **update}))
    return _with_layout(plan, nodes=tuple(nodes), cards=tuple(cards))


# Cards -----------------------------------------------------------------------
def add_card(
    plan: Plan, node_id: str, gpu_name: str, capacity_bytes: int, slot: int | None = None, stage: int = 0,
) -> Plan:
    """Put one card in a node's ``slot`` (default: the first free one).

    The new card is ``plan.layout.cards[-1]``; it gets fresh TP / DP / CP / EP
    groups of its own (size 1) until the user groups it.
    """
    layout = plan.layout
    node = _node(layout, node_id)
    if not str(gpu_name).strip():
        raise PlanError("card.gpu", gpu_name, "a GPU name")
    if not isinstance(capacity_bytes, int) or capacity_bytes <= 0:
        raise PlanError("card.capacity_bytes", capacity_bytes, "a positive number of bytes")
    if stage < 0:
        raise PlanError("card.stage", stage, "a stage >= 0")
    free = _free_slots(layout, node)
    if slot is None:
        if not free:
            raise PlanError("node", node.name, f"a node with a free slot (all {node.slots} are taken)")
        slot = free[0]
    elif slot not in free:
        raise PlanError("card.slot", slot, f"a free slot of {node.name}: {free or 'none'}")
    groups = {f: _next_group(layout.cards, f) for f in GROUP_FIELDS}
    card = Card(node=node_id, slot=slot, gpu=gpu_name, capacity_bytes=capacity_bytes, stage=stage, **groups)
    return _with_layout(plan, cards=(*layout.cards, card))


def move_cards(plan: Plan, card_ids: Iterable[str], node_id: str) -> Plan:
    """Move cards into the first free slots of another node (in plan order).

    Cards already in that node stay where they are.
    """
    layout = plan.layout
    ids = _card_id_set(layout, card_ids)
    node = _node(layout, node_id)
    moving = [c for c in layout.cards if c.id in ids and c.node != node_id]
    if not moving:
        return plan
    free = _free_slots(layout, node)
    if len(free) < len(moving):
        raise PlanError("node", node.name, f"a node with {len(moving)} free slot(s) (it has {len(free)})")
    new_slot = {c.id: s for c, s in zip(moving, free, strict=False)}
    cards = tuple(
        c.model_copy(update={"node": node_id, "slot": new_slot[c.id]}) if c.id in new_slot else c
        for c in layout.cards
    )
    return _with_layout(plan, cards=cards)


def remove_cards(plan: Plan, card_ids: Iterable[str]) -> Plan:
    layout = plan.layout
    ids = _card_id_set(layout, card_ids)
    return _with_layout(plan, cards=tuple(c for c in layout.cards if c.id not in ids))


# Roles -----------------------------------------------------------------------
def set_stage(plan: Plan, card_ids: Iterable[str], stage: int) -> Plan:
    """Put cards on a pipeline stage (0-based); partly moved groups are split."""
    layout = plan.layout
    ids = _card_id_set(layout, card_ids)
    if not isinstance(stage, int) or stage < 0:
        raise PlanError("stage", stage, "a stage number >= 0")
    changing = {c.id for c in layout.cards if c.id in ids and c.stage != stage}
    if not changing:
        return plan
    cards = _split_partial_groups(layout.cards, changing)
    cards = [c.model_copy(update={"stage": stage}) if c.id in changing else c for c in cards]
    return _with_layout(plan, cards=tuple(cards))


def _regroup(plan: Plan, card_ids: Iterable[str], field: str) -> Plan:
    layout = plan.layout
    ids = _card_id_set(layout, card_ids)
    fresh = _next_group(layout.cards, field)
    cards = tuple(c.model_copy(update={field: fresh}) if c.id in ids else c for c in layout.cards)
    return _with_layout(plan, cards=cards)


def new_tp_group(plan: Plan, card_ids: Iterable[str]) -> Plan:
    """The cards form one new tensor-parallel group (they must share a stage)."""
    ids = _card_id_set(plan.layout, card_ids)
    stages = sorted({c.stage for c in plan.layout.cards if c.id in ids})
    if len(stages) > 1:
        raise PlanError("tp_group", stages, "cards of one pipeline stage (a TP group splits one stage's layers)")
    return _regroup(plan, ids, "tp_group")


def new_dp_group(plan: Plan, card_ids: Iterable[str]) -> Plan:
    """The cards form one new data-parallel (ZeRO) group."""
    return _regroup(plan, card_ids, "dp_group")


def set_pp_layers(plan: Plan, layers: Sequence[int] | None) -> Plan:
    """Layers per stage (uneven split); ``None`` returns to the even split."""
    if layers is None:
        return _with_layout(plan, pp_layers=None)
    split = tuple(int(n) for n in layers)
    stages = len({c.stage for c in plan.layout.cards})
    text = ",".join(map(str, split))
    if len(split) != stages:
        raise PlanError("layout.pp_layers", text, f"{stages} numbers, one per pipeline stage")
    if any(n < 1 for n in split):
        raise PlanError("layout.pp_layers", text, "at least one layer on every stage")
    if sum(split) != plan.model.layers:
        raise PlanError("layout.pp_layers", text, f"numbers summing to layers={plan.model.layers}")
    return _with_layout(plan, pp_layers=split)


# Grid ------------------------------------------------------------------------
def fill_grid(plan: Plan, node_ids: Iterable[str], tp: int, pp: int, dp: int) -> Plan:
    """Give the cards of the chosen nodes a TP x PP x DP grid in Megatron's rank order.

    Ranks run over the chosen nodes' slots in plan order (node, then slot);
    ``rank = tp_r + TP * (dp_r + DP * pp_r)``: TP fastest, then DP, PP slowest,
    exactly as :func:`engine.plan.layout.build_grid`.  Empty slots are filled with
    cards like the first card found; cards beyond TP x PP x DP are an error.
    """
    for name, value in (("tp", tp), ("pp", pp), ("dp", dp)):
        if not isinstance(value, int) or value < 1:
            raise PlanError(f"layout.{name}", value, "a positive integer")
    layout = plan.layout
    wanted = set(node_ids)
    nodes = [n for n in layout.nodes if n.id in wanted]
    if len(nodes) != len(wanted):
        unknown = sorted(wanted - {n.id for n in nodes})
        raise PlanError("node", unknown[0] if unknown else (), "the id of a node in the plan")
    world = tp * pp * dp
    slots = sum(n.slots for n in nodes)
    if world > slots:
        raise PlanError("layout.grid", f"{tp}x{pp}x{dp}", f"at most {slots} cards (the slots of the selected nodes)")
    inside = [c for c in layout.cards if c.node in wanted]
    if len(inside) > world:
        raise PlanError("layout.grid", f"{tp}x{pp}x{dp}",
                        f"at least {len(inside)} cards (already in the selected nodes; remove some first)")
    if not inside:
        raise PlanError("layout.grid", "no cards", "at least one card in the selected nodes to copy the GPU from")
    outside = [c for c in layout.cards if c.node not in wanted]
    template = inside[0]
    added: list[Card] = []
    for node in nodes:
        for s in _free_slots(layout, node):
            if len(inside) + len(added) < world:
                added.append(template.model_copy(update={"id": new_id(), "node": node.id, "slot": s}))
    order = {n.id: i for i, n in enumerate(nodes)}
    ranked = sorted([*inside, *added], key=lambda c: (order[c.node], c.slot))
    base = {f: _next_group(outside, f) for f in GROUP_FIELDS}
    roles = {}
    for rank, card in enumerate(ranked):
        tp_r, dp_r, pp_r = rank % tp, rank // tp % dp, rank // (tp * dp)
        roles[card.id] = {
            "stage": pp_r,
            "tp_group": base["tp_group"] + pp_r * dp + dp_r,
            "dp_group": base["dp_group"] + pp_r * tp + tp_r,
            "cp_group": base["cp_group"] + rank,
            "ep_group": base["ep_group"] + rank,
        }
    cards = tuple(c.model_copy(update=roles[c.id]) if c.id in roles else c for c in (*layout.cards, *added))
    return _with_layout(plan, cards=cards)

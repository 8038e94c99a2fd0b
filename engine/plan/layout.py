"""The layout: nodes (servers) holding cards, each card with its parallel groups.

A card names its pipeline stage and the ids of the groups it belongs to.
Cards sharing a ``tp_group`` split each layer (tensor parallel); cards sharing
a ``dp_group`` hold replicas of the same shard and split the ZeRO-sharded
states; ``cp_group`` splits the sequence; ``ep_group`` splits the experts.
Group ids are plan-wide labels; sizes are the number of cards that share one.
Heterogeneous layouts (mixed GPUs, uneven groups) are allowed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from functools import cached_property
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import PlanError
from engine.limits import (
    MAX_CARD_BYTES,
    MAX_CARDS,
    MAX_COORDINATE,
    MAX_ID_CHARS,
    MAX_LAYERS,
    MAX_NAME_CHARS,
    MAX_NODES,
    MAX_PARALLEL,
    MAX_PP,
    MAX_SLOTS_PER_NODE,
    MAX_VPP,
)
from engine.report.records import CardSlot

MAX_GROUP_LABEL = 2**31 - 1  # group labels are plan-wide ids; build_grid numbers them below MAX_CARDS
GroupLabel = Annotated[int, Field(ge=0, le=MAX_GROUP_LABEL)]
Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE, allow_inf_nan=False)]


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id, min_length=1, max_length=MAX_ID_CHARS)
    name: str = Field("node", max_length=MAX_NAME_CHARS)
    slots: int = Field(8, gt=0, le=MAX_SLOTS_PER_NODE, description="GPU slots in this server")
    x: Coordinate = 0.0
    y: Coordinate = 0.0


class Card(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id, min_length=1, max_length=MAX_ID_CHARS)
    node: str = Field(max_length=MAX_ID_CHARS, description="id of the node holding the card")
    slot: int = Field(0, ge=0, lt=MAX_SLOTS_PER_NODE)
    gpu: str = Field(max_length=MAX_NAME_CHARS, description="GPU name, as in the catalog or user-defined")
    capacity_bytes: int = Field(gt=0, le=MAX_CARD_BYTES, description="memory the driver reports, in bytes")
    stage: int = Field(0, ge=0, lt=MAX_PP, description="pipeline stage (0-based)")
    # Group labels; None means the card is alone in that dimension (a group of size 1).
    tp_group: GroupLabel | None = Field(None, description="tensor-parallel group label")
    dp_group: GroupLabel | None = Field(None, description="data-parallel / ZeRO group label")
    cp_group: GroupLabel | None = Field(None, description="context-parallel group label")
    ep_group: GroupLabel | None = Field(None, description="expert-parallel group label")


class Layout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    nodes: tuple[Node, ...] = Field((), max_length=MAX_NODES)
    cards: tuple[Card, ...] = Field((), max_length=MAX_CARDS)
    pp_layers: tuple[Annotated[int, Field(ge=0, le=MAX_LAYERS)], ...] | None = Field(
        None, max_length=MAX_PP, description="layers per stage, e.g. (11, 10, 10, 9)")
    vpp: int = Field(1, gt=0, le=MAX_VPP, description="virtual pipeline (interleaved) chunks per stage")

    @cached_property
    def topology(self) -> Topology:
        return Topology.of(self)

    def model_copy(self, *, update: dict | None = None, deep: bool = False) -> Layout:  # type: ignore[override]
        """A copy without the cached topology (it describes the original's cards)."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("topology", None)
        return copy


class Topology:
    """Group sizes and ranks derived once from a layout (cached on the layout)."""

    __slots__ = ("stages", "tp_size", "tp_rank", "dp_size", "dp_rank", "cp_size", "ep_size",
                 "node_index", "tp_members", "dp_members", "stage_members", "tp_spans_nodes", "keys", "slots",
                 "tp_group_stages", "dp_for_batch", "memo")

    stages: int
    tp_size: list[int]
    tp_rank: list[int]
    dp_size: list[int]
    dp_rank: list[int]
    cp_size: list[int]
    ep_size: list[int]
    node_index: list[int]
    tp_members: dict[object, list[int]]
    dp_members: dict[object, list[int]]
    stage_members: dict[int, list[int]]
    tp_spans_nodes: dict[object, bool]
    keys: list[tuple[int, int, int, int, int]]
    slots: list[CardSlot]
    tp_group_stages: dict[object, list[int]]
    dp_for_batch: int
    memo: dict[str, object]

    @classmethod
    def of(cls, layout: Layout) -> Topology:
        t = cls()
        t.memo = {}  # derived results other modules cache per layout (e.g. structural warnings)
        node_index = {n.id: i for i, n in enumerate(layout.nodes)}
        groups: dict[str, dict[object, list[int]]] = {"tp": {}, "dp": {}, "cp": {}, "ep": {}}
        stages: dict[int, list[int]] = {}
        for i, c in enumerate(layout.cards):
            if c.node not in node_index:
                raise PlanError(f"layout.cards[{i}].node", c.node, "the id of a node in layout.nodes")
            for dim, label in (("tp", c.tp_group), ("dp", c.dp_group), ("cp", c.cp_group), ("ep", c.ep_group)):
                groups[dim].setdefault(("alone", i) if label is None else label, []).append(i)
            stages.setdefault(c.stage, []).append(i)
        n = len(layout.cards)
        t.node_index = [node_index[c.node] for c in layout.cards]
        t.stages = len(stages)
        t.stage_members = stages
        t.tp_members = groups["tp"]
        t.dp_members = groups["dp"]
        t.tp_size, t.tp_rank = [0] * n, [0] * n
        t.dp_size, t.dp_rank = [0] * n, [0] * n
        t.cp_size, t.ep_size = [0] * n, [0] * n
        for members in groups["tp"].values():
            for rank, i in enumerate(members):
                t.tp_size[i], t.tp_rank[i] = len(members), rank
        for members in groups["dp"].values():
            for rank, i in enumerate(members):
                t.dp_size[i], t.dp_rank[i] = len(members), rank
        for members in groups["cp"].values():
            for i in members:
                t.cp_size[i] = len(members)
        for members in groups["ep"].values():
            for i in members:
                t.ep_size[i] = len(members)
        t.keys = [
            (c.stage, t.tp_size[i], t.dp_size[i], t.cp_size[i], t.ep_size[i]) for i, c in enumerate(layout.cards)
        ]
        t.slots = [
            CardSlot(i, c.id, t.node_index[i], c.node, c.gpu, c.stage, t.tp_rank[i], t.tp_size[i],
                     t.dp_rank[i], t.dp_size[i], c.capacity_bytes)
            for i, c in enumerate(layout.cards)
        ]
        t.tp_group_stages = {
            g: sorted({layout.cards[i].stage for i in members}) for g, members in groups["tp"].items()
        }
        t.dp_for_batch = Counter(t.dp_size).most_common(1)[0][0] if n else 1
        t.tp_spans_nodes = {
            g: len({t.node_index[i] for i in members}) > 1 for g, members in groups["tp"].items()
        }
        return t


def build_grid(
    *,
    tp: int = 1,
    pp: int = 1,
    dp: int = 1,
    cp: int = 1,
    ep: int = 1,
    gpus_per_node: int = 8,
    gpu: str,
    capacity_bytes: int,
    pp_layers: tuple[int, ...] | None = None,
    vpp: int = 1,
    node_prefix: str = "node",
) -> Layout:
    """A uniform TP x CP x DP x PP grid in Megatron's rank order.

    Rank order is TP fastest, then CP, then DP (EP is carved out of DP, fastest
    inside it), PP slowest: ``rank = tp_r + TP*(cp_r + CP*(dp_r + DP*pp_r))``.
    Cards fill nodes of ``gpus_per_node`` slots in rank order.
    """
    for name, value, hi in (("tp", tp, MAX_PARALLEL), ("pp", pp, MAX_PP), ("dp", dp, MAX_PARALLEL),
                            ("cp", cp, MAX_PARALLEL), ("ep", ep, MAX_PARALLEL),
                            ("gpus_per_node", gpus_per_node, MAX_SLOTS_PER_NODE), ("vpp", vpp, MAX_VPP)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
            raise PlanError(f"layout.{name}", value, f"an integer from 1 to {hi:,}")
    if dp * cp % ep:
        raise PlanError("layout.ep", ep, f"a divisor of dp x cp = {dp * cp}")
    if isinstance(capacity_bytes, bool) or not isinstance(capacity_bytes, int) or not 0 < capacity_bytes <= MAX_CARD_BYTES:
        raise PlanError("layout.capacity_bytes", capacity_bytes, f"a card memory from 1 byte to {MAX_CARD_BYTES:,} bytes")
    if len(gpu) > MAX_NAME_CHARS or len(node_prefix) > MAX_NAME_CHARS - 8:
        raise PlanError("layout.gpu", gpu, f"a GPU name of at most {MAX_NAME_CHARS} characters")
    world = tp * cp * dp * pp
    if world > MAX_CARDS:
        raise PlanError("layout", f"TP {tp} x CP {cp} x DP {dp} x PP {pp} = {world:,} cards",
                        f"at most {MAX_CARDS:,} cards in a plan")
    node_count = -(-world // gpus_per_node)
    if node_count > MAX_NODES:
        raise PlanError("layout.gpus_per_node", gpus_per_node,
                        f"enough GPUs per node to hold {world:,} cards in at most {MAX_NODES:,} nodes")
    nodes = tuple(
        Node(id=f"n{k}", name=f"{node_prefix}-{k}", slots=gpus_per_node, x=0.0, y=float(k))
        for k in range(node_count)
    )
    cards = []
    for rank in range(world):
        tp_r = rank % tp
        cp_r = rank // tp % cp
        dp_r = rank // (tp * cp) % dp
        pp_r = rank // (tp * cp * dp)
        cards.append(
            Card(
                id=f"c{rank}",
                node=f"n{rank // gpus_per_node}",
                slot=rank % gpus_per_node,
                gpu=gpu,
                capacity_bytes=capacity_bytes,
                stage=pp_r,
                tp_group=(pp_r * dp + dp_r) * cp + cp_r,
                dp_group=(pp_r * tp + tp_r) * cp + cp_r,
                cp_group=(pp_r * dp + dp_r) * tp + tp_r,
                ep_group=((pp_r * (dp // ep) + dp_r // ep) * cp + cp_r) * tp + tp_r,
            )
        )
    return Layout(nodes=nodes, cards=tuple(cards), pp_layers=pp_layers, vpp=vpp)

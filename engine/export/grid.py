"""The uniform parallel grid a launch config describes, read from (and built back into) a layout.

Launchers (Megatron-LM, DeepSpeed, vLLM) take group *sizes*, not per-card
groups, so only layouts that are a uniform TP x CP x DP x PP grid can be
exported; anything else raises a PlanError naming what differs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from engine.errors import PlanError
from engine.plan.layout import Layout, build_grid
from engine.plan.schema import Plan


@dataclass(frozen=True, slots=True)
class GridShape:
    tp: int
    pp: int
    dp: int
    cp: int
    ep: int
    vpp: int
    pp_layers: tuple[int, ...] | None
    gpus_per_node: int
    gpu: str
    capacity_bytes: int

    @property
    def world(self) -> int:
        return self.tp * self.pp * self.dp * self.cp

    @property
    def nodes(self) -> int:
        return -(-self.world // self.gpus_per_node)

    @property
    def procs_per_node(self) -> int:
        """Processes per node for torchrun: the largest divisor of the world that fits a node."""
        return next(k for k in range(min(self.world, self.gpus_per_node), 0, -1) if self.world % k == 0)

    def layout(self) -> Layout:
        return build_grid(tp=self.tp, pp=self.pp, dp=self.dp, cp=self.cp, ep=self.ep,
                          gpus_per_node=self.gpus_per_node, gpu=self.gpu, capacity_bytes=self.capacity_bytes,
                          pp_layers=self.pp_layers, vpp=self.vpp)


def _one_size(sizes: list[int], name: str) -> int:
    distinct = sorted(set(sizes))
    if len(distinct) != 1:
        raise PlanError(f"layout.{name}", distinct, f"one {name.upper()} size on every card (a uniform grid) to export a launch config")
    return distinct[0]


def grid_shape(plan: Plan) -> GridShape:
    layout = plan.layout
    if not layout.cards:
        raise PlanError("layout.cards", 0, "at least one card")
    topo = layout.topology
    tp, dp = _one_size(topo.tp_size, "tp"), _one_size(topo.dp_size, "dp")
    cp, ep = _one_size(topo.cp_size, "cp"), _one_size(topo.ep_size, "ep")
    pp = topo.stages
    if tp * cp * dp * pp != len(layout.cards):
        raise PlanError("layout.cards", len(layout.cards), f"TP × CP × DP × PP = {tp} × {cp} × {dp} × {pp} cards (a uniform grid)")
    gpu, _ = Counter(c.gpu for c in layout.cards).most_common(1)[0]
    capacity = min(c.capacity_bytes for c in layout.cards)
    slots = Counter(n.slots for n in layout.nodes).most_common(1)[0][0] if layout.nodes else 8
    return GridShape(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=layout.vpp, pp_layers=layout.pp_layers,
                     gpus_per_node=slots, gpu=gpu, capacity_bytes=capacity)

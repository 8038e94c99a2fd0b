"""A candidate layout the search keeps, and the search's counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from engine.planner.space import Geometry
from engine.planner.steptime import StepTime


class Candidate(NamedTuple):
    gpu: str
    capacity_bytes: int
    budget_bytes: int  # capacity x (1 - margin)
    geometry: Geometry
    dp: int
    ep: int
    zero: int
    micro_batch: int
    recompute: str
    sequence_parallel: bool
    microbatches: int  # per optimizer step
    max_total_bytes: int  # the heaviest card, exactly as engine.estimate computes it
    heaviest_stage: int
    time: StepTime
    train_s: float  # seconds to train the requested tokens
    cost: float  # USD, or GPU-hours when the GPU has no price

    @property
    def gpus(self) -> int:
        return self.geometry.cards_per_replica * self.dp

    @property
    def tp(self) -> int:
        return self.geometry.tp

    @property
    def pp(self) -> int:
        return self.geometry.pp

    @property
    def cp(self) -> int:
        return self.geometry.cp

    @property
    def vpp(self) -> int:
        return self.geometry.vpp

    @property
    def pp_layers(self) -> tuple[int, ...]:
        """Layers per stage (all chunks), even splits included."""
        return tuple(len(s) for s in self.geometry.stage_layers)

    @property
    def days_to_train(self) -> float:
        return self.train_s / 86400

    @property
    def tokens_per_s_per_gpu(self) -> float:
        return self.time.tokens_per_step / self.time.step_s / self.gpus

    @property
    def headroom_bytes(self) -> int:
        return self.capacity_bytes - self.max_total_bytes


@dataclass
class SearchStats:
    evaluated: int = 0  # configurations whose heavy cards' exact totals, fit and training time were computed
    fitting: int = 0  # evaluated configurations that fit
    pruned: int = 0  # ruled out by the memory bound: their results are never used
    dominated: int = 0  # not evaluated because they could not reach the front (the array search has no such bound: 0)
    skipped: int = 0  # not a distinct valid layout: global-batch divisibility, ZeRO over one replica
    geometries: int = 0
    engine_calls: int = 0  # engine breakdown calls (exactness checks and what the fast path cannot do)
    fallbacks: int = 0  # signatures where the fast path disagreed with the engine (the engine is then used)

    @property
    def configurations(self) -> int:
        return self.evaluated + self.pruned + self.dominated + self.skipped

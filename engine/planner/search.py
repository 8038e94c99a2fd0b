"""``search(PlannerRequest) -> PlannerResult``: every uniform layout within the card budget.

The layouts of one GPU type are evaluated on arrays, one (geometry, EP) at a
time (see :mod:`engine.planner.blocks` for the cells and the memory bound that
prunes them).  Nothing is capped: :class:`SearchStats` counts what was
evaluated, pruned by the memory bound and skipped as not a distinct layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.errors import PlanError
from engine.limits import (
    MAX_KEPT_CONFIGURATIONS,
    MAX_SEARCH_CONFIGURATIONS,
    SEARCH_BLOCK_CONFIGURATIONS,
)
from engine.model.params import parameter_count
from engine.planner.blocks import HardwareSearch
from engine.planner.candidate import Candidate, SearchStats
from engine.planner.memory import MemoryModel
from engine.planner.pareto import OBJECTIVE_KEYS, best_by_objective
from engine.planner.request import PlannerRequest


@dataclass
class PlannerResult:
    request: PlannerRequest
    fitting: list[Candidate]  # every fitting layout (keep_all), else the front
    front: list[Candidate]  # Pareto front of each GPU type: fewer cards, less training time, more headroom
    best: dict[str, Candidate | None]  # objective -> best candidate
    stats: SearchStats = field(default_factory=SearchStats)
    train_tokens: int = 0
    cancelled: bool = False

    @property
    def chosen(self) -> Candidate | None:
        """The best layout for the requested objective (None when nothing fits)."""
        return self.best[self.request.objective]


def train_tokens(request: PlannerRequest) -> int:
    """Tokens to train: the request's, or 20 per parameter (Hoffmann et al. 2022, "Chinchilla")."""
    return request.speed.train_tokens or 20 * parameter_count(request.model)


def search(request: PlannerRequest, cancelled=lambda: False, keep_all: bool = False,
           progress=None) -> PlannerResult:
    """The Pareto front of the fitting uniform layouts and the best one per objective.

    Every valid layout is evaluated (or ruled out by a memory bound); only the
    front becomes candidate objects, unless ``keep_all`` asks for every fitting
    layout.  The best per objective lies on the front (a dominated layout has a
    dominator with no more cards, time or cost).

    The search is sized before any geometry is laid out: more than
    ``engine.limits.MAX_SEARCH_CONFIGURATIONS`` configurations, each (geometry, EP) block counting as
    ``SEARCH_BLOCK_CONFIGURATIONS`` more (and with ``keep_all``, which keeps a candidate object per
    fitting layout, more than ``MAX_KEPT_CONFIGURATIONS``) is a PlanError.
    ``cancelled()`` is polled before each (geometry, EP) block (the GUI's worker thread);
    ``progress(done, total)`` (configurations) is called after each block.
    """
    stats = SearchStats()
    fitting: list[Candidate] = []
    tokens = train_tokens(request)
    runs, sized, total, blocks = [], [], 0, 0
    for hw in request.hardware:
        mem = MemoryModel(request.model, request.training, request.method)
        run = HardwareSearch(request, hw, mem, tokens, stats, keep_all)
        geometry_shapes = run.shapes()
        cells, n = run.size(geometry_shapes)
        sized.append((run, mem, geometry_shapes))
        total, blocks = total + cells, blocks + n
    check_search_size(total, blocks, keep_all)
    runs = [(run, mem, run.work(geometry_shapes)) for run, mem, geometry_shapes in sized]
    done = 0

    def advance(cells: int) -> None:
        nonlocal done
        done += cells
        if progress is not None:
            progress(done, total)

    stopped = False
    front: list[Candidate] = []
    # Allowed but absurd inputs (a huge global batch at a tiny MFU) overflow a step time to inf: such a layout
    # simply ranks last, so numpy's overflow warnings would only be noise on the user's stderr.
    with np.errstate(over="ignore", invalid="ignore"):
        for run, mem, work in runs:
            found = run.run(fitting, cancelled, work, advance)
            stats.engine_calls += mem.engine_calls
            stats.fallbacks += mem.fallbacks
            if found is None:
                stopped = True
                break
            # Per GPU type (a cheaper type may be slower and still the cheapest), by cards, then time.
            front += sorted(found, key=OBJECTIVE_KEYS["fewest-gpus"])
            if not keep_all:
                fitting += found
    return PlannerResult(request, fitting, front, best_by_objective(front), stats, tokens, stopped)


def check_search_size(configurations: int, blocks: int, keep_all: bool) -> None:
    """Refuse a search too large to answer in about a second: each (geometry, EP) block counts as
    ``SEARCH_BLOCK_CONFIGURATIONS`` configurations on top of its own (its fixed cost)."""
    hint = "lower --max-gpus, --max-cp or --max-vpp, fix --micro-batch, --zero or --recompute, or search whole nodes only"
    if keep_all and configurations > MAX_KEPT_CONFIGURATIONS:
        raise PlanError("planner", f"{configurations:,} configurations",
                        f"a search of at most {MAX_KEPT_CONFIGURATIONS:,} configurations when every fitting layout "
                        f"is kept (--all): {hint}")
    if configurations + SEARCH_BLOCK_CONFIGURATIONS * blocks > MAX_SEARCH_CONFIGURATIONS:
        raise PlanError("planner", f"{configurations:,} configurations in {blocks:,} (TP, PP, split, VPP, CP, EP) blocks",
                        f"a search of at most {MAX_SEARCH_CONFIGURATIONS:,} configurations, each block counting as "
                        f"{SEARCH_BLOCK_CONFIGURATIONS:,} more: {hint}")

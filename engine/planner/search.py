"""``search(PlannerRequest) -> PlannerResult``: every uniform layout within the card budget.

The layouts of one GPU type are walked in blocks of equal cards (see
:mod:`engine.planner.blocks` for the bounds that prune them).  Nothing is
capped: :class:`SearchStats` counts what was evaluated, pruned, skipped and
left out as unable to reach the Pareto front.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.params import parameter_count
from engine.planner.blocks import HardwareSearch
from engine.planner.candidate import Candidate, SearchStats
from engine.planner.memory import MemoryModel
from engine.planner.pareto import best_by_objective, pareto_front
from engine.planner.request import PlannerRequest


@dataclass
class PlannerResult:
    request: PlannerRequest
    fitting: list[Candidate]  # every fitting layout (keep_all) or those that could reach the front
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


def search(request: PlannerRequest, cancelled=lambda: False, keep_all: bool = False) -> PlannerResult:
    """The Pareto front of the fitting uniform layouts and the best one per objective.

    Layouts that cannot reach the front are not evaluated (``stats.dominated``);
    ``keep_all`` evaluates and returns every fitting layout instead.
    ``cancelled`` is polled between blocks (the GUI's worker thread).
    """
    stats = SearchStats()
    fitting: list[Candidate] = []
    tokens = train_tokens(request)
    stopped = False
    front: list[Candidate] = []
    for hw in request.hardware:
        mem = MemoryModel(request.model, request.training, request.method)
        run = HardwareSearch(request, hw, mem, tokens, stats, keep_all)
        found: list[Candidate] = []
        stopped = not run.run(found, cancelled)
        fitting += found
        front += pareto_front(found)  # per GPU type: a cheaper type may be slower and still the cheapest
        stats.engine_calls += mem.engine_calls
        stats.fallbacks += mem.fallbacks
        if stopped:
            break
    return PlannerResult(request, fitting, front, best_by_objective(fitting), stats, tokens, stopped)

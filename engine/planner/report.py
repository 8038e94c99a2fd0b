"""The planner's answer as data: candidates ordered by the objective, each re-checked by the engine.

Every candidate handed to a user passes through :func:`verified`: its heaviest
card is recomputed over every stage with ``engine.training.estimate.card_breakdown``, so
the figures shown are the engine's even if the search's fast path were off.
"""

from __future__ import annotations

from engine.limits import MAX_LISTED_CANDIDATES, MAX_LISTED_STAGE_CHECKS
from engine.planner.candidate import Candidate
from engine.planner.explain import binding, candidate_to_json, exact_max_total
from engine.planner.pareto import OBJECTIVE_KEYS
from engine.planner.request import PlannerRequest
from engine.planner.search import PlannerResult


def verified(request: PlannerRequest, c: Candidate) -> tuple[Candidate, bool]:
    """(candidate with the engine's heaviest card, whether the search had it right)."""
    exact, stage = exact_max_total(request, c)
    if exact == c.max_total_bytes:
        return c, True
    return c._replace(max_total_bytes=exact, heaviest_stage=stage), False


def ordered(result: PlannerResult, pool: str = "front") -> list[Candidate]:
    """The front (or every kept layout) ordered by the request's objective."""
    items = result.front if pool == "front" else result.fitting
    return sorted(items, key=OBJECTIVE_KEYS[result.request.objective])


def listed_candidates(result: PlannerResult, top: int | None, pool: str = "front") -> tuple[list[Candidate], int]:
    """(the first ``top`` candidates, verified; how many of them the engine corrected).

    ``top`` None or 0 lists all of them, up to ``engine.limits.MAX_LISTED_CANDIDATES``.  Each one is
    re-checked on every pipeline stage, so the list also stops before its stages pass
    ``MAX_LISTED_STAGE_CHECKS`` (the first candidate is always listed)."""
    items = ordered(result, pool)[:min(top or MAX_LISTED_CANDIDATES, MAX_LISTED_CANDIDATES)]
    out: list[Candidate] = []
    corrected = stages = 0
    for c in items:
        stages += c.pp
        if out and stages > MAX_LISTED_STAGE_CHECKS:
            break
        v, ok = verified(result.request, c)
        out.append(v)
        corrected += not ok
    return out, corrected


def result_to_json(result: PlannerResult, top: int | None = 20, pool: str = "front") -> dict:
    """``{"best": {...}, "candidates": [...], ...}`` (keys are a promise to scripts: add, never rename)."""
    return answer(result, top, pool)[0]


def answer(result: PlannerResult, top: int | None = 20, pool: str = "front") -> tuple[dict, list[Candidate]]:
    """(the JSON answer, the verified candidates its ``candidates`` list describes, in order)."""
    request = result.request
    listed, corrected = listed_candidates(result, top, pool)
    best_by: dict[str, dict | None] = {}
    for name, c in result.best.items():
        if c is None:
            best_by[name] = None
            continue
        v, ok = verified(request, c)
        corrected += not ok
        best_by[name] = candidate_to_json(request, v, binding(request, v, name), result.train_tokens)
    s = result.stats
    return ({
        "objective": request.objective,
        "best": best_by[request.objective],
        "best_by_objective": best_by,
        "candidates": [candidate_to_json(request, c, binding(request, c), result.train_tokens) for c in listed],
        "pool": pool,
        "pool_size": len(result.front if pool == "front" else result.fitting),
        "listed": len(listed),
        "margin": request.margin,
        "train_tokens": result.train_tokens,
        "units": "bytes",
        "cancelled": result.cancelled,
        "stats": {
            "configurations": s.configurations, "evaluated": s.evaluated, "fitting_evaluated": s.fitting,
            "pruned": s.pruned, "dominated": s.dominated, "skipped": s.skipped, "geometries": s.geometries,
            "engine_calls": s.engine_calls, "fallbacks": s.fallbacks, "corrected_by_engine": corrected,
        },
    }, listed)

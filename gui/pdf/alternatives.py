"""The PDF's "alternatives considered": layouts near the plan, each with the figure that rules it out.

Plain data (no Qt).  For a training plan on a uniform TP × CP × DP × PP grid the alternatives are

* one knob away: the same cards split another way (TP or PP doubled against DP), half or twice the
  data-parallel replicas, a shallower pipeline, the next ZeRO stage, another recompute mode, half or
  twice the micro-batch;
* the planner's own answers on the plan's GPU within its card budget (``engine.planner.search``,
  no safety margin): the fewest cards and the fastest layout;

and for every workload, the pinned baseline.  Each is estimated by the same engine and compared with
the plan (``engine.compare.compare_plans``: A = the plan, B = the alternative); the verdict names the
figure that decides: "does not fit on stage 1 by 3.20 GB", "18 % slower", "needs 16 cards".  Step
times are the planner's model (docs/planner.md), for training plans only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from engine.compare import PlanComparison, compare_plans
from engine.errors import PlanError
from engine.plan.schema import Plan, with_changes
from engine.report.records import Estimate
from engine.units import Unit, format_bytes
from gui.compare_data import SAME_SPEED, percent, time_change

MAX_NEIGHBOURS = 8
PLANNER_MAX_CARDS = 4096  # the planner searches the plan's card budget up to this many cards
RECOMPUTE_NEXT = {"none": ("selective",), "selective": ("none", "full"), "full": ("selective",)}


@dataclass(frozen=True, slots=True)
class Alternative:
    title: str  # "PP 8 × DP 1" / "the pinned baseline: <name>"
    change: str  # what differs from the plan
    source: str  # "one knob away", "the planner", "the baseline plan"
    cards: int
    fits: bool
    peak_bytes: int
    headroom_bytes: int
    verdict: str  # the figure that decides
    ruled_out: bool  # False: the alternative is as good or better by the figures compared (worth a look)
    estimated: bool = True  # False: the engine rejects the alternative (the verdict says why)


def _slower(change: float) -> str:
    return f"{percent(change)} slower" if change < 1 else f"{1 + change:.1f}× as long to train"


def _worst_stage(c: PlanComparison, side: str) -> tuple[int, int]:
    """(0-based stage, bytes over capacity) of the stage furthest over capacity on side "a" or "b"."""
    rows = [(r.stage, getattr(r, side)) for r in c.stages if getattr(r, side) is not None]
    stage, s = min(((k, s) for k, s in rows if not s.fits), key=lambda ks: ks[1].headroom_bytes)
    return stage, -s.headroom_bytes


def verdict(c: PlanComparison, unit: Unit | str) -> tuple[str, bool]:
    """(the figure that decides between the plan (A) and the alternative (B), whether it rules B out)."""
    a, b = c.a, c.b
    if _no_difference(c):
        return "the same figures as the plan", False
    if not b.fits:
        stage, over = _worst_stage(c, "b")
        text = f"does not fit on stage {stage + 1} by {format_bytes(over, unit)}"
        if not a.fits:
            a_stage, a_over = _worst_stage(c, "a")
            text += f" (the plan: stage {a_stage + 1} by {format_bytes(a_over, unit)})"
        return text, True
    if not a.fits:  # any layout that fits beats one that does not
        return f"fits where the plan does not, on {b.cards:,} cards: worth considering", False
    more, fewer = b.cards > a.cards, b.cards < a.cards
    if a.step is not None and b.step is not None:
        change = time_change(a.step, b.step)
        if change >= SAME_SPEED:
            if more:
                return f"needs {b.cards:,} cards (the plan: {a.cards:,}) and is {_slower(change)}", True
            return _slower(change) + (f" (on {b.cards:,} cards)" if fewer else ""), True
        if more:
            faster = f"; {percent(change)} faster" if change <= -SAME_SPEED else ""
            return f"needs {b.cards:,} cards (the plan: {a.cards:,}){faster}", True
        if change <= -SAME_SPEED:
            where = f" on {b.cards:,} cards" if fewer else ""
            return f"fits and is {percent(change)} faster{where}: worth considering", False
    elif more:
        return f"needs {b.cards:,} cards (the plan: {a.cards:,})", True
    if fewer:
        return f"fits on {b.cards:,} cards (the plan: {a.cards:,}): worth considering", False
    diff = b.headroom_bytes - a.headroom_bytes
    same = "same speed, " if a.step is not None and b.step is not None else ""
    if diff < 0:
        return f"{same}{format_bytes(-diff, unit)} less headroom", True
    return f"{same}{format_bytes(diff, unit)} more headroom: worth considering", False


def _alternative(c: PlanComparison, title: str, change: str, source: str, unit: Unit | str) -> Alternative:
    text, ruled_out = verdict(c, unit)
    return Alternative(title=title, change=change, source=source, cards=c.b.cards, fits=c.b.fits,
                       peak_bytes=c.b.peak_bytes, headroom_bytes=c.b.headroom_bytes, verdict=text,
                       ruled_out=ruled_out)


def _no_difference(c: PlanComparison) -> bool:
    """The alternative's figures equal the plan's (a knob this method or workload ignores)."""
    return (c.a.cards == c.b.cards and all(r.delta_bytes == 0 and not r.categories for r in c.stages)
            and (c.a.step is None) == (c.b.step is None)
            and (c.a.step is None or c.b.step is None or c.a.step.days_to_train == c.b.step.days_to_train))


def baseline_alternative(plan: Plan, est: Estimate, baseline: Plan, label: str, unit: Unit | str) -> Alternative:
    """The pinned baseline judged against the plan (a baseline the engine now rejects says why)."""
    title, change, source = f"the baseline {label}", baseline.name, "the baseline plan"
    try:
        c = compare_plans(plan, baseline, estimate_a=est)
    except PlanError as e:
        return Alternative(title=title, change=change, source=source, cards=len(baseline.layout.cards), fits=False,
                           peak_bytes=0, headroom_bytes=0, verdict=f"the engine rejects it: {e}", ruled_out=True,
                           estimated=False)
    return _alternative(c, title, change, source, unit)


# --- one knob away ------------------------------------------------------------------------------
def _grid_name(tp: int, pp: int, dp: int, cp: int) -> str:
    parts = [f"TP {tp}"] if tp > 1 else []
    parts += [f"PP {pp}"] if pp > 1 else []
    parts += [f"CP {cp}"] if cp > 1 else []
    parts += [f"DP {dp}"] if dp > 1 else []
    return " × ".join(parts) or "1 card"


def _neighbours(plan: Plan) -> Iterator[tuple[str, str, Plan]]:
    """(title, change, plan) for each one-knob change of a uniform training grid (invalid ones raise later)."""
    from engine.export.grid import grid_shape

    g = grid_shape(plan)
    grid = (g.tp, g.pp, g.dp, g.cp)
    moves = [("TP", "DP", 2), ("PP", "DP", 2), ("PP", "DP", 0.5), ("TP", "DP", 0.5), ("DP", None, 0.5),
             ("PP", None, 0.5), ("DP", None, 2)]
    sizes = {"TP": g.tp, "PP": g.pp, "DP": g.dp}
    for name, against, factor in moves:
        new = dict(sizes)
        new[name] = int(sizes[name] * factor) if factor > 1 else sizes[name] // 2
        if new[name] < 1 or (factor < 1 and sizes[name] % 2):
            continue
        if against is not None:
            new[against] = sizes[against] // 2 if factor > 1 else sizes[against] * 2
            if new[against] < 1 or (factor > 1 and sizes[against] % 2):
                continue
        if (new["TP"], new["PP"], new["DP"], g.cp) == grid:
            continue
        shape = dataclasses.replace(g, tp=new["TP"], pp=new["PP"], dp=new["DP"],
                                    pp_layers=g.pp_layers if new["PP"] == g.pp else None)
        change = ", ".join(f"{k} {sizes[k]} → {new[k]}" for k in ("TP", "PP", "DP") if new[k] != sizes[k])
        yield _grid_name(new["TP"], new["PP"], new["DP"], g.cp), change, with_changes(plan, layout=shape.layout())
    yield from _training_neighbours(plan)


def _training_neighbours(plan: Plan) -> Iterator[tuple[str, str, Plan]]:
    tr = plan.training
    changes: list[tuple[str, str, dict]] = []
    if not tr.distributed_optimizer:
        for z in (tr.zero + 1, tr.zero - 1):
            if 0 <= z <= 3 and not (tr.offload_params and z != 3):
                changes.append((f"ZeRO-{z}", f"ZeRO stage {tr.zero} → {z}", {"zero": z}))
    for mode in RECOMPUTE_NEXT.get(tr.recompute, ()):
        changes.append((f"recompute {mode}", f"recompute {tr.recompute} → {mode}", {"recompute": mode}))
    for mb in (tr.micro_batch * 2, tr.micro_batch // 2):
        if mb >= 1:
            changes.append((f"micro-batch {mb}", f"micro-batch {tr.micro_batch} → {mb}", {"micro_batch": mb}))
    for title, change, update in changes:
        # through TrainingConfig.searched: leaving full recompute also leaves DeepSpeed's checkpoint switches
        other = tr.searched(update.get("zero", tr.zero), update.get("micro_batch", tr.micro_batch),
                            update.get("recompute", tr.recompute), tr.sequence_parallel)
        yield title, change, with_changes(plan, training=other)


def nearest_alternatives(plan: Plan, est: Estimate, unit: Unit | str, limit: int = MAX_NEIGHBOURS) -> list[Alternative]:
    """Training plans on a uniform grid: the one-knob neighbours the engine accepts whose figures differ
    from the plan's (others: none).  The same cards split otherwise come first."""
    if plan.mode != "training":
        return []
    try:
        candidates = list(_neighbours(plan))
    except PlanError:  # not a uniform grid: no neighbours to name
        return []
    out: list[Alternative] = []
    for title, change, other in candidates:
        try:
            c = compare_plans(plan, other, estimate_a=est)
        except PlanError:
            continue  # a size the model or the workload refuses
        if not _no_difference(c):
            out.append(_alternative(c, title, change, "one knob away", unit))
        if len(out) >= limit:
            break
    return out


# --- the planner ----------------------------------------------------------------------------------
def planner_alternatives(plan: Plan, est: Estimate, unit: Unit | str) -> list[Alternative]:
    """The planner's fewest-card and fastest layouts on the plan's GPU within its card budget (training
    plans on a uniform grid of a catalog GPU with a known peak; others: none)."""
    if plan.mode != "training" or not 0 < len(plan.layout.cards) <= PLANNER_MAX_CARDS:
        return []
    from engine.export.grid import grid_shape
    from engine.planner import search
    from engine.planner.explain import candidate_plan
    from engine.planner.request import request_for_plan

    try:
        g = grid_shape(plan)
        request = request_for_plan(plan, g.gpu, gpus_per_node=g.gpus_per_node, max_gpus=g.world,
                                   objective="fastest", margin=0.0)
        result = search(request)
    except PlanError:
        return []
    out: list[Alternative] = []
    seen = []
    for objective, title in (("fewest-gpus", "the planner's fewest-card layout"),
                             ("fastest", f"the planner's fastest layout within {g.world:,} cards")):
        c = result.best.get(objective)
        if c is None or c in seen:
            continue
        seen.append(c)
        other = candidate_plan(request, c, name=plan.name)
        change = (f"{_grid_name(c.tp, c.pp, c.dp, c.cp)} on {c.gpus:,} cards, ZeRO-{c.zero}, micro-batch "
                  f"{c.micro_batch}, recompute {c.recompute}" + (", sequence parallel" if c.sequence_parallel else "")
                  + (f", {c.vpp} chunks per stage" if c.vpp > 1 else ""))
        try:
            comparison = compare_plans(plan, other, estimate_a=est)
        except PlanError:
            continue  # the candidate's plan refused by estimate (the planner and the engine disagree): not listed
        out.append(_alternative(comparison, title, change, "the planner", unit))
    return out


def alternatives(plan: Plan, est: Estimate, unit: Unit | str, baseline: tuple[Plan, str] | None = None) -> list[Alternative]:
    """Everything the section lists: the pinned baseline first, then the planner's answers, then the
    one-knob neighbours."""
    out = [] if baseline is None else [baseline_alternative(plan, est, baseline[0], baseline[1], unit)]
    out += planner_alternatives(plan, est, unit)
    out += nearest_alternatives(plan, est, unit)
    return out

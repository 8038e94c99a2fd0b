"""The search over one GPU type, block by block.

A block is one (geometry, DP, EP): the same cards, varied by ZeRO stage,
recompute, sequence parallel and micro-batch.  Blocks are walked in order of
card count.  Within a block, per (ZeRO stage, recompute, SP) group:

* memory bound: model states + the smallest activations the group can have
  (its smallest micro-batch at the fewest micro-batches in flight) over the
  budget: the whole group is skipped (``pruned``);
* front bound: the group's best possible training time and headroom are
  already beaten by a layout with no more cards: skipped (``dominated``);
  off with ``keep_all``;
* micro-batch monotonicity: activations grow with the micro-batch at fixed
  in-flight counts, so once one does not fit, larger ones with the same
  in-flight counts are skipped (``pruned``).

Step times depend on (geometry, micro-batch, recompute, micro-batches per
step) only, DP traffic on (block, ZeRO): both are cached.
"""

from __future__ import annotations

from operator import add

from engine.errors import PlanError
from engine.memory.schedule import in_flight_chunks
from engine.planner.candidate import Candidate, SearchStats
from engine.planner.memory import MemoryModel, Variant
from engine.planner.pareto import Staircase
from engine.planner.request import Hardware, PlannerRequest
from engine.planner.space import Geometry, dp_options, ep_options, geometries
from engine.planner.steptime import StepTime, StepTimeModel

Timing = tuple[float, tuple[float, float, float, float]]  # (seconds without DP traffic, the four parts)


def microbatches_per_step(request: PlannerRequest, g: Geometry, dp: int, mb: int) -> int | None:
    """Micro-batches per step (``engine.validation.microbatches_per_step``), or None when not allowed."""
    gb = request.training.global_batch
    if gb is None:
        return g.pp
    if gb % (mb * dp):
        return None
    m = gb // (mb * dp)
    if g.vpp > 1 and m % g.pp:
        return None
    return m


def variant_groups(request: PlannerRequest, tp: int) -> list[list[Variant]]:
    """Groups of (micro-batch, recompute, SP), one per (recompute, SP), micro-batch ascending."""
    space, tr = request.space, request.training
    mbs = sorted(set(space.micro_batches))
    if request.method.method == "seed":
        # The article's rules ignore recompute and SP: enumerating them would only repeat layouts.
        return [[(mb, tr.recompute, False) for mb in mbs]]
    sps = sorted(set(space.sequence_parallel)) if tp > 1 else [False]
    return [[(mb, rc, sp) for mb in mbs] for rc in dict.fromkeys(space.recompute) for sp in sps]


class HardwareSearch:
    def __init__(self, request: PlannerRequest, hw: Hardware, mem: MemoryModel, tokens: int,
                 stats: SearchStats, keep_all: bool) -> None:
        self.request, self.hw, self.mem, self.tokens, self.stats = request, hw, mem, tokens, stats
        self.keep_all = keep_all
        self.budget = int(hw.capacity_bytes * (1 - request.margin))
        if self.budget < 1:
            raise PlanError("--margin", request.margin, "a fraction below 1 that leaves memory to use")
        space = request.space
        self.speed = StepTimeModel.of(request.model, request.training, request.method, hw, request.speed,
                                      space.gpus_per_node)
        self.groups = {False: variant_groups(request, 1), True: variant_groups(request, 2)}
        self.staircase = Staircase()
        self._timings: dict[tuple, Timing] = {}
        self._chunks: dict[tuple, tuple[int, ...]] = {}
        self._shapes: dict[tuple, tuple] = {}
        self._ms: dict[tuple, dict[int, int]] = {}
        self._rows: dict[tuple, list[tuple | None]] = {}
        self.zeros = list(dict.fromkeys(space.zero_stages))
        # DP traffic of every ZeRO stage is the same multiple of (D-1)/D x parameters: the one
        # sending the least is the same for every block with more than one replica.
        self._quietest_zero = min(self.zeros, key=lambda z: self.speed.dp_bytes(z, 2, 1))
        self._visible_budget = {w: mem.visible_budget(self.budget, 2 if w else 1) for w in (False, True)}

    def run(self, out: list[Candidate], cancelled) -> bool:
        """Append candidates to ``out``; False when cancelled."""
        space, request = self.request.space, self.request
        geos = geometries(request.model, request.training, request.method, space, self.hw.max_gpus)
        self.stats.geometries += len(geos)
        # By card count (the front bound needs every layout with fewer cards seen first); among
        # equal counts, shallow pipelines and small TP first: usually the fastest, so they make
        # the bound bite sooner.  The order changes only the work, not the answer.
        blocks = sorted((g.cards_per_replica * dp, g.pp, g.tp, i, dp) for i, g in enumerate(geos)
                        for dp in dp_options(g, self.hw.max_gpus, space))
        for n, (*_, i, dp) in enumerate(blocks):
            if n % 64 == 0 and cancelled():
                return False
            for ep in ep_options(request.model, dp):
                self.block(geos[i], dp, ep, out)
        return True

    # Cached pieces -------------------------------------------------------------------
    def timing(self, g: Geometry, mb: int, rc: str, m: int) -> Timing:
        key = (id(g), mb, rc, m)
        hit = self._timings.get(key)
        if hit is None:
            # dp = 1: with m fixed, every part is the same for any DP (docs/planner.md).
            compute, bubble, tp_s, cp_s, _ = self.speed.pipeline_parts(
                tp=g.tp, pp=g.pp, vpp=g.vpp, cp=g.cp, dp=1, micro_batch=mb, microbatches=m, recompute=rc,
                max_stage_layers=g.max_stage_layers)
            hit = self._timings[key] = (compute + bubble + tp_s + cp_s, (compute, bubble, tp_s, cp_s))
        return hit

    def rows(self, g: Geometry, variants: list[Variant], ms: dict[int, int]) -> list[tuple | None]:
        """Per variant: (micro-batches per step, timing, tokens per step per replica, in-flight counts)."""
        key = (id(g), variants[0][1], tuple(ms.items()))
        hit = self._rows.get(key)
        if hit is None:
            hit = self._rows[key] = [
                None if (m := ms.get(mb)) is None
                else (m, self.timing(g, mb, rc, m), mb * m * self.speed.seq, self.chunks(g, m))
                for mb, rc, _ in variants]
        return hit

    def microbatches(self, g: Geometry, dp: int, variants: list[Variant]) -> dict[int, int]:
        """Micro-batch size -> micro-batches per step, for the sizes this block allows."""
        key = (id(g), dp if self.request.training.global_batch is not None else 0)
        hit = self._ms.get(key)
        if hit is None:
            hit = self._ms[key] = {mb: m for mb, _, _ in variants
                                   if (m := microbatches_per_step(self.request, g, dp, mb)) is not None}
        return hit

    def chunks(self, g: Geometry, m: int) -> tuple[int, ...]:
        key = (id(g), m)
        hit = self._chunks.get(key)
        if hit is None:
            hit = self._chunks[key] = tuple(in_flight_chunks(k, g.pp, m, g.vpp) for k in g.heavy_stages)
        return hit

    def shape(self, g: Geometry, ep: int, groups: list[list[Variant]], ms: dict[int, int]) -> tuple:
        """Per (geometry, EP, micro-batches): the activations bounding each group on each heavy stage,
        the best seconds per token of each recompute (DP traffic aside, times DP) and the most
        tokens per step per replica."""
        key = (id(g), ep, tuple(ms.items()))
        hit = self._shapes.get(key)
        if hit is None:
            fewest = self.chunks(g, min(ms.values()))
            rests = [[self.mem.rest_bytes(g, k, ep, vs[0], c) for k, c in zip(g.heavy_stages, fewest, strict=True)]
                     for vs in groups]
            seq = self.speed.seq
            per_token = {rc: min(self.timing(g, mb, rc, m)[0] / (mb * m * seq) for mb, m in ms.items())
                         for rc in {vs[0][1] for vs in groups}}
            least_rest = [min(r[i] for r in rests) for i in range(len(g.heavy_stages))]
            params = max(self.mem.card_param_count(g, k, ep) for k in g.heavy_stages)
            hit = self._shapes[key] = (rests, per_token, max(mb * m for mb, m in ms.items()) * seq, least_rest,
                                       params)
        return hit

    # One block -------------------------------------------------------------------------
    def block(self, g: Geometry, dp: int, ep: int, out: list[Candidate]) -> None:
        groups = self.groups[g.tp > 1]
        per_zero = sum(len(vs) for vs in groups)
        zeros = self.zeros
        if dp * g.cp == 1 and 0 in zeros and len(zeros) > 1:
            self.stats.skipped += per_zero * (len(zeros) - 1)  # ZeRO over one replica = ZeRO-0
            zeros = [0]
        ms = self.microbatches(g, dp, groups[0])
        if not ms:
            self.stats.skipped += per_zero * len(zeros)
            return
        rests, per_token, tokens_per_replica, least_rest, params = self.shape(g, ep, groups, ms)
        fastest_rc = min(per_token.values()) / dp
        mem, world, shard = self.mem, g.cards_per_replica * dp, dp * g.cp
        # Cheapest test first, on a floor of the model states over every ZeRO stage and the DP
        # traffic of the ZeRO stage that sends the least.
        floor = max(map(add, (mem.states_floor(g, k, ep, shard) for k in g.heavy_stages), least_rest))
        if floor > self._visible_budget[world > 1]:
            self.stats.pruned += per_zero * len(zeros)
            return
        least_dp = self.speed.dp_seconds(tp=g.tp, cp=g.cp, dp=dp, zero=self._quietest_zero, card_params=params)
        if not self.keep_all and self.staircase.dominated(
                self.tokens * (fastest_rc + least_dp / (tokens_per_replica * dp)),
                self.hw.capacity_bytes - mem.with_overhead(floor, world)):
            self.stats.dominated += per_zero * len(zeros)
            return
        dp_s = {z: self.speed.dp_seconds(tp=g.tp, cp=g.cp, dp=dp, zero=z, card_params=params) for z in zeros}
        states = {z: [mem.states_bytes(g, k, ep, z, shard) for k in g.heavy_stages] for z in zeros}
        visible_budget = self._visible_budget[world > 1]
        capacity = self.hw.capacity_bytes
        for z in zeros:
            st, dp_z = states[z], dp_s[z] / (tokens_per_replica * dp)
            least = max(map(add, st, least_rest))
            if least > visible_budget:
                self.stats.pruned += per_zero
                continue
            if not self.keep_all and self.staircase.dominated(
                    self.tokens * (fastest_rc + dp_z), capacity - mem.with_overhead(least, world)):
                self.stats.dominated += per_zero
                continue
            for variants, rest in zip(groups, rests, strict=True):
                visible = max(map(add, st, rest))
                if visible > visible_budget:
                    self.stats.pruned += len(variants)
                    continue
                bound = mem.with_overhead(visible, world)
                if not self.keep_all and self.staircase.dominated(
                        self.tokens * (per_token[variants[0][1]] / dp + dp_z), capacity - bound):
                    self.stats.dominated += len(variants)
                    continue
                self.group(g, dp, ep, z, variants, ms, st, dp_s[z], bound, out)

    def group(self, g: Geometry, dp: int, ep: int, zero: int, variants: list[Variant], ms: dict[int, int],
              states: list[int], dp_s: float, bound: int, out: list[Candidate]) -> None:
        """Evaluate one (block, ZeRO, recompute, SP) over its micro-batches, smallest first."""
        mem, stats, world = self.mem, self.stats, g.cards_per_replica * dp
        best_headroom = self.hw.capacity_bytes - bound
        checked = mem.confirmed(g, ep, zero)
        failed = None
        for i, (variant, row) in enumerate(zip(variants, self.rows(g, variants, ms), strict=True)):
            if row is None:
                stats.skipped += 1
                continue
            m, timing, tokens_per_dp, chunks = row
            tokens = tokens_per_dp * dp
            train_s = self.tokens * (timing[0] + dp_s) / tokens
            if not self.keep_all and self.staircase.dominated(train_s, best_headroom):
                stats.dominated += 1
                continue
            if chunks == failed:
                stats.pruned += len(variants) - i
                return
            stats.evaluated += 1
            if checked:  # the engine confirmed these signatures: sum the cached parts
                visible, negative_stage = max((s + mem.rest_bytes(g, k, ep, variant, c), -k)
                                              for k, s, c in zip(g.heavy_stages, states, chunks, strict=True))
                worst, stage = mem.with_overhead(visible, world), -negative_stage
            else:
                worst, stage = -1, 0
                for k, s, c in zip(g.heavy_stages, states, chunks, strict=True):
                    total = mem.total(g, k, dp, ep, zero, variant, c, world, s)
                    if total > worst:
                        worst, stage = total, k
            if worst > self.budget:
                failed = chunks
                continue
            stats.fitting += 1
            if self.keep_all or not self.staircase.dominated(train_s, self.hw.capacity_bytes - worst):
                out.append(self.candidate(g, dp, ep, zero, variant, m, worst, stage, dp_s, timing, tokens, train_s))
                if not self.keep_all:
                    self.staircase.insert(train_s, self.hw.capacity_bytes - worst)

    def candidate(self, g: Geometry, dp: int, ep: int, zero: int, variant: Variant, m: int, worst: int,
                  stage: int, dp_s: float, timing: Timing, tokens: int, train_s: float) -> Candidate:
        mb, rc, sp = variant
        base, (compute, bubble, tp_s, cp_s) = timing
        t = StepTime(compute, bubble, tp_s, cp_s, dp_s, base + dp_s, tokens)
        price = self.hw.price_usd_per_hour
        cost = g.cards_per_replica * dp * train_s / 3600 * (price if price is not None else 1.0)
        return Candidate(self.hw.gpu, self.hw.capacity_bytes, self.budget, g, dp, ep, zero, mb, rc,
                         sp and g.tp > 1, m, worst, stage, t, train_s, cost)

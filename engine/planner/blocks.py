"""The search over one GPU type, one (geometry, EP) at a time, on arrays.

For one geometry and EP size, every (ZeRO stage, variant, DP) is a cell of an
array (variant = micro-batch, recompute, SP).  Memory, fit and training time
are computed for all cells at once with numpy, repeating the engine's integer
steps exactly (int64; the fragmentation share takes the float steps of
``int(visible * pct / 100)``), so a cell costs nanoseconds, not a breakdown.
Every cell is accounted for, nothing is capped:

* ``skipped``: not a distinct valid layout (ZeRO over one replica, a micro-batch
  the global batch does not allow);
* ``pruned`` (memory bound, per ZeRO stage and DP): the model states plus the
  smallest activations any variant has on each heavy stage are over the budget,
  so every variant of that (ZeRO, DP) is: their results are never used (DP
  columns every ZeRO stage prunes are not computed at all);
* ``evaluated``: every other cell: each heavy card's exact total, the fit, the
  step and training time.

Without ``keep_all`` only the Pareto front becomes :class:`Candidate` objects
(:class:`engine.planner.front.FrontPool`); with it, every fitting cell does.
``card_breakdown`` confirms the fast path once per code path (TP, CP, EP, ZeRO,
first/last stage); on a mismatch that signature's cells of this block are
recomputed with it, and its memory bound is not used.
"""

from __future__ import annotations

import numpy as np

from engine.errors import PlanError
from engine.planner.block_arrays import Block, Cells, cells_of, column_front, select_columns
from engine.planner.candidate import Candidate, SearchStats
from engine.planner.front import FrontPool
from engine.planner.memory import BYTES_CAP, MemoryModel, Variant
from engine.planner.request import Hardware, PlannerRequest
from engine.planner.space import Geometry, Shape, divisors, dp_count, dp_options, geometries, shapes
from engine.planner.steptime import StepTime, StepTimeModel
from engine.training.memory.schedule import in_flight_chunks

Timing = tuple[float, tuple[float, float, float, float]]  # (seconds without DP traffic, the four parts)
_new = tuple.__new__  # Candidate and StepTime are NamedTuples: skip their keyword-parsing __new__


def variants_for(request: PlannerRequest, tp: int) -> tuple[Variant, ...]:
    """(micro-batch, recompute, SP) to try, recompute and SP outermost, micro-batch ascending."""
    space, tr = request.space, request.training
    mbs = sorted(set(space.micro_batches))
    if request.method.method == "seed":
        # The article's rules ignore recompute and SP: enumerating them would only repeat layouts.
        return tuple((mb, tr.recompute, False) for mb in mbs)
    sps = sorted(set(space.sequence_parallel)) if tp > 1 else [False]
    return tuple((mb, rc, sp) for rc in dict.fromkeys(space.recompute) for sp in sps for mb in mbs)


def ep_groups(request: PlannerRequest, dps: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(EP, the DP sizes it divides): EP is carved out of DP and must divide the experts."""
    moe = request.model.moe
    if moe is None or not len(dps):
        return [(1, dps)]
    return [(e, dps[dps % e == 0]) for e in divisors(moe.experts) if e <= dps[-1]]


class HardwareSearch:
    def __init__(self, request: PlannerRequest, hw: Hardware, mem: MemoryModel, tokens: int,
                 stats: SearchStats, keep_all: bool) -> None:
        self.request, self.hw, self.mem, self.tokens, self.stats = request, hw, mem, tokens, stats
        self.keep_all = keep_all
        self.budget = int(hw.capacity_bytes * (1 - request.margin))
        if self.budget < 1:
            raise PlanError("--margin", request.margin, "a fraction below 1 that leaves memory to use")
        self.speed = StepTimeModel.of(request.model, request.training, request.method, hw, request.speed,
                                      request.space.gpus_per_node)
        self.variants = {False: variants_for(request, 1), True: variants_for(request, 2)}
        self.zeros = list(dict.fromkeys(request.space.zero_stages))
        self._visible_budget = (mem.visible_budget(self.budget, 1), mem.visible_budget(self.budget, 2))
        self._timings: dict[tuple, Timing] = {}
        self._shapes: dict[int, tuple[int, ...]] = {}
        self._time_rows: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # (sorted m, [m, variant] seconds)
        self._ties: dict[tuple, np.ndarray | None] = {}
        self._caps: dict[int, list[int]] = {}
        self._confirmed: dict[tuple, bool] = {}

    def shapes(self) -> list[Shape]:
        r = self.request
        return shapes(r.model, r.training, r.method, r.space, self.hw.max_gpus)

    def size(self, shapes: list[Shape]) -> tuple[int, int]:
        """(configurations, blocks) that :meth:`work` on ``shapes`` will hold, counted without listing them."""
        r, cells, blocks = self.request, 0, 0
        per_dp = len(self.zeros)
        for tp, pp, _, _, cp in shapes:
            per = tp * pp * cp
            count, largest = dp_count(per, self.hw.max_gpus, r.space)
            eps = [1] if r.model.moe is None else [e for e in divisors(r.model.moe.experts) if e <= largest]
            variants = len(self.variants[tp > 1])
            for ep in eps:
                n = count if ep == 1 else dp_count(per, self.hw.max_gpus, r.space, ep)[0]
                cells += n * variants * per_dp
                blocks += n > 0
        return cells, blocks

    def work(self, shapes: list[Shape] | None = None) -> list[tuple[Geometry, int, np.ndarray]]:
        """The (geometry, EP, DP sizes) blocks this search evaluates, in order (cheap: no memory yet)."""
        request = self.request
        geos = geometries(request.model, self.shapes() if shapes is None else shapes)
        self.stats.geometries += len(geos)
        return [(g, ep, dps) for g in geos
                for ep, dps in ep_groups(request, dp_options(g, self.hw.max_gpus, request.space)) if len(dps)]

    def configurations(self, work: list[tuple[Geometry, int, np.ndarray]]) -> int:
        """Cells of every block of ``work``: what :class:`SearchStats` will count."""
        return sum(len(dps) * len(self.variants[g.tp > 1]) for g, _, dps in work) * len(self.zeros)

    def run(self, out: list[Candidate], cancelled, work: list[tuple[Geometry, int, np.ndarray]] | None = None,
            progress=None) -> list[Candidate] | None:
        """The Pareto front; every fitting candidate appended to ``out`` with ``keep_all``.

        None when cancelled (polled before each block).  ``progress(cells)`` is called after each
        block with the number of configurations it covered.
        """
        pool, kept = FrontPool(), list[Cells]()
        for g, ep, dps in self.work() if work is None else work:
            if cancelled():
                return None
            b = self.evaluate(g, ep, dps)
            if progress is not None:
                progress(len(dps) * len(self.variants[g.tp > 1]) * len(self.zeros))
            if b is None:
                continue
            if self.keep_all:
                out += self.candidates(cells_of(b, np.flatnonzero(b.fit), self.mem))
            # Within a DP column the overhead is one strictly increasing function of the visible bytes,
            # so less of either means more headroom: the column's front is the same on both.
            on_front = column_front(b.train, b.heavy, b.fit, self.tie_classes(b))
            survivors = cells_of(b, np.flatnonzero(on_front), self.mem)
            pool.add(len(kept), g.cards_per_replica * survivors.dp, survivors.train,
                     self.hw.capacity_bytes - survivors.worst, np.arange(len(survivors.dp)))
            kept.append(survivors)  # the block's arrays go; only its survivors stay
        picked: dict[int, list[int]] = {}
        for index, f in pool.front():
            picked.setdefault(index, []).append(f)
        front: list[Candidate] = []
        for index, rows in sorted(picked.items()):
            front += self.candidates(kept[index].take(np.array(rows, dtype=np.int64)))
        return front

    def tie_classes(self, b: Block) -> np.ndarray | None:
        """Rows (ZeRO x variants + v) of ``b`` whose training times are equal in every DP column, as
        ``column_front`` takes them, or None when no two are.

        A cell's time is tokens x (base + DP traffic) / tokens per step: the base and the tokens per step
        depend on the variant through its micro-batch and recompute only (neither the step-time model nor
        the micro-batches per step read SP), and the DP traffic depends on the ZeRO stage through its row
        of ``dp_s`` (ZeRO-1 and ZeRO-2 send the same)."""
        first = tuple(next(j for j in range(len(b.dp_s)) if np.array_equal(b.dp_s[j], row)) for row in b.dp_s)
        if (first, b.variants) in self._ties:
            return self._ties[first, b.variants]
        groups: dict[tuple, list[int]] = {}
        for z, zc in enumerate(first):
            for v, (mb, rc, _) in enumerate(b.variants):
                groups.setdefault((zc, mb, rc), []).append(z * len(b.variants) + v)
        size = max(len(g) for g in groups.values())
        hit = None
        if size > 1:  # padded by repeating a class's first row, which changes no minimum
            hit = np.array([g + g[:1] * (size - len(g)) for g in groups.values()], dtype=np.int64)
        self._ties[first, b.variants] = hit
        return hit

    # Cached pieces -------------------------------------------------------------------
    def timing(self, g: Geometry, mb: int, rc: str, m: int) -> Timing:
        """Memoised by what the step time reads of the geometry: TP, PP, VPP, CP and the fullest stage."""
        shape = self._shapes.get(id(g))
        if shape is None:
            shape = self._shapes[id(g)] = (g.tp, g.pp, g.vpp, g.cp, g.max_stage_layers)
        key = (shape, mb, rc, m)
        hit = self._timings.get(key)
        if hit is None:
            # dp = 1: with m fixed, every part is the same for any DP (docs/planner.md).
            tp, pp, vpp, cp, max_stage_layers = shape
            compute, bubble, tp_s, cp_s, _ = self.speed.pipeline_parts(
                tp=tp, pp=pp, vpp=vpp, cp=cp, dp=1, micro_batch=mb, microbatches=m, recompute=rc,
                max_stage_layers=max_stage_layers)
            hit = self._timings[key] = (compute + bubble + tp_s + cp_s, (compute, bubble, tp_s, cp_s))
        return hit

    def chunk_table(self, g: Geometry, ms: list[int]) -> list[tuple[int, ...]]:
        """``in_flight_chunks`` of each heavy stage (rows) for each of ``ms`` micro-batches per step.

        A stage holds its warm-up's chunk passes, at most the step's m x VPP: min(its count with
        micro-batches to spare, m x VPP)."""
        caps = self._caps.get(id(g))
        if caps is None:
            caps = self._caps[id(g)] = [in_flight_chunks(k, g.pp, 2**62, g.vpp) for k in g.heavy_stages]
        if len(ms) == 1:
            return [(min(cap, ms[0] * g.vpp),) for cap in caps]
        passes = np.array(ms, dtype=np.int64) * g.vpp
        return [tuple(np.minimum(cap, passes).tolist()) for cap in caps]

    def microbatch_table(self, g: Geometry, dps: np.ndarray, variants: tuple[Variant, ...]) -> tuple[np.ndarray, np.ndarray]:
        """([variant, DP] micro-batches per step, [variant, DP] allowed), as
        ``engine.training.checks.microbatches_per_step`` requires; disallowed cells get 1."""
        gb = self.request.training.global_batch
        mbs = np.array([v[0] for v in variants], dtype=np.int64)[:, None]
        if gb is None:
            return np.full((len(variants), len(dps)), g.pp, dtype=np.int64), np.ones((len(variants), len(dps)), bool)
        per = mbs * dps[None, :]
        ok = gb % per == 0
        m = np.where(ok, gb // per, 1)
        if g.vpp > 1:
            ok &= m % g.pp == 0
        return np.where(ok, m, 1), ok

    def variant_parts(self, g: Geometry, ep: int, variants: tuple[Variant, ...], m: np.ndarray,
                      allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """([heavy stage, variant, DP] activations + logits, [variant, DP] seconds without DP traffic);
        0 where the global batch does not allow the cell.

        Both depend on DP only through m, the micro-batches per step.  Without a global batch every
        column has m = PP: both come back as read-only broadcast views of one column."""
        nk, mem = len(g.heavy_stages), self.mem
        us = [g.pp] if self.request.training.global_batch is None else sorted(set(m[allowed].tolist()))
        if not us:
            return np.zeros((nk, *m.shape), dtype=np.int64), np.zeros(m.shape)
        table = np.empty((nk, len(us), len(variants)), dtype=np.int64)  # [stage, u, variant]
        for i, (k, c) in enumerate(zip(g.heavy_stages, self.chunk_table(g, us), strict=True)):
            if len(c) == 1:
                table[i] = mem.rest_table(g, k, ep, variants, c)
                continue
            # a stage's chunks in flight stop growing once m passes its warm-up: few distinct values
            distinct, where = np.unique(c, return_inverse=True)
            table[i] = mem.rest_table(g, k, ep, variants, tuple(distinct.tolist()))[where]
        times = self.times(g, variants, us)  # [u, variant]
        if self.request.training.global_batch is None:
            return (np.broadcast_to(table[:, 0, :, None], (nk, *m.shape)),
                    np.broadcast_to(times[0][:, None], m.shape))
        vi, di = np.nonzero(allowed)
        ui = np.searchsorted(us, m[vi, di])
        rest = np.zeros((nk, *m.shape), dtype=np.int64)
        base = np.zeros(m.shape)
        rest[:, vi, di] = table[:, ui, vi]
        base[vi, di] = times[ui, vi]
        return rest, base

    def times(self, g: Geometry, variants: tuple[Variant, ...], ms: list[int]) -> np.ndarray:
        """[m, variant] seconds per step without DP traffic (``timing(...)[0]``) for each of ``ms``
        micro-batches per step: ``StepTimeModel.pipeline_parts`` on arrays of Python ints, so every
        element takes the scalar call's steps (exact integer products, the same floats).  Rows are
        memoised by what they read of the geometry (TP, PP, VPP, CP, the fullest stage)."""
        shape = self._shapes.get(id(g))
        if shape is None:
            shape = self._shapes[id(g)] = (g.tp, g.pp, g.vpp, g.cp, g.max_stage_layers)
        if len(ms) == 1 and (shape, variants, ms[0]) in self._time_rows:
            return self._time_rows[shape, variants, ms[0]][1]
        known, rows = self._time_rows.get((shape, variants), (np.empty(0, dtype=np.int64), np.empty((0, len(variants)))))
        wanted = np.array(ms, dtype=np.int64)
        missing = np.setdiff1d(wanted, known).tolist()
        if missing:
            tp, pp, vpp, cp, max_stage_layers = shape
            new = np.empty((len(missing), len(variants)))
            microbatches = np.array(missing, dtype=object)[:, None]
            for rc in dict.fromkeys(v[1] for v in variants):
                cols = [i for i, v in enumerate(variants) if v[1] == rc]
                micro_batch = np.array([variants[i][0] for i in cols], dtype=object)[None, :]
                compute, bubble, tp_s, cp_s, _ = self.speed.pipeline_parts(
                    tp=tp, pp=pp, vpp=vpp, cp=cp, dp=1, micro_batch=micro_batch, microbatches=microbatches,
                    recompute=rc, max_stage_layers=max_stage_layers)
                new[:, cols] = compute + bubble + tp_s + cp_s
            known, rows = np.concatenate((known, missing)), np.concatenate((rows, new))
            order = np.argsort(known)
            known, rows = known[order], rows[order]
            self._time_rows[shape, variants] = (known, rows)
        out = rows[np.searchsorted(known, wanted)]
        if len(ms) == 1:  # without a global batch every block of a geometry asks for m = PP alone
            self._time_rows[shape, variants, ms[0]] = (wanted, out)
        return out

    def dp_seconds(self, g: Geometry, ep: int, dps: np.ndarray) -> np.ndarray:
        """[ZeRO, DP] exposed DP traffic: ``StepTimeModel.dp_seconds`` with the same float steps."""
        sp = self.speed
        params = max(self.mem.card_param_count(g, k, ep) for k in g.heavy_stages)
        shard = dps * g.cp
        f = (shard - 1) / shard  # 0 for one replica: no traffic
        link = np.where(g.tp * g.cp * dps <= sp.gpus_per_node, sp.intra_bps, sp.inter_node_bps / sp.gpus_per_node)
        rows = []
        for z in self.zeros:
            if z == 0:
                sent = 2 * f * params * sp.grad_bytes
            else:
                sent = f * params * (sp.grad_bytes + (2 if z == 3 else 1) * sp.weight_bytes)
            rows.append(sent / link * (1 - sp.overlap))
        return np.array(rows)

    # One (geometry, EP) ----------------------------------------------------------------
    def evaluate(self, g: Geometry, ep: int, dps: np.ndarray) -> Block | None:
        variants, zeros, stats, mem = self.variants[g.tp > 1], self.zeros, self.stats, self.mem
        shard = dps * g.cp
        m, allowed = self.microbatch_table(g, dps, variants)
        valid = np.broadcast_to(allowed, (len(zeros), *allowed.shape)).copy()
        if 0 in zeros and len(zeros) > 1:  # ZeRO over one replica is ZeRO-0: one layout, counted once
            for i, z in enumerate(zeros):
                if z:
                    valid[i][:, shard == 1] = False
        stats.skipped += valid.size - int(valid.sum())
        states, step = mem.states_table(g, ep, zeros, shard), mem.step_table(g, ep, zeros, shard)
        rest, base = self.variant_parts(g, ep, variants, m, allowed)
        rest = self.rest_by_zero(g, ep, variants, m, rest)  # [ZeRO, heavy stage, variant, DP]
        kept = mem.kept_table(g, ep, variants)  # [heavy stage, variant]: held at every moment, or None
        multi = g.cards_per_replica * dps > 1
        wrong = self.confirm(g, ep, variants, dps, m, valid, states, rest, step, kept)
        # Memory bound per (ZeRO, DP): the least activations any allowed variant has, per heavy stage.
        least_rest = np.where(allowed[None, None], rest, np.iinfo(np.int64).max).min(axis=2)
        least_rest = np.where(np.any(allowed, axis=0)[None, None], least_rest, 0)
        visible_budget = np.where(multi, self._visible_budget[1], self._visible_budget[0])
        least = least_rest if step is None else np.maximum(least_rest, step)
        if kept is not None:  # min over variants of kept + max(rest, step) >= min kept + max(min rest, step)
            least = least + kept.min(axis=1)[None, :, None]
        over = (states + least).max(axis=1) > visible_budget  # [ZeRO, DP]
        over[[zi for zi, _ in wrong]] = False  # a bound on an unconfirmed fast path could be wrong
        stats.pruned += int(valid.sum(axis=1)[over].sum())
        live = valid & ~over[:, None, :]
        cols = live.any(axis=(0, 1))
        if not cols.any():
            return None
        if not cols.all():  # columns every ZeRO stage prunes are not computed
            dps, m, base, multi, visible_budget = dps[cols], m[:, cols], select_columns(base, cols), multi[cols], \
                visible_budget[cols]
            live, states, rest = live[:, :, cols], states[:, :, cols], select_columns(rest, cols)
            step = None if step is None else step[:, :, cols]
        rows = np.flatnonzero(live.any(axis=(1, 2)))  # ZeRO stages the bound prunes everywhere are not computed
        if len(rows) < len(zeros):
            live, states, rest, step = live[rows], states[rows], rest[rows], None if step is None else step[rows]
            wrong = [(int(np.searchsorted(rows, zi)), ki) for zi, ki in wrong if zi in rows]
        heavy, fit, stage = self.heaviest(g, ep, dps, m, live, states, rest, step, kept, multi, visible_budget, wrong,
                                          [zeros[z] for z in rows])
        stats.evaluated += int(live.sum())
        stats.fitting += int(fit.sum())
        mbs = np.array([v[0] for v in variants], dtype=np.int64)[:, None]
        tokens = (mbs * m * dps[None, :]).astype(np.float64) * self.speed.seq  # float: no int64 overflow
        dp_s = self.dp_seconds(g, ep, dps)[rows]
        train = self.tokens * (base[None] + dp_s[:, None, :]) / tokens[None]
        return Block(g, ep, variants, rows, dps, m, tokens, dp_s, heavy, train, fit, states, rest, step, kept, multi,
                     stage)

    def heaviest(self, g: Geometry, ep: int, dps: np.ndarray, m: np.ndarray, live: np.ndarray, states: np.ndarray,
                 rest: np.ndarray, step: np.ndarray | None, kept: np.ndarray | None, multi: np.ndarray,
                 visible_budget: np.ndarray, wrong: list[tuple[int, int]],
                 zeros: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """([ZeRO, variant, DP] the heaviest card's bytes, whether it fits, its stage or None).

        The bytes are allocator-visible, the stage None: the runtime overhead grows strictly with the
        visible bytes (``MemoryModel.with_overhead``), so the heaviest card is the one that shows the most
        and it fits when those bytes are within the visible budget; its total is computed only for the cells
        that become candidates.  Where the fast path disagreed with the engine (``wrong``: (row, heavy stage)
        pairs), totals instead.  ``zeros``: each row's ZeRO stage."""
        visible = states[:, :, None, :] + (rest if step is None else np.maximum(rest, step[:, :, None, :]))
        if kept is not None:
            visible = visible + kept[None, :, :, None]
        if not wrong:
            heavy = visible.max(axis=1)
            return heavy, live & (heavy <= visible_budget), None
        totals = self.mem.with_overhead_array(visible, multi)  # [ZeRO, stage, variant, DP]
        variants = self.variants[g.tp > 1]
        for zi, ki in wrong:
            zero, k = zeros[zi], g.heavy_stages[ki]
            for v, d in np.argwhere(live[zi]).tolist():
                totals[zi, ki, v, d] = min(BYTES_CAP, self.exact_total(g, ep, zero, k, variants[v], int(dps[d]),
                                                                        int(m[v, d])))
        heavy = totals.max(axis=1)
        return heavy, live & (heavy <= self.budget), totals.argmax(axis=1)

    def exact_total(self, g: Geometry, ep: int, zero: int, k: int, variant: Variant, dp: int, m: int) -> int:
        """One card's total straight from ``card_breakdown``."""
        ctx = self.mem.context(g, k, dp, ep, zero, variant, in_flight_chunks(k, g.pp, m, g.vpp),
                               g.cards_per_replica * dp)
        return self.mem._breakdown(ctx).total_bytes

    def rest_by_zero(self, g: Geometry, ep: int, variants: tuple[Variant, ...], m: np.ndarray,
                     rest: np.ndarray) -> np.ndarray:
        """``rest`` ([heavy stage, variant, DP]) for each ZeRO row: the same for all (a broadcast view), except
        that without ZeRO the cells of one micro-batch per step start without gradients under the huggingface
        profile (``engine.training.memory.gradient_lifetime``) and take ``MemoryModel.fresh_rest_table``."""
        out = np.broadcast_to(rest[None], (len(self.zeros), *rest.shape))
        ones = m == 1
        if 0 not in self.zeros or not ones.any():
            return out
        fresh = self.mem.fresh_rest_table(g, ep, variants)
        if fresh is None:
            return out
        out = out.copy()
        z0 = self.zeros.index(0)
        out[z0] = np.where(ones[None], fresh[:, :, None], rest)
        return out

    def confirm(self, g: Geometry, ep: int, variants: tuple[Variant, ...], dps: np.ndarray, m: np.ndarray,
                valid: np.ndarray, states: np.ndarray, rest: np.ndarray, step: np.ndarray | None,
                kept: np.ndarray | None) -> list[tuple[int, int]]:
        """Check each (ZeRO, heavy stage) signature once against ``card_breakdown``, on its first
        valid cell; the (ZeRO, stage) index pairs where the fast path disagrees (``fallbacks``)."""
        wrong = []
        for zi, zero in enumerate(self.zeros):
            first = np.flatnonzero(valid[zi])
            if not len(first):
                continue
            v, d = divmod(int(first[0]), valid.shape[2])
            dp, world = int(dps[d]), g.cards_per_replica * int(dps[d])
            for ki, k in enumerate(g.heavy_stages):
                # The fast path takes the same steps for every stage with the same ZeRO stage and
                # first/last role, TP > 1 (sequence parallelism), CP > 1 and EP > 1; the sizes, the
                # stage's parameter counts (the engine's card_params) and DP only change the numbers.
                # One check per such code path.
                signature = (g.tp > 1, g.cp > 1, ep > 1, zero, k == 0, k == g.pp - 1)
                if self._confirmed.get(signature):
                    continue
                above = max(int(rest[zi, ki, v, d]), 0 if step is None else int(step[zi, ki, d]))
                above += 0 if kept is None else int(kept[ki, v])
                fast = self.mem.with_overhead(int(states[zi, ki, d]) + above, world)
                agrees = self._confirmed[signature] = fast == self.exact_total(g, ep, zero, k, variants[v], dp,
                                                                                int(m[v, d]))
                if not agrees:
                    self.mem.fallbacks += 1
                    wrong.append((zi, ki))
        return wrong

    def candidates(self, c: Cells) -> list[Candidate]:
        g, hw = c.g, self.hw
        price = hw.price_usd_per_hour if hw.price_usd_per_hour is not None else 1.0
        cards_per, heavy, ep = g.cards_per_replica, g.heavy_stages, c.ep
        rows = zip(c.zero.tolist(), c.variant.tolist(), c.dp.tolist(), c.m.tolist(), c.tokens.tolist(),
                   c.dp_s.tolist(), c.worst.tolist(), c.stage.tolist(), c.train.tolist(), strict=True)
        out: list[Candidate] = []
        timings: dict[tuple[int, int], Timing] = {}
        for z, v, dp, m, tokens, dp_s, worst, stage, train_s in rows:
            mb, rc, sp = c.variants[v]
            timing = timings.get((v, m))
            if timing is None:
                timing = timings[v, m] = self.timing(g, mb, rc, m)
            base, parts = timing
            t = _new(StepTime, (*parts, dp_s, base + dp_s, int(tokens)))
            cost = cards_per * dp * train_s / 3600 * price
            out.append(_new(Candidate, (hw.gpu, hw.capacity_bytes, self.budget, g, dp, ep, self.zeros[z], mb, rc,
                                        sp and g.tp > 1, m, worst, heavy[stage], t, train_s, cost)))
        return out

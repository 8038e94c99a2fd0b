"""The arrays of one evaluated (geometry, EP) block, the cells taken from them, and a block's front.

A block holds every (ZeRO stage, variant, DP) cell of one geometry and EP size as numpy arrays
(:class:`Block`); :func:`cells_of` takes some of them out as :class:`Cells`, one entry per cell,
and :func:`column_front` keeps the fitting cells on each DP column's (time, headroom) front.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.planner.memory import MemoryModel, Variant
from engine.planner.space import Geometry


def select_columns(a: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``a[..., cols]``; an array broadcast along its last axis stays a broadcast view."""
    if a.strides[-1] == 0:
        return np.broadcast_to(a[..., :1], (*a.shape[:-1], int(cols.sum())))
    return a[..., cols]


def column_front(time: np.ndarray, heavy: np.ndarray, fit: np.ndarray, ties: np.ndarray | None = None) -> np.ndarray:
    """The fitting cells on their DP column's 2-D front (less time, more headroom).

    ``heavy`` is the heaviest card's bytes, or anything that orders the cells of a column the same
    way (less of it is more headroom).  Each column (one card count) is sorted on its own by
    (time, heavy), ties in list order (within a column the list runs over ZeRO, then variant: row
    z x variants + v), and a cell survives when its heavy bytes are below every one before it:
    ``pareto._front_2d`` for the cells of one card count of this block.  Rows without a fitting cell
    are left out of the sort, and sorting by time alone suffices in a column where no two fitting
    cells take the same time.

    ``ties`` ([class, member] row indices, ascending, padded by repeating the first member) groups rows
    whose times are equal in every column.  Of a class only its first cell in (heavy, list) order can
    survive in a column (every other one comes after it with no less heavy bytes), so only that one,
    its representative, enters the sort.
    """
    shape = fit.shape
    cols = shape[2]
    fit2, out = fit.reshape(-1, cols), np.zeros((shape[0] * shape[1], cols), dtype=bool)
    big = np.iinfo(np.int64).max
    col = np.arange(cols)
    if ties is None:
        rows = np.flatnonzero(fit2.any(axis=1))
        rep = np.repeat(rows[:, None], cols, axis=1)  # [row, column]
        w = np.where(fit2[rows], heavy.reshape(-1, cols)[rows], big)
    else:
        members = np.where(fit2, heavy.reshape(-1, cols), big)[ties]  # [class, member, column]
        pick = members.argmin(axis=1)  # the least heavy member, the first of equals (padding repeats the first)
        w = np.take_along_axis(members, pick[:, None, :], axis=1)[:, 0]
        rep = ties[np.arange(len(ties))[:, None], pick]
        live = np.flatnonzero((w < big).any(axis=1))
        rep, w = rep[live], w[live]
    if not len(rep):
        return out.reshape(shape)
    f = w < big
    t = np.where(f, time.reshape(-1, cols)[rep, col], np.inf)  # cells that do not fit sort last
    idx = np.argsort(t, axis=0, kind="stable")
    ts = np.take_along_axis(t, idx, axis=0)
    tied = np.flatnonzero(((ts[1:] == ts[:-1]) & (ts[1:] < np.inf)).any(axis=0))
    if len(tied):  # columns where fitting cells take the same time: order them by heavy bytes, then list
        idx[:, tied] = np.lexsort((rep[:, tied], w[:, tied], t[:, tied]), axis=0)
    ws = np.take_along_axis(w, idx, axis=0)
    keep = np.empty(ws.shape, dtype=bool)
    keep[0] = True
    keep[1:] = ws[1:] < np.minimum.accumulate(ws, axis=0)[:-1]
    sub = np.zeros(ws.shape, dtype=bool)
    np.put_along_axis(sub, idx, keep, axis=0)
    kept = f & sub
    out[rep[kept], np.broadcast_to(col, rep.shape)[kept]] = True
    return out.reshape(shape)


@dataclass(slots=True)
class Block:
    """One evaluated (geometry, EP): arrays indexed [ZeRO, variant, DP] (or the listed subset: the ZeRO
    stages with a live cell, the DP sizes with one)."""

    g: Geometry
    ep: int
    variants: tuple[Variant, ...]
    zero: np.ndarray  # the ZeRO rows' index into the search's ZeRO stages
    dp: np.ndarray  # DP sizes of the columns
    m: np.ndarray  # [variant, DP] micro-batches per step
    tokens: np.ndarray  # [variant, DP] tokens per step
    dp_s: np.ndarray  # [ZeRO, DP] exposed DP traffic per step
    heavy: np.ndarray  # [ZeRO, variant, DP] heaviest card: allocator-visible bytes, or total bytes (see `totals`)
    train: np.ndarray  # [ZeRO, variant, DP] seconds to train the requested tokens
    fit: np.ndarray  # [ZeRO, variant, DP] evaluated and within the budget
    states: np.ndarray  # [ZeRO, heavy stage, DP] model states (allocator-visible bytes)
    rest: np.ndarray  # [ZeRO, heavy stage, variant, DP] the peak above them, the optimizer step aside
    step: np.ndarray | None  # [ZeRO, heavy stage, DP] the optimizer step's temporaries (None: none)
    kept: np.ndarray | None  # [heavy stage, variant] held at every moment of the step (None: none)
    multi: np.ndarray  # [DP] more than one card (NCCL buffers)
    stage: np.ndarray | None  # [ZeRO, variant, DP] index into g.heavy_stages of the heaviest card when
    # `heavy` holds totals (a fallback to the engine); None when `heavy` holds visible bytes

    def worst(self, mem: MemoryModel, flat: np.ndarray, di: np.ndarray) -> np.ndarray:
        """The heaviest card's total bytes of the cells ``flat`` (DP columns ``di``)."""
        heavy = self.heavy.ravel()[flat]
        return heavy if self.stage is not None else mem.with_overhead_array(heavy, self.multi[di])

    def heaviest(self, zi: np.ndarray, vi: np.ndarray, di: np.ndarray) -> np.ndarray:
        """Index into g.heavy_stages of the heaviest card of each cell (ties: the first stage)."""
        if self.stage is not None:
            return self.stage[zi, vi, di]
        above = self.rest[zi, :, vi, di]  # [cell, heavy stage]
        if self.step is not None:
            above = np.maximum(above, self.step[zi, :, di])
        if self.kept is not None:
            above = above + self.kept[:, vi].T
        return (self.states[zi, :, di] + above).argmax(axis=1)


@dataclass(slots=True)
class Cells:
    """Some cells of a block, one entry per cell: what a :class:`Candidate` needs."""

    g: Geometry
    ep: int
    variants: tuple[Variant, ...]
    zero: np.ndarray  # index into the search's ZeRO stages
    variant: np.ndarray  # index into variants
    dp: np.ndarray
    m: np.ndarray
    tokens: np.ndarray
    dp_s: np.ndarray
    worst: np.ndarray
    stage: np.ndarray  # index into g.heavy_stages
    train: np.ndarray

    def take(self, rows: np.ndarray) -> Cells:
        return Cells(self.g, self.ep, self.variants, self.zero[rows], self.variant[rows], self.dp[rows], self.m[rows],
                     self.tokens[rows], self.dp_s[rows], self.worst[rows], self.stage[rows], self.train[rows])


def cells_of(b: Block, flat: np.ndarray, mem: MemoryModel) -> Cells:
    """The cells ``flat`` (indices into b's [ZeRO, variant, DP] arrays), in that order."""
    zi, vi, di = np.unravel_index(flat, b.fit.shape)
    return Cells(b.g, b.ep, b.variants, b.zero[zi].astype(np.int8), vi.astype(np.int16), b.dp[di], b.m[vi, di],
                 b.tokens[vi, di], b.dp_s[zi, di], b.worst(mem, flat, di), b.heaviest(zi, vi, di).astype(np.int16),
                 b.train.ravel()[flat])

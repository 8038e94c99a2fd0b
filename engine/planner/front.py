"""The Pareto front of many evaluated layouts at array speed, identical to :func:`pareto_front`.

Points are (cards, training time, headroom), offered in the order of the list
``keep_all`` returns.  :func:`pareto_front` keeps, per card count, the
points that beat every point before them in (time, -headroom, list order), then
drops those matched by a point with fewer cards.  :func:`front_2d_mask` is its
first step on arrays; :class:`FrontPool` collects the survivors of each block
and takes both steps per card count, so that only the final front becomes objects.
"""

from __future__ import annotations

import numpy as np


def front_2d_mask(group: np.ndarray, time: np.ndarray, headroom: np.ndarray, top: int) -> np.ndarray:
    """Indices (ascending) of the points on their group's 2-D front (less time, more headroom).

    The points must come in list order.  Within a group, in (time, -headroom)
    order, ties in list order (the sort is stable), a point survives when its
    headroom beats every headroom before it: exactly ``pareto._front_2d`` over
    the list.  ``headroom`` must lie in [0, top]; ``group`` is any integer label.
    """
    if not len(time):
        return np.empty(0, dtype=np.int64)
    idx = np.lexsort((-headroom, time, group))
    g = group[idx]
    rank = np.cumsum(np.concatenate(([0], g[1:] != g[:-1])))  # 0, 1, 2 ... per group, ascending
    lifted = headroom[idx] + rank * (top + 1)  # each group above every earlier one: the running max resets
    best_before = np.maximum.accumulate(lifted)
    keep = np.empty(len(idx), dtype=bool)
    keep[0] = True
    keep[1:] = lifted[1:] > best_before[:-1]
    return np.sort(idx[keep])


class FrontPool:
    """Points that may reach the front, from every block of one GPU type; the front at the end."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, block: int, cards: np.ndarray, time: np.ndarray, headroom: np.ndarray, flat: np.ndarray) -> None:
        """Offer fitting points of one block, in list order (``flat``: their index in the block).

        Blocks must be offered in list order too.  Points another point of the same block
        and card count beats may be left out (the block's 2-D fronts suffice).
        """
        self.parts.append((cards.astype(np.int32), time, headroom, np.full(len(flat), block, dtype=np.int32),
                           flat.astype(np.int32)))

    def front(self) -> list[tuple[int, int]]:
        """(block, flat index) of every point on the 3-D front, by cards, then time.

        Card counts are taken in increasing order.  A point that a point with fewer cards matches
        (no more time, no less headroom) is dropped first, with one search in the staircase of the
        smaller counts' fronts; the 2-D front of the points left is that card count's share of the
        front (a point the staircase drops would only hide points the staircase drops too), and
        joins the staircase.  The same answer as ``front_2d_mask`` over everything followed by the
        staircase, without sorting every point.
        """
        if not self.parts:
            return []
        cards, time, headroom, block, flat = (np.concatenate(a) for a in zip(*self.parts, strict=True))
        order = np.argsort(cards.astype(np.uint16) if cards.max() < 2**16 else cards, kind="stable")  # radix sort
        cards, time, headroom = cards[order], time[order], headroom[order]
        starts = np.flatnonzero(np.concatenate(([True], cards[1:] != cards[:-1], [True])))
        stair_t, stair_h = np.empty(0), np.empty(0, dtype=np.int64)  # the fronts of smaller counts
        out: list[tuple[int, int]] = []
        for lo, hi in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
            t, h = time[lo:hi], headroom[lo:hi]
            i = np.searchsorted(stair_t, t, side="right")  # stair points with no more time: i of them
            alive = np.flatnonzero((i == 0) | (stair_h[np.maximum(i - 1, 0)] < h)) if len(stair_t) else \
                np.arange(hi - lo)
            if not len(alive):
                continue
            kept = alive[_front_2d_order(t[alive], h[alive])]  # by time, then headroom, then list order
            listed = order[lo + kept]
            out += zip(block[listed].tolist(), flat[listed].tolist(), strict=True)
            stair_t, stair_h = _staircase(np.concatenate((stair_t, t[kept])), np.concatenate((stair_h, h[kept])))
        return out


def _front_2d_order(time: np.ndarray, headroom: np.ndarray) -> np.ndarray:
    """Indices of the points on the 2-D front (less time, more headroom), ordered by (time, -headroom);
    ties are kept once, the first in the given order (``pareto._front_2d``)."""
    idx = np.lexsort((-headroom, time))
    hs = headroom[idx]
    keep = np.empty(len(idx), dtype=bool)
    keep[0] = True
    keep[1:] = hs[1:] > np.maximum.accumulate(hs)[:-1]
    return idx[keep]


def _staircase(time: np.ndarray, headroom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points no other point matches (time ascending, headroom ascending): for any (t, h), some point
    has time <= t and headroom >= h exactly when the staircase's last point with time <= t has
    headroom >= h (``pareto.Staircase``)."""
    idx = _front_2d_order(time, headroom)
    return time[idx], headroom[idx]

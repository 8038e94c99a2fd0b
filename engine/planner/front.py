"""The Pareto front of many evaluated layouts at array speed, identical to :func:`pareto_front`.

Points are (cards, training time, headroom), offered in the order of the list
``keep_all`` returns.  :func:`pareto_front` keeps, per card count, the
points that beat every point before them in (time, -headroom, list order), then
drops those matched by a point with fewer cards.  :func:`front_2d_mask` is its
first step on arrays; :class:`FrontPool` collects the survivors of each block
and runs the second step, so that only the final front becomes objects.
"""

from __future__ import annotations

import numpy as np

from engine.planner.pareto import Staircase


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

    def __init__(self, top: int) -> None:
        self.top = top
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, block: int, cards: np.ndarray, time: np.ndarray, headroom: np.ndarray, flat: np.ndarray) -> None:
        """Offer fitting points of one block, in list order (``flat``: their index in the block).

        Blocks must be offered in list order too.  Points another point of the same block
        and card count beats may be left out (the block's 2-D fronts suffice).
        """
        self.parts.append((cards, time, headroom, np.full(len(flat), block), flat))

    def front(self) -> list[tuple[int, int]]:
        """(block, flat index) of every point on the 3-D front, by cards, then time."""
        if not self.parts:
            return []
        cards, time, headroom, block, flat = (np.concatenate(a) for a in zip(*self.parts, strict=True))
        keep = front_2d_mask(cards, time, headroom, self.top)
        keep = keep[np.lexsort((-headroom[keep], time[keep], cards[keep]))]  # stable: ties stay in list order
        stairs, out = Staircase(), []
        rows = zip(cards[keep].tolist(), time[keep].tolist(), headroom[keep].tolist(), block[keep].tolist(),
                   flat[keep].tolist(), strict=True)
        group: list[tuple[float, int]] = []
        current = None
        for n, t, h, b, f in rows:
            if n != current:
                for point in group:  # a card count's points join the staircase once it is done
                    stairs.insert(*point)
                group, current = [], n
            if not stairs.dominated(t, h):
                out.append((b, f))
                group.append((t, h))
        return out

"""The Pareto front of (cards, training time, memory headroom) and the best layout per objective."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Protocol


class Ranked(Protocol):
    gpus: int
    train_s: float
    headroom_bytes: int
    cost: float


def dominates(a: Ranked, b: Ranked) -> bool:
    """``a`` is no worse than ``b`` on every axis and better on one."""
    no_worse = a.gpus <= b.gpus and a.train_s <= b.train_s and a.headroom_bytes >= b.headroom_bytes
    better = a.gpus < b.gpus or a.train_s < b.train_s or a.headroom_bytes > b.headroom_bytes
    return no_worse and better


def _front_2d(items: list) -> list:
    """Points not dominated on (train_s lower, headroom higher); ties kept once each."""
    out, best_headroom = [], None
    for it in sorted(items, key=lambda c: (c.train_s, -c.headroom_bytes)):
        if best_headroom is None or it.headroom_bytes > best_headroom:
            out.append(it)
            best_headroom = it.headroom_bytes
    return out


class Staircase:
    """Points (train_s, headroom) seen so far, kept as a staircase of the non-dominated ones.

    ``dominated(t, h)``: is there a point with train_s <= t and headroom >= h?  One bisection.
    """

    def __init__(self) -> None:
        self.times: list[float] = []  # increasing
        self.headrooms: list[int] = []  # increasing: the best headroom at or below each time

    def dominated(self, t: float, h: int) -> bool:
        i = bisect_right(self.times, t)
        return bool(i) and self.headrooms[i - 1] >= h

    def insert(self, t: float, h: int) -> None:
        if self.dominated(t, h):
            return
        i = bisect_right(self.times, t)
        j = i
        while j < len(self.times) and self.headrooms[j] <= h:
            j += 1
        self.times[i:j] = [t]
        self.headrooms[i:j] = [h]


def pareto_front(items: Sequence) -> list:
    """Non-dominated candidates: fewer cards, less training time, more headroom.

    Sweep by card count; the staircase of points with fewer cards answers
    "is this point dominated?" with one bisection.
    """
    stairs = Staircase()
    front = []
    for _, group in groupby(sorted(items, key=lambda c: c.gpus), key=lambda c: c.gpus):
        kept = [it for it in _front_2d(list(group)) if not stairs.dominated(it.train_s, it.headroom_bytes)]
        front.extend(kept)
        for it in kept:
            stairs.insert(it.train_s, it.headroom_bytes)
    return front


OBJECTIVE_KEYS: dict[str, Callable] = {
    "fewest-gpus": lambda c: (c.gpus, c.train_s, -c.headroom_bytes),
    "fastest": lambda c: (c.train_s, c.gpus, -c.headroom_bytes),
    "cheapest": lambda c: (c.cost, c.train_s, c.gpus, -c.headroom_bytes),
}


def best_by_objective(items: Sequence) -> dict:
    """The best candidate for each objective (None when nothing fits)."""
    return {name: min(items, key=key, default=None) for name, key in OBJECTIVE_KEYS.items()}

"""argparse value types shared by the commands (argparse prefixes the flag to the message).

Every number a flag takes is checked here against :mod:`engine.limits` before
any work: integers within their range (``8``, ``4096``, ``1e4``, never a
70-digit number), floats finite and within theirs.
"""

from __future__ import annotations

import argparse
import importlib
import math
import re
from collections.abc import Iterator, Sequence

from engine.errors import quote
from engine.limits import MAX_PARALLEL

_INT = re.compile(r"^\s*[+-]?\d{1,30}\s*$")
_FLOAT = re.compile(r"^\s*[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,4})?\s*$")


def _error(text: str, allowed: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"{quote(text)}: expected {allowed}")


def parse_int(text: str, lo: int, hi: int) -> int:
    """``8``, ``4096`` or ``1e4`` -> an int in [lo, hi]; ArgumentTypeError otherwise."""
    allowed = f"an integer from {lo:,} to {hi:,}"
    if _INT.match(text):
        value = int(text)
    elif _FLOAT.match(text):
        number = float(text)
        if not math.isfinite(number) or number != int(number):
            raise _error(text, allowed)
        value = int(number)
    else:
        raise _error(text, allowed)
    if not lo <= value <= hi:
        raise _error(text, allowed)
    return value


def parse_float(text: str, lo: float, hi: float, *, lo_open: bool = False) -> float:
    allowed = f"a number {'above' if lo_open else 'from'} {lo:g} {'and at most' if lo_open else 'to'} {hi:g}"
    if not _FLOAT.match(text):
        raise _error(text, allowed)
    value = float(text)
    if not math.isfinite(value) or value < lo or value > hi or (lo_open and value == lo):
        raise _error(text, allowed)
    return value


def int_in(lo: int, hi: int):
    """An argparse type: an integer from ``lo`` to ``hi``."""

    def parse(text: str) -> int:
        return parse_int(text, lo, hi)

    parse.__name__ = "integer"  # argparse names the type in its message
    return parse


def float_in(lo: float, hi: float, *, lo_open: bool = False):
    """An argparse type: a finite number in [lo, hi] (or (lo, hi] with ``lo_open``)."""

    def parse(text: str) -> float:
        return parse_float(text, lo, hi, lo_open=lo_open)

    parse.__name__ = "number"
    return parse


def percent_or_replay(text: str) -> float | str:
    """An argparse type for the allocator reserve: a percentage from 0 to 100, ``replay`` or ``auto``."""
    if text in ("replay", "auto"):
        return text
    try:
        return parse_float(text, 0, 100)
    except argparse.ArgumentTypeError:
        raise _error(text, "a percentage from 0 to 100, replay, or auto") from None


percent_or_replay.__name__ = "reserve"


def positive_int(text: str) -> int:
    """A positive integer up to the largest parallel size (a safe bound for any count flag)."""
    return parse_int(text, 1, MAX_PARALLEL)


def non_negative_int(text: str) -> int:
    return parse_int(text, 0, MAX_PARALLEL)


class LazyChoices(Sequence[str]):
    """argparse ``choices`` that live in a module the CLI should not import to register a command
    (``engine.planner`` brings numpy): read from ``module.name`` the first time argparse checks a value
    or formats that command's help.  Give the argument a ``metavar`` (without one argparse lists the
    choices when the argument is added), and ``%(choices)s`` in its help to show them."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self._values: tuple[str, ...] | None = None

    def _loaded(self) -> tuple[str, ...]:
        if self._values is None:
            self._values = tuple(getattr(importlib.import_module(self.module), self.name))
        return self._values

    def __getitem__(self, index):  # type: ignore[override]
        return self._loaded()[index]

    def __len__(self) -> int:
        return len(self._loaded())

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __contains__(self, value: object) -> bool:
        return value in self._loaded()

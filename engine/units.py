"""Byte units.  Bytes are ints everywhere inside; formatting happens once, here.

GB means 10**9 bytes and GiB means 2**30 bytes.  Every displayed figure names
its unit, and the user picks which one.
"""

from __future__ import annotations

import re
from enum import StrEnum

from engine.errors import PlanError

GB = 10**9
GiB = 2**30
MB = 10**6
MiB = 2**20
KiB = 2**10


class Unit(StrEnum):
    GB = "GB"
    GiB = "GiB"

    @property
    def bytes(self) -> int:
        return GB if self is Unit.GB else GiB


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``plural(1, "card")`` -> "1 card"; ``plural(3, "card")`` -> "3 cards" (thousands separated)."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def format_bytes(n: int, unit: Unit | str = Unit.GB, digits: int = 2) -> str:
    """``format_bytes(85899345920, "GiB") == "80.00 GiB"``."""
    u = Unit(unit)
    return f"{n / u.bytes:.{digits}f} {u.value}"


def format_both_units(n: int) -> str:
    """``"72.55 GB (67.57 GiB)"``: for text the engine writes once (warnings), read in either unit."""
    return f"{format_bytes(n, Unit.GB)} ({format_bytes(n, Unit.GiB)})"


def to_unit(n: int, unit: Unit | str) -> float:
    return n / Unit(unit).bytes


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")
_FACTORS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "kib": 2**10,
    "m": 10**6, "mb": 10**6, "mib": 2**20,
    "g": 10**9, "gb": 10**9, "gib": 2**30,
    "t": 10**12, "tb": 10**12, "tib": 2**40,
}


def parse_bytes(text: str, field: str = "memory") -> int:
    """Parse ``24GiB``, ``80 GB``, ``1.5e9`` (bytes) into an int byte count."""
    m = _SIZE.match(str(text))
    if not m or m.group(2).lower() not in _FACTORS:
        raise PlanError(field, text, "a size such as 24GiB, 80GB or 85899345920 (bytes)")
    value = float(m.group(1)) * _FACTORS[m.group(2).lower()]
    if not 0 < value < 2**63:  # also inf from 1e400: int(round(inf)) would raise OverflowError
        raise PlanError(field, text, "a positive size below 8 EiB")
    return int(round(value))


def parse_count(text: str, field: str) -> int:
    """Parse ``13e9``, ``13B``, ``7.5b``, ``70000000000`` into an int count."""
    s = str(text).strip().replace("_", "").replace(",", "")
    mult = 1
    suffixes = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
    if s and s[-1].lower() in suffixes:
        mult = suffixes[s[-1].lower()]
        s = s[:-1]
    try:
        value = float(s) * mult
    except ValueError:
        raise PlanError(field, text, "a number such as 13e9 or 13B") from None
    if not 0 < value < 2**63:  # also NaN and inf (1e400): int(round(inf)) would raise OverflowError
        raise PlanError(field, text, "a positive number below 9.2e18")
    return int(round(value))

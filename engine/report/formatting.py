"""Number formatting for formula strings (plain ints, thousands separated)."""

from __future__ import annotations


def n(value: int | float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.4g}"
    return f"{int(value):,}"


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def ceil_to(a: int, multiple: int) -> int:
    """``a`` rounded up to a multiple of ``multiple``."""
    return ceil_div(a, multiple) * multiple

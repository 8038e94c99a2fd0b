"""Tokenise a pasted command line or argument list into ``{flag: value}``.

Accepts what users paste: a ``torchrun ... pretrain_gpt.py --flag value``
command with backslash continuations and ``#`` comments, one flag per line,
or ``--flag=value``.  A flag without a value maps to ``True``.
"""

from __future__ import annotations

import math
import re
import shlex

from engine.errors import PlanError
from engine.limits import MAX_LAUNCH_CONFIG_BYTES

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def split_command(text: str, field: str) -> list[str]:
    if len(text) > MAX_LAUNCH_CONFIG_BYTES:
        raise PlanError(field, f"{len(text):,} characters", f"a command line of at most {MAX_LAUNCH_CONFIG_BYTES:,} characters")
    joined = text.replace("\\\r\n", " ").replace("\\\n", " ")
    try:
        return shlex.split(joined, comments=True)
    except ValueError as e:
        raise PlanError(field, str(e), "a command line with balanced quotes") from None


def parse_flags(tokens: list[str]) -> dict[str, str | bool]:
    """``--flag value`` / ``--flag=value`` / ``--switch`` pairs; tokens before the first flag are skipped."""
    out: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("-") or _is_number(tok):
            i += 1
            continue
        if "=" in tok:
            flag, value = tok.split("=", 1)
            out[flag.replace("_", "-")] = value
            i += 1
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is not None and (not nxt.startswith("-") or _is_number(nxt)):
            out[tok.replace("_", "-")] = nxt
            i += 2
        else:
            out[tok.replace("_", "-")] = True
            i += 1
    return out


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def int_flag(flags: dict[str, str | bool], name: str, default: int | None = None) -> int | None:
    value = flags.get(name)
    if value is None:
        return default
    if value is True:
        raise PlanError(name, "(no value)", "an integer value")
    text = str(value).strip()
    if not _INTEGER.fullmatch(text):  # also refuses 5,000-digit numbers before int() does
        raise PlanError(name, value, "an integer of at most 18 digits")
    number = int(text)
    if number <= 0 and name not in {"--make-vocab-size-divisible-by"}:
        raise PlanError(name, value, "a positive integer")
    return number


def int_or(flags: dict[str, str | bool], name: str, default: int) -> int:
    """``int_flag`` with a default: never None."""
    value = int_flag(flags, name, default)
    return default if value is None else value


def float_flag(flags: dict[str, str | bool], name: str, default: float) -> float:
    value = flags.get(name)
    if value is None:
        return default
    try:
        number = float(str(value))
    except ValueError:
        raise PlanError(name, value, "a number") from None
    if not math.isfinite(number):
        raise PlanError(name, value, "a finite number")
    return number

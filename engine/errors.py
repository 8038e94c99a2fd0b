"""The one domain error of the engine.

Every bad input raises :class:`PlanError`, which names the field, the value that
was given and what is allowed.  The CLI turns it into one line and exit code 2;
the GUI shows it inline next to the field.

The message is always one short line, whatever the input: the value is quoted
with at most :data:`MAX_QUOTED_CHARS` characters (a bounded ``repr``, safe on
huge or deeply nested values), and control characters in the field and the
allowed text (which may carry names read from files) are replaced, so a
message never moves the terminal's cursor or spans lines.
"""

from __future__ import annotations

import functools
import re
import reprlib

MAX_QUOTED_CHARS = 80  # engine.limits.MAX_QUOTED_CHARS (kept here: errors is the leaf of the engine)
_MAX_FIELD_CHARS = 160
_MAX_ALLOWED_CHARS = 400

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = MAX_QUOTED_CHARS
_repr.maxother = MAX_QUOTED_CHARS
_repr.maxlong = 40
for _attr in ("maxtuple", "maxlist", "maxarray", "maxdict", "maxset", "maxfrozenset", "maxdeque"):
    setattr(_repr, _attr, 6)

# C0 controls, DEL and C1 controls (ESC, CSI, NEL ...), bidirectional overrides and line separators.
_CONTROL_CHARS = "".join(chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x200F, 0x2028,
                                          0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_WHITESPACE = "\t\n\r\v\f"  # whitespace controls become a space (unless kept)


@functools.lru_cache(maxsize=8)
def _control_pattern(keep: str) -> re.Pattern[str]:
    chars = "".join(c for c in _CONTROL_CHARS if c not in keep)
    return re.compile("[" + re.escape(chars) + "]")


def strip_controls(text: str, keep: str = "") -> str:
    """``text`` without terminal control characters (C0 except those in ``keep``, DEL, C1, bidi
    overrides); tab, newline and the other whitespace controls become a space unless kept."""
    if text.isprintable():
        return text
    return _control_pattern(keep).sub(lambda m: " " if m.group() in _WHITESPACE else "", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: object) -> str:
    """A bounded, single-line ``repr`` of a user-supplied value (at most MAX_QUOTED_CHARS characters)."""
    if isinstance(value, int) and value.bit_length() > 128:  # str() of > 4,300 digits raises
        return f"<an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits>"
    try:
        text = _repr.repr(value)
    except Exception:  # a value whose repr fails: name its type instead
        text = f"<{type(value).__name__}>"
    return clip(strip_controls(text), MAX_QUOTED_CHARS)


class PlanError(ValueError):
    """Bad input: names the field, the offending value and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = clip(strip_controls(str(field)), _MAX_FIELD_CHARS)
        self.value = value
        self.allowed = clip(strip_controls(str(allowed)), _MAX_ALLOWED_CHARS)
        self._message = f"{self.field}={quote(value)} is not allowed: expected {self.allowed}"
        super().__init__(self._message)

    def __str__(self) -> str:
        return self._message

    def __reduce__(self):  # picklable (the GUI's worker threads, multiprocessing) despite the 3-argument init
        return (type(self), (self.field, self.value, self.allowed))

    @property
    def message(self) -> str:
        return str(self)


class PlanFileError(PlanError, OSError):
    """A file that cannot be read or written: a PlanError (one line, exit 2) that is also an OSError,
    so callers written for ``except OSError`` keep working; ``strerror`` holds the same one line."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        PlanError.__init__(self, field, value, allowed)
        self.strerror = str(self)

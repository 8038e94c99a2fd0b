"""The one domain error of the engine.

Every bad input raises :class:`PlanError`, which names the field, the value that
was given and what is allowed.  The CLI turns it into one line and exit code 2;
the GUI shows it inline next to the field.
"""

from __future__ import annotations


class PlanError(ValueError):
    """Bad input: names the field, the offending value and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}={value!r} is not allowed: expected {allowed}")

    @property
    def message(self) -> str:
        return str(self)

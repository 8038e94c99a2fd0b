"""Software release strings as plans name them: ``"0.6.4.post1"``, ``"v0.10"``, ``"0.43.3+cu121"``."""

from __future__ import annotations

import re

from engine.errors import PlanError

_RELEASE = re.compile(r"v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?")


def parse_release(text: str, field: str, allowed: str) -> tuple[int, int, int]:
    """``"0.6.4.post1"`` or ``"v0.10"`` -> ``(0, 6, 4)``: local, post, dev and rc suffixes dropped, a missing
    patch read as 0; anything else is a :class:`PlanError` naming ``field`` with ``allowed``."""
    match = _RELEASE.fullmatch(text.strip().split("+")[0].split(".post")[0].split(".dev")[0].split("rc")[0]) \
        if isinstance(text, str) else None
    if match is None:
        raise PlanError(field, text, allowed)
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)

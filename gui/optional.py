"""Features other parts of vramplan provide; the window enables what this build has."""

from __future__ import annotations

import importlib
from typing import Any


def optional(module: str, attr: str) -> Any | None:
    """``module.attr`` when that module imports, else None (its menu entry stays disabled)."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and (module == e.name or module.startswith(e.name + ".")):
            return None
        raise
    return getattr(mod, attr, None)

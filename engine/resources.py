"""The one helper that finds files under ``resources/``.

Works from a source checkout, an installed wheel (``resources`` shipped as
package data beside ``engine``) and a PyInstaller bundle (``sys._MEIPASS``).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_root() -> Path:
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    here = Path(__file__).resolve().parent
    candidates.append(here.parent / "resources")  # source checkout
    candidates.append(here / "resources")  # wheel with data inside the package
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(
        "resources/ folder not found; looked in " + ", ".join(str(c) for c in candidates)
    )


def resource_path(*parts: str) -> Path:
    """``resource_path("catalogs", "gpus.json")`` -> absolute path of that file."""
    return resources_root().joinpath(*parts)

"""Recently opened plan files, kept in ``recent.json`` in the user's config folder."""

from __future__ import annotations

import json
from pathlib import Path

from engine.catalog import user_catalog_dir
from engine.plan.schema import atomic_write_text

MAX_RECENT = 10


def _store() -> Path:
    return user_catalog_dir() / "recent.json"


def recent_files() -> list[Path]:
    """Recent files that still exist, most recent first."""
    try:
        names = json.loads(_store().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(names, list):
        return []
    return [Path(n) for n in names if isinstance(n, str) and Path(n).is_file()]


def add_recent_file(path: str | Path) -> list[Path]:
    entry = Path(path).resolve()
    files = [entry] + [p for p in recent_files() if p.resolve() != entry]
    files = files[:MAX_RECENT]
    atomic_write_text(_store(), json.dumps([str(p) for p in files], indent=1) + "\n")
    return files


def clear_recent_files() -> None:
    atomic_write_text(_store(), "[]\n")

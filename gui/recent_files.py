"""Recently opened plan files, kept in ``recent.json`` in the user's config folder.

The list is read item by item: a file that cannot be read gives an empty list,
an entry that is not a usable path is skipped; neither stops the app.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engine.catalog import user_catalog_dir
from engine.errors import PlanError
from engine.plan import files

MAX_RECENT = 10
MAX_STORE_BYTES = 256 * 1024
log = logging.getLogger("vramplan.recent_files")


def _store() -> Path:
    return user_catalog_dir() / "recent.json"


def recent_files() -> list[Path]:
    """Recent files that still exist, most recent first."""
    store = _store()
    if not store.exists():
        return []
    try:
        names = files.read_json(store, store.name, MAX_STORE_BYTES)
    except PlanError as e:
        log.warning("ignored %s: %s", store, e)
        return []
    if not isinstance(names, list):
        log.warning("ignored %s: not a JSON list of paths", store)
        return []
    return [p for p in (_usable(n) for n in names[:MAX_RECENT * 4]) if p is not None]


def _usable(name: object) -> Path | None:
    """An existing file named by an entry, or None (not a string, a NUL byte, too long, gone)."""
    if not isinstance(name, str) or not name or "\0" in name or len(name) > 4096:
        return None
    try:
        path = Path(name)
        return path if path.is_file() else None
    except OSError:
        return None


def add_recent_file(path: str | Path) -> list[Path]:
    entry = Path(path).resolve()
    paths = ([entry] + [p for p in recent_files() if p.resolve() != entry])[:MAX_RECENT]
    try:
        files.atomic_write_text(_store(), json.dumps([str(p) for p in paths], indent=1) + "\n", field="recent files")
    except PlanError as e:  # an unwritable config folder: the list is a convenience, not worth an error
        log.warning("cannot update the recent files: %s", e)
    return paths


def clear_recent_files() -> None:
    try:
        files.atomic_write_text(_store(), "[]\n", field="recent files")
    except PlanError as e:
        log.warning("cannot clear the recent files: %s", e)

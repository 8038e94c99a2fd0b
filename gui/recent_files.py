"""Recently opened plan files, most recent first, remembered in the app's settings (QSettings).

Entries are checked one by one when read: one that is not a usable path (not text, a NUL byte, too
long, the file gone) is skipped; none of it stops the app.  The plans themselves are saved
atomically elsewhere (``engine.plan.schema.save_plan``); this list only names them.
"""

from __future__ import annotations

from pathlib import Path

from gui import settings

MAX_RECENT = 10
MAX_PATH_CHARS = 4096


def recent_files() -> list[Path]:
    """Recent files that still exist, most recent first."""
    return [p for p in (_usable(n) for n in settings.read_list(settings.RECENT_FILES)[:MAX_RECENT * 4]) if p is not None]


def _usable(name: str) -> Path | None:
    """An existing file named by an entry, or None (a NUL byte, too long, gone)."""
    if not name or "\0" in name or len(name) > MAX_PATH_CHARS:
        return None
    try:
        path = Path(name)
        return path if path.is_file() else None
    except OSError:
        return None


def add_recent_file(path: str | Path) -> list[Path]:
    entry = Path(path).resolve()
    paths = ([entry] + [p for p in recent_files() if p.resolve() != entry])[:MAX_RECENT]
    settings.write(settings.RECENT_FILES, [str(p) for p in paths])
    return paths


def clear_recent_files() -> None:
    settings.write(settings.RECENT_FILES, [])

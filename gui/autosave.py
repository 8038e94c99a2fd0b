"""Autosave: the open plan is written every few seconds to the user's data folder.

Each running window owns ``autosave/<session>.json`` (the plan, atomically
written) and ``<session>.lock`` (a ``QLockFile`` held while the app runs).
A clean exit removes both.  On the next start, an autosave whose lock is no
longer held (the app crashed or was killed) is offered for restore.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QTimer

from engine.errors import PlanError
from engine.plan.schema import Plan, atomic_write_text, load_plan, plan_to_json

AUTOSAVE_INTERVAL_MS = 5_000


def data_dir() -> Path:
    """The user's data folder: ``$VRAMPLAN_DATA_DIR`` or platformdirs' user data dir."""
    override = os.environ.get("VRAMPLAN_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("vramplan", appauthor=False))


def autosave_dir() -> Path:
    return data_dir() / "autosave"


@dataclass(frozen=True)
class Recovered:
    """An autosave left by a session that did not exit cleanly."""

    plan_path: Path
    saved_at: str  # ISO time of the last autosave
    original_path: str | None  # the file the plan was opened from, if any

    @property
    def saved_at_local(self) -> str:
        """The autosave time in local time, ``2026-11-28 14:46`` (or "?" when unknown)."""
        try:
            return datetime.fromisoformat(self.saved_at).astimezone().strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return "?"

    def load(self) -> Plan:
        return load_plan(self.plan_path)

    def discard(self) -> None:
        for p in (self.plan_path, self.plan_path.with_suffix(".meta"), self.plan_path.with_suffix(".lock")):
            p.unlink(missing_ok=True)


class Autosaver(QObject):
    """Writes the document's plan when it changed since the last write; holds the session lock."""

    def __init__(self, document, interval_ms: int = AUTOSAVE_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._session = uuid.uuid4().hex[:12]
        folder = autosave_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.plan_path = folder / f"{self._session}.json"
        self._lock = QLockFile(str(folder / f"{self._session}.lock"))
        self._lock.setStaleLockTime(0)  # stale only when the owning process is gone
        self._lock.tryLock(0)
        self._written: Plan | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    def save_now(self) -> bool:
        """Write the plan if it has unsaved changes not yet written; True when a file was written.

        A clean plan (just opened, saved, or undone back to its saved state) needs no rescue
        copy, so its autosave is removed and nothing is offered after a crash.
        """
        plan = self._document.plan
        if not self._document.dirty:
            self._remove_files()
            return False
        if plan is self._written:
            return False
        atomic_write_text(self.plan_path, plan_to_json(plan))
        meta = {"saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "original_path": str(self._document.path) if self._document.path else None}
        atomic_write_text(self.plan_path.with_suffix(".meta"), json.dumps(meta) + "\n")
        self._written = plan
        return True

    def _remove_files(self) -> None:
        self.plan_path.unlink(missing_ok=True)
        self.plan_path.with_suffix(".meta").unlink(missing_ok=True)
        self._written = None

    def finish(self) -> None:
        """Clean exit: stop, remove this session's autosave and release the lock."""
        self.timer.stop()
        self._remove_files()
        self._lock.unlock()


def find_recoverable(exclude: Path | None = None) -> list[Recovered]:
    """Autosaves whose session is gone (crash or kill), newest first."""
    folder = autosave_dir()
    if not folder.is_dir():
        return []
    out = []
    for plan_path in folder.glob("*.json"):
        if plan_path == exclude:
            continue
        lock = QLockFile(str(plan_path.with_suffix(".lock")))
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            continue  # another running window owns it
        lock.unlock()
        out.append(_recovered(plan_path))
    return sorted(out, key=lambda r: r.saved_at, reverse=True)


def _recovered(plan_path: Path) -> Recovered:
    try:
        meta = json.loads(plan_path.with_suffix(".meta").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    return Recovered(plan_path, str(meta.get("saved_at", "")), meta.get("original_path"))


def load_recovered(item: Recovered) -> Plan | None:
    """The autosaved plan, or None (and the file discarded) when it cannot be read."""
    try:
        return item.load()
    except PlanError:
        item.discard()
        return None

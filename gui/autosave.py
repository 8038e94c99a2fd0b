"""Autosave: the open plan is written every few seconds to the user's data folder.

Each running window owns ``autosave/<session>.json`` (the plan, atomically
written) and ``<session>.lock`` (a ``QLockFile`` held while the app runs).
A clean exit removes both.  On the next start, an autosave whose lock is no
longer held (the app crashed or was killed) is offered for restore.

The folder is read item by item: a file that cannot be read (not UTF-8, not a
JSON object, too large, unreadable) is skipped with a logged warning naming it,
never a crash at start-up; temp files left by a killed write are removed.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QTimer

from engine.errors import PlanError
from engine.plan import files
from engine.plan.schema import Plan, load_plan, plan_to_json

AUTOSAVE_INTERVAL_MS = 5_000
MAX_META_BYTES = 64 * 1024  # {"saved_at": ..., "original_path": ...}
log = logging.getLogger("vramplan.autosave")


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
        except (ValueError, OverflowError, OSError):  # written by hand or by another tool
            return "?"

    def load(self) -> Plan:
        return load_plan(self.plan_path)

    def discard(self) -> None:
        for p in (self.plan_path, self.plan_path.with_suffix(".meta"), self.plan_path.with_suffix(".lock")):
            try:
                p.unlink(missing_ok=True)
            except OSError as e:
                log.warning("cannot remove %s: %s", p, e.strerror or e)


class Autosaver(QObject):
    """Writes the document's plan when it changed since the last write; holds the session lock."""

    def __init__(self, document, interval_ms: int = AUTOSAVE_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._session = uuid.uuid4().hex[:12]
        folder = autosave_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # an unwritable data folder: the app runs, without autosave
            log.warning("autosave disabled: cannot create %s (%s)", folder, e.strerror or e)
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
        meta = {"saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "original_path": str(self._document.path) if self._document.path else None}
        try:
            files.atomic_write_text(self.plan_path, plan_to_json(plan), field="autosave")
            files.atomic_write_text(self.plan_path.with_suffix(".meta"), json.dumps(meta) + "\n", field="autosave")
        except PlanError as e:  # a full disk or an unwritable folder: keep editing, try again next time
            log.warning("autosave failed: %s", e)
            return False
        self._written = plan
        return True

    def _remove_files(self) -> None:
        for path in (self.plan_path, self.plan_path.with_suffix(".meta")):
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                log.warning("cannot remove %s: %s", path, e.strerror or e)
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
    files.remove_stale_temp_files(folder)  # left by a write the kill interrupted
    out = []
    try:
        plan_paths = sorted(folder.glob("*.json"))
    except OSError as e:
        log.warning("cannot list %s: %s", folder, e.strerror or e)
        return []
    for plan_path in plan_paths:
        if plan_path == exclude or not plan_path.is_file():
            continue
        lock = QLockFile(str(plan_path.with_suffix(".lock")))
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            continue  # another running window owns it
        lock.unlock()
        out.append(_recovered(plan_path))
    return sorted(out, key=lambda r: r.saved_at, reverse=True)


def _recovered(plan_path: Path) -> Recovered:
    """The autosave with its metadata; metadata that cannot be read (or is not an object) is skipped
    with a warning, and the plan is still offered (its own problems surface when it is loaded)."""
    meta_path = plan_path.with_suffix(".meta")
    meta: object = {}
    if meta_path.exists():
        try:
            meta = files.read_json(meta_path, meta_path.name, MAX_META_BYTES)
        except PlanError as e:
            log.warning("skipped autosave metadata %s: %s", meta_path, e)
    if not isinstance(meta, dict):
        log.warning("skipped autosave metadata %s: not a JSON object", meta_path)
        meta = {}
    saved_at, original = meta.get("saved_at"), meta.get("original_path")
    return Recovered(plan_path, saved_at[:64] if isinstance(saved_at, str) else "",
                     original if isinstance(original, str) and 0 < len(original) <= 4096 and "\0" not in original
                     else None)


def load_recovered(item: Recovered) -> Plan | None:
    """The autosaved plan, or None (and the file discarded) when it cannot be read."""
    try:
        return item.load()
    except PlanError:
        item.discard()
        return None

"""A crash in a slot is logged and shown inline; the document stays as it was.

Qt calls Python slots from its event loop; an exception there reaches
``sys.excepthook`` (PySide6 reports it with ``PyErr_Print``) and the event loop
goes on.  :func:`install` replaces the hook: the traceback is appended to
``crash.log`` in the user's data folder (kept under ~1 MB) and a one-line notice
names the error and the log file.  The plan is never touched: every change goes
through ``PlanDocument.apply``, so a slot that raised before applying changed
nothing, and one that raised after applying left a complete undoable command.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication

from engine.errors import clip, strip_controls
from gui.autosave import data_dir

MAX_LOG_BYTES = 1_000_000


def crash_log_path() -> Path:
    return data_dir() / "crash.log"


def log_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> Path | None:
    """Append the traceback to the crash log (the previous log kept as ``crash.log.1`` past 1 MB)."""
    path = crash_log_path()
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_name(path.name + ".1"))
        with path.open("a", encoding="utf-8", errors="replace") as f:
            f.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')}\n{text}\n")
    except OSError:
        return None
    return path


def install(window) -> None:
    """Route uncaught exceptions to the crash log and ``window.notice`` (KeyboardInterrupt still stops)."""
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt | SystemExit):
            previous(exc_type, exc, tb)
            return
        path = log_exception(exc_type, exc, tb)
        sys.stderr.write("".join(traceback.format_exception(exc_type, exc, tb)))
        summary = clip(strip_controls(f"{exc_type.__name__}: {exc}"), 200)
        text = QCoreApplication.translate("App", "Internal error, the plan is unchanged: {error}").format(error=summary)
        if path is not None:
            text += " " + QCoreApplication.translate("App", "(details in {path})").format(path=str(path))
        with contextlib.suppress(RuntimeError):  # the window is already deleted (the hook outlived it)
            window.notice.show_message(text, "error")

    sys.excepthook = hook

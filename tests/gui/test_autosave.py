"""Autosave: the plan is written atomically to the data folder; a crashed session's plan is offered back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from engine.plan.schema import load_plan
from gui.autosave import Autosaver, autosave_dir, data_dir, find_recoverable
from gui.document import PlanDocument
from gui.panels.plan_fields import set_field
from gui.templates import default_plan, load_template

ROOT = Path(__file__).resolve().parents[2]


def test_data_dir_honours_the_environment(tmp_path):
    assert data_dir() == tmp_path / "data"  # conftest points VRAMPLAN_DATA_DIR here


def test_autosave_writes_the_current_plan_and_clean_exit_removes_it(qtbot):
    document = PlanDocument(default_plan())
    saver = Autosaver(document, interval_ms=50)
    document.apply(set_field(document.plan, "training.seq", 2048), "Set sequence length")
    qtbot.waitUntil(lambda: saver.plan_path.is_file(), timeout=3000)
    assert load_plan(saver.plan_path) == document.plan
    assert not saver.save_now()  # unchanged since the last write: nothing to do
    assert not list(autosave_dir().glob(".*.tmp"))  # atomic: no temp file left behind
    assert find_recoverable() == []  # our own session is alive: nothing to restore
    document.undo_stack.undo()  # back to the clean plan: no rescue copy needed
    saver.save_now()
    assert not saver.plan_path.exists()
    document.undo_stack.redo()
    assert saver.save_now() and saver.plan_path.is_file()
    saver.finish()
    assert not saver.plan_path.exists()
    assert find_recoverable() == []


def test_killed_session_is_offered_for_restore(qtbot, tmp_path):
    script = textwrap.dedent("""
        import os, sys
        sys.path.insert(0, sys.argv[1])
        from gui.qt_app import ensure_app
        app = ensure_app(headless=True)
        from gui.autosave import Autosaver
        from gui.document import PlanDocument
        from gui.templates import load_template
        doc = PlanDocument(load_template("article-13b-pp4-zero1-dp2"))
        doc.apply(load_template("article-13b-pp8"), "unsaved edit")
        saver = Autosaver(doc)
        saver.save_now()
        os.kill(os.getpid(), 9)  # no clean exit: the lock is never released
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", script, str(ROOT)], env=env, timeout=120)
    assert proc.returncode != 0
    found = find_recoverable()
    assert len(found) == 1
    assert found[0].load() == load_template("article-13b-pp8")

    from gui.app import _offer_recovery
    from gui.main_window import MainWindow

    document = PlanDocument(default_plan())
    window = MainWindow(document)
    qtbot.addWidget(window)
    saver = Autosaver(document)
    _offer_recovery(window, saver)
    assert not window.notice.isHidden() and "Restore" in window.notice.primary.text()
    window.notice.primary.click()
    assert document.plan == load_template("article-13b-pp8")
    assert document.dirty and document.undo_stack.count() == 1  # restored as one undoable change
    assert find_recoverable(exclude=saver.plan_path) == []
    saver.finish()
    document.undo_stack.setClean()  # no unsaved-changes prompt when qtbot closes the window


def test_untouched_plan_is_not_autosaved(qtbot):
    saver = Autosaver(PlanDocument(default_plan()))
    assert not saver.save_now() and not saver.plan_path.exists()
    saver.finish()


def test_unreadable_autosave_is_discarded(qtbot):
    folder = autosave_dir()
    folder.mkdir(parents=True)
    (folder / "dead.json").write_text("{not json", encoding="utf-8")
    from gui.autosave import load_recovered

    [item] = find_recoverable()
    assert load_recovered(item) is None
    assert not (folder / "dead.json").exists()


def test_bad_autosave_metadata_is_skipped_not_fatal(tmp_path):
    """Issue 15: a ``.meta`` holding ``[]`` (or bytes that are not UTF-8) crashed every start until deleted."""
    folder = autosave_dir()
    folder.mkdir(parents=True)
    for name, meta in (("a", b"[]"), ("b", b"\xff\xfe"), ("c", b'{"saved_at": 5, "original_path": ["x"]}')):
        (folder / f"{name}.json").write_text("{}")
        (folder / f"{name}.meta").write_bytes(meta)
    stale = folder / ".a.json.999999999.00ff.tmp"  # left by a write the kill interrupted
    stale.write_text("half")
    found = find_recoverable()
    assert sorted(r.plan_path.stem for r in found) == ["a", "b", "c"]
    assert all(r.saved_at_local == "?" and r.original_path is None for r in found)
    assert not stale.exists()

"""A crash in a slot: logged to the data folder, shown inline, the document unchanged (issue 15)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from PySide6.QtCore import QObject, Signal

from gui import crash_log
from gui.document import PlanDocument
from gui.panels.notice_bar import NoticeBar
from gui.templates import default_plan


class _Emitter(QObject):
    fired = Signal()


def test_an_exception_in_a_slot_is_logged_and_shown(qtbot, capsys):
    document = PlanDocument(default_plan())
    before = document.plan
    notice = NoticeBar()
    qtbot.addWidget(notice)
    previous = sys.excepthook
    crash_log.install(SimpleNamespace(notice=notice))
    try:
        emitter = _Emitter()

        def broken_slot() -> None:
            raise RuntimeError("boom <b>in a slot</b>\x1b[31m")

        emitter.fired.connect(broken_slot)
        emitter.fired.emit()  # Qt reports the slot's exception through sys.excepthook; the loop goes on
    finally:
        sys.excepthook = previous
    log = crash_log.crash_log_path().read_text(encoding="utf-8")
    assert "RuntimeError: boom" in log and "broken_slot" in log
    text = notice.label.text()
    assert "RuntimeError: boom <b>in a slot</b>" in text and "\x1b" not in text and str(crash_log.crash_log_path()) in text
    assert document.plan is before
    capsys.readouterr()

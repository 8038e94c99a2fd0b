"""Undo commands.  Plans are immutable, so one command stores the old and the new plan.

Each user action pushes exactly one command (multi-card gestures too); a
command touches only the document, and items redraw from its signals.
Commands with the same ``merge_key`` merge (spin-box scrubbing).
"""

from __future__ import annotations

import zlib

from PySide6.QtGui import QUndoCommand

from engine.plan.schema import Plan


class ReplacePlanCommand(QUndoCommand):
    def __init__(self, document, old: Plan, new: Plan, text: str, merge_key: str | None = None) -> None:
        super().__init__(text)
        self._document = document
        self.old = old
        self.new = new
        self._merge_key = merge_key

    def id(self) -> int:  # noqa: A003 - Qt's name
        if self._merge_key is None:
            return -1
        return zlib.crc32(self._merge_key.encode()) & 0x7FFFFFFF

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, ReplacePlanCommand) or other._merge_key != self._merge_key:
            return False
        self.new = other.new
        self.setText(other.text())
        return True

    def redo(self) -> None:
        self._document._set_plan(self.new)

    def undo(self) -> None:
        self._document._set_plan(self.old)

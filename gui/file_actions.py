"""New / Open / Save / Save As, recent files and the unsaved-changes prompt.

The dialog-free methods (``open_path``, ``save_to``, ``new_from``) do the work
and are what tests drive; the slots only ask for a file name first.  Saves are
atomic (``engine.plan.schema.save_plan``: temp file + ``os.replace``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from engine.errors import PlanError
from engine.limits import MAX_PLAN_BYTES
from engine.plan.files import read_json
from engine.plan.schema import Plan, load_plan, save_plan
from gui.recent_files import add_recent_file, clear_recent_files, recent_files
from gui.templates import default_plan

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls


def _plan_filter() -> str:
    return translate("FileActions", "vramplan plan (*.json);;All files (*)")


class FileActions(QObject):
    message = Signal(str)  # a one-line result or error, shown inline by the window
    opened = Signal(str)

    def __init__(self, document, window: QWidget) -> None:
        super().__init__(window)
        self.document = document
        self.window = window
        self.new = self._action(translate("FileActions", "&New"), QKeySequence.StandardKey.New, self.on_new, "document-new")
        self.open = self._action(translate("FileActions", "&Open…"), QKeySequence.StandardKey.Open, self.on_open, "document-open")
        self.save = self._action(translate("FileActions", "&Save"), QKeySequence.StandardKey.Save, self.on_save, "document-save")
        self.save_as = self._action(translate("FileActions", "Save &As…"), QKeySequence.StandardKey.SaveAs, self.on_save_as,
                                    "document-save-as")
        self.recent_menu = QMenu(translate("FileActions", "Open &Recent"), window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)

    def _action(self, text: str, shortcut, slot, icon: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setObjectName(icon)
        action.triggered.connect(slot)
        return action

    # Work ---------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        try:
            plan = load_plan(path)
        except PlanError as e:
            self.message.emit(translate("FileActions", "Could not open {file}: {error}").format(file=Path(path).name, error=e))
            return False
        self.document.reset(plan, Path(path))
        add_recent_file(path)
        self.opened.emit(str(path))
        self.message.emit(translate("FileActions", "Opened {file}").format(file=Path(path).name))
        return True

    def save_to(self, path: str | Path) -> bool:
        try:
            save_plan(self.document.plan, path)
        except OSError as e:
            self.message.emit(translate("FileActions", "Could not save {file}: {error}").format(file=Path(path).name, error=e.strerror))
            return False
        self.document.undo_stack.setClean()
        self.document.set_path(Path(path))
        add_recent_file(path)
        self.message.emit(translate("FileActions", "Saved {file}").format(file=Path(path).name))
        return True

    @staticmethod
    def looks_like_plan(path: str | Path) -> bool:
        """True for a plan file (a JSON object with a layout); False for a model config or folder."""
        p = Path(path)
        if not p.is_file():
            return False
        try:
            data = read_json(p, "plan", MAX_PLAN_BYTES)  # bounded size, depth and numbers
        except PlanError:
            return False
        return isinstance(data, dict) and "layout" in data

    def new_from(self, plan: Plan) -> None:
        self.document.reset(plan, None)

    # Slots --------------------------------------------------------------------
    def on_new(self) -> None:
        if self.maybe_save():
            self.new_from(default_plan())

    def on_open(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self.window, translate("FileActions", "Open plan"), self._folder(), _plan_filter())
        if path:
            self.open_path(path)

    def on_save(self) -> bool:
        if self.document.path is None:
            return self.on_save_as()
        return self.save_to(self.document.path)

    def on_save_as(self) -> bool:
        suggested = str(Path(self._folder()) / f"{self.document.plan.name or 'plan'}.json")
        path, _ = QFileDialog.getSaveFileName(self.window, translate("FileActions", "Save plan as"), suggested, _plan_filter())
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.save_to(path)

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current plan (saved, discarded, or clean)."""
        if not self.document.dirty:
            return True
        answer = QMessageBox.question(
            self.window, translate("FileActions", "Unsaved changes"),
            translate("FileActions", "The plan “{name}” has unsaved changes. Save them first?").format(name=self.document.plan.name),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.on_save()
        return answer == QMessageBox.StandardButton.Discard

    def _folder(self) -> str:
        return str(self.document.path.parent) if self.document.path else str(Path.home())

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = recent_files()
        for path in files:
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.maybe_save() and self.open_path(p))
        if not files:
            self.recent_menu.addAction(translate("FileActions", "(none)")).setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(translate("FileActions", "Clear list"), clear_recent_files)

"""The main window's menus, toolbar and shortcuts (actions call the document, file actions or panels)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QMenu, QToolBar

from engine.errors import PlanError
from engine.plan.schema import atomic_write_text
from engine.units import Unit
from gui.diagram.actions import RoleActions
from gui.i18n import add_language_menu
from gui.templates import all_templates, load_template
from gui.theme import apply_theme, current_theme

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls


class WindowActions(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.roles = RoleActions(self.document, self)
        self.roles.dialog_parent = window
        self.roles.attach_scene(window.diagram.diagram_scene)
        self.role_actions = self.roles.actions()
        stack = self.document.undo_stack
        self.undo = stack.createUndoAction(self, translate("MainWindow", "&Undo"))
        self.undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo = stack.createRedoAction(self, translate("MainWindow", "&Redo"))
        self.redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
        self.undo.setIconText(translate("MainWindow", "Undo"))  # the toolbar stays narrow; the menu shows "Undo <command>"
        self.redo.setIconText(translate("MainWindow", "Redo"))
        self._build_file_menu()
        self._build_edit_menu()
        self._build_view_menu()
        self._build_help_menu()
        self._build_toolbar()
        self._install_context_menu()
        self._register_shortcuts()

    def _menu(self, title: str) -> QMenu:
        return self.window.menuBar().addMenu(title)

    def _add(self, menu: QMenu, text: str, slot, shortcut: str | None = None, *, enabled: bool = True,
             tip: str = "") -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setEnabled(enabled)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        return action

    # Menus --------------------------------------------------------------------
    def _build_file_menu(self) -> None:
        files, menu = self.window.files, self._menu(translate("MainWindow", "&File"))
        menu.addActions([files.new, files.open])
        menu.addMenu(files.recent_menu)
        templates = menu.addMenu(translate("MainWindow", "New from &Template"))
        for t in all_templates():
            templates.addAction(t.title).triggered.connect(lambda _c=False, key=t.key: self.open_template(key))
        menu.addSeparator()
        menu.addActions([files.save, files.save_as])
        menu.addSeparator()
        self.export_pdf = self._add(menu, translate("MainWindow", "Export &PDF…"), self.on_export_pdf, "Ctrl+E")
        self.export_launch = self._add(menu, translate("MainWindow", "Export &Launch Config…"), self.on_export_launch, "Ctrl+Shift+E")
        self.import_launch = self._add(menu, translate("MainWindow", "&Import Launch Config…"), self.on_import_launch)
        menu.addSeparator()
        quit_action = self._add(menu, translate("MainWindow", "&Quit"), self.window.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)

    def _build_edit_menu(self) -> None:
        menu = self._menu(translate("MainWindow", "&Edit"))
        menu.addActions([self.undo, self.redo])
        layout_menu = self._menu(translate("MainWindow", "&Layout"))
        roles = self.roles
        edit_actions = [roles.delete, roles.duplicate_node, roles.rename_node]
        menu.addSeparator()
        menu.addActions([self.window.analysis.pin_action, self.window.analysis.unpin_action])
        menu.addSeparator()
        menu.addActions(edit_actions)
        stage_menu = layout_menu.addMenu(translate("MainWindow", "Pipeline &Stage"))
        stage_menu.addActions(roles.stage_actions)
        layout_menu.addSeparator()
        layout_menu.addActions([a for a in self.role_actions if a not in edit_actions and a not in roles.stage_actions])

    def _build_view_menu(self) -> None:
        menu = self._menu(translate("MainWindow", "&View"))
        units = menu.addMenu(translate("MainWindow", "&Units"))
        group = QActionGroup(self)
        self.unit_actions = {}
        for unit, text, key in ((Unit.GB, translate("MainWindow", "GB (10⁹ bytes)"), "Ctrl+Shift+G"),
                                (Unit.GiB, translate("MainWindow", "GiB (2³⁰ bytes)"), "Ctrl+Shift+I")):
            action = self._add(units, text, lambda _c=False, u=unit: self.document.set_units(u), key)
            action.setCheckable(True)
            group.addAction(action)
            self.unit_actions[unit] = action
        self.dark = self._add(menu, translate("MainWindow", "&Dark Theme"), self.on_dark, "Ctrl+Shift+D")
        self.dark.setCheckable(True)
        self.dark.setChecked(current_theme() == "dark")
        self.language_menu = add_language_menu(menu, lambda text: self.window.notice.show_message(text, timeout_ms=8000))
        menu.addSeparator()
        menu.addAction(self.window.diagram.fit_action)  # Ctrl+0: every node in view, clear of the legend
        menu.addSeparator()
        for dock in (self.window.palette_dock, self.window.settings_dock, self.window.warnings_dock,
                     self.window.planner_dock):
            menu.addAction(dock.toggleViewAction())
        menu.addActions(self.window.analysis.view_actions())
        self.window.planner_dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.document.units_changed.connect(self._sync_units)
        self._sync_units()

    def _build_help_menu(self) -> None:
        menu = self._menu(translate("MainWindow", "&Help"))
        self._add(menu, translate("MainWindow", "&About vramplan"), self.on_about)

    def _build_toolbar(self) -> None:
        bar = QToolBar(translate("MainWindow", "Main toolbar"), self.window)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setIconSize(QSize(12, 12))
        files = self.window.files
        # toolbar labels without the menu's accelerator (Chinese menus read 新建(&N))
        files.new.setIconText(translate("MainWindow", "New"))
        files.open.setIconText(translate("MainWindow", "Open"))
        files.save.setIconText(translate("MainWindow", "Save"))
        bar.addActions([files.new, files.open, files.save])
        bar.addSeparator()
        bar.addActions([self.undo, self.redo])
        bar.addSeparator()
        bar.addActions(self.role_actions)
        bar.addSeparator()
        self.units_combo = QComboBox(bar)
        self.units_combo.setObjectName("unitsCombo")
        self.units_combo.setToolTip(translate("MainWindow", "Units for every figure: GB = 10⁹ bytes, GiB = 2³⁰ bytes"))
        for unit in Unit:
            self.units_combo.addItem(unit.value, unit)
        self.units_combo.activated.connect(lambda _i: self.document.set_units(self.units_combo.currentData()))
        bar.addWidget(self.units_combo)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar
        self._sync_units()

    def _install_context_menu(self) -> None:
        """The diagram's right-click menu: stages in a submenu, then the other role actions and undo."""
        diagram, stages = self.window.diagram, self.roles.stage_actions
        stage_menu = QMenu(translate("MainWindow", "Pipeline Stage"), diagram)
        stage_menu.addActions(stages)
        others = [a for a in self.role_actions if a not in stages]
        diagram.set_context_actions([stage_menu.menuAction(), None, *others, None, diagram.fit_action, None,
                                     self.undo, self.redo])

    def _register_shortcuts(self) -> None:
        """Every action with a shortcut lives on the window too, so its keys work wherever the focus is."""
        for action in self.window.findChildren(QAction):
            if not action.shortcut().isEmpty() and action not in self.window.actions():
                self.window.addAction(action)
        for action in (*self.role_actions, self.undo, self.redo):
            if not action.shortcut().isEmpty() and action not in self.window.actions():
                self.window.addAction(action)

    # Slots --------------------------------------------------------------------
    def _sync_units(self) -> None:
        unit = self.document.units
        if unit in getattr(self, "unit_actions", {}):
            self.unit_actions[unit].setChecked(True)
        combo = getattr(self, "units_combo", None)
        if combo is not None:
            combo.setCurrentIndex(combo.findData(unit))

    def on_dark(self, checked: bool) -> None:
        apply_theme(QApplication.instance(), "dark" if checked else "light")
        self.window.chart.apply_theme()
        self.window.analysis.apply_theme()

    def open_template(self, key: str) -> None:
        if self.window.files.maybe_save():
            self.window.files.new_from(load_template(key))

    def on_about(self) -> None:
        from gui.about import show_about

        show_about(self.window)

    def on_export_pdf(self) -> None:
        folder = self.window.files._folder()
        path, _ = QFileDialog.getSaveFileName(self.window, translate("MainWindow", "Export PDF"),
                                              str(Path(folder) / f"{self.document.plan.name}.pdf"), "PDF (*.pdf)")
        if not path:
            return
        from gui.pdf import export_pdf

        try:
            analysis = self.window.analysis
            export_pdf(self.document.plan, path, units=self.document.units.value,
                       baseline=analysis.baseline_for_report(), sweep=analysis.sweep_for_report())
        except PlanError as e:
            self.window.notice.show_message(str(e), "error")
            return
        self.window.notice.show_message(translate("MainWindow", "Exported {file}").format(file=Path(path).name), timeout_ms=6000)

    def on_import_launch(self) -> None:
        from gui.launch_import import LaunchImportDialog

        plan = self.document.plan
        gpu = plan.layout.cards[0].gpu if plan.layout.cards else ""
        dialog = LaunchImportDialog(plan.model, gpu, self.window)
        if dialog.exec() and dialog.imported is not None:
            self.document.apply(dialog.imported.plan, translate("MainWindow", "Import launch config"))
            if dialog.imported.ignored:
                ignored = ", ".join(dialog.imported.ignored[:8])
                self.window.notice.show_message(
                    translate("MainWindow", "Imported; flags without effect on memory: {flags}").format(flags=ignored),
                    timeout_ms=8000)

    def on_export_launch(self) -> None:
        from engine.export import EXPORT_FORMATS, export_text

        filters = {f"{fmt} (*.{'json' if fmt == 'deepspeed' else 'sh'})": fmt for fmt in EXPORT_FORMATS}
        path, chosen = QFileDialog.getSaveFileName(self.window, translate("MainWindow", "Export launch config"),
                                                   self.window.files._folder(), ";;".join(filters))
        if not path:
            return
        try:
            atomic_write_text(path, export_text(self.document.plan, filters[chosen]))
        except PlanError as e:
            self.window.notice.show_message(str(e), "error")
            return
        self.window.notice.show_message(translate("MainWindow", "Exported {file}").format(file=Path(path).name), timeout_ms=6000)

"""A form whose widgets are bound to plan fields by path (``"training.seq"``).

Each edit becomes one ``document.apply`` (spin boxes merge while the user
scrubs: one undo step per gesture, live updates on every value); a value the
engine rejects shows inline under its field, never in a dialog.  Widgets are
refreshed from the plan on every change (undo, redo, open).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.errors import PlanError
from gui.panels.limit_spin import LimitSpinBox
from gui.panels.plan_fields import field_range, get_field, set_field
from gui.plan_errors import describe, plain_allowed
from gui.theme import OVER_CAPACITY

INT_MAX = 2**31 - 1


@dataclass
class Binding:
    path: str
    label: str
    widget: QWidget
    error: QLabel
    read: Callable[[], Any]  # widget -> plan value
    write: Callable[[Any], None]  # plan value -> widget
    visible_in: tuple[str, ...] = ()  # plan modes showing this field; () = all
    row_label: QLabel | None = None  # the label left of the field (check boxes carry their own text)


def error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("fieldError")
    label.setTextFormat(Qt.TextFormat.PlainText)  # errors quote what the user typed or a file held
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {OVER_CAPACITY['light']}; font-size: 11px;")
    label.hide()
    return label


class BoundForm(QWidget):
    """Base class of the side panels: groups of rows bound to plan fields."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.bindings: dict[str, Binding] = {}
        self._gesture = 0
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(4, 4, 4, 4)
        self._outer.setSpacing(8)
        self._form: QFormLayout | None = None
        self._group: QGroupBox | None = None
        self._groups: list[tuple[QGroupBox, tuple[str, ...]]] = []
        self._unbuilt: dict[QGroupBox, Callable[[], None]] = {}  # groups whose rows come when first shown
        document.plan_changed.connect(self.refresh)
        document.estimate_changed.connect(self.show_document_error)

    # Building ---------------------------------------------------------------
    def begin_group(self, title: str, visible_in: tuple[str, ...] = (),
                    rows: Callable[[], None] | None = None) -> QFormLayout:
        """Start a group of rows (shown in the plan modes ``visible_in``; () = all).  With ``rows``,
        the group's rows are added by calling it the first time the group shows."""
        self._group = QGroupBox(title, self)
        self._form = QFormLayout(self._group)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # a long label (Chinese, or a narrow dock) goes above its field instead of being cut
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._form.setContentsMargins(8, 6, 8, 6)
        self._form.setVerticalSpacing(5)
        self._outer.addWidget(self._group)
        self._groups.append((self._group, visible_in))
        if rows is not None:
            self._unbuilt[self._group] = rows
        return self._form

    def _build_rows(self, group: QGroupBox) -> None:
        """Add the rows of a group built on first show (see ``begin_group``)."""
        rows = self._unbuilt.pop(group)
        current = self._group, self._form
        self._group, self._form = group, cast(QFormLayout, group.layout())  # begin_group gave it one
        try:
            rows()
        finally:
            self._group, self._form = current

    def current_form(self) -> QFormLayout:
        """The rows of the group being built (``begin_group`` starts one)."""
        return self._current()[1]

    def _current(self) -> tuple[QGroupBox, QFormLayout]:
        if self._group is None or self._form is None:
            raise RuntimeError("BoundForm: call begin_group() before adding rows")
        return self._group, self._form

    def finish(self) -> None:
        self._outer.addStretch(1)
        self.refresh()

    def _add_row(self, binding: Binding, row_label: str | None) -> Binding:
        group, form = self._current()
        box = QWidget(group)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        lay.addWidget(binding.widget)
        lay.addWidget(binding.error)
        if row_label is None:
            form.addRow(box)
        else:
            binding.row_label = QLabel(row_label, group)
            binding.row_label.setBuddy(binding.widget)
            form.addRow(binding.row_label, box)
        binding.widget.setObjectName(binding.path)
        self.bindings[binding.path] = binding
        return binding

    def add_spin(self, path: str, label: str, *, step: int = 1, none_text: str | None = None, suffix: str = "",
                 tooltip: str = "") -> QSpinBox:
        """An int spin box taking the engine's range of the field (``plan_fields.field_range``); with
        ``none_text`` the value below the minimum stands for None (shown as that text)."""
        group = self._current()[0]
        low, high = field_range(path)
        minimum, maximum = max(int(low), 1 if none_text else int(low)), int(min(high, INT_MAX))
        spin = LimitSpinBox(group)
        spin.set_field(label.rstrip(":：").strip(), minimum)
        spin.setRange(minimum - 1 if none_text else minimum, maximum)
        spin.setSingleStep(step)
        spin.setKeyboardTracking(False)
        spin.setAccelerated(True)
        spin.setSuffix(suffix)
        limits = QCoreApplication.translate("panels", "From {low} to {high}.").format(
            low=f"{minimum:,}", high=f"{maximum:,}")
        spin.setToolTip(f"{tooltip}\n{limits}" if tooltip else limits)
        if none_text:
            spin.setSpecialValueText(none_text)
        floor = spin.minimum()

        def read() -> Any:
            return None if none_text and spin.value() == floor else spin.value()

        def write(value: Any) -> None:
            spin.setValue(floor if value is None else int(value))

        binding = self._add_row(Binding(path, label, spin, error_label(group), read, write), label)
        spin.valueChanged.connect(lambda _v: self.commit(binding, merge=True))
        spin.editingFinished.connect(self._end_gesture)
        spin.editingFinished.connect(lambda: self._show_limit(binding, spin))
        return spin

    def _show_limit(self, binding: Binding, spin: LimitSpinBox) -> None:
        message = spin.take_limit_message()
        if message:
            self.show_error(binding.path, message)

    def add_double(self, path: str, label: str, *, step: float = 1.0, decimals: int = 1, suffix: str = "",
                   tooltip: str = "") -> QDoubleSpinBox:
        """A number spin box taking the engine's range of the field (``plan_fields.field_range``)."""
        group = self._current()[0]
        spin = QDoubleSpinBox(group)
        spin.setRange(*field_range(path, decimals))
        spin.setDecimals(decimals)
        spin.setSingleStep(step)
        spin.setKeyboardTracking(False)
        spin.setSuffix(suffix)
        spin.setToolTip(tooltip)
        binding = self._add_row(Binding(path, label, spin, error_label(group), spin.value,
                                        lambda v: spin.setValue(float(v))), label)
        spin.valueChanged.connect(lambda _v: self.commit(binding, merge=True))
        spin.editingFinished.connect(self._end_gesture)
        return spin

    def add_combo(self, path: str, label: str, choices: Sequence[tuple[Any, str]], *,
                  tooltip: str = "") -> QComboBox:
        group = self._current()[0]
        combo = QComboBox(group)
        # shrink with the dock instead of clipping at 1280 px; the popup still shows whole texts
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(10)
        for value, text in choices:
            combo.addItem(text, value)
        combo.setToolTip(tooltip)

        def write(value: Any) -> None:
            if combo.findData(value) < 0 and isinstance(value, str):  # a plan file's value the list lacks
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(value)))

        binding = self._add_row(Binding(path, label, combo, error_label(group), combo.currentData, write), label)
        combo.activated.connect(lambda _i: self.commit(binding))
        return combo

    def add_check(self, path: str, text: str, *, tooltip: str = "") -> QCheckBox:
        group = self._current()[0]
        check = QCheckBox(text, group)
        check.setToolTip(tooltip)
        binding = self._add_row(Binding(path, text, check, error_label(group), check.isChecked,
                                        lambda v: check.setChecked(bool(v))), None)
        check.toggled.connect(lambda _c: self.commit(binding))
        return check

    def add_choices(self, path: str, label: str, options: Sequence[tuple[str, str]], *, columns: int = 4,
                    tooltip: str = "") -> QWidget:
        """Check boxes for a field holding a subset of ``options`` (values in option order); each toggle is
        one edit, and a subset the engine refuses (an empty one) shows inline and is not applied."""
        group = self._current()[0]
        box = QWidget(group)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        checks: dict[str, QCheckBox] = {}
        for i, (value, text) in enumerate(options):
            check = QCheckBox(text, box)
            check.setToolTip(tooltip)
            grid.addWidget(check, i // columns, i % columns)
            checks[value] = check
        box.setToolTip(tooltip)

        def read() -> tuple[str, ...]:
            return tuple(v for v, c in checks.items() if c.isChecked())

        def write(value: Any) -> None:
            chosen = set(value or ())
            for v, c in checks.items():
                c.blockSignals(True)
                c.setChecked(v in chosen)
                c.blockSignals(False)

        binding = self._add_row(Binding(path, label, box, error_label(group), read, write), label)
        for check in checks.values():
            check.toggled.connect(lambda _c: self.commit(binding))
        return box

    # Editing ----------------------------------------------------------------
    def derive(self, path: str, value: Any):
        """The new plan for one edited field (subclasses override for fields that need more)."""
        return set_field(self.document.plan, path, value)

    def commit(self, binding: Binding, merge: bool = False) -> None:
        value = binding.read()
        if value == get_field(self.document.plan, binding.path):
            return
        try:
            new_plan = self.derive(binding.path, value)
        except PlanError as e:
            self._write(binding)  # the widget shows the plan's value again, not the refused one
            self.show_error(binding.path, rejected_text(e))
            return
        self.show_error(binding.path, "")
        text = QCoreApplication.translate("panels", "Set {field}").format(field=binding.label.rstrip(":"))
        key = f"{binding.path}#{self._gesture}" if merge else None
        self.document.apply(new_plan, text, merge_key=key)

    def _end_gesture(self) -> None:
        self._gesture += 1

    def show_error(self, path: str, message: str) -> None:
        label = self.bindings[path].error
        label.setText(message)
        label.setVisible(bool(message))

    def set_applies(self, path: str, applies: bool, reason: str = "") -> None:
        """Grey the field at ``path`` (and its label) when it does nothing for this plan, its tooltip
        saying ``reason`` above the usual one; enabled again with the usual tooltip when it applies."""
        b = self.bindings[path]
        marked = b.row_label if b.row_label is not None else b.widget  # where a document error is said
        for w in (b.widget, b.row_label):
            if w is None:
                continue
            w.setEnabled(applies)
            if w.property("usual_tooltip") is None:
                plain = w.property("plain_tooltip")
                w.setProperty("usual_tooltip", plain if plain is not None else w.toolTip())
            usual = str(w.property("usual_tooltip"))
            text = usual if applies or not reason else "\n".join(t for t in (reason, usual) if t)
            if w is marked and w.property("plain_tooltip") is not None:
                w.setProperty("plain_tooltip", text)  # what show_document_error puts back
                if b.widget.property("invalid"):
                    continue  # the tooltip says the document's error until it is gone
            w.setToolTip(text)

    # Refreshing -------------------------------------------------------------
    def refresh(self) -> None:
        plan = self.document.plan
        for group, modes in self._groups:
            shown = not modes or plan.mode in modes
            if shown and group in self._unbuilt:
                self._build_rows(group)
            group.setVisible(shown)
        for b in self.bindings.values():
            self._write(b)
            b.error.hide()
        self.show_document_error()

    def _write(self, b: Binding) -> None:
        """Show the plan's value of ``b``'s field in its widget (without recording an edit)."""
        b.widget.blockSignals(True)
        try:
            value = get_field(self.document.plan, b.path)
            if value is not None or isinstance(b.widget, QSpinBox) or (
                    isinstance(b.widget, QComboBox) and b.widget.findData(None) >= 0):  # a combo offering "none"
                b.write(value)
        finally:
            b.widget.blockSignals(False)

    def show_document_error(self) -> None:
        """Mark the field the document's error names (its label in red, the reason in its tooltip).

        The error's text shows once, above the diagram; the field only says "it is me"."""
        error = self.document.error
        for b in self.bindings.values():
            named = error is not None and _matches(error.field, b.path)
            if bool(b.widget.property("invalid")) == named:
                continue
            b.widget.setProperty("invalid", named)
            marked = b.row_label if b.row_label is not None else b.widget
            if marked.property("plain_tooltip") is None:
                marked.setProperty("plain_tooltip", marked.toolTip())
            marked.setStyleSheet(f"color: {OVER_CAPACITY['light']};" if named else "")
            marked.setToolTip(describe(error, self.document.plan) if named and error is not None
                              else marked.property("plain_tooltip"))


def rejected_text(error: PlanError) -> str:
    """An edit the engine refused, said under its field: what the field takes (no field names)."""
    return QCoreApplication.translate("panels", "Not accepted: expected {allowed}.").format(
        allowed=plain_allowed(error.allowed))


def _matches(error_field: str, path: str) -> bool:
    return error_field == path or error_field.startswith(path + ".") or error_field.startswith(path + "[")

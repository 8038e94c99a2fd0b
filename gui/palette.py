"""``GpuPalette``: a searchable list of GPUs, grouped by category, dragged onto the diagram.

A drag carries the MIME type ``application/x-vramplan-gpu`` with the GPU's
catalog name (UTF-8) as payload; the diagram looks the memory up in the
catalog when the card is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QCoreApplication, QMimeData, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.catalog import GpuSpec, gpu_catalog, normalize, save_user_gpu
from engine.errors import PlanError
from engine.units import Unit, format_bytes, parse_bytes
from gui.diagram.interaction import GPU_MIME
from gui.theme import OVER_CAPACITY

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
CATEGORIES = ("consumer", "workstation", "datacenter", "edge", "custom")


def tr(text: str) -> str:
    return QCoreApplication.translate("GpuPalette", text)


def category_title(category: str) -> str:
    titles = {
        "consumer": tr("Consumer"),
        "workstation": tr("Workstation"),
        "datacenter": tr("Datacenter"),
        "edge": tr("Edge and mobile"),
        "custom": tr("Custom"),
    }
    return titles.get(category, category)


def _present(items: Iterable[QTreeWidgetItem | None]) -> list[QTreeWidgetItem]:
    return [item for item in items if item is not None]


def _children(group: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return _present(group.child(i) for i in range(group.childCount()))


def gpu_mime_data(name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(GPU_MIME, name.encode("utf-8"))
    mime.setText(name)
    return mime


class _GpuTree(QTreeWidget):
    """The tree itself: drags GPU entries out (category rows are not draggable)."""

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt's name
        return [GPU_MIME]

    # Qt takes a null QMimeData (no drag starts); the stub says it is never null.
    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData | None:  # type: ignore[override]  # noqa: N802
        names = [i.data(0, NAME_ROLE) for i in items if i.data(0, NAME_ROLE)]
        return gpu_mime_data(names[0]) if names else None

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction


class CustomGpuDialog(QDialog):
    """Name and memory of a user-defined GPU, saved to the user's catalog folder on OK."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Add a custom GPU"))
        self.saved: GpuSpec | None = None
        self.name = QLineEdit(self)
        self.name.setPlaceholderText(tr("e.g. My lab card"))
        self.memory = QLineEdit(self)
        self.memory.setPlaceholderText(tr("e.g. 24GiB or 80GB"))
        self.memory.setToolTip(tr("Memory as the driver reports it; GB = 10⁹ bytes, GiB = 2³⁰ bytes"))
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {OVER_CAPACITY['light']}")
        form = QFormLayout(self)
        form.addRow(tr("Name:"), self.name)
        form.addRow(tr("Memory:"), self.memory)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        """Validate with the engine and save; a problem stays inline and the dialog stays open."""
        try:
            name = self.name.text().strip()
            if not name:
                raise PlanError("name", name, "a GPU name")
            spec = GpuSpec(name=name, category="custom", memory_bytes=parse_bytes(self.memory.text(), "memory"),
                           marketed_memory=self.memory.text().strip(), source=tr("added by the user"))
            save_user_gpu(spec)
        except PlanError as e:
            self.error.setText(str(e))
            return
        except OSError as e:
            self.error.setText(tr("Could not save: {0}").format(e.strerror or e))
            return
        self.saved = spec
        super().accept()


class GpuPalette(QWidget):
    gpu_activated = Signal(str)  # double-click / Enter on an entry

    def __init__(self, parent: QWidget | None = None, *, unit: Unit | str = Unit.GiB) -> None:
        super().__init__(parent)
        self._unit = Unit(unit)  # the window passes the document's unit and keeps it in step
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(tr("Search GPUs…"))
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(tr("Search GPUs"))
        self.add_button = QToolButton(self)
        self.add_button.setText("+")
        self.add_button.setToolTip(tr("Add a custom GPU (name and memory)"))
        self.add_button.setAccessibleName(tr("Add a custom GPU"))
        self.add_button.clicked.connect(self.add_custom_gpu)
        self.tree = _GpuTree(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([tr("GPU"), tr("Memory")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep "… 16GB" suffixes visible
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setToolTip(tr("Drag a GPU onto a node, or onto empty canvas to create a node"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.add_button)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.set_filter)
        self.tree.itemActivated.connect(self._on_activated)
        self.refresh()

    def preferred_width(self) -> int:
        """The width that shows every GPU name and size whole (the dock is given it when there is room)."""
        metrics = self.tree.fontMetrics()
        names = [entry.text(0) for group in self._groups() for entry in _children(group)]
        name_w = max((metrics.horizontalAdvance(n) for n in names), default=120)
        memory_w = max((metrics.horizontalAdvance(e.text(1)) for g in self._groups() for e in _children(g)), default=60)
        scrollbar = self.tree.verticalScrollBar().sizeHint().width()
        return name_w + memory_w + 2 * self.tree.indentation() + scrollbar + 40

    def set_units(self, unit: Unit | str) -> None:
        """Show memory sizes in the unit the user picked for the whole window."""
        unit = Unit(unit)
        if unit is not self._unit:
            self._unit = unit
            self.refresh()

    def refresh(self) -> None:
        """Reload the catalog (after the user adds a custom GPU)."""
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.font())
        bold.setBold(True)
        for category in CATEGORIES:
            group = QTreeWidgetItem([category_title(category), ""])
            group.setFont(0, bold)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            groups[category] = group
        for gpu in gpu_catalog():
            groups.get(gpu.category, groups["custom"]).addChild(self._entry(gpu, self._unit))
        for category in CATEGORIES:
            if groups[category].childCount():
                self.tree.addTopLevelItem(groups[category])
                groups[category].setExpanded(True)
        self.set_filter(self.search.text())

    @staticmethod
    def _entry(gpu: GpuSpec, unit: Unit) -> QTreeWidgetItem:
        item = QTreeWidgetItem([gpu.name, format_bytes(gpu.memory_bytes, unit, 1)])
        item.setData(0, NAME_ROLE, gpu.name)
        item.setData(0, Qt.ItemDataRole.UserRole + 2, " ".join(normalize(a) for a in (gpu.name, gpu.vendor, *gpu.aliases)))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tip = tr("{0} ({1}): {2} = {3}, as the driver reports it{4}").format(
            gpu.name, gpu.vendor, format_bytes(gpu.memory_bytes, Unit.GB), format_bytes(gpu.memory_bytes, Unit.GiB),
            tr("; sold as {0}").format(gpu.marketed_memory) if gpu.marketed_memory else "")
        item.setToolTip(0, tip)
        item.setToolTip(1, tip)
        return item

    # Search ------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        key = normalize(text)
        for group in self._groups():
            shown = 0
            for entry in _children(group):
                hit = not key or key in entry.data(0, Qt.ItemDataRole.UserRole + 2)
                entry.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)

    def visible_gpu_names(self) -> list[str]:
        return [entry.data(0, NAME_ROLE) for group in self._groups() if not group.isHidden()
                for entry in _children(group) if not entry.isHidden()]

    def _groups(self) -> list[QTreeWidgetItem]:
        return _present(self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount()))

    # Drag payload --------------------------------------------------------------------
    def entry(self, name: str) -> QTreeWidgetItem | None:
        for group in self._groups():
            for entry in _children(group):
                if entry.data(0, NAME_ROLE) == name:
                    return entry
        return None

    def mimeData(self, name: str | None = None) -> QMimeData | None:  # noqa: N802 - the brief's name
        """The drag payload for ``name`` (default: the current entry), exactly what a drag carries."""
        if name is None:
            current = self.tree.currentItem()
            name = current.data(0, NAME_ROLE) if current is not None else None
        item = self.entry(name) if name else None
        return self.tree.mimeData([item]) if item is not None else None

    def add_custom_gpu(self) -> str | None:
        """Ask for a custom GPU, save it to the user's catalog and show it; its name, or None."""
        dialog = CustomGpuDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.saved is None:
            return None
        self.refresh()
        entry = self.entry(dialog.saved.name)
        if entry is not None:
            self.tree.setCurrentItem(entry)
            self.tree.scrollToItem(entry)
        return dialog.saved.name

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        name = item.data(0, NAME_ROLE)
        if name:
            self.gpu_activated.emit(name)

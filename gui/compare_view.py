"""The compare dock: the current plan (B) against a pinned baseline (A), or a MoE plan's busiest EP rank
against its average.

It shows what ``PlanDocument.comparison`` holds (``engine.compare.compare_plans``): per-stage peaks and
headroom, the categories that differ on the chosen stage (a diverging bar, B - A), step time and cost
from the planner's model, and the warnings that appear or disappear.  Pinning changes no plan, so it is
not an undo step; the figures come formatted from :mod:`gui.compare_data`.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.compare import PlanComparison, PlanSide
from engine.errors import PlanError
from engine.plan.schema import load_plan
from gui.chart import category_label
from gui.compare_data import (
    SAME_SPEED,
    CategoryBars,
    StageRow,
    category_bars,
    default_stage,
    percent,
    stage_rows,
    step_figures,
    time_change,
)
from gui.document import PlanDocument
from gui.i18n import plural
from gui.theme import CATEGORY_COLORS, OVER_CAPACITY, current_theme, style_plot

BETTER_COLOR = "#1B873F"
COLUMNS = 6
WIDE_PX = 640  # from this width the table and the bars sit side by side


def tr(text: str) -> str:
    return QCoreApplication.translate("CompareView", text)


class CompareView(QWidget):
    """Subscribes to the document's comparison; the buttons pin, open or unpin the baseline."""

    def __init__(self, document: PlanDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self._document = document
        self._rows: list[StageRow] = []
        self._stage: int | None = None  # the stage whose categories are drawn (0-based)
        self._build_controls()
        self._build_results()
        document.comparison_changed.connect(self.refresh)
        document.baseline_changed.connect(self._sync_controls)
        document.units_changed.connect(self.refresh)
        document.plan_changed.connect(self._sync_controls)
        self.apply_theme()

    # Construction ---------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.pin_button = QPushButton(tr("Pin as baseline"), self)
        self.pin_button.setToolTip(tr("Keep the current plan as the baseline; later edits are compared with it"))
        self.pin_button.clicked.connect(self.pin)
        self.open_button = QPushButton(tr("Open baseline…"), self)
        self.open_button.setToolTip(tr("Compare the current plan with a saved plan file"))
        self.open_button.clicked.connect(self.choose_baseline_file)
        self.unpin_button = QPushButton(tr("Unpin"), self)
        self.unpin_button.clicked.connect(self._document.unpin_baseline)
        self.source = QComboBox(self)
        self.source.setObjectName("compareSource")
        self.source.addItem(tr("with the baseline"), "baseline")
        self.source.addItem(tr("busiest vs average EP rank (MoE)"), "expert-load")
        self.source.setToolTip(tr("Compare the current plan with the pinned baseline, or a mixture-of-experts "
                                  "plan's busiest expert-parallel rank with its average (balanced) rank"))
        self.source.activated.connect(lambda _i: self._document.set_compare_source(self.source.currentData()))
        self.header = QLabel(self)
        self.header.setObjectName("compareHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setObjectName("compareMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)

    def _build_results(self) -> None:
        self.step_label = QLabel(self)
        self.step_label.setObjectName("compareStep")
        self.step_label.setTextFormat(Qt.TextFormat.RichText)
        self.step_label.setWordWrap(True)
        self.table = QTableWidget(0, COLUMNS, self)
        self.table.setObjectName("compareTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.currentCellChanged.connect(lambda row, _c, _pr, _pc: self._row_chosen(row))
        self.bars_caption = QLabel(self)
        self.bars_caption.setWordWrap(True)
        self.table_caption = QLabel(self)
        self.table_caption.setWordWrap(True)
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(60)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, pen=pg.mkPen(None))
        self.zero_line = pg.InfiniteLine(pos=0, angle=90, movable=False)
        self.plot.addItem(self.bars)
        self.plot.addItem(self.zero_line)
        self.warnings = QListWidget(self)
        self.warnings.setObjectName("compareWarnings")
        self.warnings.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        for button in (self.pin_button, self.open_button, self.unpin_button):
            top.addWidget(button)
        top.addSpacing(8)
        top.addWidget(QLabel(tr("Compare:"), self))
        top.addWidget(self.source, 1)
        self.results = QWidget(self)  # hidden while there is nothing to compare
        left, right = QVBoxLayout(), QVBoxLayout()
        for column in (left, right):
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(4)
        left.addWidget(self.table_caption)
        left.addWidget(self.table, 1)
        bars_page = QWidget(self)
        bars_layout = QVBoxLayout(bars_page)
        bars_layout.setContentsMargins(2, 2, 2, 2)
        bars_layout.setSpacing(2)
        bars_layout.addWidget(self.bars_caption)
        bars_layout.addWidget(self.plot, 1)
        self.pages = QTabWidget(self)  # the categories of a stage, the warnings that appear or go
        self.pages.setDocumentMode(True)
        self.pages.addTab(bars_page, tr("What differs"))
        self.pages.addTab(self.warnings, tr("Warnings"))
        right.addWidget(self.pages, 1)
        self.results_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.results)
        self.results_layout.setContentsMargins(0, 0, 0, 0)
        self.results_layout.addLayout(left, 3)
        self.results_layout.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.header)
        layout.addWidget(self.step_label)
        layout.addWidget(self.message)
        layout.addWidget(self.results, 1)
        layout.addStretch(0)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Side by side in the wide bottom dock; stacked when narrow (a floating or side dock)."""
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE_PX
        self.results_layout.setDirection(QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom)

    def apply_theme(self, name: str | None = None) -> None:
        colors = style_plot(self.plot, name, grid_x=True, grid_y=False)
        self.zero_line.setPen(pg.mkPen(colors.foreground, width=1))
        self.refresh()

    # Actions (the buttons) --------------------------------------------------------------------
    def pin(self) -> None:
        try:
            self._document.pin_baseline()
        except PlanError as e:
            self._show_message(tr("Cannot pin: {error}").format(error=e), error=True)

    def choose_baseline_file(self) -> None:
        folder = str(self._document.path.parent) if self._document.path else ""
        path, _ = QFileDialog.getOpenFileName(self, tr("Open baseline plan"), folder,
                                              tr("vramplan plans (*.json)"))
        if path:
            self.open_baseline(Path(path))

    def open_baseline(self, path: Path) -> bool:
        """Pin the plan saved at ``path`` as the baseline; a bad file is shown inline."""
        try:
            self._document.set_baseline(load_plan(path), path.name)
        except PlanError as e:
            self._show_message(tr("Cannot open the baseline: {error}").format(error=e), error=True)
            return False
        except OSError as e:
            self._show_message(tr("Cannot open the baseline: {error}").format(error=e.strerror or e), error=True)
            return False
        return True

    def _sync_controls(self) -> None:
        doc = self._document
        self.unpin_button.setEnabled(doc.baseline is not None)
        moe = doc.plan.model.moe is not None and doc.plan.mode != "serving"
        model = self.source.model()
        item = model.item(1) if hasattr(model, "item") else None
        if item is not None:
            item.setEnabled(moe)
        self.source.setCurrentIndex(max(0, self.source.findData(doc.compare_source)))

    # Drawing ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._sync_controls()
        doc, c = self._document, self._document.comparison
        if c is None:
            self._clear()
            return
        self._show_message("")
        self.results.show()
        self.header.show()
        self.step_label.show()
        self.header.setText(self._header_html(c))
        self.step_label.setText(self._step_html(c))
        self._fill_table(c)
        self._fill_warnings(c)
        stage = self._stage if self._stage is not None and category_bars(c, self._stage, doc.units) else None
        self._select_stage(c, default_stage(c) if stage is None else stage)

    def _clear(self) -> None:
        doc = self._document
        if doc.comparison_error is not None:
            self._show_message(tr("Cannot compare: {error}").format(error=doc.comparison_error), error=True)
        elif doc.compare_source == "baseline" and doc.baseline is None:
            self._show_message(tr("Pin the current plan as the baseline (or open a second plan), then edit it: "
                                  "the differences show here, stage by stage."))
        else:
            self._show_message(tr("Add cards to the plan to compare it."))
        self.results.hide()
        self.header.hide()
        self.step_label.hide()
        self.step_label.setText("")
        self.table_caption.setText("")
        self.table.setRowCount(0)
        self.warnings.clear()
        self._stage = None
        self._draw_bars(None)

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        red = OVER_CAPACITY[current_theme()]
        self.message.setStyleSheet(f"color: {red}" if error else "")

    def _side_html(self, title: str, s: PlanSide) -> str:
        red = OVER_CAPACITY[current_theme()]
        fits, does_not_fit = tr("fits"), tr("does not fit")  # outside the f-strings, where lupdate sees them
        verdict = (f'<span style="color:{BETTER_COLOR}">{fits}</span>' if s.fits
                   else f'<span style="color:{red}">{does_not_fit}</span>')
        count = s.cards  # a plain name: lupdate takes no attribute as the %n argument
        cards = plural(QCoreApplication.translate("CompareView", "%n card(s)", "", count), count)
        return f"<b>{title}</b> {html.escape(s.label)}: {html.escape(s.name)} · {cards} · {verdict}"

    def _header_html(self, c: PlanComparison) -> str:
        return self._side_html("A", c.a) + "<br>" + self._side_html("B", c.b)

    def _step_html(self, c: PlanComparison) -> str:
        fa, fb = step_figures(c.a.step), step_figures(c.b.step)
        if c.a.step is None or c.b.step is None or fa is None or fb is None:
            note = c.a.step_note or c.b.step_note or ""
            return tr("Step time and cost: not modelled ({why})").format(why=html.escape(note))
        change = time_change(c.a.step, c.b.step)
        if abs(change) < SAME_SPEED:
            speed = tr("B trains in the same time as A")
        elif change > 0:
            speed = tr("B trains {pct} slower than A").format(pct=percent(change))
        else:
            speed = tr("B trains {pct} faster than A").format(pct=percent(change))
        figures = tr("{days_a} → {days_b} days, step {a} → {b}, {cost_a} → {cost_b} (the planner's model)").format(
            days_a=fa.days, days_b=fb.days, a=fa.step, b=fb.step, cost_a=fa.cost, cost_b=fb.cost)
        return f"<b>{html.escape(speed)}</b>: {html.escape(figures)}"

    def _fill_table(self, c: PlanComparison) -> None:
        unit = self._document.units.value
        self.table.setHorizontalHeaderLabels([tr("stage"), tr("peak A"), tr("peak B"), tr("B − A"), tr("headroom A"),
                                              tr("headroom B")])
        self.table_caption.setText(tr("{unit} per stage: peak = the heaviest card, headroom = the tightest")
                                   .format(unit=unit))
        rows = self._rows = stage_rows(c, self._document.units)
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            tip = tr("heaviest card: A #{a}, B #{b}").format(a="–" if r.card_a is None else r.card_a,
                                                              b="–" if r.card_b is None else r.card_b)
            stage = tr("all") if r.stage == "all" else r.stage  # the whole plan's row
            for j, text in enumerate((stage, r.peak_a, r.peak_b, r.delta, r.headroom_a, r.headroom_b)):
                item = self._cell(i, j)
                item.setText(text)
                item.setForeground(self._brush(r, j))
                item.setToolTip(tip if j == 0 else "")
        self.table.blockSignals(False)
        rows_shown = sum(self.table.rowHeight(i) for i in range(min(len(rows), 9)))
        header = self.table.horizontalHeader().height() + 4
        self.table.setMaximumHeight(header + rows_shown)
        self.table.setMinimumHeight(header + sum(self.table.rowHeight(i) for i in range(min(len(rows), 2))))

    def _cell(self, row: int, col: int) -> QTableWidgetItem:
        item = self.table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)
        return item

    @staticmethod
    def _brush(r: StageRow, col: int) -> QBrush:
        """Red: a side over capacity, or B needs more; green: B needs less."""
        over = (col in (1, 4) and r.fits_a is False) or (col in (2, 5) and r.fits_b is False)
        if over or (col == 3 and r.delta_sign > 0):
            return QBrush(QColor(OVER_CAPACITY[current_theme()]))
        return QBrush(QColor(BETTER_COLOR)) if col == 3 and r.delta_sign < 0 else QBrush()

    def _fill_warnings(self, c: PlanComparison) -> None:
        self.warnings.clear()
        self.pages.setTabText(1, tr("Warnings (+{added} −{removed})").format(added=len(c.warnings_added),
                                                                         removed=len(c.warnings_removed)))
        red = QColor(OVER_CAPACITY[current_theme()])
        for w in c.warnings_added:
            item = QListWidgetItem(tr("+ appears in B: {message}").format(message=w.message), self.warnings)
            item.setForeground(QBrush(red))
        for w in c.warnings_removed:
            item = QListWidgetItem(tr("− gone in B: {message}").format(message=w.message), self.warnings)
            item.setForeground(QBrush(QColor(BETTER_COLOR)))
        if not c.warnings_added and not c.warnings_removed:
            QListWidgetItem(tr("The same warnings in A and B"), self.warnings).setFlags(Qt.ItemFlag.NoItemFlags)

    def _row_chosen(self, row: int) -> None:
        c = self._document.comparison
        if c is None or not 0 <= row < len(c.stages):
            return
        self._select_stage(c, c.stages[row].stage)

    def _select_stage(self, c: PlanComparison, stage: int | None) -> None:
        self._stage = stage
        if stage is not None and stage < self.table.rowCount():
            self.table.blockSignals(True)
            self.table.selectRow(stage)
            self.table.blockSignals(False)
        self._draw_bars(category_bars(c, stage, self._document.units) if stage is not None else None)

    def _draw_bars(self, bars: CategoryBars | None) -> None:
        if bars is None:
            self.bars.setOpts(x0=[], y=[], width=[], brushes=[])
            self.bars_caption.setText(tr("No memory category differs.") if self._document.comparison else "")
            self.plot.getAxis("left").setTicks([[]])
            return
        unit = self._document.units.value
        self.bars_caption.setText(tr("Stage {stage}: what differs (B − A, {unit})").format(
            stage=bars.stage + 1, unit=unit))
        y = np.arange(len(bars.keys), dtype=np.float64)
        self.bars.setOpts(x0=bars.x0, y=y, width=bars.widths, height=0.6,
                          brushes=[pg.mkBrush(CATEGORY_COLORS[k]) for k in bars.keys])
        ticks = [(float(i), f"{category_label(k)} {text}") for i, (k, text) in enumerate(zip(bars.keys, bars.delta_texts,
                                                                                             strict=True))]
        self.plot.getAxis("left").setTicks([ticks])
        self.plot.setXRange(*bars.x_range, padding=0)
        self.plot.setYRange(-0.6, len(bars.keys) - 0.4, padding=0)

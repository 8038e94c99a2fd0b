"""Stacked bar chart of every card's memory by category, with each card's capacity line.

One ``BarGraphItem`` per category, updated in place with ``setOpts`` on every
estimate; a summary line above it (fits / worst card / headroom / total cards);
hover tooltips give a card's breakdown with the engine's formula strings.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, QRect, Qt
from PySide6.QtGui import QCursor, QHelpEvent
from PySide6.QtWidgets import QLabel, QToolTip, QVBoxLayout, QWidget

from engine.report.records import BREAKDOWN_KEYS, Estimate
from engine.units import format_bytes
from gui.chart_data import (
    StackedBars,
    axis_label,
    axis_top,
    breakdown_rows,
    capacities_of,
    capacity_segments,
    stacked_bars,
)
from gui.i18n import plural
from gui.theme import CATEGORY_COLORS, OVER_CAPACITY, current_theme, style_plot

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls

MIN_SLOTS = 6  # the x range shows at least this many card slots
TOOLTIP_MS = 600_000  # a bar's tooltip stays while the pointer rests on it (Qt's default is ~10 s)
STALE_GREY = "#9A9A9A"  # what is drawn while the plan cannot be estimated


class MemoryAxis(pg.AxisItem):
    """The memory axis: plain numbers with thousands separators ("2,000,000", never "2e+06")."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [axis_label(v * scale) for v in values]


class FilledBars(pg.BarGraphItem):
    """Bars without an outline.  pyqtgraph pads a bar item's bounding rect by half a pen width,
    looking up the pixel size on every ``boundingRect()`` call (dozens per repaint, the chart's
    slowest part); with no pen there is nothing to pad."""

    def pixelPadding(self) -> float:  # noqa: N802 - pyqtgraph's name
        return 0.0


def _same(shown, new: np.ndarray) -> bool:
    return isinstance(shown, np.ndarray) and np.array_equal(shown, new)


def category_label(key: str) -> str:
    labels = {
        "weights": translate("chart", "weights"),
        "gradients": translate("chart", "gradients"),
        "optimizer_states": translate("chart", "optimizer states"),
        "activations": translate("chart", "activations"),
        "logits": translate("chart", "logits"),
        "communication": translate("chart", "communication"),
        "transient": translate("chart", "transient buffers"),
        "kv_cache": translate("chart", "KV cache"),
        "overhead": translate("chart", "overhead"),
    }
    return labels.get(key, key)


class MemoryChart(QWidget):
    """All cards of the document's estimate as stacked bars against their capacity."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._bars: StackedBars | None = None
        self._shown_unit = None
        self._shown_count = -1
        self._shown_top = -1.0
        self._shown_capacity: tuple[np.ndarray, np.ndarray] | None = None
        self.summary = QLabel(self)
        self.summary.setObjectName("chartSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.plot = pg.PlotWidget(self, axisItems={"left": MemoryAxis("left")})
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.hideButtons()
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setMinimumHeight(140)
        self.plot.setLabel("bottom", translate("chart", "card"))
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setCacheMode(pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.legend = QLabel(self)
        self.legend.setObjectName("chartLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)  # a narrow window wraps the keys instead of widening the chart
        self.bar_items: dict[str, pg.BarGraphItem] = {}
        for key in BREAKDOWN_KEYS:
            item = FilledBars(x=[], height=[], y0=[], width=0.8, brush=CATEGORY_COLORS[key], pen=pg.mkPen(None))
            self.plot.addItem(item)
            self.bar_items[key] = item
        self.capacity_line = pg.PlotCurveItem(connect="pairs")
        self.over_line = pg.PlotCurveItem(connect="pairs")
        self.highlight_item = pg.BarGraphItem(x=[], height=[], width=0.9, brush=pg.mkBrush(None))
        for item in (self.capacity_line, self.over_line, self.highlight_item):
            self.plot.addItem(item)
        self.state_text = pg.TextItem(anchor=(0.5, 0.5), color=STALE_GREY)  # "not computed" / "no cards"
        self.state_text.setZValue(20)
        self.plot.addItem(self.state_text, ignoreBounds=True)
        self.state_text.hide()
        self._capacity_pen = pg.mkPen("#202020", width=2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)
        self._hover = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_hover)
        # The plot's scene answers Qt's tooltip event (a pointer at rest) by hiding every tooltip;
        # the bars answer it instead, so a bar's tooltip stays while the pointer rests on it.
        self.plot.viewport().installEventFilter(self)
        document.estimate_changed.connect(self.refresh)
        document.units_changed.connect(self.refresh)
        document.highlight_changed.connect(self._refresh_highlight)
        document.selection_changed.connect(self._refresh_highlight)
        self.apply_theme()  # and draws the estimate

    # Drawing ------------------------------------------------------------------
    def apply_theme(self, name: str | None = None) -> None:
        colors = style_plot(self.plot, name, grid_x=False, grid_y=True)
        self._capacity_pen = pg.mkPen(colors.capacity, width=2)
        self.capacity_line.setPen(self._capacity_pen)
        self.over_line.setPen(pg.mkPen(colors.over_capacity, width=3))
        self.highlight_item.setOpts(pen=pg.mkPen(colors.highlight, width=2))
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the document's estimate; an invalid or empty plan shows no figures, only its
        cards' capacities in grey and what is missing."""
        estimate = self._document.estimate
        unit = self._document.units
        if unit is not self._shown_unit:
            self._shown_unit = unit
            self.plot.setLabel("left", translate("chart", "memory ({unit})").format(unit=unit.value))
        self.summary.setText(self._summary_html(estimate))
        if estimate is None:
            self._show_no_estimate()
            return
        self.state_text.hide()
        self.capacity_line.setPen(self._capacity_pen)
        bars = self._bars = stacked_bars(estimate, unit)
        self.legend.setText(self._legend_html(bars))
        for key, item in self.bar_items.items():
            height, bottom = bars.heights[key], bars.bottoms[key]
            if not (_same(item.opts.get("height"), height) and _same(item.opts.get("y0"), bottom)):
                item.setOpts(x=bars.x, height=height, y0=bottom)  # rebuilds the item: skip when unchanged
            item.setVisible(bool(height.any()))  # an empty category costs nothing to paint
        self._set_capacity_lines(bars)
        self._refresh_highlight()
        top = axis_top(float(max(bars.totals.max(initial=0.0), bars.capacities.max(initial=0.0))))
        self._set_axes(len(bars.x), top)

    def _show_no_estimate(self) -> None:
        """No figures for this plan: bars hidden, the cards' capacities in grey, and why in the plot."""
        self._bars = None
        for item in self.bar_items.values():
            item.setVisible(False)
        self.highlight_item.setOpts(x=[], height=[])
        capacities = capacities_of(self._document.plan, self._document.units)
        xs, ys = capacity_segments(capacities)
        self.capacity_line.setData(xs, ys)
        self.capacity_line.setPen(pg.mkPen(STALE_GREY, width=2, style=Qt.PenStyle.DashLine))
        self.over_line.setData([], [])
        self._shown_capacity = None
        self.legend.setText("")
        top = axis_top(float(capacities.max(initial=0.0)))
        self._set_axes(len(capacities), top)
        self.state_text.setText(translate("chart", "not computed") if self._document.error is not None
                                else translate("chart", "no cards yet"))
        self.state_text.setPos((max(len(capacities), MIN_SLOTS) - 1) / 2, top / 2)
        self.state_text.show()

    def _set_capacity_lines(self, bars: StackedBars) -> None:
        """Capacity marks change only when cards or their fit change: skip the curves' rebuild otherwise."""
        shown = self._shown_capacity
        if shown is not None and np.array_equal(shown[0], bars.capacities) and np.array_equal(shown[1], bars.over):
            return
        self._shown_capacity = (bars.capacities, bars.over)
        xs, ys = capacity_segments(bars.capacities)
        over = np.repeat(bars.over, 2)
        self.capacity_line.setData(xs[~over], ys[~over])
        self.over_line.setData(xs[over], ys[over])

    def _set_axes(self, count: int, top: float) -> None:
        """Integer card ticks, at least MIN_SLOTS slots wide; axes are touched only when they change
        (an axis change re-renders its labels, the slowest part of a repaint)."""
        if count != self._shown_count:
            self._shown_count = count
            self.plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(count)]] if count <= 24 else None)
            self.plot.setXRange(-0.6, max(count, MIN_SLOTS) - 0.4, padding=0)
        if top != self._shown_top:
            self._shown_top = top
            self.plot.setYRange(0, top, padding=0)

    def _refresh_highlight(self) -> None:
        bars, plan = self._bars, self._document.plan
        marked = set(self._document.highlighted_card_ids) | set(self._document.selected_card_ids)
        if bars is None or len(bars.x) != len(plan.layout.cards):
            self.highlight_item.setOpts(x=[], height=[])
            return
        index = [i for i, c in enumerate(plan.layout.cards) if c.id in marked]
        self.highlight_item.setOpts(x=bars.x[index], height=bars.totals[index])

    # Text ---------------------------------------------------------------------
    @staticmethod
    def _legend_html(bars: StackedBars) -> str:
        """Colour keys of the categories present in this estimate."""
        shown = [k for k in BREAKDOWN_KEYS if bars.heights[k].any()]
        return " &nbsp; ".join(
            f'<span style="color:{CATEGORY_COLORS[k]}">■</span>&nbsp;{html.escape(category_label(k))}' for k in shown)

    def _summary_html(self, estimate: Estimate | None) -> str:
        error, red = self._document.error, OVER_CAPACITY[current_theme()]
        if error is not None:  # the reason shows once, above the diagram
            return '<span style="color:{}"><b>{}</b> {}</span>'.format(
                STALE_GREY, html.escape(translate("chart", "Not computed:")),
                html.escape(translate("chart", "the plan has an error (see the message above the diagram).")))
        worst = estimate.worst_card if estimate is not None else None
        if estimate is None or worst is None:
            return '<span style="color:{}">{}</span>'.format(STALE_GREY, html.escape(translate(
                "chart", "No cards yet: drag a GPU from the palette onto the diagram.")))
        unit = self._document.units
        fits_text = translate("chart", "✔ Fits")  # outside the f-string so lupdate extracts it
        overflow_text = translate("chart", "✘ Does not fit")
        verdict = (f'<span style="color:#1B873F"><b>{fits_text}</b></span>' if estimate.fits
                   else f'<span style="color:{red}"><b>{overflow_text}</b></span>')
        headroom = (translate("chart", "{amount} headroom") if worst.headroom_bytes >= 0
                    else translate("chart", "over by {amount}")).format(amount=format_bytes(abs(worst.headroom_bytes), unit))
        worst_text = translate("chart", "worst: card #{index} (stage {stage}, {gpu}) {total} of {capacity}, {headroom}").format(
            index=worst.index, gpu=html.escape(worst.gpu), stage=worst.stage + 1,
            total=format_bytes(worst.total_bytes, unit), capacity=format_bytes(worst.capacity_bytes, unit),
            headroom=headroom)
        count = len(estimate.cards)
        cards = plural(translate("chart", "%n card(s)", "", count), count)
        return f"{verdict} &nbsp;·&nbsp; {worst_text} &nbsp;·&nbsp; {cards}"

    def tooltip_html(self, index: int) -> str:
        """The breakdown of card ``index`` with each figure's formula (shown on hover)."""
        estimate, unit = self._document.estimate, self._document.units
        card = estimate.cards[index]
        head = translate("chart", "Card #{index} · {gpu} · stage {stage} · TP rank {tp_rank}/{tp} · DP rank {dp_rank}/{dp}").format(
            index=card.index, gpu=html.escape(card.gpu), stage=card.stage + 1, tp_rank=card.tp_rank + 1,
            tp=card.tp_size, dp_rank=card.dp_rank + 1, dp=card.dp_size)
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td align='right'><b>{amount}</b></td>"
            f"<td><span style='color:gray'>{html.escape(formula)}</span></td></tr>"
            for label, amount, formula in breakdown_rows(card, unit))
        total = translate("chart", "total {total} of {capacity}").format(
            total=format_bytes(card.total_bytes, unit), capacity=format_bytes(card.capacity_bytes, unit))
        return f"<b>{head}</b><table cellspacing='4'>{rows}</table><b>{total}</b>"

    def card_at(self, scene_pos: QPointF) -> int | None:
        bars = self._bars
        if bars is None or not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.getPlotItem().vb.mapSceneToView(scene_pos)
        index = int(round(point.x()))
        if not 0 <= index < len(bars.x) or abs(point.x() - index) > 0.45:
            return None
        if point.y() < 0 or point.y() > max(bars.totals[index], bars.capacities[index]) * 1.05:
            return None
        return index

    def _on_hover(self, event) -> None:
        self._show_tooltip(event[0], QCursor.pos())

    def _show_tooltip(self, scene_pos: QPointF, global_pos) -> bool:
        """Show the tooltip of the bar at ``scene_pos`` (True), or hide any (False)."""
        index = self.card_at(scene_pos)
        if index is None or self._document.estimate is None:
            QToolTip.hideText()
            return False
        QToolTip.showText(global_pos, self.tooltip_html(index), self.plot, QRect(), TOOLTIP_MS)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            self._show_tooltip(self.plot.mapToScene(event.pos()), event.globalPos())
            return True  # not the scene's help event, which would hide the bar's tooltip
        return super().eventFilter(watched, event)

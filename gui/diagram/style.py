"""Pens, brushes and fonts of the diagram, built once per palette (never per paint)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QGuiApplication, QPalette, QPen

from gui.diagram.colors import HIGHLIGHT_HEX
from gui.theme import OVER_CAPACITY


def _font(point_size: float, bold: bool = False) -> QFont:
    f = QFont(QGuiApplication.font())
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f


class DiagramStyle:
    def __init__(self, palette: QPalette | None = None) -> None:
        pal = palette or QGuiApplication.palette()
        window = pal.color(QPalette.ColorRole.Window)
        self.dark = window.lightnessF() < 0.5
        text = pal.color(QPalette.ColorRole.Text)
        base = pal.color(QPalette.ColorRole.Base)
        muted = QColor(text)
        muted.setAlphaF(0.62)
        self.text = text
        self.muted = muted
        self.canvas = QBrush(QColor("#26282B") if self.dark else QColor("#F3F4F6"))
        self.node_fill = QBrush(QColor("#33363A") if self.dark else QColor("#FFFFFF"))
        self.node_title_fill = QBrush(QColor("#3D4045") if self.dark else QColor("#E8EBEF"))
        self.node_pen = QPen(QColor("#5A5E66") if self.dark else QColor("#B8BEC7"), 1.2)
        self.node_selected_pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2.0)
        slot = QPen(QColor("#6A6E75") if self.dark else QColor("#C5CAD2"), 1.0, Qt.PenStyle.DashLine)
        self.slot_pen = slot
        self.slot_hover = QBrush(pal.color(QPalette.ColorRole.Highlight).lighter(170 if not self.dark else 60))
        self.bar_bg = QBrush(base)
        self.bar_pen = QPen(QColor("#7A7F87") if self.dark else QColor("#8A9099"), 1.0)
        self.overflow = QColor(OVER_CAPACITY["dark" if self.dark else "light"])
        self.overflow_pen = QPen(self.overflow, 2.0)
        overflow_fill = QColor(OVER_CAPACITY["light"])  # the light theme's red, translucent, on both themes
        overflow_fill.setAlpha(90)
        self.overflow_brush = QBrush(overflow_fill, Qt.BrushStyle.SolidPattern)
        self.overflow_hatch = QBrush(self.overflow, Qt.BrushStyle.BDiagPattern)
        self.capacity_pen = QPen(text, 2.0)
        self.selected_pen = QPen(pal.color(QPalette.ColorRole.Highlight), 3.0)
        self.highlight_pen = QPen(QColor(HIGHLIGHT_HEX), 4.0)
        self.badge_fill = QBrush(QColor(255, 255, 255, 215) if not self.dark else QColor(20, 20, 22, 200))
        self.ghost_pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2.0, Qt.PenStyle.DashLine)
        self.ghost_brush = QBrush(QColor(pal.color(QPalette.ColorRole.Highlight).red(),
                                         pal.color(QPalette.ColorRole.Highlight).green(),
                                         pal.color(QPalette.ColorRole.Highlight).blue(), 40))
        self.title_font = _font(10.5, bold=True)
        self.card_font = _font(7.5)
        self.badge_font = _font(7.0, bold=True)
        self.header_font = _font(8.0, bold=True)
        self.figure_font = _font(8.5, bold=True)
        self.small_font = _font(7.0)
        self.title_metrics = QFontMetricsF(self.title_font)
        self.card_metrics = QFontMetricsF(self.card_font)
        self.badge_metrics = QFontMetricsF(self.badge_font)
        self.figure_metrics = QFontMetricsF(self.figure_font)

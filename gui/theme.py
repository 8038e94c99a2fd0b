"""Light and dark palettes (Fusion style) and the colours the chart shares with them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("light", "dark")

# Memory categories (engine.report.records.BREAKDOWN_KEYS), colour-blind-friendly (Okabe-Ito based).
CATEGORY_COLORS = {
    "weights": "#0072B2",
    "gradients": "#56B4E9",
    "optimizer_states": "#009E73",
    "activations": "#E69F00",
    "logits": "#F0E442",
    "communication": "#CC79A7",
    "transient": "#B07AA1",
    "kv_cache": "#D55E00",
    "overhead": "#8C8C8C",
}


# Over capacity and errors, per theme: the chart's over-capacity line and verdict, the diagram's
# overflowing bars, inline field errors, the PDF (always "light").  The one place this red is set.
OVER_CAPACITY = {"light": "#D0021B", "dark": "#FF5A5F"}


@dataclass(frozen=True)
class ChartColors:
    background: str
    foreground: str
    grid_alpha: float
    capacity: str
    over_capacity: str
    highlight: str


CHART_COLORS = {
    "light": ChartColors("#FFFFFF", "#303030", 0.25, "#202020", OVER_CAPACITY["light"], "#FF00AA"),
    "dark": ChartColors("#1E1F22", "#D8D8D8", 0.2, "#F0F0F0", OVER_CAPACITY["dark"], "#FF66CC"),
}

_DARK = {
    QPalette.ColorRole.Window: "#2B2D30",
    QPalette.ColorRole.WindowText: "#DFE1E5",
    QPalette.ColorRole.Base: "#1E1F22",
    QPalette.ColorRole.AlternateBase: "#2B2D30",
    QPalette.ColorRole.ToolTipBase: "#3C3F41",
    QPalette.ColorRole.ToolTipText: "#DFE1E5",
    QPalette.ColorRole.PlaceholderText: "#8C8C8C",
    QPalette.ColorRole.Text: "#DFE1E5",
    QPalette.ColorRole.Button: "#393B40",
    QPalette.ColorRole.ButtonText: "#DFE1E5",
    QPalette.ColorRole.BrightText: OVER_CAPACITY["dark"],
    QPalette.ColorRole.Link: "#589DF6",
    QPalette.ColorRole.Highlight: "#2F65CA",
    QPalette.ColorRole.HighlightedText: "#FFFFFF",
    QPalette.ColorRole.Mid: "#4E5157",
    QPalette.ColorRole.Dark: "#1B1C1F",
    QPalette.ColorRole.Light: "#4E5157",
}


def dark_palette() -> QPalette:
    pal = QPalette()
    for role, color in _DARK.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6F737A"))
    return pal


def apply_theme(app, name: str) -> None:
    """Fusion style with the light (Qt's standard) or dark palette."""
    if name not in THEMES:
        name = "light"
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if name == "dark" else app.style().standardPalette())
    app.setProperty("vramplan_theme", name)


def current_theme(app=None) -> str:
    app = app or QApplication.instance()
    name = app.property("vramplan_theme") if app is not None else None
    return name if name in THEMES else "light"


def style_plot(plot, name: str | None = None, *, grid_x: bool = False, grid_y: bool = True) -> ChartColors:
    """Background, axis pens and grid of a pyqtgraph PlotWidget in the theme's chart colours (returned)."""
    colors = CHART_COLORS[name or current_theme()]
    plot.setBackground(colors.background)
    for axis in ("left", "bottom"):
        ax = plot.getAxis(axis)
        ax.setPen(colors.foreground)
        ax.setTextPen(colors.foreground)
    plot.showGrid(x=grid_x, y=grid_y, alpha=colors.grid_alpha)
    return colors

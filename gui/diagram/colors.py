"""Stage palette, TP / DP group hues, memory-category colours and the legend's data.

Stage colours are Tableau 10 (Maureen Stone's categorical palette, 2007),
chosen for telling up to ten classes apart; stages past ten repeat it.
Memory categories share ``gui.theme.CATEGORY_COLORS`` with the chart so a
colour means the same thing everywhere.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from engine.report.records import BREAKDOWN_KEYS
from gui.theme import CATEGORY_COLORS

STAGE_HEX = (
    "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2",
    "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC",
)
HIGHLIGHT_HEX = "#FF00AA"  # the chart's highlight colour (gui.theme.CHART_COLORS)


class LegendEntry(NamedTuple):
    text: str
    color: QColor


@cache
def stage_color(stage: int) -> QColor:
    return QColor(STAGE_HEX[stage % len(STAGE_HEX)])


@cache
def stage_tint(stage: int, dark: bool) -> QColor:
    """The card body: the stage colour blended into the background."""
    base = QColor("#2B2D30") if dark else QColor("#FFFFFF")
    c = stage_color(stage)
    a = 0.30 if dark else 0.22
    return QColor.fromRgbF(
        c.redF() * a + base.redF() * (1 - a),
        c.greenF() * a + base.greenF() * (1 - a),
        c.blueF() * a + base.blueF() * (1 - a),
    )


@cache
def stage_text_color(stage: int) -> QColor:
    """Black or white, whichever reads better on the stage colour (WCAG relative luminance)."""
    c = stage_color(stage)
    lum = 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF()
    return QColor("#1A1A1A") if lum > 0.55 else QColor("#FFFFFF")


@cache
def group_color(group: int) -> QColor:
    """A hue per group id (golden-angle steps keep neighbouring ids apart)."""
    return QColor.fromHsv(int(group * 137.508) % 360, 170, 170)


@cache
def category_color(key: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(key, "#8C8C8C"))


def category_label(key: str) -> str:
    labels = {
        "weights": QCoreApplication.translate("Diagram", "weights"),
        "gradients": QCoreApplication.translate("Diagram", "gradients"),
        "optimizer_states": QCoreApplication.translate("Diagram", "optimizer states"),
        "activations": QCoreApplication.translate("Diagram", "activations"),
        "logits": QCoreApplication.translate("Diagram", "logits"),
        "communication": QCoreApplication.translate("Diagram", "communication"),
        "transient": QCoreApplication.translate("Diagram", "transient buffers"),
        "kv_cache": QCoreApplication.translate("Diagram", "KV cache"),
        "overhead": QCoreApplication.translate("Diagram", "overhead"),
    }
    return labels.get(key, key)


def stage_label(stage: int) -> str:
    """Stages are 0-based in the plan and shown 1-based, as in the article."""
    return QCoreApplication.translate("Diagram", "stage {0}").format(stage + 1)


def stage_legend(stages: tuple[int, ...]) -> list[LegendEntry]:
    """One entry per stage present in the plan (0-based stages, shown 1-based)."""
    return [LegendEntry(stage_label(s), stage_color(s)) for s in stages]


def category_legend(keys: tuple[str, ...] = BREAKDOWN_KEYS) -> list[LegendEntry]:
    return [LegendEntry(category_label(k), category_color(k)) for k in keys]

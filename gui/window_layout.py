"""The main window's layout: dock widths that fit their content, and what is remembered between runs.

The first show gives the GPU palette the width its longest name needs and the plan settings the
width their forms need (within a share of the window), so nothing is cut at 1280 x 800.  The
interactive app (``gui.app.main``) then restores the last window geometry and dock layout and
remembers the theme and units as they change (:mod:`gui.settings`); screenshots and tests use the
defaults, so they do not depend on the last session.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget

from engine.units import Unit
from gui import settings
from gui.theme import THEMES

PALETTE_MIN, PALETTE_SHARE = 190, 0.20  # px, and at most this share of the window's width
SETTINGS_MIN, SETTINGS_SHARE, SETTINGS_WIDE = 300, 0.22, 440  # px, share of the width, widest
WARNINGS_SHARE = 0.28  # of the right-hand column's height
BOTTOM_SHARE = 0.22  # docks under the chart (the analysis docks), of the window's height
STATE_VERSION = 2  # bump when the docks change so much that an old saved layout would mislead


def apply_default_sizes(window) -> None:
    """Dock widths from their content, within PALETTE_SHARE / SETTINGS_SHARE of the window."""
    width, height = window.width(), window.height()
    palette = min(max(window.gpu_palette.preferred_width(), PALETTE_MIN), int(width * PALETTE_SHARE))
    # the forms' combo boxes shrink to fit (their texts elide): give them room where the window has it
    settings_width = max(SETTINGS_MIN, min(int(width * SETTINGS_SHARE), SETTINGS_WIDE))
    window.resizeDocks([window.palette_dock, window.settings_dock], [palette, settings_width],
                       Qt.Orientation.Horizontal)
    bottom = [d for d in window.findChildren(QDockWidget)
              if window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea and d.isVisible()]
    if bottom:  # docks under the chart: a share of the height, so the diagram keeps room at 800 px
        window.resizeDocks(bottom, [int(height * BOTTOM_SHARE)] * len(bottom), Qt.Orientation.Vertical)
    right = max(height - 120, 300)
    window.resizeDocks([window.settings_dock, window.warnings_dock],
                       [int(right * (1 - WARNINGS_SHARE)), int(right * WARNINGS_SHARE)], Qt.Orientation.Vertical)


def stored_theme() -> str:
    return settings.read_text(settings.THEME, THEMES)


def stored_units() -> str:
    return settings.read_text(settings.UNITS, tuple(u.value for u in Unit))


def restore(window) -> bool:
    """The last session's geometry and dock layout; True when there was one."""
    geometry = settings.read_bytes(settings.GEOMETRY)
    state = settings.read_bytes(settings.DOCK_STATE)
    restored = geometry is not None and window.restoreGeometry(geometry)
    if state is not None and window.restoreState(state, STATE_VERSION):
        window.layout_restored = True
    return restored


class _Remember(QObject):
    """Saves the window's geometry and dock layout when it closes."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Close:
            save(watched)
        return False


def save(window) -> None:
    settings.write(settings.GEOMETRY, window.saveGeometry())
    settings.write(settings.DOCK_STATE, window.saveState(STATE_VERSION))


def remember(window) -> None:
    """From now on remember the units, the theme and (on close) the geometry and dock layout."""
    document = window.document
    document.units_changed.connect(lambda: settings.write(settings.UNITS, document.units.value))
    window.actions_.dark.toggled.connect(lambda dark: settings.write(settings.THEME, "dark" if dark else "light"))
    keeper = _Remember(window)
    window.installEventFilter(keeper)

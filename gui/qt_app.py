"""Create (or reuse) the QApplication; safe to call from the app, the PDF report and tests."""

from __future__ import annotations

import os
import sys
from typing import cast

from PySide6.QtWidgets import QApplication

from gui.fonts import register_app_fonts


def ensure_app(argv: list[str] | None = None, *, headless: bool = False) -> QApplication:
    """The running QApplication, or a new one.

    ``headless`` (reports, screenshots, selftest) selects the offscreen platform
    unless one is already chosen, so no display is needed.
    """
    existing = QApplication.instance()
    if existing is not None:
        return cast(QApplication, existing)  # QApplication.instance() is typed as its base class
    if headless or (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                    and not os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setApplicationName("vramplan")
    app.setOrganizationName("vramplan")
    register_app_fonts()
    return app

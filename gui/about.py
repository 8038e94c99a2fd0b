"""Help > About: version, build, licences and third-party notices (from ``resources/licenses``).

``about_text()`` is the Markdown shown on the first tab (also what the
selftest checks); ``show_about(parent)`` opens the dialog without blocking.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from PySide6 import QtCore
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QPlainTextEdit,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine import __version__
from engine.resources import resource_path

NOTICES_FILE = "NOTICES.md"


def tr(text: str) -> str:
    return QCoreApplication.translate("About", text)


def licenses_dir() -> Path:
    return resource_path("licenses")


def build_info() -> dict[str, str]:
    """What packaging/vramplan.spec stamped into the bundle ({} when run from source)."""
    path = resource_path("build-info.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def component_versions() -> list[tuple[str, str]]:
    """Versions of what actually runs (read from the modules, so a bundle reports its own)."""
    import numpy
    import platformdirs
    import pydantic
    import pyqtgraph
    import PySide6

    return [
        ("Python", platform.python_version()),
        ("Qt", QtCore.qVersion()),
        ("PySide6", PySide6.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("numpy", numpy.__version__),
        ("pydantic", pydantic.VERSION),
        ("platformdirs", platformdirs.__version__),
    ]


def about_text() -> str:
    """Markdown: version and build, component versions, then the third-party notices."""
    info = build_info()
    if info:
        build = tr("bundle built {built} UTC from commit {commit}").format(
            built=info.get("built_utc", "?"), commit=info.get("commit", "?"))
    else:
        build = tr("running from source") if not getattr(sys, "frozen", False) else tr("bundle (no build stamp)")
    lines = [
        f"# vramplan {__version__}",
        "",
        tr("Per-card GPU memory planning for LLM training and serving.  "
           "Works fully offline: vramplan never opens a network connection."),
        "",
        f"*{build}; {platform.system()} {platform.machine()}*",
        "",
        "| {} | {} |".format(tr("component"), tr("version")),
        "|---|---|",
        *(f"| {name} | {version} |" for name, version in component_versions()),
        "",
    ]
    notices = licenses_dir() / NOTICES_FILE
    try:
        lines.append(notices.read_text(encoding="utf-8"))
    except OSError:
        lines.append(tr("**Third-party notices are missing** (expected {path}).").format(path=notices))
    return "\n".join(lines)


def license_files() -> list[Path]:
    """The full licence texts shipped with the app (the font's licence lives beside the font)."""
    files = sorted(licenses_dir().glob("*.txt"), key=lambda p: (not p.name.startswith("vramplan"), p.name.lower()))
    font_license = resource_path("fonts", "LICENSE-wqy-microhei.txt")
    return files + ([font_license] if font_license.is_file() else [])


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("About vramplan {version}").format(version=__version__))
        self.resize(900, 640)
        tabs = QTabWidget(self)
        self.notices = QTextBrowser(self)
        self.notices.setOpenExternalLinks(False)  # offline: links are shown, never opened from here
        self.notices.setMarkdown(about_text())
        tabs.addTab(self.notices, tr("About"))
        tabs.addTab(self._license_tab(), tr("Licence texts"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)

    def _license_tab(self) -> QWidget:
        page = QWidget(self)
        self.license_list = QListWidget(page)
        self.license_text = QPlainTextEdit(page)
        self.license_text.setReadOnly(True)
        self.license_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.license_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._files = license_files()
        for path in self._files:
            self.license_list.addItem(path.name)
        self.license_list.currentRowChanged.connect(self._show_license)
        self.license_list.setMaximumWidth(230)
        row = QHBoxLayout(page)
        row.addWidget(self.license_list)
        row.addWidget(self.license_text, 1)
        if self._files:
            self.license_list.setCurrentRow(0)
        return page

    def _show_license(self, row: int) -> None:
        if 0 <= row < len(self._files):
            self.license_text.setPlainText(_read_text(self._files[row]))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        return tr("{path} could not be read: {error}").format(path=path, error=e.strerror)


def show_about(parent: QWidget | None = None) -> AboutDialog:
    """Open Help > About (window-modal, non-blocking) and return the dialog."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog

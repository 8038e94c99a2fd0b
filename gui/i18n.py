"""Translations: install a QTranslator from ``resources/i18n`` when one matches the locale.

Every user-visible string goes through ``self.tr`` / ``QCoreApplication.translate``;
``.qm`` files named ``vramplan_<locale>.qm`` (e.g. ``vramplan_zh_CN.qm``) are
picked up here.  Without one the English source strings show.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from engine.resources import resource_path

_installed: list[QTranslator] = []  # keep translators alive for the app's lifetime


def install_translator(app: QCoreApplication, locale: QLocale | None = None) -> bool:
    """Load ``vramplan_<locale>.qm`` (falling back along the locale's UI languages); True if one loaded."""
    folder = resource_path("i18n")
    if not folder.is_dir():
        return False
    translator = QTranslator(app)
    if not translator.load(locale or QLocale(), "vramplan", "_", str(folder)):
        return False
    app.installTranslator(translator)
    _installed.append(translator)
    return True

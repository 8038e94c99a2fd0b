"""Fonts shipped in ``resources/fonts``: registered once per process for the app and the PDF report."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QFontDatabase

from engine.resources import resource_path

CJK_FONT_FILE = "wqy-microhei.ttc"
CJK_FAMILY_FALLBACK = "WenQuanYi Micro Hei"
CJK_MONO_FAMILY_FALLBACK = "WenQuanYi Micro Hei Mono"


@cache
def _registered_families() -> tuple[str, ...]:
    """Families of the shipped font collection ('' when it is missing or Qt rejects it)."""
    path = resource_path("fonts", CJK_FONT_FILE)
    if not path.is_file():
        return ()
    font_id = QFontDatabase.addApplicationFont(str(path))
    if font_id < 0:
        return ()
    return tuple(QFontDatabase.applicationFontFamilies(font_id))


def register_app_fonts() -> str:
    """Register the shipped fonts (idempotent) and return the CJK-capable sans family name.

    Needs a QGuiApplication (``gui.qt_app.ensure_app`` calls this after creating one).
    """
    families = _registered_families()
    sans = [f for f in families if "mono" not in f.lower()]
    return sans[0] if sans else CJK_FAMILY_FALLBACK


def cjk_mono_family() -> str:
    """The monospaced face of the shipped collection (formulas in the PDF report)."""
    mono = [f for f in _registered_families() if "mono" in f.lower()]
    return mono[0] if mono else CJK_MONO_FAMILY_FALLBACK

"""What the app remembers between runs, in one QSettings INI file in the user's config folder.

``settings.ini`` (beside the user's catalog files; ``VRAMPLAN_CONFIG_DIR`` moves both) holds the
interface language, theme and units, the window's geometry and dock layout, and the recent files.
QSettings writes the file whole through a temporary file (QSaveFile), so a crash mid-write leaves
the previous settings; a value that cannot be read (a hand-edited or damaged file) is ignored.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from engine.catalog import user_catalog_dir

LANGUAGE = "ui/language"
THEME = "ui/theme"
UNITS = "ui/units"
GEOMETRY = "window/geometry"
DOCK_STATE = "window/state"
RECENT_FILES = "recent/files"


def settings() -> QSettings:
    return QSettings(str(user_catalog_dir() / "settings.ini"), QSettings.Format.IniFormat)


def read_text(key: str, allowed: tuple[str, ...] | None = None) -> str:
    """The stored text under ``key``; "" when unset, not text, or not one of ``allowed``."""
    value = settings().value(key, "")
    if not isinstance(value, str) or (allowed is not None and value not in allowed):
        return ""
    return value


def write(key: str, value: object) -> None:
    store = settings()
    store.setValue(key, value)
    store.sync()


def read_bytes(key: str) -> QByteArray | None:
    value = settings().value(key)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def read_list(key: str) -> list[str]:
    """A stored list of strings (QSettings gives a lone entry as a str); other entries are skipped."""
    value = settings().value(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]

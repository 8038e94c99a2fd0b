"""Translations: install a QTranslator from ``resources/i18n`` for the chosen or the system language.

Every user-visible string goes through ``self.tr`` / ``QCoreApplication.translate``;
``.qm`` files named ``vramplan_<locale>.qm`` (e.g. ``vramplan_zh_CN.qm``) are
picked up here.  Without one the English source strings show.

The language is, first to last: ``vramplan gui --lang``, the ``VRAMPLAN_LANG``
environment variable, the View ▸ Language choice stored in ``settings.ini`` in
the user's config folder, the system locale.  A change applies on the next start.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu

from engine.resources import resource_path
from gui import settings

LANG_ENV = "VRAMPLAN_LANG"
SETTINGS_KEY = settings.LANGUAGE
# (code, name in its own language); "" in the menu means "follow the system".
LANGUAGES: tuple[tuple[str, str], ...] = (("en", "English"), ("zh_CN", "简体中文"))

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls
_installed: list[QTranslator] = []  # keep translators alive for the app's lifetime


def stored_language() -> str:
    """The language picked in View ▸ Language ('' when none was picked)."""
    return settings.read_text(SETTINGS_KEY)


def store_language(code: str) -> None:
    settings.write(SETTINGS_KEY, code)


def chosen_language(flag: str | None = None) -> str:
    """``--lang``, else ``VRAMPLAN_LANG``, else the stored choice; '' means the system locale."""
    return flag or os.environ.get(LANG_ENV, "").strip() or stored_language()


def plural(text: str, n: int) -> str:
    """English plural of an untranslated ``%n`` message: ``translate(ctx, "%n card(s)", "", n)``
    gives "1 card(s)" without a translation; this makes it "1 card" / "2 cards".  A translation
    (whose numerus forms carry no "(s)") passes through unchanged."""
    return text.replace("(s)", "" if n == 1 else "s").replace("(es)", "" if n == 1 else "es")


def _load(app: QCoreApplication, locale: QLocale, name: str, folder: str) -> bool:
    translator = QTranslator(app)
    if not translator.load(locale, name, "_", folder):
        return False
    app.installTranslator(translator)
    _installed.append(translator)
    return True


def install_translator(app: QCoreApplication, language: str | None = None) -> bool:
    """Load ``vramplan_<locale>.qm`` for ``language`` (a code such as ``zh_CN``; None or '' = the
    system locale), falling back along the locale's UI languages; True if one loaded.

    Qt's own strings (standard buttons, file dialogs) follow when Qt ships a matching ``qtbase`` file.
    """
    folder = resource_path("i18n")
    if not folder.is_dir():
        return False
    locale = QLocale(language) if language else QLocale()
    if not _load(app, locale, "vramplan", str(folder)):
        return False
    _load(app, locale, "qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    return True


def remove_translators(app: QCoreApplication) -> None:
    """Uninstall every translator installed here (tests switch back to English with this)."""
    while _installed:
        app.removeTranslator(_installed.pop())


def add_language_menu(parent: QMenu, notify: Callable[[str], None]) -> QMenu:
    """View ▸ Language: follow the system, English or 简体中文; the choice is stored and
    ``notify`` gets the inline notice that it applies on the next start."""
    menu = parent.addMenu(translate("Language", "&Language"))
    group = QActionGroup(menu)
    stored = stored_language()
    for code, name in (("", translate("Language", "Follow the system")), *LANGUAGES):
        action = menu.addAction(name)
        action.setCheckable(True)
        action.setChecked(code == stored)
        action.setData(code)
        group.addAction(action)
        action.triggered.connect(lambda _c=False, c=code, n=name: _choose(c, n, notify))
    return menu


def _choose(code: str, name: str, notify: Callable[[str], None]) -> None:
    store_language(code)
    notify(translate("Language", "The language changes to {language} the next time vramplan starts.")
           .format(language=name))

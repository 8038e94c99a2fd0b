"""``vramplan gui``: open the main window, or render it to a PNG and exit (``--screenshot``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize

from engine.errors import PlanError
from engine.plan.schema import Plan, load_plan
from engine.units import Unit
from gui.document import PlanDocument
from gui.i18n import LANGUAGES
from gui.main_window import MainWindow
from gui.qt_app import ensure_app
from gui.templates import all_templates, default_plan, load_template

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size={text!r}: expected WIDTHxHEIGHT, e.g. 1600x1000") from None
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise argparse.ArgumentTypeError(f"--size={text!r}: expected 320x240 to 8000x8000")
    return w, h


def build_parser():
    from engine.cli.main import OneLineParser

    p = OneLineParser(prog="vramplan gui", description="Open the vramplan desktop app.")
    p.add_argument("plan_file", nargs="?", metavar="FILE", help="plan to open (same as --plan)")
    p.add_argument("--plan", metavar="FILE", help="plan file to open")
    p.add_argument("--template", metavar="NAME", help="start from a template: " + ", ".join(t.key for t in all_templates()))
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window offscreen to a PNG and exit")
    p.add_argument("--size", type=_parse_size, default=(1600, 1000), metavar="WxH", help="window size (default 1600x1000)")
    p.add_argument("--units", choices=[u.value for u in Unit],
                   help="GB (10^9 bytes) or GiB (2^30 bytes); default: the last choice, else GB (screenshots: GB)")
    p.add_argument("--theme", choices=["light", "dark"],
                   help="default: the last choice (View > Dark Theme), else light (screenshots: light)")
    p.add_argument("--lang", choices=[code for code, _name in LANGUAGES],
                   help="interface language (default: $VRAMPLAN_LANG, View > Language, else the system's)")
    return p


def initial_plan(args) -> tuple[Plan, Path | None]:
    path = args.plan or args.plan_file
    if path:
        return load_plan(path), Path(path)
    if args.template:
        return load_template(args.template), None
    return default_plan(), None


def _setup_app(argv0: str, *, headless: bool, theme: str, lang: str | None = None):
    from gui.i18n import chosen_language, install_translator
    from gui.theme import apply_theme

    app = ensure_app([argv0], headless=headless)
    install_translator(app, chosen_language(lang))
    apply_theme(app, theme)
    return app


def _make_window(plan: Plan, path: Path | None, units: str, size: tuple[int, int]) -> MainWindow:
    document = PlanDocument(plan)
    if path is not None:
        document.set_path(path)
    document.set_units(units)
    window = MainWindow(document)
    window.resize(QSize(*size))
    return window


def grab_window(window, path: str | Path) -> None:
    """Lay the window out offscreen and save it as a PNG."""
    window.show()
    for _ in range(3):
        QCoreApplication.processEvents()
    window.serving_answers.settle()  # the serving answers come from a worker thread: wait for them
    for _ in range(3):
        QCoreApplication.processEvents()
    image = window.grab()
    if not image.save(str(path), "PNG"):
        raise PlanError("--screenshot", str(path), "a writable .png path")


def render_screenshot(plan: Plan, path: str | Path, size: tuple[int, int] = (1600, 1000), *,
                      units: str = "GB", theme: str = "light") -> None:
    """Render the main window showing ``plan`` to a PNG at ``path`` (no display needed)."""
    _setup_app(sys.argv[0] if sys.argv else "vramplan", headless=True, theme=theme)
    window = _make_window(plan, None, units, size)
    try:
        grab_window(window, path)
    finally:
        window.document.undo_stack.setClean()
        window.close()
        window.deleteLater()


def _fitting_size(app, wanted: tuple[int, int]) -> tuple[int, int]:
    """``wanted``, shrunk to the screen's available area on small screens."""
    screen = app.primaryScreen()
    if screen is None:
        return wanted
    area = screen.availableGeometry()
    return min(wanted[0], area.width()), min(wanted[1], area.height())


def _offer_recovery(window, autosaver) -> None:
    from gui.autosave import find_recoverable, load_recovered

    found = find_recoverable(exclude=autosaver.plan_path)
    if not found:
        return
    latest = found[0]

    def restore() -> None:
        plan = load_recovered(latest)
        if plan is not None:
            window.document.apply(plan, translate("App", "Restore autosaved plan"))
            if latest.original_path and Path(latest.original_path).is_file():
                window.document.set_path(Path(latest.original_path))  # Save writes back where it came from
        for item in found:
            item.discard()

    def discard() -> None:
        for item in found:
            item.discard()

    name = Path(latest.original_path).name if latest.original_path else translate("App", "untitled")
    text = translate("App", "vramplan did not exit cleanly last time. Restore the autosaved plan “{name}” "
                            "from {time}?").format(name=name, time=latest.saved_at_local)
    buttons = ((translate("App", "Restore"), restore), (translate("App", "Discard"), discard))
    window.notice.show_message(text, "warning", buttons=buttons)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        plan, path = initial_plan(args)
    except PlanError as e:
        sys.stderr.write(f"vramplan gui: error: {e}\n")
        return 2
    if args.screenshot:  # reproducible: the defaults, not the last session's choices
        _setup_app("vramplan", headless=True, theme=args.theme or "light", lang=args.lang)
        window = _make_window(plan, path, args.units or "GB", args.size)
        try:
            grab_window(window, args.screenshot)
        except PlanError as e:
            sys.stderr.write(f"vramplan gui: error: {e}\n")
            return 2
        window.document.undo_stack.setClean()
        return 0
    from gui import crash_log, window_layout
    from gui.autosave import Autosaver

    theme = args.theme or window_layout.stored_theme() or "light"
    app = _setup_app("vramplan", headless=False, theme=theme, lang=args.lang)
    sized = "--size" in (argv or sys.argv)
    size = args.size if sized else _fitting_size(app, (1280, 800))
    window = _make_window(plan, path, args.units or window_layout.stored_units() or "GB", size)
    geometry = window.saveGeometry()
    window_layout.restore(window)  # the last session's size, place and dock layout
    if sized:
        window.restoreGeometry(geometry)  # --size wins over the remembered size
    window_layout.remember(window)
    crash_log.install(window)  # a crash in a slot: logged, shown inline, the plan unchanged
    window.autosaver = Autosaver(window.document, parent=window)
    _offer_recovery(window, window.autosaver)
    window.show()
    return int(app.exec())

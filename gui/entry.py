"""The ``vramplan`` command: no arguments opens the app; engine commands never import Qt.

``vramplan``, ``vramplan PLAN.json`` (a file manager's ``Exec=vramplan %f``) and
``vramplan gui ...`` start the desktop app, ``vramplan report`` and
``vramplan selftest`` need Qt for rendering; every other command is the
engine's CLI (``engine.cli.main``), which stays importable without Qt.
``vramplan --version`` imports neither Qt nor the engine (whose package
import builds every pydantic model); ``vramplan --help`` lists every command.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable


def version() -> str:
    """The installed distribution's version; the engine's own when running from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    try:
        return distribution_version("vramplan")
    except PackageNotFoundError:  # a PyInstaller bundle, or a checkout on PYTHONPATH
        from engine import __version__

        return __version__


def _command(name: str) -> Callable[[list[str]], int | None]:
    """The ``main`` of a command, imported with the garbage collector paused.

    The imports create some 80,000 long-lived objects (modules, classes, pydantic schemas, Qt
    wrappers) and almost no garbage (a few hundred objects); collecting while they are made only
    traverses them again and again (tens of ms).  What the imports made is then frozen (later
    collections skip it; the little garbage stays) and collection resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if name in ("gui", "report", "selftest"):
            # Qt-free dependencies before Qt: PySide6 reads the source of every module imported after
            # it (looking for ``from __feature__ import``); the engine, pydantic and numpy need not be.
            import engine  # noqa: F401
        if name == "gui":
            import numpy  # noqa: F401  - the window's chart (pyqtgraph) needs it

            from gui.app import main as run
        elif name == "report":
            from gui.report_cli import main as run
        elif name == "selftest":
            from gui.selftest import main as run
        else:
            from engine.cli.main import main as run
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    return run


QT_COMMANDS = ("gui", "report", "selftest")
_QT_HELP = {  # the commands gui/ adds to the engine's (their own parsers live with them)
    "gui": "open the desktop app (the default; `vramplan PLAN.json` opens that plan)",
    "report": "write the PDF summary of a saved plan",
    "selftest": "estimate, render and write a PDF offscreen: the bundle's smoke test",
}


def build_parser():
    """The top-level parser: the engine's commands and the ones that need Qt (for help and errors)."""
    import argparse

    from engine.cli.main import build_parser as engine_parser

    parser = engine_parser("vramplan")
    parser.description = ("Per-card GPU memory for LLM training and serving layouts. Without a command, "
                          "or with a plan file as the only argument, the desktop app opens.")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in QT_COMMANDS:
        sub.add_parser(name, help=_QT_HELP[name], add_help=False)
    # list them first, in the order a new user meets them
    sub._choices_actions.sort(key=lambda a: (a.dest not in QT_COMMANDS, QT_COMMANDS.index(a.dest)
                                             if a.dest in QT_COMMANDS else 0))
    return parser


def _engine_commands() -> set[str]:
    import argparse

    from engine.cli.main import build_parser as engine_parser

    sub = next(a for a in engine_parser("vramplan")._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def _is_plan_path(arg: str) -> bool:
    """An argument a file manager passes (``Exec=vramplan %f``): an existing file, or a ``.json`` name."""
    from pathlib import Path

    if arg.startswith("-"):
        return False
    try:
        return Path(arg).is_file() or arg.lower().endswith(".json")
    except (OSError, ValueError):  # a name the OS refuses (NUL byte, too long)
        return False


def route(args: list[str]) -> tuple[str, list[str]]:
    """(command, its arguments) for ``vramplan ARGS``: no arguments or a plan path open the app."""
    if not args:
        return "gui", []
    first = args[0]
    if first in QT_COMMANDS:
        return first, args[1:]
    if first in ("-h", "--help"):
        return "help", []
    if first.startswith("-"):
        return "engine", args
    if ("." in first or "/" in first or "\\" in first) and _is_plan_path(first):
        return "gui", args  # `vramplan plan.json [gui options]` (command names have no dot or slash)
    if first in _engine_commands():
        return "engine", args
    return ("gui", args) if _is_plan_path(first) else ("help-error", args)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        print(f"vramplan {version()}")
        return 0
    command, rest = route(args)
    if command == "help":
        build_parser().print_help()
        return 0
    if command == "help-error":  # an unknown command: argparse's one line, listing every command
        try:
            build_parser().parse_args(rest)
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else 2
        return 2
    if command in QT_COMMANDS:
        return int(_command(command)(rest) or 0)
    return int(_command("engine")(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())

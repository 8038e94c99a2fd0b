"""The ``vramplan`` command: no arguments opens the app; engine commands never import Qt.

``vramplan``/``vramplan gui ...`` start the desktop app, ``vramplan report`` and
``vramplan selftest`` need Qt for rendering; every other command is the
engine's CLI (``engine.cli.main``), which stays importable without Qt.
``vramplan --version`` imports neither Qt nor the engine (whose package
import builds every pydantic model).
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


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "gui"
    if command == "--version":
        print(f"vramplan {version()}")
        return 0
    if command in ("gui", "report", "selftest"):
        return int(_command(command)(args[1:]) or 0)
    return int(_command("engine")(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

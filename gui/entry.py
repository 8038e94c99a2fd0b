"""The ``vramplan`` command: no arguments opens the app; engine commands never import Qt.

``vramplan``/``vramplan gui ...`` start the desktop app, ``vramplan report`` and
``vramplan selftest`` need Qt for rendering; every other command is the
engine's CLI (``engine.cli.main``), which stays importable without Qt.
"""

from __future__ import annotations

import sys

QT_COMMANDS = {"gui": "gui.app", "report": "gui.report_cli", "selftest": "gui.selftest"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in QT_COMMANDS:
        import importlib

        name = args[0] if args else "gui"
        module = importlib.import_module(QT_COMMANDS[name])
        return int(module.main(args[1:]) or 0)
    from engine.cli.main import main as engine_main

    return engine_main(args)


if __name__ == "__main__":
    sys.exit(main())

"""engine/ is a leaf: it never imports Qt, pyqtgraph or the gui package."""

import ast
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "gui")
ENGINE = Path(__file__).resolve().parents[1] / "engine"


def test_no_engine_module_imports_qt_or_gui():
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(ENGINE.parent)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_engine_cli_runs_without_loading_qt():
    code = ("import sys, engine.cli.main as m; m.build_parser(); import engine.estimate; "
            "bad = [k for k in sys.modules if k.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'gui')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr

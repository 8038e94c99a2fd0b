"""gui/ type-checks cleanly (mypy with the PySide6 stubs that ship with the wheel, configured in pyproject.toml).

mypy follows the GUI's imports into the engine; errors there are
``tests/test_engine_types.py``'s to report, so this test fails on errors in ``gui/`` files.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean_on_the_gui(tmp_path):
    pytest.importorskip("mypy", reason="mypy comes with the dev extra")
    proc = subprocess.run([sys.executable, "-m", "mypy", "gui", "--cache-dir", str(tmp_path / "cache")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-4000:]  # 2: mypy itself failed (bad config, crash)
    gui_errors = [line for line in proc.stdout.splitlines() if line.startswith("gui/") and ": error:" in line]
    assert gui_errors == [], "\n".join(gui_errors)

"""engine/ type-checks cleanly (mypy with the pydantic plugin, configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean_on_the_engine(tmp_path):
    pytest.importorskip("mypy", reason="mypy comes with the dev extra")
    proc = subprocess.run([sys.executable, "-m", "mypy", "engine", "--cache-dir", str(tmp_path / "cache")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:]

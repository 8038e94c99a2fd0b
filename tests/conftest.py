"""Test-wide setup: Qt offscreen before any QApplication exists; user folders in tmp."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch):
    """Catalog additions, autosaves and settings go to a temp folder, never the real home."""
    monkeypatch.setenv("VRAMPLAN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VRAMPLAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VRAMPLAN_LANG", "en")  # English UI whatever the developer's locale
    yield

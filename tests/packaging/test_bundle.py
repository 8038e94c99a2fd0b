"""The installed app: build the one-folder bundle and smoke-test it offline (slow: ~1-3 min on 2 cores).

Builds with ``packaging/build.sh`` exactly as a release does, then runs
``vramplan selftest`` from the bundle with ``QT_QPA_PLATFORM=offscreen`` and no
network: in a fresh network namespace (``unshare -n``) where the system allows
it, and always with ``VRAMPLAN_NO_NETWORK=1``, which makes the bundle's
runtime hook refuse every socket.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from gui.selftest import check_pdf, check_png

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
UNUSED_QT = ("Qt6Network", "Qt6Qml", "Qt6Quick", "Qt6Pdf", "Qt6WebEngine", "Qt6Designer", "Qt6Multimedia")


def no_network_prefix() -> list[str]:
    """``unshare -n`` (root) or ``unshare -rn`` (user namespaces) when this machine allows one."""
    if shutil.which("unshare") is None:
        return []
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return []


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", "packaging/build.sh", "--tarball", "--dist", str(out / "dist"), "--work", str(out / "work")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=480,
    )
    assert result.returncode == 0, f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return out / "dist"


def run_bundle(dist: Path, *args: str, offline: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VRAMPLAN_NO_NETWORK": "1"}
    prefix = no_network_prefix() if offline else []
    return subprocess.run([*prefix, str(dist / "vramplan" / "vramplan"), *args],
                          env=env, capture_output=True, text=True, timeout=180)


def test_bundle_reports_the_pyproject_version(dist):
    result = run_bundle(dist, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"vramplan {VERSION}"


def test_bundle_selftest_passes_offline_and_writes_png_and_pdf(dist, tmp_path, qapp):
    out = tmp_path / "selftest"
    result = run_bundle(dist, "selftest", "--out", str(out))
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}"
    assert "selftest: ok   estimate: stage 1 needs 72.55 GB" in result.stdout
    assert result.stdout.splitlines()[0].endswith(", bundle")  # it ran frozen, not from the source tree
    check_png(out / "vramplan-selftest-window.png")
    check_pdf(out / "vramplan-selftest-report.pdf")


def test_bundle_ships_resources_and_leaves_out_unused_qt(dist):
    internal = dist / "vramplan" / "_internal"
    for needed in ("catalogs/gpus.json", "fonts/wqy-microhei.ttc", "licenses/NOTICES.md",
                   "licenses/LGPL-3.0.txt", "icons/vramplan-256.png", "build-info.json"):
        assert (internal / "resources" / needed).is_file(), needed
    bundled = [p.name for p in internal.rglob("*") if p.is_file()]
    for unused in UNUSED_QT:
        assert not [n for n in bundled if unused in n], f"{unused} should be excluded"
    assert "QtNetwork.abi3.so" not in bundled


def test_tarball_is_an_appdir(dist):
    name = f"vramplan-{VERSION}-linux-{os.uname().machine}"
    with tarfile.open(dist / f"{name}.tar.gz") as tar:
        members = set(tar.getnames())
    for needed in ("AppRun", "vramplan", "vramplan.desktop", "vramplan.png", ".DirIcon",
                   "install-desktop-entry.sh", "_internal/resources/licenses/NOTICES.md",
                   "share/icons/hicolor/256x256/apps/vramplan.png"):
        assert f"{name}/{needed}" in members, needed

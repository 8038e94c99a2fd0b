"""App start-up in a subprocess: ``vramplan gui --plan X --screenshot out.png`` renders and exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.plan.schema import save_plan
from gui.templates import load_template

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VRAMPLAN_DATA_DIR": str(tmp_path / "data"),
           "VRAMPLAN_CONFIG_DIR": str(tmp_path / "config")}
    return subprocess.run([sys.executable, "-m", "gui.entry", "gui", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def _png_size_and_colours(path: Path) -> tuple[tuple[int, int], int]:
    from gui.qt_app import ensure_app

    ensure_app(headless=True)
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    colours = {image.pixel(x, y) for x in range(0, image.width(), 25) for y in range(0, image.height(), 25)}
    return (image.width(), image.height()), len(colours)


def test_screenshot_of_a_plan_file(tmp_path):
    plan = tmp_path / "plan.json"
    save_plan(load_template("article-13b-pp8"), plan)
    out = tmp_path / "out.png"
    proc = _run("--plan", str(plan), "--screenshot", str(out), "--size", "1280x800", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    size, colours = _png_size_and_colours(out)
    assert size == (1280, 800)
    assert colours > 10  # a rendered window, not a blank image


def test_default_size_and_template(tmp_path):
    out = tmp_path / "out.png"
    proc = _run("--template", "article-13b-zero1-only", "--screenshot", str(out), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _png_size_and_colours(out)[0] == (1600, 1000)


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    proc = _run("--plan", str(tmp_path / "nope.json"), "--screenshot", str(tmp_path / "o.png"), tmp_path=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "nope.json" in proc.stderr
    proc = _run("--size", "big", "--screenshot", str(tmp_path / "o.png"), tmp_path=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (from the source tree)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VRAMPLAN_DATA_DIR": str(tmp_path / "data"),
           "VRAMPLAN_CONFIG_DIR": str(tmp_path / "config")}
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.splitlines()[-1]))


def test_version_needs_neither_qt_nor_the_engine(tmp_path):
    from engine import __version__

    proc = subprocess.run([sys.executable, "-m", "gui.entry", "--version"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"vramplan {__version__}"
    loaded = _modules_after("from gui.entry import main\nmain(['--version'])", tmp_path)
    assert not {m for m in loaded if m.split(".")[0] in ("PySide6", "shiboken6", "pydantic", "engine")}


def test_first_window_leaves_out_what_it_does_not_show(tmp_path):
    out = tmp_path / "out.png"
    loaded = _modules_after(f"from gui.entry import main\nmain(['gui', '--screenshot', {str(out)!r}])", tmp_path)
    assert out.is_file()
    assert "gui.main_window" in loaded and "engine.training.estimate" in loaded
    later = ("gui.planner_panel", "engine.planner", "gui.pdf", "gui.about", "gui.launch_import", "engine.export",
             "engine.importers.hf_import")
    assert [m for m in later if m in loaded] == []


ENGINE_COMMANDS = ("estimate", "infer", "finetune", "plan", "export", "import", "catalog", "schema", "validate",
                   "compare", "sweep")
ESTIMATE_13B = ["estimate", "--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40",
                "--gpu", "a100-80gb", "--pp", "4", "--dp", "2", "--zero", "1", "--method", "seed"]


def _heavy(loaded: set[str]) -> list[str]:
    """numpy and the planner (which needs it): what only `vramplan plan` and the GUI use."""
    return sorted(m for m in loaded if m.split(".")[0] == "numpy" or m == "engine.planner"
                  or m.startswith("engine.planner."))


def test_the_cli_registers_every_command_without_numpy_or_the_planner(tmp_path):
    # what `vramplan estimate ...` does: import the CLI, register every command's flags, run one
    loaded = _modules_after("from engine.cli.main import main\n"
                            f"assert main({ESTIMATE_13B!r}) == 0\n"
                            "assert main(['estimate', '--help']) == 0", tmp_path)
    assert "engine.cli.plan_cmd" in loaded and "engine.cli.export_cmd" in loaded  # registered ...
    assert _heavy(loaded) == []  # ... without loading what they compute with
    assert "engine.export" not in loaded
    # `vramplan plan` loads them when it runs (a refused objective is checked against the planner's list)
    loaded = _modules_after("from engine.cli.main import main\n"
                            "assert main(['plan', '--model', 'llama-2-7b', '--objective', 'slowest']) == 2", tmp_path)
    assert "engine.planner" in loaded and "engine.planner.search" in loaded


def test_help_lists_every_command(capsys):
    from engine.cli.main import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    # a command's row: four spaces, its name (a wrapped help line is indented further)
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("    ") and line[4:5].strip()}
    assert set(ENGINE_COMMANDS) <= listed

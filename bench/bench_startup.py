"""Start-up times side by side (issue 13): prints medians and ratios, asserts nothing.

Every figure is the wall clock of a fresh process, from start to exit, run from
the source tree with this interpreter and with bytecode caching on (as after an
install: a warm-up round writes the .pyc files); the commands are run in turn,
round after round (alternating, so a busy machine slows them alike), and the
median of ``--runs`` rounds is printed.

(a) bare:     PySide6 + one pyqtgraph PlotWidget (one curve), 1280 x 800, shown
              offscreen, three event-loop passes, grabbed to a PNG, exit
(b) gui:      ``vramplan gui --screenshot OUT.png --size 1280x800`` (the same
              steps for the app's main window on the 13B default plan)
(c) estimate: ``vramplan estimate`` of the README's 13B seed example, against
              ``python -c pass``
(d) version:  ``vramplan --version``

Targets: (b) <= 1.25 x (a); (c) <= 4 x ``python -c pass`` + 100 ms; (d) <= 150 ms.

    .venv/bin/python bench/bench_startup.py [--runs 7]

For what each part of a start imports, and how long it takes:

    QT_QPA_PLATFORM=offscreen .venv/bin/python -X importtime -m gui.entry gui \\
        --screenshot /tmp/x.png --size 1280x800 2> importtime.txt
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication
import pyqtgraph as pg
app = QApplication(sys.argv[:1])
plot = pg.PlotWidget()
plot.plot([0, 1, 2, 3], [3, 1, 2, 4])
plot.resize(1280, 800)
plot.show()
for _ in range(3):
    app.processEvents()
if not plot.grab().save(sys.argv[1], "PNG"):
    raise SystemExit("could not save " + sys.argv[1])
"""

ESTIMATE_13B = ["estimate", "--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40",
                "--gpu", "a100-80gb", "--pp", "4", "--dp", "2", "--zero", "1", "--method", "seed"]


def commands(out: Path) -> dict[str, list[str]]:
    py, vramplan = sys.executable, [sys.executable, "-m", "gui.entry"]
    return {
        "bare": [py, "-c", BARE_WINDOW, str(out / "bare.png")],
        "gui": [*vramplan, "gui", "--screenshot", str(out / "gui.png"), "--size", "1280x800"],
        "pass": [py, "-c", "pass"],
        "estimate": [*vramplan, *ESTIMATE_13B],
        "version": [*vramplan, "--version"],
    }


def run_once(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds (median over them; at least 5)")
    args = parser.parse_args()
    runs = max(args.runs, 5)
    with tempfile.TemporaryDirectory(prefix="vramplan-bench-") as tmp:
        out = Path(tmp)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VRAMPLAN_CONFIG_DIR": str(out / "config"),
               "VRAMPLAN_DATA_DIR": str(out / "data")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: sources compiled once, not on every start
        cmds = commands(out)
        for argv in cmds.values():  # warm-up: the file cache, and .pyc files for the sources
            run_once(argv, env)
        samples: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(runs):
            for name, argv in cmds.items():
                samples[name].append(run_once(argv, env))
    med = {name: statistics.median(values) * 1e3 for name, values in samples.items()}
    print(f"start-up, median of {runs} runs each (ms), {sys.executable}")
    for name, value in med.items():
        print(f"  {name:<9} {value:7.1f}   (min {min(samples[name]) * 1e3:.1f}, max {max(samples[name]) * 1e3:.1f})")
    ratio = med["gui"] / med["bare"]
    est_limit = 4 * med["pass"] + 100
    print(f"(b) gui / bare            = {ratio:.2f}x   (target <= 1.25x)  {'ok' if ratio <= 1.25 else 'OVER'}")
    print(f"(c) estimate {med['estimate']:.0f} ms vs 4 x pass + 100 = {est_limit:.0f} ms  "
          f"{'ok' if med['estimate'] <= est_limit else 'OVER'}")
    print(f"(d) --version {med['version']:.0f} ms (target <= 150 ms)  {'ok' if med['version'] <= 150 else 'OVER'}")


if __name__ == "__main__":
    main()

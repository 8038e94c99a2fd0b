"""The sweep dock on a 64-card plan: a 200-point sweep plus the redraw, median time (issue 14: under 100 ms).

    .venv/bin/python bench/bench_sweep_gui.py

Plan: Llama-2-13B, detailed method, TP 2 x PP 4 x DP 8 = 64 cards (H100 80GB), ZeRO-1, flash attention
(the plan of bench/bench_sweep.py); knob ``seq`` from 1,024 to 131,072, 200 geometric points plus the
bisection for the largest fitting value.  Each sample is what the dock does for one plan change:

* ``sweep``: ``engine.compare.sweep`` (the dock's worker runs it), then ``SweepView.show_sweep`` (the
  in-place ``setData`` of the curve, the points, the capacity line and the marker, the labels), then a
  full paint of the dock into a pixmap (``QWidget.grab``, offscreen);
* warm: the same plan again; after an edit: a plan with equal settings in new objects (an edit elsewhere
  in the plan: the id-keyed memos miss);
* worker: the same, through the dock's worker thread (from the job's start to the drawn signal; the 60 ms
  coalescing delay before a job starts is not counted).

Prints medians; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import GiB, MethodConfig, Plan, TrainingConfig, build_grid  # noqa: E402
from engine.catalog import find_model  # noqa: E402

POINTS = 200
START, STOP = 1024, 131072


def plan() -> Plan:
    return Plan(name="13b-64", model=find_model("llama-2-13b").spec,
                training=TrainingConfig(seq=4096, zero=1, flash_attention=True),
                method=MethodConfig(method="detailed"),
                layout=build_grid(tp=2, pp=4, dp=8, gpu="H100 80GB", capacity_bytes=80 * GiB))


def edited(p: Plan) -> Plan:
    """Equal settings in new objects: what an edit elsewhere in the plan gives the sweep."""
    return p.model_copy(update={"training": TrainingConfig(**p.training.model_dump())})


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def main() -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from gui.document import PlanDocument
    from gui.qt_app import ensure_app
    from gui.sweep_data import run_sweep
    from gui.sweep_view import SweepView

    ensure_app(headless=True)
    p = plan()
    assert len(p.layout.cards) == 64
    document = PlanDocument(p)
    view = SweepView(document)
    view.resize(900, 420)
    view.show()
    view.set_knob("seq")
    QCoreApplication.processEvents()

    def once(q: Plan) -> float:
        t0 = time.perf_counter()
        result = run_sweep(q, "seq", START, STOP, POINTS)
        view.show_sweep(result, q)
        view.grab()
        return time.perf_counter() - t0

    first = run_sweep(p, "seq", START, STOP, POINTS)
    once(p)
    warm = [once(p) for _ in range(30)]
    after_edit = [once(edited(p)) for _ in range(15)]

    view._range = (START, STOP)  # the worker sweeps the same range
    view.points_box.setValue(POINTS)
    worker = []
    for _ in range(15):
        document.preview(edited(document.plan))  # a new plan; the coalescing timer starts
        view._timer.stop()
        loop = QEventLoop()  # the app's idle event loop: the GUI thread holds no GIL while it waits
        view.sweep_shown.connect(loop.quit)
        t0 = time.perf_counter()
        view._start()
        loop.exec()
        view.grab()
        worker.append(time.perf_counter() - t0)
        view.sweep_shown.disconnect(loop.quit)
    print(f"sweep of seq, {len(first.points)} points + bisection (largest fitting {first.largest_fitting:,}) on a "
          f"64-card plan, with the dock's redraw: median {median_ms(warm):.1f} ms warm, "
          f"{median_ms(after_edit):.1f} ms after an edit, {median_ms(worker):.1f} ms through the worker thread")


if __name__ == "__main__":
    main()

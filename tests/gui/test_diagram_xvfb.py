"""A real drag from the GPU palette onto a node, under Xvfb with Qt's xcb platform.

Offscreen, ``QDrag.exec`` returns at once, so the other diagram tests send
synthesised drag events.  Here a real ``QDrag`` runs: the test presses on the
palette entry and moves the mouse, which starts the drag's own event loop;
the mouse move over the diagram and the release were scheduled beforehand with
``QTimer.singleShot``.  The app runs in a subprocess (the test process is
offscreen) against an Xvfb server this test starts.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xvfb
XVFB = shutil.which("Xvfb")
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
from PySide6.QtCore import QPoint, QPointF, QTimer, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

app = QApplication(sys.argv[:1])
from engine.plan import edits
from engine.estimate import estimate
from engine.plan.layout import build_grid
from engine.model.spec import ModelSpec
from engine.plan.schema import Plan
from engine.training.config import MethodConfig, TrainingConfig
from engine.units import GiB, format_bytes
from gui.diagram.controller import DiagramController
from gui.diagram.geometry import CARD_H, CARD_W, node_scene_pos, slot_pos
from gui.diagram.view import DiagramView
from gui.document import PlanDocument
from gui.palette import GpuPalette

model = ModelSpec(name="13B", params=13_000_000_000, layers=40, hidden=5120, heads=40)
plan = Plan(model=model, training=TrainingConfig(zero=1), method=MethodConfig(method="seed"),
            layout=build_grid(pp=4, dp=2, gpu="A100 80GB", capacity_bytes=80 * GiB))
plan = edits.add_node(plan, "spare", x=0.0, y=1.0, node_id="n1")
document = PlanDocument(plan)
window = QWidget()
row = QHBoxLayout(window)
palette = GpuPalette()
view = DiagramView(document)
controller = DiagramController(document, view.diagram_scene)
row.addWidget(palette, 1)
row.addWidget(view, 3)
window.resize(1500, 900)
window.show()
QTest.qWaitForWindowExposed(window)
view.set_zoom(0.7)
target_scene = node_scene_pos(0, 1) + slot_pos(3) + QPointF(CARD_W / 2, CARD_H / 2)
view.centerOn(target_scene)
QTest.qWait(100)
entry = palette.entry("A100 80GB")
palette.tree.scrollToItem(entry)
start = palette.tree.visualItemRect(entry).center()
target = view.mapFromScene(target_scene)
seen = {"drag_started": False, "in_drag_loop": False}

def hover():
    seen["drag_started"] = seen["in_drag_loop"]  # this timer fired while QDrag.exec was blocking
    QTest.mouseMove(view.viewport(), target - QPoint(5, 5))
    QTest.mouseMove(view.viewport(), target)

QTimer.singleShot(400, hover)
QTimer.singleShot(800, lambda: QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target))
QTimer.singleShot(5000, app.quit)  # safety net if the drag never ends
QTest.mousePress(palette.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
seen["in_drag_loop"] = True
QTest.mouseMove(palette.tree.viewport(), start + QPoint(40, 8))  # past the drag distance: QDrag.exec runs here
seen["in_drag_loop"] = False
QTest.qWait(200)
cards = [c for c in document.plan.layout.cards if c.node == "n1"]
report = estimate(document.plan)
drawn_ok = all(
    view.diagram_scene.card_items[r.card_id].total_text == format_bytes(r.total_bytes, document.units)
    for r in report.cards
)
print(json.dumps({
    "platform": QApplication.platformName(),
    "drag_started": seen["drag_started"],
    "cards_in_n1": [(c.slot, c.gpu, c.capacity_bytes) for c in cards],
    "commands": document.undo_stack.count(),
    "text": document.undo_stack.text(0) if document.undo_stack.count() else "",
    "drawn_ok": drawn_ok,
}))
"""


@pytest.fixture
def xvfb_display():
    if XVFB is None:
        pytest.skip("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 15)
        number = os.read(read_fd, 32).decode().strip() if ready else ""
        if not number:
            pytest.fail("Xvfb did not report a display number within 15 s")
        yield f":{number}"
    finally:
        os.close(read_fd)
        proc.terminate()
        proc.wait(timeout=10)


def test_real_drag_from_palette_onto_a_node(xvfb_display, tmp_path):
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT),
               VRAMPLAN_CONFIG_DIR=str(tmp_path / "config"), VRAMPLAN_DATA_DIR=str(tmp_path / "data"))
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result (exit {done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert result["platform"] == "xcb"
    assert result["drag_started"]
    # One A100 80GB card in the spare node's slot 3 (the slot under the cursor), 80 GiB.
    assert result["cards_in_n1"] == [[3, "A100 80GB", 85_100_068_864]]
    assert result["commands"] == 1 and result["text"] == "Add A100 80GB"
    assert result["drawn_ok"]

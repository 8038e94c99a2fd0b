"""Names read from plan files are drawn as text, never as HTML (issue 15)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine.plan.layout import build_grid
from engine.plan.schema import Plan
from gui.diagram.scene import DiagramScene
from gui.document import PlanDocument
from gui.templates import default_plan

HTML = "<img src='x'><b>bold</b><a href='http://example.com'>link</a>"


def test_node_and_gpu_names_are_plain_text(qtbot):
    base = default_plan()
    layout = build_grid(tp=2, gpu=HTML, capacity_bytes=80 * 2**30)
    layout = layout.model_copy(update={"nodes": tuple(n.model_copy(update={"name": HTML}) for n in layout.nodes)})
    scene = DiagramScene(PlanDocument(Plan.model_validate({**dict(base), "layout": layout})))
    node = next(iter(scene.node_items.values()))
    card = next(iter(scene.card_items.values()))
    assert node._title.textFormat() == Qt.TextFormat.PlainText
    assert card._gpu.textFormat() == Qt.TextFormat.PlainText

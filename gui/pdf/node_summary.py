"""The node diagram of a large plan: one representative node per distinct node layout, with its count.

Past ``gui.pdf.summary.DIAGRAM_MAX_NODES`` nodes or ``DIAGRAM_MAX_CARDS`` cards the PDF does not draw
every card: nodes whose cards match slot for slot (stage, group sizes, GPU, capacity and every byte)
are drawn once, titled with how many nodes share the layout ("× 16 identical nodes").  Each card is a
small cell in the app's colours: its stage in the header, a bar of its memory by category up to its
capacity, and its total below.  The drawing is bounded however large the plan is.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen

from engine.plan.schema import Plan
from engine.report.records import BREAKDOWN_KEYS, CardEstimate, Estimate, index_ranges
from engine.units import Unit, to_unit
from gui.diagram.colors import category_color, stage_color, stage_text_color, stage_tint
from gui.pdf.canvas import MUTED_COLOR, RESOLUTION_DPI, TEXT_COLOR, PdfCanvas
from gui.pdf.chart import OVER_COLOR
from gui.pdf.summary import (
    DIAGRAM_MAX_CARDS,
    DIAGRAM_MAX_NODES,
    NodeLayout,
    drawn_layouts,
    node_layouts,
)

COLUMNS = 8  # cells per row inside a box, as the app wraps slots; a node of more slots gets a full-width box of 16
BOX_PEN, TITLE_FILL, SLOT_PEN = QColor("#b8bec7"), QColor("#e8ebef"), QColor("#c5cad2")
BAR_PEN = QColor("#8a9099")


def draw_node_summary(canvas: PdfCanvas, plan: Plan, est: Estimate, unit: Unit, title: str) -> None:
    """``title`` as the section's heading, kept on the page with the intro and the first row of boxes."""
    layouts = node_layouts(plan, est)
    worst = est.worst_card
    drawn = drawn_layouts(layouts, worst.node if worst is not None else None)
    nodes, cards = len(plan.layout.nodes), len(plan.layout.cards)
    intro = (f"{cards:,} cards on {nodes:,} nodes: more than the diagram draws one by one ({DIAGRAM_MAX_NODES} nodes "
             f"or {DIAGRAM_MAX_CARDS} cards). Nodes whose cards match slot for slot (stage, group sizes, GPU and "
             f"memory) are drawn once, with how many nodes share the layout; figures in {unit.value} per card.")
    if len(drawn) < len(layouts):
        left = len(layouts) - len(drawn)
        hidden = nodes - sum(len(lay.nodes) for lay in drawn)
        intro += (f" {len(layouts):,} distinct layouts: {left:,} of them ({hidden:,} nodes) are not drawn; "
                  "the card table lists their cards.")
    per_row = 2 if all(lay.slots <= COLUMNS for lay in drawn) else 1
    columns = COLUMNS * (3 - per_row)  # the same cell size either way
    gap = canvas.pt(10)
    box_w = (canvas.width - gap * (per_row - 1)) / per_row
    intro_font = canvas.font(7.5)
    first = max(_box_height(canvas, box_w, lay, columns) for lay in drawn[:per_row])
    canvas.heading(title, keep_with_pt=(canvas.text_height(intro, intro_font, canvas.width) + first) * 72 / RESOLUTION_DPI
                   + 12)
    canvas.paragraph(intro, intro_font, color=MUTED_COLOR, after_pt=6)
    for first in range(0, len(drawn), per_row):
        row = drawn[first:first + per_row]
        height = max(_box_height(canvas, box_w, lay, columns) for lay in row)
        canvas.ensure(height)
        for k, lay in enumerate(row):
            box = QRectF(canvas.left + k * (box_w + gap), canvas.y, box_w, height)
            _draw_box(canvas, plan, lay, box, unit, columns)
        canvas.y += height + canvas.pt(8)


def _cell_size(canvas: PdfCanvas, box_w: float, columns: int) -> tuple[float, float]:
    pad, cgap = canvas.pt(5), canvas.pt(3)
    width = (box_w - 2 * pad - cgap * (columns - 1)) / columns
    return width, canvas.pt(78)


def _box_height(canvas: PdfCanvas, box_w: float, lay: NodeLayout, columns: int) -> float:
    _, cell_h = _cell_size(canvas, box_w, columns)
    rows = -(-lay.slots // columns)
    return canvas.pt(27) + rows * cell_h + (rows - 1) * canvas.pt(4) + canvas.pt(5)


def _names(plan: Plan, nodes: tuple[int, ...]) -> str:
    names = [plan.layout.nodes[i].name for i in (nodes if len(nodes) <= 3 else (nodes[0], nodes[1], nodes[-1]))]
    return ", ".join(names) if len(nodes) <= 3 else f"{names[0]}, {names[1]} … {names[2]}"


def _description(lay: NodeLayout) -> str:
    cards = [c for _, c in lay.cards]
    if not cards:
        return f"{lay.slots} empty slots"
    stages = sorted({c.stage + 1 for c in cards})
    parts = [("stage " if len(stages) == 1 else "stages ") + index_ranges(stages)]
    for name, sizes in (("TP", {c.tp_size for c in cards}), ("DP", {c.dp_size for c in cards})):
        parts.append(f"{name} {'/'.join(str(s) for s in sorted(sizes))}")
    gpus = sorted({c.gpu for c in cards})
    parts.append(f"{len(cards)} × {', '.join(gpus)}" + (f" of {lay.slots} slots" if len(cards) < lay.slots else ""))
    return " · ".join(parts)


def _draw_box(canvas: PdfCanvas, plan: Plan, lay: NodeLayout, box: QRectF, unit: Unit, columns: int) -> None:
    p = canvas.painter
    p.setPen(QPen(BOX_PEN, canvas.pt(0.6)))
    p.setBrush(QColor("#ffffff"))
    p.drawRoundedRect(box, canvas.pt(3), canvas.pt(3))
    title = QRectF(box.left(), box.top(), box.width(), canvas.pt(22))
    p.fillRect(title.adjusted(canvas.pt(0.5), canvas.pt(0.5), -canvas.pt(0.5), 0), TITLE_FILL)
    p.setBrush(Qt.BrushStyle.NoBrush)
    count = len(lay.nodes)
    tag = f"× {count:,} identical nodes" if count > 1 else "1 node"
    bold, small = canvas.font(7.5, bold=True), canvas.font(6.5)
    pad = canvas.pt(5)
    tag_w = canvas.metrics(bold).horizontalAdvance(tag) + pad
    line = QRectF(box.left() + pad, box.top() + canvas.pt(2), box.width() - 2 * pad, canvas.pt(10))
    p.setFont(bold)
    p.setPen(TEXT_COLOR)
    p.drawText(line, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), tag)
    name = canvas.metrics(bold).elidedText(_names(plan, lay.nodes), Qt.TextElideMode.ElideRight, line.width() - tag_w)
    p.drawText(line, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), name)
    p.setFont(small)
    p.setPen(MUTED_COLOR)
    sub = line.translated(0, canvas.pt(9.5))
    p.drawText(sub, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
               canvas.metrics(small).elidedText(_description(lay), Qt.TextElideMode.ElideRight, sub.width()))
    cell_w, cell_h = _cell_size(canvas, box.width(), columns)
    by_slot = dict(lay.cards)
    for slot in range(lay.slots):
        col, row = slot % columns, slot // columns
        cell = QRectF(box.left() + pad + col * (cell_w + canvas.pt(3)),
                      box.top() + canvas.pt(27) + row * (cell_h + canvas.pt(4)), cell_w, cell_h)
        card = by_slot.get(slot)
        if card is None:
            p.setPen(QPen(SLOT_PEN, canvas.pt(0.5), Qt.PenStyle.DashLine))
            p.drawRoundedRect(cell, canvas.pt(2), canvas.pt(2))
        else:
            _draw_cell(canvas, card, cell, unit)


def _draw_cell(canvas: PdfCanvas, c: CardEstimate, cell: QRectF, unit: Unit) -> None:
    p = canvas.painter
    p.setPen(QPen(stage_color(c.stage), canvas.pt(0.6)))
    p.setBrush(stage_tint(c.stage, False))
    p.drawRoundedRect(cell, canvas.pt(2), canvas.pt(2))
    p.setBrush(Qt.BrushStyle.NoBrush)
    header = QRectF(cell.left(), cell.top(), cell.width(), canvas.pt(9))
    p.fillRect(header, stage_color(c.stage))
    p.setFont(canvas.font(6, bold=True))
    p.setPen(stage_text_color(c.stage))
    p.drawText(header.adjusted(canvas.pt(2), 0, -canvas.pt(2), 0),
               int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), f"S{c.stage + 1}")
    bar_w = min(cell.width() * 0.45, canvas.pt(18))
    bar = QRectF(cell.center().x() - bar_w / 2, header.bottom() + canvas.pt(4), bar_w, canvas.pt(44))
    p.fillRect(bar, QColor("#ffffff"))
    scale = bar.height() / max(c.capacity_bytes, c.total_bytes)
    base = bar.bottom()
    for key in BREAKDOWN_KEYS:
        h = getattr(c.breakdown, key).bytes * scale
        if h > 0:
            p.fillRect(QRectF(bar.left(), base - h, bar.width(), h), category_color(key))
            base -= h
    p.setPen(QPen(BAR_PEN, canvas.pt(0.5)))
    p.drawRect(bar)
    if not c.fits:  # the capacity line inside a bar scaled to the total; the part above it is over
        y = bar.bottom() - c.capacity_bytes * scale
        p.setPen(QPen(OVER_COLOR, canvas.pt(1.2)))
        p.drawLine(QPointF(bar.left() - canvas.pt(2), y), QPointF(bar.right() + canvas.pt(2), y))
    text = QRectF(cell.left() + canvas.pt(1), bar.bottom() + canvas.pt(2), cell.width() - canvas.pt(2), canvas.pt(8))
    p.setFont(canvas.font(6, bold=True))
    p.setPen(TEXT_COLOR if c.fits else OVER_COLOR)
    p.drawText(text, int(Qt.AlignmentFlag.AlignCenter), f"{to_unit(c.total_bytes, unit):.2f}")
    p.setFont(canvas.font(5))
    p.setPen(MUTED_COLOR)
    p.drawText(text.translated(0, canvas.pt(7)), int(Qt.AlignmentFlag.AlignCenter),
               f"of {to_unit(c.capacity_bytes, unit):.2f}")

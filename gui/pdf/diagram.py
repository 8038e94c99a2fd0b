"""The node diagram, as vectors: the app's DiagramScene rendered onto the PDF painter.

When ``gui.diagram.scene`` is not importable (a build without the diagram), a
simple vector drawing stands in: node boxes, cards tinted by stage with a
fill bar (share of capacity used, red when over) and TP groups outlined.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPicture

from engine.plan.schema import Plan
from engine.report.records import BREAKDOWN_KEYS, Estimate
from gui.pdf.canvas import MUTED_COLOR, TEXT_COLOR, PdfCanvas
from gui.pdf.chart import CATEGORY_COLORS, CATEGORY_LABELS

_STAGE_HEX = ("#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2",
              "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC")  # Tableau 10, as gui.diagram.colors


def stage_color(stage: int) -> QColor:
    """The app diagram's stage colour (gui.diagram.colors), or the same palette without it."""
    try:
        from gui.diagram.colors import stage_color as app_stage_color
    except ImportError:
        return QColor(_STAGE_HEX[stage % len(_STAGE_HEX)])
    return QColor(app_stage_color(stage))


OVER_COLOR = QColor("#D0021B")
FILL_COLOR = QColor("#3b3b3b")


def app_scene(plan: Plan):
    """(document, scene) of the app's diagram for ``plan``, or None without the diagram package."""
    try:
        from gui.diagram.scene import DiagramScene
    except ImportError:
        return None
    from gui.document import PlanDocument

    document = PlanDocument(plan)
    return document, DiagramScene(document)


def draw_diagram(canvas: PdfCanvas, plan: Plan, est: Estimate, max_height: float) -> None:
    """The diagram fitted to the page (tall diagrams in side-by-side columns), then its legend."""
    made = app_scene(plan)
    if made is not None:
        _document, scene = made
        source = scene.itemsBoundingRect().adjusted(-4, -4, 4, 4)
        picture = scene_picture(scene, source)
        # drawPicture scales by the device's dpi over the picture's: undo that, then fit the page.
        dpi_ratio = picture.logicalDpiX() / canvas.writer.logicalDpiX()

        def paint() -> None:
            canvas.painter.scale(dpi_ratio, dpi_ratio)
            canvas.painter.drawPicture(QPointF(0, 0), picture)

        spans = [(r.top() - source.top(), r.bottom() - source.top())
                 for r in (item.sceneBoundingRect() for item in scene.items() if item.parentItem() is None)]
        size = (source.width(), source.height())
    else:
        size, spans, paint = fallback_drawing(canvas, plan, est)
    draw_columns(canvas, size, merge_spans(spans, size[1]), paint, max_height)
    draw_stage_legend(canvas, est, scene_used=made is not None)


def merge_spans(spans: list[tuple[float, float]], height: float) -> list[tuple[float, float]]:
    """Vertical bands no item crosses (where a tall diagram may be cut into columns)."""
    bands: list[list[float]] = []
    for top, bottom in sorted(spans):
        if bands and top < bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], bottom)
        else:
            bands.append([top, bottom])
    if not bands:
        return [(0.0, height)]
    bands[0][0], bands[-1][1] = 0.0, height
    for a, b in zip(bands, bands[1:], strict=False):  # split each gap between neighbours
        a[1] = b[0] = (a[1] + b[0]) / 2
    return [(a, b) for a, b in bands]


def pack_columns(bands: list[tuple[float, float]], columns: int) -> list[tuple[float, float]]:
    """Consecutive bands grouped into at most ``columns`` runs of similar height."""
    total = bands[-1][1] - bands[0][0]
    target = total / columns
    out: list[tuple[float, float]] = []
    start = bands[0][0]
    for top, bottom in bands:
        if bottom - start > target * 1.02 and top > start and len(out) < columns - 1:
            out.append((start, top))
            start = top
    out.append((start, bands[-1][1]))
    return out


def draw_columns(canvas: PdfCanvas, size: tuple[float, float], bands, paint, max_height: float) -> None:
    """Lay the drawing out in the number of columns that shows it largest."""
    width, gap = size[0], canvas.pt(10)
    best: tuple[float, list[tuple[float, float]]] = (0.0, bands)
    for k in range(1, min(len(bands), 12) + 1):
        cols = pack_columns(bands, k)
        col_w = (canvas.width - gap * (len(cols) - 1)) / len(cols)
        scale = min(col_w / width, max_height / max(b - a for a, b in cols))
        if scale > best[0] * 1.05:
            best = (scale, cols)
    scale, cols = best
    used_w = width * scale * len(cols) + gap * (len(cols) - 1)
    x = canvas.left + (canvas.width - used_w) / 2
    p = canvas.painter
    for top, bottom in cols:
        p.save()
        p.translate(x, canvas.y)
        p.scale(scale, scale)
        p.setClipRect(QRectF(0, 0, width, bottom - top))
        p.translate(0, -top)
        paint()
        p.restore()
        x += width * scale + gap
    canvas.y += max(b - a for a, b in cols) * scale + canvas.pt(6)


def scene_picture(scene, source: QRectF) -> QPicture:
    """The scene recorded as vector drawing commands at screen resolution.

    Rendering the scene straight onto the 1,200 dpi PDF painter would size its
    point-size fonts for 1,200 dpi *and* scale them with the scene transform;
    a QPicture records at the screen's resolution and replays scaled, so text
    keeps its size relative to the cards.
    """
    picture = QPicture()
    painter = QPainter(picture)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scene.render(painter, QRectF(0, 0, source.width(), source.height()), source, Qt.AspectRatioMode.KeepAspectRatio)
    painter.end()
    return picture


def fallback_drawing(canvas: PdfCanvas, plan: Plan, est: Estimate):
    """((width, height), node spans, paint) of a plain diagram, in device units before scaling."""
    layout, u = plan.layout, canvas.pt(1)
    card_w, card_h, gap, pad, title_h = 34 * u, 46 * u, 4 * u, 6 * u, 14 * u
    per_row = 8
    node_rows = [-(-max(n.slots, 1) // per_row) for n in layout.nodes]
    node_w = per_row * card_w + (per_row - 1) * gap + 2 * pad
    node_h = max(node_rows or [1]) * (card_h + gap) - gap + 2 * pad + title_h
    cols = 1  # draw_columns cuts a tall drawing into columns between nodes
    rows = len(layout.nodes)
    width, height = node_w, rows * (node_h + 12 * u) - 12 * u
    spans = [(k * (node_h + 12 * u), k * (node_h + 12 * u) + node_h) for k in range(rows)]
    cards_by_node: dict[str, list[int]] = {}
    for i, card in enumerate(layout.cards):
        cards_by_node.setdefault(card.node, []).append(i)

    def paint() -> None:
        for k, node in enumerate(layout.nodes):
            x0 = (k % cols) * (node_w + 12 * u)
            y0 = (k // cols) * (node_h + 12 * u)
            _paint_node(canvas, plan, est, node, cards_by_node.get(node.id, []), QRectF(x0, y0, node_w, node_h),
                        (card_w, card_h, gap, pad, title_h, per_row))

    return (width, height), spans, paint


def _paint_node(canvas: PdfCanvas, plan: Plan, est: Estimate, node, members: list[int], box: QRectF, geo) -> None:
    card_w, card_h, gap, pad, title_h, per_row = geo
    p, u = canvas.painter, canvas.pt(1)
    p.setPen(QPen(QColor("#8a8f96"), 0.8 * u))
    p.setBrush(QColor("#f4f5f7"))
    p.drawRoundedRect(box, 4 * u, 4 * u)
    p.setFont(canvas.font(7, bold=True))
    p.setPen(TEXT_COLOR)
    p.drawText(QRectF(box.left() + pad, box.top() + 2 * u, box.width() - 2 * pad, title_h),
               int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), f"{node.name} ({len(members)}/{node.slots} GPUs)")
    rects: dict[int, QRectF] = {}
    for i in members:
        slot = plan.layout.cards[i].slot
        rects[i] = QRectF(box.left() + pad + (slot % per_row) * (card_w + gap),
                          box.top() + title_h + pad + (slot // per_row) * (card_h + gap), card_w, card_h)
        _paint_card(canvas, est.cards[i], rects[i])
    groups: dict[int, list[QRectF]] = {}
    for i in members:
        groups.setdefault(plan.layout.cards[i].tp_group, []).append(rects[i])
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor("#30343a"), 1.1 * u, Qt.PenStyle.DashLine))
    for group_rects in groups.values():
        if len(group_rects) > 1:
            outline = group_rects[0]
            for r in group_rects[1:]:
                outline = outline.united(r)
            p.drawRoundedRect(outline.adjusted(-1.8 * u, -1.8 * u, 1.8 * u, 1.8 * u), 3 * u, 3 * u)


def _paint_card(canvas: PdfCanvas, c, rect: QRectF) -> None:
    p, u = canvas.painter, canvas.pt(1)
    color = stage_color(c.stage)
    tint = QColor(color)
    tint.setAlphaF(0.28)
    p.setPen(QPen(color.darker(130), 0.7 * u))
    p.setBrush(QColor("white"))
    p.drawRoundedRect(rect, 2 * u, 2 * u)
    p.setBrush(tint)
    p.drawRoundedRect(rect, 2 * u, 2 * u)
    bar = QRectF(rect.center().x() - 5 * u, rect.top() + 14 * u, 10 * u, rect.height() - 18 * u)
    share = min(c.total_bytes / c.capacity_bytes, 1.0)
    p.setPen(QPen(MUTED_COLOR, 0.5 * u))
    p.setBrush(QColor("white"))
    p.drawRect(bar)
    p.fillRect(QRectF(bar.left(), bar.bottom() - bar.height() * share, bar.width(), bar.height() * share),
               OVER_COLOR if not c.fits else FILL_COLOR)
    p.setPen(TEXT_COLOR)
    p.setFont(canvas.font(5.5))
    p.drawText(QRectF(rect.left(), rect.top() + 1 * u, rect.width(), 12 * u),
               int(Qt.AlignmentFlag.AlignCenter), f"#{c.index} s{c.stage + 1}")


def draw_stage_legend(canvas: PdfCanvas, est: Estimate, *, scene_used: bool) -> None:
    """Stage colours, memory-category colours (the app's card bars) and how to read a card."""
    entries = [(f"stage {s + 1}", stage_color(s)) for s in sorted({c.stage for c in est.cards})]
    if scene_used:
        distinct = {id(c.breakdown): c.breakdown for c in est.cards}.values()
        entries += [(CATEGORY_LABELS[k], QColor(CATEGORY_COLORS[k])) for k in BREAKDOWN_KEYS
                    if any(getattr(b, k).bytes for b in distinct)]
        note = ("Each card: its stage (S1 = stage 1) and groups in the header, a bar of its memory by category "
                "up to its capacity, and its total of capacity below.")
    else:
        note = ("Each card: #index and stage; the bar is the share of its capacity in use (red: over capacity); "
                "dashed outlines join the cards of one tensor-parallel group.")
    swatches(canvas, entries)
    canvas.paragraph(note, canvas.font(7), color=MUTED_COLOR, after_pt=6)


def swatches(canvas: PdfCanvas, entries: list[tuple[str, QColor]]) -> None:
    """A wrapped row of colour boxes with labels at the cursor."""
    p = canvas.painter
    font = canvas.font(7)
    fm = canvas.metrics(font)
    p.setFont(font)
    box, x = canvas.pt(7), canvas.left
    for label, color in entries:
        w = box + canvas.pt(3) + fm.horizontalAdvance(label) + canvas.pt(10)
        if x + w > canvas.right:
            x, canvas.y = canvas.left, canvas.y + fm.height() + canvas.pt(2)
        p.fillRect(QRectF(x, canvas.y + (fm.height() - box) / 2, box, box), color)
        p.setPen(TEXT_COLOR)
        p.drawText(QRectF(x + box + canvas.pt(3), canvas.y, w, fm.height()),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
        x += w
    canvas.y += fm.height() + canvas.pt(3)

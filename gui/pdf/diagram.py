"""The node diagram, as vectors: the app's DiagramScene rendered onto the PDF painter."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPicture

from engine.plan.schema import Plan
from engine.report.records import BREAKDOWN_KEYS, Estimate
from engine.units import Unit
from gui.diagram.colors import stage_color
from gui.diagram.scene import DiagramScene
from gui.document import PlanDocument
from gui.pdf.canvas import MUTED_COLOR, TEXT_COLOR, PdfCanvas
from gui.pdf.chart import CATEGORY_COLORS, CATEGORY_LABELS
from gui.pdf.node_summary import draw_node_summary
from gui.pdf.summary import summarised

CARD_NOTE = ("Each card: its stage (S1 = stage 1) and groups in the header, a bar of its memory by category "
             "up to its capacity, and its total of capacity below.")
SUMMARY_NOTE = ("Each card: its stage in the header (S1 = stage 1), a bar of its memory by category up to its "
                "capacity (a red line marks the capacity of a card that is over), its total and capacity below.")


def draw_diagram(canvas: PdfCanvas, plan: Plan, est: Estimate, unit: Unit = Unit.GB) -> None:
    """The section's heading, the diagram fitted to the page (tall diagrams in side-by-side columns),
    then its legend.

    A plan past the summary's bounds (``gui.pdf.summary.summarised``) gets one node per distinct layout.
    """
    if summarised(plan):
        draw_node_summary(canvas, plan, est, unit, "Node diagram (one node per layout)")
        draw_stage_legend(canvas, est, SUMMARY_NOTE)
        return
    canvas.heading("Node diagram", keep_with_pt=260)
    max_height = min(canvas.remaining() - canvas.pt(40), canvas.pt(520))
    scene = DiagramScene(PlanDocument(plan))
    source = scene.itemsBoundingRect().adjusted(-4, -4, 4, 4)

    def paint(top: float, bottom: float) -> None:
        # Each column records only its own band of the scene (replaying the whole diagram, clipped, in
        # every column wrote it once per column into the file).
        picture = scene_picture(scene, QRectF(source.left(), source.top() + top, source.width(), bottom - top))
        # drawPicture scales by the device's dpi over the picture's: undo that, then fit the page.
        dpi_ratio = picture.logicalDpiX() / canvas.writer.logicalDpiX()
        canvas.painter.scale(dpi_ratio, dpi_ratio)
        canvas.painter.drawPicture(QPointF(0, 0), picture)

    spans = [(r.top() - source.top(), r.bottom() - source.top())
             for r in (item.sceneBoundingRect() for item in scene.items() if item.parentItem() is None)]
    size = (source.width(), source.height())
    draw_columns(canvas, size, merge_spans(spans, size[1]), paint, max_height)
    draw_stage_legend(canvas, est)


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
        paint(top, bottom)
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


def draw_stage_legend(canvas: PdfCanvas, est: Estimate, note: str = CARD_NOTE) -> None:
    """Stage colours, memory-category colours (the app's card bars) and how to read a card."""
    entries = [(f"stage {s + 1}", stage_color(s)) for s in sorted({c.stage for c in est.cards})]
    distinct = {id(c.breakdown): c.breakdown for c in est.cards}.values()
    entries += [(CATEGORY_LABELS[k], QColor(CATEGORY_COLORS[k])) for k in BREAKDOWN_KEYS
                if any(getattr(b, k).bytes for b in distinct)]
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

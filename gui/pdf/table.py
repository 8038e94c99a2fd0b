"""A table that breaks across pages, repeating its header; rows may be marked (over capacity)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen

from gui.pdf.canvas import TEXT_COLOR, PdfCanvas

HEADER_FILL = QColor("#e9edf2")
STRIPE_FILL = QColor("#f6f7f9")
MARK_FILL = QColor("#fde2e1")
MARK_TEXT = QColor("#b00020")
MIN_FONT_PT = 5.0


@dataclass(frozen=True, slots=True)
class Column:
    header: str  # may hold a newline: a two-line header ("weights\nGB")
    right: bool = True  # numbers right-aligned


def _fit_font_size(canvas: PdfCanvas, columns: list[Column], rows: list[list[str]], size_pt: float,
                   pad: float) -> tuple[float, list[float]]:
    """Largest font size <= size_pt at which the natural column widths fit the page; the widths at that size."""
    font, bold = canvas.font(size_pt), canvas.font(size_pt, bold=True)
    fm, fmb = canvas.metrics(font), canvas.metrics(bold)
    widths = [max(fmb.horizontalAdvance(line) for line in col.header.split("\n")) for col in columns]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], fm.horizontalAdvance(cell))
    natural = sum(widths) + pad * 2 * len(columns)
    if natural > canvas.width:
        scale = (canvas.width - pad * 2 * len(columns)) / sum(widths)
        if size_pt * scale < MIN_FONT_PT:
            scale = MIN_FONT_PT / size_pt
        size_pt *= scale
        widths = [w * scale for w in widths]
    extra = max(0.0, canvas.width - sum(widths) - pad * 2 * len(columns)) / len(columns)
    return size_pt, [w + 2 * pad + extra for w in widths]


def draw_table(canvas: PdfCanvas, columns: list[Column], rows: list[list[str]], *,
               marked: list[bool] | None = None, size_pt: float = 7.0) -> None:
    """Rows at the cursor; a new page repeats the header.  ``marked`` rows get a red tint and red text."""
    pad = canvas.pt(2.2)
    size_pt, widths = _fit_font_size(canvas, columns, rows, size_pt, pad)
    font, bold = canvas.font(size_pt), canvas.font(size_pt, bold=True)
    line = canvas.metrics(font).height()
    header_lines = max(len(c.header.split("\n")) for c in columns)
    header_h, row_h = line * header_lines + 2 * pad, line + pad * 1.2
    xs = [canvas.left]
    for w in widths[:-1]:
        xs.append(xs[-1] + w)
    marked = marked or [False] * len(rows)

    def header() -> None:
        canvas.ensure(header_h + row_h * 3)
        p = canvas.painter
        p.fillRect(QRectF(canvas.left, canvas.y, canvas.width, header_h), HEADER_FILL)
        p.setFont(bold)
        p.setPen(TEXT_COLOR)
        for col, x, w in zip(columns, xs, widths, strict=True):
            align = (Qt.AlignmentFlag.AlignRight if col.right else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignBottom
            p.drawText(QRectF(x + pad, canvas.y, w - 2 * pad, header_h - pad), int(align), col.header)
        canvas.y += header_h

    header()
    p = canvas.painter
    for n, (row, mark) in enumerate(zip(rows, marked, strict=True)):
        if canvas.y + row_h > canvas.bottom:
            canvas.new_page()
            header()
        if mark or n % 2:
            p.fillRect(QRectF(canvas.left, canvas.y, canvas.width, row_h), MARK_FILL if mark else STRIPE_FILL)
        p.setFont(bold if mark else font)
        p.setPen(MARK_TEXT if mark else TEXT_COLOR)
        for col, x, w, cell in zip(columns, xs, widths, row, strict=True):
            align = (Qt.AlignmentFlag.AlignRight if col.right else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter
            p.drawText(QRectF(x + pad, canvas.y, w - 2 * pad, row_h), int(align), cell)
        canvas.y += row_h
    p.setPen(QPen(QColor("#9aa3ad"), canvas.pt(0.5)))
    p.drawLine(QPointF(canvas.left, canvas.y), QPointF(canvas.right, canvas.y))
    canvas.space(6)

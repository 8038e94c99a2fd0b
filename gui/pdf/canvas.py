"""A page cursor over QPdfWriter + QPainter: margins, fonts, wrapped text, page breaks, footers.

Coordinates are device units of the writer; :meth:`PdfCanvas.pt` converts
typographic points (1/72 inch).  Everything drawn is vector (text stays text).
"""

from __future__ import annotations

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageSize, QPainter, QPdfWriter, QPen

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
RESOLUTION_DPI = 1200
MARGIN_PT = 40.0
FOOTER_PT = 18.0
TEXT_COLOR = QColor("#1a1a1a")
MUTED_COLOR = QColor("#5a5a5a")
WRAP = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft) | int(Qt.AlignmentFlag.AlignTop)


class PdfCanvas:
    def __init__(self, path: str, page_size: str, *, title: str, footer: str, family: str, mono_family: str) -> None:
        self.writer = QPdfWriter(path)
        self.writer.setPageSize(QPageSize(PAGE_SIZES[page_size]))
        self.writer.setPageMargins(QMarginsF(0, 0, 0, 0))
        self.writer.setResolution(RESOLUTION_DPI)
        self.writer.setTitle(title)
        self.writer.setCreator("vramplan")
        self.family, self.mono_family, self.footer = family, mono_family, footer
        self.painter = QPainter(self.writer)
        self.painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.page_width, self.page_height = float(self.writer.width()), float(self.writer.height())
        self.left = self.top = self.pt(MARGIN_PT)
        self.right = self.page_width - self.pt(MARGIN_PT)
        self.bottom = self.page_height - self.pt(MARGIN_PT + FOOTER_PT)
        self.y = self.top
        self.page = 1
        self._draw_footer()

    # Units and fonts ---------------------------------------------------------
    def pt(self, points: float) -> float:
        return points * RESOLUTION_DPI / 72.0

    @property
    def width(self) -> float:
        return self.right - self.left

    def font(self, size_pt: float, *, bold: bool = False, mono: bool = False) -> QFont:
        f = QFont(self.mono_family if mono else self.family)
        f.setPointSizeF(size_pt)
        f.setBold(bold)
        return f

    def metrics(self, font: QFont) -> QFontMetricsF:
        return QFontMetricsF(font, self.writer)

    # Flow --------------------------------------------------------------------
    def remaining(self) -> float:
        return self.bottom - self.y

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` still fits below the cursor."""
        if self.y + height > self.bottom and self.y > self.top:
            self.new_page()

    def new_page(self) -> None:
        self.writer.newPage()
        self.page += 1
        self.y = self.top
        self._draw_footer()

    def space(self, points: float) -> None:
        self.y += self.pt(points)

    def finish(self) -> None:
        self.painter.end()

    def _draw_footer(self) -> None:
        p = self.painter
        p.save()
        p.setFont(self.font(7.5))
        p.setPen(MUTED_COLOR)
        y = self.page_height - self.pt(MARGIN_PT + FOOTER_PT * 0.4)
        rect = QRectF(self.left, y, self.width, self.pt(FOOTER_PT))
        p.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), self.footer)
        p.drawText(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), f"page {self.page}")
        p.setPen(QPen(QColor("#c8c8c8"), self.pt(0.5)))
        p.drawLine(QPointF(self.left, y - self.pt(3)), QPointF(self.right, y - self.pt(3)))
        p.restore()

    # Text --------------------------------------------------------------------
    def text_height(self, text: str, font: QFont, width: float) -> float:
        return self.metrics(font).boundingRect(QRectF(0, 0, width, 1e9), WRAP, text).height()

    def paragraph(self, text: str, font: QFont, *, color: QColor = TEXT_COLOR, indent_pt: float = 0.0,
                  after_pt: float = 4.0) -> float:
        """Wrapped text at the cursor (page break first when it does not fit); returns its height."""
        width = self.width - self.pt(indent_pt)
        height = self.text_height(text, font, width)
        self.ensure(height)
        self.painter.setFont(font)
        self.painter.setPen(color)
        self.painter.drawText(QRectF(self.left + self.pt(indent_pt), self.y, width, height + 1), WRAP, text)
        self.y += height + self.pt(after_pt)
        return height

    def heading(self, text: str, *, size_pt: float = 13.0, keep_with_pt: float = 60.0) -> None:
        """A section heading kept on the same page as at least ``keep_with_pt`` of what follows."""
        font = self.font(size_pt, bold=True)
        self.ensure(self.text_height(text, font, self.width) + self.pt(keep_with_pt))
        self.space(6)
        self.paragraph(text, font, after_pt=5)

    def key_values(self, rows: list[tuple[str, str]], *, size_pt: float = 8.5, key_share: float = 0.27) -> None:
        """A two-column label/value table; long values wrap."""
        key_font, value_font = self.font(size_pt, bold=True), self.font(size_pt)
        key_w = self.width * key_share
        value_w = self.width - key_w - self.pt(6)
        for key, value in rows:
            h = max(self.text_height(key, key_font, key_w), self.text_height(value, value_font, value_w))
            self.ensure(h)
            self.painter.setPen(QPen(QColor("#e2e2e2"), self.pt(0.4)))
            rule_y = self.y + h + self.pt(1.5)
            self.painter.drawLine(QPointF(self.left, rule_y), QPointF(self.right, rule_y))
            self.painter.setPen(TEXT_COLOR)
            self.painter.setFont(key_font)
            self.painter.drawText(QRectF(self.left, self.y, key_w, h + 1), WRAP, key)
            self.painter.setFont(value_font)
            self.painter.drawText(QRectF(self.left + key_w + self.pt(6), self.y, value_w, h + 1), WRAP, value)
            self.y += h + self.pt(3)

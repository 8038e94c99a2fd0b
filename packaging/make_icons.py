"""Draw the vramplan app icon and write the icon set to ``resources/icons`` (run once; output committed).

    .venv/bin/python packaging/make_icons.py

Writes ``vramplan-<N>.png`` (16 ... 1024 px), each painted by Qt at its own
resolution (small sizes drop the fine lines).  ``vramplan.ico`` (Windows) and ``vramplan.icns`` (macOS) are written
directly from the PNGs: both formats accept embedded PNG images, so no
network tool (iconutil, ImageMagick) is needed.  The picture: a graphics card
whose memory chips fill up like the app's per-card bars, green to amber.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QBrush, QColor, QImage, QLinearGradient, QPainter, QPen  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS PNG entry types (Apple's icns format, as documented in Wikipedia "Apple Icon Image format").
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09", 1024: b"ic10"}
BACKGROUND_TOP, BACKGROUND_BOTTOM = QColor("#1f3b57"), QColor("#10212f")
BOARD, CHIP_EMPTY = QColor("#2e7d4f"), QColor("#d8e3ea")
FILL_COLOURS = (QColor("#3fbf6f"), QColor("#3fbf6f"), QColor("#8fd14f"), QColor("#f2b233"))
FILL_FRACTIONS = (0.55, 0.8, 0.65, 0.9)


def paint_icon(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    gradient = QLinearGradient(0, 0, 0, s)
    gradient.setColorAt(0, BACKGROUND_TOP)
    gradient.setColorAt(1, BACKGROUND_BOTTOM)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(QRectF(0.02 * s, 0.02 * s, 0.96 * s, 0.96 * s), 0.2 * s, 0.2 * s)
    _paint_card(p, s)
    p.end()
    return image


def _paint_card(p: QPainter, s: float) -> None:
    board = QRectF(0.14 * s, 0.24 * s, 0.72 * s, 0.52 * s)
    p.setBrush(BOARD)
    p.drawRoundedRect(board, 0.05 * s, 0.05 * s)
    p.setBrush(QColor("#c9a227"))  # edge connector
    p.drawRect(QRectF(0.26 * s, 0.76 * s, 0.44 * s, 0.07 * s))
    gap = 0.035 * s
    chip_w = (board.width() - 5 * gap) / 4
    chip_h = board.height() - 2 * gap
    for i, (fraction, colour) in enumerate(zip(FILL_FRACTIONS, FILL_COLOURS, strict=True)):
        chip = QRectF(board.left() + gap + i * (chip_w + gap), board.top() + gap, chip_w, chip_h)
        p.setBrush(CHIP_EMPTY)
        p.drawRoundedRect(chip, 0.015 * s, 0.015 * s)
        filled = QRectF(chip.left(), chip.bottom() - fraction * chip_h, chip_w, fraction * chip_h)
        p.setBrush(colour)
        p.drawRoundedRect(filled, 0.015 * s, 0.015 * s)
    if s >= 48:  # the capacity line across the chips: too fine below 48 px
        pen = QPen(QColor("#e0454b"), max(1.0, 0.02 * s), Qt.PenStyle.DashLine)
        p.setPen(pen)
        y = board.top() + gap + 0.06 * chip_h
        p.drawLine(int(board.left() + gap / 2), int(y), int(board.right() - gap / 2), int(y))
        p.setPen(Qt.PenStyle.NoPen)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR + ICONDIRENTRY per image, images stored as PNG (valid since Windows Vista)."""
    sizes = [n for n in ICO_SIZES if n in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for n in sizes:
        blob = pngs[n]
        dim = 0 if n >= 256 else n  # 0 means 256 in the ICO directory
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """'icns' header then one (type, length, PNG data) block per size; lengths are big-endian."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[n])) + pngs[n] for n, kind in ICNS_TYPES.items())
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(out_dir: Path) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])  # noqa: F841 - QPainter needs it
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = {n: png_bytes(paint_icon(n)) for n in PNG_SIZES}
    for n, blob in pngs.items():
        (out_dir / f"vramplan-{n}.png").write_bytes(blob)
    (out_dir / "vramplan.ico").write_bytes(ico_bytes(pngs))
    (out_dir / "vramplan.icns").write_bytes(icns_bytes(pngs))
    print(f"make_icons: wrote {len(pngs)} PNGs, vramplan.ico and vramplan.icns to {out_dir}")
    return 0


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else root / "resources" / "icons"))

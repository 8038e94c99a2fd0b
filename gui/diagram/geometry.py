"""Where things sit in the diagram, in scene pixels.

A node's stored position (``Node.x``, ``Node.y``) is in node-pitch units, so
``engine.plan.layout.build_grid``'s ``y = 0, 1, 2 ...`` stacks servers neatly;
the scene converts with :func:`node_scene_pos` / :func:`node_units`.
Slots wrap after :data:`COLUMNS` cards.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

CARD_W = 92.0
CARD_H = 180.0
CARD_GAP = 8.0
NODE_PAD = 12.0
TITLE_H = 30.0
NODE_BOTTOM = 26.0  # below the cards: room for the TP outline labels
ROW_GAP = 30.0  # between rows of slots (nodes with more than COLUMNS slots)
COLUMNS = 8
PITCH_X = 880.0  # one x unit: an 8-slot node's width plus a gap
PITCH_Y = 300.0  # one y unit: a one-row node's height plus room for TP labels
SNAP = 0.125  # node positions snap to 1/8 of a pitch

# Inside a card.
HEADER_H = 20.0
BAR_TOP = 42.0
BAR_H = 100.0
BAR_W = 40.0
BAR_X = (CARD_W - BAR_W) / 2


def node_size(slots: int) -> tuple[float, float]:
    cols = min(slots, COLUMNS)
    rows = -(-slots // COLUMNS)
    width = 2 * NODE_PAD + cols * CARD_W + (cols - 1) * CARD_GAP
    height = TITLE_H + NODE_PAD + rows * CARD_H + (rows - 1) * ROW_GAP + NODE_BOTTOM
    return width, height


def slot_pos(slot: int) -> QPointF:
    """Top-left of a slot inside its node item."""
    col, row = slot % COLUMNS, slot // COLUMNS
    return QPointF(NODE_PAD + col * (CARD_W + CARD_GAP), TITLE_H + NODE_PAD + row * (CARD_H + ROW_GAP))


def slot_at(local: QPointF, slots: int) -> int | None:
    """The slot under a point in node coordinates, or None."""
    for s in range(slots):
        if QRectF(slot_pos(s), QPointF(slot_pos(s).x() + CARD_W, slot_pos(s).y() + CARD_H)).contains(local):
            return s
    return None


def node_scene_pos(x: float, y: float) -> QPointF:
    return QPointF(x * PITCH_X, y * PITCH_Y)


def node_units(pos: QPointF) -> tuple[float, float]:
    """A scene position as node-pitch units, snapped to :data:`SNAP`."""
    def snap(v: float) -> float:
        return round(v / SNAP) * SNAP

    return snap(pos.x() / PITCH_X), snap(pos.y() / PITCH_Y)


def suggested_columns(node_count: int, aspect: float = 1.6) -> int:
    """Columns that make ``node_count`` one-row nodes fill a view of width / height ``aspect``."""
    if node_count <= 4:
        return 1
    return max(1, round((node_count * PITCH_Y / PITCH_X * aspect) ** 0.5))

"""``export_pdf(plan, path)``: the plan summary an engineer hands to colleagues.

Sections: title and verdict, model and workload, node diagram, memory chart,
per-card table, warnings, alternatives considered (with the sweep plot when one
was made), assumptions and formulas.  Rendered with Qt's own
PDF writer (QPdfWriter + QPainter), vector throughout; the file is written to
a temporary name in the same folder and moved into place (never half-written).
"""

from __future__ import annotations

import datetime
import os

from PySide6.QtGui import QColor

from engine import __version__
from engine.compare import Sweep
from engine.errors import PlanError
from engine.estimate import estimate
from engine.plan.files import atomic_replace
from engine.plan.schema import Plan
from engine.report.records import Estimate
from engine.units import Unit
from gui.pdf import content, summary
from gui.pdf.alternatives import Alternative, alternatives
from gui.pdf.canvas import MUTED_COLOR, PAGE_SIZES, PdfCanvas
from gui.pdf.chart import draw_chart
from gui.pdf.diagram import draw_diagram
from gui.pdf.sweep_chart import KNOB_NAMES, draw_sweep
from gui.pdf.table import Column, draw_table

FITS_COLOR, OVER_COLOR = QColor("#1b6e35"), QColor("#b00020")


def export_pdf(plan: Plan, path: str | os.PathLike[str], *, page_size: str = "A4", all_cards: bool = False,
               units: str = "GB", baseline: tuple[Plan, str] | None = None, sweep: Sweep | None = None) -> None:
    """Write the plan summary PDF to ``path``.  Raises PlanError for a plan the engine rejects.

    ``baseline``: a pinned plan and its label, listed first among the alternatives; ``sweep``: a sweep of
    this plan, drawn in the alternatives section.
    """
    if page_size not in PAGE_SIZES:
        raise PlanError("page_size", page_size, " or ".join(PAGE_SIZES))
    try:
        unit = Unit(units)
    except ValueError:
        raise PlanError("units", units, "GB or GiB") from None
    est = estimate(plan)  # PlanError propagates: nothing is written for an invalid plan
    from gui.fonts import cjk_mono_family, register_app_fonts
    from gui.qt_app import ensure_app

    ensure_app(headless=True)
    family = register_app_fonts()
    # A temp file in the target's folder replaces it when complete: an existing file's mode is kept,
    # a symlink is written through, every OSError is one line (engine.plan.files).
    with atomic_replace(path, "report") as tmp:
        canvas = PdfCanvas(str(tmp), page_size, title=f"vramplan: {plan.name}", family=family,
                           mono_family=cjk_mono_family(), footer=f"vramplan {__version__} · {plan.name}")
        try:
            _render(canvas, plan, est, unit, all_cards, baseline, sweep)
        finally:
            canvas.finish()


def _render(canvas: PdfCanvas, plan: Plan, est: Estimate, unit: Unit, all_cards: bool,
            baseline: tuple[Plan, str] | None = None, sweep: Sweep | None = None) -> None:
    _title(canvas, plan, est, unit)
    canvas.heading("Model")
    canvas.key_values(content.model_rows(plan))
    canvas.heading("Workload and layout")
    canvas.key_values(content.workload_rows(plan, est))
    answers = content.serving_rows(est, unit)
    if answers:
        canvas.heading("Serving answers")
        canvas.key_values(answers)
    draw_diagram(canvas, plan, est, unit)
    canvas.heading(f"Memory of every card ({unit.value})", keep_with_pt=240)
    draw_chart(canvas, est, unit)
    _card_table(canvas, plan, est, unit, all_cards)
    _warnings(canvas, est)
    _alternatives(canvas, alternatives(plan, est, unit, baseline), sweep, unit)
    _formulas(canvas, est, unit)


def _title(canvas: PdfCanvas, plan: Plan, est: Estimate, unit: Unit) -> None:
    canvas.paragraph("vramplan plan summary", canvas.font(10, bold=True), color=MUTED_COLOR, after_pt=2)
    canvas.paragraph(plan.name, canvas.font(20, bold=True), after_pt=3)
    scale = "10^9" if unit is Unit.GB else "2^30"
    canvas.paragraph(f"{datetime.date.today().isoformat()} · vramplan {__version__} · figures in {unit.value} "
                     f"(1 {unit.value} = {scale} bytes)", canvas.font(8.5), color=MUTED_COLOR, after_pt=8)
    canvas.paragraph(content.verdict_text(plan, est, unit), canvas.font(10.5, bold=True),
                     color=FITS_COLOR if est.fits else OVER_COLOR, after_pt=6)


def _card_table(canvas: PdfCanvas, plan: Plan, est: Estimate, unit: Unit, all_cards: bool) -> None:
    listed = all_cards and len(est.cards) <= summary.LISTED_MAX_CARDS
    worst = est.worst_card
    rows, left_out = summary.keep_with_worst(
        content.card_rows(plan, est, listed), summary.TABLE_MAX_ROWS,
        lambda r: worst is not None and (r.stage, r.total_bytes, r.capacity_bytes) == (worst.stage, worst.total_bytes,
                                                                                       worst.capacity_bytes))
    memory = content.visible_columns(est)
    u = unit.value
    title = "Every card" if listed else "Cards (identical cards grouped; n = how many)"
    canvas.heading(f"{title}, memory in {u}", keep_with_pt=80)
    if all_cards and not listed:
        canvas.paragraph(f"One row per card up to {summary.LISTED_MAX_CARDS:,} cards; this plan's {len(est.cards):,} "
                         "cards are grouped, identical cards in one row.", canvas.font(7.5), color=MUTED_COLOR)
    group_header = ("TP rank\nr/n", "DP rank\nr/n") if listed else ("TP\nsize", "DP\nsize")
    columns = [Column("cards", right=False), Column("n"), Column("node", right=False), Column("GPU", right=False),
               Column("stage"), Column(group_header[0]), Column(group_header[1])]
    columns += [Column(f"{header}\n{u}") for _, header in memory]
    columns += [Column(f"total\n{u}"), Column(f"capacity\n{u}"), Column(f"headroom\n{u}"), Column("", right=False)]
    cells = []
    for r in rows:
        cells.append([r.cards, f"{r.count:,}", r.node, r.gpu, str(r.stage + 1), r.tp, r.zero]
                     + [content.number(r.parts[k], unit) for k, _ in memory]
                     + [content.number(r.total_bytes, unit), content.number(r.capacity_bytes, unit),
                        content.number(r.headroom_bytes, unit, signed=True), "ok" if r.fits else "OVER"])
    draw_table(canvas, columns, cells, marked=[not r.fits for r in rows])
    if left_out:
        canvas.paragraph(f"{left_out:,} more rows ({len(est.cards) - sum(r.count for r in rows):,} cards) are not listed: "
                         f"the table stops at {summary.TABLE_MAX_ROWS:,} rows and keeps the fullest card. "
                         "vramplan estimate --plan PLAN.json --json lists every card.", canvas.font(7.5),
                         color=MUTED_COLOR)
    canvas.paragraph("Stages are numbered from 1, as in the diagram; cards by their index in the plan. "
                     "Rows marked OVER need more memory than the card has.", canvas.font(7), color=MUTED_COLOR)


def _warnings(canvas: PdfCanvas, est: Estimate) -> None:
    canvas.heading("Warnings", keep_with_pt=30)
    if not est.warnings:
        canvas.paragraph("None.", canvas.font(8.5))
    for w in est.warnings:
        canvas.paragraph(f"{w.severity}: {w.message}", canvas.font(8.5),
                         color=OVER_COLOR if w.severity == "warning" else MUTED_COLOR, indent_pt=6)


def _alternatives(canvas: PdfCanvas, alts: list[Alternative], sweep: Sweep | None, unit: Unit) -> None:
    if not alts and sweep is None:
        return
    canvas.heading("Alternatives considered", keep_with_pt=80)
    if alts:
        canvas.paragraph(
            "Each alternative is estimated by the same engine and set against this plan; the figure after the name is "
            "the one that decides. Training time and cost are the planner's step-time model (MFU 0.4, overlap 0.5, "
            "20 tokens per parameter; training plans only). The planner searched this plan's GPU within its card "
            "budget with no safety margin.", canvas.font(8), color=MUTED_COLOR, after_pt=5)
    head_font, detail_font = canvas.font(8.5, bold=True), canvas.font(7.5)
    for a in alts:
        color = OVER_COLOR if not a.fits else (MUTED_COLOR if a.ruled_out else FITS_COLOR)
        head = f"{a.title}: {a.verdict}"
        detail = f"{a.source}: {a.change}." + (
            f" {a.cards:,} cards, heaviest card {content.number(a.peak_bytes, unit)} {unit.value}, least headroom "
            f"{content.number(a.headroom_bytes, unit, signed=True)} {unit.value}." if a.estimated else "")
        canvas.ensure(canvas.text_height(head, head_font, canvas.width) + canvas.text_height(detail, detail_font, canvas.width))
        canvas.paragraph(head, head_font, color=color, indent_pt=4, after_pt=1)
        canvas.paragraph(detail, detail_font, color=MUTED_COLOR, indent_pt=12, after_pt=4)
    if sweep is not None:
        canvas.heading(f"Sweep of {KNOB_NAMES.get(sweep.knob, sweep.knob)}", keep_with_pt=230)
        draw_sweep(canvas, sweep, unit)


def _formulas(canvas: PdfCanvas, est: Estimate, unit: Unit) -> None:
    canvas.heading("Assumptions and formulas", keep_with_pt=80)
    canvas.paragraph(
        "Each figure below is the engine's formula with the plan's numbers substituted (B = bytes), followed by "
        f"its result in bytes and in {unit.value}, so a reviewer can redo the arithmetic. Cards with the same "
        "stage, group sizes and GPU share one block.", canvas.font(8.5), after_pt=6)
    label_font, formula_font = canvas.font(8, bold=True), canvas.font(7.5, mono=True)
    worst = est.worst_card
    blocks, left_out = summary.keep_with_worst(content.formula_blocks(est), summary.FORMULA_MAX_BLOCKS,
                                               lambda b: worst is not None and worst.index in b.indices)
    for block in blocks:
        canvas.paragraph(block.title, canvas.font(9, bold=True), after_pt=3)
        for label, formula, n_bytes in block.lines:
            result = f"= {n_bytes:,} B = {content.number(n_bytes, unit)} {unit.value}"
            canvas.ensure(canvas.pt(24))
            canvas.paragraph(label.strip(), label_font, indent_pt=6 if label.startswith(" ") else 0, after_pt=1)
            canvas.paragraph(f"{formula}  {result}", formula_font, indent_pt=14 if label.startswith(" ") else 8,
                             after_pt=3)
        canvas.space(4)
    if left_out:
        canvas.paragraph(f"{left_out:,} more blocks (cards with other stages or group sizes) are not shown: the formulas "
                         f"stop at {summary.FORMULA_MAX_BLOCKS} blocks and keep the fullest card's. "
                         "vramplan estimate --plan PLAN.json --json gives every card's formulas.", canvas.font(7.5),
                         color=MUTED_COLOR)

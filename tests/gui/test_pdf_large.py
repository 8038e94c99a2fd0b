"""Large plans get a summarised PDF (issue 15): bounded pages and size, every stage and the fullest card still named.

Plans are TP 8 x PP 8 x DP n grids of Llama-3-70B shapes on 8-GPU servers (tests/gui/test_pdf.py's
``big_plan``): each DP replica of a stage sits on nodes of its own, so the nodes come in 8 layouts, one
per stage, with n x 8 / 8 = n nodes each.  Bounds: gui.pdf.summary (DIAGRAM_MAX_NODES = 32 and
DIAGRAM_MAX_CARDS = 256 drawn one by one; LISTED_MAX_CARDS = 512 rows with all_cards; TABLE_MAX_ROWS,
FORMULA_MAX_BLOCKS, SUMMARY_MAX_LAYOUTS).  Read back with poppler.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from engine.estimate import estimate
from engine.model.spec import ModelSpec
from engine.plan.layout import Layout, build_grid
from engine.plan.schema import Plan
from engine.training.config import MethodConfig, TrainingConfig
from gui.pdf import export_pdf, summary

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")

GIB80 = 80 * 2**30
LLAMA_70B = ModelSpec(name="llama-3-70b", layers=80, hidden=8192, heads=64, kv_heads=8, ffn=28672, vocab=128256,
                      gated_mlp=True, norm="rmsnorm", bias=False)


def big_plan(dp: int = 16) -> Plan:
    """TP 8 x PP 8 x DP ``dp`` (as tests/gui/test_pdf.py's), detailed method."""
    return Plan(name=f"70B on {dp * 64:,} cards", model=LLAMA_70B,
                training=TrainingConfig(seq=8192, distributed_optimizer=True, recompute="selective",
                                        sequence_parallel=True, flash_attention=True),
                layout=build_grid(tp=8, pp=8, dp=dp, gpu="H100 SXM", capacity_bytes=GIB80))


def article_plan() -> Plan:
    """The article's 13B example on 8 cards (PP 4 x ZeRO-1 DP 2, seed method)."""
    return Plan(name="8 cards", model=ModelSpec(name="13B", params=13_000_000_000, layers=40, hidden=5120, heads=40),
                method=MethodConfig(method="seed"), training=TrainingConfig(seq=4096, zero=1),
                layout=build_grid(pp=4, dp=2, gpu="A100 80GB", capacity_bytes=GIB80))


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pages(path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    """1,024 and 16,384 cards (TP 8 x PP 8 x DP 16 / 256), every card asked for."""
    folder = tmp_path_factory.mktemp("large")
    out = {}
    for dp in (16, 256):
        path = folder / f"dp{dp}.pdf"
        export_pdf(big_plan(dp), path, all_cards=True)
        out[dp * 64] = path
    return out


def test_the_summary_names_every_stage_and_the_fullest_card(pdfs):
    plan = big_plan(256)
    est = estimate(plan)
    text = pdf_text(pdfs[16_384])
    assert "Node diagram (one node per layout)" in text
    assert "16,384 cards on 2,048 nodes" in text
    assert text.count("× 256 identical nodes") == 8  # one box per stage: 2,048 nodes / 8 stages
    for stage in range(1, 9):
        assert f"stage {stage}" in text  # the box titles and the legend
    worst = est.worst_card
    figure = f"{worst.total_bytes / 1e9:.2f}"
    assert f"{figure} GB of 85.90 GB" in text  # the verdict
    assert re.search(rf"^\s*0-2047\s+2,048\s+node-0 \+255\s+H100 SXM\s+1\s.*\s{figure}\s+85\.90\s", text, re.M)


def test_every_card_asked_for_is_grouped_past_the_listing_bound(pdfs):
    text = pdf_text(pdfs[1024])
    assert f"One row per card up to {summary.LISTED_MAX_CARDS} cards; this plan's 1,024 cards are grouped" in text
    rows = re.findall(r"^\s*(\d+)-(\d+)\s+128\s+node-\d+ \+15\s+H100 SXM\s+(\d)\s", text, re.M)
    assert [(int(a), int(b), int(s)) for a, b, s in rows] == [(k * 128, k * 128 + 127, k + 1) for k in range(8)]


def test_pages_and_size_stay_flat_as_the_plan_grows(pdfs, tmp_path):
    small = tmp_path / "small.pdf"
    export_pdf(article_plan(), small, all_cards=True)
    counts = {cards: pages(path) for cards, path in pdfs.items()}
    # 16x the replicas, no more pages (1,024 cards also list the planner's alternatives; 16,384 are past
    # the planner's card budget, gui.pdf.alternatives.PLANNER_MAX_CARDS)
    assert counts[16_384] <= counts[1024] <= 10
    for path in pdfs.values():
        # a 1,024-card plan was a 100 MB file: now the same order as the 8-card plan's (~0.13 MB)
        assert path.stat().st_size < 8 * small.stat().st_size


def test_a_deep_pipeline_draws_at_most_the_summary_bound_of_layouts(tmp_path):
    # PP 64: 64 layouts (one per stage, 2 nodes each), past SUMMARY_MAX_LAYOUTS = 32; no recompute
    # at 32k tokens puts every card over capacity, the first stage furthest.
    plan = big_plan().model_copy(update={
        "name": "deep", "model": big_plan().model.model_copy(update={"layers": 128}),
        "training": TrainingConfig(seq=32768),
        "layout": build_grid(tp=8, pp=64, dp=2, gpu="H100 SXM", capacity_bytes=GIB80)})
    path = tmp_path / "deep.pdf"
    export_pdf(plan, path)
    text = " ".join(pdf_text(path).split())
    assert text.count("× 2 identical nodes") == summary.SUMMARY_MAX_LAYOUTS
    assert "64 distinct layouts: 32 of them (64 nodes) are not drawn" in text
    assert "DOES NOT FIT" in text
    assert f"{summary.FORMULA_MAX_BLOCKS} blocks and keep the fullest card's" in text
    assert pages(path) <= 20


def test_layouts_group_identical_nodes_and_keep_the_fullest():
    plan = big_plan(16)
    est = estimate(plan)
    layouts = summary.node_layouts(plan, est)
    assert [len(lay.nodes) for lay in layouts] == [16] * 8
    assert [{c.stage for _, c in lay.cards} for lay in layouts] == [{s} for s in range(8)]
    # a cap of 3 layouts still holds the one of the fullest card (stage 1 here: the first)
    assert summary.SUMMARY_MAX_LAYOUTS >= 8
    kept, left = summary.keep_with_worst(layouts[::-1], 3, lambda lay: 0 in lay.nodes)
    assert left == 5 and len(kept) == 3 and any(0 in lay.nodes for lay in kept)


def test_chart_bars_are_bounded_and_show_every_peak():
    est = estimate(big_plan(256))
    bars, per_bar = summary.chart_bars(est)
    assert per_bar == 1 and len(bars) == 8  # runs of identical neighbours: one bar per stage
    assert sum(n for _, n, _ in bars) == 16_384
    assert max(c.total_bytes for _, _, c in bars) == est.worst_card.total_bytes


def test_when_nearly_every_card_differs_the_table_stops_and_keeps_the_fullest(tmp_path):
    # every card a different capacity (80 GiB + i MiB): no two cards or nodes alike, so 1,024 table rows,
    # 128 node layouts; card 1000 (stage 8) gets 14 GB, the least headroom of all
    plan = big_plan(16)
    cards = tuple(c.model_copy(update={"capacity_bytes": 14 * 10**9 if i == 1000 else GIB80 + i * 2**20})
                  for i, c in enumerate(plan.layout.cards))
    plan = plan.model_copy(update={"layout": Layout(nodes=plan.layout.nodes, cards=cards)})
    assert estimate(plan).worst_card.index == 1000
    path = tmp_path / "mixed.pdf"
    export_pdf(plan, path)
    text = pdf_text(path)
    rows = re.findall(r"^\s*(\d+)\s+1\s+node-\d+\s+H100 SXM\s", text, re.M)
    assert len(rows) == summary.TABLE_MAX_ROWS and rows[-1] == "1000"  # the fullest replaces the last row
    flat = " ".join(text.split())
    assert "512 more rows (512 cards) are not listed" in flat
    assert "128 distinct layouts: 96 of them (96 nodes) are not drawn" in flat
    assert "node-125" in flat  # card 1000's node is among the drawn ones
    assert pages(path) <= 20

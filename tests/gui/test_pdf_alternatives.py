"""The PDF's "alternatives considered": each alternative with the figure that rules it out, and the sweep plot.

Read back with poppler (pdftotext, pdftoppm).  Figures from the article's 13B example
(../shared/reference/worked-examples.md, seed method, A100 80GB = 85,100,068,864 B as CUDA reports it):
PP 4 without data parallelism (ZeRO-1 over one rank shards nothing) needs 92.05 GB on stage 1, the
article's PP 4 figure: 13 × (6/4 + 12/4) + 33.55 = 92.05 GB, over the card by 92.05 - 85.10 = 6.95 GB.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from engine.compare import compare_plans, sweep
from engine.estimate import estimate
from engine.plan.layout import build_grid
from engine.plan.schema import load_plan, save_plan, with_changes
from engine.resources import resource_path
from engine.serving.config import ServingConfig
from gui.compare_data import percent, time_change
from gui.pdf import export_pdf
from gui.pdf.alternatives import alternatives, nearest_alternatives

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")

CAPACITY = 85_100_068_864
PP4_ALONE = 13_000_000_000 * 6 // 4 + 13_000_000_000 * 12 // 4 + 33_554_432_000  # 92.05 GB on stage 1


def article(name: str | None = None):
    plan = load_plan(resource_path("templates", "article-13b-pp4-zero1-dp2.json"))
    return plan if name is None else plan.model_copy(update={"name": name})


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def section(text: str) -> str:
    """The alternatives section (up to the formulas), joined across page breaks, runs of spaces squeezed."""
    part = text[text.index("Alternatives considered"):text.index("Assumptions and formulas")]
    return " ".join(part.split())


@pytest.fixture(scope="module")
def article_pdf(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alt")
    plan = article()
    baseline = article("十三B 基线").model_copy(update={"training": plan.training.model_copy(update={"seq": 2048})})
    path = folder / "plan.pdf"
    export_pdf(plan, path, baseline=(baseline, "基线.json"), sweep=sweep(plan, "seq"))
    return path


def test_neighbours_name_the_figure_that_rules_them_out(article_pdf):
    text = section(pdf_text(article_pdf))
    # PP 4 on 4 cards (DP 2 -> 1): the article's 92.05 GB, 6.95 GB over the card
    assert f"PP 4: does not fit on stage 1 by {(PP4_ALONE - CAPACITY) / 1e9:.2f} GB" in text
    assert f"{(PP4_ALONE - CAPACITY) / 1e9:.2f}" == "6.95"
    # twice the replicas: fits, faster, but twice the cards
    assert "PP 4 × DP 4: needs 16 cards (the plan: 8)" in text
    # PP 8 on the same 8 cards: the slowdown is the planner's step-time model, as compare_plans reports it
    plan = article()
    pp8 = with_changes(plan, layout=build_grid(pp=8, gpu="A100 80GB", capacity_bytes=CAPACITY))
    c = compare_plans(plan, pp8)
    slower = time_change(c.a.step, c.b.step)
    assert slower > 0 and f"PP 8: {percent(slower)} slower" in text
    assert "the planner's fewest-card layout" in text and "the planner's fastest layout within 8 cards" in text


def test_the_pinned_baseline_comes_first_and_chinese_extracts(article_pdf):
    text = section(pdf_text(article_pdf))
    first = text.index("the baseline 基线.json")
    assert first < text.index("the planner's fewest-card layout") and "the baseline plan: 十三B 基线." in text
    assert "⽂" not in text and "\u2f00" not in text


def test_the_sweep_plot_and_its_answer(article_pdf, tmp_path):
    text = pdf_text(article_pdf)
    assert "Sweep of sequence length" in text
    assert "Largest sequence length that fits: 5,627 (the plan: 4,096)" in " ".join(text.split())
    page = next(i for i, p in enumerate(text.split("\f"), 1) if "Sweep of sequence length" in p)
    prefix = tmp_path / "sweep"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-gray", "-f", str(page), "-l", str(page), "-singlefile",
                    str(article_pdf), str(prefix)], check=True)
    from PySide6.QtGui import QImage

    img = QImage(str(prefix) + ".png").convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * img.height())
    assert pixels.std() > 20 and (pixels < 128).mean() > 0.005  # the plot is drawn, not a blank page


def test_neighbours_are_what_the_engine_says():
    plan = article()
    est = estimate(plan)
    listed = {a.title: a for a in nearest_alternatives(plan, est, "GB")}
    assert listed["PP 4"].cards == 4 and not listed["PP 4"].fits and listed["PP 4"].peak_bytes == PP4_ALONE
    assert listed["ZeRO-2"].fits and not listed["ZeRO-2"].ruled_out  # more headroom at the same speed: worth a look
    assert all(a.change for a in listed.values())


def test_serving_plans_list_only_the_baseline(tmp_path):
    serving = load_plan(resource_path("templates", "70b-4xh100-vllm.json"))
    assert alternatives(serving, estimate(serving), "GB") == []
    path = tmp_path / "serve.pdf"
    export_pdf(serving, path)
    assert "Alternatives considered" not in pdf_text(path)
    bigger = serving.model_copy(update={"serving": (serving.serving or ServingConfig()).model_copy(update={"batch": 64})})
    export_pdf(serving, path, baseline=(bigger, "batch 64"))
    text = section(pdf_text(path))
    assert "the baseline batch 64:" in text


def test_report_cli_baseline_and_sweep(tmp_path, capsys):
    from gui.report_cli import main

    plan_path, base_path, out = tmp_path / "p.json", tmp_path / "zero1-only.json", tmp_path / "out.pdf"
    save_plan(article(), plan_path)
    save_plan(load_plan(resource_path("templates", "article-13b-zero1-only.json")), base_path)
    assert main([str(plan_path), "-o", str(out), "--baseline", str(base_path), "--sweep", "pp"]) == 0
    text = pdf_text(out)
    assert "the baseline zero1-only.json: does not fit on stage 1 by" in section(text)
    assert "Sweep of PP size (stages)" in text and "Smallest PP size (stages) that fits" in " ".join(text.split())
    assert main([str(plan_path), "-o", str(out), "--sweep", "context"]) == 2  # a serving knob on a training plan
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "context" in err


def test_neighbours_of_a_plan_with_deepspeed_checkpoint_switches():
    """Leaving full recompute also leaves partition_activations / cpu_checkpointing (valid only with full
    recompute): the one-knob neighbours are still named, not lost to the one the engine would refuse."""
    plan = article()
    deepspeed = with_changes(plan, training=plan.training.model_copy(update={
        "recompute": "full", "partition_activations": True, "cpu_checkpointing": True}),
        method=plan.method.model_copy(update={"method": "detailed", "framework": "deepspeed"}))
    titles = [a.title for a in nearest_alternatives(deepspeed, estimate(deepspeed), "GB")]
    assert "PP 8" in titles and "ZeRO-2" in titles  # the layout and training neighbours are all there
    from gui.pdf.alternatives import _training_neighbours

    other = next(p for title, _, p in _training_neighbours(deepspeed) if title == "recompute selective")
    assert (other.training.recompute, other.training.partition_activations, other.training.cpu_checkpointing) == (
        "selective", False, False)

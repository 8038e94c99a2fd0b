"""The PDF plan summary: rendered for real, then read back with poppler (pdftotext/pdftoppm/pdfinfo)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from engine.errors import PlanError
from engine.estimate import estimate
from engine.model.spec import ModelSpec
from engine.plan.layout import build_grid
from engine.plan.schema import Plan, save_plan
from engine.report.json_report import estimate_to_json
from engine.training.config import MethodConfig, TrainingConfig
from gui.pdf import export_pdf

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")

GIB80 = 80 * 2**30
CHINESE_NAME = "十三B 训练方案"


def article_plan(name: str = CHINESE_NAME) -> Plan:
    """The article's 13B example: PP 4 x ZeRO-1 DP 2 on 8 x 80 GB cards, seed method."""
    return Plan(name=name, model=ModelSpec(name="13B", params=13_000_000_000, layers=40, hidden=5120, heads=40),
                method=MethodConfig(method="seed"), training=TrainingConfig(seq=4096, zero=1),
                layout=build_grid(pp=4, dp=2, gpu="A100 80GB", capacity_bytes=GIB80))


def big_plan(cards_dp: int = 16) -> Plan:
    """TP 8 x PP 8 x DP 16 = 1,024 cards (Llama-3-70B shapes), detailed method."""
    model = ModelSpec(name="llama-3-70b", layers=80, hidden=8192, heads=64, kv_heads=8, ffn=28672, vocab=128256,
                      gated_mlp=True, norm="rmsnorm", bias=False)
    return Plan(name="70B on 1,024 cards", model=model,
                training=TrainingConfig(seq=8192, distributed_optimizer=True, recompute="selective",
                                        sequence_parallel=True, flash_attention=True),
                layout=build_grid(tp=8, pp=8, dp=cards_dp, gpu="H100 SXM", capacity_bytes=GIB80))


def pdf_text(path, *extra: str) -> str:
    return subprocess.run(["pdftotext", "-layout", *extra, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdf_info(path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def page_pixels(path, page: int, tmp_path) -> np.ndarray:
    from PySide6.QtGui import QImage

    prefix = tmp_path / f"page{page}"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-gray", "-f", str(page), "-l", str(page), "-singlefile",
                    str(path), str(prefix)], check=True)
    img = QImage(str(prefix) + ".png").convertToFormat(QImage.Format.Format_Grayscale8)
    ptr = img.constBits()
    return np.frombuffer(ptr, dtype=np.uint8, count=img.bytesPerLine() * img.height()).copy()


@pytest.fixture(scope="module")
def article_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "plan.pdf"
    export_pdf(article_plan(), path, all_cards=True)
    return path


def test_chinese_plan_name_extracts_exactly(article_pdf):
    text = pdf_text(article_pdf)
    assert CHINESE_NAME in text
    assert "⽂" not in text and "\u2f00" not in text  # no Kangxi radicals in place of ideographs


def test_per_card_rows_equal_the_engine_report(article_pdf):
    report = estimate_to_json(estimate(article_plan()))
    rows = {}
    for line in pdf_text(article_pdf).splitlines():
        m = re.match(r"^\s*(\d+)\s+1\s+node-0\s+A100 80GB\s+(\d)\s+\S+\s+\S+\s+(.*)\s(ok|OVER)\s*$", line)
        if m:
            rows[int(m.group(1))] = (int(m.group(2)), m.group(3).split(), m.group(4))
    assert sorted(rows) == list(range(8))
    for card in report["cards"]:
        stage, numbers, status = rows[card["card"]]
        bd = card["breakdown"]
        expected = [bd["weights"], bd["gradients"], bd["optimizer_states"], bd["activations"], bd["kv_cache"],
                    bd["overhead"], card["total_bytes"], card["capacity_bytes"]]
        assert stage == card["stage"] + 1  # the PDF numbers stages from 1, as the diagram does
        assert numbers[:-1] == [f"{b / 1e9:.2f}" for b in expected]
        assert numbers[-1] == f"{card['headroom_bytes'] / 1e9:+.2f}"
        assert status == ("ok" if card["fits"] else "OVER")


def test_article_totals_appear_as_published(article_pdf):
    # worked-examples.md, PP 4 x ZeRO-1 DP 2 with the exact activation figure (33.55 GB per sample):
    # 13 x (6/4 + 12/8) + 33.55 x (4, 3, 2, 1)/4 = 72.55 / 64.17 / 55.78 / 47.39 GB.
    text = pdf_text(article_pdf)
    for total in ("72.55", "64.17", "55.78", "47.39"):
        assert re.search(rf"\s{total}\s+85\.90\s", text), total
    assert "FITS" in text and "headroom" in text


def test_formulas_section_shows_substituted_numbers(article_pdf):
    text = pdf_text(article_pdf)
    assert "Assumptions and formulas" in text
    # The seed weights of stage 1: 2 B x 13e9 params x 10/40 layers = 6.5e9 B.
    assert "2 B × 13,000,000,000 params × 10/40 layers" in text
    assert "6,500,000,000 B" in text


def test_page_one_is_not_blank(article_pdf, tmp_path):
    pixels = page_pixels(article_pdf, 1, tmp_path)
    assert pixels.std() > 20  # text, the verdict and the diagram; a blank page has std 0
    assert (pixels < 128).mean() > 0.01


def test_units_gib_and_letter_page_size(tmp_path):
    path = tmp_path / "gib.pdf"
    export_pdf(article_plan("gib plan"), path, page_size="Letter", units="GiB")
    assert pdf_info(path)["Page size"].strip().startswith("612 x 792")  # US Letter in points
    text = pdf_text(path)
    assert "80.00" in text and "memory in GiB" in text  # 80 x 2^30 B = 80.00 GiB capacity
    a4 = tmp_path / "a4.pdf"
    export_pdf(article_plan("a4 plan"), a4)
    assert pdf_info(a4)["Page size"].strip().startswith("595")  # A4 = 595.28 x 841.89 pt


def test_512_cards_paginate_with_repeated_headers(tmp_path):
    # all_cards lists every card up to gui.pdf.summary.LISTED_MAX_CARDS = 512 (TP 8 x PP 8 x DP 8)
    path = tmp_path / "big.pdf"
    export_pdf(big_plan(8), path, all_cards=True)
    pages = int(pdf_info(path)["Pages"])
    assert pages >= 512 // 60  # at most ~60 rows fit on an A4 page
    text = pdf_text(path)
    table_pages = [p for p in text.split("\f") if re.search(r"^\s*\d+\s+1\s+node-\d+\s+H100", p, re.M)]
    assert len(table_pages) >= 8
    assert all("headroom" in p for p in table_pages)  # the header repeats on every page of the table
    listed = {int(m) for m in re.findall(r"^\s*(\d+)\s+1\s+node-\d+\s+H100", text, re.M)}
    assert listed == set(range(512))

    grouped = tmp_path / "grouped.pdf"
    export_pdf(big_plan(8), grouped)
    assert int(pdf_info(grouped)["Pages"]) < pages  # identical cards grouped: 8 rows, one per stage


def test_invalid_plan_raises_and_writes_nothing(tmp_path):
    bad = article_plan().model_copy(update={"training": TrainingConfig(global_batch=3)})
    path = tmp_path / "bad.pdf"
    with pytest.raises(PlanError, match="global_batch"):
        export_pdf(bad, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(PlanError, match="page_size"):
        export_pdf(article_plan(), path, page_size="A3")


def test_report_cli(tmp_path, capsys):
    from gui.report_cli import main

    plan_path, out = tmp_path / "p.json", tmp_path / "out.pdf"
    save_plan(article_plan(), plan_path)
    assert main([str(plan_path), "-o", str(out), "--page-size", "Letter", "--units", "GiB"]) == 0
    assert CHINESE_NAME in pdf_text(out)
    assert main([str(tmp_path / "missing.json"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.json" in err


def test_shipped_font_is_registered():
    from gui.fonts import register_app_fonts
    from gui.qt_app import ensure_app

    ensure_app(headless=True)
    assert register_app_fonts() == "WenQuanYi Micro Hei"


def test_serving_plan_summary(tmp_path):
    config = pytest.importorskip("engine.serving.config")
    plan = Plan(name="8B 服务", mode="serving", model=big_plan().model.model_copy(update={"layers": 32, "hidden": 4096,
                                                                                          "heads": 32, "ffn": 14336}),
                serving=config.ServingConfig(quant="int4-awq", kv_dtype="fp8", context=8192, batch=4, runtime="vllm"),
                layout=build_grid(gpu="RTX 4090", capacity_bytes=24 * 2**30))
    path = tmp_path / "serve.pdf"
    export_pdf(plan, path)
    text = pdf_text(path)
    assert "8B 服务" in text and "Serving answers" in text and "serving: quant" in text
    report = estimate_to_json(estimate(plan))
    assert f"{report['cards'][0]['total_bytes'] / 1e9:.2f}" in text
    # vLLM's sampler warm-up is in the summary with the engine's figure and where it stands in the profile
    warm = report["cards"][0]["details"]["sampler_warmup"]
    assert "vLLM sampler warm-up" in text and f"{warm / 1e9:.2f} GB" in text


def test_the_verdict_says_when_a_plan_runs_out_only_at_the_first_optimizer_step():
    """The 13B template on cards between what stage 1 needs before Adam's moments exist (the first optimizer step
    creates them) and what it needs after: the summary's verdict says the run starts and where it fails."""
    from engine.plan.schema import load_plan
    from engine.resources import resource_path
    from gui.pdf.content import verdict_text

    plan = load_plan(resource_path("templates", "13b-detailed-megatron.json"))
    card = estimate(plan).cards[0]
    first = card.breakdown.before_first_step
    assert first is not None
    for capacity, late in (((first.total_bytes + card.total_bytes) // 2, True), (first.total_bytes - 1, False)):
        layout = plan.layout.model_copy(update={"cards": tuple(c.model_copy(update={"capacity_bytes": capacity})
                                                               for c in plan.layout.cards)})
        changed = plan.model_copy(update={"layout": layout})
        text = verdict_text(changed, estimate(changed), "GB")
        assert text.startswith("DOES NOT FIT")
        assert ("runs out at its first optimizer step" in text) is late


def test_fine_tuning_plan_summary_shows_what_it_trains_with(tmp_path):
    """A fine-tuning plan's page one lists its own settings (sequence, batch, adapters, optimizer...), not the
    untouched training section's, and says where its allocator reserve comes from."""
    from gui.templates import load_template

    plan = load_template("7b-rtx4090-qlora")  # 2,048 tokens x 4, r 16 on all seven matrices, paged 8-bit AdamW
    plan = plan.model_copy(update={"method": plan.method.model_copy(update={
        "transformers_version": "4.48.1",
        "overhead": plan.method.overhead.model_copy(update={"fragmentation_model": "replay"})})})
    path = tmp_path / "qlora.pdf"
    export_pdf(plan, path)
    text = re.sub(r"\s+", " ", pdf_text(path))
    assert "2,048 tokens" in text and "micro-batch 4 per card" in text and "4,096 tokens" not in text
    assert "rank 16, alpha 16 on q, k, v, o, gate, up, down" in text and "paged-adamw-8bit" in text
    assert "nf4 with double quantization" in text and "gradient checkpointing" in text
    assert "PyTorch's caching allocator replayed over the card's steps" in text
    assert "release 4.48.1" in text and "one micro-batch per optimizer step" in text
    assert "The card (RTX 4090) stays within its memory" in text and "1 card on 1 node:" in text


def test_a_full_fine_tuning_summary_does_not_claim_peft(tmp_path):
    """Full fine-tuning under the transformers Trainer trains every weight; PEFT is for the adapter methods."""
    from gui.templates import load_template

    plan = load_template("7b-rtx4090-qlora")
    plan = plan.model_copy(update={"finetune": plan.finetune.model_copy(update={"method": "full"})})
    path = tmp_path / "full.pdf"
    export_pdf(plan, path)
    text = re.sub(r"\s+", " ", pdf_text(path))
    assert "framework Hugging Face transformers" in text and "PEFT" not in text

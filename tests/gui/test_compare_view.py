"""The compare dock driven through its real widgets: pin, edit, read the deltas, undo, unpin, open a second plan.

Figures are the article's 13B example (docs: ../shared/reference/worked-examples.md): PP 4 × ZeRO-1 DP 2 on
8 × A100 80GB, seed method.  Stage 1 holds 2 B weights + 4 B gradients per parameter split over the 4 stages
(13e9 × 6 / 4 = 19.5e9 B), 12 B of optimizer states split over 4 stages and 2 ZeRO ranks (13e9 × 12 / 8 =
19.5e9 B) and the activations of 4 micro-batches of 10 of the 40 layers at 40·S·H bytes per layer and sample:
40 × 4096 × 5120 × 10 × 4 = 33,554,432,000 B; 72.55 GB in all.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PySide6.QtCore import Qt

from engine import GB, Plan, build_grid
from engine.catalog import find_gpu, find_model
from engine.finetune.config import FinetuneConfig
from engine.plan.schema import load_plan, save_plan
from engine.resources import resource_path
from engine.serving.config import ServingConfig
from engine.training.config import ExpertLoad, TrainingConfig
from gui.compare_view import CompareView
from gui.document import PlanDocument
from gui.panels.plan_fields import set_field

ACTIVATIONS_4096 = 40 * 4096 * 5120 * 10 * 4  # stage 1, 4 micro-batches in flight


def article() -> Plan:
    return load_plan(resource_path("templates", "article-13b-pp4-zero1-dp2.json"))


@pytest.fixture
def view(qtbot):
    document = PlanDocument(article())
    widget = CompareView(document)
    qtbot.addWidget(widget)
    widget.resize(520, 700)
    widget.show()
    return widget


def cell(view: CompareView, row: int, col: int) -> str:
    return view.table.item(row, col).text()


def test_pin_edit_see_the_deltas_then_undo(qtbot, view):
    document = view._document
    assert document.comparison is None and "Pin the current plan" in view.message.text()
    assert not view.unpin_button.isEnabled()
    qtbot.mouseClick(view.pin_button, Qt.MouseButton.LeftButton)
    assert document.baseline is not None and view.unpin_button.isEnabled()
    assert [cell(view, r, 3) for r in range(5)] == ["±0.00"] * 5  # stages 1-4 and "all": nothing changed yet

    document.apply(set_field(document.plan, "training.seq", 8192), "Set sequence length")
    # Doubling S doubles the activations: stage 1 gains 33,554,432,000 B (4 in flight), stage 4 a quarter of it.
    assert [cell(view, 0, c) for c in range(4)] == ["1", "72.55", f"{(72_554_432_000 + ACTIVATIONS_4096) / GB:.2f}",
                                                    f"+{ACTIVATIONS_4096 / GB:.2f}"]
    assert cell(view, 3, 3) == f"+{ACTIVATIONS_4096 / 4 / GB:.2f}"
    assert cell(view, 4, 0) == "all" and cell(view, 4, 2) == "106.11"
    assert "does not fit" in view.header.text()  # 106.11 GB > 85.10 GB
    # the diverging bar: stage 1 (the heaviest), one category, +33.55 GB
    assert view.bars_caption.text().startswith("Stage 1")
    assert list(view.bars.opts["width"]) == pytest.approx([ACTIVATIONS_4096 / GB])
    added = [view.warnings.item(i).text() for i in range(view.warnings.count())]
    assert any(t.startswith("+ appears in B") and "over capacity" in t and "106.11 GB" in t for t in added)
    # twice the tokens per step: the planner's model says how much longer the same tokens take to train
    c = document.comparison
    slower = c.b.step.days_to_train / c.a.step.days_to_train - 1
    assert f"B trains {slower * 100:.0f} % slower than A" in view.step_label.text()
    assert f"{c.a.step.days_to_train:,.1f} → {c.b.step.days_to_train:,.1f} days" in view.step_label.text()

    document.apply(set_field(document.plan, "training.zero", 2), "Set ZeRO stage")
    # ZeRO-2 shards the 4 B fp32 gradients too: stage 1 keeps 13e9 × 4 / 4 / 2 = 6.5e9 B of them (was 13e9)
    stage1 = document.comparison.stages[0]
    assert {d.key: d.delta_bytes for d in stage1.categories} == {"activations": ACTIVATIONS_4096,
                                                                  "gradients": -6_500_000_000}
    assert sorted(view.bars.opts["width"]) == pytest.approx(sorted([ACTIVATIONS_4096 / GB, 6.5]))

    document.undo_stack.undo()
    document.undo_stack.undo()
    assert [cell(view, r, 3) for r in range(5)] == ["±0.00"] * 5
    assert view.bars_caption.text() == "No memory category differs."
    assert view.warnings.item(0).text() == "The same warnings in A and B"

    qtbot.mouseClick(view.unpin_button, Qt.MouseButton.LeftButton)
    assert document.comparison is None and not view.results.isVisible()


def test_choosing_a_stage_row_redraws_its_categories(qtbot, view):
    document = view._document
    view.pin()
    document.apply(set_field(document.plan, "training.seq", 8192), "Set sequence length")
    view.table.setCurrentCell(3, 0)  # stage 4: one micro-batch in flight
    assert view.bars_caption.text().startswith("Stage 4")
    assert list(view.bars.opts["width"]) == pytest.approx([ACTIVATIONS_4096 / 4 / GB])
    document.set_units("GiB")  # the same bytes in 2^30 units; the chosen stage stays
    assert cell(view, 0, 1) == f"{72_554_432_000 / 2**30:.2f}" and "GiB" in view.table_caption.text()
    assert list(view.bars.opts["width"]) == pytest.approx([ACTIVATIONS_4096 / 4 / 2**30])


def test_open_a_second_plan_as_the_baseline(qtbot, view, tmp_path):
    other = article().model_copy(update={"name": "十三B 基线", "training": TrainingConfig(seq=2048, zero=1)})
    path = tmp_path / "基线.json"
    save_plan(other, path)
    assert view.open_baseline(path)
    c = view._document.comparison
    assert c.a.name == "十三B 基线" and "十三B 基线" in view.header.text()
    # the current plan has twice the sequence of the baseline: +16.78 GB on stage 1
    assert cell(view, 0, 3) == f"+{ACTIVATIONS_4096 / 2 / GB:.2f}"
    bad = tmp_path / "bad.json"
    bad.write_text("{\"version\": 1, \"name\": 3}")
    assert not view.open_baseline(bad)
    assert view.message.isVisible() and view.message.text().startswith("Cannot open the baseline")
    assert view._document.baseline.label == "基线.json"  # the good baseline stays pinned


def test_an_invalid_current_plan_is_shown_inline(qtbot, view):
    document = view._document
    view.pin()
    document.apply(document.plan.model_copy(update={"training": TrainingConfig(global_batch=3)}), "Set global batch")
    assert document.comparison is None
    assert view.message.text().startswith("Cannot compare:") and "global_batch" in view.message.text()
    document.undo_stack.undo()
    assert document.comparison is not None and not view.message.isVisible()


def test_serving_and_finetuning_plans_compare_too(qtbot):
    gpu = find_gpu("h100")
    model = find_model("llama-2-7b").spec
    serving = Plan(name="7B serve", mode="serving", model=model, layout=build_grid(gpu=gpu.name, capacity_bytes=gpu.memory_bytes),
                   serving=ServingConfig(runtime="vllm", context=4096, batch=8))
    document = PlanDocument(serving)
    view = CompareView(document)
    qtbot.addWidget(view)
    view.pin()
    document.apply(set_field(document.plan, "serving.batch", 16), "Set batch")
    c = document.comparison
    assert c.b.step is None and "not modelled" in view.step_label.text() and "serving" in view.step_label.text()
    keys = {d.key for d in c.stages[0].categories}
    assert "kv_cache" in keys  # twice the concurrent sequences
    assert cell(view, 0, 3) == f"{'+' if c.stages[0].delta_bytes > 0 else ''}{c.stages[0].delta_bytes / GB:.2f}".replace("-", "−")

    lora = Plan(name="7B LoRA", mode="finetune", model=model, layout=build_grid(gpu=gpu.name, capacity_bytes=gpu.memory_bytes),
                finetune=FinetuneConfig(method="lora", rank=16, seq=1024))
    document.reset(lora)  # the baseline stays pinned across documents: the LoRA plan is compared with the serving one
    view.pin()
    document.apply(set_field(document.plan, "finetune.rank", 64), "Set LoRA rank")
    keys = {d.key for d in document.comparison.stages[0].categories}
    assert {"weights", "optimizer_states"} <= keys  # the adapters' weights and AdamW moments grow with the rank


def test_moe_busiest_against_average_ep_rank(qtbot):
    gpu = find_gpu("h100")
    model = find_model("mixtral-8x7b").spec
    plan = Plan(name="Mixtral EP 8", model=model, training=TrainingConfig(
        seq=4096, zero=1, flash_attention=True, recompute="selective",
        expert_load=ExpertLoad(kind="capacity-factor", factor=1.25)),
                layout=build_grid(tp=1, pp=4, dp=8, ep=8, gpu=gpu.name, capacity_bytes=gpu.memory_bytes))
    document = PlanDocument(plan)
    view = CompareView(document)
    qtbot.addWidget(view)
    index = view.source.findData("expert-load")
    assert view.source.model().item(index).isEnabled()
    view.source.setCurrentIndex(index)
    view.source.activated.emit(index)
    c = document.comparison
    assert document.compare_source == "expert-load" and c is not None
    assert c.a.label.startswith("average EP rank") and c.b.label.startswith("busiest EP rank")
    assert c.peak_delta_bytes > 0 and "average EP rank" in view.header.text()
    assert "activations" in {d.key for d in c.stages[0].categories}
    document.reset(article())  # a dense model: the EP view says why it does not apply
    assert document.comparison is None and "moe" in view.message.text()
    assert not view.source.model().item(index).isEnabled()


@pytest.fixture
def window(qtbot):
    from gui.main_window import MainWindow

    win = MainWindow(PlanDocument(article()))
    win.show()
    yield win
    win.document.undo_stack.setClean()  # closing must not stop at the unsaved-changes prompt
    win.close()
    win.deleteLater()


def test_the_window_pins_from_the_edit_menu_and_exports_the_baseline(window, tmp_path, monkeypatch):
    docks = window.analysis
    assert docks.timeline_dock.isVisible() and not docks.compare_dock.isVisible()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert {"Step timeline", "Compare", "Sweep"} <= {a.text() for a in view_menu.actions()}
    assert not docks.unpin_action.isEnabled()
    docks.pin_action.trigger()  # Edit > Pin as Baseline (Ctrl+B)
    assert docks.compare_dock.isVisible() and window.document.baseline is not None and docks.unpin_action.isEnabled()
    window.document.apply(set_field(window.document.plan, "training.zero", 2), "Set ZeRO stage")
    assert window.document.comparison.peak_delta_bytes == -6_500_000_000  # stage 1's gradients sharded over DP 2
    # File > Export PDF lists the baseline among the alternatives (the dialog answered with a path)
    if shutil.which("pdftotext") is None:
        return
    out = tmp_path / "x.pdf"
    monkeypatch.setattr("gui.window_actions.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), ""))
    window.actions_.on_export_pdf()
    text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    assert f"the baseline {article().name}" in " ".join(text.split())
    assert "Sweep of" not in text  # no sweep made: no sweep plot


def test_asking_for_the_ep_ranks_opens_the_compare_dock(qtbot):
    from gui.main_window import MainWindow

    gpu = find_gpu("h100")
    plan = Plan(name="Mixtral EP 8", model=find_model("mixtral-8x7b").spec,
                training=TrainingConfig(seq=4096, zero=1, flash_attention=True,
                                        expert_load=ExpertLoad(kind="measured", factor=2.0)),
                layout=build_grid(dp=8, ep=8, gpu=gpu.name, capacity_bytes=gpu.memory_bytes))
    window = MainWindow(PlanDocument(plan))
    window.show()
    try:
        docks = window.analysis
        assert not docks.compare_dock.isVisible()
        window.document.set_compare_source("expert-load")  # the workload panel's button
        assert docks.compare_dock.isVisible()
        c = window.document.comparison
        # the busiest rank (measured 2: 16,384 routed copies per layer) against the average (8,192): 32 MoE layers
        # x 8,192 x (2·h 4,096 + 3·2·f_e 14,336 = 94,208 B) more activations (tests/engine/test_moe_imbalance.py)
        act = next(d for d in c.stages[0].categories if d.key == "activations")
        assert act.delta_bytes == 32 * 8192 * 94_208
        assert "busiest EP rank (measured 2)" in docks.compare.header.text()
    finally:
        window.document.undo_stack.setClean()
        window.close()
        window.deleteLater()


def test_the_header_counts_cards_with_a_plural(qtbot, view):
    document = view._document
    view.pin()
    assert "· 8 cards ·" in view.header.text()
    one = build_grid(gpu="A100 80GB", capacity_bytes=80 * GB)  # the same model on one card
    document.apply(document.plan.model_copy(update={"layout": one}), "One card")
    header = view.header.text()
    assert "· 8 cards ·" in header and "· 1 card ·" in header and "1 cards" not in header

"""Serving answers in the window: the engine's figures beside the chart, updated live on every edit.

Every figure is compared with an independent engine call on the same plan (``engine.estimate``,
``engine.serving.answers``); the searches run on a worker thread, so the tests wait for them.
"""

from __future__ import annotations

import html
import re

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from engine.catalog import find_model
from engine.estimate import estimate
from engine.serving.answers import best_quant, cheapest_gpu, fewest_cpu_moe_layers, quant_options
from engine.units import format_bytes
from gui.document import PlanDocument
from gui.main_window import MainWindow
from gui.panels.plan_fields import set_field
from gui.templates import load_template


@pytest.fixture
def open_window(qtbot):
    windows = []

    def make(key: str) -> MainWindow:
        win = MainWindow(PlanDocument(load_template(key)))  # closed below, after setClean (no save prompt)
        win.resize(1280, 800)
        win.show()
        win.serving_answers.settle()
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.document.undo_stack.setClean()
        win.close()
        win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def plain(rich: str) -> str:
    """A label's rich text as the words a user reads (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rich)).split())


def _shown(win: MainWindow) -> str:
    panel = win.serving_panel
    return plain(" ".join(label.text() for label in (panel.limits, panel.formats, panel.cards, panel.ruled_out,
                                                       panel.sizes)))


def test_a_6b_model_on_a_12gb_card_shows_every_answer(open_window):
    win = open_window("6b-rtx3060-int4")
    plan = win.document.plan
    s = estimate(plan).serving
    assert win.serving_panel.isVisibleTo(win)
    text = _shown(win)
    # chatglm3-6b (trained for 8,192 tokens) in int4 on an RTX 3060 12GB, 4 sequences
    assert (f"Longest context at 4 sequences {s.max_context_tokens:,} tokens "
            "limited by the model's trained context (8,192 tokens)") in text
    assert f"Concurrent sequences at 8,192 tokens {s.max_batch:,} limited by the memory of card #0 (RTX 3060 12GB)" in text
    assert f"{s.kv_bytes_per_token:,} B" in text and format_bytes(s.weight_bytes, "GB") in text
    best, cheapest = best_quant(plan), cheapest_gpu(plan)
    assert best is not None and best.quant == "llm-int8"  # the least aggressive format that fits 12 GB
    assert f"Least aggressive format that fits {best.quant} weights" in text
    assert cheapest is not None and f"Cheapest single card that fits {cheapest.gpu.name}" in text
    assert "Ruled out on these cards fp8-channel, fp8 : no FP8 tensor cores (RTX 3060 12GB has compute capability 8.6" in text
    assert win.serving_panel.use_button.isVisibleTo(win) and win.serving_panel.use_button.text() == "Use llm-int8"


def test_a_70b_vllm_plan_shows_the_kv_pool_and_what_binds(open_window):
    win = open_window("70b-4xh100-vllm")
    s = estimate(win.document.plan).serving
    text = _shown(win)
    assert s.kv_pool_tokens is not None and f"KV pool (vllm) {s.kv_pool_tokens:,} tokens" in text
    assert f"at 4,096 tokens {s.max_batch:,} limited by the KV pool of card #0 (H100 SXM)" in text
    assert "limited by the model's trained context (4,096 tokens)" in text


def test_answers_follow_an_edit_and_its_undo(open_window, qtbot):
    win = open_window("6b-rtx3060-int4")
    batch = win.workload_panel.bindings["serving.batch"].widget
    with qtbot.waitSignal(win.serving_answers.changed, timeout=10_000):
        batch.setValue(16)  # the panel's spin box: one undo step through the document
    s = estimate(win.document.plan).serving
    assert win.serving_answers.answers.summary == s  # the figures of the edited plan, at once
    assert f"Longest context at 16 sequences {s.max_context_tokens:,} tokens" in _shown(win)
    win.serving_answers.settle()  # and the searches of the edited plan, a moment later
    assert win.serving_answers.answers.searches.options == tuple(quant_options(win.document.plan))
    win.document.undo_stack.undo()
    assert win.serving_answers.answers.summary == estimate(win.document.plan).serving
    assert "Longest context at 4 sequences" in _shown(win)


def test_use_best_format_is_one_undo_step(open_window):
    win = open_window("6b-rtx3060-int4")
    win.serving_panel.use_button.click()
    assert win.document.plan.serving.quant == "llm-int8" and win.document.undo_stack.count() == 1
    assert win.document.undo_stack.text(0) == "Use weight format llm-int8"


def test_formats_the_cards_cannot_run_are_ruled_out_with_the_reason(open_window):
    win = open_window("13b-a10-int4")  # an A10 is compute capability 8.6: no FP8 tensor cores
    ruled = {o.quant: o.note for o in quant_options(win.document.plan) if not o.supported}
    assert set(ruled) == {"fp8", "fp8-channel"}
    text = plain(win.serving_panel.ruled_out.text())
    assert text == f"Ruled out on these cards fp8-channel, fp8 : {ruled['fp8']}"  # one reason, said once
    combo = win.workload_panel.bindings["serving.quant"].widget
    fp8 = combo.findData("fp8")
    assert combo.itemText(fp8) == "fp8 (not on these cards)"
    assert combo.itemData(fp8, Qt.ItemDataRole.ToolTipRole) == ruled["fp8"]
    assert combo.itemText(combo.findData("int4-awq")) == "int4-awq"  # AWQ runs from 7.5


def test_a_training_plan_has_no_serving_panel_and_a_switch_shows_it(open_window, qtbot):
    win = open_window("article-13b-pp4-zero1-dp2")
    assert not win.serving_panel.isVisibleTo(win) and win.serving_answers.answers is None
    mode = win.workload_panel.bindings["mode"].widget
    mode.setCurrentIndex(mode.findData("serving"))
    mode.activated.emit(mode.currentIndex())
    assert win.serving_panel.isVisibleTo(win)
    assert win.serving_answers.answers.summary == estimate(win.document.plan).serving


def test_searches_are_remembered_per_plan(open_window):
    win = open_window("6b-rtx3060-int4")
    first = win.serving_answers.answers.searches
    document = win.document
    document.apply(set_field(document.plan, "serving.batch", 2), "Set batch")
    document.undo_stack.undo()
    assert win.serving_answers.answers.searches is first  # back on a known plan: no new search


def test_vllm_sampler_warmup_is_shown_where_it_sets_the_profile_peak(open_window):
    win = open_window("70b-4xh100-vllm")
    # the newest vLLM samples without a sort: 1,024 requests x V 32,000 x 14 B + the Triton buffer 132 x 32,000 x 4 B
    # + hidden states 2 B x (8,192 + 1,024) x 8,192 = 458,752,000 + 16,896,000 + 150,994,944 = 626,642,944 B, below
    # the 8,192-token forward at TP 4 (2 B x 8,192 x (3 x 8,192 + 3 x 28,672 / 4) = 754,974,720 B)
    assert "Sampler warm-up" not in _shown(win)
    document = win.document
    document.apply(set_field(document.plan, "serving.vllm_version", "0.15.1"), "Set vLLM release")
    win.serving_answers.settle()
    # vLLM 0.15.1 sorts: 1,024 requests x V 32,000 x 38 B + the hidden states = 1,245,184,000 + 150,994,944
    # = 1,396,178,944 B, above that forward
    assert "Sampler warm-up (vLLM) 1.40 GB" in _shown(win)
    spin = win.workload_panel.bindings["serving.max_num_seqs"].widget
    spin.setValue(32)  # the plan's 32 sequences: a 32-request warm-up is below the forward
    spin.editingFinished.emit()
    win.serving_answers.settle()
    assert "Sampler warm-up" not in _shown(win)


def test_a_moe_on_llama_cpp_shows_the_fewest_expert_layers_in_ram(open_window):
    win = open_window("6b-rtx3060-int4")
    qwen = find_model("qwen3-30b-a3b").spec  # 18.6 GB in Q4_K_M: more than the 12 GB card
    plan = set_field(set_field(set_field(win.document.plan, "model", qwen), "serving.runtime", "llamacpp"),
                     "serving.quant", "Q4_K_M")
    win.document.apply(plan, "moe")
    win.serving_answers.settle()
    m = fewest_cpu_moe_layers(win.document.plan)  # the engine's answer for the same plan
    assert m is not None and m.layers > 0
    text = _shown(win)
    assert f"Fewest expert layers in RAM that fit {m.layers}" in text
    assert f"--n-cpu-moe {m.layers}; system RAM {format_bytes(m.host_bytes, win.document.units)}" in text
    win.document.apply(set_field(win.document.plan, "model", find_model("llama-3.1-8b").spec), "dense")
    win.serving_answers.settle()
    assert "Fewest expert layers" not in _shown(win)  # dense: no experts to keep in RAM

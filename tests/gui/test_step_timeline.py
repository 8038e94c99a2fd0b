"""The selected card's step timeline: the plot shows the engine's moments and marks the peak at the card's total."""

from __future__ import annotations

import pytest

from engine import GB, Plan, build_grid
from engine.catalog import find_gpu, find_model
from engine.finetune.config import FinetuneConfig
from engine.plan.schema import load_plan
from engine.resources import resource_path
from engine.serving.config import ServingConfig
from gui.document import PlanDocument
from gui.step_timeline import StepTimelineView


def _view(qtbot, plan: Plan) -> tuple[PlanDocument, StepTimelineView]:
    document = PlanDocument(plan)
    view = StepTimelineView(document)
    qtbot.addWidget(view)
    return document, view


def test_stage_one_of_a_1f1b_pipeline_peaks_in_its_first_backward(qtbot):
    plan = load_plan(resource_path("templates", "13b-detailed-megatron.json"))
    document, view = _view(qtbot, plan)
    document.set_selection([plan.layout.cards[0].id])
    card = document.estimate.cards[0]
    bd = card.breakdown
    # 1F1B, 4 stages: stage 1 runs 4 warm-up forwards before its first backward
    assert [m.short for m in bd.timeline][:6] == ["start", "forward 1/4", "forward 2/4", "forward 3/4", "forward 4/4",
                                                  "backward"]
    assert bd.timeline[bd.peak_moment].short == "backward"
    assert "stage 1" in view.caption.text() and "backward of the first layer" in view.caption.text()
    xs, ys = view.peak_marker.getData()
    assert xs[0] == bd.peak_moment
    assert ys[0] == pytest.approx(card.total_bytes / GB, rel=1e-9)  # the marker sits at the card's figure
    document.set_selection([plan.layout.cards[-1].id])  # the last stage: one micro-batch in flight
    assert "stage 4" in view.caption.text()


def test_a_qlora_card_and_a_serving_card(qtbot):
    gpu = find_gpu("rtx4090")
    layout = build_grid(gpu=gpu.name, capacity_bytes=gpu.memory_bytes)
    qlora = Plan(mode="finetune", model=find_model("llama-2-7b").spec, layout=layout,
                 finetune=FinetuneConfig(method="qlora", seq=1024, micro_batch=2, gradient_checkpointing=True))
    document, view = _view(qtbot, qlora)
    assert "peak: loss over the logits" in view.caption.text()
    serving = Plan(mode="serving", model=find_model("llama-2-7b").spec, layout=layout, serving=ServingConfig())
    document, view = _view(qtbot, serving)
    assert "steady state" in view.caption.text()
    assert view.peak_marker.getData()[0].size == 0


def test_a_card_that_runs_out_at_the_first_optimizer_step_says_so(qtbot):
    """The 13B template's stage 1 on a card just below its figure: above what it needs before Adam's moments
    exist (created by the first optimizer step), below what it needs after."""
    plan = load_plan(resource_path("templates", "13b-detailed-megatron.json"))
    card = PlanDocument(plan).estimate.cards[0]
    first = card.breakdown.before_first_step
    assert first is not None and first.total_bytes < card.total_bytes
    capacity = (first.total_bytes + card.total_bytes) // 2
    layout = plan.layout.model_copy(update={"cards": tuple(c.model_copy(update={"capacity_bytes": capacity})
                                                           for c in plan.layout.cards)})
    document, view = _view(qtbot, plan.model_copy(update={"layout": layout}))
    document.set_selection([plan.layout.cards[0].id])
    assert "Until its first optimizer step the card needs" in view.caption.text()
    assert not document.estimate.fits and document.estimate.fits_before_first_step

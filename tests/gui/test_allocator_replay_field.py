"""The allocator reserve's source in the workload panel: a percentage, or (Megatron-LM 2021) PyTorch's caching
allocator replayed over the card's requests.  Driven through the real combos: each choice is one undo step,
the replay is offered only where it applies, and leaving Megatron-LM 2021 returns the reserve to its
percentage in the same edit."""

from __future__ import annotations

import pytest

from engine.plan.edits import fill_grid
from engine.training.memory.context import CardContext
from engine.training.memory.megatron2021_replay import megatron_2021_replay
from gui.document import PlanDocument
from gui.panels.plan_fields import set_field
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import load_template
from tests.gui.test_new_engine_fields import choose

MODEL_PATH, PERCENT_PATH = "method.overhead.fragmentation_model", "method.overhead.fragmentation_percent"


@pytest.fixture
def training(qtbot):
    plan = load_template("13b-detailed-megatron")
    plan = fill_grid(plan, [n.id for n in plan.layout.nodes], tp=2, pp=4, dp=1)
    plan = set_field(set_field(plan, "training.precision", "fp16"), "training.recompute", "full")
    plan = set_field(plan, "training.distributed_optimizer", False)  # Megatron-LM 2021 had no such thing
    document = PlanDocument(plan)
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def _fragmentation(document: PlanDocument) -> int:
    return next(f.bytes for f in document.estimate.cards[0].breakdown.details if f.key == "fragmentation")


def test_replay_is_offered_for_megatron_2021_only(training):
    document, panel = training
    replay = panel.bindings[MODEL_PATH].widget
    assert not replay.isEnabled()  # Megatron-LM today: the percentage
    choose(panel, "method.framework", "megatron-2021")
    assert replay.isEnabled() and panel.bindings[PERCENT_PATH].widget.isEnabled()
    steps = document.undo_stack.count()
    choose(panel, MODEL_PATH, "replay")
    assert document.plan.method.overhead.fragmentation_model == "replay"
    assert document.undo_stack.count() == steps + 1
    assert not panel.bindings[PERCENT_PATH].widget.isEnabled()  # the replay does not read it
    # the card's reserve is the replay's, to the byte
    plan = document.plan
    stage0 = tuple(range(plan.model.layers // 4))
    ctx = CardContext(model=plan.model, training=plan.training, method=plan.method, stage=0, stages=4, vpp=1,
                      layer_indices=stage0, tp=2, dp=1, cp=1, ep=1,
                      in_flight_chunks=document.estimate.cards[0].in_flight_microbatches, world=8)
    r = megatron_2021_replay(ctx)
    assert _fragmentation(document) == r.peak_reserved - r.peak_allocated


def test_leaving_megatron_2021_returns_the_reserve_to_its_percentage_in_one_step(training):
    document, panel = training
    choose(panel, "method.framework", "megatron-2021")
    choose(panel, MODEL_PATH, "replay")
    steps = document.undo_stack.count()
    choose(panel, "method.framework", "deepspeed")
    method = document.plan.method
    assert (method.framework, method.overhead.fragmentation_model) == ("deepspeed", "percent")
    assert document.undo_stack.count() == steps + 1
    assert not panel.bindings[MODEL_PATH].widget.isEnabled()
    document.undo_stack.undo()  # one step back: Megatron-LM 2021 with the replay again
    method = document.plan.method
    assert (method.framework, method.overhead.fragmentation_model) == ("megatron-2021", "replay")


@pytest.fixture
def finetune(qtbot):
    document = PlanDocument(load_template("7b-rtx4090-qlora"))  # QLoRA under PEFT on one RTX 4090
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def test_fine_tuning_offers_the_peft_replay(finetune):
    from engine.finetune.hf_trainer_replay import trainer_replay

    document, panel = finetune
    replay, percent = panel.bindings[MODEL_PATH].widget, panel.bindings[PERCENT_PATH].widget
    # by default (auto) one card under the Trainer takes the replay: the percentage does nothing
    assert document.plan.method.overhead.fragmentation_model == "auto"
    assert replay.isEnabled() and not percent.isEnabled()
    plan = document.plan
    assert _fragmentation(document) == trainer_replay(plan.model, plan.finetune).reserve
    steps = document.undo_stack.count()
    choose(panel, MODEL_PATH, "percent")
    assert percent.isEnabled() and document.undo_stack.count() == steps + 1
    choose(panel, MODEL_PATH, "replay")
    assert document.plan.method.overhead.fragmentation_model == "replay"
    assert document.undo_stack.count() == steps + 2
    assert not percent.isEnabled()
    assert _fragmentation(document) == trainer_replay(plan.model, plan.finetune).reserve


def test_a_fine_tuning_edit_the_replay_cannot_follow_returns_the_percentage_in_one_step(finetune):
    document, panel = finetune
    choose(panel, MODEL_PATH, "replay")
    steps = document.undo_stack.count()
    choose(panel, "finetune.framework", "litgpt")  # LitGPT's loop is not what the replay rebuilds
    assert (document.plan.finetune.framework, document.plan.method.overhead.fragmentation_model) == (
        "litgpt", "percent")
    assert document.undo_stack.count() == steps + 1
    assert not panel.bindings[MODEL_PATH].widget.isEnabled()
    assert document.estimate is not None and document.estimate.cards
    document.undo_stack.undo()
    assert (document.plan.finetune.framework, document.plan.method.overhead.fragmentation_model) == (
        "peft", "replay")

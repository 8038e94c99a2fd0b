"""FSDP in the workload panel: the training switch and the fine-tuning box, driven through the real widgets.

Each click is one undo step and leaves a valid plan: FSDP on sets ZeRO-3 (FSDP FULL_SHARD is ZeRO-3's
sharding), a ZeRO stage below 3 turns FSDP off.  The fine-tuning box shards a two-card plan's states.
"""

from __future__ import annotations

from engine.finetune.config import FinetuneConfig
from engine.model.spec import ModelSpec
from engine.plan.layout import build_grid
from engine.plan.schema import Plan
from engine.units import GiB
from gui.document import PlanDocument
from gui.panels.workload_panel import WorkloadPanel
from gui.templates import load_template
from tests.gui.test_new_engine_fields import choose

# 2 layers, hidden 256, 4 heads of 64, 2 KV heads, gated MLP 512, vocabulary 1,000: per layer q 65,536 + k, v
# 2 x 32,768 + o 65,536 + MLP 3 x 131,072 + norms 512 = 590,336; + embeddings, lm_head 2 x 256,000 + final
# norm 256 = 1,692,928 parameters, 3,385,856 B in bf16.
SMALL = ModelSpec(name="small", layers=2, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=1000,
                  gated_mlp=True, norm="rmsnorm", bias=False)


def panel_for(plan: Plan, qtbot) -> tuple[PlanDocument, WorkloadPanel]:
    document = PlanDocument(plan)
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def test_fsdp_sets_zero_3_and_a_lower_stage_turns_it_off(qtbot):
    document, panel = panel_for(load_template("13b-detailed-megatron"), qtbot)
    fsdp = panel.bindings["training.fsdp"].widget
    stage = document.plan.training.zero
    assert stage != 3 and not fsdp.isChecked()
    steps = document.undo_stack.count()
    fsdp.click()
    assert document.plan.training.fsdp and document.plan.training.zero == 3
    assert document.error is None and document.undo_stack.count() == steps + 1
    assert panel.bindings["training.zero"].widget.currentData() == 3  # the combo follows
    choose(panel, "training.zero", 2)
    assert not document.plan.training.fsdp and document.plan.training.zero == 2 and not fsdp.isChecked()
    assert document.error is None and document.undo_stack.count() == steps + 2
    document.undo_stack.undo()
    assert document.plan.training.fsdp and document.plan.training.zero == 3 and fsdp.isChecked()
    document.undo_stack.undo()
    assert not document.plan.training.fsdp and document.plan.training.zero == stage


def test_the_finetuning_box_shards_a_two_card_plan(qtbot):
    lora = FinetuneConfig(method="lora", rank=4, target_modules=("q", "v"), seq=512, micro_batch=1)
    document, panel = panel_for(Plan(name="ft", mode="finetune", model=SMALL, finetune=lora,
                                     layout=build_grid(dp=2, gpu="test", capacity_bytes=24 * GiB)), qtbot)
    box = panel.bindings["finetune.fsdp"].widget
    assert box.isEnabled() and not box.isChecked()
    whole = document.estimate.cards[0].breakdown.weights.bytes
    # 3,584 adapter parameters per layer (rank 4 on q 256 x 256 and v 128 x 256), fp32
    adapters = 4 * 2 * (4 * (256 + 256) + 4 * (128 + 256))
    assert whole == 3_385_856 + adapters
    box.click()
    assert document.plan.finetune.fsdp and document.error is None
    assert document.estimate.cards[0].breakdown.weights.bytes == 3_385_856 // 2 + adapters // 2
    document.undo_stack.undo()
    assert not document.plan.finetune.fsdp and document.estimate.cards[0].breakdown.weights.bytes == whole

"""The sliding window, llama.cpp's --swa-full and DeepSpeed's checkpoint switches in the panels.

Driven through the real widgets: each edit changes the plan and the estimate by the bytes derived by hand
below, is one undo step, and a switch that does nothing for the plan is greyed with a tooltip saying why.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox

from engine.model.spec import ModelSpec
from engine.plan.edits import fill_grid
from gui.document import PlanDocument
from gui.panels.model_panel import ModelPanel
from gui.panels.plan_fields import set_field
from gui.panels.workload_panel import (
    WorkloadPanel,
    checkpoint_switch_reasons,
    deepspeed_fp16_step_reason,
    swa_full_reason,
)
from gui.templates import load_template

# A Gemma-3-27B-like model (google/gemma-3-27b-pt config.json): 62 layers, 16 KV heads of 128, windows of
# 1024 tokens on 52 layers (5 local : 1 global).  It starts with no window; the test sets it in the panel.
GEMMA_LIKE = ModelSpec(name="gemma-like", layers=62, hidden=5376, heads=32, kv_heads=16, head_dim=128,
                       ffn=21504, vocab=262144, gated_mlp=True, norm="rmsnorm", bias=False,
                       tied_embeddings=True, qk_norm=True)

# KV per token and layer, fp16 cache: K and V x 16 KV heads x head_dim 128 x 2 B
PER_TOKEN_LAYER = 2 * 16 * 128 * 2  # = 8,192 B
CONTEXT = 8192
# llama.cpp's sliding-window cache: window 1024 + one ubatch (n_ubatch 512), padded to 256 cells
WINDOW_CELLS = -(-(1024 + 512) // 256) * 256  # = 1,536


def detail(document: PlanDocument, key: str) -> int | None:
    card = document.estimate.cards[0]
    return next((f.bytes for f in card.breakdown.details if f.key == key), None)


@pytest.fixture
def serving(qtbot):
    plan = load_template("6b-rtx4090-int4")  # one RTX 4090
    plan = set_field(plan, "model", GEMMA_LIKE)
    plan = set_field(set_field(plan, "serving.runtime", "llamacpp"), "serving.batch", 1)
    plan = set_field(plan, "serving.context", CONTEXT)
    document = PlanDocument(plan)
    model, workload = ModelPanel(document), WorkloadPanel(document)
    qtbot.addWidget(model)
    qtbot.addWidget(workload)
    return document, model, workload


def test_sliding_window_and_swa_full_through_the_panels(serving):
    document, model, workload = serving
    window, layers = model.bindings["model.sliding_window"].widget, model.bindings["model.sliding_window_layers"].widget
    swa_full = workload.bindings["serving.swa_full"].widget
    assert window.text() == "none" and document.plan.model.sliding_window is None
    assert not layers.isEnabled() and "sliding window" in layers.toolTip()
    assert not swa_full.isEnabled() and swa_full_reason(document.plan) in swa_full.toolTip()
    no_window_kv = document.estimate.cards[0].breakdown.kv_cache.bytes
    assert no_window_kv == 62 * CONTEXT * PER_TOKEN_LAYER
    steps = document.undo_stack.count()

    window.setValue(1024)  # a window on every layer: llama.cpp loads it as plain llama, whole context
    window.editingFinished.emit()
    assert document.plan.model.sliding_window == 1024 and document.undo_stack.count() == steps + 1
    assert layers.isEnabled() and not swa_full.isEnabled()
    assert document.estimate.cards[0].breakdown.kv_cache.bytes == no_window_kv

    layers.setValue(52)
    layers.editingFinished.emit()
    assert document.plan.model.sliding_window_layers == 52 and document.undo_stack.count() == steps + 2
    # 52 window layers x 1,536 cells x 8,192 B = 654,311,424 B; the 10 global layers keep the context
    assert detail(document, "kv_cache_window_layers") == 52 * WINDOW_CELLS * PER_TOKEN_LAYER == 654_311_424
    assert document.estimate.cards[0].breakdown.kv_cache.bytes == (10 * CONTEXT + 52 * WINDOW_CELLS) * PER_TOKEN_LAYER
    assert swa_full.isEnabled() and swa_full_reason(document.plan) == ""

    swa_full.click()  # --swa-full: every layer holds the whole context
    assert document.plan.serving.swa_full is True and document.undo_stack.count() == steps + 3
    assert detail(document, "kv_cache_window_layers") == 52 * CONTEXT * PER_TOKEN_LAYER
    assert document.estimate.cards[0].breakdown.kv_cache.bytes == no_window_kv

    document.undo_stack.undo()  # one step back: the window cache again
    assert document.plan.serving.swa_full is False and not swa_full.isChecked()
    assert detail(document, "kv_cache_window_layers") == 52 * WINDOW_CELLS * PER_TOKEN_LAYER
    document.undo_stack.undo()
    assert document.plan.model.sliding_window_layers is None and layers.text() == "all layers"
    document.undo_stack.undo()
    assert document.plan.model.sliding_window is None and window.text() == "none"
    assert document.estimate.cards[0].breakdown.kv_cache.bytes == no_window_kv


def test_swa_full_is_greyed_for_other_runtimes(serving):
    document, model, workload = serving
    document.apply(set_field(set_field(document.plan, "model.sliding_window", 1024),
                             "model.sliding_window_layers", 52), "window")
    swa_full = workload.bindings["serving.swa_full"].widget
    assert swa_full.isEnabled()
    usual = swa_full.toolTip()
    runtime = workload.bindings["serving.runtime"].widget
    runtime.setCurrentIndex(runtime.findData("vllm"))
    runtime.activated.emit(runtime.currentIndex())
    assert document.plan.serving.runtime == "vllm"
    assert not swa_full.isEnabled() and swa_full.toolTip().startswith(swa_full_reason(document.plan))
    assert "llama.cpp" in swa_full_reason(document.plan)
    document.undo_stack.undo()
    assert swa_full.isEnabled() and swa_full.toolTip() == usual


# 13B (hidden 5,120, 40 layers) on TP 2 x PP 4, seq 4,096, micro-batch 1, bf16, full recompute.  A layer
# checkpoint (the layer's input) is 2 B x 4,096 x 1 x 5,120 = 41,943,040 B on each TP rank; partitioned, half.
# Card 0 is on stage 0 of PP 4: 1F1B keeps 4 micro-batches x 10 layers = 40 checkpoints in flight, one of them
# being recomputed (its whole working set is counted instead), so 39 sit on the GPU.
CHECKPOINT = 2 * 4096 * 1 * 5120
PARTITION = CHECKPOINT // 2


@pytest.fixture
def training(qtbot):
    plan = load_template("13b-detailed-megatron")
    plan = fill_grid(plan, [n.id for n in plan.layout.nodes], tp=2, pp=4, dp=1)
    document = PlanDocument(set_field(plan, "method.framework", "deepspeed"))
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    return document, panel


def choose(panel: WorkloadPanel, path: str, value: str) -> None:
    combo = panel.bindings[path].widget
    combo.setCurrentIndex(combo.findData(value))
    combo.activated.emit(combo.currentIndex())


def test_deepspeed_switches_need_full_recompute(training):
    document, panel = training
    partition = panel.bindings["training.partition_activations"].widget
    in_cpu = panel.bindings["training.cpu_checkpointing"].widget
    assert document.plan.training.recompute == "none"
    assert not partition.isEnabled() and not in_cpu.isEnabled()
    reasons = checkpoint_switch_reasons(document.plan.training)
    assert partition.toolTip().startswith(reasons["training.partition_activations"])
    assert "full recompute" in reasons["training.partition_activations"]

    choose(panel, "training.recompute", "full")
    assert partition.isEnabled() and not in_cpu.isEnabled()
    assert in_cpu.toolTip().startswith(checkpoint_switch_reasons(document.plan.training)["training.cpu_checkpointing"])
    card = document.estimate.cards[0].breakdown
    full_acts = card.activations.bytes
    steps = document.undo_stack.count()

    partition.click()
    assert document.plan.training.partition_activations and document.undo_stack.count() == steps + 1
    assert in_cpu.isEnabled()
    # 39 checkpoints on the GPU, each now half: 39 x 20,971,520 B less
    assert document.estimate.cards[0].breakdown.activations.bytes == full_acts - 39 * PARTITION

    in_cpu.click()
    assert document.plan.training.cpu_checkpointing and document.undo_stack.count() == steps + 2
    card = document.estimate.cards[0].breakdown
    assert card.activations.bytes == full_acts - 39 * CHECKPOINT  # no checkpoint stays on the GPU
    assert card.host_bytes == 40 * PARTITION == 838_860_800  # this rank's 40 partitions in CPU memory

    document.undo_stack.undo()
    assert not document.plan.training.cpu_checkpointing and not in_cpu.isChecked()
    assert document.estimate.cards[0].breakdown.host_bytes == 0
    document.undo_stack.redo()

    partition.click()  # off with cpu_checkpointing on: both go, in one valid step
    assert not document.plan.training.partition_activations and not document.plan.training.cpu_checkpointing
    assert document.error is None and document.undo_stack.count() == steps + 3
    assert not in_cpu.isEnabled()
    document.undo_stack.undo()
    assert document.plan.training.partition_activations and document.plan.training.cpu_checkpointing


def test_recompute_away_from_full_turns_the_switches_off_in_one_step(training):
    document, panel = training
    plan = set_field(document.plan, "training.recompute", "full")
    plan = set_field(set_field(plan, "training.partition_activations", True), "training.cpu_checkpointing", True)
    document.apply(plan, "DeepSpeed checkpoints")
    steps = document.undo_stack.count()

    choose(panel, "training.recompute", "selective")
    training_config = document.plan.training
    assert training_config.recompute == "selective"
    assert not training_config.partition_activations and not training_config.cpu_checkpointing
    assert document.error is None and document.estimate is not None
    assert document.undo_stack.count() == steps + 1
    assert not panel.bindings["training.recompute"].error.isVisibleTo(panel)
    partition = panel.bindings["training.partition_activations"].widget
    assert not partition.isEnabled() and not partition.isChecked()

    document.undo_stack.undo()
    assert document.plan == plan
    assert partition.isEnabled() and partition.isChecked()
    assert panel.bindings["training.cpu_checkpointing"].widget.isChecked()


def test_vllm_release_picks_its_engine_in_one_step(qtbot):
    plan = load_template("6b-rtx4090-int4")
    plan = set_field(set_field(plan, "serving.runtime", "vllm"), "serving.max_model_len", 8192)
    plan = set_field(plan, "serving.prefill_chunk", 8192)  # V1's chunk as long as V0's max_model_len profile
    document = PlanDocument(plan)
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    release = panel.bindings["serving.vllm_version"].widget
    assert release.isEnabled() and release.currentData() is None  # the newest release
    pool_newest = document.estimate.serving.kv_pool_bytes
    steps = document.undo_stack.count()

    choose(panel, "serving.vllm_version", "0.6.4")  # before 0.8: the V0 engine, in the same edit
    assert document.plan.serving.vllm_version == "0.6.4" and document.plan.serving.vllm_engine == "v0"
    assert document.undo_stack.count() == steps + 1 and document.error is None
    assert panel.bindings["serving.vllm_engine"].widget.currentData() == "v0"
    # V0 profiles max_model_len (8,192 tokens, as V1's chunk here; V1's sampler warm-up, 256 requests x
    # 65,024 x 28 B, is below that forward) and leaves the 512 MiB of CUDA graphs outside
    assert document.estimate.serving.kv_pool_bytes - pool_newest == 512 * 2**20

    document.undo_stack.undo()
    assert document.plan.serving == plan.serving
    assert release.currentData() is None
    choose(panel, "serving.runtime", "llamacpp")
    assert not release.isEnabled()


def test_norms_per_layer_through_the_model_panel(qtbot):
    """A parallel block sharing one norm: one fewer RMSNorm weight per layer, one undo step.

    The 7B QLoRA template (Llama-2-7B, 32 layers, hidden 4,096) keeps its norms in bf16: 32 layers x 4,096 x 2 B
    = 262,144 B less weight on the card with norms_per_layer 1 instead of 2.
    """
    document = PlanDocument(load_template("7b-rtx4090-qlora"))
    model = ModelPanel(document)
    qtbot.addWidget(model)
    spin = model.bindings["model.norms_per_layer"].widget
    assert spin.value() == 2 and spin.minimum() == 1 and spin.maximum() == 4
    before = document.estimate.cards[0].breakdown.weights.bytes
    steps = document.undo_stack.count()
    spin.setValue(1)
    spin.editingFinished.emit()
    assert document.plan.model.norms_per_layer == 1 and document.undo_stack.count() == steps + 1
    assert before - document.estimate.cards[0].breakdown.weights.bytes == 32 * 4096 * 2 == 262_144
    document.undo_stack.undo()
    assert document.plan.model.norms_per_layer == 2


def test_parallel_residual_through_the_model_panel(qtbot):
    """The check box sets the field in one undo step (the LitGPT framework counts one norm input then)."""
    document = PlanDocument(load_template("7b-rtx4090-qlora"))
    model = ModelPanel(document)
    qtbot.addWidget(model)
    check = model.bindings["model.parallel_residual"].widget
    assert not check.isChecked() and not document.plan.model.parallel_residual
    steps = document.undo_stack.count()
    check.click()
    assert document.plan.model.parallel_residual and document.undo_stack.count() == steps + 1
    document.undo_stack.undo()
    assert not document.plan.model.parallel_residual and not check.isChecked()


def test_adapted_matrices_through_the_workload_panel(qtbot):
    """One check box per LoRA target; each toggle is one undo step, an empty set is refused inline.

    The 7B QLoRA template adapts all seven layer matrices at rank 16.  Adding lm_head (V 32,000 x h 4,096):
    16 x (32,000 + 4,096) = 577,536 more trainable parameters.
    """
    document = PlanDocument(load_template("7b-rtx4090-qlora"))
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    box = panel.bindings["finetune.target_modules"].widget
    checks = {c.text(): c for c in box.findChildren(QCheckBox)}
    assert list(checks) == ["q", "k", "v", "o", "gate", "up", "down", "lm_head"]
    assert [t for t, c in checks.items() if c.isChecked()] == ["q", "k", "v", "o", "gate", "up", "down"]
    before = document.estimate.finetune.trainable_parameters
    steps = document.undo_stack.count()
    checks["lm_head"].click()
    assert document.plan.finetune.target_modules[-1] == "head" and document.undo_stack.count() == steps + 1
    assert document.estimate.finetune.trainable_parameters - before == 16 * (32_000 + 4_096) == 577_536
    for name in ("q", "k", "v", "o", "gate", "up", "down", "lm_head"):
        checks[name].click()  # the last one would leave none: refused, shown under the field, box checked again
    assert document.plan.finetune.target_modules == ("head",) and checks["lm_head"].isChecked()
    assert panel.bindings["finetune.target_modules"].error.text() == (
        "Not accepted: expected a non-empty subset of q,k,v,o,gate,up,down,head.")
    document.undo_stack.undo()
    assert "down" in document.plan.finetune.target_modules


def test_deepspeed_fp16_step_through_the_workload_panel(training):
    document, panel = training
    step_choice = panel.bindings["method.deepspeed_fp16_optimizer"].widget
    assert document.plan.training.precision == "bf16"
    assert not step_choice.isEnabled()  # bf16 runs DeepSpeed's BF16_Optimizer: the choice does nothing
    assert step_choice.toolTip().startswith(deepspeed_fp16_step_reason(document.plan))
    choose(panel, "training.precision", "fp16")
    choose(panel, "training.zero", 0)
    assert document.plan.training.distributed_optimizer and not step_choice.isEnabled()  # the template shards
    panel.bindings["training.distributed_optimizer"].widget.click()
    assert not document.plan.training.distributed_optimizer and step_choice.isEnabled()
    params = document.estimate.cards[0].breakdown.weights.bytes // 2  # fp16 weights: 2 B per parameter
    # fused (the default): FP16_Optimizer flattens fp32 copies of every gradient: the copies + the flat buffer
    assert detail(document, "optimizer_step_temporaries") == 8 * params
    steps = document.undo_stack.count()
    choose(panel, "method.deepspeed_fp16_optimizer", "unfused")
    assert document.plan.method.deepspeed_fp16_optimizer == "unfused" and document.undo_stack.count() == steps + 1
    assert detail(document, "optimizer_step_temporaries") == 4 * params  # one fp32 .grad per parameter
    document.undo_stack.undo()
    assert document.plan.method.deepspeed_fp16_optimizer == "fused"
    assert step_choice.currentData() == "fused"


def test_bitsandbytes_release_through_the_workload_panel(qtbot):
    """QLoRA only; under LitGPT bitsandbytes 0.42.0 keeps each 4-bit linear's input, one undo step.

    The 7B QLoRA template switched to LitGPT without checkpointing: per layer the two norm outputs, the output
    projection's and the down projection's inputs, 2 B x (4,096 + 4,096 + 4,096 + 11,008) x 4 x 2,048 tokens, are
    kept; with the previous micro-batch's (LitGPT's loop holds its graph) the peak rises by at least that.
    """
    document = PlanDocument(load_template("7b-rtx4090-qlora"))
    document.apply(set_field(document.plan, "finetune.framework", "litgpt"), "Set framework")
    document.apply(set_field(document.plan, "finetune.gradient_checkpointing", False), "Set checkpointing")
    panel = WorkloadPanel(document)
    qtbot.addWidget(panel)
    combo = panel.bindings["finetune.bnb_version"].widget
    assert combo.isEnabled() and combo.currentText() == "0.43.2 or later"
    before = document.estimate.cards[0].breakdown.total_bytes
    steps = document.undo_stack.count()
    choose(panel, "finetune.bnb_version", "0.42.0")
    assert document.plan.finetune.bnb_version == "0.42.0" and document.undo_stack.count() == steps + 1
    kept = 32 * 2 * (4_096 + 4_096 + 4_096 + 11_008) * 4 * 2_048
    assert document.estimate.cards[0].breakdown.total_bytes - before >= kept
    document.undo_stack.undo()
    assert document.plan.finetune.bnb_version is None
    choose(panel, "finetune.method", "lora")
    assert not combo.isEnabled()

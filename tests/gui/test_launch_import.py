"""Pasting Megatron-LM flags in the import dialog gives the plan they describe."""

from __future__ import annotations

from engine.model.params import parameter_count
from gui.launch_import import LaunchImportDialog
from gui.templates import default_plan

LLAMA2_7B_ARGS = """
torchrun --nproc_per_node 8 pretrain_gpt.py \\
  --tensor-model-parallel-size 2 --pipeline-model-parallel-size 2 \\
  --num-layers 32 --hidden-size 4096 --num-attention-heads 32 --ffn-hidden-size 11008 \\
  --swiglu --normalization RMSNorm --disable-bias-linear --untie-embeddings-and-output-weights \\
  --position-embedding-type rope --vocab-size 32000 --hidden-dropout 0 --attention-dropout 0 \\
  --seq-length 4096 --micro-batch-size 1 --global-batch-size 64 --bf16 --lr 3e-4
"""


def test_megatron_args_import(qtbot):
    dialog = LaunchImportDialog(default_plan().model, "A100 80GB")
    qtbot.addWidget(dialog)
    dialog.text.setPlainText(LLAMA2_7B_ARGS)
    dialog.try_accept()
    assert dialog.imported is not None
    plan = dialog.imported.plan
    # Llama-2-7B: 6,738,415,616 parameters (published); 8 GPUs = TP 2 x PP 2 x DP 2
    assert parameter_count(plan.model) == 6_738_415_616
    assert len(plan.layout.cards) == 8
    assert "--lr" in dialog.imported.ignored


def test_bad_paste_shows_inline_error(qtbot):
    dialog = LaunchImportDialog(default_plan().model, "A100 80GB")
    qtbot.addWidget(dialog)
    dialog.text.setPlainText("--num-layers 32")
    dialog.try_accept()
    assert dialog.imported is None
    assert dialog.error.isVisibleTo(dialog) and "--hidden-size" in dialog.error.text()

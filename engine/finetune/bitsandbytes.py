"""What a bitsandbytes release keeps for the backward of a 4-bit linear layer (QLoRA).

``MatMul4Bit`` (bitsandbytes/autograd/_functions.py) computes ``x @ dequantize_4bit(W)`` and keeps
what its backward needs on ``ctx``.  Its backward only needs the weight (the input's gradient is
``grad @ W``; the frozen 4-bit weight has no gradient), but every release before 0.43.2 also kept
the input: ``ctx.tensors = (A, B)``.  Pull request 1270 ("fix QLoRA mem bug: delete useless buffered
activation", commit 9e75374, first in 0.43.2, July 2024) changed it to ``(None, B)``; the maintainer
called it "the bug that caused a lot of memory issues with QLoRA".

Because the input is a plain ``ctx`` attribute, not a tensor given to ``save_for_backward``, the
backward does not release it: it lives as long as the autograd graph does, i.e. until the last
reference to the graph's outputs goes.  A training loop that keeps the previous micro-batch's outputs
bound while it runs the next forward (LitGPT's ``logits = model(...)``) holds those inputs through the
next forward too.
"""

from __future__ import annotations

from engine.releases import parse_release

# Releases whose behaviour differs, newest first (the GUI offers these; any release parses).
BNB_RELEASES = ("0.43.2", "0.43.1", "0.42.0", "0.41.1", "0.41.0")
FIRST_RELEASE_DROPPING_INPUTS = (0, 43, 2)  # bitsandbytes PR 1270


def parse_bnb_version(text: str) -> tuple[int, int, int]:
    """``"0.42.0"``, ``"0.43.3.post1"`` or ``"v0.41"`` -> ``(0, 42, 0)``; anything else is a :class:`PlanError`."""
    return parse_release(text, "finetune.bnb_version", "a bitsandbytes release such as 0.42.0 or 0.43.3")


def keeps_linear_inputs(version: str | None) -> bool:
    """Whether ``MatMul4Bit`` of bitsandbytes ``version`` (None: a current release) keeps its input."""
    return version is not None and parse_bnb_version(version) < FIRST_RELEASE_DROPPING_INPUTS


def qlora_keeps_inputs(method: str, version: str | None) -> bool:
    """A fine-tuning ``method`` that is QLoRA on a bitsandbytes release whose 4-bit linears keep their inputs."""
    return method == "qlora" and keeps_linear_inputs(version)

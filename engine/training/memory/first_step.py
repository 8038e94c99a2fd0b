"""A card before its optimizer's first step: optimizers that create their state in that step.

PyTorch's optimizers create their per-parameter state in their first ``step()``
(``torch.optim.Adam``/``AdamW`` ``_init_group``: ``exp_avg``/``exp_avg_sq`` = ``torch.zeros_like(p)``
when ``len(state) == 0``; ``torch.optim.SGD`` its ``momentum_buffer``), and so do apex's and
Transformer Engine's ``FusedAdam``, which Megatron-LM wraps.  Until then the card holds no moments:
the run starts, its forward and backward pass, and the first optimizer step that runs adds them.
In fp16 the dynamic loss scale skips the step while gradients overflow (Megatron-LM starts it at
2^32 and halves it per overflow; ``torch.amp.GradScaler`` at 2^16), so that step can come several
iterations in; each skipped iteration already holds everything else of the step.

DeepSpeed is the exception: every ZeRO stage and its fp16/bf16 wrappers call
``initialize_optimizer_states()`` from their constructor, an optimizer step on zero gradients "to
allocate internal optimizer state ... at the beginning of training instead of after activations have
been allocated" (``deepspeed/runtime/bf16_optimizer.py``, ``zero/stage_1_and_2.py``, ``zero/stage3.py``).
Megatron-Core's distributed optimizer does the same only when it loads a distributed checkpoint
(``_init_optimizer_states_with_dummy_values``): this figure is for a run that starts fresh.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.report.formatting import n
from engine.report.records import BeforeFirstStep, Moment
from engine.training.memory.context import CardContext

# Frameworks whose optimizer creates its state in its first step (see the module's docstring).
LAZY_STATE_FRAMEWORKS = frozenset({"megatron", "megatron-2021", "huggingface"})
OPTIMIZER_STEP = "optimizer step"  # the Moment.short of step_timeline's optimizer step


def before_first_step(ctx: CardContext, timeline: tuple[Moment, ...], state_bytes: int,
                      overhead_of: Callable[[int], int]) -> BeforeFirstStep | None:
    """The card's figure until its optimizer first steps, or None where the state exists from start-up
    (DeepSpeed), lives in host memory (offload) or is empty.

    Every moment but the optimizer step holds ``state_bytes`` less (the optimizer states' part of each
    moment); ``overhead_of(visible)`` is the card's overhead on ``visible`` allocated bytes."""
    if ctx.method.framework not in LAZY_STATE_FRAMEWORKS or state_bytes <= 0:
        return None
    before = [m for m in timeline if m.short != OPTIMIZER_STEP]
    if not before:
        return None
    highest = max(before, key=lambda m: m.total_bytes)
    visible = highest.total_bytes - state_bytes
    overhead = overhead_of(visible)
    state = "momentum" if ctx.training.optimizer == "sgd" else "Adam moments"
    formula = (f"{highest.label}: {n(highest.total_bytes)} B allocated - {state} {n(state_bytes)} B "
               f"(created by the first optimizer step) + overhead {n(overhead)} B = {n(visible + overhead)} B")
    return BeforeFirstStep(visible + overhead, state_bytes, highest.label, formula)

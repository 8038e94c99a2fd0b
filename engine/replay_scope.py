"""Which plans the allocator replay (``method.overhead.fragmentation_model`` replay) can rebuild."""

from __future__ import annotations

from engine.finetune.config import FinetuneConfig
from engine.finetune.hf_trainer_replay import trainer_replay_problem
from engine.plan.schema import Plan


def allocator_replay_problem(plan: Plan) -> str | None:
    """Why ``plan`` cannot take the replayed reserve (None: it can).

    Training: the megatron-2021 framework (each card's own limits are checked when it is estimated,
    :func:`engine.training.memory.megatron2021_replay.replay_problem`).  Fine-tuning: the Hugging Face Trainer
    on one card, LoRA or QLoRA under PEFT or full fine-tuning in pure 16 bits
    (:func:`engine.finetune.hf_trainer_replay.trainer_replay_problem`).  Serving has no step to replay.
    """
    if plan.mode == "serving":
        return "a training or fine-tuning plan"
    if plan.mode == "finetune":
        problem = trainer_replay_problem(plan.model, plan.finetune or FinetuneConfig())
        if problem is None and len(plan.layout.cards) > 1:
            return "one card (this plan has several)"
        return problem
    if plan.method.framework != "megatron-2021":
        return f"the megatron-2021 framework (this plan uses {plan.method.framework})"
    return None

"""Which plans the allocator replay (``method.overhead.fragmentation_model`` replay) can rebuild, and where the
default (``auto``) takes it."""

from __future__ import annotations

from engine.finetune.config import FinetuneConfig
from engine.finetune.hf_trainer_replay import trainer_replay_problem
from engine.plan.schema import Plan


def allocator_replay_problem(plan: Plan) -> str | None:
    """Why ``plan`` cannot take the replayed reserve (None: it can).

    Training: the megatron-2021 framework (each card's own limits are checked when it is estimated,
    :func:`engine.training.memory.megatron2021_replay.replay_problem`).  Fine-tuning: the Hugging Face Trainer
    on one card or on cards FSDP shards over (:mod:`engine.finetune.fsdp_replay`), LoRA or QLoRA under PEFT or
    full fine-tuning in pure 16 bits (:func:`engine.finetune.hf_trainer_replay.trainer_replay_problem`).
    Serving has no step to replay.
    """
    if plan.mode == "serving":
        return "a training or fine-tuning plan"
    if plan.mode == "finetune":
        cfg = plan.finetune or FinetuneConfig()
        problem = trainer_replay_problem(plan.model, cfg)
        if problem is None and len(plan.layout.cards) > 1 and not cfg.fsdp:
            return "one card, or cards FSDP shards over (this plan has several without finetune.fsdp)"
        return problem
    if plan.method.framework != "megatron-2021":
        return f"the megatron-2021 framework (this plan uses {plan.method.framework})"
    return None


def replays_by_default(plan: Plan) -> bool:
    """Whether ``plan``'s reserve is the allocator replay: asked for (``replay``), or by default (``auto``) for
    fine-tuning under the Hugging Face Trainer on one card or FSDP-sharded cards, the plans the Trainer replay
    rebuilds.  There the flat percentage is far from what the runs reserve: against nvidia-smi in
    fms-acceleration's Trainer tables (Mistral-7B and PowerLM-3B, full, LoRA and QLoRA on one A100) 5 % is low
    by 5 to 25 %, the replay within -7 to +9 %; on two A100s under FSDP 5 % is low by 15 to 31 %, the replay by
    2.5 to 6.5 % (docs/validation.md).  Training keeps the percentage under ``auto`` (the layout search prices it)."""
    model = plan.method.overhead.fragmentation_model
    if model == "replay":
        return True
    return model == "auto" and plan.mode == "finetune" and allocator_replay_problem(plan) is None

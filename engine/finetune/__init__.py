"""Fine-tuning memory: full fine-tuning (the training engine), LoRA and QLoRA.

Entry point: :func:`engine.finetune.estimate.finetune_estimate` (``estimate(plan)``
dispatches to it for ``plan.mode == "finetune"``).
"""

"""Fine-tuning figures for the JSON report (the ``finetune`` object)."""

from __future__ import annotations

from dataclasses import asdict

from engine.finetune.summary import FinetuneSummary


def finetune_json(s: FinetuneSummary) -> dict:
    out = asdict(s)
    out["target_modules"] = list(s.target_modules)
    return out

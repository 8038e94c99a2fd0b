"""Serving memory: quantized weights, KV cache, workspace and runtime overheads per card.

Entry point: :func:`engine.serving.estimate.serving_estimate` (``estimate(plan)``
dispatches to it for ``plan.mode == "serving"``); direct answers (longest
context, most sequences, best quantization, cheapest card) live in
:mod:`engine.serving.answers`.
"""

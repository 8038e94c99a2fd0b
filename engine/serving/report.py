"""Serving figures for the JSON report and the readable summary lines.

Top-level JSON keys (stable, issue 3): ``weight_bytes``, ``kv_bytes_per_token``,
``host_bytes``, ``max_context_tokens`` and, for runtimes with a KV pool (vLLM,
TensorRT-LLM), ``kv_pool_tokens``; the rest of the summary under ``serving``.
"""

from __future__ import annotations

from dataclasses import asdict

from engine.plan.schema import Plan
from engine.report.records import CardEstimate, Estimate
from engine.serving.summary import ServingSummary
from engine.units import Unit, format_bytes


def summary_json(s: ServingSummary) -> dict:
    out = {
        "weight_bytes": s.weight_bytes, "kv_bytes_per_token": s.kv_bytes_per_token, "host_bytes": s.host_bytes,
        "max_context_tokens": s.max_context_tokens, "serving": asdict(s),
    }
    if s.kv_pool_tokens is not None:
        out["kv_pool_tokens"] = s.kv_pool_tokens
    return out


def answers_json(plan: Plan, best_quant: bool, cheapest_gpu: bool, fewest_cpu_moe: bool = False) -> dict:
    from engine.serving.answers import cheapest_gpu as find_cheapest
    from engine.serving.answers import fewest_cpu_moe_layers, quant_options

    out: dict = {}
    if best_quant:
        options = quant_options(plan)
        q = next((o for o in options if o.fits and o.supported), None)
        out["best_quant"] = None if q is None else {
            "quant": q.quant, "weight_bytes": q.weight_bytes, "total_bytes": q.worst_total_bytes,
            "headroom_bytes": q.worst_headroom_bytes, "note": q.note}
        out["ruled_out_quants"] = [{"quant": o.quant, "reason": o.note} for o in options if not o.supported]
    if cheapest_gpu:
        g = find_cheapest(plan)
        out["cheapest_gpu"] = None if g is None else {
            "gpu": g.gpu.name, "memory_bytes": g.gpu.memory_bytes, "price_usd_per_hour": g.gpu.price_usd_per_hour,
            "total_bytes": g.total_bytes, "headroom_bytes": g.headroom_bytes}
    if fewest_cpu_moe:
        m = fewest_cpu_moe_layers(plan)
        out["fewest_cpu_moe_layers"] = None if m is None else {
            "layers": m.layers, "total_bytes": m.total_bytes, "headroom_bytes": m.headroom_bytes,
            "host_bytes": m.host_bytes}
    return out


def serving_lines(est: Estimate, unit: Unit, answers: dict) -> list[str]:
    s = est.serving
    if s is None:
        return []
    lines = [
        f"weights, whole model ({s.quant}, {s.bits_per_weight:.4g} bpw base): {format_bytes(s.weight_bytes, unit)}",
        f"KV cache ({s.kv_dtype}) per token, whole model: {s.kv_bytes_per_token:,} B",
        f"longest context at batch {s.batch}: {s.max_context_tokens:,} tokens",
        f"most concurrent sequences at context {s.context:,}: {s.max_batch:,}",
    ]
    if s.kv_pool_tokens is not None:
        lines.append(f"KV pool ({s.runtime}): {s.kv_pool_tokens:,} tokens, {format_bytes(s.kv_pool_bytes or 0, unit)};"
                     " headroom is the pool's free part")
        worst = est.worst_card
        unused = next((f for f in worst.breakdown.details if f.key == "unreserved"), None) if worst else None
        if unused is not None and unused.bytes:
            lines.append(f"overhead includes {format_bytes(unused.bytes, unit)} {unused.label}")
        line = warmup_line(est, unit)
        if line:
            lines.append(line)
    if s.host_bytes:
        lines.append(f"system RAM for offloaded parts: {format_bytes(s.host_bytes, unit)}")
    if "best_quant" in answers:
        q = answers["best_quant"]
        lines.append("least aggressive format that fits: " + ("none" if q is None else
                     f"{q['quant']} (weights {format_bytes(q['weight_bytes'], unit)})"
                     + (f"; {q['note']}" if q["note"] else "")))
        for r in answers.get("ruled_out_quants", []):
            lines.append(f"  ruled out {r['quant']}: {r['reason']}")
    if "cheapest_gpu" in answers:
        g = answers["cheapest_gpu"]
        lines.append("cheapest catalog card that fits: " + ("none" if g is None else
                     f"{g['gpu']} ({format_bytes(g['memory_bytes'], unit)})"))
    if "fewest_cpu_moe_layers" in answers:
        m = answers["fewest_cpu_moe_layers"]
        lines.append("fewest layers with their experts in system RAM that fit (--n-cpu-moe): " + (
            "none (not a llama.cpp plan of a mixture of experts, or too large even with every layer's experts "
            "in RAM)" if m is None else f"{m['layers']} (fullest card {format_bytes(m['total_bytes'], unit)}, "
                              f"system RAM {format_bytes(m['host_bytes'], unit)})"))
    return lines


PERSISTENT_PROFILE_KEYS = ("pipeline_receive_buffers", "moe_workspace")  # detail figures kept through vLLM's profile


def sampler_warmup_of(card: CardEstimate | None) -> tuple[int, bool] | None:
    """(bytes of vLLM's sampler warm-up on ``card``, whether its profile peaks there), or None without one."""
    if card is None:
        return None
    warm = next((f for f in card.breakdown.details if f.key == "sampler_warmup"), None)
    if warm is None:
        return None
    bd = card.breakdown
    # buffers kept through the whole profile sit on top of whichever moment peaks
    kept = sum(f.bytes for f in bd.details if f.key in PERSISTENT_PROFILE_KEYS)
    return warm.bytes, warm.bytes + kept == bd.activations.bytes + bd.logits.bytes


def warmup_line(est: Estimate, unit: Unit) -> str:
    """What vLLM's sampler warm-up takes on the worst card, and whether its profile peaks there ("" if none)."""
    warm = sampler_warmup_of(est.worst_card)
    if warm is None:
        return ""
    size, peaks = warm
    if peaks:
        return (f"vLLM's profile peaks in its sampler warm-up: {format_bytes(size, unit)} (every request's "
                "logits over the whole vocabulary), above its forward; --max-num-seqs lowers it")
    return f"vLLM's sampler warm-up: {format_bytes(size, unit)}, below its profile's forward"

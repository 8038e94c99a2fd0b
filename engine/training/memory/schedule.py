"""Pipeline schedules: how many micro-batches' activations a stage holds at its peak."""

from __future__ import annotations

from engine.errors import PlanError


def stage_layer_indices(layers: int, stages: int, pp_layers: tuple[int, ...] | None, vpp: int) -> list[tuple[int, ...]]:
    """Layer indices held by each stage.

    Without interleaving stage k holds a contiguous block.  With ``vpp`` chunks,
    the model is cut into ``stages * vpp`` equal chunks and stage k holds
    chunks k, k + PP, k + 2 PP ... (Megatron's interleaved assignment).
    """
    if pp_layers is not None:
        if len(pp_layers) != stages:
            raise PlanError("layout.pp_layers", ",".join(map(str, pp_layers)), f"{stages} numbers, one per pipeline stage")
        if any(n < 1 for n in pp_layers):
            raise PlanError("layout.pp_layers", ",".join(map(str, pp_layers)), "at least one layer on every stage")
        if sum(pp_layers) != layers:
            raise PlanError("layout.pp_layers", ",".join(map(str, pp_layers)), f"numbers summing to layers={layers}")
        if vpp > 1:
            raise PlanError("layout.vpp", vpp, "1 when an uneven pp_layers split is given")
        out, start = [], 0
        for n in pp_layers:
            out.append(tuple(range(start, start + n)))
            start += n
        return out
    chunks = stages * vpp
    if layers % chunks:
        if vpp > 1:
            raise PlanError("layout.vpp", vpp, f"a value where PP x vpp = {chunks} divides layers={layers}")
        raise PlanError("layout.pp", stages, f"a divisor of layers={layers}, or an uneven split in pp_layers (e.g. --pp-layers)")
    per_chunk = layers // chunks
    return [
        tuple(i for c in range(vpp) for i in range((c * stages + k) * per_chunk, (c * stages + k + 1) * per_chunk))
        for k in range(stages)
    ]


def in_flight_chunks(stage: int, stages: int, microbatches: int, vpp: int) -> int:
    """Forward chunk passes alive on ``stage`` (0-based) at its activation peak.

    1F1B (vpp = 1): stage k runs PP - k warm-up forwards before its first
    backward, so it holds min(PP - k, m) micro-batches (the article's
    PP - k + 1 with 1-based k).  Interleaved 1F1B (vpp > 1): Megatron's
    warm-up is (PP - k - 1) * 2 + (vpp - 1) * PP chunk forwards, plus the one
    in steady state; for stage 0 that is PP * (1 + (PP - 1) / (PP * vpp)) micro-
    batches' worth of layers, Megatron's ``interleaved_schedule_memory_penalty``.
    """
    if stages == 1:
        return vpp
    if vpp == 1:
        return min(stages - stage, microbatches)
    warmup = (stages - stage - 1) * 2 + (vpp - 1) * stages
    return min(warmup + 1, microbatches * vpp)

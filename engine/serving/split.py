"""Which layers each pipeline stage (card, or TP group) serves; what llama.cpp leaves on the host.

llama.cpp (``llama_model::load_tensors``): the output layer is unit ``n_layer``
after the blocks, and the last ``act = min(n_gpu_layers, n_layer + 1)`` units
are offloaded from ``i_gpu_start = max(n_layer + 1 - n_gpu_layers, 0)``: the
output layer first (ggml-org/llama.cpp PR 18148, December 2025).  Earlier builds
started at ``max(n_layer - n_gpu_layers, 0)``, so the output layer went to a card
only with every block (``output_layer_first`` off).  The token embedding always
stays in system RAM.  Offloaded unit ``j`` of ``act`` goes to the first device
whose cumulative normalised ``--tensor-split`` share exceeds ``j / act`` (the
default split is proportional to each device's memory).

Other runtimes put every layer on a GPU: an explicit ``pp_layers`` split, else a
``tensor_split`` applied the same way, else an even split with the remainder on
the first stages.  The embedding lives on the first stage, the output layer on
the last.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from engine.errors import PlanError


@dataclass(frozen=True, slots=True)
class StageSplit:
    layers: tuple[tuple[int, ...], ...]  # layer indices per stage
    embedding_stage: int | None  # None: in system RAM
    output_stage: int | None  # None: in system RAM
    host_layers: tuple[int, ...]  # layers left in system RAM (llama.cpp partial offload)
    host_expert_layers: tuple[int, ...] = ()  # layers on a card whose routed experts stay in RAM (--n-cpu-moe)


def _proportional(units: int, shares: tuple[float, ...]) -> list[int]:
    """Stage of each of ``units`` units, llama.cpp's upper_bound over cumulative shares."""
    total = sum(shares)
    cum = [c / total for c in accumulate(shares)]
    last = len(shares) - 1
    return [min(bisect_right(cum, j / units), last) for j in range(units)]


def _checked_shares(shares: tuple[float, ...], stages: int, field: str) -> tuple[float, ...]:
    if len(shares) != stages:
        raise PlanError(field, ",".join(f"{s:g}" for s in shares), f"{stages} values, one per card / stage")
    return shares


def _explicit(pp_layers: tuple[int, ...], layers: int, stages: int) -> list[tuple[int, ...]]:
    text = ",".join(map(str, pp_layers))
    if len(pp_layers) != stages:
        raise PlanError("layout.pp_layers", text, f"{stages} numbers, one per stage")
    if any(k < 0 for k in pp_layers) or sum(pp_layers) != layers:
        raise PlanError("layout.pp_layers", text, f"non-negative numbers summing to layers={layers}")
    out, start = [], 0
    for k in pp_layers:
        out.append(tuple(range(start, start + k)))
        start += k
    return out


def split_layers(layers: int, stages: int, *, pp_layers: tuple[int, ...] | None, shares: tuple[float, ...] | None,
                 capacities: tuple[int, ...], llamacpp: bool, gpu_layers: int | None,
                 output_first: bool = True) -> StageSplit:
    if not llamacpp:
        if pp_layers is not None:
            per = _explicit(pp_layers, layers, stages)
        elif shares is not None:
            owner = _proportional(layers, _checked_shares(shares, stages, "serving.tensor_split"))
            per = [tuple(i for i in range(layers) if owner[i] == k) for k in range(stages)]
        else:
            base, extra = divmod(layers, stages)
            counts = [base + (1 if k < extra else 0) for k in range(stages)]
            per = _explicit(tuple(counts), layers, stages)
        return StageSplit(tuple(per), 0, stages - 1, ())
    ngl = layers + 1 if gpu_layers is None else gpu_layers
    act = min(ngl, layers + 1)
    start = max(layers + 1 - ngl, 0) if output_first else max(layers - ngl, 0)
    if pp_layers is not None and gpu_layers is None:
        per = _explicit(pp_layers, layers, stages)
        return StageSplit(tuple(per), None, stages - 1, ())
    weights = _checked_shares(shares, stages, "serving.tensor_split") if shares is not None else capacities
    owner = _proportional(act, tuple(float(w) for w in weights)) if act else []
    per_stage: list[list[int]] = [[] for _ in range(stages)]
    output_stage = None
    for j, stage in enumerate(owner):
        layer = start + j
        if layer == layers:
            output_stage = stage
        else:
            per_stage[stage].append(layer)
    return StageSplit(tuple(tuple(p) for p in per_stage), None, output_stage, tuple(range(min(start, layers))))

"""What llama.cpp keeps in system RAM, and what it stages from there into the first card's compute buffer.

**Experts on the CPU** (``--n-cpu-moe N``, ggml-org/llama.cpp PR 15077; ``--cpu-moe`` is every layer): for each
layer ``i < N`` a tensor-buffer override sends the tensors matching ``blk.i.ffn_(up|down|gate|gate_up)_(ch|)exps``
to the CPU buffer type (``common/common.h``, ``llm_ffn_exps_block_regex``).  That pattern is the routed experts'
stacked weights (and biases, gpt-oss); the router (``ffn_gate_inp``), the shared experts (``ffn_*_shexp``),
attention and norms stay with the layer on its card.

**Staged weights.**  A weight left in system RAM, by ``--n-gpu-layers`` below the model's layers + 1 or by the
override above, is still multiplied on the card for a batch of 32 tokens or more: the scheduler gives such an op
to the first backend whose ``offload_op`` takes it (``ggml_backend_sched_backend_id_from_cur``; CUDA's
``ggml_backend_cuda_device_offload_op``: batch >= 32) and copies the weight into that backend's compute buffer
(PR 6083: "the weights are now copied to VRAM in the compute buffer ... the size of the compute buffers will
increase significantly when offloading a model partially").  Every such weight starts a split of its own
(``ggml_backend_sched_split_graph``: "by starting a new split, the memory of the previously offloaded weights can
be reused"), so the buffer holds one staged weight at a time, and it is sized for the largest, whole: the graph is
reserved before any routing is known (PR 15346 later copies only the experts a batch uses, into the same space).
An output layer in system RAM is staged together with the f32 logits it writes.  The token embedding is read by
``GET_ROWS``, which is never offloaded.  llama.cpp reserves its graph for a full ubatch, so this applies whenever
``n_ubatch`` is 32 or more, and only on the first card (the highest-priority backend).
"""

from __future__ import annotations

from functools import lru_cache

from engine.errors import PlanError
from engine.model.spec import ModelSpec
from engine.report.formatting import n
from engine.weights.quant import QuantScheme, tensor_bytes
from engine.weights.tensors import Tensor, layer_tensors, output_matrix

OFFLOAD_MIN_BATCH = 32  # ggml-cuda.cu ggml_backend_cuda_device_offload_op: min_batch_size


def expert_layers_on_host(spec: ModelSpec, cpu_moe_layers: int | None, host_layers: tuple[int, ...]) -> tuple[int, ...]:
    """MoE layers whose routed experts ``--n-cpu-moe`` keeps in system RAM (a layer wholly in RAM is not counted
    twice)."""
    if cpu_moe_layers is None or cpu_moe_layers == 0:
        return ()
    if spec.moe is None:
        raise PlanError("serving.cpu_moe_layers", cpu_moe_layers,
                        "a mixture-of-experts model (this one has no routed experts to keep in system RAM)")
    if cpu_moe_layers > spec.layers:
        raise PlanError("serving.cpu_moe_layers", cpu_moe_layers, f"at most the model's layers={spec.layers}")
    on_host = set(host_layers)
    return tuple(i for i in range(cpu_moe_layers) if spec.is_moe_layer(i) and i not in on_host)


def _experts(spec: ModelSpec, layer: int) -> list[Tensor]:
    return [t for t in layer_tensors(spec)[layer] if t.is_routed_expert]


def expert_bytes(scheme: QuantScheme, spec: ModelSpec, layer: int) -> int:
    """Bytes of one layer's routed experts (weights and biases) in ``scheme``."""
    return sum(tensor_bytes(scheme, t, spec, 1) for t in _experts(spec, layer))


@lru_cache(maxsize=256)  # bounded; the answer searches ask it for every candidate context
def staged_weight(scheme: QuantScheme, spec: ModelSpec, host_layers: tuple[int, ...],
                  expert_layers: tuple[int, ...], output_on_host: bool, ubatch: int) -> tuple[int, str]:
    """(bytes, formula) of the largest weight llama.cpp stages into the first card's compute buffer; (0, "")
    when nothing in system RAM is multiplied on the card."""
    if ubatch < OFFLOAD_MIN_BATCH:
        return 0, ""
    best, what = 0, ""
    for i in host_layers:
        for t in layer_tensors(spec)[i]:
            if t.is_matrix:
                size = tensor_bytes(scheme, t, spec, 1)
                if size > best:
                    best, what = size, f"layer {i} {t.name}"
    for i in expert_layers:
        for t in _experts(spec, i):
            if t.is_matrix:
                size = tensor_bytes(scheme, t, spec, 1)
                if size > best:
                    best, what = size, f"layer {i} {t.name} (all {t.count} experts)"
    output = output_matrix(spec) if output_on_host else None
    if output is not None:
        logits = 4 * ubatch * output.rows
        size = tensor_bytes(scheme, output, spec, 1) + logits
        if size > best:
            best, what = size, f"the output layer {n(size - logits)} + its f32 logits 4 B × {n(ubatch)} × V {n(output.rows)}"
    if not best:
        return 0, ""
    return best, f"the largest weight in system RAM multiplied here (batch ≥ {OFFLOAD_MIN_BATCH}): {what} = {n(best)} B"

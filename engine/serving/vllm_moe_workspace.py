"""vLLM's persistent MoE workspace: the fused-experts caches live in one buffer kept for the process.

From 0.19 (counted here; the change lies between 0.9.2 and 0.19.0) vLLM's fused MoE runs through its
modular kernel, whose ``TritonExperts`` asks for two workspaces per call
(``vllm/model_executor/layers/fused_moe``: ``workspace_shapes``):

* ``workspace13``: (M, top_k, max(N / 2, K)), the activation's output, later the reduced output
  (vllm-project/vllm PR 31531 put the fused output in the same memory);
* ``workspace2``: (M, top_k, max(N, K)), the first GEMM's output, later the down projection's;

with M the tokens of the call, N the gate-up width of one expert on this rank (2 × expert FFN / TP),
K the hidden size.  Both come from the worker's ``WorkspaceManager``, "a global persistent buffer"
shared by every MoE layer and kept for the life of the process (its design note in
vllm-project/vllm PR 44544), so after the profile's forward it still holds the largest request, the
``max_num_batched_tokens`` chunk's, while the sampler warm-up runs beside it.  llm-d-planner's vLLM
0.19.0 logs (PR 205) show it: the profile's torch peak of Qwen3-30B-A3B is 2.68 GiB where its sampler
warm-up takes 2.17 (8,192 × 8 × (2,048 + 2,048) × 2 B = 0.50 GiB more), Qwen1.5-MoE-A2.7B 2.47 where
it takes 2.17 (8,192 × 4 × (2,048 + 2,816) × 2 B = 0.30 GiB), Mixtral-8x7B at TP 2 1.21 where it
takes 0.55 (8,192 × 2 × (7,168 + 14,336) × 2 B = 0.66 GiB).  The routed experts' caches are then in
this buffer, not in the forward's working set (:func:`engine.serving.workspace.workspace`); shared
experts run as a plain MLP beside them.
"""

from __future__ import annotations

from engine.model.spec import ModelSpec
from engine.report.formatting import ceil_div, n
from engine.serving.workspace import ACT_BYTES

MOE_WORKSPACE_FIRST_VERSION = (0, 19, 0)  # the first release counted with it (see above)


def has_moe_workspace(version: tuple[int, int, int] | None) -> bool:
    """Whether vLLM V1 ``version`` (None: the newest) keeps its fused-experts caches in a persistent workspace."""
    return version is None or version >= MOE_WORKSPACE_FIRST_VERSION


def moe_workspace_bytes(spec: ModelSpec, layers: tuple[int, ...], tp: int, tokens: int) -> tuple[int, str]:
    """(bytes, formula) of the persistent workspace on a card holding ``layers`` at tensor-parallel size ``tp``,
    for calls of ``tokens`` tokens; 0 without a MoE layer."""
    moe = spec.moe
    if moe is None or not any(spec.is_moe_layer(i) for i in layers):
        return 0, ""
    per_rank = ceil_div(moe.expert_ffn, tp)
    n_width = 2 * per_rank if spec.gated_mlp else per_rank
    act_out = n_width // 2 if spec.gated_mlp else n_width
    k, top_k = spec.hidden, moe.top_k
    ws13 = tokens * top_k * max(act_out, k)
    ws2 = tokens * top_k * max(n_width, k)
    total = ACT_BYTES * (ws13 + ws2)
    return total, (f"vLLM's persistent MoE workspace: {ACT_BYTES} B × T {n(tokens)} × top-k {top_k} × "
                   f"(max(N/2 {n(act_out)}, h {n(k)}) + max(N {n(n_width)}, h)) = {n(total)} B")

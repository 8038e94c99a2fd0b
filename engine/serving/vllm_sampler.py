"""vLLM V1's sampler warm-up: the profile samples ``max_num_seqs`` dummy requests over the whole vocabulary.

From 0.8.0 the V1 worker's ``profile_run`` follows its forward pass of ``max_num_batched_tokens``
tokens with a sampler run over ``max_num_seqs`` dummy requests (vllm-project/vllm PRs 13594 and
14508, "to mitigate memory fragmentation"; ywang96 in PR 15357: "there will always be a dummy
sampler run with max number of possible" requests).  The dummy requests ask for top-k = V − 1
and top-p = 0.9 (``_dummy_sampler_run`` in ``vllm/v1/worker/gpu_model_runner.py``), so the
PyTorch-native top-k/top-p path sorts the whole vocabulary of every request.  Its peak is inside
``apply_top_k_top_p`` (``vllm/v1/sample/ops/topk_topp_sampler.py``) when ``scatter`` writes the
re-ordered logits back, per request and vocabulary entry:

* the 16-bit logits from ``compute_logits``, still referenced by the caller (``e`` B; gathered
  from every TP rank, so every rank holds the whole vocabulary);
* their fp32 copy (``logits.to(torch.float32)``, 4 B; temperature divides it in place);
* the sorted values and their int64 indices (``logits.sort``, 4 + 8 B);
* the top-k mask (bool, 1 B), the softmax of the sorted logits (4 B; the cumulative sum is written
  into it, ``out=probs_sort``) and the top-p mask (bool, 1 B);
* the scattered result (4 B).

That is ``N × V × (e + 26)`` B, with the forward's hidden states (``e × (T + N) × h``) still held.
The profile's peak is the larger of the forward and this moment, and vLLM sizes its KV pool after
it; when the card cannot hold it vLLM stops at start-up with "CUDA out of memory occurred when
warming up sampler with N dummy requests".  The PyTorch-native path is what 0.8 and 0.9 run even
with FlashInfer installed ("FlashInfer top-p & top-k sampling sampler is disabled because
FlashInfer>=v0.2.3 is not backward compatible" in their start-up logs).  Not modelled: early 0.8
releases also built an int64 ``prompt_token_ids`` tensor of the logits' shape for the dummy
requests (8 B more), and releases that sample with FlashInfer or a Triton top-k/top-p kernel
allocate less than the sort path counted here.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model.spec import ModelSpec
from engine.report.formatting import n

SAMPLER_FIRST_VERSION = (0, 8, 0)  # the first release whose V1 profile runs the sampler
FP32_BYTES = 4
SORT_BYTES = 4 + 8  # sorted fp32 values + int64 indices
MASK_AND_SOFTMAX_BYTES = 1 + 4 + 1  # top-k mask, softmax of the sorted logits (cumsum in place), top-p mask
SCATTER_BYTES = 4


@dataclass(frozen=True, slots=True)
class SamplerWarmup:
    hidden: int  # the profile forward's hidden states, still referenced
    sampler: int  # logits and the top-k / top-p temporaries at the scatter
    formula: str

    @property
    def total(self) -> int:
        return self.hidden + self.sampler

    def exceeds(self, forward: int) -> bool:
        """Whether the profile peaks here rather than in the forward (``forward`` B of activations and
        logits): the warm-up runs after the forward's activations are freed, so the peak is the larger."""
        return self.total > forward


def sampler_warmup(spec: ModelSpec, requests: int, tokens: int, act_bytes: int = 2) -> SamplerWarmup:
    """The sampler warm-up moment on a card holding the output layer (``act_bytes``: the logits' element)."""
    vocab = spec.vocab or 0
    copy = 0 if act_bytes == FP32_BYTES else FP32_BYTES  # .to(float32) of fp32 logits is the same tensor
    per_entry = act_bytes + copy + SORT_BYTES + MASK_AND_SOFTMAX_BYTES + SCATTER_BYTES
    sampler = requests * vocab * per_entry
    hidden = act_bytes * (tokens + requests) * spec.hidden
    formula = (f"sampler warm-up of {n(requests)} dummy requests: N {n(requests)} × V {n(vocab)} × "
               f"({act_bytes} B logits + {copy} B fp32 copy + 12 B sort + 6 B masks and softmax + 4 B scatter "
               f"= {per_entry} B) = {n(sampler)} B, beside the forward's hidden states {act_bytes} B × "
               f"({n(tokens)} + {n(requests)}) × h {n(spec.hidden)} = {n(hidden)} B")
    return SamplerWarmup(hidden, sampler, formula)

"""vLLM's sampler warm-up: its profile samples ``max_num_seqs`` dummy requests over the whole vocabulary.

Both engines profile the sampler, not only the forward.  V0's ``profile_run`` gives its
``max_num_seqs`` dummy sequences ``SamplingParams(top_p=0.99, top_k=vocab_size - 1)`` ("Enable top-k
sampling to reflect the accurate memory usage", ``vllm/worker/model_runner.py``) and samples them on
its driver rank; from 0.8.0 the V1 worker follows its forward with ``_dummy_sampler_run`` over
``max_num_seqs`` requests asking for top-k = V − 1 and top-p = 0.9 (vllm-project/vllm PRs 13594 and
14508; ywang96 in PR 15357: "there will always be a dummy sampler run with max number of possible"
requests).  Either way the PyTorch-native top-k/top-p path sorts the whole vocabulary of every
request (``logits.sort``), which 0.8 and 0.9 run even with FlashInfer installed ("FlashInfer top-p &
top-k sampling sampler is disabled because FlashInfer>=v0.2.3 is not backward compatible").

Per request and vocabulary entry, at the two moments that can peak:

* always held: the 16-bit logits from ``compute_logits``, still referenced by the caller (``e`` B;
  gathered to the sampling rank, so it holds the whole vocabulary), and their fp32 copy
  (``logits.to(torch.float)``, 4 B; temperature divides it in place);
* inside ``logits.sort``: its outputs, the sorted values and their int64 indices (4 + 8 B), and what
  PyTorch's CUDA sort allocates around them (``aten/src/ATen/native/cuda/SortStable.cu``,
  ``launch_stable_sort_kernel``, which every sort of more than 4,096 entries per row takes):
  with at least 128 rows, ``segmented_sort_pairs``: the int64 reverse indices (8 B) and CUB's
  segmented radix sort's temporary storage, which holds a third keys buffer and a third values
  buffer (4 + 8 B): 20 B; with 2 to 127 rows, ``segmented_sort_pairs_by_full_sort``: two int2
  index-and-segment buffers (8 + 8 B), the keys output ATen allocates when none is passed (4 B) and
  CUB's radix sort temporaries (4 + 8 B): 32 B; a single row (or 10^6 entries or more per row) is
  sorted row by row and adds 20 B per vocabulary entry once;
* at the re-ordering ``scatter``: the top-k mask (1 B), the softmax of the sorted logits (4 B), its
  cumulative sum (4 B; V1's later releases write it in place), the top-p mask (1 B) and the
  scattered result (4 B), beside the sort's outputs.

With 16-bit logits and 128 rows or more the sort peaks: ``N × V × 38`` B; from 2 to 127 rows
``N × V × 50`` B, so 127 requests take more than 128.  vLLM's own logs agree:
"PyTorch activation peak memory" 1.26 GiB for Meta-Llama-3-8B on an H100 at TP 1 and at TP 2 alike
(vllm-project/vllm PR 10511: 256 requests × 128,256 × 38 B = 1.162 GiB, with the forward's hidden
states 0.0625 GiB and cuBLAS's 32 MiB workspace, 1.256 GiB; the 8,192-token forward is smaller and
halves at TP 2, the warm-up does not).  The forward's hidden states (``e × T × h``) and the sampled
rows' (``e × N × h``) are held beside it.  The profile's peak is the larger of the forward and the
warm-up, and vLLM sizes its KV pool after it; when the card cannot hold it V1 stops at start-up
with "CUDA out of memory occurred when warming up sampler with N dummy requests".  Not modelled:
early 0.8 releases also built an int64 ``prompt_token_ids`` tensor of the logits' shape (8 B more),
and recent releases sample with FlashInfer by default where it is installed ("The sampler is on by
default" in ``flashinfer_sampler_supported``, ``vllm/v1/sample/ops/topk_topp_sampler.py`` of 2026),
or with a Triton top-k/top-p kernel, and allocate less than the sort path: for them the estimate's
KV pool errs low, on the safe side (Qwen2.5-72B on vLLM 0.15.1 in the validation table: -6 %).  The
release where FlashInfer's sampler became the default is not pinned down, so the sort path stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model.spec import ModelSpec
from engine.report.formatting import n

SAMPLER_FIRST_V1_VERSION = (0, 8, 0)  # the first release whose V1 profile runs the sampler
FP32_BYTES = 4
SORT_OUTPUT_BYTES = 4 + 8  # sorted fp32 values + int64 indices
SEGMENTED_SORT_BYTES = 8 + 4 + 8  # reverse indices + CUB's third keys and values buffers (>= 128 rows)
FULL_SORT_BYTES = 8 + 8 + 4 + 4 + 8  # two int2 buffers, the keys output, CUB's keys and values (2-127 rows)
ROW_SORT_BYTES_PER_ENTRY = 8 + 4 + 8  # one row's indices and CUB temporaries, once (1 row, or >= 10^6 entries)
SCATTER_BYTES = 1 + 4 + 4 + 1 + 4  # top-k mask, softmax, cumulative sum, top-p mask, scattered result
SEGMENTED_MIN_ROWS = 128  # launch_stable_sort_kernel: nsegments < 128 sorts by a full sort
ROW_BY_ROW_MIN_ENTRIES = 1_000_000  # ... and nsort >= 10^6 sorts row by row


@dataclass(frozen=True, slots=True)
class SamplerWarmup:
    hidden: int  # the profile forward's hidden states and the sampled rows', still referenced
    sampler: int  # logits and the sort's (or the scatter's) temporaries at the warm-up's peak
    formula: str

    @property
    def total(self) -> int:
        return self.hidden + self.sampler

    def exceeds(self, forward: int) -> bool:
        """Whether the profile peaks here rather than in the forward (``forward`` B of activations and
        logits): the warm-up runs after the forward's activations are freed, so the peak is the larger."""
        return self.total > forward


def sort_extra(requests: int, vocab: int) -> tuple[int, str]:
    """(bytes, what) PyTorch's CUDA sort allocates beside its outputs for ``requests`` rows of ``vocab``."""
    if requests == 1 or vocab >= ROW_BY_ROW_MIN_ENTRIES:
        return ROW_SORT_BYTES_PER_ENTRY * vocab, f"{ROW_SORT_BYTES_PER_ENTRY} B × V once (row-by-row sort)"
    if requests < SEGMENTED_MIN_ROWS:
        return FULL_SORT_BYTES * requests * vocab, f"{FULL_SORT_BYTES} B (full sort of fewer than 128 rows)"
    return SEGMENTED_SORT_BYTES * requests * vocab, f"{SEGMENTED_SORT_BYTES} B (segmented sort)"


def sampler_warmup(spec: ModelSpec, requests: int, tokens: int, act_bytes: int = 2) -> SamplerWarmup:
    """The sampler warm-up moment on the sampling card (``act_bytes``: the logits' element)."""
    vocab = spec.vocab or 0
    entries = requests * vocab
    copy = 0 if act_bytes == FP32_BYTES else FP32_BYTES  # .to(float32) of fp32 logits is the same tensor
    held = (act_bytes + copy) * entries
    extra, extra_text = sort_extra(requests, vocab)
    at_sort = held + SORT_OUTPUT_BYTES * entries + extra
    at_scatter = held + (SORT_OUTPUT_BYTES + SCATTER_BYTES) * entries
    sampler = max(at_sort, at_scatter)
    hidden = act_bytes * (tokens + requests) * spec.hidden
    moment = (f"the sort: N × V × ({act_bytes} B logits + {copy} B fp32 copy + 12 B sorted values and indices) + "
              f"{extra_text}" if at_sort >= at_scatter else
              f"the scatter: N × V × ({act_bytes} B logits + {copy} B fp32 copy + 12 B sort + 14 B masks, softmax, "
              "cumulative sum and result)")
    formula = (f"sampler warm-up of {n(requests)} dummy requests over V {n(vocab)}, peaking in {moment} "
               f"= {n(sampler)} B, beside the hidden states {act_bytes} B × ({n(tokens)} + {n(requests)}) × "
               f"h {n(spec.hidden)} = {n(hidden)} B")
    return SamplerWarmup(hidden, sampler, formula)

"""vLLM's sampler warm-up: its profile samples ``max_num_seqs`` dummy requests over the whole vocabulary.

Both engines profile the sampler, not only the forward.  V0's ``profile_run`` gives its
``max_num_seqs`` dummy sequences ``SamplingParams(top_p=0.99, top_k=vocab_size - 1)`` ("Enable top-k
sampling to reflect the accurate memory usage", ``vllm/worker/model_runner.py``) and samples them on
its driver rank; from 0.8.0 the V1 worker follows its forward with ``_dummy_sampler_run`` over
``max_num_seqs`` requests asking for top-k = V − 1 and top-p = 0.9 (vllm-project/vllm PRs 13594 and
14508; ywang96 in PR 15357: "there will always be a dummy sampler run with max number of possible"
requests).  Until 0.19 (below), either way the PyTorch-native top-k/top-p path sorts the whole
vocabulary of every request (``logits.sort``), which 0.8 and 0.9 run even with FlashInfer installed
("FlashInfer top-p & top-k sampling sampler is disabled because FlashInfer>=v0.2.3 is not backward
compatible").

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
early 0.8 releases also built an int64 ``prompt_token_ids`` tensor of the logits' shape (8 B more).

**Without the sort (V1 from 0.19).**  vllm-project/vllm PR 33538 (February 2026, "Triton-based Top-k
and Top-p sampler kernels") replaced the sort with a pivot search that masks the fp32 logits in place
(``apply_top_k_top_p_triton``, ``vllm/v1/sample/ops/topk_topp_triton.py``); the sampler then takes
their softmax (4 B) and ``random_sample``'s exponential noise of the same shape (4 B).  The kernel
keeps one fp32 row of the vocabulary per program in a cached buffer, ``min(SMs, N)`` programs
(rounded up to a power of two, at most the SM count).  PR 40376 (April 2026) made FlashInfer's
``top_k_top_p_sampling_from_logits`` the default where it is installed: a top-k-masked copy and its
softmax, 4 + 4 B, the same 14 B per entry with 16-bit logits.  The buffer is counted for every release
without the sort: vLLM registers the Triton kernel's warm-up at start-up whichever sampler it picks
(``register_top_k_top_p_warmups``), so where FlashInfer samples it is at most a small overcount.  The
first release without the sort this module counts is 0.19.0, where DEBUG start-up logs print the
profile's torch peak
(llm-d-incubation/llm-d-planner, PR 205 at d3121e0, ``accuracy/results/v0.19.0/logs``: "torch peak
memory increase: 1.89GiB" for Llama-3.1-8B on an H100, 2.21 GiB for Qwen2.5-7B and Qwen3-8B, 1.96
GiB for Llama-3.3-70B at TP 2; 1,024 × 128,256 × 14 B + 132 × 128,256 × 4 B + the hidden states
75,497,472 B + cuBLAS's 32 MiB = 1.877 GiB, the sort's 38 B would give 4.75 GiB).  The release that
first shipped PR 33538 is not pinned down: it lies after 0.15.1, whose pool the sort path explains
(Qwen2.5-72B in the validation table, -6 %; without the sort it would read +9 %), so releases before
0.19 keep the sort, the side that gives the smaller pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model.spec import ModelSpec
from engine.report.formatting import n

SAMPLER_FIRST_V1_VERSION = (0, 8, 0)  # the first release whose V1 profile runs the sampler
NO_SORT_FIRST_VERSION = (0, 19, 0)  # the first V1 release counted without the sort (PR 33538; see above)
FP32_BYTES = 4
SORT_OUTPUT_BYTES = 4 + 8  # sorted fp32 values + int64 indices
SEGMENTED_SORT_BYTES = 8 + 4 + 8  # reverse indices + CUB's third keys and values buffers (>= 128 rows)
FULL_SORT_BYTES = 8 + 8 + 4 + 4 + 8  # two int2 buffers, the keys output, CUB's keys and values (2-127 rows)
ROW_SORT_BYTES_PER_ENTRY = 8 + 4 + 8  # one row's indices and CUB temporaries, once (1 row, or >= 10^6 entries)
SCATTER_BYTES = 1 + 4 + 4 + 1 + 4  # top-k mask, softmax, cumulative sum, top-p mask, scattered result
NO_SORT_BYTES = 4 + 4  # the softmax and random_sample's noise (Triton), or FlashInfer's masked copy and softmax
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


def sorts_vocabulary(version: tuple[int, int, int] | None, engine: str) -> bool:
    """Whether the release's dummy sampler run sorts the vocabulary (every V0 release, V1 before 0.19);
    ``version`` None is the newest release."""
    return engine == "v0" or (version is not None and version < NO_SORT_FIRST_VERSION)


def triton_buffer_rows(requests: int, sms: int) -> int:
    """Rows of the Triton top-k/top-p kernel's cached buffer: one per program, ``min(SMs, N)`` programs,
    rounded up to a power of two but at most the SM count."""
    programs = min(sms, requests)
    return min(1 << (programs - 1).bit_length(), sms)


def sampler_warmup(spec: ModelSpec, requests: int, tokens: int, act_bytes: int = 2, *, sorts: bool = True,
                   sms: int | None = None) -> SamplerWarmup:
    """The sampler warm-up moment on the sampling card (``act_bytes``: the logits' element); ``sorts``: the
    release sorts the vocabulary, else ``sms`` (the card's streaming multiprocessors) sizes the Triton
    kernel's buffer."""
    vocab = spec.vocab or 0
    entries = requests * vocab
    copy = 0 if act_bytes == FP32_BYTES else FP32_BYTES  # .to(float32) of fp32 logits is the same tensor
    held = (act_bytes + copy) * entries
    hidden = act_bytes * (tokens + requests) * spec.hidden
    beside = (f" beside the hidden states {act_bytes} B × ({n(tokens)} + {n(requests)}) × "
              f"h {n(spec.hidden)} = {n(hidden)} B")
    if not sorts:
        if sms is None:
            raise ValueError("sampler_warmup without the sort needs the card's SM count")
        rows = triton_buffer_rows(requests, sms)
        buffer = rows * vocab * FP32_BYTES
        sampler = held + NO_SORT_BYTES * entries + buffer
        formula = (f"sampler warm-up of {n(requests)} dummy requests over V {n(vocab)}, without a sort (Triton or "
                   f"FlashInfer top-k/top-p): N × V × ({act_bytes} B logits + {copy} B fp32 copy + 4 B softmax + 4 B "
                   f"noise) + the Triton kernel's buffer {rows} rows × V × 4 B = {n(sampler)} B,{beside}")
        return SamplerWarmup(hidden, sampler, formula)
    extra, extra_text = sort_extra(requests, vocab)
    at_sort = held + SORT_OUTPUT_BYTES * entries + extra
    at_scatter = held + (SORT_OUTPUT_BYTES + SCATTER_BYTES) * entries
    sampler = max(at_sort, at_scatter)
    moment = (f"the sort: N × V × ({act_bytes} B logits + {copy} B fp32 copy + 12 B sorted values and indices) + "
              f"{extra_text}" if at_sort >= at_scatter else
              f"the scatter: N × V × ({act_bytes} B logits + {copy} B fp32 copy + 12 B sort + 14 B masks, softmax, "
              "cumulative sum and result)")
    formula = (f"sampler warm-up of {n(requests)} dummy requests over V {n(vocab)}, peaking in {moment} "
               f"= {n(sampler)} B,{beside}")
    return SamplerWarmup(hidden, sampler, formula)

"""The batch vLLM's V1 engine profiles: ``max_num_batched_tokens`` and ``max_num_seqs`` by card and entry point.

V1 always chunks prefill, so its profile forward is one chunk of ``max_num_batched_tokens`` tokens,
and its sampler warm-up (:mod:`engine.serving.vllm_sampler`) samples ``max_num_seqs`` requests.
Unless the user sets them, ``EngineArgs._set_default_args_v1`` (``vllm/engine/arg_utils.py``) picks
both from the card and from how vLLM was started: ``vllm serve`` (the OpenAI-compatible server,
``UsageContext.OPENAI_API_SERVER``) or the Python ``LLM`` class (``UsageContext.LLM_CLASS``):

* a large card: ``max_num_batched_tokens`` 8,192 (serve) or 16,384 (LLM), ``max_num_seqs`` 1,024;
* any other card: 2,048 (serve) or 8,192 (LLM) tokens and 256 sequences;
* ``max_num_seqs`` is at most ``max_num_batched_tokens``.

Which cards are large changed: vllm-project/vllm PR 12369 (January 2025, "Increase default batch
size for H100/H200") matched the device name against "h100" and "h200"; from 0.9.0 (PR 17885) it is
a card of at least 70 GiB whose name does not contain "a100" (larger budgets slowed A100s down).
V1 started with 1,024 sequences on every card; PR 16158 ("Revert the default ``max_num_seqs`` to V0
values for most hardware", April 2025, in 0.8.4) kept 1,024 only on the large cards, because
smaller cards ran out of memory in the sampler warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.serving.vllm_moe_workspace import has_moe_workspace
from engine.serving.vllm_sampler import SAMPLER_FIRST_V1_VERSION, sorts_vocabulary
from engine.units import GiB

VllmEntry = Literal["serve", "llm"]

_LARGE_CARD_BYTES = 70 * GiB  # ``device_memory >= 70 * GiB_bytes`` (0.9.0+)
_TOKENS = {(True, "serve"): 8_192, (True, "llm"): 16_384, (False, "serve"): 2_048, (False, "llm"): 8_192}
_LARGE_SEQS = 1_024
_SMALL_SEQS = 256


V0_MAX_NUM_SEQS = 256  # V0's SchedulerConfig default


@dataclass(frozen=True, slots=True)
class VllmBatch:
    tokens: int  # max_num_batched_tokens: the profile forward's chunk
    seqs: int  # max_num_seqs, set or vLLM's default: the most sequences it schedules at once
    seqs_set: bool  # whether the plan sets max_num_seqs
    why: str  # where the defaults came from, for the formulas
    warms_sampler: bool = True  # whether the profile samples its requests (every V0 release, V1 from 0.8.0)
    sorts: bool = True  # whether its sampler sorts the vocabulary (every V0 release, V1 before 0.19)
    sms: int | None = None  # the first card's streaming multiprocessors (the Triton sampler's buffer rows)
    moe_workspace: bool = False  # whether the fused-experts caches live in a persistent workspace (V1 from 0.19)

    def serving_seqs(self, batch: int) -> int:
        """The max_num_seqs that serves ``batch`` concurrent sequences: the plan's, or vLLM's default raised
        to ``batch`` (vLLM schedules no more than max_num_seqs at once, so a larger batch needs the flag)."""
        return self.seqs if self.seqs_set else max(self.seqs, batch)

    def warmup_requests(self, batch: int) -> int:
        """The dummy requests the profile samples: max_num_seqs, at most one per profiled token (V1's dummy
        run takes ``min(num_tokens, max_num_reqs)``; vLLM refuses a max_num_seqs above
        max_num_batched_tokens, see :meth:`refused`)."""
        return min(self.serving_seqs(batch), self.tokens)

    def refused(self, batch: int) -> bool:
        """Whether vLLM refuses to start: max_num_seqs above max_num_batched_tokens (SchedulerConfig)."""
        return self.serving_seqs(batch) > self.tokens

    def why_at(self, batch: int) -> str:
        if self.seqs_set or batch <= self.seqs:
            return self.why
        return f"{self.why}, raised to the plan's {batch:,} concurrent sequences (--max-num-seqs {batch:,})"


def large_card(version: tuple[int, int, int] | None, gpu: str, capacity_bytes: int) -> bool:
    """Whether V1 gives ``gpu`` its large-card defaults (``version`` None: the newest release)."""
    name = gpu.lower()
    if version is not None and version < (0, 9, 0):
        return "h100" in name or "h200" in name
    return capacity_bytes >= _LARGE_CARD_BYTES and "a100" not in name


def v1_batch(version: tuple[int, int, int] | None, entry: VllmEntry, gpu: str, capacity_bytes: int,
             tokens: int | None = None, seqs: int | None = None, sms: int | None = None) -> VllmBatch:
    """V1's profiled batch on the first card (vLLM reads the device it runs on, ``sms`` streaming
    multiprocessors); set values win."""
    large = large_card(version, gpu, capacity_bytes)
    size = "large-card" if large else "other-card"
    default_tokens = _TOKENS[(large, entry)]
    default_seqs = _LARGE_SEQS if large or (version is not None and version < (0, 8, 4)) else _SMALL_SEQS
    chunk = default_tokens if tokens is None else tokens
    requests = min(default_seqs, chunk) if seqs is None else seqs
    started = "vllm serve" if entry == "serve" else "the LLM class"
    why = (f"max_num_batched_tokens {chunk:,} ({'set' if tokens is not None else f'V1 {size} default for {started}'}), "
           f"max_num_seqs {requests:,} ({'set' if seqs is not None else f'V1 {size} default'}) on {gpu}")
    warms = version is None or version >= SAMPLER_FIRST_V1_VERSION
    return VllmBatch(chunk, requests, seqs is not None, why, warms, sorts_vocabulary(version, "v1"), sms,
                     has_moe_workspace(version))


def v0_batch(tokens: int, seqs: int | None) -> VllmBatch:
    """V0's profiled chunk (chosen by the caller from max_model_len) and its max_num_seqs (default 256)."""
    requests = V0_MAX_NUM_SEQS if seqs is None else seqs
    why = f"max_num_batched_tokens {tokens:,}, max_num_seqs {requests:,} ({'set' if seqs is not None else 'V0 default'})"
    return VllmBatch(tokens, requests, seqs is not None, why)

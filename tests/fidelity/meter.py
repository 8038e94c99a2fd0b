"""Count the bytes autograd saves for backward, each storage once.

``saved_tensors_hooks`` sees every tensor an op keeps for its backward.  Several
saved tensors may be views of one buffer (Q, K and V of a fused QKV output), so
bytes are summed over distinct storages (``untyped_storage().data_ptr()``),
each counted with its full ``nbytes``: a view keeps its whole buffer alive.
Parameters and per-step constants (RoPE tables, masks) are excluded by storage:
they are model states or shared buffers, not activations of one layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch


@dataclass
class SavedBytes:
    by_storage: dict[int, tuple[int, torch.dtype, tuple[int, ...]]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(nbytes for nbytes, _, _ in self.by_storage.values())

    def by_dtype(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for nbytes, dtype, _ in self.by_storage.values():
            key = str(dtype).removeprefix("torch.")
            out[key] = out.get(key, 0) + nbytes
        return out


def _storage_key(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


@contextmanager
def saved_bytes(exclude: Iterable[torch.Tensor] = ()):
    """Within the block, record every tensor saved for backward; yields a SavedBytes."""
    excluded = {_storage_key(t) for t in exclude}
    result = SavedBytes()
    keep_alive: list[torch.Tensor] = []  # a freed buffer's address could be reused by a later tensor

    def pack(t: torch.Tensor) -> torch.Tensor:
        key = _storage_key(t)
        if key not in excluded and key not in result.by_storage:
            storage = t.untyped_storage()
            result.by_storage[key] = (storage.nbytes(), t.dtype, tuple(t.shape))
            keep_alive.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield result
    keep_alive.clear()


def peak_allocated_bytes(fn) -> tuple[int, object]:
    """(most bytes allocated at once while ``fn()`` ran, counted from its start; fn's result).

    The CPU profiler records every allocation and free with its size; a running
    sum over them in time order gives the high-water mark, as
    ``torch.cuda.max_memory_allocated`` does on a GPU.
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live = peak = 0
    for e in sorted(events, key=lambda e: e.start_ns()):
        live += e.nbytes()
        peak = max(peak, live)
    return peak, result

"""PyTorch's CUDA caching allocator, replayed over a sequence of allocations and frees.

``torch.cuda.max_memory_reserved`` (and most of what ``nvidia-smi`` shows) is not the allocated peak:
the allocator keeps freed blocks cached in the segments it obtained with ``cudaMalloc`` and carves
later requests out of them, so a request that no free block can hold takes a new segment while the
cached ones stay reserved.  How much that adds depends on the order and sizes of the requests, which
is why this module replays them instead of adding a percentage.

The rules are those of ``c10/cuda/CUDACachingAllocator.cpp`` as PyTorch 1.8 ships it (and, for one
stream without ``max_split_size_mb`` or expandable segments, as later versions keep them):

* ``round_size``: requests under 512 B take 512 B; larger ones round up to a multiple of 512 B;
* two pools: the small one for rounded sizes up to 1 MiB (``kSmallSize``), the large one above;
* ``get_allocation_size``: a new segment is 2 MiB for the small pool (``kSmallBuffer``), 20 MiB for
  requests under 10 MiB (``kLargeBuffer`` below ``kMinLargeAlloc``), else the request rounded up to
  2 MiB (``kRoundLarge``);
* ``get_free_block``: best fit, the smallest cached block at least as large as the request (the pool
  is a set ordered by size, then address);
* ``should_split``: the block is split when what remains is at least 512 B (small pool) or more than
  1 MiB (large pool); the request takes the block's start;
* ``free_block``: a freed block merges with free neighbours of its segment and returns to its pool;
* streams (``malloc(..., stream=...)``): a block belongs to the stream it was allocated on, and
  ``get_free_block`` looks only among that stream's cached blocks (the pools are ordered by stream
  first); a freed block goes back to its own stream's pool, so what one stream frees another cannot take;
* ``record_stream``: a block another stream still uses leaves the allocated count when it is freed but
  returns to its pool only when that stream has passed it (``insert_events``, ``process_events``); the
  caller times that: ``free(..., pending=True)``, then ``release``;
* the out-of-memory retry: when a new segment would not fit in the memory the card has left
  (``capacity``, when given), ``malloc`` releases every cached segment that is wholly free
  (``release_cached_blocks``: ``cudaFree`` of each unsplit free block) and tries again; only then
  would PyTorch raise out-of-memory (here: ``out_of_memory`` is set and the segment taken, so the
  replay's peaks still show how far over the card the step goes).  Without ``capacity`` segments are
  never released (``empty_cache`` is not replayed).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from engine.units import MiB

MIN_BLOCK = 512          # kMinBlockSize
SMALL_SIZE = 1 * MiB     # kSmallSize: largest request of the small pool
SMALL_BUFFER = 2 * MiB   # kSmallBuffer: segment of the small pool
LARGE_BUFFER = 20 * MiB  # kLargeBuffer: segment for large requests under MIN_LARGE_ALLOC
MIN_LARGE_ALLOC = 10 * MiB
ROUND_LARGE = 2 * MiB


def rounded_size(nbytes: int) -> int:
    """The bytes a request of ``nbytes`` occupies (``round_size``)."""
    if nbytes < MIN_BLOCK:
        return MIN_BLOCK
    return -(-nbytes // MIN_BLOCK) * MIN_BLOCK


def segment_size(rounded: int) -> int:
    """The ``cudaMalloc`` a request of ``rounded`` bytes makes when no cached block holds it."""
    if rounded <= SMALL_SIZE:
        return SMALL_BUFFER
    if rounded < MIN_LARGE_ALLOC:
        return LARGE_BUFFER
    return -(-rounded // ROUND_LARGE) * ROUND_LARGE


@dataclass(eq=False)
class _Block:
    address: int
    size: int
    small: bool
    stream: int = 0
    free: bool = True
    prev: _Block | None = None
    next: _Block | None = None


@dataclass
class CachingAllocator:
    """One device, each stream with its own cached blocks (stream 0: the default).  ``malloc`` returns a
    handle for ``free``; the four counters follow ``torch.cuda.memory_allocated``, ``memory_reserved`` and
    their peaks (rounded sizes, as PyTorch counts them)."""

    capacity: int | None = None  # bytes the card has for segments (its memory less the CUDA context)
    allocated: int = 0
    reserved: int = 0
    out_of_memory: bool = False
    peak_allocated: int = 0
    peak_reserved: int = 0
    _pools: dict[tuple[int, bool], list[tuple[int, int, _Block]]] = field(default_factory=dict)
    _live: dict[int, _Block] = field(default_factory=dict)
    _reserved_by_stream: dict[int, int] = field(default_factory=dict)
    _pending: dict[int, _Block] = field(default_factory=dict)
    _next_handle: int = 0
    _next_address: int = 0

    def malloc(self, nbytes: int, stream: int = 0) -> int:
        size = rounded_size(nbytes)
        small = size <= SMALL_SIZE
        pool = self._pools.setdefault((stream, small), [])
        i = bisect.bisect_left(pool, (size, -1))
        if i < len(pool):
            block = pool.pop(i)[2]
        else:
            grown = segment_size(size)
            if self.capacity is not None and self.reserved + grown > self.capacity:
                self._release_cached_segments()
                self.out_of_memory = self.out_of_memory or self.reserved + grown > self.capacity
            block = _Block(self._next_address, grown, small, stream)
            self._next_address += grown
            self.reserved += grown
            self._reserved_by_stream[stream] = self._reserved_by_stream.get(stream, 0) + grown
            self.peak_reserved = max(self.peak_reserved, self.reserved)
        remaining = block.size - size
        if remaining >= MIN_BLOCK if small else remaining > SMALL_SIZE:
            rest = _Block(block.address + size, remaining, small, block.stream, prev=block, next=block.next)
            if block.next is not None:
                block.next.prev = rest
            block.next, block.size = rest, size
            self._cache(rest)
        block.free = False
        self.allocated += block.size
        self.peak_allocated = max(self.peak_allocated, self.allocated)
        self._next_handle += 1
        self._live[self._next_handle] = block
        return self._next_handle

    def free(self, handle: int, *, pending: bool = False) -> None:
        """The tensor is gone.  ``pending``: another stream still uses the block (``record_stream``): it leaves
        the allocated count now, as ``free`` counts it, but stays out of the pool until :meth:`release`."""
        block = self._live.pop(handle)
        self.allocated -= block.size
        if pending:
            self._pending[handle] = block
            return
        self._return(block)

    def release(self, handle: int) -> None:
        """The other stream has passed a pending block (its event completed, ``process_events``): back to its
        pool."""
        self._return(self._pending.pop(handle))

    def _return(self, block: _Block) -> None:
        block.free = True
        before, after = block.prev, block.next
        if before is not None and before.free:
            self._uncache(before)
            before.size += block.size
            before.next = after
            if after is not None:
                after.prev = before
            block = before
        if after is not None and after.free:
            self._uncache(after)
            block.size += after.size
            block.next = after.next
            if after.next is not None:
                after.next.prev = block
        self._cache(block)

    def _release_cached_segments(self) -> None:
        """``release_cached_blocks``: every free block that is a whole segment goes back to CUDA."""
        for (stream, _), pool in self._pools.items():
            whole = [entry[2].prev is None and entry[2].next is None for entry in pool]
            released = sum(entry[0] for entry, w in zip(pool, whole, strict=True) if w)
            self.reserved -= released
            self._reserved_by_stream[stream] = self.reserved_on(stream) - released
            pool[:] = [entry for entry, w in zip(pool, whole, strict=True) if not w]  # still sorted

    def reserved_on(self, stream: int) -> int:
        """Bytes of the segments ``stream``'s requests took (``reserved`` is their sum over the streams)."""
        return self._reserved_by_stream.get(stream, 0)

    @property
    def cached(self) -> int:
        """Bytes held in free blocks (``reserved - allocated``, as ``torch.cuda.memory_stats`` splits it)."""
        return sum(size for pool in self._pools.values() for size, _, _ in pool)

    def _cache(self, block: _Block) -> None:
        bisect.insort(self._pools.setdefault((block.stream, block.small), []), (block.size, block.address, block))

    def _uncache(self, block: _Block) -> None:
        pool = self._pools[block.stream, block.small]
        pool.pop(bisect.bisect_left(pool, (block.size, block.address)))

"""PyTorch's caching allocator rules (c10/cuda/CUDACachingAllocator.cpp, PyTorch 1.8), request by request.

Every figure is worked out by hand from the rules in the module docstring: 512 B rounding, the 1 MiB
small pool with 2 MiB segments, 20 MiB segments for large requests under 10 MiB, 2 MiB rounding above,
best fit, splitting (remainder >= 512 B small, > 1 MiB large) and merging inside a segment."""

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.training.memory.caching_allocator import CachingAllocator, rounded_size, segment_size
from engine.units import MiB


def test_rounding_and_segment_sizes():
    assert rounded_size(1) == 512 and rounded_size(512) == 512 and rounded_size(513) == 1024
    assert segment_size(1 * MiB) == 2 * MiB          # small pool
    assert segment_size(1 * MiB + 512) == 20 * MiB   # large, under 10 MiB
    assert segment_size(10 * MiB) == 10 * MiB        # from 10 MiB: rounded up to 2 MiB
    assert segment_size(30 * MiB + 512) == 32 * MiB


def test_small_requests_share_a_two_mib_segment():
    a = CachingAllocator()
    a.malloc(1000)   # 1,024 B
    a.malloc(100)    # 512 B, split off the same segment's remainder
    assert (a.allocated, a.reserved) == (1536, 2 * MiB)


def test_large_requests_under_ten_mib_share_a_twenty_mib_segment():
    a = CachingAllocator()
    a.malloc(5 * MiB)
    a.malloc(5 * MiB)  # the 15 MiB remainder holds it
    a.malloc(5 * MiB)
    a.malloc(5 * MiB)  # the last 5 MiB: what remains (0) is not split off
    assert (a.allocated, a.reserved) == (20 * MiB, 20 * MiB)
    a.malloc(5 * MiB)  # nothing cached: a second 20 MiB segment
    assert a.reserved == 40 * MiB


def test_near_the_capacity_the_wholly_free_segments_are_released_before_a_new_one():
    """``malloc``'s out-of-memory retry (``release_cached_blocks``: ``cudaFree`` of every unsplit free block,
    then ``alloc_block`` again)."""
    a = CachingAllocator(capacity=100 * MiB)
    first, second = a.malloc(60 * MiB), a.malloc(30 * MiB)
    a.free(first)
    a.free(second)
    kept = a.malloc(10 * MiB)  # best fit: the 30 MiB segment, split (20 MiB left in it, not wholly free)
    assert a.reserved == 90 * MiB
    # 70 MiB fits no cached block, and a new segment would make 160 MiB: the 60 MiB segment (wholly free)
    # goes, the split 30 MiB one stays; 30 + 70 = 100 MiB fits
    a.malloc(70 * MiB)
    assert (a.reserved, a.peak_reserved, a.out_of_memory) == (100 * MiB, 100 * MiB, False)
    # nothing wholly free is left: 40 MiB more is what PyTorch would refuse
    a.malloc(40 * MiB)
    assert a.out_of_memory and a.reserved == 140 * MiB and a.allocated == (10 + 70 + 40) * MiB
    a.free(kept)


def test_best_fit_leaves_holes_that_a_larger_request_cannot_use():
    a = CachingAllocator()
    first, second = a.malloc(30 * MiB), a.malloc(40 * MiB)  # two exact segments: 70 MiB reserved
    a.free(first)
    a.free(second)
    a.malloc(25 * MiB)  # smallest cached block that holds it: the 30 MiB one (5 MiB left)
    a.malloc(36 * MiB)  # the 40 MiB one (4 MiB left)
    a.malloc(6 * MiB)   # neither 5 nor 4 MiB holds it: a new 20 MiB segment
    assert a.allocated == (25 + 36 + 6) * MiB
    assert a.reserved == (30 + 40 + 20) * MiB
    assert a.peak_allocated == 70 * MiB and a.peak_reserved == 90 * MiB


def test_freed_neighbours_merge_inside_a_segment_only():
    a = CachingAllocator()
    a.free(a.malloc(24 * MiB))        # one 24 MiB segment, cached
    p, q = a.malloc(12 * MiB), a.malloc(12 * MiB)  # both carved from it
    a.free(p)
    a.free(q)                         # merged back into one 24 MiB block
    a.malloc(24 * MiB)
    assert a.reserved == 24 * MiB
    x, y = a.malloc(12 * MiB), a.malloc(12 * MiB)  # two new 12 MiB segments
    a.free(x)
    a.free(y)                         # separate segments: no 24 MiB block
    a.malloc(24 * MiB)
    assert a.reserved == (24 + 12 + 12 + 24) * MiB


def test_a_remainder_of_one_mib_or_less_stays_with_the_large_block():
    a = CachingAllocator()
    a.free(a.malloc(12 * MiB))
    a.malloc(11 * MiB + 512 * 1024)   # 0.5 MiB would remain: not split, the request holds all 12 MiB
    assert a.allocated == 12 * MiB
    a.malloc(512 * 1024)              # so this one needs a segment of its own (small pool: 2 MiB)
    assert a.reserved == 14 * MiB


# A request: a size from a few hundred bytes to 64 MiB (both pools, both large segment rules), or a free of the
# n-th live block.
REQUESTS = st.lists(st.one_of(st.integers(1, 64 * MiB).map(lambda n: ("malloc", n)),
                              st.integers(0, 1_000).map(lambda i: ("free", i))), max_size=200)


@settings(max_examples=300, deadline=None)
@given(REQUESTS)
def test_every_reserved_byte_is_allocated_or_cached_and_reserve_never_shrinks(requests):
    a = CachingAllocator()
    live: list[tuple[int, int]] = []
    reserved = 0
    for op, arg in requests:
        if op == "malloc":
            live.append((a.malloc(arg), rounded_size(arg)))
        elif live:
            handle, _ = live.pop(arg % len(live))
            a.free(handle)
        assert a.allocated >= sum(size for _, size in live)  # a block may hold an unsplit remainder
        assert a.allocated + a.cached == a.reserved
        assert a.reserved >= reserved
        reserved = a.reserved
    for handle, _ in live:
        a.free(handle)
    assert a.allocated == 0 and a.cached == a.reserved
    assert a.peak_reserved == a.reserved >= a.peak_allocated


def test_each_stream_takes_only_its_own_cached_blocks():
    """``get_free_block`` looks among the request's stream's blocks only: a block another stream freed stays
    cached while this stream takes a segment of its own; the same stream reuses it."""
    a = CachingAllocator()
    gathered = a.malloc(100 * MiB, stream=1)
    a.free(gathered)  # cached for stream 1
    a.malloc(100 * MiB)  # stream 0: a second 100 MiB segment
    assert (a.allocated, a.reserved) == (100 * MiB, 200 * MiB)
    assert (a.reserved_on(0), a.reserved_on(1)) == (100 * MiB, 100 * MiB)
    a.malloc(60 * MiB, stream=1)  # stream 1 splits its own cached block
    assert a.reserved == 200 * MiB and a.reserved_on(1) == 100 * MiB


def test_releasing_cached_segments_counts_them_off_their_stream():
    a = CachingAllocator(capacity=250 * MiB)
    a.free(a.malloc(100 * MiB, stream=1))
    a.malloc(100 * MiB)
    a.malloc(100 * MiB)  # 300 MiB would exceed 250: stream 1's wholly free segment goes back to CUDA first
    assert (a.reserved, a.reserved_on(0), a.reserved_on(1)) == (200 * MiB, 200 * MiB, 0)
    assert not a.out_of_memory


def test_a_block_another_stream_still_reads_leaves_the_count_but_not_the_segment():
    """record_stream: free() counts the block off ``memory_allocated`` at once (``free``: the stats first, then
    ``insert_events``), but the block returns to its pool only when the other stream has passed it."""
    a = CachingAllocator()
    read = a.malloc(100 * MiB)
    a.free(read, pending=True)
    assert (a.allocated, a.cached) == (0, 0)
    a.malloc(100 * MiB)  # nothing cached yet: a second segment
    assert a.reserved == 200 * MiB
    a.release(read)  # the event completed: the block is cached
    assert a.cached == 100 * MiB
    a.malloc(100 * MiB)  # and reused
    assert a.reserved == 200 * MiB


# A request on one of three streams, a free of the n-th live block (now, or pending another stream), or the
# release of the n-th pending block.
STREAM_REQUESTS = st.lists(st.one_of(
    st.tuples(st.just("malloc"), st.integers(1, 64 * MiB), st.integers(0, 2)),
    st.tuples(st.just("free"), st.integers(0, 1_000), st.booleans()),
    st.tuples(st.just("release"), st.integers(0, 1_000), st.just(False))), max_size=200)


@settings(max_examples=300, deadline=None)
@given(STREAM_REQUESTS)
def test_with_streams_and_pending_blocks_every_reserved_byte_is_accounted_for(requests):
    """reserved = allocated + cached + pending, the streams' segments sum to it, and it never shrinks."""
    a = CachingAllocator()
    live: list[int] = []
    pending: list[tuple[int, int]] = []  # handle, bytes
    reserved = 0
    for op, arg, extra in requests:
        if op == "malloc":
            live.append(a.malloc(arg, stream=extra))
        elif op == "free" and live:
            handle = live.pop(arg % len(live))
            before = a.allocated
            a.free(handle, pending=extra)
            if extra:
                pending.append((handle, before - a.allocated))
        elif op == "release" and pending:
            a.release(pending.pop(arg % len(pending))[0])
        assert a.allocated + a.cached + sum(size for _, size in pending) == a.reserved
        assert sum(a.reserved_on(s) for s in range(3)) == a.reserved
        assert a.reserved >= reserved
        reserved = a.reserved

"""The Trainer step replayed on rank 0 of an FSDP run: where FSDP's requests go, by hand.

Mistral-7B (the catalog preset; tests/engine/test_fsdp.py counts it): a decoder unit holds 218,112,000
parameters, 436,224,000 B in bf16; the root unit (embeddings, lm_head, final norm) 262,148,096,
524,296,192 B.  Over 2 cards every flat parameter is even, so no padding: a card's shard is half.

A request of 10 MiB or more takes a segment of its size rounded up to 2 MiB (2,097,152 B):
* a gathered decoder unit: 436,224,000 / 2,097,152 = 208.008 -> 209 x 2 MiB = 438,304,768 B;
* the gathered root: 524,296,192 / 2,097,152 = 250.0002 -> 251 x 2 MiB = 526,385,152 B;
* a decoder unit's gradient shard: 218,112,000 / 2,097,152 = 104.004 -> 105 x 2 MiB = 220,200,960 B;
* the root's gradient shard: 262,148,096 / 2,097,152 = 125.0003 -> 126 x 2 MiB = 264,241,152 B.
"""

from engine.catalog import model_catalog
from engine.estimate import estimate
from engine.finetune.config import FinetuneConfig
from engine.finetune.fsdp_replay import (
    REDUCE,
    UNSHARD,
    FsdpStep,
    fsdp_trainer_replay,
    load_sharded,
    sync_module_states,
)
from engine.finetune.hf_trainer_replay import replay_steps
from engine.plan.layout import build_grid
from engine.plan.schema import Plan
from engine.training.memory.caching_allocator import CachingAllocator
from engine.weights.tensors import layer_tensors

MISTRAL = next(m.spec for m in model_catalog() if m.name == "mistral-7b" or "mistral-7b" in m.aliases)
UNIT_SEGMENT = 438_304_768
ROOT_SEGMENT = 526_385_152
UNIT_GRAD_SEGMENT = 220_200_960
ROOT_GRAD_SEGMENT = 264_241_152
FULL = FinetuneConfig(method="full", seq=1024, micro_batch=1, gradient_checkpointing=True, flash_attention=True,
                      fsdp=True)


def _replayed(cfg: FinetuneConfig) -> CachingAllocator:
    alloc = CachingAllocator()
    groups, units = load_sharded(alloc, MISTRAL, cfg, 2)
    replay_steps(FsdpStep(alloc, MISTRAL, cfg, groups, None, units))
    return alloc


def test_the_gathers_keep_the_root_and_three_decoder_units_on_their_stream():
    """The all-gathers' stream holds the root (whole from its forward to the end of the backward) and three
    decoder units at most: in the backward a unit's recompute reshards it (its block pending until the card
    has passed it; limit_all_gathers lets the CPU run two resharded units ahead), the backward gathers it again,
    and BACKWARD_PRE prefetches the next one.  The forward needs two (the one computing and the pending one)."""
    alloc = _replayed(FULL)
    assert alloc.reserved_on(UNSHARD) == ROOT_SEGMENT + 3 * UNIT_SEGMENT == 1_841_299_456


def test_the_gradient_shards_take_their_own_segments_on_the_reduce_scatter_stream():
    """Each unit's 1/2 gradient is allocated by the reduce-scatter on FSDP's post-backward stream and kept until
    zero_grad; the next step's reduce-scatters take the same blocks back."""
    alloc = _replayed(FULL)
    assert alloc.reserved_on(REDUCE) == 32 * UNIT_GRAD_SEGMENT + ROOT_GRAD_SEGMENT == 7_310_671_872


def test_lora_keeps_no_gradient_of_the_frozen_base():
    """With LoRA only the adapters' shards go to the reduce-scatter stream: rank 16 on q, k, v, o, fp32, each
    lora_A / lora_B a unit of its own.  Per layer: q 16 x (4,096 + 4,096), k and v 16 x (4,096 + 1,024), o as q:
    A 16 x 4,096 x 4 B = 262,144 B, B of q and o 4,096 x 16 x 4 B = 262,144 B, of k and v 1,024 x 16 x 4 B =
    65,536 B; halves of 131,072 B and 32,768 B, small-pool requests (at most 1 MiB) in 2 MiB segments: 32 layers
    x (6 x 131,072 + 2 x 32,768) = 27,262,976 B fill 13 segments, 27,262,976 / 2,097,152 = 13.0."""
    lora = FULL.model_copy(update={"method": "lora", "rank": 16, "target_modules": ("q", "k", "v", "o")})
    alloc = _replayed(lora)
    assert alloc.reserved_on(REDUCE) == 13 * 2 * 1024 * 1024
    assert alloc.reserved_on(UNSHARD) == ROOT_SEGMENT + 3 * UNIT_SEGMENT


def test_an_fsdp_card_takes_the_replayed_reserve_by_default():
    """The default reserve (auto) of a Trainer plan FSDP shards is its rank 0's replay; segments up to the card's
    memory less the CUDA context (512 MiB) and NCCL's buffers (256 MiB)."""
    capacity = 85_100_068_864
    plan = Plan(name="fsdp", mode="finetune", model=MISTRAL, finetune=FULL,
                layout=build_grid(dp=2, gpu="A100 80GB", capacity_bytes=capacity))
    reserve = next(f for f in estimate(plan).cards[0].breakdown.details if f.key == "fragmentation")
    assert reserve.bytes == fsdp_trainer_replay(MISTRAL, FULL, 2, capacity - 768 * 2**20, None).reserve
    assert "Trainer steps of FSDP rank 0 of 2, given to every card" in reserve.formula


def test_the_fsdp_warning_says_which_reserve_the_card_took():
    """A replayed FSDP reserve warns with what it missed in the published runs; a flat percentage with how far
    the runs reserved above their allocated peak."""
    plan = Plan(name="fsdp", mode="finetune", model=MISTRAL, finetune=FULL,
                layout=build_grid(dp=2, gpu="A100 80GB", capacity_bytes=85_100_068_864))
    replayed = next(w for w in estimate(plan).warnings if w.code == "fsdp-reserve")
    assert "is replayed" in replayed.message and "2.5-6.5 % low" in replayed.message
    flat = plan.model_copy(update={"method": plan.method.model_copy(update={
        "overhead": plan.method.overhead.model_copy(update={"fragmentation_model": "percent"})})})
    percent = next(w for w in estimate(flat).warnings if w.code == "fsdp-reserve")
    assert "adds 5 % and, in closed form, what FSDP's own streams keep" in percent.message


def test_rank_0_broadcasts_a_decoder_unit_in_two_coalesced_buckets():
    """sync_module_states: broadcast_coalesced closes a bucket once it reaches 250 MiB (262,144,000 B) and keeps
    two in flight.  Mistral-7B's decoder unit in bf16, in parameter order: q 33,554,432, k and v 8,388,608 each,
    o 33,554,432, gate 117,440,512 (running total 201,326,592, under the limit), up 117,440,512 (318,767,104:
    the first bucket closes), down 117,440,512 and the norms 16,384 (117,456,896: the second).  Segments:
    318,767,104 / 2,097,152 = 152.0 -> 318,767,104 B; 117,456,896 / 2,097,152 = 56.008 -> 57 x 2 MiB =
    119,537,664 B; both are alive at once, and freed at the end."""
    alloc = CachingAllocator()
    sizes = [2 * t.elements for t in layer_tensors(MISTRAL)[0]]
    sync_module_states(alloc, sizes)
    assert (alloc.reserved, alloc.peak_allocated, alloc.allocated) == (438_304_768, 318_767_104 + 117_456_896, 0)


def test_a_bucket_of_one_tensor_is_broadcast_without_a_copy():
    """The root unit: the embedding alone (262,144,000 B) reaches the 250 MiB limit, a bucket of its own that
    flatten_dense_tensors returns as a view; the final norm and lm_head (8,192 + 262,144,000 B) make the second,
    a copy: 262,152,192 / 2,097,152 = 125.004 -> 126 x 2 MiB = 264,241,152 B."""
    alloc = CachingAllocator()
    sync_module_states(alloc, [262_144_000, 8_192, 262_144_000])
    assert (alloc.reserved, alloc.peak_allocated) == (264_241_152, 262_152_192)

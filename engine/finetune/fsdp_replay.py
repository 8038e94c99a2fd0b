"""The Trainer step of :mod:`engine.finetune.hf_trainer_replay` on one card of an FSDP run (``FULL_SHARD``,
FSDP1 as torch 2.4 runs it under accelerate): what the caching allocator reserves there.

The published FSDP runs reserve far more above their allocated peak than the same step on one card
(fms-acceleration's A100 tables: 3.8 to 8.7 GiB on PowerLM-3B over two cards).  Part of it is the
compute stream's own segments, as on one card; the rest is where FSDP puts its requests.  The caching
allocator gives a block only to requests of the stream it was allocated on, so FSDP's two side
streams keep segments of their own (``torch/distributed/fsdp/_runtime_utils.py``, torch 2.4):

* **start-up** (``_init_param_handle_from_module``, with accelerate's ``sync_module_states`` and
  ``cpu_ram_efficient_loading``), unit by unit in wrapping order (each decoder layer, its adapters
  first, then the root: embeddings, final norm, output layer): the unit's parameters moved to the card
  (QLoRA: each linear quantized as it arrives, its quantization state kept whole), broadcast from rank 0
  in coalesced buckets (:func:`sync_module_states`), concatenated into the flat parameter
  (``FlatParamHandle.flatten_tensors``), the parameters freed, the card's 1/N copied out (``_get_shard``:
  ``chunk.clone()``) and the flat parameter freed; on the default stream, so those segments serve the
  step later;
* **all-gathers** on ``_unshard_stream``: each unit's padded flat parameter before its forward (the
  root's from its forward to the end of the backward); under reentrant checkpointing again for the
  recompute, which reshards it after, and again for its backward; and under ``BACKWARD_PRE`` the next
  unit's as a unit's backward starts;
* **reduce-scatter** on ``_post_backward_stream``: each unit's 1/N gradient
  (``_get_reduce_scatter_tensors``: ``torch.empty_like(chunks[0])``), kept as the card's gradient until
  ``zero_grad``; the full gradient it reads is the compute stream's (``SplitWithSizesBackward``
  concatenates the unit's parameter gradients into the flat parameter's);
* **blocks another stream still reads** (``record_stream``: a resharded unit, the full gradient a
  reduce-scatter reads) leave the allocated count when freed but return to their pool only when the card
  has passed them.  The CPU runs ahead of the card until ``limit_all_gathers`` makes it wait for the
  oldest of two resharded units (``_FreeEventQueue``), so a unit's blocks come back then;
* **optimizer step**: after the Trainer reads the gradient norm (``.item()``: every pending block is
  back), torch AdamW on each parameter's part of the card's shard (``use_orig_params``, accelerate's
  default: the Trainer's parameter groups hold views of the flat shard, so a state per piece).

With PEFT every adapter matrix is a unit of its own (``peft.utils.other.fsdp_auto_wrap_policy``); its
gathers (a few hundred KiB, the small pool) are not replayed.  QLoRA under FSDP computes in bf16 with
bf16 norms: TRL skips ``prepare_model_for_kbit_training`` for a sharded QLoRA model.  The replay is rank
0's; other ranks' optimizers see other pieces of each flat parameter and reserve somewhat differently.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from engine.finetune.base_format import DTYPE_BYTES
from engine.finetune.config import FinetuneConfig
from engine.finetune.hf_trainer_replay import (
    TrainerReplay,
    TrainerStep,
    adapter_matrices,
    packed_bytes,
    quantize,
    replay_steps,
)
from engine.model.spec import ModelSpec
from engine.report.formatting import ceil_div
from engine.training.memory.caching_allocator import CachingAllocator
from engine.training.memory.fsdp import gathered
from engine.units import MiB
from engine.weights.tensors import Tensor, layer_tensors, outer_tensors

# What the replayed FSDP reserve left out against the published runs (docs/validation.md, fms-*-fsdp2-*-nvidia)
FSDP_REPLAYED_RESERVE_WARNING = (
    "FSDP's reserved memory is replayed (its all-gathers and reduce-scatters on streams of their own, beside the compute "
    "stream's segments). Against nvidia-smi in fms-acceleration's FSDP runs on two A100s whose allocated peak this "
    "count matches (PowerLM-3B full, LoRA, QLoRA; Mistral-7B full) it was 2.5-6.5 % low, 0.5 to 3.1 GiB growing with "
    "the model; keep that much free")

UNSHARD = 1  # FSDP1's _unshard_stream
REDUCE = 2  # FSDP1's _post_backward_stream
IN_FLIGHT = 2  # _FreeEventQueue._max_num_inflight_all_gathers
BROADCAST_BUCKET = 250 * MiB  # torch.distributed.fsdp._init_utils.PARAM_BROADCAST_BUCKET_SIZE
IN_FLIGHT_BROADCASTS = 2  # broadcast_coalesced's max_in_flight


@dataclass(frozen=True)
class FlatParameters:
    """Bytes of each unit's flat parameter (decoder layers by index, the root as None) and the card count."""

    flat: dict[int | None, int]
    element: int
    shards: int

    def whole(self, unit: int | None) -> int:
        """The padded flat parameter an all-gather fills."""
        return gathered(self.flat[unit], self.element, self.shards)

    def shard(self, nbytes: int, element: int) -> int:
        """One card's 1/N of a flat parameter of ``nbytes`` (padded to a multiple of N elements)."""
        return gathered(nbytes, element, self.shards) // self.shards


def _rank0_pieces(tensors: list[Tensor], element: int, shards: int) -> list[tuple[Tensor, int]]:
    """Each tensor's bytes inside rank 0's shard of the unit's flat parameter (``use_orig_params``)."""
    kept = ceil_div(sum(t.elements for t in tensors), shards)
    pieces, start = [], 0
    for t in tensors:
        inside = max(0, min(start + t.elements, kept) - start)
        if inside:
            pieces.append((t, element * inside))
        start += t.elements
    return pieces


def sync_module_states(alloc: CachingAllocator, sizes: list[int]) -> None:
    """``sync_module_states``: rank 0 broadcasts the unit's parameters (``_sync_params_and_buffers``), which
    ``broadcast_coalesced`` (torch/csrc/distributed/c10d/comm.cpp) flattens into buckets, each closed once it
    reaches 250 MiB (``PARAM_BROADCAST_BUCKET_SIZE``; ``compute_bucket_assignment_by_size``), two in flight: a
    bucket's flat copy is freed when the one two behind it is issued, or at the end.  A bucket of one tensor
    is broadcast as it is (``flatten_dense_tensors`` returns its view)."""
    buckets: list[list[int]] = [[]]
    for size in sizes:
        buckets[-1].append(size)
        if sum(buckets[-1]) >= BROADCAST_BUCKET:
            buckets.append([])
    in_flight: deque[int | None] = deque()
    for bucket in (b for b in buckets if b):
        if len(in_flight) >= IN_FLIGHT_BROADCASTS:
            _free_if(alloc, in_flight.popleft())
        in_flight.append(alloc.malloc(sum(bucket)) if len(bucket) > 1 else None)
    while in_flight:
        _free_if(alloc, in_flight.popleft())


def _free_if(alloc: CachingAllocator, handle: int | None) -> None:
    if handle is not None:
        alloc.free(handle)


def _flatten_and_shard(alloc: CachingAllocator, params: list[tuple[int, int]], units: FlatParameters, element: int) -> int:
    """FSDP's start-up for one unit whose parameters (handle, bytes) are on the card: the broadcast from rank 0,
    the flat parameter, the parameters freed, the card's shard copied out, the flat parameter freed.  Returns
    the shard."""
    sizes = [size for _, size in params]
    sync_module_states(alloc, sizes)
    flat = alloc.malloc(sum(sizes))
    for handle, _ in params:
        alloc.free(handle)
    shard = alloc.malloc(units.shard(sum(sizes), element))
    alloc.free(flat)
    return shard


def load_sharded(alloc: CachingAllocator, spec: ModelSpec, cfg: FinetuneConfig,
                 shards: int) -> tuple[tuple[tuple[int, ...], ...], FlatParameters]:
    """Start-up on rank 0: every unit sharded in wrapping order (QLoRA: each linear quantized as FSDP moves
    it to the card, its packed weight flattened and its quantization state kept whole).  Returns the
    Trainer's parameter groups as rank 0's pieces (fully fine-tuned: the matrices, then the norms; else the
    adapters) and the units."""
    e, a = DTYPE_BYTES[cfg.base_dtype], DTYPE_BYTES[cfg.adapter_dtype]
    quantized = cfg.method == "qlora"

    def stored(t: Tensor) -> int:
        return packed_bytes(t.elements) if quantized and t.is_matrix else e * t.elements

    def to_card(t: Tensor) -> tuple[int, int]:
        if quantized and t.is_matrix:
            return quantize(alloc, t.elements, cfg.double_quant), stored(t)
        return alloc.malloc(stored(t)), stored(t)

    layers = layer_tensors(spec)
    root = list(outer_tensors(spec))
    units = FlatParameters({**{i: sum(stored(t) for t in ts) for i, ts in enumerate(layers)},
                       None: e * sum(t.elements for t in root)}, e, shards)
    adapters: list[int] = []
    matrices = adapter_matrices(spec, cfg)
    for i, tensors in enumerate(layers):
        for size in (size for layer, pair in matrices if layer == i for size in pair):  # lora_A, lora_B: a unit each
            _flatten_and_shard(alloc, [(alloc.malloc(size), size)], units, a)
            adapters.append(units.shard(size, a))
        _flatten_and_shard(alloc, [to_card(t) for t in tensors], units, e)
    _flatten_and_shard(alloc, [to_card(t) for t in root], units, e)
    if cfg.method != "full":
        return (tuple(adapters),), units
    pieces = [p for ts in [*layers, root] for p in _rank0_pieces(list(ts), e, shards)]
    return (tuple(size for t, size in pieces if t.is_matrix), tuple(size for t, size in pieces if not t.is_matrix)), units


class FsdpStep(TrainerStep):
    """The Trainer step with FSDP's gathers and reduce-scatters on their streams."""

    def __init__(self, alloc: CachingAllocator, spec: ModelSpec, cfg: FinetuneConfig,
                 groups: tuple[tuple[int, ...], ...], transformers_version: str | None, units: FlatParameters) -> None:
        super().__init__(alloc, spec, cfg, groups, transformers_version, sharded=True)
        self.flat_params = units
        # the backward's adapter gradients are whole; the optimizer reads the shards
        self.adapters = tuple(size for _, pair in adapter_matrices(spec, cfg) for size in pair)
        self.whole: dict[int | None, int] = {}  # gathered units
        # each resharded unit's blocks (its gathered parameter, and the full gradients its reduce-scatter reads),
        # freed by the CPU but not back in a pool until the card has passed that unit
        self.resharded: deque[list[int]] = deque()

    def _gather(self, unit: int | None) -> None:
        if unit in self.whole:
            return
        while len(self.resharded) >= IN_FLIGHT:  # limit_all_gathers: the CPU waits for the oldest
            self._release(self.resharded.popleft())
        self.whole[unit] = self.alloc.malloc(self.flat_params.whole(unit), UNSHARD)

    def _release(self, handles: list[int]) -> None:
        for handle in handles:
            self.alloc.release(handle)

    def _reshard(self, unit: int | None) -> None:
        handle = self.whole.pop(unit)
        self.alloc.free(handle, pending=True)  # the compute stream read it: record_stream
        self.resharded.append([handle])

    def _prefetch(self, unit: int | None) -> None:
        ahead = self.layers - 1 if unit is None else unit - 1
        if ahead >= 0:
            self._gather(ahead)

    def _reduce(self, unit: int | None, grads: list[int]) -> list[int]:
        alloc = self.alloc
        if self.full:  # the unit's parameter gradients concatenated into the flat parameter's
            flat = alloc.malloc(self.flat_params.flat[unit])
            for handle in grads:
                alloc.free(handle)
            full = [(flat, self.flat_params.flat[unit], self.flat_params.element)]
        else:
            first = 0 if unit is None else unit * self.per_layer
            full = [(h, size, self.sh.a) for h, size in zip(grads, self.adapters[first:], strict=False)]
        shards = []
        for handle, size, element in full:
            shards.append(alloc.malloc(self.flat_params.shard(size, element), REDUCE))
            alloc.free(handle, pending=True)  # the reduce-scatter reads it: record_stream
            self.resharded[-1].append(handle)  # back when the card has passed this unit
        return shards

    def _backward_done(self) -> None:
        while self.resharded:  # the Trainer reads the gradient norm (.item()): the card has caught up
            self._release(self.resharded.popleft())


@lru_cache(maxsize=32)
def fsdp_trainer_replay(spec: ModelSpec, cfg: FinetuneConfig, shards: int, capacity: int | None = None,
                        transformers_version: str | None = None) -> TrainerReplay:
    """:func:`engine.finetune.hf_trainer_replay.trainer_replay` for rank 0 of ``shards`` FSDP cards."""
    alloc = CachingAllocator(capacity=capacity)
    groups, units = load_sharded(alloc, spec, cfg, shards)
    return replay_steps(FsdpStep(alloc, spec, cfg, groups, transformers_version, units))

"""Everything one card's memory depends on, as a hashable value.

Cards with the same context have the same breakdown, so an estimate computes
each distinct context once (a uniform 1,024-card plan has a handful).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model.spec import ModelSpec
from engine.report.records import Figure
from engine.training.config import MethodConfig, TrainingConfig


@dataclass(frozen=True, slots=True)
class ReplayedReserve:
    """The allocator reserve a replay outside the training estimate made for the card (the Hugging Face
    Trainer's, :mod:`engine.finetune.hf_trainer_replay`): over its steps, and before its optimizer's first."""

    at_peak: Figure
    before_first_step: Figure


@dataclass(frozen=True, slots=True, eq=False)
class CardContext:
    model: ModelSpec
    training: TrainingConfig
    method: MethodConfig
    stage: int  # 0-based pipeline stage
    stages: int  # pipeline depth PP
    vpp: int  # interleaved chunks per stage
    layer_indices: tuple[int, ...]  # layers this stage holds (all chunks)
    tp: int
    dp: int  # data-parallel replicas sharing the ZeRO shards (without CP)
    cp: int
    ep: int
    in_flight_chunks: int  # forward chunk passes whose activations are alive at the peak
    world: int  # cards in the plan (NCCL needed when > 1)
    replayed_reserve: ReplayedReserve | None = None  # the fragmentation figure, replayed by the caller

    def _key(self) -> tuple:
        # The model, training and method objects are compared by identity: hashing a pydantic
        # model field by field costs microseconds, and plans derived with model_copy() share
        # them.  Equal-but-distinct objects only miss the memo (recomputed, still correct);
        # a memo key holds its objects alive, so their ids cannot be reused meanwhile.
        return (id(self.model), id(self.training), id(self.method), self.stage, self.stages, self.vpp,
                self.layer_indices, self.tp, self.dp, self.cp, self.ep, self.in_flight_chunks, self.world,
                self.replayed_reserve)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CardContext) and self._key() == other._key()

    @property
    def first(self) -> bool:
        return self.stage == 0

    @property
    def last(self) -> bool:
        return self.stage == self.stages - 1

    @property
    def layers(self) -> int:
        return len(self.layer_indices)

    @property
    def shard(self) -> int:
        """Degree the ZeRO / distributed optimizer shards over (Megatron: DP x CP)."""
        return self.dp * self.cp

    @property
    def fsdp(self) -> bool:
        """Whether PyTorch FSDP shards this card's states (``training.fsdp`` over more than one rank)."""
        return self.training.fsdp and self.shard > 1

    @property
    def in_flight_microbatches(self) -> int:
        return -(-self.in_flight_chunks // self.vpp)

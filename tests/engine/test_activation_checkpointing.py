"""DeepSpeed activation checkpointing: partitioned checkpoints and checkpoints in CPU memory, by hand.

``deepspeed/runtime/activation_checkpointing/checkpointing.py``: with ``partition_activations`` each
model-parallel rank keeps 1/TP of every checkpointed layer input (all-gathered when the layer is recomputed);
``cpu_checkpointing`` moves those partitions to host memory.  Full recompute keeps one checkpoint per layer
but the one being recomputed, plus that layer's working set.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.cli.main import main
from engine.model.spec import ModelSpec
from engine.plan.schema import plan_error_from_validation
from engine.training.config import MethodConfig, TrainingConfig
from engine.training.memory.activations import checkpoint_bytes, layer_activations
from engine.training.memory.context import CardContext
from engine.training.memory.detailed import detailed_breakdown, host_checkpoint_bytes
from engine.training.memory.schedule import stage_layer_indices

GPT = ModelSpec(layers=8, hidden=256, heads=4, ffn=1024, vocab=1000, norm="layernorm", bias=True,
                position_embedding="learned", max_position=512, dropout=0.1)


def _ctx(**training) -> CardContext:
    tr = TrainingConfig(seq=512, micro_batch=2, recompute="full", **training)
    return CardContext(model=GPT, training=tr, method=MethodConfig(method="detailed", framework="deepspeed"),
                       stage=0, stages=2, vpp=1, layer_indices=stage_layer_indices(8, 2, None, 1)[0],
                       tp=4, dp=1, cp=1, ep=1, in_flight_chunks=1, world=8)


def test_checkpoint_bytes_by_hand():
    # one layer input: 2 B x s 512 x b 2 x h 256 = 524,288 B on every TP rank without sequence parallelism
    assert checkpoint_bytes(GPT, 512, 2, 4, False, 2, False, False) == 2 * 512 * 2 * 256 == 524_288
    # partition_activations: 1/4 of it per TP rank
    assert checkpoint_bytes(GPT, 512, 2, 4, False, 2, True, False) == 524_288 // 4 == 131_072
    # with sequence parallelism the input is split over TP already: partitioning adds nothing
    assert checkpoint_bytes(GPT, 512, 2, 4, True, 2, True, False) == 524_288 // 4
    # cpu_checkpointing: nothing stays on the GPU
    assert checkpoint_bytes(GPT, 512, 2, 4, False, 2, True, True) == 0


def test_stage_activations_keep_partitioned_or_no_checkpoints():
    # stage 1 of 2 holds 4 layers; the working set is one whole layer's activations at TP 4
    working = layer_activations(GPT, False, 512, 2, 4, False, False, False, 2).bytes

    def layer_part(**training) -> int:
        bd = detailed_breakdown(_ctx(**training))
        ends = sum(f.bytes for f in bd.details if f.key == "embedding_inputs")
        return bd.activations.bytes - ends

    # 4 layers x 1 micro-batch in flight: 4 checkpoints, one of which is being recomputed
    assert layer_part() == 524_288 * (4 - 1) + working
    assert layer_part(partition_activations=True) == 131_072 * (4 - 1) + working
    assert layer_part(partition_activations=True, cpu_checkpointing=True) == working
    # the host holds this rank's 4 partitions of 131,072 B
    assert host_checkpoint_bytes(_ctx(partition_activations=True, cpu_checkpointing=True)) == 4 * 131_072


def test_the_switches_need_full_recompute_and_cpu_needs_partitions():
    with pytest.raises(ValidationError) as e:
        TrainingConfig(recompute="selective", partition_activations=True)
    assert plan_error_from_validation(e.value).field == "training.partition_activations"
    with pytest.raises(ValidationError) as e:
        TrainingConfig(recompute="full", cpu_checkpointing=True)
    error = plan_error_from_validation(e.value)
    assert error.field == "training.cpu_checkpointing" and "partition_activations" in str(error)


def test_cli_flags(capsys):
    base = ["estimate", "--layers", "8", "--hidden", "256", "--heads", "4", "--ffn", "1024", "--vocab", "1000",
            "--seq", "512", "--micro-batch", "2", "--tp", "4", "--pp", "2", "--dp", "1", "--gpu-memory", "80GiB",
            "--method", "detailed", "--framework", "deepspeed", "--recompute", "full"]
    assert main(base + ["--partition-activations", "--cpu-checkpointing", "--json"]) == 0
    capsys.readouterr()
    assert main(base[:-2] + ["--recompute", "selective", "--partition-activations"]) == 2
    err = capsys.readouterr().err
    assert "partition_activations" in err and err.count("\n") == 1


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([(False, False), (True, False), (True, True)]), st.booleans(), st.integers(1, 3),
       st.sampled_from([1, 2, 4]))
def test_planner_fast_path_is_the_timeline_peak(modes, sp, chunks, tp):
    from engine.planner.activations import rest_bytes_fast

    partition, cpu = modes
    tr = TrainingConfig(seq=128, micro_batch=2, recompute="full", sequence_parallel=sp,
                        partition_activations=partition, cpu_checkpointing=cpu)
    ctx = CardContext(model=GPT, training=tr, method=MethodConfig(method="detailed", framework="deepspeed"),
                      stage=1, stages=2, vpp=1, layer_indices=stage_layer_indices(8, 2, None, 1)[1],
                      tp=tp, dp=1, cp=1, ep=1, in_flight_chunks=chunks, world=2 * tp)
    bd = detailed_breakdown(ctx)
    static = bd.weights.bytes + bd.gradients.bytes + bd.optimizer_states.bytes + bd.communication.bytes
    # the last stage of DeepSpeed's pipeline also holds its two kept outputs at every moment (the planner's
    # kept_table): 2 x fp32 logits 4 B x 128 x 2 x 1,000 / TP
    kept = next(f.bytes for f in bd.details if f.key == "pipeline_output_buffers")
    assert kept == 2 * -(-4 * 128 * 2 * 1000 // tp)
    assert static + kept + rest_bytes_fast(ctx) == bd.timeline[bd.peak_moment].total_bytes


def test_a_layout_search_keeps_the_switches_on_full_recompute_only():
    """The planner varies recompute: a candidate without full recompute drops DeepSpeed's checkpoint switches
    (its plan stays valid), one with full recompute keeps them, and estimate_args repeats them."""
    from engine.planner.explain import candidate_training, estimate_args
    from engine.planner.request import Hardware, PlannerRequest, SearchSpace
    from engine.planner.search import search

    training = TrainingConfig(seq=128, recompute="full", partition_activations=True, cpu_checkpointing=True)
    request = PlannerRequest(model=GPT, training=training, method=MethodConfig(method="detailed", framework="deepspeed"),
                             hardware=(Hardware(gpu="test", capacity_bytes=10**12, max_gpus=8, bf16_tflops=100.0,
                                                intra_node_gbps=100.0, inter_node_gbps=25.0),),
                             space=SearchSpace(gpus_per_node=8, micro_batches=(1,)))
    result = search(request, keep_all=True)
    seen = set()
    for c in result.front:
        tr = TrainingConfig.model_validate(candidate_training(request, c).model_dump())  # re-validated
        full = c.recompute == "full"
        assert (tr.partition_activations, tr.cpu_checkpointing) == (full, full)
        assert ("--cpu-checkpointing" in estimate_args(request, c)) is full
        seen.add(full)
    assert seen == {True, False}

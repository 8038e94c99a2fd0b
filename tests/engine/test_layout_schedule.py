"""Megatron rank order, stage layer assignment, in-flight micro-batches."""

import pytest

from engine import GiB, PlanError, build_grid
from engine.training.memory.schedule import in_flight_chunks, stage_layer_indices


def test_megatron_rank_order_tp_fastest_pp_slowest():
    layout = build_grid(tp=2, pp=2, dp=2, gpus_per_node=4, gpu="g", capacity_bytes=GiB)
    topo = layout.topology
    # rank = tp_r + 2 * (dp_r + 2 * pp_r)
    assert [c.stage for c in layout.cards] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert topo.tp_rank == [0, 1, 0, 1, 0, 1, 0, 1]
    assert topo.dp_rank == [0, 0, 1, 1, 0, 0, 1, 1]
    assert [c.node for c in layout.cards] == ["n0"] * 4 + ["n1"] * 4
    assert set(topo.tp_size) == {2} and set(topo.dp_size) == {2}
    assert not any(topo.tp_spans_nodes.values())


def test_tp_group_spanning_nodes_is_flagged():
    layout = build_grid(tp=4, gpus_per_node=2, gpu="g", capacity_bytes=GiB)
    assert any(layout.topology.tp_spans_nodes.values())


def test_interleaved_stage_layers():
    # 8 layers, PP 2, VPP 2: chunks of 2 layers; stage 0 holds chunks 0 and 2
    assert stage_layer_indices(8, 2, None, 2) == [(0, 1, 4, 5), (2, 3, 6, 7)]


def test_uneven_split():
    assert stage_layer_indices(5, 2, (3, 2), 1) == [(0, 1, 2), (3, 4)]
    with pytest.raises(PlanError, match="summing to layers=5"):
        stage_layer_indices(5, 2, (3, 3), 1)


def test_one_f_one_b_in_flight():
    # stage k (0-based) holds min(PP - k, m) micro-batches
    assert [in_flight_chunks(k, 4, 8, 1) for k in range(4)] == [4, 3, 2, 1]
    assert [in_flight_chunks(k, 4, 2, 1) for k in range(4)] == [2, 2, 2, 1]


def test_interleaved_penalty_matches_megatron():
    # Megatron: first stage holds PP * (1 + (PP - 1) / (PP * vpp)) micro-batches' worth of its layers.
    # PP = 4, vpp = 2: warm-up (4 - 0 - 1) * 2 + (2 - 1) * 4 = 10 chunk passes, + 1 = 11 chunks of L/8 layers
    # = 11/2 = 5.5 micro-batches of the stage's L/4 layers = 4 * (1 + 3/8)
    assert in_flight_chunks(0, 4, 16, 2) == 11
    assert 11 / 2 == 4 * (1 + 3 / 8)

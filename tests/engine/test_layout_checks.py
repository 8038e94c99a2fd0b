"""Layout checks on explicit (heterogeneous) card lists: errors and warnings."""

import pytest

from engine import (
    Card,
    GiB,
    Layout,
    MethodConfig,
    ModelSpec,
    Node,
    Plan,
    PlanError,
    TrainingConfig,
    build_grid,
    estimate,
)

MODEL = ModelSpec(layers=4, hidden=64, heads=4, kv_heads=2, ffn=128, vocab=100, norm="rmsnorm", bias=False)


def plan_of(cards, nodes=None, **layout):
    nodes = nodes or (Node(id="a", name="a"), Node(id="b", name="b"))
    return Plan(model=MODEL, training=TrainingConfig(seq=32), method=MethodConfig(),
                layout=Layout(nodes=tuple(nodes), cards=tuple(cards), **layout))


def card(i, node="a", stage=0, tp=0, dp=0, gpu="RTX 4090", cap=24 * GiB):
    return Card(id=f"c{i}", node=node, slot=i, gpu=gpu, capacity_bytes=cap, stage=stage, tp_group=tp, dp_group=dp)


def test_empty_stage_is_an_error():
    with pytest.raises(PlanError, match="stage 1 is empty"):
        estimate(plan_of([card(0, stage=0), card(1, stage=2, tp=1)]))


def test_tp_group_across_stages_is_an_error():
    with pytest.raises(PlanError, match="tp_group"):
        estimate(plan_of([card(0, stage=0, tp=0), card(1, stage=1, tp=0)]))


def test_kv_heads_not_divisible_by_tp():
    cards = [card(i, tp=0) for i in range(4)]  # TP 4 but only 2 KV heads
    with pytest.raises(PlanError, match="kv_heads=2"):
        estimate(plan_of(cards))


def test_card_on_unknown_node():
    with pytest.raises(PlanError, match="layout.cards\\[0\\].node"):
        estimate(plan_of([card(0, node="zzz")]))


def test_tp_spanning_nodes_and_unequal_groups_and_mixed_gpus_warn():
    cards = [card(0, node="a", tp=0, dp=0), card(1, node="b", tp=0, dp=1),  # a TP-2 group across nodes
             card(2, node="b", tp=1, dp=0, gpu="RTX 3090")]  # a TP-1 replica
    est = estimate(plan_of(cards))
    codes = {w.code: w for w in est.warnings}
    assert codes["tp-spans-nodes"].cards == (0, 1)
    assert "unequal-tp-groups" in codes and codes["unequal-tp-groups"].cards == (2,)
    assert "mixed-gpus" in codes
    # the lone TP-1 card holds the whole layer: more weight bytes than a TP-2 rank
    assert est.cards[2].breakdown.weights.bytes > est.cards[0].breakdown.weights.bytes


def test_over_capacity_warning_names_the_cards():
    cards = [card(0, cap=1000)]
    est = estimate(plan_of(cards))
    assert not est.fits
    over = next(w for w in est.warnings if w.code == "over-capacity")
    assert over.cards == (0,)


def test_context_parallel_needs_flash_attention_and_halves_sequence_activations():
    model = MODEL
    base = dict(model=model, method=MethodConfig(), layout=build_grid(cp=2, gpu="g", capacity_bytes=GiB))
    with pytest.raises(PlanError, match="flash_attention"):
        estimate(Plan(training=TrainingConfig(seq=64), **base))
    cp2 = estimate(Plan(training=TrainingConfig(seq=64, flash_attention=True), **base)).cards[0].breakdown
    cp1 = estimate(Plan(training=TrainingConfig(seq=32, flash_attention=True), model=model, method=MethodConfig(),
                        layout=build_grid(gpu="g", capacity_bytes=GiB))).cards[0].breakdown
    # CP 2 at s = 64 holds the same activations as one card at s = 32
    assert cp2.activations.bytes == cp1.activations.bytes


def test_vpp_without_pipeline_is_an_error():
    with pytest.raises(PlanError, match="layout.vpp"):
        estimate(Plan(model=MODEL, layout=build_grid(vpp=2, gpu="g", capacity_bytes=GiB)))

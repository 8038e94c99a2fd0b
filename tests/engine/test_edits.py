"""Pure plan edits (engine.plan.edits): no QApplication, exact expectations written out here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import PlanError
from engine.estimate import estimate
from engine.model.spec import ModelSpec
from engine.plan import edits
from engine.plan.layout import Layout, Node, build_grid
from engine.plan.schema import Plan
from engine.training.config import MethodConfig, TrainingConfig
from engine.units import GB, GiB

MODEL_13B = ModelSpec(name="13B", params=13_000_000_000, layers=40, hidden=5120, heads=40)
A100 = 80 * GiB


def article_plan() -> Plan:
    """The article's 13B plan: PP 4 x ZeRO-1 DP 2 on one node of 8 x 80 GB cards."""
    return Plan(
        name="13B PP4 x DP2", model=MODEL_13B,
        training=TrainingConfig(zero=1), method=MethodConfig(method="seed"),
        layout=build_grid(pp=4, dp=2, gpu="A100 80GB", capacity_bytes=A100),
    )


def empty_plan(nodes: int = 1, slots: int = 8) -> Plan:
    layout = Layout(nodes=tuple(Node(id=f"n{k}", name=f"node-{k}", slots=slots, y=float(k)) for k in range(nodes)))
    return Plan(model=MODEL_13B, training=TrainingConfig(zero=1), method=MethodConfig(method="seed"), layout=layout)


def roles(plan: Plan) -> dict[str, tuple]:
    return {c.id: (c.node, c.slot, c.stage, c.tp_group, c.dp_group) for c in plan.layout.cards}


# Nodes -------------------------------------------------------------------------
def test_add_node_appends_and_leaves_the_input_alone():
    plan = empty_plan()
    out = edits.add_node(plan, "服务器-甲", x=2.5, y=-1.0, slots=4, node_id="new")
    assert [n.id for n in plan.layout.nodes] == ["n0"]
    assert out.layout.nodes[-1].model_dump() == {"id": "new", "name": "服务器-甲", "slots": 4, "x": 2.5, "y": -1.0}
    with pytest.raises(PlanError) as e:
        edits.add_node(out, node_id="new")
    assert e.value.field == "node.id"
    with pytest.raises(PlanError):
        edits.add_node(plan, slots=0)


def test_remove_node_removes_its_cards():
    plan = build_plan_two_nodes()
    out = edits.remove_node(plan, "n1")
    assert [n.id for n in out.layout.nodes] == ["n0"]
    # PP 4 x DP 2 x TP 2 = 16 cards over two 8-slot nodes; node n0 keeps ranks 0..7.
    assert [c.id for c in out.layout.cards] == [f"c{r}" for r in range(8)]
    with pytest.raises(PlanError):
        edits.remove_node(plan, "nope")


def build_plan_two_nodes() -> Plan:
    return Plan(model=MODEL_13B, training=TrainingConfig(zero=1), method=MethodConfig(method="seed"),
                layout=build_grid(tp=2, pp=4, dp=2, gpu="A100 80GB", capacity_bytes=A100))


def test_rename_node_normalises_spaces_and_rejects_empty():
    out = edits.rename_node(empty_plan(), "n0", "  rack  7 ")
    assert out.layout.nodes[0].name == "rack 7"
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(PlanError) as e:
            edits.rename_node(empty_plan(), "n0", bad)
        assert e.value.field == "node.name"


def test_set_node_position():
    out = edits.set_node_position(empty_plan(), "n0", 3.25, 4.0)
    assert (out.layout.nodes[0].x, out.layout.nodes[0].y) == (3.25, 4.0)
    with pytest.raises(PlanError):
        edits.set_node_position(empty_plan(), "n0", float("nan"), 0.0)


def test_duplicate_node_adds_dp_replicas():
    plan = article_plan()  # one node, 8 cards: rank r = dp_r + 2 * pp_r
    out = edits.duplicate_node(plan, "n0", copies=2)
    assert len(out.layout.nodes) == 3 and len(out.layout.cards) == 24
    copy1, copy2 = out.layout.nodes[1], out.layout.nodes[2]
    assert (copy1.name, copy1.y, copy2.name, copy2.y) == ("node-0 (2)", 1.0, "node-0 (3)", 2.0)
    # Each copy keeps stages and DP groups (replicas), so DP size goes from 2 to 2 x 3 = 6.
    topo = out.layout.topology
    assert set(topo.dp_size) == {6}
    # TP groups: 8 originals have tp ids 0..7 (TP 1); copy 1 gets 8..15, copy 2 gets 16..23.
    assert sorted(c.tp_group for c in out.layout.cards) == list(range(24))
    assert [c.stage for c in out.layout.cards[8:16]] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert len({c.id for c in out.layout.cards}) == 24
    for bad in (0, 129):
        with pytest.raises(PlanError):
            edits.duplicate_node(plan, "n0", bad)


def test_arrange_nodes_on_a_grid():
    plan = edits.duplicate_node(empty_plan(), "n0", copies=4)  # 5 nodes
    out = edits.arrange_nodes(plan, columns=2)
    assert [(n.x, n.y) for n in out.layout.nodes] == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2)]
    with pytest.raises(PlanError):
        edits.arrange_nodes(plan, 0)


# Cards -------------------------------------------------------------------------
def test_add_card_takes_first_free_slot_and_fresh_groups():
    plan = edits.add_card(empty_plan(), "n0", "RTX 4090", 24 * GiB)
    plan = edits.add_card(plan, "n0", "RTX 4090", 24 * GiB, slot=5)
    plan = edits.add_card(plan, "n0", "A100 80GB", A100)
    got = [(c.slot, c.gpu, c.capacity_bytes, c.tp_group, c.dp_group) for c in plan.layout.cards]
    assert got == [(0, "RTX 4090", 25_769_803_776, 0, 0), (5, "RTX 4090", 25_769_803_776, 1, 1),
                   (1, "A100 80GB", 85_899_345_920, 2, 2)]
    with pytest.raises(PlanError) as e:
        edits.add_card(plan, "n0", "RTX 4090", 24 * GiB, slot=5)
    assert e.value.field == "card.slot"
    with pytest.raises(PlanError):
        edits.add_card(plan, "n0", "RTX 4090", 0)
    with pytest.raises(PlanError):
        edits.add_card(plan, "zz", "RTX 4090", 1)


def test_add_card_to_a_full_node_is_an_error():
    plan = empty_plan(slots=1)
    plan = edits.add_card(plan, "n0", "A10", 24 * GB)
    with pytest.raises(PlanError) as e:
        edits.add_card(plan, "n0", "A10", 24 * GB)
    assert e.value.field == "node"


def test_move_cards_fills_free_slots_in_plan_order():
    plan = build_plan_two_nodes()
    plan = edits.remove_cards(plan, ["c8", "c9", "c10"])  # n1 slots 0, 1, 2 free
    out = edits.move_cards(plan, ["c5", "c3"], "n1")
    moved = {c.id: (c.node, c.slot) for c in out.layout.cards if c.id in ("c3", "c5")}
    assert moved == {"c3": ("n1", 0), "c5": ("n1", 1)}
    # Moving cards into the node that already holds them is a no-op.
    assert edits.move_cards(out, ["c3"], "n1") == out
    with pytest.raises(PlanError) as e:
        edits.move_cards(out, ["c0", "c1"], "n1")  # one free slot left (slot 2)
    assert "(it has 1)" in str(e.value)


def test_remove_cards_and_unknown_ids():
    out = edits.remove_cards(article_plan(), ["c0", "c7"])
    assert [c.id for c in out.layout.cards] == ["c1", "c2", "c3", "c4", "c5", "c6"]
    with pytest.raises(PlanError):
        edits.remove_cards(article_plan(), ["c99"])
    with pytest.raises(PlanError):
        edits.remove_cards(article_plan(), [])


# Roles -------------------------------------------------------------------------
def test_set_stage_splits_partial_groups_and_keeps_the_plan_valid():
    plan = build_plan_two_nodes()  # TP 2: c0 and c1 form tp group 0, stage 0
    out = edits.set_stage(plan, ["c0"], 3)
    c0, c1 = out.layout.cards[0], out.layout.cards[1]
    assert c0.stage == 3 and c1.stage == 0
    # 16 cards: tp ids 0..7, dp ids 0..7; c0 leaves both partly-selected groups for fresh id 8.
    assert (c0.tp_group, c1.tp_group, c0.dp_group, c1.dp_group) == (8, 0, 8, 1)
    estimate(out)  # no PlanError: no TP group spans two stages


def test_set_stage_whole_group_keeps_ids_and_article_numbers():
    # Move the 13B PP4 x DP2 stage-1 pair (c2, c3) to stage 3 and stage-3 pair (c6, c7) to 1:
    plan = edits.set_stage(edits.set_stage(article_plan(), ["c2", "c3"], 3), ["c6", "c7"], 1)
    assert [(c.stage, c.tp_group, c.dp_group) for c in plan.layout.cards[2:4]] == [(3, 2, 1), (3, 3, 1)]
    # Card c2 is now stage 3 (last, 1 micro-batch in flight):
    # 13e9 x (6/4 + 12/8) = 39.0e9 states + 33.554432e9 / 4 = 8.388608e9 activations = 47.388608e9 B
    # (activations 40 x 4096 x 5120 x 10 layers x 1 = 8,388,608,000).
    total = estimate(plan).cards[2].total_bytes
    assert total == 39_000_000_000 + 8_388_608_000


def test_set_stage_drops_an_uneven_split_when_the_stage_count_changes():
    plan = edits.set_pp_layers(article_plan(), (11, 10, 10, 9))
    assert plan.layout.pp_layers == (11, 10, 10, 9)
    same = edits.set_stage(plan, ["c0"], 1)  # stages still 0..3
    assert same.layout.pp_layers == (11, 10, 10, 9)
    fewer = edits.set_stage(plan, ["c6", "c7"], 0)  # stage 3 gone: 3 stages
    assert fewer.layout.pp_layers is None
    with pytest.raises(PlanError):
        edits.set_stage(plan, ["c0"], -1)


def test_new_tp_group_requires_one_stage():
    plan = edits.new_tp_group(article_plan(), ["c0", "c1"])
    # 8 cards with tp ids 0..7: the new group is 8.
    assert [c.tp_group for c in plan.layout.cards[:3]] == [8, 8, 2]
    assert plan.layout.topology.tp_size[:3] == [2, 2, 1]
    with pytest.raises(PlanError) as e:
        edits.new_tp_group(article_plan(), ["c0", "c2"])
    assert e.value.field == "tp_group"


def test_new_dp_group():
    plan = edits.new_dp_group(article_plan(), ["c0", "c2", "c4", "c6"])
    # dp ids were 0..3 (one per stage); the new group is 4, size 4.
    assert [c.dp_group for c in plan.layout.cards] == [4, 0, 4, 1, 4, 2, 4, 3]


def test_set_pp_layers_validation():
    for bad, field_text in (((10, 10, 10), "4 numbers"), ((0, 20, 10, 10), "at least one"),
                            ((10, 10, 10, 11), "summing to layers=40")):
        with pytest.raises(PlanError) as e:
            edits.set_pp_layers(article_plan(), bad)
        assert field_text in e.value.allowed
    assert edits.set_pp_layers(edits.set_pp_layers(article_plan(), (11, 10, 10, 9)), None).layout.pp_layers is None


# Grid --------------------------------------------------------------------------
def test_fill_grid_matches_build_grid_rank_order():
    # Two empty 8-slot nodes and one card to copy: fill a TP 2 x PP 4 x DP 2 grid (16 cards).
    plan = edits.add_card(empty_plan(nodes=2), "n0", "H100 SXM", A100)
    out = edits.fill_grid(plan, ["n0", "n1"], tp=2, pp=4, dp=2)
    reference = build_grid(tp=2, pp=4, dp=2, gpu="H100 SXM", capacity_bytes=A100)
    got = sorted((c.node, c.slot, c.stage, c.tp_group, c.dp_group) for c in out.layout.cards)
    want = sorted((c.node, c.slot, c.stage, c.tp_group, c.dp_group) for c in reference.cards)
    assert got == want
    # Spot check by hand: rank 5 = tp_r 1 + 2 x (dp_r 0 + 2 x pp_r 1) -> slot 5 of n0, stage 1,
    # tp group pp_r x DP + dp_r = 2, dp group pp_r x TP + tp_r = 3.
    r5 = next(c for c in out.layout.cards if (c.node, c.slot) == ("n0", 5))
    assert (r5.stage, r5.tp_group, r5.dp_group) == (1, 2, 3)


def test_fill_grid_offsets_groups_past_other_nodes_and_checks_sizes():
    plan = edits.add_node(article_plan(), node_id="extra", y=1.0)
    plan = edits.add_card(plan, "extra", "A100 80GB", A100)
    out = edits.fill_grid(plan, ["extra"], tp=2, pp=1, dp=2)
    extra = [c for c in out.layout.cards if c.node == "extra"]
    # The article plan's 8 cards use tp ids 0..7 and dp ids 0..3, so the grid starts at 8 and 4.
    assert [(c.slot, c.tp_group, c.dp_group) for c in extra] == [(0, 8, 4), (1, 8, 5), (2, 9, 4), (3, 9, 5)]
    with pytest.raises(PlanError):
        edits.fill_grid(plan, ["extra"], tp=4, pp=1, dp=4)  # 16 cards > 8 slots
    with pytest.raises(PlanError):
        edits.fill_grid(article_plan(), ["n0"], tp=1, pp=2, dp=2)  # 8 cards already > 4
    with pytest.raises(PlanError):
        edits.fill_grid(empty_plan(), ["n0"], tp=1, pp=1, dp=2)  # nothing to copy
    with pytest.raises(PlanError):
        edits.fill_grid(article_plan(), ["n0"], tp=0, pp=1, dp=1)


def test_an_edit_after_an_estimate_is_estimated_afresh():
    # Regression: copying a Layout used to carry its cached topology (4 stages) into the edit.
    plan = article_plan()
    estimate(plan)  # caches plan.layout.topology
    moved = edits.set_stage(plan, ["c6", "c7"], 5)  # stages 0, 1, 2, 5: stages 3 and 4 empty
    with pytest.raises(PlanError) as e:
        estimate(moved)
    assert e.value.field == "layout.cards.stage" and e.value.value == 3


# Invariants --------------------------------------------------------------------
card_ids = st.lists(st.sampled_from([f"c{r}" for r in range(16)]), min_size=1, max_size=6, unique=True)


@settings(max_examples=60, deadline=None)
@given(ids=card_ids, stage=st.integers(0, 3))
def test_set_stage_never_lets_a_tp_group_span_stages(ids, stage):
    plan = build_plan_two_nodes()
    before = plan.model_dump()
    out = edits.set_stage(plan, ids, stage)
    assert plan.model_dump() == before  # never mutates
    for members in out.layout.topology.tp_members.values():
        assert len({out.layout.cards[i].stage for i in members}) == 1
    assert {c.stage for c in out.layout.cards if c.id in ids} == {stage}


@settings(max_examples=60, deadline=None)
@given(ids=card_ids)
def test_moving_cards_keeps_slots_unique_and_within_the_node(ids):
    plan = edits.add_node(build_plan_two_nodes(), node_id="spare", slots=8, y=2.0)
    out = edits.move_cards(plan, ids, "spare")
    assert sorted(c.id for c in out.layout.cards) == sorted(c.id for c in plan.layout.cards)
    seen = {(c.node, c.slot) for c in out.layout.cards}
    assert len(seen) == len(out.layout.cards)
    assert all(c.slot < 8 for c in out.layout.cards)
    assert {c.node for c in out.layout.cards if c.id in ids} == {"spare"}


def test_cards_without_group_labels_get_fresh_groups():
    # Cards saved without labels (None: alone in that dimension) must not break grouping edits.
    from engine import Card, GiB, Layout, MethodConfig, ModelSpec, Node, Plan
    from engine.plan.edits import new_tp_group

    cards = tuple(Card(id=f"c{i}", node="n", slot=i, gpu="g", capacity_bytes=GiB) for i in range(3))
    plan = Plan(model=ModelSpec(layers=2, hidden=64, heads=4, vocab=10), method=MethodConfig(),
                layout=Layout(nodes=(Node(id="n"),), cards=cards))
    grouped = new_tp_group(plan, ["c0", "c1"])
    assert [c.tp_group for c in grouped.layout.cards] == [0, 0, None]

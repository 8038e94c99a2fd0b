"""MoE expert-load imbalance (issue 14): the busiest expert-parallel rank's routed tokens, by hand.

The rules (engine.training.config.ExpertLoad, engine.training.memory.activations.routed_copies):
each of the EP ranks routes T tokens to its top-k experts; a rank holds L = E / EP experts.

* balanced: every rank receives T·k copies (the average);
* drop-less worst case (Megatron-Core without a capacity factor): all EP·T tokens of the group may
  pick experts on one rank, min(k, L) copies each: EP·T·min(k, L);
* capacity factor c (Megatron-Core --moe-expert-capacity-factor; ``get_capacity`` in
  megatron/core/transformer/moe/moe_utils.py: ceil(num_tokens·topk / num_experts · c) per expert on
  each source rank; the Switch Transformer's expert capacity, Fedus et al. 2021, sec. 2.2):
  EP·L·ceil(T·k/E·c), at most the drop-less bound;
* measured ratio r (busiest / mean tokens per EP rank): ceil(T·k·r), at most the drop-less bound.

The busiest rank's permuted expert inputs (e·R·h) and expert FFN activations (per_ffn·e·R·f_e/t)
grow with what it receives; the router's probabilities, the routing indices and the weighted expert
outputs stay on the source rank (T·k).
"""

import json

import pytest
from pydantic import ValidationError

from engine import GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate
from engine.cli.main import main as cli
from engine.compare import expert_load_comparison
from engine.errors import PlanError
from engine.model.spec import MoESpec
from engine.plan.schema import (
    plan_error_from_validation,
    plan_from_json,
    plan_to_json,
    save_plan,
    with_changes,
)
from engine.planner import Hardware, PlannerRequest, SearchSpace, search
from engine.training.config import ExpertLoad
from engine.training.memory.activations import routed_copies

MOE = MoESpec(experts=8, top_k=2, expert_ffn=96)
MODEL = ModelSpec(name="moe", layers=2, hidden=64, heads=4, vocab=300, moe=MOE)  # every layer MoE, 2-matrix MLP
DROPLESS = ExpertLoad(kind="dropless-worst-case")


@pytest.mark.parametrize("load,ep,copies", [
    (ExpertLoad(), 4, 4096 * 2),
    # EP 4 x T 4096 x min(k 2, L 8/4 = 2)
    (DROPLESS, 4, 4 * 4096 * 2),
    # L = 8/8 = 1 expert per rank: a token sends it at most one copy
    (DROPLESS, 8, 8 * 4096 * 1),
    # c = 1.25: capacity ceil(4096 x 2 / 8 x 1.25) = 1,280 per expert and source rank; 4 sources x 2 experts
    (ExpertLoad(kind="capacity-factor", factor=1.25), 4, 4 * 2 * 1280),
    # c = 0.5: ceil(1024 x 0.5) = 512 per expert: every rank gets half the balanced share
    (ExpertLoad(kind="capacity-factor", factor=0.5), 4, 4 * 2 * 512),
    # c = 100: capped by the drop-less bound
    (ExpertLoad(kind="capacity-factor", factor=100.0), 4, 4 * 4096 * 2),
    (ExpertLoad(kind="measured", factor=1.5), 4, 12288),
    (ExpertLoad(kind="measured", factor=9.0), 4, 4 * 4096 * 2),
    # EP 1: the rank holds every expert and receives T·k whatever the router does
    (DROPLESS, 1, 4096 * 2),
    (ExpertLoad(kind="measured", factor=3.0), 1, 4096 * 2),
])
def test_routed_copies_by_hand(load, ep, copies):
    assert routed_copies(MOE, 4096, ep, load) == copies


def plan(load: ExpertLoad, dp: int = 4, ep: int = 4, capacity: int = 80 * GiB, **training) -> Plan:
    return Plan(name="moe", model=MODEL, training=TrainingConfig(seq=128, flash_attention=True, expert_load=load,
                                                                 **training),
                method=MethodConfig(method="detailed"), layout=build_grid(dp=dp, ep=ep, gpu="g", capacity_bytes=capacity))


def card(p: Plan):
    return estimate(p).cards[0].breakdown


def test_busiest_rank_activations_by_hand():
    # T = 128 tokens, k = 2: balanced R = 256; drop-less over EP 4 with 2 experts per rank: R = 4 x 128 x 2 = 1,024.
    # Per MoE layer the busiest rank keeps 2 x (R - 256) x h 64 more expert inputs and 2 x 2 B x (R - 256) x f_e 96
    # more FFN activations (two matrices, TP 1); two MoE layers, one micro-batch in flight (PP 1).
    extra = 2 * (2 * 768 * 64 + 2 * 2 * 768 * 96)
    assert extra == 786_432
    assert card(plan(DROPLESS)).activations.bytes - card(plan(ExpertLoad())).activations.bytes == extra
    # capacity factor 1.25: ceil(128 x 2 / 8 x 1.25) = 40 per expert, 4 sources x 2 experts = 320 copies
    capped = card(plan(ExpertLoad(kind="capacity-factor", factor=1.25)))
    assert capped.activations.bytes - card(plan(ExpertLoad())).activations.bytes == 2 * (2 * 64 * 64 + 2 * 2 * 64 * 96)
    assert "busiest EP rank receives R = 1,024 copies" in next(
        f.formula for f in card(plan(DROPLESS)).details if f.key == "activations_per_layer")


def test_expert_gradients_in_backward_count_the_busiest_rank():
    bd = card(plan(DROPLESS))
    backward = next(f for f in bd.details if f.key == "backward_buffers")
    # expert MLP gradients 2 x 2 B x R 1,024 x f_e 96 = 393,216 (more than attention's here)
    assert "expert MLP gradients 2·2·R (busiest EP rank, 1,024 copies)·f_e/t 393,216" in backward.formula


def test_without_expert_parallelism_the_load_changes_nothing():
    assert card(plan(DROPLESS, ep=1)).total_bytes == card(plan(ExpertLoad(), ep=1)).total_bytes


def test_the_estimate_counts_every_card_as_the_busiest_and_the_comparison_shows_the_average():
    c = expert_load_comparison(plan(DROPLESS))
    assert c.a.label == "average EP rank (balanced)" and c.b.label == "busiest EP rank (dropless-worst-case)"
    assert c.b.peak_bytes == estimate(plan(DROPLESS)).cards[0].total_bytes
    assert c.a.peak_bytes == estimate(plan(ExpertLoad())).cards[0].total_bytes
    act = next(d for d in c.stages[0].categories if d.key == "activations")
    assert act.delta_bytes == 786_432
    # a capacity factor below 1 fills every expert: the average rank is the capped one too
    low = ExpertLoad(kind="capacity-factor", factor=0.5)
    assert low.average() == low
    assert expert_load_comparison(plan(low)).peak_delta_bytes == 0


def test_the_planner_respects_the_expert_load():
    from engine.planner.report import verified

    def fitting(load: ExpertLoad) -> dict:
        request = PlannerRequest(
            model=MODEL, training=TrainingConfig(seq=128, flash_attention=True, expert_load=load),
            method=MethodConfig(method="detailed"),
            hardware=(Hardware(gpu="g", capacity_bytes=10**12, max_gpus=8, bf16_tflops=100.0, intra_node_gbps=100.0),),
            space=SearchSpace(gpus_per_node=8, micro_batches=(1, 2), recompute=("none", "full"), zero_stages=(0, 1),
                              sequence_parallel=(False,), uneven_pp=False, max_vpp=1))
        result = search(request, keep_all=True)
        assert result.stats.fallbacks == 0
        assert all(verified(request, c)[1] for c in result.fitting)  # the engine's own total, card by card
        return {(c.tp, c.pp, c.dp, c.ep, c.zero, c.micro_batch, c.recompute): c.max_total_bytes for c in result.fitting}

    balanced, dropless = fitting(ExpertLoad()), fitting(DROPLESS)
    assert balanced.keys() == dropless.keys()
    assert all(dropless[k] >= balanced[k] for k in balanced)
    assert all(dropless[k] > balanced[k] for k in balanced if k[3] > 1)
    assert all(dropless[k] == balanced[k] for k in balanced if k[3] == 1)


def test_planner_fast_path_equals_the_engine_under_imbalance():
    from engine.planner.activations import rest_bytes_fast
    from engine.training.memory.context import CardContext
    from engine.training.memory.detailed import detailed_breakdown

    for load in (DROPLESS, ExpertLoad(kind="capacity-factor", factor=1.25), ExpertLoad(kind="measured", factor=1.7)):
        for sp, tp in ((False, 1), (True, 2)):
            training = TrainingConfig(seq=128, micro_batch=2, flash_attention=True, sequence_parallel=sp,
                                      expert_load=load)
            ctx = CardContext(model=MODEL, training=training, method=MethodConfig(method="detailed"), stage=0,
                              stages=1, vpp=1, layer_indices=(0, 1), tp=tp, dp=4, cp=1, ep=4, in_flight_chunks=1,
                              world=4 * tp)
            bd = detailed_breakdown(ctx)
            static = bd.weights.bytes + bd.gradients.bytes + bd.optimizer_states.bytes + bd.communication.bytes
            assert static + rest_bytes_fast(ctx) == bd.timeline[bd.peak_moment].total_bytes


@pytest.mark.parametrize("data,field", [
    ({"kind": "capacity-factor"}, "training.expert_load.factor"),
    ({"kind": "measured", "factor": 0.8}, "training.expert_load.factor"),
    ({"kind": "balanced", "factor": 1.5}, "training.expert_load.factor"),
    ({"kind": "capacity-factor", "factor": 0}, "factor"),
    ({"kind": "sometimes"}, "kind"),
])
def test_bad_expert_loads_name_the_field(data, field):
    with pytest.raises(ValidationError) as info:
        ExpertLoad.model_validate(data)
    assert plan_error_from_validation(info.value).field == field


def test_the_expert_load_is_saved_with_the_plan():
    p = plan(ExpertLoad(kind="capacity-factor", factor=1.25))
    assert plan_from_json(plan_to_json(p)) == p
    assert json.loads(plan_to_json(p))["training"]["expert_load"] == {"kind": "capacity-factor", "factor": 1.25}


def test_cli_compare_one_plan_by_expert_load(capsys, tmp_path):
    path = tmp_path / "moe.json"
    save_plan(plan(ExpertLoad()), path)
    assert cli(["compare", str(path), "--expert-load", "dropless", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert next(d for d in data["stages"][0]["categories"] if d["key"] == "activations")["delta_bytes"] == 786_432
    assert cli(["compare", str(path), "--expert-load", "capacity:1.25"]) == 0
    assert "busiest EP rank (capacity-factor 1.25)" in capsys.readouterr().out
    for bad, field in (("capacity", "training.expert_load.factor"), ("often:2", "--expert-load"),
                       ("measured:x", "--expert-load")):
        assert cli(["compare", str(path), "--expert-load", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"error: {field}=" in err
    dense = tmp_path / "dense.json"
    save_plan(with_changes(plan(ExpertLoad()), model=ModelSpec(layers=2, hidden=64, heads=4, vocab=300)), dense)
    assert cli(["compare", str(dense), "--expert-load"]) == 2
    assert "error: model.moe=None" in capsys.readouterr().err


def test_the_dropless_worst_case_needs_more_cards_than_balanced_routing():
    # One card's capacity between the balanced and the drop-less peak of EP 4: balanced fits, drop-less does not
    balanced, dropless = card(plan(ExpertLoad())).total_bytes, card(plan(DROPLESS)).total_bytes
    capacity = (balanced + dropless) // 2
    assert estimate(plan(ExpertLoad(), capacity=capacity)).fits
    assert not estimate(plan(DROPLESS, capacity=capacity)).fits
    with pytest.raises(PlanError):  # the schema refuses what the validator refuses, as a PlanError
        plan_from_json(json.dumps({**json.loads(plan_to_json(plan(DROPLESS))),
                                   "training": {"expert_load": {"kind": "measured", "factor": 0.5}}}))


# --- --expert-load on estimate and plan --------------------------------------------------------------
MIXTRAL_EP8 = ["estimate", "--model", "mixtral-8x7b", "--gpu", "h100", "--dp", "8", "--ep", "8", "--seq", "4096",
               "--micro-batch", "1", "--flash-attention", "--zero", "1"]


def test_cli_estimate_mixtral_ep8_busiest_rank_by_hand(capsys):
    from engine.compare import ExpertLoadSummary
    from engine.report.json_report import ReportModel

    # Mixtral-8x7B (32 MoE layers, h 4,096, 8 experts of f_e 14,336, gated: 3 tensors, top-2), EP 8, PP 1: one
    # micro-batch in flight.  A rank routes T = 4,096 tokens: on average it receives R = T·k = 8,192 copies.
    # measured:2: the busiest rank receives ceil(8,192 x 2) = 16,384 copies (under the drop-less bound
    # EP 8 x T 4,096 x min(k 2, 8/8 experts per rank) = 32,768).
    # Its routed activations per layer: permuted inputs 2·R·h + expert FFN 3·2·R·f_e = R x 94,208 B
    assert 2 * 4096 + 3 * 2 * 14336 == 94_208
    average, busiest = 8192 * 94_208, 16_384 * 94_208
    assert busiest == 2 * average == 1_543_503_872  # ratio 2 x the average rank's
    assert cli([*MIXTRAL_EP8, "--expert-load", "measured:2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    load = data["expert_load"]
    assert set(load) == set(ExpertLoadSummary.model_fields) and ReportModel.model_validate(data).expert_load
    assert (load["kind"], load["factor"], load["ep"]) == ("measured", 2.0, 8)
    # 32 layers x (busiest - average) more activations on the heaviest card
    assert load["busiest_activation_bytes"] - load["average_activation_bytes"] == 32 * (busiest - average) \
        == 24_696_061_952
    # the busiest side is the report's own heaviest card; the average side is the balanced estimate's
    assert load["busiest_peak_bytes"] == max(c["total_bytes"] for c in data["cards"])
    assert cli([*MIXTRAL_EP8, "--expert-load", "balanced", "--json"]) == 0
    balanced = json.loads(capsys.readouterr().out)
    assert load["average_peak_bytes"] == max(c["total_bytes"] for c in balanced["cards"])
    assert balanced["expert_load"]["busiest_peak_bytes"] == balanced["expert_load"]["average_peak_bytes"]
    assert "busiest EP rank receives R = 16,384 copies" in data["cards"][0]["formulas"]["activations_per_layer"]
    assert cli([*MIXTRAL_EP8, "--expert-load", "measured:2"]) == 0
    out = capsys.readouterr().out
    assert "MoE expert load measured 2: every card is sized as the busiest expert-parallel rank" in out
    assert "average EP rank (balanced routing): card 0 peak" in out


def test_a_dense_estimate_has_no_expert_load_key(capsys):
    assert cli(["estimate", "--model", "llama-2-7b", "--gpu", "h100", "--json"]) == 0
    assert "expert_load" not in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("value,field", [
    ("often", "--expert-load"),
    ("capacity:abc", "--expert-load"),
    ("capacity", "training.expert_load.factor"),  # a capacity factor needs its number
    ("capacity:0", "training.expert_load.factor"),
    ("capacity:inf", "training.expert_load.factor"),
    ("measured:0.5", "training.expert_load.factor"),  # a busiest/mean ratio is at least 1
    ("balanced:2", "training.expert_load.factor"),
    ("dropless:1e9", "training.expert_load.factor"),
])
@pytest.mark.parametrize("command", ["estimate", "plan"])
def test_cli_bad_expert_load_is_one_line_exit_2(capsys, value, field, command):
    args = MIXTRAL_EP8 if command == "estimate" else ["plan", "--model", "mixtral-8x7b", "--gpu", "h100"]
    assert cli([*args, "--expert-load", value]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and f"error: {field}=" in captured.err


@pytest.mark.parametrize("command", [["estimate", "--gpu", "h100"], ["plan", "--gpu", "h100"]])
def test_cli_expert_load_needs_a_moe_model(capsys, command):
    assert cli([*command, "--model", "llama-2-7b", "--expert-load", "dropless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error: --expert-load=" in err and "mixture-of-experts" in err


TINY_MOE_FLAGS = ["--layers", "2", "--hidden", "64", "--heads", "4", "--vocab", "300", "--moe-experts", "8",
                  "--moe-topk", "2", "--moe-ffn", "96", "--no-swiglu", "--seq", "128", "--flash-attention",
                  "--method", "detailed"]


def test_cli_plan_rejects_a_layout_that_fits_only_on_average(capsys):
    # TP 1 x DP 4 with EP 4 (the MODEL above): the card's peak under balanced routing and as the busiest rank
    # of drop-less routing (the activations alone differ by 786,432 B: test_busiest_rank_activations_by_hand)
    assert cli(["estimate", *TINY_MOE_FLAGS, "--gpu-memory", "80GB", "--dp", "4", "--ep", "4",
                "--expert-load", "dropless", "--json"]) == 0
    load = json.loads(capsys.readouterr().out)["expert_load"]
    assert load["busiest_activation_bytes"] - load["average_activation_bytes"] == 786_432
    capacity = (load["average_peak_bytes"] + load["busiest_peak_bytes"]) // 2  # fits on average, not when busiest

    def layouts(expert_load: str) -> tuple[set, dict]:
        assert cli(["plan", *TINY_MOE_FLAGS, "--gpu-memory", str(capacity), "--tflops", "100", "--max-gpus", "4",
                    "--gpus-per-node", "4", "--micro-batch", "1", "--recompute", "none", "--zero", "0",
                    "--no-sequence-parallel", "--max-cp", "1", "--max-vpp", "1", "--no-uneven-pp", "--margin", "0",
                    "--all", "--top", "0", "--expert-load", expert_load, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        return {(c["tp"], c["pp"], c["dp"], c["ep"]) for c in data["candidates"]}, data

    balanced, _ = layouts("balanced")
    dropless, data = layouts("dropless")
    assert (1, 1, 4, 4) in balanced and (1, 1, 4, 4) not in dropless
    assert dropless == balanced - {(1, 1, 4, 4)}  # the other layouts' peaks stay under the capacity
    # the answer names the load its best layout was sized for; its peak is that layout's busiest EP rank
    best = data["expert_load"]
    assert best["kind"] == "dropless-worst-case" and best["busiest_peak_bytes"] == data["best"]["max_total_bytes"]
    assert best["busiest_peak_bytes"] >= best["average_peak_bytes"]

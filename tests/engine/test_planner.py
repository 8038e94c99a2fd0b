"""The planner (issue 7): exact memory, a complete search, the article's 13B case, the step-time model.

Brute force in these tests builds every layout with ``build_grid`` and runs
``engine.estimate`` on it, independently of the planner's fast path.
"""

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine import GB, GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate
from engine.cli.main import main as cli
from engine.errors import PlanError
from engine.model.spec import MLASpec, MoESpec
from engine.plan.schema import plan_error_from_validation
from engine.planner import Hardware, PlannerRequest, SearchSpace, SpeedModel, search
from engine.planner.candidate import Candidate
from engine.planner.pareto import dominates, pareto_front
from engine.planner.report import result_to_json, verified
from engine.planner.space import balanced_split
from engine.planner.steptime import StepTimeModel

SMALL = ModelSpec(layers=4, hidden=64, heads=4, kv_heads=2, vocab=500, ffn=256)
HW = dict(gpu="g", bf16_tflops=100.0, intra_node_gbps=100.0)


def key(c: Candidate) -> tuple:
    return (c.tp, c.pp, c.vpp, c.cp, c.dp, c.zero, c.micro_batch, c.recompute, c.sequence_parallel)


def brute_force(model, training, method, capacity, budget, max_gpus, gpus_per_node, zeros, mbs, recomputes, vpps):
    """Every even-split layout within the budget, checked by engine.estimate: key -> heaviest card."""
    out = {}
    tps = [t for t in (1, 2, 4) if t <= gpus_per_node and model.heads % t == 0 and model.kv_heads_ % t == 0]
    pps = [p for p in range(1, model.layers + 1) if model.layers % p == 0]
    for tp, pp, vpp in itertools.product(tps, pps, vpps):
        if (vpp > 1 and pp == 1) or model.layers % (pp * vpp):
            continue
        for dp in range(1, max_gpus // (tp * pp) + 1):
            gpus = tp * pp * dp
            if gpus > gpus_per_node and gpus % gpus_per_node:
                continue  # whole nodes beyond one node (SearchSpace.whole_nodes)
            for zero, mb, rc, sp in itertools.product(zeros, mbs, recomputes, (False, True)):
                if (sp and tp == 1) or (zero and dp == 1):
                    continue  # SP needs TP; ZeRO over one replica is ZeRO-0
                tr = training.model_copy(update={"zero": zero, "micro_batch": mb, "recompute": rc,
                                                 "sequence_parallel": sp})
                if tr.global_batch is not None and (tr.global_batch % (mb * dp)
                                                     or (vpp > 1 and (tr.global_batch // (mb * dp)) % pp)):
                    continue
                layout = build_grid(tp=tp, pp=pp, dp=dp, vpp=vpp, gpus_per_node=gpus_per_node, gpu="g",
                                    capacity_bytes=capacity)
                worst = max(c.total_bytes for c in estimate(Plan(model=model, training=tr, method=method,
                                                                 layout=layout)).cards)
                if worst <= budget:
                    out[(tp, pp, vpp, 1, dp, zero, mb, rc, sp)] = worst
    return out


@pytest.mark.parametrize("method,global_batch,capacity", [
    # capacities chosen so that about half the layouts fit (detailed: 805 MB of CUDA context + NCCL, and the
    # library workspaces: 96 MiB for Megatron-LM with Transformer Engine, 64 MiB for DeepSpeed, over the 0.75
    # of the capacity the margin leaves)
    (MethodConfig(method="detailed"), None, 1_077_000_000 + 96 * 2**20 * 4 // 3),
    (MethodConfig(method="detailed", framework="deepspeed"), 8, 1_077_000_000 + 64 * 2**20 * 4 // 3),
    (MethodConfig(method="seed"), 8, 4_000_000),
    (MethodConfig(method="seed"), None, 4_000_000),
])
def test_planner_finds_exactly_the_layouts_brute_force_finds(method, global_batch, capacity):
    training = TrainingConfig(seq=128, global_batch=global_batch)
    space = SearchSpace(gpus_per_node=4, max_vpp=2, micro_batches=(1, 2), uneven_pp=False)
    request = PlannerRequest(model=SMALL, training=training, method=method, margin=0.25, space=space,
                             hardware=(Hardware(capacity_bytes=capacity, max_gpus=8, **HW),))
    result = search(request, keep_all=True)
    budget = int(capacity * (1 - 0.25))
    recomputes = ("none", "selective", "full") if method.method == "detailed" else ("none",)
    expected = brute_force(SMALL, training, method, capacity, budget, 8, 4, (0, 1, 2, 3), (1, 2), recomputes, (1, 2))
    if method.method == "seed":  # the seed method ignores SP: the planner tries it off only
        expected = {k: v for k, v in expected.items() if not k[-1]}
    found = {key(c): c.max_total_bytes for c in result.fitting}
    assert len(expected) > 20 and result.stats.pruned > 0  # a space where the bounds had something to do
    assert found == expected
    assert result.stats.fallbacks == 0


def test_pruned_search_keeps_the_same_front_and_bests():
    request = PlannerRequest(
        model=ModelSpec(layers=8, hidden=256, heads=8, vocab=2000), training=TrainingConfig(seq=512),
        hardware=(Hardware(capacity_bytes=1_000_000_000, max_gpus=32, **HW),), margin=0.1,
        space=SearchSpace(gpus_per_node=8, micro_batches=(1, 2), max_vpp=2))
    everything = search(request, keep_all=True)
    pruned = search(request)
    front_all = {key(c) for c in pareto_front(everything.fitting)}
    assert {key(c) for c in pruned.front} == front_all
    assert {n: key(c) for n, c in pruned.best.items()} == {n: key(c) for n, c in everything.best.items()}
    # Both evaluate the same cells; without keep_all only the front becomes candidate objects.
    assert pruned.stats.evaluated == everything.stats.evaluated and pruned.stats.pruned > 0
    assert len(pruned.fitting) == len(pruned.front) < len(everything.fitting)
    # The front is what its definition says: nothing fitting beats a member, every layout is matched.
    for c in everything.fitting:
        assert not any(dominates(c, f) for f in pruned.front)
        assert any(f is c or dominates(f, c) or (f.gpus, f.train_s, f.headroom_bytes) == (c.gpus, c.train_s, c.headroom_bytes)
                   for f in everything.front)


# The article's 13B case (shared/reference/worked-examples.md) -------------------------------------
ARTICLE = ModelSpec(params=13_000_000_000, layers=40, hidden=5120, heads=40)
# PP = 4 x ZeRO-1 DP = 2, stage 0: 13e9 x (6/4 + 12/8) B of model states = 39,000,000,000 B
# + 40 x 4096 x 5120 x 10 layers x 4 micro-batches in flight = 33,554,432,000 B of activations.
ARTICLE_PP4_ZERO1_DP2 = 13_000_000_000 * 6 // 4 + 13_000_000_000 * 12 // 8 + 40 * 4096 * 5120 * 10 * 4


def article_request(capacity: int, margin: float, objective="fewest-gpus") -> PlannerRequest:
    from engine.catalog import find_gpu
    from engine.planner import hardware_for_gpu

    hw = hardware_for_gpu(find_gpu("A100 80GB"), 8, capacity_bytes=capacity)
    return PlannerRequest(model=ARTICLE, training=TrainingConfig(seq=4096), method=MethodConfig(method="seed"),
                          hardware=(hw,), margin=margin, objective=objective)


@pytest.mark.parametrize("capacity,margin", [(80 * GB, 0.0), (80 * GiB, 0.1)])
def test_article_13b_fits_on_at_most_8_cards_with_pp4_zero1_dp2_among_them(capacity, margin):
    result = search(article_request(capacity, margin), keep_all=True)
    assert ARTICLE_PP4_ZERO1_DP2 == 72_554_432_000  # the article's "73 GB" on stage 1, unrounded
    best = result.best["fewest-gpus"]
    assert best is not None and best.gpus <= 8
    article = [c for c in result.fitting if (c.tp, c.pp, c.vpp, c.dp, c.zero, c.micro_batch, c.pp_layers)
               == (1, 4, 1, 2, 1, 1, (10, 10, 10, 10))]
    assert len(article) == 1
    assert article[0].max_total_bytes == ARTICLE_PP4_ZERO1_DP2
    assert article[0].heaviest_stage == 0


def test_article_plain_pp4_does_not_fit_80gb_once_1f1b_is_counted():
    # Stage 1 of PP = 4 without ZeRO: 13e9 x 18 / 4 + 4 x 8,388,608,000 = 58.5e9 + 33.55e9 = 92.05e9 > 80e9.
    result = search(article_request(80 * GB, 0.0), keep_all=True)
    assert not [c for c in result.fitting if (c.tp, c.pp, c.dp, c.pp_layers) == (1, 4, 1, (10, 10, 10, 10))]


def run_cli(capsys, *args):
    rc = cli(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


ARTICLE_FLAGS = ["--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40", "--seq", "4096",
                 "--method", "seed"]


def test_cli_lists_the_article_layout_and_estimate_reproduces_every_candidate(capsys):
    rc, out, _ = run_cli(capsys, "plan", *ARTICLE_FLAGS, "--gpu", "A100 80GB", "--gpu-memory", "80GB",
                         "--gpus-per-node", "8", "--max-gpus", "8", "--margin", "0", "--all", "--top", "0", "--json")
    assert rc == 0
    report = json.loads(out)
    assert report["best"]["gpus"] <= 8 and report["best"]["fits"]
    promised = {"gpus", "tp", "pp", "dp", "cp", "ep", "vpp", "zero", "distributed_optimizer", "recompute",
                "micro_batch", "sequence_parallel", "pp_layers", "fits", "max_total_bytes", "step_time_s",
                "tokens_per_s_per_gpu", "binding"}
    assert promised <= set(report["best"]) and all(promised <= set(c) for c in report["candidates"])
    article = [c for c in report["candidates"] if (c["tp"], c["pp"], c["vpp"], c["dp"], c["zero"], c["micro_batch"],
                                                   c["pp_layers"]) == (1, 4, 1, 2, 1, 1, None)]
    assert [c["max_total_bytes"] for c in article] == [ARTICLE_PP4_ZERO1_DP2]
    for c in report["candidates"][:25]:
        rc, est_out, _ = run_cli(capsys, "estimate", *ARTICLE_FLAGS, *c["estimate_args"], "--json")
        assert rc == 0
        assert max(card["total_bytes"] for card in json.loads(est_out)["cards"]) == c["max_total_bytes"]


def test_cli_detailed_candidates_reproduce_through_estimate(capsys):
    flags = ["--layers", "8", "--hidden", "256", "--heads", "8", "--kv-heads", "4", "--vocab", "2000",
             "--seq", "512", "--method", "detailed", "--flash-attention", "--global-batch", "32"]
    rc, out, _ = run_cli(capsys, "plan", *flags, "--gpu-memory", "1.15GB", "--margin", "0.17", "--tflops", "100",
                         "--max-gpus", "32", "--top", "0", "--json")
    assert rc == 0
    report = json.loads(out)
    assert report["stats"]["corrected_by_engine"] == 0 and len(report["candidates"]) > 5
    for c in report["candidates"]:
        rc, est_out, _ = run_cli(capsys, "estimate", *flags, *c["estimate_args"], "--json")
        assert rc == 0
        assert max(card["total_bytes"] for card in json.loads(est_out)["cards"]) == c["max_total_bytes"]


def test_cli_table_names_units_and_the_search_counts(capsys):
    rc, out, _ = run_cli(capsys, "plan", *ARTICLE_FLAGS, "--gpu", "A100 80GB", "--max-gpus", "8")
    assert rc == 0
    assert "best (fewest-gpus)" in out and "memory in GB" in out and "evaluated" in out and "pruned" in out


@pytest.mark.parametrize("args,field", [
    (["--margin", "1.5"], "--margin"),
    (["--gpu", "no-such-card"], "gpu"),
    (["--max-gpus", "0"], "--max-gpus"),
])
def test_cli_bad_input_is_one_line_exit_2(capsys, args, field):
    rc, out, err = run_cli(capsys, "plan", *ARTICLE_FLAGS, *(["--gpu", "A100 80GB"] if "--gpu" not in args else []),
                           *args)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and field in err and "Traceback" not in err


def test_nothing_fits_gives_no_best():
    request = PlannerRequest(model=ARTICLE, training=TrainingConfig(seq=4096), method=MethodConfig(method="seed"),
                             hardware=(Hardware(capacity_bytes=1 * GB, max_gpus=2, **HW),))
    result = search(request)
    assert result.chosen is None and result.front == []
    assert result_to_json(result)["best"] is None


# The step-time model, by hand ---------------------------------------------------------------------
def test_step_time_small_case_by_hand():
    model = ModelSpec(params=1_000_000_000, layers=10, hidden=1024, heads=8)  # head_dim 128: d_attn = 1024
    hw = Hardware(gpu="g", capacity_bytes=GB, max_gpus=8, bf16_tflops=100.0, intra_node_gbps=100.0,
                  inter_node_gbps=50.0)
    sm = StepTimeModel.of(model, TrainingConfig(seq=1000), MethodConfig(), hw, SpeedModel(mfu=0.5, overlap=0.5), 8)
    t = sm.step(tp=2, pp=2, vpp=1, cp=1, dp=2, micro_batch=1, microbatches=4, recompute="none", zero=1,
                max_stage_layers=5, card_params=250_000_000)
    # tokens per step = micro-batch 1 x DP 2 x 4 micro-batches x 1000 = 8,000
    assert t.tokens_per_step == 8000
    # FLOPs per token = 6 x 1e9 + 12 x 10 layers x 1024 x 1000 = 6,122,880,000
    # compute = 8,000 x 6,122,880,000 / (8 cards x 100e12 x 0.5) = 0.1224576 s
    assert t.compute_s == pytest.approx(0.1224576, rel=1e-12)
    # bubble = compute x (PP - 1) / (m x VPP) = 0.1224576 / 4 = 0.0306144 s
    assert t.bubble_s == pytest.approx(0.0306144, rel=1e-12)
    # TP: 5 layers x 4 micro-batches x 4 all-reduces x 2(2-1)/2 x (1000 x 1 x 1024 x 2 B) = 163,840,000 B
    #     over 100 GB/s = 0.0016384 s
    assert t.tp_s == pytest.approx(0.0016384, rel=1e-12)
    # DP, ZeRO-1 over 2: (1/2) x 250e6 x (4 B fp32 grads + 2 B bf16 weights) = 750,000,000 B over
    #     100 GB/s (TP x DP = 4 cards, one node) = 0.0075 s, half hidden: 0.00375 s
    assert t.dp_s == pytest.approx(0.00375, rel=1e-12)
    assert t.cp_s == 0
    assert t.step_s == pytest.approx(0.1224576 + 0.0306144 + 0.0016384 + 0.00375, rel=1e-12)


def test_step_time_recompute_and_dp_across_nodes_by_hand():
    model = ModelSpec(params=1_000_000_000, layers=10, hidden=1024, heads=8)
    hw = Hardware(gpu="g", capacity_bytes=GB, max_gpus=64, bf16_tflops=100.0, intra_node_gbps=100.0,
                  inter_node_gbps=50.0)
    sm = StepTimeModel.of(model, TrainingConfig(seq=1000), MethodConfig(), hw, SpeedModel(mfu=0.5, overlap=0.0), 8)
    # Full recompute: 8 x 1e9 + 16 x 10 x 1024 x 1000 = 8,163,840,000 FLOPs per token.
    assert sm.flops_per_token("full") == 8_163_840_000
    # Selective: the attention core only: 6e9 + 16 x 10 x 1024 x 1000 = 6,163,840,000.
    assert sm.flops_per_token("selective") == 6_163_840_000
    # Plain DP over 16 cards spanning 2 nodes: all-reduce 2 x 15/16 x 1e8 params x 4 B = 750,000,000 B
    # over 50 GB/s per node shared by 8 cards = 6.25 GB/s: 0.12 s.
    assert sm.dp_seconds(tp=1, cp=1, dp=16, zero=0, card_params=100_000_000) == pytest.approx(0.12, rel=1e-12)


def test_balanced_splits_keep_layers_off_the_first_and_last_stage():
    assert balanced_split(40, 3) == (13, 14, 13)  # the extra layer goes to the middle stage
    assert balanced_split(42, 4) == (10, 11, 11, 10)
    assert balanced_split(40, 4, lighten_first=1) == (9, 10, 11, 10)
    assert balanced_split(40, 2, lighten_first=1) == (19, 21)


def test_pareto_front_on_hand_made_points():
    class P:
        def __init__(self, gpus, train_s, headroom):
            self.gpus, self.train_s, self.headroom_bytes, self.cost = gpus, train_s, headroom, gpus * train_s

    a, b, c, d = P(4, 10.0, 5), P(8, 6.0, 5), P(8, 12.0, 9), P(8, 11.0, 4)  # d is beaten by a on every axis
    assert set(pareto_front([a, b, c, d])) == {a, b, c}


def test_request_rejects_empty_choices():
    with pytest.raises(ValidationError) as e:
        SearchSpace(micro_batches=())
    error = plan_error_from_validation(e.value)
    assert isinstance(error, PlanError) and error.field == "planner.micro_batches"


# Invariant: the fast path is the engine, for any small workload -----------------------------------
@settings(max_examples=16, deadline=None)
@given(st.sampled_from(["seed", "detailed"]), st.sampled_from(["megatron", "megatron-2021", "deepspeed", "huggingface"]),
       st.sampled_from(["bf16", "fp16", "fp32"]), st.booleans(), st.sampled_from([None, 16]), st.booleans(),
       st.sampled_from(["fused", "unfused"]), st.sampled_from(["framework", "litgpt"]))
def test_fast_path_matches_card_breakdown(method, framework, precision, dropout, global_batch, offload, fp16_optimizer,
                                          model_code):
    model = ModelSpec(layers=6, hidden=64, heads=4, vocab=300, dropout=0.1 if dropout else 0.0)
    training = TrainingConfig(seq=64, precision=precision, global_batch=global_batch, offload_optimizer=offload)
    method_config = MethodConfig(method=method, framework=framework, deepspeed_fp16_optimizer=fp16_optimizer,
                                 model_code=model_code)
    request = PlannerRequest(model=model, training=training, method=method_config,
                             hardware=(Hardware(capacity_bytes=10**12, max_gpus=16, **HW),),
                             space=SearchSpace(gpus_per_node=4, micro_batches=(1, 2)))
    result = search(request, keep_all=True)
    assert result.stats.fallbacks == 0
    report = result_to_json(result, top=8, pool="fitting")
    assert report["stats"]["corrected_by_engine"] == 0


@pytest.mark.parametrize("framework,precision,fp16_optimizer", [
    ("deepspeed", "fp16", "fused"), ("deepspeed", "fp16", "unfused"), ("deepspeed", "bf16", "fused"),
    ("megatron-2021", "fp16", "fused")])
def test_fast_path_counts_the_gradient_copies_of_each_framework(framework, precision, fp16_optimizer):
    # DeepSpeed fp16: the step table's fp32 copies of every gradient at ZeRO 0, nothing at ZeRO 1-3; DeepSpeed
    # bf16 at ZeRO 0: BF16_Optimizer's fp32 gradient buffer and sharded optimizer, and at DP > 1 the all-reduce
    # bucket; Megatron-LM of 2021: the previous step's fp16 gradients beside the backward
    model = ModelSpec(layers=6, hidden=256, heads=4, vocab=300)
    training = TrainingConfig(seq=16, precision=precision, global_batch=8)
    method = MethodConfig(framework=framework, deepspeed_fp16_optimizer=fp16_optimizer)
    request = PlannerRequest(model=model, training=training, method=method,
                             hardware=(Hardware(capacity_bytes=10**12, max_gpus=8, **HW),),
                             space=SearchSpace(gpus_per_node=4, micro_batches=(1, 2)))
    result = search(request, keep_all=True)
    assert result.stats.fallbacks == 0
    replicated = [c for c in result.fitting if c.dp > 1 and c.micro_batch == 1 and c.recompute == "none"]
    assert {c.zero for c in replicated} == {0, 1, 2, 3}
    assert all(verified(request, c)[1] for c in replicated)  # engine.estimate gives each the same heaviest card


def test_a_set_of_gpu_types_keeps_each_types_front_and_the_cheapest():
    fast = Hardware(gpu="fast", capacity_bytes=80 * GB, max_gpus=8, bf16_tflops=300.0, intra_node_gbps=300.0,
                    price_usd_per_hour=4.0)
    cheap = Hardware(gpu="cheap", capacity_bytes=80 * GB, max_gpus=8, bf16_tflops=100.0, intra_node_gbps=32.0,
                     price_usd_per_hour=1.0)
    request = PlannerRequest(model=SMALL, training=TrainingConfig(seq=128), hardware=(fast, cheap))
    result = search(request)
    # Same layouts, 3x the FLOP/s for 4x the price: the slower card is the cheaper way to train.
    assert result.best["cheapest"].gpu == "cheap" and result.best["fastest"].gpu == "fast"
    assert {c.gpu for c in result.front} == {"fast", "cheap"}
    report = result_to_json(result, top=0)
    assert report["best_by_objective"]["cheapest"]["cost_unit"] == "USD"


# The array search's own rules: 2-D fronts on arrays, the front pool, the memory bound, the fallback -------
class Point:
    def __init__(self, gpus, train_s, headroom_bytes):
        self.gpus, self.train_s, self.headroom_bytes = gpus, train_s, headroom_bytes


points = st.lists(st.tuples(st.integers(1, 3), st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.integers(0, 4)),
                  min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(points)
def test_array_fronts_match_pareto_front_ties_included(rows):
    import numpy as np

    from engine.planner.front import FrontPool, front_2d_mask
    from engine.planner.pareto import _front_2d

    objs = [Point(*r) for r in rows]
    cards = np.array([r[0] for r in rows])
    time = np.array([r[1] for r in rows])
    headroom = np.array([r[2] for r in rows])
    by_cards = {}
    for o in objs:
        by_cards.setdefault(o.gpus, []).append(o)
    expected_2d = sorted(objs.index(o) for group in by_cards.values() for o in _front_2d(group))
    assert front_2d_mask(cards, time, headroom, top=4).tolist() == expected_2d
    pool = FrontPool()
    pool.add(0, cards, time, headroom, np.arange(len(rows)))
    assert sorted(f for _, f in pool.front()) == sorted(objs.index(o) for o in pareto_front(objs))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.randoms(use_true_random=False))
def test_column_front_is_each_columns_2d_front(zeros, variants, columns, rnd):
    import numpy as np

    from engine.planner.block_arrays import column_front
    from engine.planner.pareto import _front_2d

    shape = (zeros, variants, columns)
    time = np.array([rnd.choice([1.0, 2.0, 3.0]) for _ in range(zeros * variants * columns)]).reshape(shape)
    headroom = np.array([rnd.randint(0, 3) for _ in range(time.size)]).reshape(shape)
    fit = np.array([rnd.random() < 0.7 for _ in range(time.size)]).reshape(shape)
    got = column_front(time, -headroom, fit)  # less of the heaviest card is more headroom
    for d in range(columns):
        cells = [(z, v) for z in range(zeros) for v in range(variants) if fit[z, v, d]]  # list order
        objs = [Point(1, float(time[z, v, d]), int(headroom[z, v, d])) for z, v in cells]
        kept = {cells[objs.index(o)] for o in _front_2d(objs)}
        assert {(z, v) for z in range(zeros) for v in range(variants) if got[z, v, d]} == kept


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.randoms(use_true_random=False))
def test_column_front_with_rows_of_equal_times_sorts_one_per_class(zeros, variants, columns, rnd):
    """Rows whose times are equal in every column (ZeRO-1 and -2, SP on and off) enter the sort through
    one representative per column; the front is the same."""
    import numpy as np

    from engine.planner.block_arrays import column_front

    rows = zeros * variants
    label = [rnd.randrange(max(1, rows // 2)) for _ in range(rows)]  # rows with one label share their times
    times = {c: [rnd.choice([1.0, 2.0, 3.0]) for _ in range(columns)] for c in set(label)}
    time = np.array([times[c] for c in label]).reshape(zeros, variants, columns)
    heavy = np.array([rnd.randint(0, 3) for _ in range(time.size)]).reshape(time.shape)
    fit = np.array([rnd.random() < 0.7 for _ in range(time.size)]).reshape(time.shape)
    classes = [[r for r in range(rows) if label[r] == c] for c in sorted(set(label))]
    width = max(len(c) for c in classes)
    ties = np.array([c + c[:1] * (width - len(c)) for c in classes])
    assert (column_front(time, heavy, fit, ties) == column_front(time, heavy, fit)).all()


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["seed", "detailed"]), st.sampled_from([2, 4]), st.sampled_from([32, 64]),
       st.sampled_from([None, 8]), st.floats(0.15, 1.0), st.sampled_from([4, 6, 8]))
def test_pruned_array_search_is_brute_force_on_random_small_spaces(method, layers, hidden, global_batch, squeeze,
                                                                    max_gpus):
    model = ModelSpec(layers=layers, hidden=hidden, heads=4, kv_heads=2, vocab=300, ffn=4 * hidden)
    training = TrainingConfig(seq=64, global_batch=global_batch)
    methods = MethodConfig(method=method)
    # A capacity that one card of the unsplit model misses by a random factor: some layouts fit, some not.
    one_card = estimate(Plan(model=model, training=training, method=methods, layout=build_grid(
        tp=1, pp=1, dp=1, gpus_per_node=4, gpu="g", capacity_bytes=10**12))).cards[0].total_bytes
    capacity = int(one_card * squeeze / 0.8)
    space = SearchSpace(gpus_per_node=4, max_vpp=2, micro_batches=(1, 2), uneven_pp=False)
    request = PlannerRequest(model=model, training=training, method=methods, margin=0.2, space=space,
                             hardware=(Hardware(capacity_bytes=capacity, max_gpus=max_gpus, **HW),))
    everything = search(request, keep_all=True)
    recomputes = ("none", "selective", "full") if method == "detailed" else ("none",)
    expected = brute_force(model, training, methods, capacity, int(capacity * 0.8), max_gpus, 4, (0, 1, 2, 3),
                           (1, 2), recomputes, (1, 2))
    if method == "seed":
        expected = {k: v for k, v in expected.items() if not k[-1]}
    assert {key(c): c.max_total_bytes for c in everything.fitting} == expected
    pruned = search(request)
    assert {key(c) for c in pruned.front} == {key(c) for c in pareto_front(everything.fitting)}
    assert {n: c and key(c) for n, c in pruned.best.items()} == {n: c and key(c) for n, c in everything.best.items()}
    s = everything.stats
    assert s.configurations == pruned.stats.configurations and s.dominated == 0


def test_a_wrong_fast_path_falls_back_to_the_engine(monkeypatch):
    import engine.planner.memory as planner_memory

    right = planner_memory._detailed_states_array
    monkeypatch.setattr(planner_memory, "_detailed_states_array", lambda *a: right(*a) + 1)  # one byte off
    training = TrainingConfig(seq=128)
    method = MethodConfig(method="detailed")
    space = SearchSpace(gpus_per_node=4, max_vpp=2, micro_batches=(1, 2), uneven_pp=False)
    request = PlannerRequest(model=SMALL, training=training, method=method, margin=0.25, space=space,
                             hardware=(Hardware(capacity_bytes=1_077_000_000, max_gpus=8, **HW),))
    result = search(request, keep_all=True)
    assert result.stats.fallbacks > 0
    expected = brute_force(SMALL, training, method, 1_077_000_000, int(1_077_000_000 * 0.75), 8, 4, (0, 1, 2, 3),
                           (1, 2), ("none", "selective", "full"), (1, 2))
    assert {key(c): c.max_total_bytes for c in result.fitting} == expected


MODELS_FOR_ACTIVATIONS = [
    ModelSpec(layers=6, hidden=64, heads=4, kv_heads=2, vocab=300, gated_mlp=True),
    ModelSpec(layers=6, hidden=64, heads=4, vocab=300, dropout=0.1, position_embedding="learned", max_position=256,
              norm="layernorm"),
    ModelSpec(params=10**9, layers=6, hidden=64, heads=4),  # article-level: no vocab, no logits
    ModelSpec(layers=6, hidden=64, heads=4, vocab=300,
              moe=MoESpec(experts=4, top_k=2, expert_ffn=96, shared_experts=1, first_dense_layers=1, layer_freq=2)),
    ModelSpec(layers=6, hidden=64, heads=4, vocab=300,
              mla=MLASpec(q_lora_rank=32, kv_lora_rank=16, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16)),
]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(MODELS_FOR_ACTIVATIONS),
       st.sampled_from(["megatron", "deepspeed", "huggingface", "megatron-2021"]),
       st.sampled_from(["none", "selective", "full"]), st.booleans(), st.booleans(),
       st.sampled_from(["bf16", "fp16", "fp32"]),
       st.sampled_from([(1, 1), (2, 1), (3, 1), (2, 3)]), st.integers(0, 2), st.integers(1, 5),
       st.sampled_from([1, 2]), st.sampled_from([1, 2]), st.sampled_from([1, 2]))
def test_planner_activations_are_the_engines(model, framework, recompute, sp, flash, precision, pp_vpp, stage_pick,
                                             chunks, tp, cp, mb):
    from engine.planner.activations import rest_bytes_fast
    from engine.training.memory.context import CardContext
    from engine.training.memory.detailed import detailed_breakdown
    from engine.training.memory.gradient_lifetime import gradients_start_at_backward
    from engine.training.memory.schedule import stage_layer_indices

    pp, vpp = pp_vpp
    stage = min(stage_pick, pp - 1)
    training = TrainingConfig(seq=128, micro_batch=mb, recompute=recompute, sequence_parallel=sp,
                              flash_attention=flash, precision=precision)
    ctx = CardContext(model=model, training=training, method=MethodConfig(method="detailed", framework=framework),
                      stage=stage, stages=pp, vpp=vpp, layer_indices=stage_layer_indices(6, pp, None, vpp)[stage],
                      tp=tp, dp=1, cp=cp, ep=1, in_flight_chunks=chunks, world=tp * pp * cp)
    # The planner's closed form is the step timeline's peak: the static states plus the larger of the fast
    # path's peak and the optimizer step's temporaries (only Hugging Face's AdamW has some) equal the
    # allocator-visible bytes of the timeline's highest moment.
    bd = detailed_breakdown(ctx)
    static = bd.weights.bytes + bd.gradients.bytes + bd.optimizer_states.bytes + bd.communication.bytes
    step = next(f.bytes for f in bd.details if f.key == "optimizer_step_temporaries")
    # DeepSpeed without ZeRO at DP x CP > 1: its all-reduce bucket is a moment without activations too (the
    # planner reads it per shard degree, beside the step; Megatron-LM 2021's flattened copy is in the fast path)
    bucket = 0 if framework == "megatron-2021" else next(f.bytes for f in bd.details if f.key == "allreduce_buffer")
    # and the last stage of DeepSpeed's pipeline holds its kept outputs at every moment (kept_table)
    kept = next(f.bytes for f in bd.details if f.key == "pipeline_output_buffers")
    fast = static + kept + max(rest_bytes_fast(ctx), step, bucket)
    if gradients_start_at_backward(ctx):
        # Hugging Face at one micro-batch per step: the step starts without gradients, so every moment holds at most
        # what this closed form counts; the planner takes these cells from the card's own timeline instead
        # (MemoryModel.fresh_rest_table, checked against the full enumeration in test_planner_reference)
        assert fast >= bd.timeline[bd.peak_moment].total_bytes
    else:
        assert fast == bd.timeline[bd.peak_moment].total_bytes
    assert bd.timeline[bd.peak_moment].total_bytes == max(m.total_bytes for m in bd.timeline)


def test_moe_search_tries_every_ep_dividing_dp_and_the_experts_with_engine_exact_memory():
    from engine.planner.report import verified

    model = ModelSpec(layers=4, hidden=64, heads=4, vocab=300, moe=MoESpec(experts=4, top_k=2, expert_ffn=96))
    request = PlannerRequest(model=model, training=TrainingConfig(seq=64), method=MethodConfig(method="detailed"),
                             hardware=(Hardware(capacity_bytes=10**12, max_gpus=8, **HW),),
                             space=SearchSpace(gpus_per_node=8, micro_batches=(1,), recompute=("none",),
                                               zero_stages=(0, 1), sequence_parallel=(False,), uneven_pp=False,
                                               max_vpp=1))
    result = search(request, keep_all=True)
    pairs = {(c.tp, c.pp, c.dp, c.ep) for c in result.fitting}
    # TP 1, PP 1: DP 1..8 (one node), EP any divisor of DP that divides the 4 experts.
    assert {(dp, ep) for tp, pp, dp, ep in pairs if (tp, pp) == (1, 1)} == {
        (dp, ep) for dp in range(1, 9) for ep in (1, 2, 4) if dp % ep == 0}
    assert result.stats.fallbacks == 0
    assert all(verified(request, c)[1] for c in result.fitting)


@pytest.mark.parametrize("global_batch,method", [(None, "detailed"), (16, "detailed"), (16, "seed")])
def test_rows_of_a_tie_class_have_equal_times_in_every_column(global_batch, method):
    """The search's tie classes (ZeRO stages with the same DP traffic, variants differing in SP only) are
    rows whose training times are equal in every column, as column_front requires."""
    import numpy as np

    from engine.planner.blocks import HardwareSearch
    from engine.planner.candidate import SearchStats
    from engine.planner.memory import MemoryModel

    request = PlannerRequest(model=SMALL, training=TrainingConfig(seq=128, global_batch=global_batch),
                             method=MethodConfig(method=method), space=SearchSpace(gpus_per_node=4, max_vpp=2),
                             hardware=(Hardware(capacity_bytes=10**12, max_gpus=16, **HW),))
    run = HardwareSearch(request, request.hardware[0], MemoryModel(request.model, request.training, request.method),
                         10**9, SearchStats(), False)
    merged = 0
    for g, ep, dps in run.work():
        b = run.evaluate(g, ep, dps)
        ties = run.tie_classes(b)
        if ties is None:
            continue
        rows = b.train.reshape(-1, b.train.shape[2])
        for members in ties:
            members = np.unique(members)
            assert (rows[members] == rows[members[0]]).all()
            merged += len(members) - 1
    assert merged > 0


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 96), st.integers(1, 700), st.sampled_from([1, 2, 3, 4, 6, 8, 16]), st.booleans(),
       st.sampled_from([1, 2, 3, 4, 8]))
def test_dp_count_counts_the_dp_options_without_listing_them(per, max_gpus, node, whole, ep):
    import numpy as np

    from engine.planner.space import Geometry, dp_count, dp_options

    space = SearchSpace(gpus_per_node=node, whole_nodes=whole)
    dps = dp_options(Geometry(per, 1, 1, 1, None, ((0,),), (0,)), max_gpus, space)
    count, largest = dp_count(per, max_gpus, space, ep)
    assert count == int(np.sum(dps % ep == 0)) and largest == (int(dps[-1]) if len(dps) else 0)


@pytest.mark.parametrize("model,flash", [(SMALL, False), (SMALL, True), (ModelSpec(
    layers=6, hidden=64, heads=4, vocab=300, moe=MoESpec(experts=8, top_k=2, expert_ffn=96, first_dense_layers=1)),
    False)])
def test_the_search_is_sized_before_it_is_laid_out(model, flash):
    from engine.planner.blocks import HardwareSearch
    from engine.planner.candidate import SearchStats
    from engine.planner.memory import MemoryModel

    request = PlannerRequest(model=model, training=TrainingConfig(seq=8192, flash_attention=flash),
                             space=SearchSpace(gpus_per_node=8, max_cp=4),
                             hardware=(Hardware(capacity_bytes=10**12, max_gpus=96, **HW),))
    run = HardwareSearch(request, request.hardware[0], MemoryModel(request.model, request.training, request.method),
                         1, SearchStats(), False)
    work = run.work()
    assert run.size(run.shapes()) == (run.configurations(work), len(work))


def test_a_search_of_many_small_blocks_is_refused_quickly():
    """Thousands of (TP, PP, VPP, CP) blocks of a few DP sizes each: each block has a fixed cost, so the
    size counts it (limits.SEARCH_BLOCK_CONFIGURATIONS) and the search is refused before any is laid out."""
    from engine import limits

    model = ModelSpec(layers=960, hidden=256, heads=64, vocab=1000)
    request = PlannerRequest(model=model, training=TrainingConfig(seq=2**20, flash_attention=True),
                             space=SearchSpace(gpus_per_node=64, max_vpp=128, max_cp=limits.MAX_PARALLEL,
                                               zero_stages=(0,), micro_batches=(1,)),
                             hardware=(Hardware(capacity_bytes=10**12, max_gpus=limits.MAX_SEARCH_GPUS, **HW),))
    with pytest.raises(PlanError) as e:
        search(request)
    assert "blocks" in str(e.value) and e.value.field == "planner"


def test_the_listed_candidates_stop_before_their_stage_checks_pass_the_bound(monkeypatch):
    """Each listed candidate is re-checked on every stage; the list stops before the checks pass
    MAX_LISTED_STAGE_CHECKS, its first candidate always listed."""
    import engine.planner.report as report

    request = PlannerRequest(model=ModelSpec(layers=8, hidden=256, heads=8, vocab=2000),
                             training=TrainingConfig(seq=512), margin=0.1,
                             hardware=(Hardware(capacity_bytes=1_100_000_000, max_gpus=32, **HW),),
                             space=SearchSpace(gpus_per_node=8, micro_batches=(1, 2), max_vpp=2))
    result = search(request)
    everything, _ = report.listed_candidates(result, 0)
    monkeypatch.setattr(report, "MAX_LISTED_STAGE_CHECKS", 12)
    listed, _ = report.listed_candidates(result, 0)
    # the longest prefix of the full list whose stages add up to at most 12 (at least one candidate)
    stages, expected = 0, 0
    for c in everything:
        stages += c.pp
        if expected and stages > 12:
            break
        expected += 1
    assert len(everything) > expected == len(listed) >= 1 and listed == everything[:expected]
    assert result_to_json(result, top=0)["listed"] == expected


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([1, 2, 4]), st.sampled_from([1, 2, 3]), st.sampled_from([1, 2]), st.sampled_from([1, 2]),
       st.lists(st.integers(1, 2**20), min_size=1, max_size=5), st.sampled_from([4096, 2**24]))
def test_step_times_of_many_micro_batch_counts_are_the_scalar_ones(tp, pp, vpp, cp, ms, seq):
    """The search times every (variant, micro-batches per step) of a geometry in one array call; each
    element is the scalar step-time model's float, bit for bit (integer products stay exact)."""
    from engine.planner.blocks import HardwareSearch
    from engine.planner.candidate import SearchStats
    from engine.planner.memory import MemoryModel
    from engine.planner.space import Geometry

    model = ModelSpec(layers=6, hidden=1024, heads=8, vocab=300)
    request = PlannerRequest(model=model, training=TrainingConfig(seq=seq), method=MethodConfig(method="detailed"),
                             hardware=(Hardware(capacity_bytes=10**12, max_gpus=64, **HW),),
                             space=SearchSpace(micro_batches=(1, 3, 64, 65536)))
    run = HardwareSearch(request, request.hardware[0], MemoryModel(model, request.training, request.method), 1,
                         SearchStats(), False)
    g = Geometry(tp, pp, vpp, cp, None, ((0, 1, 2),) * pp, (0,))
    variants = run.variants[tp > 1]
    got = run.times(g, variants, ms)
    assert [[run.timing(g, mb, rc, m)[0] for mb, rc, _ in variants] for m in ms] == got.tolist()


def test_chunks_in_flight_for_many_micro_batch_counts_are_the_schedules():
    from engine.planner.blocks import HardwareSearch
    from engine.planner.candidate import SearchStats
    from engine.planner.memory import MemoryModel
    from engine.training.memory.schedule import in_flight_chunks

    request = PlannerRequest(model=SMALL, hardware=(Hardware(capacity_bytes=10**12, max_gpus=64, **HW),))
    run = HardwareSearch(request, request.hardware[0], MemoryModel(SMALL, request.training, request.method), 1,
                         SearchStats(), False)
    ms = [1, 2, 3, 4, 7, 64, 2**24]
    for g in run.work():
        table = run.chunk_table(g[0], ms)
        assert table == [tuple(in_flight_chunks(k, g[0].pp, m, g[0].vpp) for m in ms) for k in g[0].heavy_stages]


def test_absurd_step_times_overflow_quietly():
    """A huge global batch at a tiny MFU overflows a step time: the layout ranks last, no numpy warning reaches
    stderr (the long fuzz campaign found these warnings)."""
    import warnings

    from engine.limits import MAX_GLOBAL_BATCH, MIN_TFLOPS
    from engine.planner.request import SpeedModel

    request = PlannerRequest(model=ModelSpec(layers=4, hidden=64, heads=4, vocab=300),
                             training=TrainingConfig(seq=64, global_batch=MAX_GLOBAL_BATCH),
                             hardware=(Hardware(gpu="x", capacity_bytes=10**12, max_gpus=8, bf16_tflops=MIN_TFLOPS,
                                                intra_node_gbps=100.0),),
                             space=SearchSpace(gpus_per_node=8), speed=SpeedModel(mfu=1e-300))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = search(request)
    assert result.front


def test_the_planner_fits_a_fine_tuning_step_whose_gradients_start_at_the_backward():
    """fms-acceleration's Mistral-7B full fine-tuning in pure bf16 at batch 8 x 4,096 ran on one A100 80GB
    (max_memory_allocated 72,435,230,720 B, scripts/benchmarks/refs/a100_80gb.csv at 24bdadb2).  One micro-batch
    per step: the Trainer's zero_grad frees the gradients, so the loss runs without them and the card peaks at
    the optimizer step (the engine's card: 76.6 GB with the CUDA context and the 5 % reserve, of 85.1 GB).  The
    planner's fast path counts that without falling back, and its card is the engine's."""
    from engine.catalog import model_catalog

    spec = next(m.spec for m in model_catalog() if m.name == "mistral-7b" or "mistral-7b" in m.aliases)
    training = TrainingConfig(seq=4096, micro_batch=8, global_batch=8, precision="bf16", master_weights=False,
                              recompute="full", flash_attention=True)
    request = PlannerRequest(model=spec, training=training,
                             method=MethodConfig(method="detailed", framework="huggingface"),
                             hardware=(Hardware(capacity_bytes=85_100_068_864, max_gpus=1, **HW),),
                             space=SearchSpace(gpus_per_node=1, micro_batches=(8,), recompute=("full",),
                                               zero_stages=(0,)), margin=0.0)
    result = search(request, keep_all=True)
    assert result.stats.fallbacks == 0 and result.fitting
    best = result.fitting[0]
    assert (best.tp, best.pp, best.dp) == (1, 1, 1)
    assert verified(request, best)[1]

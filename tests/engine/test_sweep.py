"""Knob sweeps (issue 14): every point is what ``engine.estimate`` says, and the largest fitting value
agrees with a bisection over ``estimate`` written here, independently of the sweep's own search."""

import json

import pytest

from engine import GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate
from engine.cli.main import main as cli
from engine.compare import Sweep, knobs_for, sweep
from engine.compare.sweep import clear_memo, knob_rule, plan_with_knob, series
from engine.errors import PlanError
from engine.finetune.config import FinetuneConfig
from engine.limits import MAX_PP, MAX_SEQ
from engine.model.spec import MoESpec
from engine.plan.schema import Plan as PlanModel
from engine.plan.schema import load_plan, save_plan, with_changes
from engine.resources import resource_path
from engine.serving.config import ServingConfig
from engine.training.config import ExpertLoad
from engine.training.estimate import card_breakdown

P, S, H, L = 13_000_000_000, 4096, 5120, 40
ARTICLE = Plan(name="pp4-zero1-dp2", model=ModelSpec(params=P, layers=L, hidden=H, heads=40),
               training=TrainingConfig(seq=S, zero=1), method=MethodConfig(method="seed"),
               layout=build_grid(pp=4, dp=2, gpu="A100 80GB", capacity_bytes=80 * GiB))
FIELDS = {"seq": "seq", "micro-batch": "micro_batch", "context": "context", "batch": "batch", "lora-rank": "rank"}


def template(name: str) -> Plan:
    return load_plan(resource_path("templates") / f"{name}.json")


def with_value(plan: Plan, knob: str, value: int) -> Plan:
    section = {"training": "training", "finetune": "finetune", "serving": "serving"}[plan.mode]
    config = getattr(plan, section) or {"finetune": FinetuneConfig, "serving": ServingConfig}[section]()
    return with_changes(plan, **{section: config.model_copy(update={FIELDS[knob]: value})})


def bisect_largest(plan: Plan, knob: str, lo: int, hi: int) -> int | None:
    """The largest value in [lo, hi] whose estimate fits, by plain bisection over estimate()."""
    def fits(v: int) -> bool:
        return estimate(with_value(plan, knob, v)).fits

    if not fits(lo):
        return None
    if fits(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def test_article_largest_sequence_by_hand():
    # Stage 1 of PP 4 x ZeRO-1 DP 2: 13e9 x (6/4 + 12/8) = 39e9 of states, plus 40 x S x 5120 x 10 layers
    # x 4 micro-batches in flight = 8,192,000 x S of activations; on 80 GiB (85,899,345,920 B):
    # S <= (85,899,345,920 - 39e9) / 8,192,000 = 5,725.02
    s = sweep(ARTICLE, "seq", 1024, 131072)
    assert (80 * GiB - 39_000_000_000) // 8_192_000 == 5725
    assert s.largest_fitting == 5725
    best = s.largest_fitting_point
    assert best.peak_bytes == 39_000_000_000 + 8_192_000 * 5725 and best.fits
    assert (best.binding_stage, best.binding_card) == (0, 0)
    assert s.smallest_fitting == 1024
    assert s.capacity_bytes == 80 * GiB and s.field == "training.seq" and s.current == 4096


SHORT = with_value(ARTICLE, "seq", 1024)
DETAILED = template("13b-detailed-megatron")


def test_article_largest_micro_batch_by_hand():
    # At S = 1024 stage 1 holds 39e9 + 8,192,000 x 1024 x micro-batch: 5 micro-batches (80.94e9 B) fit
    # 80 GiB, 6 (89.33e9 B) do not
    assert 39_000_000_000 + 8_192_000 * 1024 * 5 <= 80 * GiB < 39_000_000_000 + 8_192_000 * 1024 * 6
    assert sweep(SHORT, "micro-batch", 1, 64).largest_fitting == 5


MOE = ModelSpec(name="moe", layers=4, hidden=256, heads=4, vocab=1000, gated_mlp=True, norm="rmsnorm", bias=False,
                moe=MoESpec(experts=8, top_k=2, expert_ffn=512))
MOE_PLAN = Plan(name="moe", model=MOE, training=TrainingConfig(seq=1024, flash_attention=True,
                                                               expert_load=ExpertLoad(kind="dropless-worst-case")),
                layout=build_grid(dp=4, ep=4, gpu="g", capacity_bytes=2 * GiB))
LLAMACPP = with_changes(template("13b-a10-int4"), serving=ServingConfig(quant="Q4_K_M", runtime="llamacpp",
                                                                      context=4096))
V0 = with_changes(template("70b-4xh100-vllm"), serving=template("70b-4xh100-vllm").serving.model_copy(
    update={"vllm_engine": "v0"}))
LORA = Plan(name="lora", mode="finetune", model=template("13b-a10-int4").model,
            finetune=FinetuneConfig(method="qlora", rank=8, seq=2048), layout=build_grid(gpu="4090", capacity_bytes=24 * GiB))
CASES = [
    (ARTICLE, "seq", 1024, 131072),
    (SHORT, "micro-batch", 1, 64),
    (template("13b-detailed-megatron"), "seq", 512, 262144),
    (with_value(template("13b-detailed-megatron"), "seq", 512), "micro-batch", 1, 256),
    (MOE_PLAN, "seq", 256, 1 << 20),
    (with_changes(DETAILED, method=MethodConfig(framework="huggingface")), "seq", 512, 65536),
    (with_changes(DETAILED, method=MethodConfig(framework="megatron-2021"),
                  training=DETAILED.training.model_copy(update={"precision": "fp16"})), "seq", 512, 65536),
    (with_changes(DETAILED, method=MethodConfig(framework="deepspeed"),
                  training=DETAILED.training.model_copy(update={"zero": 2, "seq": 512})), "micro-batch", 1, 4096),
    (template("70b-4xh100-vllm"), "context", 256, 1 << 20),
    (template("70b-4xh100-vllm"), "batch", 1, 4096),
    (V0, "context", 256, 1 << 18),
    (LLAMACPP, "context", 512, 1 << 20),
    (LLAMACPP, "batch", 1, 512),
    (LORA, "lora-rank", 1, 65536),
    (LORA, "seq", 128, 1 << 20),
]


@pytest.mark.parametrize("plan,knob,lo,hi", CASES, ids=[f"{p.name}-{k}" for p, k, _, _ in CASES])
def test_largest_fitting_agrees_with_a_bisection_over_estimate(plan, knob, lo, hi):
    s = sweep(plan, knob, lo, hi, points=6)
    assert s.largest_fitting == bisect_largest(plan, knob, lo, hi)
    assert s.largest_fitting is None or lo < s.largest_fitting < hi  # each case crosses the capacity


@pytest.mark.parametrize("plan,knob,lo,hi", CASES[:1] + CASES[2:3] + CASES[4:6] + CASES[7:9] + CASES[10:11],
                         ids=lambda x: getattr(x, "name", str(x)))
def test_every_point_is_the_estimate_at_that_value(plan, knob, lo, hi):
    s = sweep(plan, knob, lo, hi, points=7)
    assert len(s.points) == 7
    for p in s.points:
        est = estimate(with_value(plan, knob, p.value))
        heavy = max(est.cards, key=lambda c: c.total_bytes)
        assert (p.peak_bytes, p.fits) == (heavy.total_bytes, est.fits)
        assert p.headroom_bytes == min(c.headroom_bytes for c in est.cards)
        assert est.cards[p.peak_card].total_bytes == p.peak_bytes and est.cards[p.peak_card].stage == p.peak_stage
        assert est.cards[p.binding_card].headroom_bytes == p.headroom_bytes


def test_a_closed_form_that_disagrees_with_the_engine_falls_back_to_it(monkeypatch):
    import engine.compare.probes as probes

    monkeypatch.setattr(probes, "_rest", lambda ctx: 0)  # a wrong fast path: the first check catches it
    s = sweep(DETAILED, "seq", 512, 65536, points=5)
    for p in s.points:
        assert p.peak_bytes == max(c.total_bytes for c in estimate(with_value(DETAILED, "seq", p.value)).cards)
    assert s.largest_fitting == bisect_largest(DETAILED, "seq", 512, 65536)


def test_the_binding_card_is_the_tightest_not_the_heaviest():
    cards = list(ARTICLE.layout.cards)
    cards[7] = cards[7].model_copy(update={"capacity_bytes": 50 * GiB})  # stage 4's second card, smaller
    plan = with_changes(ARTICLE, layout=ARTICLE.layout.model_copy(update={"cards": tuple(cards)}))
    s = sweep(plan, "seq", 4096, 8192, points=2)
    first = s.points[0]
    assert (first.peak_card, first.peak_stage) == (0, 0)
    # stage 4 at S = 4096: 39e9 + 8.388608e9 x 1 = 47.39 GB on a 50 GiB card
    assert (first.binding_card, first.binding_stage) == (7, 3)
    assert first.headroom_bytes == 50 * GiB - 47_388_608_000
    assert s.capacity_bytes == 50 * GiB
    assert s.largest_fitting == bisect_largest(plan, "seq", 4096, 8192)


def test_tp_and_pp_sweep_the_sizes_the_layout_allows():
    s = sweep(ARTICLE, "pp")
    assert [p.value for p in s.points] == [1, 2, 4, 5, 8, 10, 20, 40]  # divisors of 40 layers
    assert s.scale == "allowed values" and not s.memory_grows
    # PP 1 and 2 do not fit 80 GiB (ZeRO-1 DP 2: 13e9 x (6 + 6) = 156e9 and 13e9 x 6 = 78e9 of states alone
    # plus activations); PP 4 (72.55 GB) does: the smallest fitting pipeline
    assert [p.fits for p in s.points[:3]] == [False, False, True]
    assert (s.smallest_fitting, s.largest_fitting) == (4, 40)
    assert s.smallest_fitting_point.peak_bytes == 72_554_432_000  # the article's PP 4 x ZeRO-1 DP 2 stage 1
    for p in s.points:
        est = estimate(with_changes(ARTICLE, layout=build_grid(pp=p.value, dp=2, gpu="A100 80GB",
                                                               capacity_bytes=80 * GiB)))
        assert p.peak_bytes == max(c.total_bytes for c in est.cards)
    t = sweep(template("13b-detailed-megatron"), "tp", 1, 64)
    assert [p.value for p in t.points] == [1, 2, 4, 5, 8, 10, 20, 40]  # divisors of 40 heads up to --to
    assert all(a.peak_bytes > b.peak_bytes for a, b in zip(t.points, t.points[1:], strict=False))


def test_refused_sizes_are_listed_with_the_reason():
    lora = sweep(LORA, "tp", 1, 4)
    assert [p.value for p in lora.points] == [1]
    assert [(e.value, e.reason.split("=")[0]) for e in lora.excluded] == [(2, "layout.tp"), (4, "layout.tp")]


def test_micro_batch_under_a_global_batch_takes_its_divisors():
    plan = with_changes(ARTICLE, training=ARTICLE.training.model_copy(update={"global_batch": 48}))
    s = sweep(plan, "micro-batch", 1, 64)
    # micro-batch x DP 2 must divide 48: 1, 2, 3, 4, 6, 8, 12, 24
    assert [p.value for p in s.points] == [1, 2, 3, 4, 6, 8, 12, 24]
    assert s.largest_fitting == max(p.value for p in s.points if p.fits)


def test_series_spacing():
    assert series(1024, 131072, 8, "geometric") == [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]
    assert series(1, 100, 5, "linear") == [1, 26, 51, 75, 100]  # 1 + round(99 x i / 4)
    assert series(3, 6, 24, "geometric") == [3, 4, 5, 6]
    values = series(1, 131072, 24, "geometric")
    assert values[0] == 1 and values[-1] == 131072 and values == sorted(set(values)) and len(values) <= 24


def test_default_range_is_around_the_plans_value():
    s = sweep(ARTICLE, "seq", points=4)
    assert (s.start, s.stop) == (512, 32768)


def test_a_repeated_sweep_hits_the_engines_caches():
    from engine.compare.probes import _seed_rest

    clear_memo()
    first = sweep(ARTICLE, "seq", 1024, 131072, points=50)
    before, before_rest = card_breakdown.cache_info(), _seed_rest.cache_info()
    again = sweep(ARTICLE, "seq", 1024, 131072, points=50)
    after, after_rest = card_breakdown.cache_info(), _seed_rest.cache_info()
    assert again == first
    assert after.misses == before.misses and after.hits > before.hits
    assert after_rest.misses == before_rest.misses and after_rest.hits >= before_rest.hits + 50


def test_knobs_by_workload():
    assert knobs_for(ARTICLE) == ("seq", "micro-batch", "tp", "pp")
    assert knobs_for(template("70b-4xh100-vllm")) == ("context", "batch", "tp", "pp")
    assert knobs_for(LORA) == ("seq", "micro-batch", "lora-rank", "tp", "pp")
    full = with_changes(LORA, finetune=FinetuneConfig(method="full"))
    assert "lora-rank" not in knobs_for(full)


@pytest.mark.parametrize("plan,args,field", [
    (ARTICLE, dict(knob="context", start=1, stop=2), "--knob"),
    (ARTICLE, dict(knob="seq", start=0, stop=2), "--from"),
    (ARTICLE, dict(knob="seq", start=4096, stop=1024), "--to"),
    (ARTICLE, dict(knob="seq", start=1, stop=2**25), "--to"),
    (ARTICLE, dict(knob="seq", start=1, stop=8, points=1), "--points"),
    (ARTICLE, dict(knob="seq", start=1, stop=8, scale="log"), "--scale"),
    (ARTICLE, dict(knob="pp", start=3, stop=3), "--from"),
    (with_changes(template("70b-4xh100-vllm"), serving=ServingConfig(max_model_len=4096)),
     dict(knob="context", start=1024, stop=8192), "--to"),
])
def test_bad_input_names_the_field(plan, args, field):
    with pytest.raises(PlanError) as info:
        sweep(plan, **args)
    assert info.value.field == field


def test_tp_on_a_layout_that_is_not_a_grid_is_refused():
    cards = list(ARTICLE.layout.cards)
    cards[0] = cards[0].model_copy(update={"dp_group": None})
    plan = with_changes(ARTICLE, layout=ARTICLE.layout.model_copy(update={"cards": tuple(cards)}))
    with pytest.raises(PlanError) as info:
        sweep(plan, "tp")
    assert info.value.field == "--knob" and "uniform" in info.value.allowed


# --- CLI ------------------------------------------------------------------------------------------
def test_cli_sweep_json_and_table(capsys, tmp_path):
    path = tmp_path / "article.json"
    save_plan(ARTICLE, path)
    assert cli(["sweep", str(path), "--knob", "seq", "--from", "1024", "--to", "131072", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert Sweep.model_validate(data) == sweep(ARTICLE, "seq", 1024, 131072)
    assert data["largest_fitting"] == 5725 and len(data["points"]) == 24 and data["units"] == "bytes"
    assert cli(["sweep", str(path), "--knob", "seq", "--from", "1024", "--to", "131072", "--points", "8",
                "--units", "GiB"]) == 0
    out = capsys.readouterr().out
    assert "largest seq that fits: 5,725 (binding: stage 1, card 0" in out
    assert "GiB (2^30 bytes)" in out and "stages counted from 1" in out


@pytest.mark.parametrize("args,field", [
    (["--knob", "batch"], "--knob"),
    (["--knob", "seq", "--from", "9", "--to", "3"], "--to"),
    (["--knob", "seq", "--points", "1"], "--points"),
])
def test_cli_sweep_bad_input_is_one_line_exit_2(capsys, tmp_path, args, field):
    path = tmp_path / "article.json"
    save_plan(ARTICLE, path)
    rc = cli(["sweep", str(path), *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert field in err


def test_plan_model_is_unchanged_by_a_sweep():
    before = ARTICLE.model_dump()
    sweep(ARTICLE, "seq", 1024, 4096, points=3)
    assert PlanModel.model_validate(before) == ARTICLE


# --- the plan a point stands for ------------------------------------------------------------------
def test_plan_with_knob_sets_the_field_or_rebuilds_the_grid():
    assert plan_with_knob(ARTICLE, "seq", 8192) == with_value(ARTICLE, "seq", 8192)
    assert plan_with_knob(SHORT, "micro-batch", 3) == with_value(SHORT, "micro-batch", 3)
    assert plan_with_knob(LORA, "lora-rank", 64) == with_value(LORA, "lora-rank", 64)
    assert plan_with_knob(LLAMACPP, "context", 8192) == with_value(LLAMACPP, "context", 8192)
    pp8 = plan_with_knob(ARTICLE, "pp", 8)
    assert (pp8.layout.topology.stages, len(pp8.layout.cards)) == (8, 16)  # DP 2 kept
    # PP 8 x ZeRO-1 DP 2, stage 1: 13e9 x (6/8 + 12/16) = 19.5e9 of states, plus 40 x S 4096 x H 5120 x 5 layers
    # x 8 micro-batches in flight = 33,554,432,000 of activations
    assert estimate(pp8).cards[0].total_bytes == 19_500_000_000 + 40 * 4096 * 5120 * 5 * 8 == 53_054_432_000
    tp4 = plan_with_knob(template("13b-detailed-megatron"), "tp", 4)
    assert max(tp4.layout.topology.tp_size) == 4


@pytest.mark.parametrize("plan,knob", [(ARTICLE, "seq"), (LORA, "lora-rank"), (ARTICLE, "pp"), (LLAMACPP, "context"),
                                       (MOE_PLAN, "micro-batch")], ids=lambda x: getattr(x, "name", str(x)))
def test_every_point_is_the_estimate_of_plan_with_knob(plan, knob):
    for p in sweep(plan, knob, points=5).points:
        est = estimate(plan_with_knob(plan, knob, p.value))
        assert (p.peak_bytes, p.fits) == (max(c.total_bytes for c in est.cards), est.fits)


@pytest.mark.parametrize("plan,knob,value,field", [
    (ARTICLE, "seq", 0, "training.seq"),
    (ARTICLE, "seq", MAX_SEQ + 1, "training.seq"),
    (ARTICLE, "pp", 3, "layout.pp"),  # 3 does not divide 40 layers
    (ARTICLE, "pp", MAX_PP + 1, "layout.pp"),
    (ARTICLE, "context", 4096, "--knob"),  # a serving knob on a training plan
    (with_changes(template("70b-4xh100-vllm"), serving=ServingConfig(max_model_len=4096)), "context", 8192,
     "serving.context"),
])
def test_plan_with_knob_refuses_what_the_plan_refuses(plan, knob, value, field):
    with pytest.raises(PlanError) as info:
        plan_with_knob(plan, knob, value)
    assert info.value.field == field


def test_the_pp_knob_is_bounded_by_the_pipeline_limit():
    assert knob_rule(ARTICLE, "pp").limit == MAX_PP == 256
    with pytest.raises(PlanError) as info:
        sweep(ARTICLE, "pp", 1, MAX_PP + 1)
    assert (info.value.field, info.value.allowed) == ("--to", "an integer from 1 to 256 (layout.pp)")
    # a model deeper than 256 layers: by default the sweep stops at 256 stages, the powers of two of 512 layers
    deep = Plan(name="deep", model=ModelSpec(layers=512, hidden=64, heads=4, vocab=256),
                training=TrainingConfig(seq=64), method=MethodConfig(method="seed"),
                layout=build_grid(gpu="g", capacity_bytes=80 * GiB))
    s = sweep(deep, "pp", points=20)
    assert (s.start, s.stop) == (1, 256)
    assert [p.value for p in s.points] == [1, 2, 4, 8, 16, 32, 64, 128, 256]

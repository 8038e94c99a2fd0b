"""Plan comparison (issue 14): the article's two layouts stage by stage, step time from the planner's
model, warnings that appear and disappear, serving and fine-tuning plans, the CLI and its schema.

Numbers are the article's 13B example under the seed method (../shared/reference/worked-examples.md):
13e9 parameters, S = 4096, H = 5120, L = 40, activations 40·S·H·L bytes per sample, 1F1B.
"""

import json
from pathlib import Path

import pytest

from engine import GB, GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate
from engine.cli.main import main as cli
from engine.compare import PlanComparison, Sweep, compare_plans
from engine.compare.compare import step_cost
from engine.errors import PlanError
from engine.finetune.config import FinetuneConfig
from engine.plan.schema import save_plan, with_changes
from engine.serving.config import ServingConfig

P, S, H, L = 13_000_000_000, 4096, 5120, 40
MODEL = ModelSpec(params=P, layers=L, hidden=H, heads=40)


def seed_plan(pp: int, dp: int = 1, zero: int = 0, capacity: int = 80 * GiB, gpu: str = "A100 80GB") -> Plan:
    return Plan(name=f"pp{pp}-dp{dp}-zero{zero}", model=MODEL, training=TrainingConfig(seq=S, micro_batch=1, zero=zero),
                method=MethodConfig(method="seed"),
                layout=build_grid(pp=pp, dp=dp, gpu=gpu, capacity_bytes=capacity))


PP4 = seed_plan(pp=4)
PP4_ZERO1_DP2 = seed_plan(pp=4, dp=2, zero=1)


def test_article_pp4_against_pp4_zero1_dp2_stage_by_stage():
    c = compare_plans(PP4, PP4_ZERO1_DP2)
    # The article's per-stage figures: 58.5e9 (13e9 x 18 / 4) + 8.388608e9 (33.554432e9 / 4) x (4, 3, 2, 1)
    # micro-batches in flight, and 39e9 (13e9 x (6/4 + 12/8)) + the same activations.
    act = 40 * S * H * L // 4
    assert [r.a.peak_bytes for r in c.stages] == [58_500_000_000 + act * n for n in (4, 3, 2, 1)] == [
        92_054_432_000, 83_665_824_000, 75_277_216_000, 66_888_608_000]
    assert [r.b.peak_bytes for r in c.stages] == [39_000_000_000 + act * n for n in (4, 3, 2, 1)] == [
        72_554_432_000, 64_165_824_000, 55_777_216_000, 47_388_608_000]
    # ZeRO-1 over DP 2 halves the 12 B/param of master weights + Adam moments of a stage's 13e9 / 4 params:
    saved = 12 * (P // 4) // 2
    assert saved == 19_500_000_000
    assert [r.delta_bytes for r in c.stages] == [-saved] * 4
    assert c.peak_delta_bytes == -saved
    for r in c.stages:
        assert [(d.key, d.a_bytes, d.b_bytes, d.delta_bytes) for d in r.categories] == [
            ("optimizer_states", 12 * P // 4, 12 * P // 4 // 2, -saved)]
        assert (r.a.cards, r.b.cards) == (1, 2)
    assert [r.stage for r in c.stages] == [0, 1, 2, 3]
    # 80 GiB = 85,899,345,920 B: plain PP 4's stage 1 (92.05 GB) overflows; every ZeRO-1 stage fits
    assert [r.a.fits for r in c.stages] == [False, True, True, True]
    assert all(r.b.fits for r in c.stages)
    assert c.stages[0].a.headroom_bytes == 80 * GiB - 92_054_432_000
    assert (c.a.fits, c.b.fits, c.a.cards, c.b.cards) == (False, True, 4, 8)
    assert [w.code for w in c.warnings_removed] == ["over-capacity"]
    assert c.warnings_added == []


def test_swapping_the_plans_swaps_the_signs_and_the_warnings():
    c = compare_plans(PP4_ZERO1_DP2, PP4)
    assert [r.delta_bytes for r in c.stages] == [19_500_000_000] * 4
    assert [w.code for w in c.warnings_added] == ["over-capacity"] and c.warnings_removed == []


def test_plans_with_different_stage_counts_keep_one_row_per_stage():
    c = compare_plans(PP4_ZERO1_DP2, seed_plan(pp=8))
    assert len(c.stages) == 8
    assert all(r.a is None and r.delta_bytes is None and r.categories == [] for r in c.stages[4:])
    # PP 8 stage 1: 13e9 x 18 / 8 + 33.554432e9 / 8 x 8 = 62.80 GB (the article)
    assert c.stages[0].b.peak_bytes == 29_250_000_000 + 33_554_432_000
    assert c.stages[0].delta_bytes == 62_804_432_000 - 72_554_432_000


def test_step_time_and_cost_are_the_planners_for_the_same_layout():
    from engine.catalog import find_gpu
    from engine.planner import PlannerRequest, SearchSpace, hardware_for_gpu, search

    c = compare_plans(PP4, PP4_ZERO1_DP2)
    request = PlannerRequest(model=MODEL, training=PP4_ZERO1_DP2.training, method=MethodConfig(method="seed"),
                             hardware=(hardware_for_gpu(find_gpu("A100 80GB"), 8, capacity_bytes=2**40),),
                             space=SearchSpace(micro_batches=(1,), zero_stages=(0, 1), uneven_pp=False, max_vpp=1),
                             margin=0.0)
    found = {(x.tp, x.pp, x.dp, x.zero): x for x in search(request, keep_all=True).fitting}
    for side, key in ((c.a, (1, 4, 1, 0)), (c.b, (1, 4, 2, 1))):
        planned = found[key]
        assert side.step is not None and side.step_note is None
        assert side.step.step_s == pytest.approx(planned.time.step_s, rel=1e-12)
        assert side.step.dp_s == pytest.approx(planned.time.dp_s, rel=1e-12)
        assert side.step.cost == pytest.approx(planned.cost, rel=1e-12)
        assert side.step.tokens_per_step == planned.time.tokens_per_step
    # 20 tokens per parameter (Chinchilla, the planner's default) and the catalog's price per card-hour
    assert c.a.step.train_tokens == 20 * P
    assert c.a.step.cost_unit == "USD"
    # Same pipeline, twice the replicas: the same compute per step, twice the tokens, DP traffic added.
    assert c.b.step.tokens_per_step == 2 * c.a.step.tokens_per_step
    assert c.a.step.dp_s == 0 and c.b.step.dp_s > 0


def test_step_time_is_none_with_the_reason_where_the_model_does_not_apply():
    plan = PP4.model_copy(update={"layout": build_grid(pp=4, gpu="my card", capacity_bytes=80 * GiB)})
    step, note = step_cost(plan, estimate(plan))
    assert step is None and "my card" in note
    cards = list(PP4.layout.cards)
    cards[0] = cards[0].model_copy(update={"gpu": "H100"})
    mixed = with_changes(PP4, layout=PP4.layout.model_copy(update={"cards": tuple(cards)}))
    assert step_cost(mixed, estimate(mixed)) == (None, "mixed GPU types: the step-time model takes one GPU type")
    # one card taken out of its DP group: DP sizes 2 and 1, not a grid a launcher (or the step model) takes
    cards = list(PP4_ZERO1_DP2.layout.cards)
    cards[0] = cards[0].model_copy(update={"dp_group": None})
    uneven = with_changes(PP4_ZERO1_DP2, layout=PP4_ZERO1_DP2.layout.model_copy(update={"cards": tuple(cards)}))
    c = compare_plans(PP4_ZERO1_DP2, uneven)
    assert c.b.step is None and c.b.step_note.startswith("not a uniform TP x CP x DP x PP grid (layout.dp=")
    assert "unequal-dp-groups" in [w.code for w in c.warnings_added]


def test_a_plan_the_engine_refuses_is_its_plan_error():
    three_stages = with_changes(PP4, layout=PP4.layout.model_copy(update={"cards": PP4.layout.cards[:3] + (
        PP4.layout.cards[3].model_copy(update={"stage": 2}),)}))
    with pytest.raises(PlanError) as info:
        compare_plans(PP4, three_stages)
    assert info.value.field == "layout.pp"  # three stages do not divide 40 layers


SERVING_MODEL = ModelSpec(name="small", layers=4, hidden=512, heads=8, kv_heads=8, ffn=1024, vocab=1000,
                          gated_mlp=True, norm="rmsnorm", bias=False)


def serving_plan(context: int) -> Plan:
    return Plan(name=f"ctx{context}", mode="serving", model=SERVING_MODEL, serving=ServingConfig(context=context),
                layout=build_grid(gpu="RTX 4090", capacity_bytes=24 * GiB))


def test_serving_plans_compare_by_kv_cache_and_have_no_step_time():
    c = compare_plans(serving_plan(4096), serving_plan(8192))
    row = c.stages[0]
    kv = next(d for d in row.categories if d.key == "kv_cache")
    # fp16 KV: 2 (K and V) x 2 B x 4 layers x 512 (8 KV heads x 64) per token, 4,096 more tokens
    assert kv.delta_bytes == 2 * 2 * 4 * 512 * 4096
    assert c.a.step is None and c.a.step_note == "the planner's step-time model covers training plans, not serving"


def test_finetune_plans_compare_adapters():
    base = Plan(name="lora", mode="finetune", model=SERVING_MODEL, finetune=FinetuneConfig(rank=8),
                layout=build_grid(gpu="RTX 4090", capacity_bytes=24 * GiB))
    bigger = with_changes(base, finetune=FinetuneConfig(rank=64))
    c = compare_plans(base, bigger)
    keys = {d.key for d in c.stages[0].categories}
    assert {"weights", "gradients", "optimizer_states"} <= keys
    # fp32 adapters on q (512 x 512) and v (512 x 512), 4 layers: 56 more ranks x (512 + 512) x 2 x 4
    grads = next(d for d in c.stages[0].categories if d.key == "gradients")
    assert grads.delta_bytes == 4 * (64 - 8) * (512 + 512) * 2 * 4
    assert c.a.step is None


# --- CLI ------------------------------------------------------------------------------------------
@pytest.fixture
def plan_files(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "pp4.json", tmp_path / "pp4-zero1-dp2.json"
    save_plan(PP4, a)
    save_plan(PP4_ZERO1_DP2, b)
    return a, b


def test_cli_compare_json_is_the_schemas_shape(capsys, plan_files):
    a, b = plan_files
    assert cli(["compare", str(a), str(b), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    parsed = PlanComparison.model_validate(data)
    assert parsed == compare_plans(PP4, PP4_ZERO1_DP2, label_a="pp4.json", label_b="pp4-zero1-dp2.json")
    assert [r["delta_bytes"] for r in data["stages"]] == [-19_500_000_000] * 4
    assert data["units"] == "bytes"


def test_cli_compare_table_counts_stages_from_1_in_the_chosen_unit(capsys, plan_files):
    a, b = plan_files
    assert cli(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "stages counted from 1" in out and "GB (10^9 bytes)" in out
    stage1 = next(line for line in out.splitlines() if line.split()[:1] == ["1"])
    assert stage1.split()[3:6] == ["92.05", "72.55", "-19.50"]
    assert "optimizer states -19.50" in out
    assert cli(["compare", str(a), str(b), "--units", "GiB"]) == 0
    out = capsys.readouterr().out
    stage1 = next(line for line in out.splitlines() if line.split()[:1] == ["1"])
    assert stage1.split()[5] == f"{-19.5e9 / GiB:+.2f}"


@pytest.mark.parametrize("args,field", [
    (["missing.json", "missing.json"], "plan"),
    (["{a}"], "B.json"),
    (["{a}", "{b}", "--expert-load"], "--expert-load"),
])
def test_cli_compare_bad_input_is_one_line_exit_2(capsys, plan_files, args, field):
    a, b = plan_files
    rc = cli(["compare", *[x.format(a=a, b=b) for x in args]])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and f"error: {field}=" in err


def test_schema_lists_compare_and_sweep(capsys):
    assert cli(["schema", "all"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert schemas["compare"] == PlanComparison.model_json_schema()
    assert schemas["sweep"] == Sweep.model_json_schema()
    for which in ("compare", "sweep"):
        assert cli(["schema", which]) == 0
        assert json.loads(capsys.readouterr().out) == schemas[which]


def test_gb_figures_of_the_article_in_the_comparison():
    c = compare_plans(PP4, PP4_ZERO1_DP2)
    assert [round(r.a.peak_bytes / GB, 2) for r in c.stages] == [92.05, 83.67, 75.28, 66.89]
    assert [round(r.b.peak_bytes / GB, 2) for r in c.stages] == [72.55, 64.17, 55.78, 47.39]

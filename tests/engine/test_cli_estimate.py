"""`vramplan estimate` contract: flags, JSON keys, errors (exit 2, one line, no traceback)."""

import json
import subprocess
import sys

import pytest

from engine.cli.main import main as cli
from engine.plan.schema import load_plan
from engine.report.json_report import ReportModel

ARTICLE = ["--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40", "--method", "seed"]


def run(capsys, *args):
    rc = cli(list(args))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_json_report_has_the_promised_keys(capsys):
    rc, out, _ = run(capsys, "estimate", *ARTICLE, "--gpu", "A100 80GB", "--pp", "2", "--dp", "2", "--json")
    assert rc == 0
    report = json.loads(out)
    ReportModel.model_validate(report)
    assert {"fits", "parameters", "warnings", "cards"} <= set(report)
    card = report["cards"][0]
    for key in ("card", "node", "gpu", "stage", "tp_rank", "dp_rank", "capacity_bytes", "total_bytes",
                "in_flight_microbatches", "fits", "breakdown"):
        assert key in card
    assert {"weights", "gradients", "optimizer_states", "activations", "kv_cache", "overhead"} <= set(card["breakdown"])
    assert all(isinstance(v, int) for v in card["breakdown"].values())


@pytest.mark.parametrize("name", ["a100-80gb", "A100 80GB", "a100_80GB", "A10080GB"])
def test_gpu_names_are_case_and_punctuation_insensitive(capsys, name):
    rc, out, _ = run(capsys, "estimate", *ARTICLE, "--gpu", name, "--pp", "8", "--json")
    assert rc == 0
    assert json.loads(out)["cards"][0]["capacity_bytes"] == 85_100_068_864  # A100 80GB as CUDA reports it (catalog)


def test_rtx4090_alias(capsys):
    rc, out, _ = run(capsys, "estimate", *ARTICLE, "--gpu", "rtx4090", "--pp", "8", "--json")
    assert rc == 0 and json.loads(out)["cards"][0]["gpu"] == "RTX 4090"


def test_gpu_memory_flag_takes_real_units(capsys):
    rc, out, _ = run(capsys, "estimate", *ARTICLE, "--gpu-memory", "24GiB", "--pp", "8", "--json")
    assert rc == 0 and json.loads(out)["cards"][0]["capacity_bytes"] == 24 * 2**30


def test_uneven_pp_layers(capsys):
    rc, out, _ = run(capsys, "estimate", *ARTICLE, "--gpu-memory", "80GB", "--pp-layers", "11,10,10,9", "--json")
    assert rc == 0
    cards = json.loads(out)["cards"]
    # stage 0: 13e9 x 18 x 11/40 = 64.35e9 ; activations 40 x 4096 x 5120 x 11 x 4 in flight = 36,909,875,200
    assert cards[0]["total_bytes"] == 64_350_000_000 + 36_909_875_200


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--gpu", "a100-80gb", "--pp", "3"], "layout.pp=3"),
        (["--gpu", "a100-80gb", "--tp", "3"], "layout.tp=3"),
        (["--gpu", "nonexistent-card"], "gpu='nonexistent-card'"),
        (["--gpu-memory", "lots"], "--gpu-memory='lots'"),
        (["--gpu", "a100-80gb", "--pp-layers", "10,10,10"], "layout.pp_layers"),
        (["--gpu", "a100-80gb", "--dp", "2", "--global-batch", "3"], "training.global_batch=3"),
        (["--gpu", "a100-80gb", "--seq", "0"], "--seq"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, args, needle):
    rc, out, err = run(capsys, "estimate", *ARTICLE, *args)
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_unknown_flag_is_one_line_exit_2():
    proc = subprocess.run([sys.executable, "-m", "engine", "estimate", "--frobnicate"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--frobnicate" in proc.stderr


def test_save_plan_round_trip(capsys, tmp_path):
    target = tmp_path / "plan.json"
    rc, out1, _ = run(capsys, "estimate", *ARTICLE, "--gpu", "a100-80gb", "--pp", "4", "--dp", "2", "--zero", "1",
                      "--save-plan", str(target), "--json")
    assert rc == 0
    plan = load_plan(target)
    assert len(plan.layout.cards) == 8 and plan.training.zero == 1
    rc, out2, _ = run(capsys, "estimate", "--plan", str(target), "--json")
    assert rc == 0 and json.loads(out1) == json.loads(out2)
    # a workload flag overrides the saved plan
    rc, out3, _ = run(capsys, "estimate", "--plan", str(target), "--seq", "2048", "--json")
    first = json.loads(out3)["cards"][0]
    # activations halve with half the sequence: 33,554,432,000 / 2
    assert first["breakdown"]["activations"] == 33_554_432_000 // 2


def test_plan_file_errors(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"layers": 2}}')
    rc, _, err = run(capsys, "estimate", "--plan", str(bad))
    assert rc == 2 and "model" in err and err.count("\n") == 1
    rc, _, err = run(capsys, "estimate", "--plan", str(tmp_path / "missing.json"))
    assert rc == 2 and "missing.json" in err


def test_table_output_names_its_unit(capsys):
    rc, out, _ = run(capsys, "estimate", *ARTICLE, "--gpu", "a100-80gb", "--pp", "4", "--dp", "2", "--zero", "1",
                     "--units", "GiB")
    assert rc == 0
    assert "GiB" in out.splitlines()[0]
    # stage 0: 72,554,432,000 B = 67.57 GiB
    assert "67.57" in out


def test_schema_command(capsys):
    rc, out, _ = run(capsys, "schema")
    schemas = json.loads(out)
    assert rc == 0 and {"plan", "report", "validate"} <= set(schemas)
    assert "layout" in schemas["plan"]["properties"]
    card = schemas["report"]["$defs"]["CardModel"]["properties"]
    assert "transient" in card["breakdown"]["description"] and "peak_moment" in card
    assert "ValidationRecord" in schemas["validate"]["$defs"]


def test_every_json_card_key_is_in_the_schema(capsys):
    from engine.report.json_report import CardModel

    rc, out, _ = run(capsys, "estimate", *ARTICLE, "--gpu", "a100-80gb", "--json")
    assert rc == 0
    for card in json.loads(out)["cards"]:
        assert set(card) == set(CardModel.model_fields)


GPT2_FLAGS = ["--layers", "12", "--hidden", "768", "--heads", "12", "--ffn", "3072", "--vocab", "50257",
              "--tied-embeddings", "--bias", "--norm", "layernorm", "--no-swiglu", "--gpu", "rtx4090", "--seq", "1024"]


def test_max_position_implies_learned_position_embeddings(capsys):
    # GPT-2 small (124,439,808 parameters, the Hugging Face model card): token embedding 50,257 x 768 =
    # 38,597,376 + learned positions 1,024 x 768 = 786,432 + 12 layers x 7,087,872 + final LayerNorm 1,536.
    assert 38_597_376 + 786_432 + 12 * 7_087_872 + 1_536 == 124_439_808
    rc, out, _ = run(capsys, "estimate", *GPT2_FLAGS, "--max-position", "1024", "--json")
    assert rc == 0 and json.loads(out)["parameters"] == 124_439_808
    rc, out, _ = run(capsys, "estimate", *GPT2_FLAGS, "--max-position", "1024", "--position-embedding", "learned", "--json")
    assert json.loads(out)["parameters"] == 124_439_808
    # RoPE (no table) and ALiBi (a bias, no parameters) drop the 786,432 position rows
    for kind in ("rope", "alibi", "none"):
        rc, out, _ = run(capsys, "estimate", *GPT2_FLAGS, "--position-embedding", kind, "--json")
        assert rc == 0 and json.loads(out)["parameters"] == 124_439_808 - 786_432, kind


def test_norms_per_layer_flag(capsys):
    # a parallel block sharing one LayerNorm (GPT-J, phi-1.5): 12 layers x (768 weight + 768 bias) fewer parameters
    rc, out, _ = run(capsys, "estimate", *GPT2_FLAGS, "--max-position", "1024", "--norms-per-layer", "1", "--json")
    assert rc == 0 and json.loads(out)["parameters"] == 124_439_808 - 12 * 1_536
    rc, out, err = run(capsys, "estimate", *GPT2_FLAGS, "--norms-per-layer", "0")
    assert rc == 2 and out == "" and "--norms-per-layer" in err and "1 to 4" in err


def test_parallel_residual_flag(capsys):
    # GPT-J-style block: both LayerNorms read the layer input, kept once: 2 B x 1,024 tokens x 768 less per layer
    def per_layer(*extra):
        rc, out, _ = run(capsys, "estimate", *GPT2_FLAGS, "--max-position", "1024", *extra, "--json")
        assert rc == 0
        return json.loads(out)["cards"][0]["details"]["activations_per_layer"]

    assert per_layer() - per_layer("--parallel-residual") == 2 * 1024 * 768 == 1_572_864
    assert per_layer("--no-parallel-residual") == per_layer()


def test_learned_positions_need_their_row_count(capsys):
    rc, out, err = run(capsys, "estimate", *GPT2_FLAGS, "--position-embedding", "learned")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "--max-position" in err

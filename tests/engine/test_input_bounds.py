"""Issue 15's findings, one by one: each is refused in one line (exit 2) or answered, never a traceback.

The classes behind them (numbers, sizes, files, trust, work, memory) are fuzzed in tests/fuzz; these
are the reported cases, kept as named regressions.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import struct
from pathlib import Path

import pytest

import engine
from engine import limits
from engine.cli.main import main as cli
from engine.errors import PlanError
from engine.importers.hf_import import inspect_local
from engine.plan.files import atomic_write_text, parse_json
from engine.plan.schema import load_plan, plan_from_json

ARTICLE = ["--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40", "--gpu", "a100-80gb"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        rc = cli(list(argv))
    except SystemExit as e:  # argparse usage errors exit from the parser
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def refused(capsys, *argv: str) -> str:
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "error:" in err, err
    return err


@pytest.mark.parametrize("flags", [
    ["--params", "1e400"], ["--params", "inf"], ["--layers", "1" * 70], ["--tp", "9223372036854775808"],
    ["--gpu-memory", "0.4"], ["--gpus-per-node", "4096"], ["--pp", "2147483648"], ["--layers", "2147483648"],
    ["--cp", "1000000"], ["--dp", "100000"], ["--dp", "16385"], ["--seq", "nan"], ["--fragmentation", "inf"],
])
def test_numbers_out_of_range_are_one_line(capsys, flags):
    refused(capsys, "estimate", *ARTICLE, *flags)


def test_tflops_and_gpu_budget_are_bounded(capsys):
    refused(capsys, "plan", "--model", "llama-2-7b", "--gpu", "a100-80gb", "--tflops", "1e308")
    refused(capsys, "plan", "--model", "llama-2-7b", "--gpu", "a100-80gb", "--max-gpus", "100000")


def test_moe_search_above_eight_gpus_answers(capsys):
    rc, out, _ = run(capsys, "plan", "--model", "mixtral-8x7b", "--gpu", "a100-80gb", "--max-gpus", "16")
    assert rc == 0 and "searched" in out


def test_nan_tensor_split_is_refused(capsys):
    err = refused(capsys, "infer", "--model", "llama-2-13b", "--gpu", "rtx4090", "--gpus", "2",
                  "--tensor-split", "nan,1", "--runtime", "llamacpp")
    assert "--tensor-split" in err


def test_megatron_moe_pattern_bomb_is_refused_at_once(capsys, tmp_path):
    args = tmp_path / "args.sh"
    args.write_text("--num-layers 4 --hidden-size 64 --num-attention-heads 4 --vocab-size 100 --num-experts 8 "
                    "--moe-layer-freq '([1]*9999999999)' --position-embedding-type rope")
    refused(capsys, "import", "--format", "megatron", str(args), "--gpu", "h100")


# --- messages ---------------------------------------------------------------------------------------
def test_a_huge_value_is_quoted_in_80_characters():
    message = str(PlanError("model.name", "x" * 2_000_000, "a name"))
    assert len(message) < 200 and "…" in message or "..." in message


def test_control_characters_never_reach_the_message():
    message = str(PlanError("gpu\x1b[2J", "\x1b]0;title\x07", "a \x9b31m name\nfrom a file"))
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in message)


def test_catalog_names_are_shown_without_escape_codes(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VRAMPLAN_CONFIG_DIR", str(tmp_path))
    (tmp_path / "gpus").mkdir()
    (tmp_path / "gpus" / "evil.json").write_text(json.dumps(
        {"gpus": [{"name": "\x1b]0;pwned\x07EVIL\x1b[31m", "memory_bytes": 10**9, "source": "x"}]}))
    engine.catalog.reload_catalogs()
    rc, out, _ = run(capsys, "catalog", "gpus")
    assert rc == 0 and "EVIL" in out and "\x1b" not in out and "\x07" not in out


def test_one_bad_user_catalog_file_is_skipped_with_a_warning(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VRAMPLAN_CONFIG_DIR", str(tmp_path))
    (tmp_path / "gpus").mkdir()
    (tmp_path / "gpus" / "broken.json").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "gpus" / "mine.json").write_text(json.dumps(
        {"gpus": [{"name": "My GPU", "memory_bytes": 10**9, "source": "x"}, {"name": 5}]}))
    engine.catalog.reload_catalogs()
    rc, out, err = run(capsys, "catalog", "gpus")
    assert rc == 0 and "My GPU" in out
    assert "warning: skipped user catalog file" in err and "broken.json" in err
    assert "warning: skipped entry 1 of user catalog file" in err and "mine.json" in err
    engine.catalog.reload_catalogs()


# --- files ------------------------------------------------------------------------------------------
def test_bad_plan_files_are_one_line(capsys, tmp_path):
    cases = {"latin1.json": b'{"name": "caf\xe9"}', "deep.json": b"[" * 100_000, "version.json": b'{"version": "1"}',
             "digits.json": b'{"version": 1, "name": ' + b"9" * 5000 + b"}", "nan.json": b'{"x": NaN}'}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        refused(capsys, "estimate", "--plan", str(tmp_path / name))
    os.mkfifo(tmp_path / "fifo.json")
    refused(capsys, "estimate", "--plan", str(tmp_path / "fifo.json"))  # refused, not blocked on open
    refused(capsys, "estimate", "--plan", str(tmp_path))
    refused(capsys, "estimate", "--plan", "/dev/zero")


def test_bad_targets_are_one_line(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    for target in (tmp_path, tmp_path / "afile" / "plan.json", tmp_path / ("x" * 300 + ".json"),
                   "/proc/self/plan.json", "/dev/null"):
        refused(capsys, "estimate", *ARTICLE, "--save-plan", str(target))


def test_saving_through_a_symlink_keeps_the_link_and_the_mode(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    real.chmod(0o644)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, '{"new": 1}\n')
    assert link.is_symlink() and json.loads(real.read_text()) == {"new": 1}
    assert real.stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".*.tmp"))


def test_json_is_parsed_within_bounds():
    for text in ("[" * 5000, '{"a": 1e400}', '{"a": NaN}', '{"a": ' + "1" * 40 + "}"):
        with pytest.raises(PlanError):
            parse_json(text, "x")
    with pytest.raises(PlanError):
        parse_json("[" + ",".join(["0"] * (limits.MAX_JSON_VALUES + 1)) + "]", "x")


def test_a_plan_of_too_many_cards_is_refused_before_validation():
    plan = json.loads(Path(engine.resources.resource_path("templates", "article-13b-pp8.json")).read_text())
    plan["layout"]["cards"] = plan["layout"]["cards"][:1] * (limits.MAX_CARDS + 1)
    with pytest.raises(PlanError) as e:
        plan_from_json(json.dumps(plan))
    assert "16,384" in str(e.value)


def test_the_templates_still_load():
    for path in sorted(engine.resources.resource_path("templates").glob("*.json")):
        load_plan(path)


# --- trust ------------------------------------------------------------------------------------------
def test_a_safetensors_index_cannot_leave_the_model_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "num_hidden_layers": 1, "hidden_size": 8, "num_attention_heads": 2,
        "intermediate_size": 16, "vocab_size": 10}))
    secret = tmp_path / "secret.txt"
    secret.write_bytes(struct.pack("<Q", 12) + b'{"x": "top secret"}')
    for name in ("../secret.txt", str(secret), "sub/../../secret.txt"):
        (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"t": name}}))
        with pytest.raises(PlanError) as e:
            inspect_local(folder)
        assert "secret" not in e.value.allowed and "top" not in str(e.value)


# --- work and memory --------------------------------------------------------------------------------
def test_planner_reports_progress_and_can_be_cancelled():
    from engine.catalog import find_gpu, find_model
    from engine.planner import PlannerRequest, hardware_for_gpu, search

    request = PlannerRequest(model=find_model("llama-2-7b").spec,
                             hardware=(hardware_for_gpu(find_gpu("a100-80gb"), 64),))
    seen: list[tuple[int, int]] = []
    result = search(request, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] == result.stats.configurations
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:], strict=False))
    calls = []
    stopped = search(request, cancelled=lambda: bool(calls.append(1)) or len(calls) > 2)
    assert stopped.cancelled


def test_too_large_a_search_is_refused_before_any_work():
    from engine.catalog import find_gpu, find_model
    from engine.planner import PlannerRequest, SearchSpace, hardware_for_gpu, search

    request = PlannerRequest(model=find_model("llama-2-13b").spec,
                             hardware=(hardware_for_gpu(find_gpu("a100-80gb"), limits.MAX_SEARCH_GPUS),),
                             space=SearchSpace(whole_nodes=False, micro_batches=tuple(range(1, 17))))
    with pytest.raises(PlanError) as e:
        search(request)
    assert "configurations" in str(e.value)


def test_every_engine_cache_is_bounded():
    """An unbounded functools cache grows with every new plan (100,000 estimates added 393 MB)."""
    unbounded = []
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            params = getattr(obj, "cache_parameters", None)
            wrapped = getattr(obj, "__wrapped__", None)
            if (callable(params) and getattr(obj, "__module__", None) == info.name and wrapped is not None
                    and params()["maxsize"] is None and wrapped.__code__.co_argcount):  # no argument: one value
                unbounded.append(f"{info.name}.{name}")
    assert unbounded == []

"""Fuzz the engine's own doors with plans inside the bounds, the user's folders, and real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fuzz_harness import run_engine
from fuzz_settings import fuzz_tests
from fuzz_strategies import mutated_json
from hypothesis import strategies as st
from pydantic import ValidationError

from engine import limits
from engine.estimate import estimate
from engine.model.spec import ModelSpec
from engine.plan.layout import build_grid
from engine.plan.schema import Plan, plan_from_json
from engine.resources import resource_path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(resource_path("templates").glob("*.json"))]
SMALL = [t for t in TEMPLATES if len(t["layout"]["cards"]) <= 16]


# --- plan dicts straight into the engine (the GUI's and the API's door) --------------------------------
def plan_dicts(doc: object) -> None:
    text = json.dumps(doc)
    plan = run_engine("engine plan dicts", text[:300], plan_from_json, text)
    if plan is not None:
        run_engine("engine plan dicts", text[:300], estimate, plan)


test_plan_dicts, test_plan_dicts_long = fuzz_tests(st.sampled_from(SMALL).flatmap(mutated_json), plan_dicts, quick=40)


# --- plans inside every bound: the estimators must answer, not crash ---------------------------------
def _pow2(hi: int) -> st.SearchStrategy[int]:
    return st.sampled_from([2**k for k in range(hi.bit_length()) if 2**k <= hi])


@st.composite
def bounded_plan(draw) -> dict:
    heads = draw(st.sampled_from([1, 2, 4, 8, 32, 64, 128, 1024]))
    head_dim = draw(st.sampled_from([1, 8, 64, 128, 256, limits.MAX_HEAD_DIM]))
    layers = draw(st.sampled_from([1, 2, 3, 7, 40, 61, 126, 256, limits.MAX_LAYERS]))
    model = {"name": draw(st.sampled_from(["m", "\x1b[31m<b>x</b>", "a" * 256])), "layers": layers,
             "hidden": min(heads * head_dim, limits.MAX_HIDDEN), "heads": heads, "head_dim": head_dim,
             "kv_heads": draw(st.sampled_from([None, 1, heads])),
             "ffn": draw(st.sampled_from([None, 1, 4096, limits.MAX_FFN])),
             "vocab": draw(st.sampled_from([None, 1, 32000, limits.MAX_VOCAB])), "params": 10**9,
             "gated_mlp": draw(st.booleans()), "position_embedding": draw(st.sampled_from(["rope", "alibi", "none"])),
             "dropout": draw(st.sampled_from([0.0, 0.1, 0.999])),
             "sliding_window": draw(st.sampled_from([None, 1, 4096, limits.MAX_CONTEXT]))}
    if draw(st.booleans()):
        experts = draw(st.sampled_from([1, 2, 8, 256, limits.MAX_EXPERTS]))
        model["moe"] = {"experts": experts, "top_k": draw(st.integers(1, min(experts, 8))),
                        "expert_ffn": draw(st.sampled_from([1, 2048, 65536])),
                        "shared_experts": draw(st.sampled_from([0, 1, 16])),
                        "first_dense_layers": draw(st.integers(0, layers)), "layer_freq": draw(st.sampled_from([1, 2, 7]))}
    pp = draw(st.sampled_from([d for d in (1, 2, 4, 8, 16, 61, 126, 256) if layers % d == 0] or [1]))
    tp = draw(_pow2(64))
    dp = draw(st.sampled_from([1, 2, 3, 8, 64]))
    mode = draw(st.sampled_from(["training", "serving", "finetune"]))
    tp = tp if mode == "training" else 1
    dp = max(1, min(dp, limits.MAX_CARDS // (tp * pp)))
    layout = build_grid(tp=tp, pp=min(pp, limits.MAX_PP), dp=dp, gpu="X",
                        capacity_bytes=draw(st.sampled_from([1, 2**30, 80 * 2**30, limits.MAX_CARD_BYTES])))
    seq = draw(st.sampled_from([1, 2, 4096, 131072, limits.MAX_SEQ]))
    batch = draw(st.sampled_from([1, 7, 512, limits.MAX_BATCH]))
    plan = {"mode": mode, "model": model, "layout": layout.model_dump()}
    if mode == "training":
        plan["training"] = {"seq": seq, "micro_batch": batch, "zero": draw(st.integers(0, 3)),
                            "recompute": draw(st.sampled_from(["none", "selective", "full"])),
                            "flash_attention": draw(st.booleans()), "sequence_parallel": draw(st.booleans()),
                            "global_batch": draw(st.sampled_from([None, 1, 4096, limits.MAX_GLOBAL_BATCH]))}
        plan["method"] = {"method": draw(st.sampled_from(["seed", "detailed"])),
                          "framework": draw(st.sampled_from(["megatron", "deepspeed", "huggingface"]))}
    elif mode == "serving":
        plan["serving"] = {"context": seq, "batch": batch, "runtime": draw(st.sampled_from(
            ["transformers", "vllm", "llamacpp", "trtllm"])), "quant": draw(st.sampled_from(
                ["bf16", "fp8", "int4-awq", "Q4_K_M", "nf4"])), "logits": draw(st.sampled_from(["last", "all"])),
            "flash_attention": draw(st.booleans())}
    else:
        plan["finetune"] = {"seq": seq, "micro_batch": batch, "method": draw(st.sampled_from(["full", "lora", "qlora"])),
                            "rank": draw(st.sampled_from([1, 8, 4096])), "gradient_checkpointing": draw(st.booleans())}
    return plan


def bounded_plans(doc: dict) -> None:
    try:
        plan = Plan.model_validate(doc)
    except (ValidationError, ValueError):
        return  # the bounds or the model's own checks refuse it: that is an answer
    run_engine("engine bounded plans", json.dumps(doc)[:400], estimate, plan)


test_bounded_plans, test_bounded_plans_long = fuzz_tests(bounded_plan(), bounded_plans, quick=30)


def test_largest_plan_is_estimated_quickly():
    """MAX_CARDS cards: estimated (and refused one card later) within the time limit."""
    spec = ModelSpec(name="m", layers=64, hidden=8192, heads=64, vocab=128000)
    layout = build_grid(tp=8, pp=8, dp=limits.MAX_CARDS // 64, gpu="H100", capacity_bytes=80 * 2**30)
    run_engine("engine bounded plans", "MAX_CARDS cards", estimate, Plan(model=spec, layout=layout))
    too_many = layout.model_copy(update={"cards": (*layout.cards, layout.cards[0])})
    assert run_engine("engine bounded plans", "MAX_CARDS + 1", estimate, Plan.model_construct(
        model=spec, layout=too_many, training=Plan.model_fields["training"].default,
        method=Plan.model_fields["method"].default, mode="training")) is None


# --- the user's folders: autosave and recent files -----------------------------------------------------
META = [b"[]", b"{}", b"null", b"\xff\xfe", b'{"saved_at": 5, "original_path": ["x"]}', b'{"saved_at": "9999-99-99"}',
        b'{"saved_at": "0001-01-01T00:00:00+14:00"}', b'{"original_path": "nul\\u0000x"}', b"[" * 100_000,
        b'{"saved_at": "' + b"9" * 5000 + b'"}', b'{"original_path": "' + b"a" * 10_000 + b'"}', b""]


@st.composite
def folder_case(draw) -> tuple[bytes, bytes, bytes]:
    meta = draw(st.one_of(st.sampled_from(META), st.binary(max_size=64)))
    plan = draw(st.one_of(st.sampled_from([b"", b"{}", b"\xff", json.dumps(SMALL[0]).encode()]), st.binary(max_size=32)))
    recent = draw(st.one_of(st.sampled_from(META), st.binary(max_size=64)))
    return meta, plan, recent


def user_folders(case: tuple[bytes, bytes, bytes]) -> None:
    from gui.autosave import find_recoverable, load_recovered
    from gui.recent_files import recent_files

    meta, plan, recent = case
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VRAMPLAN_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["VRAMPLAN_CONFIG_DIR"] = str(Path(tmp) / "config")
        folder = Path(tmp) / "data" / "autosave"
        folder.mkdir(parents=True)
        (folder / "abc.json").write_bytes(plan)
        (folder / "abc.meta").write_bytes(meta)
        (folder / ".abc.json.999999999.00ff.tmp").write_bytes(b"stale")
        (folder / "dir.json").mkdir()
        (Path(tmp) / "config").mkdir()
        (Path(tmp) / "config" / "recent.json").write_bytes(recent)
        found = run_engine("user folders", repr(case)[:300], find_recoverable)
        assert found is not None and len(found) == 1
        for item in found:
            item.saved_at_local  # noqa: B018 - formatting must not raise
            run_engine("user folders", repr(case)[:300], load_recovered, item)
        assert not (folder / ".abc.json.999999999.00ff.tmp").exists()
        assert run_engine("user folders", repr(case)[:300], recent_files) is not None


test_user_folders, test_user_folders_long = fuzz_tests(folder_case(), user_folders)


# --- a few real processes: exit codes, one line, no traceback -----------------------------------------
def test_subprocess_runs(tmp_path):
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{")
    (tmp_path / "deep.json").write_bytes(b"[" * 100_000)
    os.mkfifo(tmp_path / "fifo.json")
    cases = [
        ["estimate", "--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40", "--gpu", "a100-80gb",
         "--tp", "9223372036854775808"],
        ["estimate", "--params", "1e400", "--layers", "40", "--hidden", "5120", "--heads", "40", "--gpu", "h100"],
        ["estimate", "--plan", str(tmp_path / "bad.json")],
        ["estimate", "--plan", str(tmp_path / "deep.json")],
        ["estimate", "--plan", str(tmp_path / "fifo.json")],
        ["plan", "--model", "mixtral-8x7b", "--gpu", "a100-80gb", "--max-gpus", "16"],
        ["infer", "--model", "llama-2-13b", "--gpu", "rtx4090", "--gpus", "2", "--tensor-split", "nan,1",
         "--runtime", "llamacpp"],
        ["estimate", "--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40", "--gpu", "h100",
         "--plan-name", "\x1b]0;pwned\x07\udcff", "--pp", "4"],
    ]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    for argv in cases:
        proc = subprocess.run([sys.executable, "-m", "engine", *argv], capture_output=True, timeout=60, cwd=ROOT,
                              env=env)
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode in (0, 2), (argv, proc.returncode, err[-2000:])
        assert "Traceback" not in err, (argv, err[-3000:])
        if proc.returncode == 2:
            assert len(err.strip().splitlines()) == 1, (argv, err)
        assert b"\x1b" not in proc.stdout + proc.stderr, argv


def test_no_leak(tmp_path):
    """The same hostile inputs, three rounds in one process: the third adds (almost) nothing."""
    from fuzz_harness import rss_mb, run_cli

    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(SMALL[0]))
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"version": 1, "model": {"layers": 1e400}}')
    article = ["--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40", "--gpu", "h100"]
    inputs = [["estimate", "--plan", str(plan), "--json"], ["estimate", "--plan", str(bad)],
              ["infer", "--plan", str(plan)], ["export", "--format", "megatron", str(plan)],
              ["estimate", *article, "--tp", "8", "--pp", "4", "--dp", "4", "--seq", str(4096)],
              ["estimate", *article, "--dp", "100000"], ["plan", "--model", "llama-2-7b", "--gpu", "h100"],
              ["catalog", "inspect", str(tmp_path)], ["catalog", "gpus"]]
    readings = []
    for _ in range(3):
        for _ in range(12):
            for argv in inputs:
                run_cli(argv)
        readings.append(rss_mb())
    assert readings[2] - readings[1] < 20, readings

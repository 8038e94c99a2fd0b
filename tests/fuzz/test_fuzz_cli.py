"""Fuzz the command line: every flag of every command, hostile values, and the files it writes."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from fuzz_harness import check, run_cli
from fuzz_settings import fuzz_tests
from fuzz_strategies import argv_for, flag_value, number_text
from hypothesis import strategies as st

ARTICLE = ["--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40"]
COMMANDS = [
    (("estimate",), [*ARTICLE, "--gpu", "a100-80gb", "--pp", "4", "--method", "seed"]),
    (("estimate",), ["--model", "mixtral-8x7b", "--gpu", "h100", "--tp", "2", "--dp", "4", "--ep", "2"]),
    (("infer",), ["--model", "llama-2-13b", "--gpu", "rtx4090", "--runtime", "llamacpp"]),
    (("infer",), ["--model", "llama-3-70b", "--quant", "fp8", "--gpu", "h100", "--tp", "4", "--runtime", "vllm"]),
    (("finetune",), ["--model", "llama-2-7b", "--method", "lora", "--gpu", "rtx4090"]),
    (("plan",), ["--model", "llama-2-7b", "--gpu", "a100-80gb", "--max-gpus", "8"]),
    (("catalog", "add-gpu"), ["--name", "fuzz gpu", "--memory", "24GiB"]),
    (("catalog", "add-model"), ["--model", "llama-2-7b", "--name", "fuzz-model"]),
    (("catalog", "gpus"), []),
]


def _check_json_output(argv: list[str], outcome) -> None:
    if outcome.rc == 0 and "--json" in argv and outcome.out.strip():
        json.loads(outcome.out, parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(f"{c} in JSON")))


def cli_flags(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VRAMPLAN_CONFIG_DIR"] = str(Path(tmp) / "config")  # add-gpu / add-model write here
        outcome = run_cli(argv)
    check("cli flags", argv, outcome)
    _check_json_output(argv, outcome)


CLI_ARGV = st.sampled_from(COMMANDS).flatmap(lambda c: argv_for(*c))
test_cli_flags, test_cli_flags_long = fuzz_tests(CLI_ARGV, cli_flags, quick=80)


# --- sizes that are legal numbers but absurd ------------------------------------------------------
BIG = st.sampled_from(["1", "2", "8", "64", "1024", "1025", "16384", "16385", "100000", "1000000", "2147483648",
                       "9223372036854775808", "1e9"])
SIZE_FLAGS = ["--tp", "--pp", "--dp", "--cp", "--ep", "--vpp", "--layers", "--hidden", "--heads", "--vocab",
              "--seq", "--micro-batch", "--global-batch", "--gpus-per-node", "--moe-experts", "--moe-topk",
              "--moe-ffn", "--ffn", "--kv-heads", "--head-dim"]


@st.composite
def absurd_sizes(draw) -> list[str]:
    argv = ["estimate", "--params", "13e9", "--layers", "40", "--hidden", "5120", "--heads", "40", "--gpu", "h100"]
    for flag in draw(st.lists(st.sampled_from(SIZE_FLAGS), min_size=1, max_size=4, unique=True)):
        argv += [flag, draw(BIG)]
    return argv


def absurd(argv: list[str]) -> None:
    check("cli absurd sizes", argv, run_cli(argv))


test_absurd_sizes, test_absurd_sizes_long = fuzz_tests(absurd_sizes(), absurd, quick=60)


# --- the planner ----------------------------------------------------------------------------------
@st.composite
def planner_argv(draw) -> list[str]:
    model = draw(st.sampled_from([["--model", m] for m in ("llama-2-7b", "mixtral-8x7b", "deepseek-v3", "llama-3-70b")]
                                 + [[*ARTICLE, "--method", "seed"]]))
    argv = ["plan", *model, "--gpu", draw(st.sampled_from(["a100-80gb", "h100", "rtx4090", "a100-80gb:16"]))]
    argv += ["--max-gpus", draw(st.sampled_from(["1", "8", "16", "24", "64", "256", "16384", "16385", "100000"]))]
    for flag in draw(st.lists(st.sampled_from(
            ["--micro-batches", "--max-tp", "--max-cp", "--max-vpp", "--zero", "--tflops", "--margin", "--mfu",
             "--overlap", "--price", "--inter-node-bandwidth", "--gpus-per-node", "--seq", "--global-batch",
             "--partial-nodes", "--all", "--no-uneven-pp", "--moe-experts", "--layers", "--train-tokens",
             "--top", "--json"]), max_size=3, unique=True)):
        if flag in ("--partial-nodes", "--all", "--no-uneven-pp", "--json"):
            argv.append(flag)
        else:
            argv += [flag, draw(st.one_of(number_text(), st.sampled_from(["1,2,4", "1,1,1", "0", "1e308", "3"])))]
    return argv


def planner(argv: list[str]) -> None:
    outcome = run_cli(argv)
    check("planner", argv, outcome)
    _check_json_output(argv, outcome)


test_planner, test_planner_long = fuzz_tests(planner_argv(), planner, quick=12)


# --- writes: the file on disk is always the old or the new plan -----------------------------------
TARGETS = ["plan.json", "dir", "missing/sub/plan.json", "afile/plan.json", "link.json", "dangling.json",
           "x" * 300 + ".json", "/proc/self/plan.json", "/proc/version", ".", "", "ro/plan.json", "nul\x00.json"]


@st.composite
def write_case(draw) -> tuple[str, str, str]:
    command = draw(st.sampled_from(["estimate", "infer", "export", "import", "add-gpu"]))
    return command, draw(st.sampled_from(TARGETS)), draw(st.sampled_from(["0o644", "0o600", "0o640"]))


OLD = '{"old": true}\n'


def _prepare(tmp: Path) -> None:
    (tmp / "plan.json").write_text(OLD)
    (tmp / "dir").mkdir()
    (tmp / "afile").write_text("not a folder")
    (tmp / "real.json").write_text(OLD)
    (tmp / "link.json").symlink_to(tmp / "real.json")
    (tmp / "dangling.json").symlink_to(tmp / "nowhere" / "x.json")
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o500)


def writes(case: tuple[str, str, str]) -> None:
    command, target, mode = case
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _prepare(tmp)
        (tmp / "plan.json").chmod(int(mode, 8))
        (tmp / "real.json").chmod(int(mode, 8))
        out = target if target.startswith("/") or not target else str(tmp / target)
        source = tmp / "source.json"
        argv = {
            "estimate": ["estimate", *ARTICLE, "--gpu", "a100-80gb", "--pp", "4", "--save-plan", out],
            "infer": ["infer", "--model", "llama-2-7b", "--gpu", "rtx4090", "--save-plan", out],
            "export": ["export", "--format", "megatron", str(source), "-o", out],
            "import": ["import", "--format", "megatron", str(tmp / "args.sh"), "--gpu", "h100", "--save-plan", out],
            "add-gpu": ["catalog", "add-gpu", "--name", "fuzz", "--memory", "24GiB"],
        }[command]
        if command == "export":
            assert run_cli(["estimate", *ARTICLE, "--gpu", "a100-80gb", "--save-plan", str(source)]).rc == 0
        (tmp / "args.sh").write_text("--num-layers 4 --hidden-size 64 --num-attention-heads 4 --vocab-size 100 "
                                     "--seq-length 128 --position-embedding-type rope\n")
        config = str(tmp / target.replace("\0", "")) if command == "add-gpu" else str(tmp / "config")
        os.environ["VRAMPLAN_CONFIG_DIR"] = config  # an environment variable cannot hold a NUL byte
        outcome = run_cli(argv)
        try:
            check("writes", argv, outcome)
            for path in (tmp / "plan.json", tmp / "real.json"):
                text = path.read_text()
                complete = text == OLD or (text.startswith("# vramplan") if command == "export" else json.loads(text))
                assert complete and text.endswith("\n"), f"{path.name} is neither the old nor a whole new file"
                assert stat.S_IMODE(path.stat().st_mode) == int(mode, 8), f"{path.name} mode changed"
            assert (tmp / "link.json").is_symlink(), "the symlink was replaced by a file"
            leftovers = [p.name for p in tmp.rglob("*.tmp") if p.parent.name != "ro"]
            assert not leftovers, f"temp files left: {leftovers}"
        finally:
            (tmp / "ro").chmod(0o700)


test_writes, test_writes_long = fuzz_tests(write_case(), writes, quick=15)


def test_new_files_respect_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert run_cli(["estimate", *ARTICLE, "--gpu", "h100", "--save-plan", str(tmp_path / "p.json")]).rc == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "p.json").stat().st_mode) == 0o640


def test_stale_temp_files_of_a_killed_writer_are_removed(tmp_path):
    stale = tmp_path / ".p.json.999999999.deadbeef.tmp"  # no such process
    stale.write_text("half a plan")
    assert run_cli(["estimate", *ARTICLE, "--gpu", "h100", "--save-plan", str(tmp_path / "p.json")]).rc == 0
    assert not stale.exists()


def test_one_flag_values_never_crash():
    """Every flag of every command with each of the nasty number and text values (exhaustive, fast)."""
    from fuzz_strategies import NASTY_NUMBERS, NASTY_TEXT, command_flags

    for path, base in COMMANDS[::2][:3]:  # estimate, infer, finetune: the plan search has its own test
        for flag, takes, _ in command_flags(path):
            if not takes or flag in ("--plan", "--save-plan", "--model", "--from"):
                continue
            for value in (*NASTY_NUMBERS[::4], *NASTY_TEXT[::5]):
                argv = [*path, *base, flag, value]
                check("cli one flag", argv, run_cli(argv))


_unused = flag_value  # re-exported for interactive use

"""``vramplan infer`` / ``vramplan finetune``: the JSON contract of issue 3 and one-line errors."""

import json

import pytest

from engine.cli.main import main
from engine.plan.schema import load_plan
from engine.report.json_report import ReportModel

SMALL = ["--layers", "2", "--hidden", "256", "--heads", "4", "--kv-heads", "2", "--ffn", "512", "--vocab", "1000",
         "--swiglu", "--norm", "rmsnorm", "--no-bias"]


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def run_error(capsys, *argv) -> str:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse usage errors exit from the parser
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_infer_json_keys(capsys):
    data = run_json(capsys, "infer", *SMALL, "--quant", "Q8_0", "--runtime", "llamacpp", "--gpu", "RTX 4090",
                    "--context", "1000", "--gpu-layers", "1")
    ReportModel.model_validate(data)
    for key in ("parameters", "weight_bytes", "kv_bytes_per_token", "host_bytes", "max_context_tokens"):
        assert isinstance(data[key], int)
    assert "kv_pool_tokens" not in data  # llama.cpp has no pre-allocated pool
    assert data["mode"] == "serving" and data["parameters"] == 1_692_928
    assert data["kv_bytes_per_token"] == 2 * 512  # 2 layers x 2 x 2 KV heads x 64 x 2 B
    breakdown = data["cards"][0]["breakdown"]
    assert {"weights", "kv_cache", "activations", "overhead"} <= breakdown.keys()
    assert sum(breakdown.values()) == data["cards"][0]["total_bytes"]
    # -ngl 1 offloads the output layer (first, since llama.cpp PR 18148): in RAM both Q8_0 layers (18,432 blocks x
    # 34 B + F32 norms each), the Q8_0 embedding and both layers' KV
    assert data["host_bytes"] == 2 * 628_736 + 272_000 + 2 * 512 * 1000
    older = run_json(capsys, "infer", *SMALL, "--quant", "Q8_0", "--runtime", "llamacpp", "--gpu", "RTX 4090",
                     "--context", "1000", "--gpu-layers", "1", "--no-output-layer-first")
    # earlier builds offload layer 1 instead: layer 0, the embedding, the output + F32 final norm, layer-0 KV
    assert older["host_bytes"] == 628_736 + 272_000 + 272_000 + 1_024 + 512 * 1000


def test_vllm_reports_pool_tokens(capsys):
    data = run_json(capsys, "infer", *SMALL, "--runtime", "vllm", "--gpu", "H100 SXM", "--gpus", "2",
                    "--gpu-memory-utilization", "0.8", "--max-model-len", "8192")
    assert isinstance(data["kv_pool_tokens"], int) and data["kv_pool_tokens"] > 8192
    assert len(data["cards"]) == 2 and data["cards"][0]["tp_size"] == 2  # vLLM: TP over all cards
    assert data["serving"]["context"] == 8192


def test_mixed_cards_and_tensor_split(capsys):
    data = run_json(capsys, "infer", *SMALL, "--layers", "4", "--runtime", "llamacpp", "--quant", "Q4_K_M",
                    "--gpu", "RTX 4090", "--gpu", "A100 80GB", "--tensor-split", "3,1")
    gpus = [c["gpu"] for c in data["cards"]]
    assert gpus == ["RTX 4090", "A100 80GB"]
    # 5 units split 3:1 -> layers 0-3 on the first card, the output layer on the second
    assert data["cards"][1]["breakdown"]["kv_cache"] == 0


def test_table_names_units(capsys):
    assert main(["infer", *SMALL, "--gpu-memory", "24GiB", "--units", "GiB", "--best-quant"]) == 0
    out = capsys.readouterr().out
    assert "GiB" in out and "longest context" in out and "least aggressive format that fits: fp32" in out


def test_save_plan_round_trip(capsys, tmp_path):
    path = tmp_path / "serve.json"
    first = run_json(capsys, "infer", *SMALL, "--gpu", "RTX 4090", "--quant", "nf4", "--save-plan", str(path))
    plan = load_plan(path)
    assert plan.mode == "serving" and plan.serving.quant == "nf4"
    again = run_json(capsys, "infer", "--plan", str(path))
    assert again["weight_bytes"] == first["weight_bytes"]


@pytest.mark.parametrize(("argv", "field"), [
    (["--gpu", "RTX 4090", "--quant", "int3"], "serving.quant"),
    (["--gpu", "RTX 4090", "--kv-dtype", "int3"], "serving.kv_dtype"),
    (["--gpu", "RTX 4090", "--tensor-split", "a,b"], "--tensor-split"),
    (["--gpu", "RTX 4090", "--runtime", "vllm", "--gpu-layers", "3"], "serving.gpu_layers"),
    (["--gpu", "RTX 4090", "--gpus", "2", "--tp", "3"], "--tp"),
    (["--gpu", "no such card"], "gpu"),
    (["--gpu", "RTX 4090", "--runtime", "llamacpp", "--gpus", "2", "--tensor-split", "1,1,1"], "serving.tensor_split"),
    ([], "--gpu"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, field):
    err = run_error(capsys, "infer", *SMALL, *argv)
    assert f"{field}=" in err


def test_argparse_errors_are_one_line(capsys):
    run_error(capsys, "infer", *SMALL, "--gpu", "RTX 4090", "--context", "-5")
    run_error(capsys, "infer", *SMALL, "--gpu", "RTX 4090", "--runtime", "ollama")


def test_finetune_json(capsys):
    data = run_json(capsys, "finetune", *SMALL, "--gpu", "RTX 4090", "--method", "qlora", "--rank", "4",
                    "--target", "q,v", "--seq", "512", "--micro-batch", "2")
    ReportModel.model_validate(data)
    assert data["mode"] == "finetune" and data["finetune"]["trainable_parameters"] == 7_168
    assert data["cards"][0]["breakdown"]["gradients"] == 4 * 7_168


def test_finetune_bad_target(capsys):
    err = run_error(capsys, "finetune", *SMALL, "--gpu", "RTX 4090", "--target", "q,x")
    assert "finetune.target_modules=" in err


def test_runtime_constants_are_overridable(capsys):
    base = run_json(capsys, "infer", *SMALL, "--gpu", "RTX 4090", "--runtime", "llamacpp")
    over = run_json(capsys, "infer", *SMALL, "--gpu", "RTX 4090", "--runtime", "llamacpp",
                    "--cuda-context", "1GiB", "--library-workspace", "0")
    # llama.cpp profile: 256 MiB context + 32 MiB cuBLAS -> 1 GiB + 0
    delta = over["cards"][0]["breakdown"]["overhead"] - base["cards"][0]["breakdown"]["overhead"]
    assert delta == 2**30 - (256 + 32) * 2**20


def test_tp_alone_implies_that_many_cards(capsys):
    # `--gpu h100 --tp 4` = four H100s in one TP group, as `--gpus 4 --tp 4`
    report = run_json(capsys, "infer", "--model", "llama-2-7b", "--gpu", "h100", "--tp", "4", "--runtime", "vllm", "--json")
    assert len(report["cards"]) == 4
    assert {c["tp_size"] for c in report["cards"]} == {4}


def test_sliding_window_flags_and_swa_full(capsys):
    """--sliding-window N --sliding-window-layers K on a custom model; llama.cpp's window + ubatch, or --swa-full."""
    swa = [*SMALL, "--sliding-window", "100", "--sliding-window-layers", "1", "--runtime", "llamacpp",
           "--context", "8192", "--gpu-memory", "24GiB"]
    # 2 x 2 KV heads x 64 x 2 B = 512 B per token and layer; the window layer holds pad(100 + 512, 256) = 768 cells
    card = run_json(capsys, "infer", *swa)["cards"][0]
    assert card["details"]["kv_cache_window_layers"] == 768 * 512
    assert card["breakdown"]["kv_cache"] == 8192 * 512 + 768 * 512
    full = run_json(capsys, "infer", *swa, "--swa-full")["cards"][0]
    assert full["breakdown"]["kv_cache"] == 2 * 8192 * 512
    err = run_error(capsys, "infer", *SMALL, "--sliding-window", "0")
    assert "--sliding-window" in err


def test_vllm_release_flags(capsys, tmp_path):
    # a release before 0.8 runs V0 unless told otherwise: the profile batch is max(max_model_len, 2,048)
    base = ["infer", *SMALL, "--runtime", "vllm", "--gpu-memory", "4GiB", "--max-model-len", "4096"]
    old = run_json(capsys, *base, "--vllm-version", "0.6.4")
    assert old["cards"][0]["breakdown"]["activations"] == 2 * 4096 * 2304 + 4 * 4 * 4096
    # --enforce-eager: no CUDA graphs, so the margin keeps only the CUDA context (512 MiB)
    eager = run_json(capsys, *base, "--vllm-version", "0.6.4", "--enforce-eager")
    assert eager["cards"][0]["details"]["library_workspace"] == 32 * 2**20  # cuBLAS only
    assert "cuda_graphs" not in eager["cards"][0]["details"]
    err = run_error(capsys, *base, "--vllm-version", "0.6.4", "--vllm-engine", "v1")
    assert "serving.vllm_engine='v1'" in err and "0.7.0" in err
    err = run_error(capsys, *base, "--vllm-version", "six")
    assert "serving.vllm_version='six'" in err
    err = run_error(capsys, *base, "--cuda-graphs", "lots")
    assert "--cuda-graphs" in err

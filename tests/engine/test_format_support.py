"""Formats a card can run (engine/serving/support.py): each rule is a runtime's own check or the instruction set."""

from engine import ModelSpec, Plan, build_grid, estimate
from engine.catalog import find_gpu
from engine.serving.answers import best_quant, quant_options
from engine.serving.config import ServingConfig
from engine.serving.support import format_support
from engine.weights.quant import find_scheme

SMALL = ModelSpec(name="small", layers=2, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=1000, gated_mlp=True,
                  norm="rmsnorm", bias=False)


def _plan(gpu: str, quant: str = "bf16", runtime: str = "vllm") -> Plan:
    card = find_gpu(gpu)
    return Plan(mode="serving", model=SMALL, serving=ServingConfig(quant=quant, runtime=runtime, context=512),
                layout=build_grid(gpu=card.name, capacity_bytes=card.memory_bytes))


def test_fp8_by_compute_capability():
    fp8 = find_scheme("fp8")
    assert format_support(find_gpu("h100"), fp8, "vllm").ok  # 9.0: FP8 tensor cores
    assert format_support(find_gpu("rtx4090"), fp8, "transformers").ok  # 8.9 (Ada)
    a100 = format_support(find_gpu("a100-80gb"), fp8, "vllm")  # 8.0: weight-only through FP8 Marlin
    assert a100.ok and "Marlin" in a100.note
    assert not format_support(find_gpu("a100-80gb"), fp8, "transformers").ok
    v100 = format_support(find_gpu("v100-32gb"), fp8, "vllm")  # 7.0: nothing
    assert not v100.ok and "8.9" in v100.note and "8.0" in v100.note
    assert format_support(find_gpu("mi300x"), fp8, "vllm").ok and not format_support(find_gpu("mi250x"), fp8, "vllm").ok


def test_awq_gguf_and_non_cuda_devices():
    assert not format_support(find_gpu("v100-16gb"), find_scheme("int4-awq"), "vllm").ok  # AWQ needs 7.5
    assert format_support(find_gpu("t4"), find_scheme("int4-awq"), "vllm").ok  # 7.5
    assert format_support(find_gpu("v100-16gb"), find_scheme("int4-gptq"), "vllm").ok  # exllama from 6.0
    m2 = find_gpu("M2 Ultra 192GB")
    assert not format_support(m2, find_scheme("nf4"), "transformers").ok
    assert format_support(m2, find_scheme("Q4_K_M"), "llamacpp").ok


def test_fp8_on_a_v100_warns_and_best_quant_skips_what_the_card_cannot_run():
    est = estimate(_plan("v100-32gb", "fp8"))
    assert [w.code for w in est.warnings if w.code == "format-unsupported"] == ["format-unsupported"]
    options = {o.quant: o for o in quant_options(_plan("v100-32gb"))}
    assert not options["fp8"].supported and not options["int4-awq"].supported and options["bf16"].supported
    assert "float16" in options["bf16"].note  # vLLM serves a bf16 checkpoint as float16 on a V100: same bytes
    # the small model fits anyway: the least aggressive format that fits and runs is fp32
    best = best_quant(_plan("v100-32gb"))
    assert best is not None and best.quant == "fp32"
    # a 4-bit-only budget: a 7,000-token-wide model would not matter here; what matters is the order: on a V100,
    # AWQ is never chosen even where it would fit
    assert all(o.quant != "int4-awq" for o in quant_options(_plan("v100-32gb")) if o.supported)


def test_infer_json_answers_are_in_the_schema(capsys):
    import json

    from engine.cli.main import main
    from engine.report.json_report import ReportModel

    assert main(["infer", "--model", "llama-2-7b", "--gpu", "v100-16gb", "--best-quant", "--cheapest-gpu", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) <= set(ReportModel.model_fields)
    ReportModel.model_validate(report)
    assert any(r["quant"] == "fp8" and "8.9" in r["reason"] for r in report["ruled_out_quants"])

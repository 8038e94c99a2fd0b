"""llama.cpp's experts in system RAM (--n-cpu-moe) and the weights it stages into the first card's compute buffer.

Byte counts by hand in Q8_0 (ggml block_q8_0: 32 int8 values and one fp16 scale, 34 B per 32 elements).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cli.main import main

# A small MoE: 4 layers, h 256, 8 routed experts of FFN 128 (top 2), vocabulary 64, no biases.
TINY_MOE = ["--name", "tiny-moe", "--layers", "4", "--hidden", "256", "--heads", "4", "--kv-heads", "2",
            "--head-dim", "64", "--ffn", "512", "--vocab", "64", "--moe-experts", "8", "--moe-topk", "2",
            "--moe-ffn", "128", "--swiglu", "--norm", "rmsnorm", "--no-bias", "--untied-embeddings"]
TINY_DENSE = ["--name", "tiny-dense", "--layers", "4", "--hidden", "256", "--heads", "4", "--kv-heads", "2",
              "--head-dim", "64", "--ffn", "1024", "--vocab", "64", "--swiglu", "--norm", "rmsnorm", "--no-bias",
              "--untied-embeddings"]
LLAMACPP = ["--quant", "Q8_0", "--runtime", "llamacpp", "--context", "1024", "--flash-attention", "--gpu-memory", "8GiB"]

# One expert stack (8 experts x 128 x 256 = 262,144 elements): 262,144 / 32 x 34 = 278,528 B; a layer's routed
# experts are three stacks (gate, up, down): 835,584 B.
STACK = 262_144 // 32 * 34
LAYER_EXPERTS = 3 * STACK
# The logits llama.cpp reserves for a ubatch of 512 tokens: 4 B x 512 x 64 = 131,072 B.
LOGITS = 4 * 512 * 64


def _report(capsys, *args: str) -> dict:
    assert main(["infer", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _card(capsys, *args: str) -> dict:
    return _report(capsys, *args)["cards"][0]


def test_experts_of_the_first_layers_move_to_system_ram(capsys):
    assert STACK == 278_528 and LAYER_EXPERTS == 835_584
    on_card = _report(capsys, *TINY_MOE, *LLAMACPP)
    three = _report(capsys, *TINY_MOE, *LLAMACPP, "--cpu-moe-layers", "3")
    card, card3 = on_card["cards"][0], three["cards"][0]
    assert card["breakdown"]["weights"] - card3["breakdown"]["weights"] == 3 * LAYER_EXPERTS == 2_506_752
    # system RAM: the token embedding (64 x 256 = 16,384 elements = 17,408 B) and the three layers' experts
    assert on_card["host_bytes"] == 17_408
    assert three["host_bytes"] == 17_408 + 3 * LAYER_EXPERTS == 2_524_160
    assert "less the routed experts of 3 layers kept in system RAM, 2,506,752" in card3["formulas"]["weights"]
    assert "the routed experts of 3 more layers (--n-cpu-moe)" in " ".join(w["message"] for w in three["warnings"])
    # the llama.cpp spelling is accepted too, and every layer (--cpu-moe) is the model's layer count
    every = _card(capsys, *TINY_MOE, *LLAMACPP, "--n-cpu-moe", "4")
    assert card["breakdown"]["weights"] - every["breakdown"]["weights"] == 4 * LAYER_EXPERTS


def test_the_largest_host_weight_is_staged_in_the_compute_buffer(capsys):
    # Flash attention: no KQ.  All experts on the card: the compute buffer's extra is the logits (131,072 B).  With
    # three layers' experts in RAM, the op multiplying an expert stack runs on the card with the stack copied in
    # (278,528 B), live at its own op, not at the logits': the extra is max(131,072, 278,528).
    on_card = _card(capsys, *TINY_MOE, *LLAMACPP)
    three = _card(capsys, *TINY_MOE, *LLAMACPP, "--cpu-moe-layers", "3")
    assert three["breakdown"]["activations"] - on_card["breakdown"]["activations"] == STACK - LOGITS == 147_456
    assert "(all 8 experts) = 278,528 B" in three["formulas"]["activations"]


def test_nothing_is_staged_below_the_offload_batch(capsys):
    # ggml_backend_cuda_device_offload_op takes an op only at a batch of 32 or more: a ubatch of 16 stays on the CPU.
    on_card = _card(capsys, *TINY_MOE, *LLAMACPP, "--prefill-chunk", "16")
    three = _card(capsys, *TINY_MOE, *LLAMACPP, "--prefill-chunk", "16", "--cpu-moe-layers", "3")
    assert three["breakdown"]["activations"] == on_card["breakdown"]["activations"]


def test_partial_offload_stages_the_largest_layer_weight(capsys):
    # Dense: an FFN matrix is 1024 x 256 = 262,144 elements = 278,528 B in Q8_0, the output layer 64 x 256 = 16,384
    # elements = 17,408 B.  -ngl 2 offloads the output layer and layer 3 (the output layer first, PR 18148): layers
    # 0-2 stay in RAM and the largest staged is an FFN matrix, live at its own op; the logits (131,072 B) are the
    # card's either way, so the extra over full offload (-ngl 5) is 278,528 - 131,072.
    full = _card(capsys, *TINY_DENSE, *LLAMACPP, "--gpu-layers", "5")
    partial = _card(capsys, *TINY_DENSE, *LLAMACPP, "--gpu-layers", "2")
    assert partial["breakdown"]["activations"] - full["breakdown"]["activations"] == 278_528 - LOGITS


@pytest.mark.parametrize(("args", "allowed"), [
    ([*TINY_DENSE, *LLAMACPP, "--cpu-moe-layers", "2"], "a mixture-of-experts model"),
    ([*TINY_MOE, *LLAMACPP, "--cpu-moe-layers", "5"], "at most the model's layers=4"),
    ([*TINY_MOE, "--runtime", "vllm", "--gpu-memory", "8GiB", "--cpu-moe-layers", "2"], "only with runtime llamacpp"),
])
def test_bad_cpu_moe_layers_name_the_field_and_what_is_allowed(capsys, args, allowed):
    assert main(["infer", *args]) == 2
    err = capsys.readouterr().err
    assert "cpu_moe_layers" in err and allowed in err and "Traceback" not in err


def test_launch_command_carries_n_cpu_moe(tmp_path, capsys):
    plan = tmp_path / "moe.json"
    assert main(["infer", *TINY_MOE, *LLAMACPP, "--cpu-moe-layers", "3", "--save-plan", str(plan)]) == 0
    capsys.readouterr()
    from engine.export.serving import llamacpp_args
    from engine.plan.schema import load_plan

    args = llamacpp_args(load_plan(plan))
    assert args[args.index("--n-cpu-moe") + 1] == "3"


def _moe_plan(capacity: int, runtime: str = "llamacpp"):
    from engine.model.spec import ModelSpec, MoESpec
    from engine.plan.layout import build_grid
    from engine.plan.schema import Plan
    from engine.serving.config import ServingConfig

    spec = ModelSpec(name="tiny-moe", layers=4, hidden=256, heads=4, kv_heads=2, head_dim=64, ffn=512, vocab=64,
                     gated_mlp=True, norm="rmsnorm", bias=False, moe=MoESpec(experts=8, top_k=2, expert_ffn=128))
    cfg = ServingConfig(quant="Q8_0", runtime=runtime, context=1024, flash_attention=True)
    return Plan(name="moe", mode="serving", model=spec, serving=cfg,
                layout=build_grid(gpu="test", capacity_bytes=capacity))


def test_fewest_expert_layers_in_ram_that_fit():
    from engine.serving.answers import fewest_cpu_moe_layers
    from engine.serving.estimate import serving_estimate

    everything = serving_estimate(_moe_plan(8 * 2**30)).cards[0].total_bytes
    # Each layer whose experts go to RAM takes 835,584 B off the card; from the first one on, the card stages one
    # expert stack (278,528 B) where it held the logits (131,072 B): +147,456.  A card of exactly
    # everything - 2 x 835,584 + 147,456 B fits with two layers' experts in RAM and not with one.
    capacity = everything - 2 * LAYER_EXPERTS + (STACK - LOGITS)
    answer = fewest_cpu_moe_layers(_moe_plan(capacity))
    assert answer is not None and answer.layers == 2
    assert answer.total_bytes == capacity and answer.headroom_bytes == 0
    assert fewest_cpu_moe_layers(_moe_plan(capacity - 1)).layers == 3
    assert fewest_cpu_moe_layers(_moe_plan(8 * 2**30)).layers == 0  # it fits with every expert on the card
    assert fewest_cpu_moe_layers(_moe_plan(everything - 5 * LAYER_EXPERTS)) is None  # not even with all four
    assert fewest_cpu_moe_layers(_moe_plan(8 * 2**30, runtime="vllm")) is None  # llama.cpp only


def test_cli_answers_fewest_cpu_moe(capsys):
    assert main(["infer", *TINY_MOE, *LLAMACPP, "--fewest-cpu-moe", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fewest_cpu_moe_layers"]["layers"] == 0  # 8 GiB holds it all
    assert main(["infer", *TINY_MOE, *LLAMACPP, "--fewest-cpu-moe"]) == 0
    assert "fewest layers with their experts in system RAM that fit (--n-cpu-moe): 0" in capsys.readouterr().out


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.sampled_from([4, 8, 16]), st.sampled_from([64, 128, 256]),
       st.sampled_from(["Q8_0", "Q4_K_M", "Q4_0"]), st.integers(0, 6), st.integers(0, 6))
def test_more_expert_layers_in_ram_never_raise_the_card(layers, experts, expert_ffn, quant, a, b):
    """Invariant: keeping the experts of more layers in system RAM never raises the card's weights or, from one
    layer on, its total; system RAM grows by exactly the weights the card gives up."""
    from engine.model.spec import ModelSpec, MoESpec
    from engine.plan.layout import build_grid
    from engine.plan.schema import Plan
    from engine.serving.config import ServingConfig
    from engine.serving.estimate import serving_estimate

    spec = ModelSpec(name="moe", layers=layers, hidden=256, heads=4, kv_heads=2, head_dim=64, ffn=512, vocab=128,
                     gated_mlp=True, norm="rmsnorm", bias=False,
                     moe=MoESpec(experts=experts, top_k=2, expert_ffn=expert_ffn))
    low, high = sorted((min(a, layers), min(b, layers)))

    def run(n: int):
        cfg = ServingConfig(quant=quant, runtime="llamacpp", context=512, cpu_moe_layers=n or None)
        est = serving_estimate(Plan(name="m", mode="serving", model=spec, serving=cfg,
                                    layout=build_grid(gpu="test", capacity_bytes=8 * 2**30)))
        return est.cards[0].breakdown, est.serving.host_bytes

    (few, few_host), (many, many_host) = run(low), run(high)
    assert many.weights.bytes <= few.weights.bytes
    assert many_host - few_host == few.weights.bytes - many.weights.bytes
    if low >= 1:
        assert many.total_bytes <= few.total_bytes

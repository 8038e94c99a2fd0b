"""GPU and model catalogs: data sanity, published parameter counts, user entries, the catalog CLI."""

from __future__ import annotations

import json
import re

import pytest

from engine.catalog import (
    GpuSpec,
    ModelPreset,
    find_gpu,
    find_model,
    gpu_catalog,
    model_catalog,
    normalize,
    reload_catalogs,
    save_user_gpu,
    save_user_model,
    user_catalog_dir,
)
from engine.cli.main import main
from engine.errors import PlanError
from engine.model.params import parameter_count, parameter_counts
from engine.model.spec import ModelSpec
from engine.resources import resource_path

MiB = 2**20


@pytest.fixture(autouse=True)
def _fresh_catalogs():
    reload_catalogs()
    yield
    reload_catalogs()


# --- GPUs ----------------------------------------------------------------------------------------
def test_every_gpu_has_memory_and_a_source():
    for g in gpu_catalog():
        assert g.memory_bytes > 0, g.name
        assert g.source.strip(), g.name
        assert g.marketed_memory.strip(), g.name


def test_gpu_memory_agrees_with_what_the_capacity_source_says():
    # capacity_source either quotes a published CUDA figure (deviceQuery "N MBytes (B bytes)": memory_bytes is B;
    # PyTorch "total_memory=NMB": memory_bytes is N x 2^20) or says that none was found and the marketed size was
    # kept: never a silent guess.  tests/engine/test_catalog_capacities.py re-derives the pinned cards.
    for g in gpu_catalog():
        assert "reports" not in g.source or "MiB" not in g.source, f"{g.name}: memory provenance belongs in capacity_source"
        exact = [int(b) for b in re.findall(r"\((\d+) bytes\)", g.capacity_source)]
        if g.capacity_source.startswith("no published CUDA figure found"):
            assert "marketed size" in g.capacity_source, g.name
        elif exact and "lower bound" not in g.capacity_source.lower():
            assert g.memory_bytes in exact, g.name
        else:
            printed = [int(n) for n in re.findall(r"total_memory=(\d+)MB", g.capacity_source)]
            rounded = re.findall(r"total capac\w* of (\d+\.\d\d) GiB", g.capacity_source)
            assert g.memory_bytes // MiB in printed or any(
                abs(g.memory_bytes / 2**30 - float(x)) <= 0.005 for x in rounded), g.name


def test_gpu_names_and_aliases_are_unique_after_normalize():
    seen: dict[str, str] = {}
    for g in gpu_catalog():
        for key in {normalize(n) for n in (g.name, *g.aliases)}:
            assert key not in seen, f"{key!r} names both {seen[key]} and {g.name}"
            seen[key] = g.name


@pytest.mark.parametrize(("query", "name"), [
    ("a100-80gb", "A100 80GB"), ("A100 80GB", "A100 80GB"), ("rtx4090", "RTX 4090"),
    ("GeForce RTX 4090", "RTX 4090"), ("h100-sxm5-80gb", "H100 SXM"), ("MI300X", "MI300X"),
])
def test_gpu_lookups_resolve(query, name):
    assert find_gpu(query).name == name


def test_driver_reported_memory_of_reference_cards():
    # memory_bytes is CUDA's total (deviceQuery "Total amount of global memory", thamada/nvidia-smi captures);
    # nvidia-smi's Memory-Usage total is larger: A100-SXM4-80GB 81920 MiB, RTX 4090 24564 MiB, H100 SXM 81559 MiB.
    a100, rtx4090, h100 = find_gpu("a100-80gb"), find_gpu("rtx4090"), find_gpu("H100")
    assert a100.memory_bytes == 85_100_068_864 < a100.nvidia_smi_total_mib * MiB == 81920 * MiB
    assert rtx4090.memory_bytes == 25_386_352_640 < rtx4090.nvidia_smi_total_mib * MiB == 24564 * MiB
    assert h100.memory_bytes == 85_045_477_376 < h100.nvidia_smi_total_mib * MiB == 81559 * MiB


ISSUE_GPUS = [
    "RTX 3060 12GB", "RTX 3080 10GB", "RTX 3080 12GB", "RTX 3090", "RTX 3090 Ti", "RTX 4060 Ti 8GB", "RTX 4060 Ti 16GB",
    "RTX 4070 12GB", "RTX 4070 Ti Super 16GB", "RTX 4080", "RTX 4090", "RTX 5080", "RTX 5090", "RTX A6000",
    "RTX 6000 Ada", "L40S", "V100 16GB", "V100 32GB", "T4", "A10", "A30", "A100 40GB", "A100 80GB", "A800",
    "H100 SXM", "H100 PCIe", "H800", "H20", "H200", "B200", "GB200", "MI250X", "MI300X", "MI325X", "Ascend 910B",
    "M2 Ultra", "M3 Max", "M4 Max", "Snapdragon 8 Gen 3 phone 16GB", "Snapdragon 8 Gen 3 phone 24GB",
    "Jetson AGX Orin 32GB", "Jetson AGX Orin 64GB", "Orin Nano", "SA8295P", "DRIVE Orin",
]


@pytest.mark.parametrize("name", ISSUE_GPUS)
def test_issue_gpu_list_is_in_the_catalog(name):
    assert find_gpu(name).memory_bytes > 0


def test_categories_and_unified_memory():
    categories = {g.category for g in gpu_catalog()}
    assert {"consumer", "workstation", "datacenter", "edge"} <= categories
    assert find_gpu("M2 Ultra").unified_memory and find_gpu("Jetson AGX Orin 64GB").unified_memory
    assert not find_gpu("A100 80GB").unified_memory
    # The planner's 'cheapest' objective needs prices on the common cloud cards.
    assert all(find_gpu(n).price_usd_per_hour for n in ("T4", "A10", "A100 80GB", "H100 SXM", "L40S"))


def test_unknown_gpu_names_close_matches():
    with pytest.raises(PlanError) as e:
        find_gpu("A100 96GB")
    assert e.value.field == "gpu" and "did you mean" in e.value.allowed


# --- models --------------------------------------------------------------------------------------
# The built-in presets, read straight from the data file (no user entries at collection time).
PRESETS = tuple(ModelPreset.model_validate(m) for m in json.loads(
    resource_path("catalogs", "models.json").read_text(encoding="utf-8"))["models"])


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_count_within_one_percent_of_published(preset: ModelPreset):
    assert preset.spec.params is None, "presets leave params unset: the architecture determines the count"
    assert preset.spec.complete
    count = parameter_count(preset.spec)
    assert abs(count - preset.published_params) <= 0.01 * preset.published_params, (count, preset.published_params)
    assert preset.source.strip()


ISSUE_MODELS = [
    "chatglm-6b", "chatglm3-6b", "glm-4-9b", "llama-7b", "llama-13b", "llama-33b", "llama-65b", "llama-2-7b",
    "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
    "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b", "qwen2.5-14b", "qwen2.5-32b", "qwen2.5-72b",
    "baichuan2-7b", "baichuan2-13b", "mistral-7b", "mixtral-8x7b", "mixtral-8x22b", "deepseek-v3", "deepseek-r1",
    "yi-34b", "falcon-40b", "falcon-180b", "gpt-3-175b", "bloom-176b", "pythia-1.4b", "pythia-2.8b", "pythia-6.9b",
    "pythia-12b", "phi-3-mini",
]


@pytest.mark.parametrize("name", ISSUE_MODELS)
def test_issue_model_list_is_in_the_catalog(name):
    preset = find_model(name)
    assert preset.name == name and preset.spec.name == name


# Current open models, each with the Hugging Face repo id it resolves from (config.json values in each preset's source).
CURRENT_MODELS = [
    ("qwen3-0.6b", "Qwen/Qwen3-0.6B"), ("qwen3-1.7b", "Qwen/Qwen3-1.7B"), ("qwen3-4b", "Qwen/Qwen3-4B"),
    ("qwen3-8b", "Qwen/Qwen3-8B"), ("qwen3-14b", "Qwen/Qwen3-14B"), ("qwen3-32b", "Qwen/Qwen3-32B"),
    ("qwen3-30b-a3b", "Qwen/Qwen3-30B-A3B"), ("qwen3-235b-a22b", "Qwen/Qwen3-235B-A22B"),
    ("llama-3.2-1b", "meta-llama/Llama-3.2-1B"), ("llama-3.2-3b", "meta-llama/Llama-3.2-3B"),
    ("llama-3.3-70b", "meta-llama/Llama-3.3-70B-Instruct"),
    ("gemma-2-2b", "google/gemma-2-2b"), ("gemma-2-9b", "google/gemma-2-9b"), ("gemma-2-27b", "google/gemma-2-27b"),
    ("gemma-3-1b", "google/gemma-3-1b-pt"), ("phi-4", "microsoft/phi-4"),
    ("mistral-nemo-12b", "mistralai/Mistral-Nemo-Base-2407"),
    ("gpt-oss-20b", "openai/gpt-oss-20b"), ("gpt-oss-120b", "openai/gpt-oss-120b"),
    ("glm-4.5-air", "zai-org/GLM-4.5-Air"), ("glm-4.5", "zai-org/GLM-4.5"),
]


@pytest.mark.parametrize(("name", "repo"), CURRENT_MODELS)
def test_current_model_resolves_by_name_and_hugging_face_repo(name, repo):
    preset = find_model(name)
    assert preset.name == name and preset.spec.name == name
    assert find_model(repo) is preset
    assert preset.spec.max_context, "max_context = config max_position_embeddings"


def test_qwen3_8b_exact_count_by_hand():
    # Qwen/Qwen3-8B config.json: h=4096, 36 layers, 32 heads x head_dim 128 (q 4096), 8 KV heads (k/v 1024),
    # intermediate 12288, vocab 151936, no biases, RMSNorm, SwiGLU, untied, q_norm/k_norm over head_dim:
    #   q_proj 4096 * 4096 = 16,777,216;  k_proj, v_proj 4096 * 1024 = 4,194,304 each;  o_proj 16,777,216
    #   q_norm + k_norm 2 * 128 = 256  -> attention 41,943,296
    #   MLP 3 * 4096 * 12288 = 150,994,944;  2 RMSNorms 2 * 4096 = 8,192
    #   per layer 192,946,432;  x 36 = 6,946,071,552
    #   final norm 4,096;  embedding + lm_head 2 * 151936 * 4096 = 1,244,659,712
    #   total 6,946,071,552 + 4,096 + 1,244,659,712 = 8,190,735,360
    # = the checkpoint's model.safetensors.index.json total_size 16,381,470,720 bytes (bf16) / 2.
    assert parameter_count(find_model("Qwen/Qwen3-8B").spec) == 8_190_735_360


def test_qwen3_0_6b_counts_its_tied_embedding_once():
    # Qwen/Qwen3-0.6B: h=1024, 28 layers, q 16 * 128 = 2048, k/v 8 * 128 = 1024, intermediate 3072, tied:
    #   attention 1024*2048 + 2 * 1024*1024 + 2048*1024 + 2 * 128 = 6,291,712;  MLP 3 * 1024 * 3072 = 9,437,184
    #   norms 2,048 -> per layer 15,730,944;  x 28 = 440,466,432;  + final norm 1,024
    #   + one embedding 151936 * 1024 = 155,582,464 -> 596,049,920 (model card: 0.6B, 0.44B non-embedding)
    # The Hub's safetensors total, 751,632,384, is 596,049,920 + 155,582,464: the checkpoint stores the tied
    # lm_head.weight materialized, a second copy of the same tensor.
    count = parameter_count(find_model("qwen3-0.6b").spec)
    assert count == 596_049_920
    assert count + 151_936 * 1_024 == 751_632_384


def test_llama_3_2_1b_exact_count_by_hand():
    # meta-llama/Llama-3.2-1B config.json: h=2048, 16 layers, 32 heads x head_dim 64 (q 2048), 8 KV heads (k/v 512),
    # intermediate 8192, vocab 128256, RMSNorm, SwiGLU, no biases, tie_word_embeddings true:
    #   attention 2 * 2048^2 + 2 * 2048 * 512 = 8,388,608 + 2,097,152 = 10,485,760
    #   MLP 3 * 2048 * 8192 = 50,331,648;  2 RMSNorms 4,096
    #   per layer 60,821,504;  x 16 = 973,144,064
    #   final norm 2,048;  one shared embedding 128256 * 2048 = 262,668,288
    #   total 973,144,064 + 2,048 + 262,668,288 = 1,235,814,400 (Meta's model card: '1B (1.23B)')
    assert parameter_count(find_model("meta-llama/Llama-3.2-1B").spec) == 1_235_814_400


def test_gemma_2_2b_non_embedding_count_matches_the_report_exactly():
    # google/gemma-2-2b config.json: h=2304, 26 layers, 8 heads x head_dim 256 (q 2048), 4 KV heads (k/v 1024),
    # intermediate 9216, GeGLU, 4 RMSNorms per layer (pre and post around attention and MLP), tied, vocab 256000:
    #   attention 2304*2048 + 2 * 2304*1024 + 2048*2304 = 14,155,776;  MLP 3 * 2304 * 9216 = 63,700,992
    #   4 norms 4 * 2304 = 9,216 -> per layer 77,865,984;  x 26 = 2,024,515,584;  + final norm 2,304
    #   non-embedding 2,024,517,888 = Gemma 2 report Table 2 '2,024,517,888'
    #   + embedding 256000 * 2304 = 589,824,000 -> 2,614,341,888 (the report's 590,118,912 embedding counts
    #   256,128 vocabulary rows, 128 * 2304 = 294,912 more than the checkpoint holds)
    counts = parameter_counts(find_model("google/gemma-2-2b").spec)
    assert counts.transformer == 2_024_517_888
    assert counts.total == 2_614_341_888


def test_gpt_oss_20b_count_by_hand_and_what_it_leaves_out():
    # openai/gpt-oss-20b config.json: h=2880, 24 layers, 64 heads x head_dim 64 (q 4096), 8 KV heads (k/v 512),
    # attention_bias true, 32 experts top-4 of intermediate 2880 with biased gate_up/down, vocab 201088, untied:
    #   attention 2880*4096 + 2 * 2880*512 + 4096*2880 = 26,542,080;  q/k/v biases 5,120;  o bias 2,880
    #   one expert 3 * 2880 * 2880 = 24,883,200 + biases 2 * 2880 + 2880 = 24,891,840;  x 32 = 796,538,880
    #   router 2880 * 32 = 92,160;  2 RMSNorms 5,760
    #   per layer 823,186,880;  x 24 = 19,756,485,120;  + final norm 2,880
    #   + embedding and unembedding 2 * 201088 * 2880 = 1,158,266,880 -> 20,914,754,880
    # OpenAI's 20.91B (exact 20,914,757,184) also has per layer 64 attention-sink logits and the router's 32 biases:
    # 24 * 96 = 2,304 parameters the engine does not model.
    count = parameter_count(find_model("openai/gpt-oss-20b").spec)
    assert count == 20_914_754_880
    assert count + 24 * (64 + 32) == find_model("gpt-oss-20b").published_params


def test_glm_4_5_air_count_by_hand():
    # GLM-4.5-Air (config.json as in llama.cpp PR 15026): h=4096, 96 heads x 128 (q 12,288), 8 KV heads (k/v 1,024),
    # biased q/k/v, the first layer dense (FFN 10,944), 45 MoE layers of 128 routed experts + 1 shared (FFN 1,408):
    #   attention 4096*12288 + 2 * 4096*1024 + 12288*4096 = 109,051,904; q/k/v biases 14,336; 2 RMSNorms 8,192
    #   dense layer: + 3 * 4096 * 10944 = 134,479,872 -> 243,554,304
    #   MoE layer: + router 128 * 4096 = 524,288 + 129 experts * 3 * 4096 * 1408 = 2,231,894,016 -> 2,341,492,736
    #   46 layers = 243,554,304 + 45 * 2,341,492,736 = 105,610,727,424
    #   + embedding and output 2 * 151552 * 4096 = 1,241,513,984 + final norm 4,096 -> 106,852,245,504
    # the model card's "106B total"; the multi-token-prediction layer (block 46 of the GGUF) is not counted
    assert parameter_count(find_model("zai-org/GLM-4.5-Air").spec) == 106_852_245_504


def test_model_names_and_aliases_are_unique_after_normalize():
    seen: dict[str, str] = {}
    for m in model_catalog():
        for key in {normalize(n) for n in (m.name, *m.aliases)}:
            assert key not in seen, f"{key!r} names both {seen[key]} and {m.name}"
            seen[key] = m.name


def test_llama_2_7b_exact_count_by_hand():
    # Llama-2-7B (config.json: h=4096, 32 layers, 32 heads, ffn 11008, vocab 32000, RMSNorm, SwiGLU, untied):
    #   attention 4 * 4096^2          =  67,108,864
    #   MLP       3 * 4096 * 11008    = 135,266,304
    #   2 RMSNorms 2 * 4096           =       8,192
    #   per layer                     = 202,383,360;  x 32 = 6,476,267,520
    #   final norm 4096; embedding + lm_head 2 * 32000 * 4096 = 262,144,000
    #   total 6,476,267,520 + 4,096 + 262,144,000 = 6,738,415,616 (the published exact count)
    assert parameter_count(find_model("Llama-2-7B").spec) == 6_738_415_616


def test_pythia_counts_match_the_paper_exactly():
    # Biderman et al. 2023 (Pythia), Table 1 "total params".  Pythia-1.4B by hand: GPT-NeoX layer with biases
    #   12 h^2 + 13 h = 12 * 2048^2 + 13 * 2048 = 50,331,648 + 26,624 = 50,358,272; x 24 = 1,208,598,528
    #   + final LayerNorm 2 * 2048 + untied embedding and head 2 * 50304 * 2048 = 206,045,184 -> 1,414,647,808
    assert parameter_count(find_model("pythia-1.4b").spec) == 1_414_647_808
    assert parameter_count(find_model("pythia-12b").spec) == 11_846_072_320


def test_mixtral_active_parameters_match_published():
    # Mistral AI: Mixtral 8x7B "has 46.7B total parameters but only uses 12.9B parameters per token".
    counts = parameter_counts(find_model("mixtral-8x7b").spec)
    assert abs(counts.total - 46.7e9) <= 0.0005 * 46.7e9
    assert abs(counts.active_per_token - 12.9e9) <= 0.005 * 12.9e9


def test_presets_resolve_by_hugging_face_repo_alias():
    assert find_model("meta-llama/Llama-2-70b-hf").name == "llama-2-70b"
    assert find_model("Qwen/Qwen2.5-7B").name == "qwen2.5-7b"
    assert find_model("deepseek-ai/DeepSeek-V3").spec.mla is not None


# --- user entries --------------------------------------------------------------------------------
def test_user_gpu_persists_under_the_config_dir_and_is_found_again(tmp_path):
    gpu = GpuSpec(name="My Lab Card", aliases=("labcard",), category="custom", memory_bytes=20 * 2**30,
                  marketed_memory="20 GB", source="measured")
    path = save_user_gpu(gpu)
    assert path.parent == user_catalog_dir() / "gpus" and str(path).startswith(str(tmp_path))
    assert json.loads(path.read_text())["gpus"][0]["memory_bytes"] == 21_474_836_480
    reload_catalogs()
    assert find_gpu("labcard") == gpu
    assert find_gpu("my-lab-card").memory_bytes == 20 * 2**30


def test_user_model_persists_and_overrides_nothing_else(tmp_path):
    spec = ModelSpec(name="tiny", layers=2, hidden=64, heads=4, vocab=100, norm="rmsnorm", gated_mlp=True, bias=False)
    preset = ModelPreset(name="tiny-test", family="custom", published_params=parameter_count(spec), source="test", spec=spec)
    path = save_user_model(preset)
    assert path.is_file() and path.parent == tmp_path / "config" / "models"
    reload_catalogs()
    assert find_model("Tiny Test").spec.layers == 2
    assert len(model_catalog()) == len(PRESETS) + 1


def test_broken_user_catalog_entry_is_skipped_and_named(tmp_path, caplog):
    """Issue 15: one bad item in the user's folder is skipped with a warning naming it, never fatal."""
    folder = user_catalog_dir() / "gpus"
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text('{"gpus": [{"name": "x", "memory_bytes": -1, "source": "s"}]}')
    reload_catalogs()
    with caplog.at_level("WARNING", logger="vramplan.catalog"):
        names = {g.name for g in gpu_catalog()}
    assert "x" not in names and "A100 80GB" in names
    assert "broken.json[0].memory_bytes" in caplog.text
    reload_catalogs()


# --- CLI -----------------------------------------------------------------------------------------
def test_cli_lists_gpus_as_json_with_category_filter(capsys):
    assert main(["catalog", "gpus", "--json", "--category", "edge"]) == 0
    gpus = json.loads(capsys.readouterr().out)["gpus"]
    assert gpus and all(g["category"] == "edge" for g in gpus)
    assert {g["name"] for g in gpus} >= {"Jetson AGX Orin 64GB", "Jetson Orin Nano 8GB"}


def test_cli_lists_models_with_engine_counts(capsys):
    assert main(["catalog", "models", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert models["llama-2-7b"]["parameters"] == 6_738_415_616
    assert main(["catalog", "models"]) == 0
    table = capsys.readouterr().out
    assert "llama-2-70b" in table and "params B" in table


def test_cli_add_gpu_then_use_it_in_an_estimate(capsys):
    rc = main(["catalog", "add-gpu", "--name", "Desk Card", "--memory", "22GiB", "--bf16-tflops", "50", "--alias", "desk"])
    assert rc == 0
    assert "saved GPU 'Desk Card' (22.00 GiB)" in capsys.readouterr().out
    assert (user_catalog_dir() / "gpus" / "deskcard.json").is_file()
    assert find_gpu("desk").memory_bytes == 22 * 2**30
    assert main(["estimate", "--model", "pythia-1.4b", "--gpu", "desk", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cards"][0]["capacity_bytes"] == 22 * 2**30


def test_cli_add_model_from_flags(capsys):
    rc = main(["catalog", "add-model", "--name", "my-7b", "--model", "llama-2-7b", "--vocab", "64000", "--family", "llama"])
    assert rc == 0
    capsys.readouterr()
    preset = find_model("my-7b")
    # Llama-2-7B with vocab 64000: 6,738,415,616 + 2 * (64000 - 32000) * 4096 = 6,738,415,616 + 262,144,000
    assert parameter_count(preset.spec) == preset.published_params == 7_000_559_616


@pytest.mark.parametrize(("argv", "needle"), [
    (["catalog", "add-gpu", "--name", "x", "--memory", "lots"], "--memory='lots'"),
    (["catalog", "add-gpu", "--name", "x", "--memory", "8GiB", "--tdp", "-5"], "--tdp: '-5'"),
    (["catalog", "add-model", "--layers", "2"], "--hidden"),
    (["estimate", "--model", "no-such-model", "--gpu", "a100-80gb"], "model='no-such-model'"),
])
def test_cli_errors_are_one_line_exit_2(capsys, argv, needle):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse usage errors exit from inside the parser
        rc = e.code
    assert rc == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err

"""Partly quantized checkpoints: config.json's quantization_config gives the format and the modules kept in 16 bit."""

import json

from engine.cli.main import main as cli_main
from engine.importers.quantization import serving_defaults

# A small Llama: h = 256, 4 heads of 64, 2 KV heads, FFN 512, 2 layers, vocab 1,000, untied.
SMALL_LLAMA = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 256, "num_attention_heads": 4,
    "num_key_value_heads": 2, "intermediate_size": 512, "num_hidden_layers": 2, "vocab_size": 1000,
    "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}


def test_fbgemm_fp8_with_attention_kept_in_bf16():
    assert serving_defaults({"quantization_config": {
        "quant_method": "fbgemm_fp8", "modules_to_not_convert": ["self_attn", "lm_head"]}}) == {
        "quant": "fp8-channel", "keep_modules": ("self_attn", "lm_head")}


def test_compressed_tensors_ignore_list_and_formats():
    config = {"quantization_config": {"quant_method": "compressed-tensors", "ignore": ["lm_head", "re:.*mlp.gate$"],
                                      "config_groups": {"g0": {"weights": {"type": "float", "num_bits": 8,
                                                                           "strategy": "tensor"}}}}}
    assert serving_defaults(config) == {"quant": "fp8", "keep_modules": ("lm_head", "mlp.gate")}
    gptq = {"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 64}}
    assert serving_defaults(gptq) == {"quant": "int4-gptq", "keep_modules": (), "group_size": 64}
    assert serving_defaults({"torch_dtype": "bfloat16"}) == {}


def _weights(capsys, *args) -> int:
    assert cli_main(["infer", *args, "--gpu-memory", "24GiB", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["cards"][0]["breakdown"]["weights"]


def test_infer_reads_the_checkpoint_keep_list(tmp_path, capsys):
    folder = tmp_path / "small-fp8"
    folder.mkdir()
    config = dict(SMALL_LLAMA, quantization_config={"quant_method": "fbgemm_fp8", "modules_to_not_convert": ["self_attn"]})
    (folder / "config.json").write_text(json.dumps(config))
    kept = _weights(capsys, "--model", str(folder))
    everything = _weights(capsys, "--model", str(folder), "--keep-16bit", "lm_head")
    # per layer: attention q 256x256 + k, v 128x256 + o 256x256 = 196,608 params; MLP 3 x 512 x 256 = 393,216.
    # fp8-channel stores 1 B per weight + a 4 B scale per output row; bf16 2 B.  Keeping self_attn in bf16
    # instead of fp8: per layer 196,608 x (2 - 1) B minus the rows' scales 4 B x (256 + 128 + 128 + 256).
    per_layer = 196_608 * 2 - (196_608 + 4 * (256 + 128 + 128 + 256))
    assert kept - everything == 2 * per_layer == 2 * 193_536

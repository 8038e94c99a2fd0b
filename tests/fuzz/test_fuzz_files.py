"""Fuzz what users open: plan files, config.json, safetensors headers and indexes, GGUF, launch configs."""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path

from fuzz_harness import check, run_cli
from fuzz_settings import fuzz_tests
from fuzz_strategies import json_bytes, mutated_json
from hypothesis import strategies as st

from engine.resources import resource_path

TEMPLATES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(resource_path("templates").glob("*.json"))}
SMALL_TEMPLATES = [t for name, t in TEMPLATES.items() if len(t["layout"]["cards"]) <= 16]


# --- plan files -----------------------------------------------------------------------------------
@st.composite
def plan_case(draw) -> tuple[bytes, list[str]]:
    data = draw(json_bytes(draw(st.sampled_from(SMALL_TEMPLATES))))
    command = draw(st.sampled_from([
        ["estimate", "--plan"], ["estimate", "--json", "--plan"], ["infer", "--plan"], ["finetune", "--plan"],
        ["export", "--format", "megatron"], ["export", "--format", "deepspeed"], ["export", "--format", "vllm"],
        ["export", "--format", "llamacpp"], ["compare", "--expert-load", "dropless"],
        ["sweep", "--knob", "seq", "--points", "3", "--from", "1024", "--to", "8192"],
        ["sweep", "--knob", "micro-batch", "--points", "1000", "--to", "16777216"]]))
    return data, command


def plan_files(case: tuple[bytes, list[str]]) -> None:
    data, command = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        path.write_bytes(data)
        argv = [*command, str(path)]
        check("plan files", argv, run_cli(argv))


test_plan_files, test_plan_files_long = fuzz_tests(plan_case(), plan_files, quick=60)


def test_special_plan_paths(tmp_path):
    """Folders, FIFOs, devices, /proc, missing files, names too long: one line each, no hang."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(65 * 2**20)  # sparse: over the 64 MiB plan limit
    for path in (tmp_path, fifo, "/dev/zero", "/dev/null", "/proc/self/status", "/proc/self/mem", big,
                 tmp_path / "missing.json", "x" * 5000, "nul\x00.json", tmp_path / "plan.json" / "under"):
        argv = ["estimate", "--plan", str(path)]
        check("plan files", argv, run_cli(argv))


# --- config.json ------------------------------------------------------------------------------------
CONFIGS = [
    {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
     "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 1000, "torch_dtype": "bfloat16",
     "max_position_embeddings": 4096},
    {"model_type": "mixtral", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
     "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 1000, "num_local_experts": 8,
     "num_experts_per_tok": 2},
    {"model_type": "deepseek_v3", "num_hidden_layers": 4, "hidden_size": 64, "num_attention_heads": 4,
     "intermediate_size": 128, "vocab_size": 1000, "q_lora_rank": 32, "kv_lora_rank": 16, "qk_nope_head_dim": 16,
     "qk_rope_head_dim": 8, "v_head_dim": 16, "n_routed_experts": 16, "num_experts_per_tok": 2,
     "moe_intermediate_size": 32, "n_shared_experts": 1, "first_k_dense_replace": 1},
    {"model_type": "gpt2", "n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 1000, "n_positions": 1024},
    {"model_type": "chatglm", "num_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
     "ffn_hidden_size": 128, "padded_vocab_size": 1000, "multi_query_attention": True, "multi_query_group_num": 2},
]


@st.composite
def config_case(draw) -> tuple[bytes, list[str]]:
    data = draw(json_bytes(draw(st.sampled_from(CONFIGS))))
    command = draw(st.sampled_from([["catalog", "inspect"], ["catalog", "inspect", "--json"],
                                    ["estimate", "--gpu", "h100", "--model"], ["infer", "--gpu", "h100", "--model"],
                                    ["catalog", "add-model", "--from"]]))
    return data, command


def config_files(case: tuple[bytes, list[str]]) -> None:
    data, command = case
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VRAMPLAN_CONFIG_DIR"] = str(Path(tmp) / "user")
        folder = Path(tmp) / "model"
        folder.mkdir()
        (folder / "config.json").write_bytes(data)
        argv = [*command, str(folder)]
        check("config.json", argv, run_cli(argv))


test_config_files, test_config_files_long = fuzz_tests(config_case(), config_files, quick=60)


# --- safetensors ------------------------------------------------------------------------------------
TENSORS = {
    "__metadata__": {"format": "pt"},
    "model.embed_tokens.weight": {"dtype": "BF16", "shape": [1000, 64], "data_offsets": [0, 128000]},
    "model.layers.0.self_attn.q_proj.weight": {"dtype": "BF16", "shape": [64, 64], "data_offsets": [128000, 136192]},
    "lm_head.weight": {"dtype": "F32", "shape": [1000, 64], "data_offsets": [136192, 392192]},
}
SHARD_NAMES = ["model-00001-of-00002.safetensors", "../../../../../../etc/passwd", "/etc/passwd", "..", ".",
               "sub/model.safetensors", "a" * 300, "nul\x00.safetensors", "C:\\windows\\x", "", 5, None,
               "/proc/self/status", "model.safetensors"]


@st.composite
def safetensors_case(draw) -> tuple[bytes, bytes | None]:
    header = draw(json_bytes(TENSORS))
    length = draw(st.sampled_from(["right", "right", "huge", "zero", "short", "max"]))
    n = {"right": len(header), "huge": 2**63, "zero": 0, "short": max(0, len(header) - 5), "max": 100_000_000}[length]
    shard = struct.pack("<Q", n % 2**64) + header + bytes(64)
    index = None
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(SHARD_NAMES), min_size=1, max_size=3))
        index = json.dumps({"metadata": {"total_size": draw(st.sampled_from([10, -1, "x", 10**40]))},
                            "weight_map": {f"t{i}": n for i, n in enumerate(names)}}).encode()
    return shard, index


def safetensors_files(case: tuple[bytes, bytes | None]) -> None:
    shard, index = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(CONFIGS[0]))
        (folder / "model-00001-of-00002.safetensors").write_bytes(shard)
        (folder / "model.safetensors").write_bytes(shard)
        if index is not None:
            (folder / "model.safetensors.index.json").write_bytes(index)
        argv = ["catalog", "inspect", str(folder)]
        outcome = run_cli(argv)
        check("safetensors", argv, outcome)
        assert "root:" not in outcome.out + outcome.err, "a file outside the model folder was read"


test_safetensors, test_safetensors_long = fuzz_tests(safetensors_case(), safetensors_files, quick=60)


# --- GGUF ---------------------------------------------------------------------------------------------
def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _s(key) + struct.pack("<I", vtype) + payload


def gguf_bytes() -> bytes:
    kvs = [
        _kv("general.architecture", 8, _s("llama")), _kv("general.name", 8, _s("tiny\x1b[31m<b>")),
        _kv("general.file_type", 4, struct.pack("<I", 15)), _kv("llama.block_count", 4, struct.pack("<I", 2)),
        _kv("llama.embedding_length", 4, struct.pack("<I", 8)),
        _kv("llama.feed_forward_length", 4, struct.pack("<I", 16)),
        _kv("llama.attention.head_count", 4, struct.pack("<I", 2)),
        _kv("llama.attention.head_count_kv", 4, struct.pack("<I", 1)),
        _kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 600) + b"".join(_s(f"t{i}") for i in range(600))),
    ]
    tensors = [("token_embd.weight", (8, 600), 12), ("blk.0.attn_q.weight", (8, 8), 12), ("output.weight", (8, 600), 14)]
    infos = b"".join(_s(n) + struct.pack("<I", len(d)) + struct.pack(f"<{len(d)}Q", *d) + struct.pack("<IQ", t, 0)
                     for n, d, t in tensors)
    return b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos + bytes(32)


GGUF = gguf_bytes()
HUGE_FIELDS = [struct.pack("<Q", v) for v in (0, 1, 2**31, 2**32 - 1, 2**63, 2**64 - 1, 10**6, 600)] + \
              [struct.pack("<I", v) for v in (0, 7, 9, 13, 2**32 - 1)]


@st.composite
def gguf_case(draw) -> bytes:
    data = bytearray(GGUF)
    for _ in range(draw(st.integers(1, 6))):
        how = draw(st.integers(0, 3))
        pos = draw(st.integers(0, len(data) - 1))
        if how == 0:
            data[pos] = draw(st.integers(0, 255))
        elif how == 1:
            field = draw(st.sampled_from(HUGE_FIELDS))
            data[pos:pos + len(field)] = field
        elif how == 2:
            del data[pos:]
        else:  # an array of arrays nested deep
            data[pos:pos] = (struct.pack("<IQ", 9, 1) * draw(st.sampled_from([3, 50, 5000])))
        if len(data) < 2:
            break
    return bytes(data)


def gguf_files(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny-Q4_K_M.gguf"
        path.write_bytes(data)
        argv = ["catalog", "inspect", str(path)]
        check("gguf", argv, run_cli(argv))


test_gguf, test_gguf_long = fuzz_tests(gguf_case(), gguf_files, quick=60)


# --- pasted launch configs ------------------------------------------------------------------------
MEGATRON = ("--num-layers 4 --hidden-size 64 --num-attention-heads 4 --vocab-size 1000 --seq-length 128 "
            "--position-embedding-type rope --tensor-model-parallel-size 2 --micro-batch-size 1")
MEGATRON_FLAGS = ["--num-layers", "--hidden-size", "--num-attention-heads", "--ffn-hidden-size", "--vocab-size",
                  "--tensor-model-parallel-size", "--pipeline-model-parallel-size", "--context-parallel-size",
                  "--expert-model-parallel-size", "--num-layers-per-virtual-pipeline-stage", "--num-experts",
                  "--moe-router-topk", "--moe-ffn-hidden-size", "--moe-layer-freq", "--global-batch-size",
                  "--micro-batch-size", "--seq-length", "--nnodes", "--nproc-per-node", "--window-size",
                  "--hidden-dropout", "--num-query-groups", "--kv-channels", "--decoder-first-pipeline-num-layers",
                  "--moe-shared-expert-intermediate-size", "--kv-lora-rank", "--max-position-embeddings"]
MEGATRON_VALUES = ["1", "2", "4", "0", "-1", "1e400", "nan", "9" * 70, "9999999999", "[1]*9999999999",
                   "([0]*1+[1]*3)", "[1,0,1,1]", "[" * 5000 + "]" * 5000, "'abc'", "1.5", "inf", "8192,0", "",
                   "\x1b[2J", "[[1]]", "(1,)*100000000"]


@st.composite
def megatron_case(draw) -> bytes:
    parts = [MEGATRON]
    for _ in range(draw(st.integers(0, 4))):
        flag, value = draw(st.sampled_from(MEGATRON_FLAGS)), draw(st.sampled_from(MEGATRON_VALUES))
        parts.append(f"{flag}={value!r}" if draw(st.booleans()) else f"{flag} '{value}'")
    text = " \\\n  ".join(parts)
    if draw(st.integers(0, 8)) == 0:
        text = draw(st.sampled_from(['"unbalanced', "\\", "#only a comment", "", "x" * 2_000_000, "\xff"]))
    return text.encode("utf-8", "surrogatepass")


DEEPSPEED = {"train_batch_size": 64, "train_micro_batch_size_per_gpu": 2, "gradient_accumulation_steps": 4,
             "zero_optimization": {"stage": 2, "reduce_bucket_size": 5e8,
                                   "offload_optimizer": {"device": "cpu"}},
             "bf16": {"enabled": True}, "optimizer": {"type": "AdamW"}}


@st.composite
def launch_case(draw) -> tuple[str, bytes]:
    if draw(st.booleans()):
        return "megatron", draw(megatron_case())
    return "deepspeed", draw(json_bytes(DEEPSPEED))


def launch_configs(case: tuple[str, bytes]) -> None:
    fmt, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "launch.txt"
        path.write_bytes(data)
        argv = ["import", "--format", fmt, str(path), "--gpu", "h100"]
        if fmt == "deepspeed":
            argv += ["--model", "llama-2-7b"]
        check("launch configs", argv, run_cli(argv))


test_launch_configs, test_launch_configs_long = fuzz_tests(launch_case(), launch_configs, quick=60)


def test_launch_config_on_stdin():
    argv = ["import", "--format", "megatron", "-", "--gpu", "h100"]
    check("launch configs", argv, run_cli(argv, stdin=MEGATRON.encode()))
    check("launch configs", argv, run_cli(argv, stdin=b"\xff\xfe" * 10))


_unused = mutated_json

"""Offline import of a local model: a Hugging Face ``config.json``, a model folder, or a ``.gguf`` file.

Never touches the network.  From a folder it reads ``config.json`` and, when
``*.safetensors`` files are present, only their headers: the exact parameter
count and the stored dtype come without loading a weight.  From a GGUF file
it reads the header: architecture, shapes, quantization type and the exact
tensor sizes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import PlanError, strip_controls
from engine.importers.headers import (
    GGUF_FILE_TYPES,
    GgufArray,
    GgufHeader,
    TensorTally,
    read_gguf_header,
    tally_gguf,
    tally_safetensors,
)
from engine.importers.hf_config import positive_int_value, spec_from_config
from engine.limits import MAX_CONFIG_BYTES, MAX_NAME_CHARS, MAX_SHARDS
from engine.model.spec import ModelSpec
from engine.plan import files
from engine.plan.schema import plan_error_from_validation

INDEX_NAME = "model.safetensors.index.json"
_SPLIT_GGUF = re.compile(r"^(?P<stem>.+)-\d{5}-of-(?P<n>\d{5})\.gguf$")


class LocalModelInfo(BaseModel):
    """What a local model folder or file says about itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    spec: ModelSpec
    architecture: str  # config.json model_type, or GGUF general.architecture
    weights_parameters: int | None = None  # exact count from the weight headers; None without weight files
    parameters_by_dtype: dict[str, int] = {}
    stored_dtype: str | None = None  # the dtype holding most parameters (BF16, F16, Q4_K ...)
    stored_bytes: int | None = None  # bytes of tensor data on disk (safetensors; index total_size)
    gguf_file_type: str | None = None  # general.file_type, e.g. Q4_K_M
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def model_from_local(path: str | Path) -> ModelSpec:
    """The ModelSpec of a local config.json, model folder or .gguf file."""
    return inspect_local(path).spec


def inspect_local(path: str | Path) -> LocalModelInfo:
    try:
        p = Path(path).expanduser()
        exists = p.exists()
    except (OSError, ValueError, RuntimeError):  # a name too long, a NUL byte, an unknown ~user
        exists = False
    if not exists:
        raise PlanError("model", str(path), "an existing config.json, model folder or .gguf file")
    if p.is_dir():
        if (p / "config.json").is_file():
            return _inspect_hf(p / "config.json")
        ggufs = sorted(p.glob("*.gguf"))
        if ggufs:
            return _inspect_gguf(_pick_gguf(p, ggufs))
        raise PlanError("model", str(p), "a folder holding config.json or a .gguf file")
    if p.suffix == ".gguf":
        return _inspect_gguf(p)
    if p.name == INDEX_NAME or p.suffix == ".safetensors":
        return _inspect_hf(p.parent / "config.json")
    if p.suffix == ".json":
        return _inspect_hf(p)
    raise PlanError("model", str(p), "a config.json, a model folder, a .safetensors or a .gguf file")


def config_path_of(p: Path) -> Path | None:
    """The config.json that goes with a local model path (None for GGUF files and folders)."""
    if p.is_dir():
        return p / "config.json" if (p / "config.json").is_file() else None
    if p.suffix == ".gguf":
        return None
    if p.name == INDEX_NAME or p.suffix == ".safetensors":
        return p.parent / "config.json"
    return p if p.suffix == ".json" else None


def read_config(path: Path) -> Any:
    """A model folder's config.json, read within the importer's limits."""
    return _read_json(path)


# --- Hugging Face folders ----------------------------------------------------------------------
def _read_json(path: Path) -> Any:
    """A JSON file of the model folder: at most MAX_CONFIG_BYTES, UTF-8, bounded nesting and numbers."""
    if not path.exists():
        raise PlanError("model", str(path), "a config.json beside the weights")
    return files.parse_json(files.read_text(path, path.name, MAX_CONFIG_BYTES), path.name)


def _model_name(config: dict, folder: Path) -> str:
    name = config.get("_name_or_path")
    if isinstance(name, str) and name and not name.startswith(("/", ".")):
        name = name.rstrip("/").split("/")[-1]
    else:
        name = folder.resolve().name
    return strip_controls(name)[:MAX_NAME_CHARS] or "imported"


def _inspect_hf(config_path: Path) -> LocalModelInfo:
    config = _read_json(config_path)
    folder = config_path.parent
    spec = spec_from_config(config, _model_name(config if isinstance(config, dict) else {}, folder), config_path.name)
    shards, index_bytes, notes = _safetensors_files(folder)
    tally = tally_safetensors(shards) if shards else None
    if tally is not None and any(n.endswith((".qweight", ".qzeros")) for n in tally.names):
        notes.append("packed quantized tensors (GPTQ/AWQ): element counts of int32 tensors are not parameter counts")
    return LocalModelInfo(
        path=str(config_path),
        spec=spec,
        architecture=str(config["model_type"]),
        weights_parameters=tally.total if tally else None,
        parameters_by_dtype=dict(tally.elements_by_dtype) if tally else {},
        stored_dtype=tally.dominant_dtype if tally else _torch_dtype(config),
        stored_bytes=tally.stored_bytes if tally else index_bytes,
        files=tuple(p.name for p in [config_path, *shards]),
        notes=tuple(notes),
    )


def _torch_dtype(config: dict) -> str | None:
    value = config.get("torch_dtype") or config.get("dtype")
    return {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}.get(value) if isinstance(value, str) else None


def _safetensors_files(folder: Path) -> tuple[list[Path], int | None, list[str]]:
    """(shards present, the index's total_size, notes).  All shards or none are tallied."""
    index_path = folder / INDEX_NAME
    if not index_path.is_file():
        shards = sorted(folder.glob("*.safetensors"))
        if len(shards) > MAX_SHARDS:
            raise PlanError("model", str(folder), f"a folder of at most {MAX_SHARDS:,} .safetensors files")
        return shards, None, []
    index = _read_json(index_path)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict):
        raise PlanError(f"{INDEX_NAME}:weight_map", None, "an object mapping tensor names to shard files")
    metadata = index.get("metadata")
    total = metadata.get("total_size") if isinstance(metadata, dict) else None
    total = total if isinstance(total, int) and total > 0 else None
    names = sorted({_shard_name(n) for n in weight_map.values()})
    if len(names) > MAX_SHARDS:
        raise PlanError(f"{INDEX_NAME}:weight_map", f"{len(names):,} shards", f"at most {MAX_SHARDS:,} shard files")
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        return [], total, [f"{len(missing)} of {len(names)} shards absent (e.g. {missing[0]}): no exact count"]
    return [folder / n for n in names], total, []


def _shard_name(name: object) -> str:
    """A shard named by the index: a plain file name inside the model folder, nothing else.

    The index is data from the internet: ``../../etc/passwd``, an absolute path or a name with a
    folder in it would make the importer read outside the folder (and quote those bytes in errors).
    Symlinks the user's own tools made are followed (the Hugging Face cache links every file of a
    snapshot to its blob), so only the names are checked.
    """
    if (not isinstance(name, str) or not name or len(name) > 255 or name in (".", "..")
            or "/" in name or "\\" in name or "\0" in name or Path(name).is_absolute() or Path(name).name != name):
        raise PlanError(f"{INDEX_NAME}:weight_map", name, "shard file names inside the model folder (no folders, no ..)")
    return name


# --- GGUF ---------------------------------------------------------------------------------------
def _pick_gguf(folder: Path, ggufs: list[Path]) -> Path:
    if len(ggufs) == 1:
        return ggufs[0]
    firsts = [g for g in ggufs if (m := _SPLIT_GGUF.match(g.name)) and g.name.endswith(f"-00001-of-{m['n']}.gguf")]
    if len(firsts) == 1:
        return firsts[0]
    raise PlanError("model", str(folder), "one .gguf file; this folder has several: " + ", ".join(g.name for g in ggufs[:4]))


def _gguf_parts(path: Path) -> list[Path]:
    m = _SPLIT_GGUF.match(path.name)
    if not m:
        return [path]
    n = int(m["n"])
    if n > MAX_SHARDS:
        raise PlanError("model", path.name, f"a GGUF file split in at most {MAX_SHARDS:,} parts")
    parts = [path.with_name(f"{m['stem']}-{i:05d}-of-{m['n']}.gguf") for i in range(1, n + 1)]
    missing = [q.name for q in parts if not q.is_file()]
    if missing:
        raise PlanError("model", missing[0], f"all {n} parts of the split GGUF file")
    return parts


def _inspect_gguf(path: Path) -> LocalModelInfo:
    parts = _gguf_parts(path)
    headers = [read_gguf_header(q) for q in parts]
    first = headers[0]
    arch = first.metadata.get("general.architecture")
    if not isinstance(arch, str):
        raise PlanError(f"{path.name}:general.architecture", arch, "the model architecture (a string)")
    tally = tally_gguf(headers)
    name = first.metadata.get("general.name")
    name = strip_controls(name if isinstance(name, str) and name else path.stem)[:MAX_NAME_CHARS] or "imported"
    spec = spec_from_gguf(first, tally, name, path.name)
    ftype = first.metadata.get("general.file_type")
    return LocalModelInfo(
        path=str(path),
        spec=spec,
        architecture=arch,
        weights_parameters=tally.total,
        parameters_by_dtype=dict(tally.elements_by_dtype),
        stored_dtype=tally.dominant_dtype,
        gguf_file_type=GGUF_FILE_TYPES.get(ftype, f"type {ftype}") if isinstance(ftype, int) else None,
        files=tuple(q.name for q in parts),
        notes=_gguf_notes(first, tally),
    )


def _gguf_notes(header: GgufHeader, tally: TensorTally) -> tuple[str, ...]:
    notes = [f"GGUF version {header.version}, {tally.tensors} tensors"]
    tokens = header.metadata.get("tokenizer.ggml.tokens")
    if isinstance(tokens, GgufArray | list):
        notes.append(f"tokenizer: {len(tokens) if isinstance(tokens, list) else tokens.length} tokens")
    return tuple(notes)


# GGUF architectures with LayerNorm and a plain (non-gated) MLP; the rest are Llama-like.
_LAYERNORM_ARCHS = {"gpt2", "gptj", "gptneox", "falcon", "bloom", "mpt", "starcoder", "phi2", "refact"}
_QK_NORMS = ("attn_q_norm", "attn_k_norm", "attn_q_a_norm", "attn_kv_a_norm")


def _gguf_int(header: GgufHeader, arch: str, key: str, where: str, default: Any = PlanError) -> Any:
    full = f"{arch}.{key}"
    value = header.metadata.get(full)
    if isinstance(value, list):  # per-layer values (e.g. head_count_kv): the largest bounds the memory
        if not all(type(v) is int for v in value):
            raise PlanError(f"{where}:{full}", value, "positive integers (one per layer)")
        value = max(value) if value else None
    if value is None:
        if default is PlanError:
            raise PlanError(f"{where}:{full}", None, "a positive integer (the key is missing)")
        return default
    return positive_int_value(f"{where}:{full}", value)


def _gguf_vocab(header: GgufHeader, arch: str, tally: TensorTally, where: str) -> int:
    tokens = header.metadata.get("tokenizer.ggml.tokens")
    if isinstance(tokens, GgufArray):
        return tokens.length
    if isinstance(tokens, list) and tokens:
        return len(tokens)
    embd = header.tensors.get("token_embd.weight")
    if embd and len(embd[0]) == 2:
        return embd[0][1]  # GGUF dims are (ne0 = hidden, ne1 = rows)
    return _gguf_int(header, arch, "vocab_size", where)


def spec_from_gguf(header: GgufHeader, tally: TensorTally, name: str, where: str) -> ModelSpec:
    """A ModelSpec from GGUF metadata; norms, biases and tying from the tensor names of layer 0."""
    arch = header.metadata["general.architecture"]
    names = tally.names
    heads = _gguf_int(header, arch, "attention.head_count", where)
    hidden = _gguf_int(header, arch, "embedding_length", where)
    key_length = _gguf_int(header, arch, "attention.key_length", where, None)
    layernorm = arch in _LAYERNORM_ARCHS
    norms = [n for n in names if n.startswith("blk.0.") and n.endswith("norm.weight") and n.split(".")[2] not in _QK_NORMS]
    fields: dict[str, Any] = {
        "name": name,
        "layers": _gguf_int(header, arch, "block_count", where),
        "hidden": hidden,
        "heads": heads,
        "kv_heads": _gguf_int(header, arch, "attention.head_count_kv", where, heads),
        "head_dim": key_length if key_length and key_length * heads != hidden else None,
        "ffn": _gguf_int(header, arch, "feed_forward_length", where, None),
        "vocab": _gguf_vocab(header, arch, tally, where),
        "norm": "layernorm" if layernorm else "rmsnorm",
        "gated_mlp": not layernorm,
        "bias": "blk.0.ffn_down.bias" in names,
        "qkv_bias": any(f"blk.0.{t}.bias" in names for t in ("attn_q", "attn_qkv")),
        "qk_norm": "blk.0.attn_q_norm.weight" in names,
        "norms_per_layer": max(1, min(4, len(norms))),
        "tied_embeddings": "output.weight" not in names,
    }
    positions = header.tensors.get("position_embd.weight")
    if positions and positions[0]:
        fields.update(position_embedding="learned", max_position=positions[0][-1])
    fields.update(_gguf_moe_mla(header, arch, where, fields["ffn"]))
    if "mla" in fields:
        fields.pop("kv_heads")
        fields.pop("head_dim")
    return validated_spec({k: v for k, v in fields.items() if v is not None}, where)


def _gguf_moe_mla(header: GgufHeader, arch: str, where: str, ffn: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    experts = _gguf_int(header, arch, "expert_count", where, None)
    if experts:
        moe = {
            "experts": experts,
            "top_k": _gguf_int(header, arch, "expert_used_count", where),
            "expert_ffn": _gguf_int(header, arch, "expert_feed_forward_length", where, ffn),
            "shared_experts": _gguf_int(header, arch, "expert_shared_count", where, 0),
            "first_dense_layers": _gguf_int(header, arch, "leading_dense_block_count", where, 0),
        }
        shared_ffn = _gguf_int(header, arch, "expert_shared_feed_forward_length", where, None)
        out["moe"] = {**moe, **({"shared_expert_ffn": shared_ffn} if shared_ffn else {})}
    kv_lora = _gguf_int(header, arch, "attention.kv_lora_rank", where, None)
    if kv_lora:  # DeepSeek-V2/V3 multi-head latent attention
        rope = _gguf_int(header, arch, "rope.dimension_count", where)
        out["mla"] = {
            "q_lora_rank": _gguf_int(header, arch, "attention.q_lora_rank", where, None),
            "kv_lora_rank": kv_lora,
            "qk_nope_head_dim": _gguf_int(header, arch, "attention.key_length", where) - rope,
            "qk_rope_head_dim": rope,
            "v_head_dim": _gguf_int(header, arch, "attention.value_length", where),
        }
    return out


def validated_spec(fields: dict, where: str) -> ModelSpec:
    """ModelSpec from mapped fields; a schema error names the source file."""
    try:
        return ModelSpec.model_validate(fields)
    except ValidationError as e:
        err = plan_error_from_validation(e)
        raise PlanError(f"{where} -> {err.field}", err.value, err.allowed) from None

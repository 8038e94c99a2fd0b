"""A checkpoint's ``quantization_config`` (config.json) as serving defaults: format and the modules kept in 16 bit.

Partly quantized releases keep some modules in bf16 and say so in config.json:
``modules_to_not_convert`` (transformers' fbgemm_fp8, bitsandbytes, AWQ, GPTQ configs) or ``ignore``
(compressed-tensors, the format of llm-compressor / Neural Magic FP8 and W8A8 releases).  transformers
skips a linear layer when one of those entries is a substring of its dotted module name
(``replace_with_fbgemm_fp8_linear``: ``if not any(key in current_key_name_str for key in
modules_to_not_convert)``); vramplan applies the same test per tensor.  Regular-expression entries of
compressed-tensors (``re:...``) are kept only when they are plain names after the prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import PlanError

MAX_KEEP_ENTRIES = 4096


def _bits(q: dict) -> int | None:
    bits = q.get("bits", q.get("w_bit"))
    return bits if isinstance(bits, int) else None


def _format(q: dict) -> str | None:
    method = str(q.get("quant_method", "")).lower()
    if method in ("fp8", "fbgemm_fp8"):
        return "fp8-channel" if method == "fbgemm_fp8" else "fp8"
    if method == "mxfp4":  # gpt-oss: the routed experts; transformers' Mxfp4Config
        return "mxfp4"
    if method == "gptq":
        return "int4-gptq" if _bits(q) in (None, 4) else None
    if method == "awq":
        return "int4-awq" if _bits(q) in (None, 4) else None
    if method == "bitsandbytes":
        if q.get("load_in_8bit"):
            return "llm-int8"
        return "fp4" if str(q.get("bnb_4bit_quant_type", "nf4")).lower() == "fp4" else "nf4"
    if method == "compressed-tensors":
        groups = q.get("config_groups") or {}
        for group in groups.values() if isinstance(groups, dict) else ():
            weights = (group or {}).get("weights") or {}
            if weights.get("type") == "float" and weights.get("num_bits") == 8:
                return "fp8-channel" if weights.get("strategy") == "channel" else "fp8"
            if weights.get("type") == "int" and weights.get("num_bits") == 8:
                return "int8"
            if weights.get("type") == "int" and weights.get("num_bits") == 4:
                return "int4-gptq"
    return None


def _keep(q: dict) -> tuple[str, ...]:
    entries = q.get("modules_to_not_convert") or q.get("ignore") or []
    if not isinstance(entries, list):
        raise PlanError("quantization_config.modules_to_not_convert", type(entries).__name__, "a list of module names")
    if len(entries) > MAX_KEEP_ENTRIES:
        raise PlanError("quantization_config.modules_to_not_convert", f"{len(entries):,} entries",
                        f"at most {MAX_KEEP_ENTRIES:,}")
    out = []
    for e in entries:
        if not isinstance(e, str):
            continue
        name = e.removeprefix("re:").strip("^$.*")
        if name and all(ch.isalnum() or ch in "._-" for ch in name):
            out.append(name)
    return tuple(dict.fromkeys(out))


def serving_defaults(config: Any) -> dict:
    """``{"quant": ..., "group_size": ..., "keep_modules": (...)}`` from a parsed config.json (empty if none)."""
    if not isinstance(config, dict) or not isinstance(config.get("quantization_config"), dict):
        return {}
    q = config["quantization_config"]
    fmt = _format(q)
    if fmt is None:
        return {}
    out: dict = {"quant": fmt, "keep_modules": _keep(q)}
    group = q.get("group_size", q.get("q_group_size"))
    if fmt.startswith("int4") and isinstance(group, int) and group > 0:
        out["group_size"] = group
    return out


def serving_defaults_for(path: str | Path) -> dict:
    """:func:`serving_defaults` of the config.json of a local model folder or file (empty for GGUF)."""
    from engine.importers.hf_import import config_path_of, read_config

    config_path = config_path_of(Path(path).expanduser())
    return serving_defaults(read_config(config_path)) if config_path is not None else {}

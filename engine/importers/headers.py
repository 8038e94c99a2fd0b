"""Read the headers of weight files, never the weights.

* safetensors: an 8-byte little-endian header length, then that many bytes of
  JSON ``{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}``
  (huggingface/safetensors, README "Format").
* GGUF: magic ``GGUF``, uint32 version, tensor and metadata counts (uint64
  from version 2, uint32 in version 1), metadata key/value pairs, then one
  info record per tensor (name, dims, ggml type, offset) - ggml-org/ggml
  ``docs/gguf.md``.  Type numbers follow gguf-py ``constants.py``.
"""

from __future__ import annotations

import json
import math
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import PlanError

MAX_HEADER_BYTES = 256 * 2**20  # a safetensors header is JSON text; hundreds of MiB means a broken file
SAFETENSORS_DTYPE_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "F4": 1, "F6_E2M3": 1,
    "F6_E3M2": 1, "I64": 8, "U64": 8, "I32": 4, "U32": 4, "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}
# Tensors that are buffers, not parameters, in some older checkpoints.
_BUFFER_SUFFIXES = ("rotary_emb.inv_freq", "attn.masked_bias")


@dataclass
class TensorTally:
    """Element counts per stored dtype, over one or more files."""

    elements_by_dtype: dict[str, int] = field(default_factory=dict)
    stored_bytes: int = 0
    tensors: int = 0
    names: set[str] = field(default_factory=set)

    def add(self, name: str, dtype: str, shape: list[int] | tuple[int, ...], nbytes: int) -> None:
        self.elements_by_dtype[dtype] = self.elements_by_dtype.get(dtype, 0) + math.prod(shape)
        self.stored_bytes += nbytes
        self.tensors += 1
        self.names.add(name)

    @property
    def total(self) -> int:
        return sum(self.elements_by_dtype.values())

    @property
    def dominant_dtype(self) -> str | None:
        if not self.elements_by_dtype:
            return None
        return max(self.elements_by_dtype, key=lambda k: self.elements_by_dtype[k])


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of one .safetensors file (reads 8 + N bytes, no weights)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            if n <= 1 or n > min(MAX_HEADER_BYTES, size - 8):
                raise PlanError(f"{path.name}:header", n, f"a header length between 2 and {min(MAX_HEADER_BYTES, size - 8)} bytes")
            raw = f.read(n)
    except OSError as e:
        raise PlanError("model", str(path), f"a readable file ({e.strerror})") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PlanError(f"{path.name}:header", "invalid JSON", "a safetensors JSON header") from None
    if not isinstance(header, dict):
        raise PlanError(f"{path.name}:header", type(header).__name__, "a JSON object of tensors")
    return header


def tally_safetensors(paths: list[Path]) -> TensorTally:
    tally = TensorTally()
    for path in paths:
        for name, info in read_safetensors_header(path).items():
            if name == "__metadata__" or name.endswith(_BUFFER_SUFFIXES):
                continue
            try:
                dtype, shape, (start, end) = info["dtype"], list(info["shape"]), info["data_offsets"]
                shape = [int(d) for d in shape]
            except (KeyError, TypeError, ValueError):
                raise PlanError(f"{path.name}:{name}", info, "a tensor entry with dtype, shape and data_offsets") from None
            if dtype not in SAFETENSORS_DTYPE_BYTES:
                raise PlanError(f"{path.name}:{name}.dtype", dtype, "a safetensors dtype: " + ", ".join(SAFETENSORS_DTYPE_BYTES))
            if name.endswith(".attn.bias") and len(shape) == 4:  # GPT-2's causal-mask buffer
                continue
            tally.add(name, dtype, shape, int(end) - int(start))
    return tally


# --- GGUF --------------------------------------------------------------------------------------
GGUF_MAGIC = b"GGUF"
# ggml_type numbers (gguf-py GGMLQuantizationType)
GGML_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K",
    12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
    20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
    29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0",
}
# general.file_type numbers (llama.cpp llama_ftype / gguf-py LlamaFileType)
GGUF_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0",
}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_KEEP_ARRAY = 512  # arrays longer than this keep only their length (token lists, merges)


@dataclass(frozen=True)
class GgufArray:
    """A long metadata array: its element type and length (values skipped)."""

    type: int
    length: int


@dataclass
class GgufHeader:
    version: int
    metadata: dict[str, Any]
    tensors: dict[str, tuple[tuple[int, ...], str]]  # name -> (dims, ggml type name)


class _Reader:
    """Walks a GGUF header in a memory map: only the pages the header spans are read."""

    def __init__(self, buf: Any, where: str) -> None:
        self.buf, self.pos, self.where, self.version = buf, 0, where, 3

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise PlanError(self.where, "truncated header", "a complete GGUF header")
        data = self.buf[self.pos:end]
        self.pos = end
        return data

    def scalar(self, fmt: str) -> Any:
        value = struct.unpack_from(fmt, self.buf, self.pos)[0]  # struct.error past the end: truncated
        self.pos += struct.calcsize(fmt)
        return value

    def count(self) -> int:
        return self.scalar("<I" if self.version == 1 else "<Q")

    def string(self) -> str:
        n = self.count()
        if n > MAX_HEADER_BYTES:
            raise PlanError(self.where, f"string of {n} bytes", "a GGUF string shorter than 256 MiB")
        return self.take(n).decode("utf-8", errors="replace")

    def skip_strings(self, n: int) -> None:
        """Skip n length-prefixed strings (token lists, merges) without decoding them."""
        length = struct.Struct("<I" if self.version == 1 else "<Q")
        unpack, step, buf, pos = length.unpack_from, length.size, self.buf, self.pos
        for _ in range(n):
            pos += step + unpack(buf, pos)[0]
        if pos > len(buf):
            raise PlanError(self.where, "truncated header", "a complete GGUF header")
        self.pos = pos

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, n = self.scalar("<I"), self.count()
            if n <= _KEEP_ARRAY:
                return [self.value(etype) for _ in range(n)]
            if etype in _SCALARS:
                self.take(n * struct.calcsize(_SCALARS[etype]))
            elif etype == _STRING:
                self.skip_strings(n)
            else:
                for _ in range(n):
                    self.value(etype)
            return GgufArray(etype, n)
        raise PlanError(self.where, f"value type {vtype}", "a GGUF value type 0-12")


def read_gguf_header(path: Path) -> GgufHeader:
    """Metadata and tensor infos of a GGUF file (no tensor data is read)."""
    where = f"{path.name}:header"
    try:
        with path.open("rb") as f:
            if path.stat().st_size < 24:
                raise PlanError(where, "truncated header", "a complete GGUF header")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse_gguf(_Reader(buf, where), path.name)
    except struct.error:
        raise PlanError(where, "truncated header", "a complete GGUF header") from None
    except OSError as e:
        raise PlanError("model", str(path), f"a readable file ({e.strerror})") from None


def _parse_gguf(r: _Reader, name: str) -> GgufHeader:
    if r.take(4) != GGUF_MAGIC:
        raise PlanError(f"{name}:magic", "not GGUF", "a GGUF file (starts with the bytes 'GGUF')")
    r.version = r.scalar("<I")
    if r.version not in (1, 2, 3):
        raise PlanError(f"{name}:version", r.version, "GGUF version 1, 2 or 3")
    n_tensors, n_kv = r.count(), r.count()
    if n_tensors > 10**6 or n_kv > 10**6:
        raise PlanError(f"{name}:header", (n_tensors, n_kv), "tensor and metadata counts below 10^6")
    metadata = {}
    for _ in range(n_kv):
        key = r.string()
        metadata[key] = r.value(r.scalar("<I"))
    tensors = {}
    for _ in range(n_tensors):
        tensor = r.string()
        n_dims = r.scalar("<I")
        if n_dims > 8:
            raise PlanError(f"{name}:{tensor}", f"{n_dims} dims", "at most 8 dimensions")
        dims = tuple(r.count() for _ in range(n_dims))
        gtype = r.scalar("<I")
        r.scalar("<Q")  # offset into the data section
        tensors[tensor] = (dims, GGML_TYPES.get(gtype, f"type{gtype}"))
    return GgufHeader(r.version, metadata, tensors)


def tally_gguf(headers: list[GgufHeader]) -> TensorTally:
    tally = TensorTally()
    for h in headers:
        for name, (dims, gtype) in h.tensors.items():
            tally.add(name, gtype, dims, 0)
    return tally

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

import math
import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import PlanError
from engine.limits import (
    MAX_GGUF_ARRAY_DEPTH,
    MAX_GGUF_STRING_BYTES,
    MAX_SAFETENSORS_HEADER_BYTES,
    MAX_SAFETENSORS_HEADER_VALUES,
    MAX_TENSOR_DIM,
    MAX_TENSOR_DIMS,
    MAX_TOTAL_HEADER_BYTES,
)
from engine.plan import files

MAX_HEADER_BYTES = MAX_SAFETENSORS_HEADER_BYTES
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


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of one .safetensors file (reads 8 + N bytes, no weights)."""
    return _safetensors_header(path)[0]


def _safetensors_header(path: Path) -> tuple[dict[str, Any], int]:
    """(the header, its length N in bytes)."""
    where = f"{path.name}:header"
    fd, info = files.open_regular(path, "model")
    try:
        head = _read_exactly(fd, 8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        limit = min(MAX_HEADER_BYTES, info.st_size - 8)
        if n <= 1 or n > limit:
            raise PlanError(where, n, f"a header length between 2 and {max(limit, 2):,} bytes "
                                      "(the safetensors format allows less than 100 MB)")
        raw = _read_exactly(fd, n)
    except OSError as e:
        if isinstance(e, PlanError):
            raise
        raise PlanError("model", str(path), f"a readable file ({e.strerror})") from None
    finally:
        os.close(fd)
    if len(raw) < n:
        raise PlanError(where, "truncated header", "a complete safetensors header")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(where, "not UTF-8", "a safetensors JSON header (UTF-8)") from None
    header = files.parse_json(text, where, max_values=MAX_SAFETENSORS_HEADER_VALUES)
    if not isinstance(header, dict):
        raise PlanError(where, type(header).__name__, "a JSON object of tensors")
    return header, n


def _tensor_entry(where: str, info: Any) -> tuple[str, list[int], int]:
    """(dtype, shape, bytes) of one header entry, every value checked (the header is untrusted JSON)."""
    allowed = (f"a tensor entry with a dtype ({', '.join(SAFETENSORS_DTYPE_BYTES)}), a shape of at most "
               f"{MAX_TENSOR_DIMS} sizes from 0 to 2^48 and two data_offsets")
    if not isinstance(info, dict):
        raise PlanError(where, info, allowed)
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in SAFETENSORS_DTYPE_BYTES:
        raise PlanError(f"{where}.dtype", dtype, "a safetensors dtype: " + ", ".join(SAFETENSORS_DTYPE_BYTES))
    if (not isinstance(shape, list) or len(shape) > MAX_TENSOR_DIMS
            or not all(type(d) is int and 0 <= d <= MAX_TENSOR_DIM for d in shape)):
        raise PlanError(f"{where}.shape", shape, allowed)
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(o) is int and 0 <= o < 2**63 for o in offsets) or offsets[1] < offsets[0]):
        raise PlanError(f"{where}.data_offsets", offsets, "two byte offsets [start, end] with start <= end")
    return dtype, shape, offsets[1] - offsets[0]


def tally_safetensors(paths: list[Path]) -> TensorTally:
    tally = TensorTally()
    header_bytes = 0
    for path in paths:
        header, n = _safetensors_header(path)
        header_bytes += n
        if header_bytes > MAX_TOTAL_HEADER_BYTES:
            raise PlanError("model", f"{len(paths)} shards", f"at most {MAX_TOTAL_HEADER_BYTES // 2**20} MiB of "
                                                             "safetensors headers in one model")
        for name, info in header.items():
            if name == "__metadata__" or name.endswith(_BUFFER_SUFFIXES):
                continue
            dtype, shape, nbytes = _tensor_entry(f"{path.name}:{name}", info)
            if name.endswith(".attn.bias") and len(shape) == 4:  # GPT-2's causal-mask buffer
                continue
            tally.add(name, dtype, shape, nbytes)
    return tally


# --- GGUF --------------------------------------------------------------------------------------
GGUF_MAGIC = b"GGUF"
# ggml_type numbers (gguf-py GGMLQuantizationType)
GGML_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K",
    12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
    20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
    29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}
# general.file_type numbers (llama.cpp llama_ftype / gguf-py LlamaFileType)
GGUF_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
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

    def need(self, n: int, each: int) -> None:
        """Refuse a count of ``n`` items of at least ``each`` bytes that the file cannot hold
        (a huge count would otherwise loop long before reaching the end)."""
        if n * each > len(self.buf) - self.pos:
            raise PlanError(self.where, "truncated header", "a complete GGUF header")

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
        if n > MAX_GGUF_STRING_BYTES:
            raise PlanError(self.where, f"string of {n:,} bytes", f"a GGUF string of at most {MAX_GGUF_STRING_BYTES:,} bytes")
        return self.take(n).decode("utf-8", errors="replace")

    def skip_strings(self, n: int) -> None:
        """Skip n length-prefixed strings (token lists, merges) without decoding them."""
        length = struct.Struct("<I" if self.version == 1 else "<Q")
        self.need(n, length.size)
        unpack, step, buf, pos = length.unpack_from, length.size, self.buf, self.pos
        end = len(buf)
        for _ in range(n):
            pos += step + unpack(buf, pos)[0]
            if pos > end:  # also before the next unpack_from, which takes a C ssize_t
                raise PlanError(self.where, "truncated header", "a complete GGUF header")
        self.pos = pos

    def min_size(self, vtype: int) -> int:
        """The fewest bytes a value of ``vtype`` takes."""
        if vtype in _SCALARS:
            return struct.calcsize(_SCALARS[vtype])
        count = 4 if self.version == 1 else 8
        return count if vtype == _STRING else 4 + count

    def value(self, vtype: int, depth: int = 0) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            if depth >= MAX_GGUF_ARRAY_DEPTH:
                raise PlanError(self.where, "nested arrays", f"metadata arrays nested at most {MAX_GGUF_ARRAY_DEPTH} deep")
            etype, n = self.scalar("<I"), self.count()
            if etype not in _SCALARS and etype not in (_STRING, _ARRAY):
                raise PlanError(self.where, f"value type {etype}", "a GGUF value type 0-12")
            self.need(n, self.min_size(etype))
            if n <= _KEEP_ARRAY:
                return [self.value(etype, depth + 1) for _ in range(n)]
            if etype in _SCALARS:
                self.take(n * struct.calcsize(_SCALARS[etype]))
            elif etype == _STRING:
                self.skip_strings(n)
            else:
                for _ in range(n):
                    self.value(etype, depth + 1)
            return GgufArray(etype, n)
        raise PlanError(self.where, f"value type {vtype}", "a GGUF value type 0-12")


def read_gguf_header(path: Path) -> GgufHeader:
    """Metadata and tensor infos of a GGUF file (no tensor data is read)."""
    where = f"{path.name}:header"
    fd, info = files.open_regular(path, "model")
    try:
        if info.st_size < 24:
            raise PlanError(where, "truncated header", "a complete GGUF header")
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as buf:
            return _parse_gguf(_Reader(buf, where), path.name)
    except struct.error:
        raise PlanError(where, "truncated header", "a complete GGUF header") from None
    except (OSError, ValueError) as e:  # ValueError: mmap of a file that shrank to 0 bytes
        if isinstance(e, PlanError):
            raise
        raise PlanError("model", str(path), f"a readable file ({getattr(e, 'strerror', None) or e})") from None
    finally:
        os.close(fd)


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
        if n_dims > MAX_TENSOR_DIMS:
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

"""Storage formats of one tensor: bits per element plus the scales that travel with it.

Every format is described by its block layout, and its bytes are computed from
that layout, never from a rounded "bits per weight":

* ``bits``: payload bits of one element;
* ``block``: elements sharing one set of block scales (along a row, or over the
  flattened tensor when ``flat``), ``block_bits`` the bits of those scales;
* ``super_block`` / ``super_bits``: second-level scales every ``super_block``
  blocks (bitsandbytes double quantization);
* ``row_bits``: per output row (per-channel scales), ``tensor_bits``: per tensor.

GGUF block structs are those of ggml's ``ggml-common.h`` (QK_K = 256):

========  ================================================================  =========
type      struct                                                            bytes/blk
========  ================================================================  =========
Q8_0      fp16 d + 32 x int8                                                34 / 32
Q4_0      fp16 d + 32 x 4 bit                                               18 / 32
Q4_1      fp16 d, fp16 m + 32 x 4 bit                                       20 / 32
Q5_0      fp16 d + 32 high bits (uint32) + 32 x 4 bit                       22 / 32
Q5_1      fp16 d, fp16 m + 32 high bits + 32 x 4 bit                        24 / 32
IQ4_NL    fp16 d + 32 x 4 bit (non-linear grid)                             18 / 32
Q2_K      scales[16] + qs[64] + fp16 d, dmin                                84 / 256
Q3_K      hmask[32] + qs[64] + scales[12] + fp16 d                          110 / 256
Q4_K      fp16 d, dmin + scales[12] + qs[128]                               144 / 256
Q5_K      fp16 d, dmin + scales[12] + qh[32] + qs[128]                      176 / 256
Q6_K      ql[128] + qh[64] + int8 scales[16] + fp16 d                       210 / 256
IQ4_XS    fp16 d + uint16 scales_h + scales_l[4] + qs[128]                  136 / 256
MXFP4     E8M0 e + 32 x FP4 E2M1                                            17 / 32
========  ================================================================  =========

MXFP4 is the OCP Microscaling format (MX specification v1.0): 32 FP4 (E2M1) elements share one 8-bit
power-of-two scale (E8M0).  The gpt-oss checkpoints store their routed experts that way (``*_blocks``
uint8, two elements a byte, and ``*_scales`` uint8, one per 32 along the input dimension), and ggml's
``block_mxfp4`` is the same 17 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.report.formatting import ceil_div


@dataclass(frozen=True, slots=True)
class StorageFormat:
    name: str
    bits: int  # payload bits per element
    block: int = 1  # elements per block
    block_bits: int = 0  # scale/min bits per block
    super_block: int = 0  # blocks per second-level group (0: none)
    super_bits: int = 0  # bits per second-level group
    row_bits: int = 0  # bits per output row (per-channel scales)
    tensor_bits: int = 0  # bits per tensor (per-tensor scale, double-quant offset)
    flat: bool = False  # blocks run over the flattened tensor (bitsandbytes), not along rows
    source: str = ""

    @property
    def bits_per_weight(self) -> float:
        """Nominal bits per element of a large tensor (row and tensor scales excluded)."""
        per = self.bits + self.block_bits / self.block
        if self.super_block:
            per += self.super_bits / (self.block * self.super_block)
        return per

    def tensor_bytes(self, rows: int, cols: int) -> int:
        """Bytes of a ``rows x cols`` tensor (``cols`` is the input dimension, along which blocks run)."""
        if rows <= 0 or cols <= 0:
            return 0
        elements = rows * cols
        blocks = ceil_div(elements, self.block) if self.flat else rows * ceil_div(cols, self.block)
        total = elements * self.bits + blocks * self.block_bits + rows * self.row_bits + self.tensor_bits
        if self.super_block:
            total += ceil_div(blocks, self.super_block) * self.super_bits
        return ceil_div(total, 8)

    def describe(self) -> str:
        parts = [f"{self.bits} bit"]
        if self.block_bits:
            parts.append(f"+ {self.block_bits} bit per {self.block}-element block")
        if self.super_bits:
            parts.append(f"+ {self.super_bits} bit per {self.super_block} blocks")
        if self.row_bits:
            parts.append(f"+ {self.row_bits} bit per row")
        if self.tensor_bits:
            parts.append(f"+ {self.tensor_bits} bit per tensor")
        return f"{self.name} ({' '.join(parts)} = {self.bits_per_weight:.4g} bpw)"


_GGML = "ggml-common.h block struct"

F32 = StorageFormat("F32", 32)
F16 = StorageFormat("F16", 16)
BF16 = StorageFormat("BF16", 16)
# FP8 E4M3 with one fp32 scale per tensor (vLLM --quantization fp8) or per output channel
# (llm-compressor FP8 "channel" strategy: fp32 weight_scale of shape [out, 1]).
FP8_TENSOR = StorageFormat("FP8-E4M3", 8, tensor_bits=32, source="vLLM fp8: one fp32 weight_scale per tensor")
FP8_CHANNEL = StorageFormat("FP8-E4M3-channel", 8, row_bits=32, source="compressed-tensors channel strategy")
# Weight-only int8 (TensorRT-LLM / vLLM W8A16): one fp16 scale per output channel.
INT8_WEIGHT_ONLY = StorageFormat("INT8", 8, row_bits=16, source="TensorRT-LLM weight-only int8, per-channel fp16 scale")
# bitsandbytes LLM.int8 (Dettmers et al. 2022): int8 CB plus an fp32 SCB absmax per row.
LLM_INT8 = StorageFormat("LLM.int8", 8, row_bits=32, source="bitsandbytes Int8Params: CB int8 + SCB fp32 per row")


def gptq_int4(group: int) -> StorageFormat:
    """GPTQ / AWQ int4: per group of ``group`` input elements one fp16 scale and one packed 4-bit zero.

    AutoGPTQ / AutoAWQ checkpoints: ``qweight`` (8 x 4 bit per int32), ``scales``
    fp16 [in/g, out], ``qzeros`` 4 bit packed [in/g, out/8].  ``g_idx`` (one
    int32 per input row, GPTQ act-order) is below 0.01 bpw and not counted.
    """
    return StorageFormat(f"INT4-g{group}", 4, block=group, block_bits=16 + 4, source="AutoGPTQ/AutoAWQ packing")


def bnb_4bit(name: str, double_quant: bool) -> StorageFormat:
    """bitsandbytes NF4 / FP4: 4-bit codes in blocks of 64 over the flattened tensor.

    Without double quantization each block has an fp32 absmax (32/64 = 0.5 bpw).
    With it (QLoRA, Dettmers et al. 2023, sec. 3) the absmax are 8-bit, with one
    fp32 constant per 256 blocks: 8/64 + 32/(64 * 256) = 0.127 bpw, plus one fp32
    offset for the tensor.
    """
    if double_quant:
        return StorageFormat(f"{name}+DQ", 4, block=64, block_bits=8, super_block=256, super_bits=32,
                             tensor_bits=32, flat=True, source="QLoRA paper, double quantization")
    return StorageFormat(name, 4, block=64, block_bits=32, flat=True, source="bitsandbytes blocksize 64")


Q8_0 = StorageFormat("Q8_0", 8, block=32, block_bits=16, source=_GGML)
Q4_0 = StorageFormat("Q4_0", 4, block=32, block_bits=16, source=_GGML)
Q4_1 = StorageFormat("Q4_1", 4, block=32, block_bits=32, source=_GGML)
Q5_0 = StorageFormat("Q5_0", 5, block=32, block_bits=16, source=_GGML)
Q5_1 = StorageFormat("Q5_1", 5, block=32, block_bits=32, source=_GGML)
IQ4_NL = StorageFormat("IQ4_NL", 4, block=32, block_bits=16, source=_GGML)
Q2_K = StorageFormat("Q2_K", 2, block=256, block_bits=160, source=_GGML)  # 84 B = 64 B codes + 20 B scales
Q3_K = StorageFormat("Q3_K", 3, block=256, block_bits=112, source=_GGML)  # 110 B = 96 B codes + 14 B
Q4_K = StorageFormat("Q4_K", 4, block=256, block_bits=128, source=_GGML)  # 144 B = 128 B codes + 16 B
Q5_K = StorageFormat("Q5_K", 5, block=256, block_bits=128, source=_GGML)  # 176 B = 160 B codes + 16 B
Q6_K = StorageFormat("Q6_K", 6, block=256, block_bits=144, source=_GGML)  # 210 B = 192 B codes + 18 B
IQ4_XS = StorageFormat("IQ4_XS", 4, block=256, block_bits=64, source=_GGML)  # 136 B = 128 B codes + 8 B
MXFP4 = StorageFormat("MXFP4", 4, block=32, block_bits=8, source="OCP MX v1.0; ggml block_mxfp4 (17 B / 32)")

# llama-quant.cpp: a tensor whose row length is not a multiple of the block size
# falls back to a 32-element type (and to F16 when even that does not divide).
GGUF_FALLBACK = {"Q2_K": IQ4_NL, "Q3_K": IQ4_NL, "IQ4_XS": IQ4_NL, "Q4_K": Q5_0, "Q5_K": Q5_1, "Q6_K": Q8_0}


def gguf_fit(fmt: StorageFormat, cols: int) -> StorageFormat:
    """The type llama.cpp really stores for a row of ``cols`` elements."""
    if fmt.block <= 1 or cols % fmt.block == 0:
        return fmt
    fallback = GGUF_FALLBACK.get(fmt.name)
    if fallback is not None and cols % fallback.block == 0:
        return fallback
    return F16


# KV cache element formats (llama.cpp --cache-type-k/v; vLLM --kv-cache-dtype).
KV_FORMATS = {
    "fp32": F32, "fp16": F16, "bf16": BF16,
    "fp8": StorageFormat("FP8", 8), "fp8_e4m3": StorageFormat("FP8-E4M3", 8), "fp8_e5m2": StorageFormat("FP8-E5M2", 8),
    "q8_0": Q8_0, "q4_0": Q4_0,
}

"""The frozen base of LoRA / QLoRA: its storage format and what a 4-bit matrix takes dequantized."""

from __future__ import annotations

import dataclasses

from engine.finetune.config import FinetuneConfig
from engine.weights.quant import QuantScheme, find_scheme

DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}


def base_scheme(cfg: FinetuneConfig) -> QuantScheme:
    """QLoRA: bitsandbytes' 4-bit linear layers.  PEFT loads through transformers, which keeps ``lm_head``
    in 16 bit; LitGPT's Fabric ``BitsandbytesPrecision`` (no ``ignore_modules``) replaces every
    ``nn.Linear``, ``lm_head`` included (lightning/fabric/plugins/precision/bitsandbytes.py)."""
    if cfg.method == "qlora":
        scheme = find_scheme(cfg.quant, 128, cfg.double_quant)
        return dataclasses.replace(scheme, quantize_output=True) if cfg.framework == "litgpt" else scheme
    return find_scheme(cfg.base_dtype)


def dequantized_element(cfg: FinetuneConfig) -> tuple[int, str]:
    """Bytes per element of a 4-bit matrix while ``MatMul4Bit`` uses it dequantized.

    ``dequantize_4bit`` writes the dtype the weight was quantized from and ``MatMul4Bit`` casts it to its
    input's dtype (``.to(A.dtype)``, bitsandbytes/autograd/_functions.py).  transformers quantizes the
    loaded bf16 weight, so PEFT's is one bf16 buffer; Fabric's ``_Linear4bit`` quantizes a ``half()``
    copy (lightning/fabric/plugins/precision/bitsandbytes.py), so under LitGPT the fp16 buffer and its
    copy in the compute dtype are alive together (one buffer when computing in fp16).
    """
    if cfg.framework == "litgpt":
        compute = DTYPE_BYTES[cfg.base_dtype]
        if cfg.base_dtype == "fp16":
            return 2, "2 B (fp16 dequantize_4bit output)"
        return 2 + compute, f"(2 + {compute}) B (fp16 dequantize_4bit output + its {cfg.base_dtype} copy)"
    return 2, "2 B (bf16 dequantize_4bit output)"

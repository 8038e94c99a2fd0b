"""Quantization schemes: which storage format each tensor of a model gets.

A scheme is what users download or pass to their runtime (``bf16``, ``int4-awq``,
``nf4``, ``Q4_K_M`` ...).  It maps every tensor to a
:class:`~engine.weights.formats.StorageFormat`:

* Hugging Face style schemes (fp8, int8, LLM.int8, GPTQ, AWQ, bitsandbytes)
  quantize the linear layers of the transformer blocks only; the embeddings,
  the output layer (``lm_head``, in every library's skip list), the norms,
  biases and the MoE router stay in 16 bit.
* GGUF schemes follow llama.cpp's ``llama_tensor_get_type`` (src/llama-quant.cpp):
  1-D tensors (norms, biases) and the MoE router stay F32; the output layer
  becomes Q6_K (Q8_0 stays Q8_0); the token embedding keeps the base type; the
  ``_M`` / ``_S`` mixes give ``attn_v`` and ``ffn_down`` more bits on some layers
  (``use_more_bits``: the first and last eighth and every third layer between);
  rows whose length is not a multiple of the block size fall back
  (:data:`~engine.weights.formats.GGUF_FALLBACK`).
* MXFP4 schemes quantize a MoE model's routed experts alone (:attr:`QuantScheme.experts`): ``mxfp4`` is the
  gpt-oss release (its ``quantization_config`` keeps attention, router, embeddings and ``lm_head`` in bf16,
  and vLLM's ``Mxfp4Config`` gives every linear layer the unquantized method, only ``FusedMoE`` layers
  MXFP4); ``MXFP4_MOE`` is llama.cpp's file type 38 (``llama_tensor_get_type``: 3-D expert tensors MXFP4,
  every other quantized tensor and the output layer Q8_0, the ggml-org gpt-oss GGUFs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from engine.errors import PlanError
from engine.model.spec import ModelSpec
from engine.report.formatting import ceil_to
from engine.weights import formats as f
from engine.weights.formats import StorageFormat
from engine.weights.tensors import Tensor

_HF_KEEP = ("embedding", "position", "output", "norm", "bias", "router")


@dataclass(frozen=True, slots=True)
class QuantScheme:
    name: str
    family: str  # "float", "hf" (linear layers only) or "gguf"
    base: StorageFormat
    high: StorageFormat  # format of the tensors the scheme keeps in higher precision
    description: str
    # Hugging Face module-name fragments the checkpoint keeps unquantized (quantization_config
    # ``modules_to_not_convert`` / ``ignore``): a linear layer whose dotted name contains one stays in
    # ``high``, as transformers' replace_with_*_linear helpers test ``key in current_key_name``.
    keep_modules: tuple[str, ...] = ()
    # the output layer (lm_head) in ``base`` too: a loader that replaces every linear layer (LitGPT's Fabric)
    quantize_output: bool = False
    # the routed experts' matrices in this format, whatever ``base`` gives the rest (MXFP4 releases)
    experts: StorageFormat | None = None
    # a runtime's padding of each expert matrix: (multiple of the expert FFN width per TP rank, multiple of the
    # hidden size); vLLM's MXFP4 MoE kernels pad (engine.serving.vllm_mxfp4)
    expert_pad: tuple[int, int] = (1, 1)

    @property
    def bits_per_weight(self) -> float:
        """Nominal bits of the format that names the scheme (the experts' for an MXFP4 scheme)."""
        return (self.experts or self.base).bits_per_weight


def _float(name: str, fmt: StorageFormat) -> QuantScheme:
    return QuantScheme(name, "float", fmt, fmt, f"every tensor {fmt.name}")


def _hf(name: str, fmt: StorageFormat, text: str) -> QuantScheme:
    return QuantScheme(name, "hf", fmt, f.BF16, f"linear layers {fmt.describe()}; embeddings, lm_head, norms bf16. {text}")


def _gguf(name: str, fmt: StorageFormat, text: str) -> QuantScheme:
    return QuantScheme(name, "gguf", fmt, f.F32, f"llama.cpp {name}: base {fmt.describe()}; {text}")


def _schemes(group: int, double_quant: bool) -> dict[str, QuantScheme]:
    nf4, fp4 = f.bnb_4bit("NF4", double_quant), f.bnb_4bit("FP4", double_quant)
    gptq = f.gptq_int4(group)
    out = [
        _float("fp32", f.F32), _float("fp16", f.F16), _float("bf16", f.BF16),
        _hf("fp8", f.FP8_TENSOR, "vLLM --quantization fp8"),
        _hf("fp8-channel", f.FP8_CHANNEL, "per-output-channel fp32 scales"),
        _hf("int8", f.INT8_WEIGHT_ONLY, "weight-only int8 (W8A16)"),
        _hf("llm-int8", f.LLM_INT8, "bitsandbytes load_in_8bit"),
        _hf("int4-gptq", gptq, f"GPTQ group size {group}"),
        _hf("int4-awq", gptq, f"AWQ group size {group}"),
        _hf("nf4", nf4, "bitsandbytes load_in_4bit" + (" with double quant" if double_quant else "")),
        _hf("fp4", fp4, "bitsandbytes FP4" + (" with double quant" if double_quant else "")),
        _gguf("Q8_0", f.Q8_0, "output Q8_0"),
        _gguf("Q6_K", f.Q6_K, "output Q6_K"),
        _gguf("Q5_K_M", f.Q5_K, "output Q6_K; attn_v, ffn_down Q6_K on use_more_bits layers"),
        _gguf("Q5_K_S", f.Q5_K, "output Q6_K"),
        _gguf("Q5_1", f.Q5_1, "output Q6_K"),
        _gguf("Q5_0", f.Q5_0, "output Q6_K"),
        _gguf("Q4_K_M", f.Q4_K, "output Q6_K; attn_v, ffn_down Q6_K on use_more_bits layers"),
        _gguf("Q4_K_S", f.Q4_K, "output Q6_K; attn_v Q5_K on the first 4 layers, ffn_down Q5_K on the first eighth"),
        _gguf("Q4_1", f.Q4_1, "output Q6_K"),
        _gguf("Q4_0", f.Q4_0, "output Q6_K"),
        _gguf("IQ4_XS", f.IQ4_XS, "output Q6_K; attn_v Q5_K with GQA >= 4; ffn_down Q5_K on the first eighth"),
        _gguf("IQ4_NL", f.IQ4_NL, "output Q6_K; attn_v Q5_K with GQA >= 4; ffn_down Q5_K on the first eighth"),
        _gguf("Q3_K_M", f.Q3_K, "output Q6_K; attn_v Q5_K (2 layers) / Q4_K; attn_output Q4_K; ffn_down Q5_K / Q4_K"),
        _gguf("Q2_K", f.Q2_K, "output Q6_K; attn_v Q4_K (GQA >= 4) or Q3_K; attn_output, ffn_down Q3_K"),
        QuantScheme("mxfp4", "hf", f.BF16, f.BF16, f"routed experts {f.MXFP4.describe()}; every other tensor bf16 "
                    "(the gpt-oss release)", experts=f.MXFP4),
        QuantScheme("MXFP4_MOE", "gguf", f.Q8_0, f.F32, f"llama.cpp MXFP4_MOE: routed experts {f.MXFP4.describe()}; "
                    "other matrices and the output Q8_0; norms, biases, router F32", experts=f.MXFP4),
    ]
    return {s.name.lower(): s for s in out}


ALIASES = {"f32": "fp32", "f16": "fp16", "half": "fp16", "fp8-e4m3": "fp8", "fp8_e4m3": "fp8", "w8a16": "int8",
           "int8-weight-only": "int8", "bnb-int8": "llm-int8", "load_in_8bit": "llm-int8", "gptq": "int4-gptq",
           "awq": "int4-awq", "bnb-nf4": "nf4", "qlora": "nf4", "bnb-fp4": "fp4", "mxfp4-moe": "mxfp4_moe"}
SCHEME_NAMES = tuple(s.name for s in _schemes(128, True).values())


@lru_cache(maxsize=1024)  # bounded: a long GUI session or a soak run must not grow it
def find_scheme(name: str, group: int = 128, double_quant: bool = True,
                keep_modules: tuple[str, ...] = ()) -> QuantScheme:
    key = name.strip().lower().replace(" ", "")
    key = ALIASES.get(key, key)
    hit = _schemes(group, double_quant).get(key)
    if hit is None:
        raise PlanError("serving.quant", name, "one of " + ", ".join(SCHEME_NAMES))
    if keep_modules and hit.family == "hf":
        kept = ", ".join(keep_modules[:4]) + (" …" if len(keep_modules) > 4 else "")
        return replace(hit, keep_modules=keep_modules, description=f"{hit.description} Kept in 16 bit: {kept}.")
    return hit


_SUBMODULE = {"attn_q": "self_attn", "attn_k": "self_attn", "attn_v": "self_attn", "attn_output": "self_attn",
              "attn_latent": "self_attn", "ffn_gate": "mlp", "ffn_up": "mlp", "ffn_down": "mlp"}


def hf_module_name(t: Tensor) -> str:
    """The tensor's Hugging Face module name (``model.layers.3.self_attn.q_proj``), for keep lists."""
    if t.layer is None:
        return {"embedding": "model.embed_tokens", "output": "lm_head", "position": "model.embed_positions"}.get(
            t.cls, f"model.{t.name}")
    return f"model.layers.{t.layer}.{_SUBMODULE.get(t.cls, 'mlp')}.{t.name}"


def _kept(scheme: QuantScheme, t: Tensor) -> bool:
    if not scheme.keep_modules:
        return False
    name = hf_module_name(t)
    return any(fragment in name for fragment in scheme.keep_modules)


def _use_more_bits(i: int, n: int) -> bool:
    """llama-quant.cpp ``use_more_bits``: first and last eighth, and every third layer between."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def _gguf_layer_type(s: QuantScheme, t: Tensor, spec: ModelSpec) -> StorageFormat:
    i, n = t.layer or 0, spec.layers
    gqa = spec.heads // spec.kv_heads_
    name = s.name
    if t.cls == "attn_v":
        if spec.moe is not None and spec.moe.experts == 8:
            return f.Q8_0
        rules = {
            "Q2_K": f.Q4_K if gqa >= 4 else f.Q3_K,
            "Q3_K_M": f.Q5_K if i < 2 else f.Q4_K,
            "IQ4_XS": f.Q5_K if gqa >= 4 else s.base,
            "IQ4_NL": f.Q5_K if gqa >= 4 else s.base,
            "Q4_K_M": f.Q6_K if _use_more_bits(i, n) else s.base,
            "Q5_K_M": f.Q6_K if _use_more_bits(i, n) else s.base,
            "Q4_K_S": f.Q5_K if i < 4 else s.base,
        }
        return rules.get(name, s.base)
    if t.cls == "ffn_down":
        rules = {
            "Q2_K": f.Q3_K,
            "Q3_K_M": f.Q5_K if i < n // 16 else f.Q4_K,
            "Q4_K_M": f.Q6_K if _use_more_bits(i, n) else s.base,
            "Q5_K_M": f.Q6_K if _use_more_bits(i, n) else s.base,
            "IQ4_XS": f.Q5_K if i < n // 8 else s.base,
            "IQ4_NL": f.Q5_K if i < n // 8 else s.base,
            "Q4_K_S": f.Q5_K if i < n // 8 else s.base,
        }
        return rules.get(name, s.base)
    if t.cls == "attn_output" and not (spec.moe is not None and spec.moe.experts == 8):
        return {"Q2_K": f.Q3_K, "Q3_K_M": f.Q4_K}.get(name, s.base)
    return s.base


def tensor_format(scheme: QuantScheme, t: Tensor, spec: ModelSpec, cols: int | None = None) -> StorageFormat:
    """The storage format of tensor ``t`` under ``scheme`` (``cols``: row length actually stored)."""
    if scheme.experts is not None and t.is_routed_expert and t.is_matrix:
        return f.gguf_fit(scheme.experts, t.cols if cols is None else cols) if scheme.family == "gguf" \
            else scheme.experts
    if scheme.family == "float":
        return scheme.base
    if scheme.family == "hf":
        if t.cls == "output" and scheme.quantize_output:
            return scheme.base
        return scheme.high if (t.cls in _HF_KEEP or not t.is_matrix or _kept(scheme, t)) else scheme.base
    # GGUF
    if t.cls in ("norm", "bias", "router") or not t.is_matrix:
        return f.F32
    if t.cls == "position":
        return f.F16
    if t.cls == "output" or (t.cls == "embedding" and spec.tied_embeddings):
        fmt = scheme.base if scheme.base is f.Q8_0 else f.Q6_K
    elif t.cls == "embedding":
        fmt = scheme.base
    else:
        fmt = _gguf_layer_type(scheme, t, spec)
    return f.gguf_fit(fmt, t.cols if cols is None else cols)


def _padded(scheme: QuantScheme, t: Tensor, rows: int, cols: int) -> tuple[int, int]:
    """A routed-expert matrix's shard as the runtime stores it, padded to ``scheme.expert_pad``."""
    if scheme.expert_pad == (1, 1) or not (t.is_routed_expert and t.is_matrix):
        return rows, cols
    ffn, hidden = scheme.expert_pad
    if t.cls == "ffn_down":  # hidden x ffn
        return ceil_to(rows, hidden), ceil_to(cols, ffn)
    return ceil_to(rows, ffn), ceil_to(cols, hidden)  # gate / up: ffn x hidden


def tensor_bytes(scheme: QuantScheme, t: Tensor, spec: ModelSpec, tp: int = 1) -> int:
    """Bytes of tensor ``t`` (all ``count`` copies) on one of ``tp`` ranks."""
    rows, cols = _padded(scheme, t, *t.shard(tp))
    fmt = tensor_format(scheme, t, spec, t.cols)
    if t.rows == 1:  # a vector: stored as one row of its (shard) length
        return t.count * fmt.tensor_bytes(1, cols if t.split == "replicated" else -(-t.cols // tp))
    return t.count * fmt.tensor_bytes(rows, cols)

"""KV cache bytes: per token, per layer, per card.

Per token and layer a standard attention layer caches K and V:
``2 * kv_heads * head_dim`` elements (MHA: kv_heads = heads; GQA: fewer; MQA:
one).  Tensor parallelism splits the KV heads over the TP ranks.  DeepSeek's
MLA caches the compressed latent plus the shared rope key instead,
``kv_lora_rank + qk_rope_head_dim`` elements (576 for DeepSeek-V3), once per
layer: vLLM's MLA backends keep that latent whole on every TP rank.

Element formats: fp16/bf16 (2 B), fp8 (1 B), and llama.cpp's block types q8_0
(34 B per 32 elements) and q4_0 (18 B per 32), blocked along each token's row
(``n_embd_k_gqa`` elements), as ``ggml_row_size`` stores the cache.

A sliding-window layer keeps at most ``window`` tokens.  With
``sliding_window_layers`` = n_s < layers, the window layers are spread evenly:
layer i uses the window when ``floor((i+1) n_s / L) > floor(i n_s / L)``.
vLLM's paged allocation rounds each sequence up to whole blocks of
``block_size`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import PlanError
from engine.model.spec import ModelSpec
from engine.report.formatting import ceil_div
from engine.weights.formats import KV_FORMATS, StorageFormat


def kv_format(dtype: str) -> StorageFormat:
    fmt = KV_FORMATS.get(dtype.lower())
    if fmt is None:
        raise PlanError("serving.kv_dtype", dtype, "one of " + ", ".join(KV_FORMATS))
    return fmt


def is_sliding(spec: ModelSpec, layer: int) -> bool:
    if spec.sliding_window is None:
        return False
    n_s = spec.layers if spec.sliding_window_layers is None else min(spec.sliding_window_layers, spec.layers)
    return (layer + 1) * n_s // spec.layers > layer * n_s // spec.layers


def layer_bytes_per_token(spec: ModelSpec, fmt: StorageFormat, tp: int = 1) -> int:
    """KV bytes one token adds to one layer on one of ``tp`` ranks."""
    if spec.mla is not None:
        return fmt.tensor_bytes(1, spec.mla.kv_lora_rank + spec.mla.qk_rope_head_dim)
    row = ceil_div(spec.kv_heads_, tp) * spec.head_dim_
    return 2 * fmt.tensor_bytes(1, row)  # one row for K, one for V


def layer_formula(spec: ModelSpec, fmt: StorageFormat, tp: int = 1) -> str:
    if spec.mla is not None:
        m = spec.mla
        return f"MLA latent (kv_lora {m.kv_lora_rank} + rope {m.qk_rope_head_dim}) × {fmt.name}"
    split = f"/{tp}" if tp > 1 else ""
    return f"2 × {spec.kv_heads_}{split} kv_heads × head_dim {spec.head_dim_} × {fmt.name}"


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """How a runtime sizes a sliding-window layer's cache for one sequence of ``context`` tokens.

    Default (vLLM, transformers, TensorRT-LLM): the window itself, ``min(context, window)``.
    llama.cpp: ``extra`` = n_ubatch cells beyond the window, padded to ``pad`` = 256 cells;
    ``full`` (``--swa-full``): the whole context.
    """

    extra: int = 0
    pad: int = 1
    full: bool = False

    def tokens(self, context: int, window: int) -> int:
        if self.full:
            return context
        return ceil_div(min(context, window + self.extra), self.pad) * self.pad


WINDOW_ONLY = WindowPolicy()
LLAMACPP_SWA_PAD = 256  # llama-kv-cache-iswa.cpp: "the SWA cache is always padded to 256"


def tokens_held(spec: ModelSpec, layer: int, context: int, block: int | None,
                policy: WindowPolicy = WINDOW_ONLY) -> int:
    """Tokens of one sequence that ``layer`` caches at ``context`` (paged: whole blocks)."""
    window = spec.sliding_window
    tokens = policy.tokens(context, window) if window is not None and is_sliding(spec, layer) else context
    if block:
        tokens = ceil_div(tokens, block) * block
    return tokens


@dataclass(frozen=True, slots=True)
class KvUse:
    bytes: int
    bytes_per_token: int  # full-attention bytes per context token on this card (no window cap)
    formula: str
    window_bytes: int = 0  # the part held by sliding-window layers


def layer_tokens(spec: ModelSpec, layers: tuple[int, ...], context: int, block: int | None,
                 policy: WindowPolicy = WINDOW_ONLY) -> int:
    """Tokens all ``layers`` hold together for one sequence of ``context`` tokens."""
    if spec.sliding_window is None:
        return len(layers) * tokens_held(spec, 0, context, block)
    return sum(tokens_held(spec, i, context, block, policy) for i in layers)


def kv_bytes(spec: ModelSpec, layers: tuple[int, ...], fmt: StorageFormat, tp: int,
             context: int, batch: int, block: int | None, policy: WindowPolicy = WINDOW_ONLY) -> int:
    """KV bytes of ``batch`` sequences of ``context`` tokens for ``layers`` on one TP rank."""
    return batch * layer_bytes_per_token(spec, fmt, tp) * layer_tokens(spec, layers, context, block, policy)


def kv_use(spec: ModelSpec, layers: tuple[int, ...], fmt: StorageFormat, tp: int,
           context: int, batch: int, block: int | None, policy: WindowPolicy = WINDOW_ONLY) -> KvUse:
    """:func:`kv_bytes` with its formula, and the share of the window layers."""
    per_layer = layer_bytes_per_token(spec, fmt, tp)
    held = layer_tokens(spec, layers, context, block, policy)
    total = batch * per_layer * held
    sliding = tuple(i for i in layers if is_sliding(spec, i))
    window_bytes = batch * per_layer * layer_tokens(spec, sliding, context, block, policy) if sliding else 0
    paged = f", paged in blocks of {block}" if block else ""
    cap = ""
    if sliding:
        cells = tokens_held(spec, sliding[0], context, None, policy)
        how = ("the whole context (full-size SWA cache)" if policy.full else
               f"window {spec.sliding_window} + ubatch {policy.extra}, padded to {policy.pad}" if policy.extra
               else f"window {spec.sliding_window}")
        cap = f", {len(sliding)} window layers hold {cells:,} ({how})"
    text = (f"{per_layer:,} B/token/layer ({layer_formula(spec, fmt, tp)}) × {held:,} layer-tokens "
            f"({len(layers)} layers × {context:,} tokens{cap}{paged}) × batch {batch} = {total:,} B")
    return KvUse(total, per_layer * len(layers), text, window_bytes)


def model_bytes_per_token(spec: ModelSpec, fmt: StorageFormat) -> int:
    """KV bytes per token for the whole model (all layers, no TP split, no window cap)."""
    return spec.layers * layer_bytes_per_token(spec, fmt, 1)

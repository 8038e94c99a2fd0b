"""The loss over the logits of one micro-batch, as each fine-tuning framework computes it."""

from __future__ import annotations

import dataclasses

from engine.finetune.base_format import DTYPE_BYTES, base_scheme, dequantized_element
from engine.finetune.config import FinetuneConfig
from engine.model.spec import ModelSpec
from engine.report.formatting import n
from engine.training.memory.huggingface import causal_lm_loss_instants, causal_lm_loss_terms

LITGPT_LM_HEAD_CHUNK = 128  # LitGPT's lm_head_chunk_size / chunked_cross_entropy chunk (tokens)


def loss_bytes(cfg: FinetuneConfig, vocab: int, version: str | None = None, model_output: int = 0) -> tuple[int, str]:
    """The loss over the logits of one micro-batch.

    PEFT on transformers: ``ForCausalLMLoss`` as the Trainer runs it
    (:func:`engine.training.memory.huggingface.causal_lm_loss_bytes`): the cross-entropy's backward,
    12 B per vocabulary entry and token; transformers 4.46 to 4.48 (``version``) also copy the shifted
    fp32 logits, and the forward's bf16 logits, fp32 upcast, shifted copy and log-softmax, 14 B, are the
    higher instant (``transformers/loss/loss_utils.py``).  The causal-LM forward computes the loss while
    its ``outputs`` still bind the model's last hidden state, the final norm's output (``model_output``
    bytes; a frozen ``lm_head`` saves nothing of it, so only that reference keeps it): it counts beside
    the forward's instant, and is gone at the backward (``compute_loss`` has returned the loss alone).

    LitGPT computes the lm_head in chunks of 128 tokens (``finetune/lora.py``: ``logits = model(...,
    lm_head_chunk_size=128)``), and Fabric hands the chunks back in fp32: ``_FabricModule.forward`` ends
    with ``precision.convert_output``, which for ``bf16-true`` / ``16-true`` (``HalfPrecision``) and
    ``BitsandbytesPrecision`` casts every floating output to the default dtype, fp32
    (lightning/fabric/plugins/precision/half.py).  The training loop keeps that list of fp32 chunks
    (4 B) through backward; ``chunked_cross_entropy`` (``litgpt/utils.py``) runs
    ``cross_entropy(reduction="none")`` on each, whose fp32 ``log_softmax`` output (4 B) autograd keeps
    for every chunk until backward, with the int64 targets (8 B per token).  Backward then works one
    chunk at a time: the log-softmax gradient and the logits gradient of 128 tokens (2 × 4 B).
    Measured on the CPU: tests/fidelity, ``test_litgpt_fabric_loss_peak``.
    """
    tokens = cfg.seq * cfg.micro_batch
    if cfg.framework == "litgpt":
        chunk = min(tokens, LITGPT_LM_HEAD_CHUNK)
        bytes_ = (4 + 4) * tokens * vocab + 8 * tokens + (4 + 4) * chunk * vocab
        return bytes_, (f"fp32 logit chunks (Fabric's convert_output) 4 B + their fp32 log-softmax 4 B × {n(tokens)}"
                         f" tokens × V {n(vocab)} + int64 targets 8 B × {n(tokens)} + one {chunk}-token chunk's fp32"
                         f" gradients (4 + 4) B × {chunk} × V = {n(bytes_)} B")
    e = 4 if cfg.base_dtype == "fp32" else 2
    forward_per, backward_per = causal_lm_loss_instants(e, version)
    forward = forward_per * tokens * vocab + model_output
    backward = backward_per * tokens * vocab
    if forward > backward:
        held = f" + the model output (final norm's) {n(model_output)} B" if model_output else ""
        parts = causal_lm_loss_terms(e, version)
        return forward, (f"the loss's forward (transformers {version or 'current'}): ({parts}) B × {n(tokens)} tokens"
                         f" × V {n(vocab)}{held} = {n(forward)} B")
    return backward, ("the loss's backward: (4 log-softmax + 4 nll gradient + 4 log-softmax gradient) B × "
                      f"{n(tokens)} tokens × V {n(vocab)} = {n(backward)} B (the forward's {n(forward)} B is not more)")


@dataclasses.dataclass(frozen=True, slots=True)
class ForwardEnd:
    """LitGPT: the logits end of a micro-batch's forward while the previous micro-batch's logits are still bound."""

    logits: int  # logit bytes alive then, the previous micro-batch's fp32 chunks included
    transient: int  # the 4-bit lm_head dequantized, when its last chunk is the higher instant; else 0
    held: int  # the previous micro-batch's fp32 chunks alone
    text: str


def litgpt_forward_end(cfg: FinetuneConfig, spec: ModelSpec) -> ForwardEnd:
    """The highest instant of the logits end of a LitGPT forward, with the previous micro-batch's logits.

    The loop's ``logits`` (``logits = model(...)``, litgpt/finetune/lora.py) still holds the previous
    micro-batch's fp32 chunks (4 B per token and vocabulary entry) until the forward returns.  Before it
    returns, either
    * the last chunk goes through the lm_head while every earlier chunk's 16-bit output is kept (e B); a
      4-bit lm_head is dequantized whole for each chunk (``MatMul4Bit``: the fp16 ``dequantize_4bit`` output
      and its copy in the compute dtype, :func:`dequantized_element`), or
    * ``_FabricModule.forward`` builds the fp32 list with ``convert_output`` while the 16-bit list is still
      referenced (e + 4 B; 4 B when computing in fp32, where nothing is converted).
    """
    tokens, vocab = cfg.seq * cfg.micro_batch, spec.vocab or 0
    e = DTYPE_BYTES[cfg.base_dtype]
    held = 4 * tokens * vocab
    converting = (4 if e == 4 else e + 4) * tokens * vocab
    quantized_head = cfg.method == "qlora" and base_scheme(cfg).quantize_output
    element, element_text = dequantized_element(cfg)
    head = element * vocab * spec.hidden if quantized_head else 0
    chunks = e * tokens * vocab
    previous = f"the previous micro-batch's fp32 chunks 4 B × {n(tokens)} × V {n(vocab)} = {n(held)} B"
    if head and chunks + head > converting:
        return ForwardEnd(chunks + held, head, held, (
            f"the last chunk through the 4-bit lm_head: the {cfg.base_dtype} chunks {e} B × {n(tokens)} tokens × V "
            f"{n(vocab)} and the lm_head dequantized {element_text} × {n(vocab * spec.hidden)} = {n(head)} B, with "
            f"{previous}"))
    converted = "fp32 chunks 4 B" if e == 4 else f"{cfg.base_dtype} chunks {e} B + their fp32 copies 4 B"
    return ForwardEnd(converting + held, 0, held, (
        f"{converted} (convert_output) × {n(tokens)} tokens × V {n(vocab)}, with {previous}"))


def output_backward_bytes(cfg: FinetuneConfig, spec: ModelSpec) -> tuple[int, str]:
    """LitGPT QLoRA: the backward through the 4-bit lm_head, right after the loss's backward.

    Each logit chunk's backward dequantizes the whole lm_head (``MatMul4Bit``), while the fp32 logit
    chunks (4 B) and their gradients, cast back to bf16 for the lm_head (2 B), are alive.
    """
    if not (cfg.method == "qlora" and base_scheme(cfg).quantize_output and spec.vocab):
        return 0, ""
    tokens = cfg.seq * cfg.micro_batch
    element, element_text = dequantized_element(cfg)
    size = spec.vocab * spec.hidden
    bytes_ = (4 + 2) * tokens * spec.vocab + 8 * tokens + element * size
    return bytes_, (f"backward through the 4-bit lm_head: fp32 logit chunks 4 B + their bf16 gradients 2 B"
                    f" × {n(tokens)} tokens × V {n(spec.vocab)} + int64 targets 8 B × {n(tokens)} + the lm_head"
                    f" dequantized {element_text} × {n(size)} = {n(bytes_)} B")

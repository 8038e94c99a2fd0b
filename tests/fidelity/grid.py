"""Measured vs predicted, one row per configuration; the fast CI subset and the full grid."""

from __future__ import annotations

import contextlib
import functools
import itertools
from dataclasses import dataclass

import torch

from engine.finetune.litgpt_block import litgpt_layer_activations
from engine.model.spec import MoESpec
from engine.serving.kv_cache import kv_format, kv_use
from fidelity import ends, layers, litgpt, states
from fidelity.layers import Shape
from fidelity.meter import peak_allocated_bytes, saved_bytes
from fidelity.predict import breakdown, gpt_spec, llama_spec, predicted_layer_bytes

VOCAB = 1000
MOE = {"experts": 4, "top_k": 2}


@dataclass(frozen=True)
class Case:
    kind: str  # which measurement (see MEASURES)
    shape: Shape

    @property
    def label(self) -> str:
        sh = self.shape
        kv = f" kv={sh.g}" if sh.g != sh.a else ""
        drop = f" p={sh.dropout}" if sh.dropout else ""
        return f"{self.kind} s={sh.s} b={sh.b} h={sh.h} a={sh.a}{kv} f={sh.ffn}{drop}"


@dataclass(frozen=True)
class Row:
    case: Case
    measured: int
    predicted: int

    @property
    def error(self) -> float:
        """(predicted - measured) / measured: positive when the engine over-estimates."""
        return (self.predicted - self.measured) / self.measured


def _saved(fn, exclude) -> int:
    with saved_bytes(exclude=exclude) as m:
        out = fn()
    del out
    return m.total


def _gpt(sh: Shape, sdpa: bool) -> Row:
    p, x, mask = layers.gpt_params(sh), layers.layer_input(sh), layers.causal_bool_mask(sh.s)
    measured = _saved(lambda: layers.gpt_layer(x, p, sh, sdpa=sdpa, mask=mask), [*p.values(), mask])
    return Row(Case("gpt-sdpa" if sdpa else "gpt", sh), measured, predicted_layer_bytes(gpt_spec(sh), sh, flash=sdpa))


def _llama_fused(sh: Shape) -> Row:
    p, x, rope = layers.llama_params(sh, fused=True), layers.layer_input(sh), layers.rope_tables(sh.s, sh.d, False)
    measured = _saved(lambda: layers.llama_fused_layer(x, p, sh, rope), [*p.values(), *rope])
    return Row(Case("llama-fused", sh), measured, predicted_layer_bytes(llama_spec(sh), sh, flash=True))


def _llama_hf(sh: Shape, sdpa: bool) -> Row:
    p, x = layers.llama_params(sh, fused=False), layers.layer_input(sh, batch_first=True)
    rope, mask = layers.rope_tables(sh.s, sh.d, True), layers.causal_mask(sh.s)
    measured = _saved(lambda: layers.llama_hf_layer(x, p, sh, rope, mask, sdpa), [*p.values(), *rope, mask])
    predicted = predicted_layer_bytes(llama_spec(sh), sh, framework="huggingface", flash=sdpa)
    return Row(Case("llama-hf-sdpa" if sdpa else "llama-hf", sh), measured, predicted)


def _litgpt(sh: Shape, blk: litgpt.Block, kind: str) -> Row:
    p, rope = litgpt.block_params(sh, blk), litgpt.rope_tables(sh, blk)
    x = layers.layer_input(sh, batch_first=True)
    measured = _saved(lambda: litgpt.litgpt_block(x, p, sh, blk, rope), [*p.values(), *rope])
    spec = llama_spec(sh) if blk.mlp == "llama" else gpt_spec(sh).model_copy(update={"kv_heads": sh.kv})
    if blk.parallel:
        spec = spec.model_copy(update={"parallel_residual": True, "norms_per_layer": 1 if blk.shared_norm else 2})
    predicted = litgpt_layer_activations(spec, sh.s, sh.b, blk.targets, blk.rank, 2, blk.lora_dropout > 0,
                                         blk.quantized).bytes
    return Row(Case(kind, sh), measured, predicted)


LITGPT_BLOCKS = {
    "litgpt-lora": litgpt.Block(),
    "litgpt-qlora": litgpt.Block(quantized=True),
    "litgpt-qlora-all": litgpt.Block(quantized=True, targets=("q", "k", "v", "o", "gate", "up", "down")),
    "litgpt-lora-nodrop": litgpt.Block(targets=("q", "v", "o", "gate", "up", "down"), lora_dropout=0.0),
    "litgpt-qlora-nodrop": litgpt.Block(quantized=True, targets=("k", "o", "up"), lora_dropout=0.0),
    "litgpt-neox-lora": litgpt.Block(norm="layernorm", mlp="neox", parallel=True, shared_norm=True,
                                     rope_fraction=0.5),
    "litgpt-neox-qlora": litgpt.Block(norm="layernorm", mlp="neox", quantized=True, rope_fraction=0.25,
                                      targets=("q", "k", "v", "up")),
    "litgpt-neox-parallel-qlora": litgpt.Block(norm="layernorm", mlp="neox", parallel=True, quantized=True,
                                               rope_fraction=0.25),
    "litgpt-parallel-lora": litgpt.Block(parallel=True),
    "litgpt-shared-qlora-nodrop": litgpt.Block(norm="layernorm", mlp="neox", parallel=True, shared_norm=True,
                                               quantized=True, targets=("up",), lora_dropout=0.0),
}


def _moe(sh: Shape) -> Row:
    expert_ffn = sh.ffn // 2
    p = layers.moe_params(sh, MOE["experts"], expert_ffn)
    x, rope = layers.layer_input(sh), layers.rope_tables(sh.s, sh.d, False)
    measured = _saved(lambda: layers.llama_fused_layer(x, p, sh, rope), [*p.values(), *rope])
    spec = llama_spec(sh, moe=MoESpec(experts=MOE["experts"], top_k=MOE["top_k"], expert_ffn=expert_ffn))
    return Row(Case("moe", sh), measured, predicted_layer_bytes(spec, sh, flash=True))


def _detail(bd, key: str) -> int:
    return next(f.bytes for f in bd.details if f.key == key)


def _embedding(sh: Shape) -> Row:
    p = ends.embedding_params(sh, VOCAB)
    ids = torch.randint(0, VOCAB, (sh.b, sh.s))
    positions = torch.arange(sh.s).expand(sh.b, sh.s).contiguous()
    measured = _saved(lambda: ends.megatron_embedding(ids, positions, p, sh), p.values())
    return Row(Case("embedding", sh), measured, _detail(breakdown(gpt_spec(sh, vocab=VOCAB), sh), "embedding_inputs"))


class _LossBackwardDone(Exception):
    """Raised by a hook once the loss's backward has made the logits' gradient: the measurement stops there."""


def _stop(_grad: torch.Tensor) -> None:
    raise _LossBackwardDone


def _output(sh: Shape, hf: bool) -> Row:
    """Peak bytes allocated by final norm + output layer + loss, plus the kept input if it is saved.  Hugging
    Face: through the cross-entropy's backward too (the loss's highest instant: the saved log-softmax, the nll
    gradient and the log-softmax's input gradient), the model output dropped first, as the Trainer's
    ``compute_loss`` returns the loss alone; the output layer's own backward is the backward moment's."""
    p = ends.output_params(sh, VOCAB, "rmsnorm" if hf else "layernorm")
    x, labels = layers.layer_input(sh, batch_first=hf), torch.randint(0, VOCAB, (sh.b, sh.s))

    def forward():
        if not hf:
            with saved_bytes(exclude=p.values()) as m:
                out = ends.megatron_output_loss(x, labels, p)
            return m, out
        with saved_bytes(exclude=p.values()) as m:
            logits, loss = ends.hf_output_loss(x, labels, p, on_logits_grad=_stop)
        del logits
        with contextlib.suppress(_LossBackwardDone):
            loss.backward()
        return m, loss

    peak, (m, _) = peak_allocated_bytes(forward)
    held_input = x.untyped_storage().nbytes() if x.untyped_storage().data_ptr() in m.by_storage else 0
    spec = llama_spec(sh, vocab=VOCAB) if hf else gpt_spec(sh, vocab=VOCAB)
    bd = breakdown(spec, sh, framework="huggingface" if hf else "megatron")
    predicted = _detail(bd, "output_layer_inputs") + _detail(bd, "loss_logits")  # the loss moment's logits
    return Row(Case("output-hf" if hf else "output", sh), peak + held_input, predicted)


def _states(sh: Shape, amp: bool) -> Row:
    n_layers = 2
    measure = states.amp_adamw_step_bytes if amp else states.megatron_adamw_step_bytes
    measured = sum(measure(sh, VOCAB, n_layers).values())
    bd = breakdown(gpt_spec(sh, layers=n_layers, vocab=VOCAB), sh, framework="huggingface" if amp else "megatron")
    # at the optimizer step, measured after it: every gradient exists (Hugging Face's start at the backward)
    step = dict(next(m for m in bd.timeline if m.short == "optimizer step").live)
    predicted = sum(step[k] for k in ("weights", "gradients", "optimizer_states"))
    return Row(Case("adamw-amp" if amp else "adamw-megatron", sh), measured, predicted)


def _kv(sh: Shape) -> Row:
    n_layers, prompt = 2, sh.s // 2
    new_tokens = sh.s - prompt
    measured = states.kv_cache_bytes(sh, n_layers, prompt, new_tokens)
    spec = llama_spec(sh, layers=n_layers)
    predicted = kv_use(spec, tuple(range(n_layers)), kv_format("bf16"), 1, sh.s, sh.b, None).bytes
    return Row(Case("kv-cache", sh), measured, predicted)


MEASURES = {
    "gpt": lambda sh: _gpt(sh, sdpa=False),
    "gpt-sdpa": lambda sh: _gpt(sh, sdpa=True),
    "llama-fused": _llama_fused,
    "llama-hf": lambda sh: _llama_hf(sh, sdpa=False),
    "llama-hf-sdpa": lambda sh: _llama_hf(sh, sdpa=True),
    "moe": _moe,
    "embedding": _embedding,
    "output": lambda sh: _output(sh, hf=False),
    "output-hf": lambda sh: _output(sh, hf=True),
    "adamw-megatron": lambda sh: _states(sh, amp=False),
    "adamw-amp": lambda sh: _states(sh, amp=True),
    "kv-cache": _kv,
    **{kind: functools.partial(_litgpt, blk=blk, kind=kind) for kind, blk in LITGPT_BLOCKS.items()},
}
GPT_KINDS = ("gpt", "gpt-sdpa", "embedding", "output", "adamw-megatron", "adamw-amp")


def measure(case: Case) -> Row:
    torch.manual_seed(0)
    return MEASURES[case.kind](case.shape)


def fast_cases() -> list[Case]:
    """A few small configurations: the CI subset (seconds on two cores)."""
    gpt = Shape(s=64, b=2, h=64, a=4, dropout=0.1)
    llama = Shape(s=64, b=2, h=64, a=8, kv=2, f=160)
    mha = Shape(s=32, b=2, h=64, a=4, f=256)
    return [Case(k, gpt) for k in GPT_KINDS] + [
        Case(k, llama) for k in ("llama-fused", "llama-hf", "llama-hf-sdpa", "moe", "output-hf", "kv-cache",
                                 *LITGPT_BLOCKS)] + [Case(k, mha) for k in LITGPT_BLOCKS]


def full_cases() -> list[Case]:
    """The published grid: sequence lengths, batches, hidden sizes, heads and KV heads."""
    cases: list[Case] = []
    for s, b, h, a in itertools.product((64, 256), (1, 4), (128, 256), (4, 8)):
        gpt = Shape(s=s, b=b, h=h, a=a, dropout=0.1)
        cases += [Case(k, gpt) for k in GPT_KINDS if not k.startswith("adamw") or (s, b) == (64, 1)]
        for kv in sorted({a, 2, 1}):
            llama = Shape(s=s, b=b, h=h, a=a, kv=kv, f=h * 8 // 3 // 16 * 16)
            cases += [Case(k, llama) for k in ("llama-fused", "llama-hf", "llama-hf-sdpa", "kv-cache")]
            if kv == 2:
                cases += [Case(k, llama) for k in ("moe", "output-hf", *LITGPT_BLOCKS)]
    cases.append(Case("llama-hf", Shape(s=128, b=2, h=128, a=4, kv=2, f=352, dropout=0.1)))
    return cases

"""Model states after a mixed-precision AdamW step, and a KV cache after a generation loop.

Megatron (``--bf16``, ``DistributedOptimizer`` off): bf16 weights the model
computes with, an fp32 ``main_grad`` per parameter that backward accumulates
into, fp32 master weights that the optimizer updates (their ``.grad`` is the
``main_grad``), Adam's two fp32 moments, then a copy back to bf16.

torch AMP (``torch.autocast(bfloat16)``, what Hugging Face ``Trainer(bf16=True)``
runs on an fp32-loaded model): fp32 weights, fp32 ``.grad``, two fp32 moments.
"""

from __future__ import annotations

import torch

from fidelity.ends import embedding_params, megatron_embedding, megatron_output_loss, output_params
from fidelity.layers import DTYPE, Shape, gpt_layer, gpt_params


def _storage_bytes(tensors) -> int:
    seen: dict[int, int] = {}
    for t in tensors:
        if isinstance(t, torch.Tensor):
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    return sum(seen.values())


def gpt_model_params(sh: Shape, vocab: int, layers: int) -> list[dict[str, torch.Tensor]]:
    return [embedding_params(sh, vocab), *(gpt_params(sh) for _ in range(layers)),
            output_params(sh, vocab, "layernorm")]


def _gpt_loss(parts: list[dict[str, torch.Tensor]], sh: Shape, vocab: int) -> torch.Tensor:
    ids = torch.randint(0, vocab, (sh.b, sh.s))
    positions = torch.arange(sh.s).expand(sh.b, sh.s).contiguous()
    x = megatron_embedding(ids, positions, parts[0], sh)
    for p in parts[1:-1]:
        x = gpt_layer(x, p, sh)
    return megatron_output_loss(x, torch.randint(0, vocab, (sh.b, sh.s)), parts[-1])


class MegatronMixedPrecision:
    """bf16 model, fp32 main grads and master weights, AdamW; ``step()`` is one training step.

    Each bf16 gradient is folded into its fp32 ``main_grad`` as soon as backward
    produces it and then dropped (Megatron's gradient-accumulation hooks), so no
    full set of 16-bit gradients is ever alive.
    """

    def __init__(self, sh: Shape, vocab: int, layers: int) -> None:
        self.sh, self.vocab = sh, vocab
        self.parts = gpt_model_params(sh, vocab, layers)
        self.params = [t for p in self.parts for t in p.values()]
        self.main_grads = [torch.zeros(t.shape, dtype=torch.float32, device=t.device) for t in self.params]
        self.masters = [t.detach().float().requires_grad_() for t in self.params]
        for t, master, grad in zip(self.params, self.masters, self.main_grads, strict=True):
            master.grad = grad  # the optimizer reads main_grad
            t.register_post_accumulate_grad_hook(self._folder(grad))
        self.opt = torch.optim.AdamW(self.masters, lr=1e-5, foreach=False)

    @staticmethod
    def _folder(main_grad: torch.Tensor):
        def fold(t: torch.Tensor) -> None:
            main_grad.add_(t.grad)
            t.grad = None
        return fold

    def step(self) -> float:
        loss = _gpt_loss(self.parts, self.sh, self.vocab)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            for t, master in zip(self.params, self.masters, strict=True):
                t.copy_(master.to(DTYPE))
        return float(loss.detach())

    def state_bytes(self) -> dict[str, int]:
        states = [v for st in self.opt.state.values() for v in st.values()]
        return {"weights": _storage_bytes(self.params), "gradients": _storage_bytes(self.main_grads),
                "optimizer_states": _storage_bytes(self.masters) + _storage_bytes(states)}


def megatron_adamw_step_bytes(sh: Shape, vocab: int, layers: int) -> dict[str, int]:
    """Bytes of each kind of model state after one step (each storage counted once)."""
    run = MegatronMixedPrecision(sh, vocab, layers)
    run.step()
    return run.state_bytes()


def amp_adamw_step_bytes(sh: Shape, vocab: int, layers: int) -> dict[str, int]:
    """torch AMP: fp32 parameters and grads, autocast computes in bf16."""
    parts = gpt_model_params(sh, vocab, layers)
    for p in parts:
        for k, t in p.items():
            p[k] = t.detach().float().requires_grad_()
    params = [t for p in parts for t in p.values()]
    opt = torch.optim.AdamW(params, lr=1e-4, foreach=False)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = _gpt_loss(parts, sh, vocab)
    loss.float().backward()
    opt.step()
    states = [v for st in opt.state.values() for v in st.values()]
    return {"weights": _storage_bytes(params), "gradients": _storage_bytes([t.grad for t in params]),
            "optimizer_states": _storage_bytes(states)}


def kv_cache_bytes(sh: Shape, layers: int, prompt: int, new_tokens: int) -> int:
    """Greedy-style decode loop with a per-layer K/V cache grown by ``torch.cat`` (HF DynamicCache).

    Returns the bytes the cache holds after ``prompt + new_tokens`` tokens.
    """
    d, g = sh.d, sh.g
    wk = [torch.randn(g * d, sh.h, dtype=DTYPE) * 0.02 for _ in range(layers)]
    wv = [torch.randn(g * d, sh.h, dtype=DTYPE) * 0.02 for _ in range(layers)]
    cache: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * layers
    with torch.no_grad():
        for step in range(new_tokens + 1):
            n = prompt if step == 0 else 1  # prefill, then one token at a time
            x = torch.randn(sh.b, n, sh.h, dtype=DTYPE)
            for i in range(layers):
                k = (x @ wk[i].t()).view(sh.b, n, g, d).transpose(1, 2)
                v = (x @ wv[i].t()).view(sh.b, n, g, d).transpose(1, 2)
                old = cache[i]
                cache[i] = (k.contiguous(), v.contiguous()) if old is None else (
                    torch.cat((old[0], k), dim=2), torch.cat((old[1], v), dim=2))
    return _storage_bytes([t for pair in cache if pair for t in pair])

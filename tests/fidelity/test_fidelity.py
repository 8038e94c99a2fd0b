"""Measured with PyTorch on the CPU vs the engine's ``detailed`` prediction: |error| <= 1%.

The fast subset runs in CI; the full grid is marked slow (and written to
docs/fidelity.md by ``python bench/fidelity/run_grid.py``).  Hand-derived checks
pin the measurements themselves, so neither side is only compared with itself.
"""

import pytest

torch = pytest.importorskip("torch")

from fidelity import layers  # noqa: E402
from fidelity.grid import fast_cases, full_cases, measure  # noqa: E402
from fidelity.layers import Shape  # noqa: E402
from fidelity.meter import saved_bytes  # noqa: E402

TOLERANCE = 0.01


@pytest.mark.parametrize("case", fast_cases(), ids=lambda c: c.label)
def test_engine_within_one_percent_of_measurement(case):
    row = measure(case)
    assert abs(row.error) <= TOLERANCE, f"{case.label}: measured {row.measured} B, engine {row.predicted} B"


@pytest.mark.slow
@pytest.mark.parametrize("case", full_cases(), ids=lambda c: c.label)
def test_full_grid_within_one_percent(case):
    row = measure(case)
    assert abs(row.error) <= TOLERANCE, f"{case.label}: measured {row.measured} B, engine {row.predicted} B"


def _measure_gpt(sh: Shape, sdpa: bool = False) -> int:
    p, x, mask = layers.gpt_params(sh), layers.layer_input(sh), layers.causal_bool_mask(sh.s)
    with saved_bytes(exclude=[*p.values(), mask]) as m:
        layers.gpt_layer(x, p, sh, sdpa=sdpa, mask=mask)
    return m.total


def test_gpt_layer_measures_korthikanti_plus_norm_statistics():
    # s=32 b=2 h=64 a=4 dropout: Korthikanti 34 sbh + 5 a s^2 b = 139,264 + 40,960,
    # plus two fused LayerNorms' fp32 mean and 1/std: 2 x 8 x s b = 1,024
    assert _measure_gpt(Shape(s=32, b=2, h=64, a=4, dropout=0.1)) == 139_264 + 40_960 + 1_024


def test_gpt_layer_with_cpu_flash_sdpa_keeps_a_log_sum_exp_instead_of_scores():
    # 34 sbh = 139,264 ; fp32 LSE 4 x a s b = 1,024 ; norm statistics 1,024
    assert _measure_gpt(Shape(s=32, b=2, h=64, a=4, dropout=0.1), sdpa=True) == 139_264 + 1_024 + 1_024


def test_hf_eager_llama_layer_by_hand():
    sh = Shape(s=32, b=2, h=64, a=8, kv=2, f=96)
    p, x = layers.llama_params(sh, fused=False), layers.layer_input(sh, batch_first=True)
    rope, mask = layers.rope_tables(sh.s, sh.d, True), layers.causal_mask(sh.s)
    with saved_bytes(exclude=[*p.values(), *rope, mask]) as m:
        layers.llama_hf_layer(x, p, sh, rope, mask)
    sb = 32 * 2
    norms = 2 * (4 + 2 + 2) * sb * 64 + 2 * 4 * sb  # fp32 copy, normalised, output; fp32 1/rms: 65,536 + 512
    attention = 4 * 2 * sb * 64 + (4 + 2) * 8 * 32 * 32 * 2  # Q, repeated K and V, output: 32,768 ; scores 98,304
    mlp = 4 * 2 * sb * 96  # gate, SiLU, up, product: 49,152
    assert m.total == norms + attention + mlp == 246_272


def test_fused_llama_layer_by_hand():
    sh = Shape(s=32, b=2, h=64, a=8, kv=2, f=96)
    p, x, rope = layers.llama_params(sh, fused=True), layers.layer_input(sh), layers.rope_tables(sh.s, sh.d, False)
    with saved_bytes(exclude=[*p.values(), *rope]) as m:
        layers.llama_fused_layer(x, p, sh, rope)
    # norm inputs + outputs 4 x 2 sbh = 32,768 ; fp32 1/rms 2 x 4 sb = 512 ; QKV buffer 2 sb (64+16+16) = 12,288
    # rotated Q, K 2 sb (64 + 16) = 10,240 ; output 2 sb 64 = 8,192 ; LSE 4 a s b = 2,048 ; SwiGLU 6 sb 96 = 36,864
    assert m.total == 32_768 + 512 + 12_288 + 10_240 + 8_192 + 2_048 + 36_864 == 102_912


def test_litgpt_chunked_cross_entropy_keeps_every_log_softmax():
    """LitGPT's ``chunked_cross_entropy`` (litgpt/utils.py) over 128-token bf16 logit chunks of a frozen lm_head.

    ``cross_entropy(reduction="none")`` on each bf16 chunk keeps that chunk's bf16 log-softmax for
    backward: 2 B x T x V over all chunks, plus the int64 target chunks (8 B x T, views of one
    tensor).  Under Fabric the chunks reach the loss in fp32 (test_litgpt_fabric_loss_peak).
    """
    import torch.nn.functional as F

    tokens, vocab, hidden, chunk = 512, 1000, 64, 128
    x = torch.randn(1, tokens, hidden, dtype=torch.bfloat16, requires_grad=True)
    lm_head = torch.randn(vocab, hidden, dtype=torch.bfloat16)  # frozen, as under LoRA
    targets = torch.randint(0, vocab, (1, tokens))
    with saved_bytes(exclude=[lm_head]) as m:
        logits = [F.linear(piece, lm_head) for piece in x.split(chunk, dim=1)]
        losses = [F.cross_entropy(lg.reshape(-1, vocab), tg.reshape(-1), reduction="none")
                  for lg, tg in zip(logits, targets.split(chunk, dim=1), strict=True)]
        torch.cat(losses).sum()
    by_dtype = m.by_dtype()
    # the log-softmax chunks, and nll_loss keeps one 0-d bf16 total weight per chunk (4 chunks x 2 B)
    assert by_dtype["bfloat16"] == 2 * tokens * vocab + 4 * 2
    assert by_dtype["int64"] == 8 * tokens


def test_litgpt_fabric_loss_peak():
    """LitGPT's loss as a Fabric run computes it: the allocation peak of the lm_head chunks' loss and backward.

    ``_FabricModule.forward`` ends with ``precision.convert_output``, which casts the bf16 logit chunks to the
    default dtype, fp32 (lightning/fabric/plugins/precision/half.py); ``finetune/lora.py`` trims the last
    chunk's final position and ``chunked_cross_entropy`` runs ``cross_entropy(reduction="none")`` per chunk.
    By hand (engine/finetune/loss.py ``loss_bytes``): fp32 logits 4 B + fp32 log-softmax 4 B per token and
    vocabulary entry, int64 targets 8 B per token, one chunk's two fp32 gradients 8 B x 128 x V:
    8 x 512 x 1,000 + 8 x 512 + 8 x 128 x 1,000 = 5,124,096 B.
    """
    import torch.nn.functional as F

    from engine.finetune.config import FinetuneConfig
    from engine.finetune.loss import loss_bytes
    from fidelity.meter import peak_allocated_bytes

    tokens, vocab, hidden, chunk = 512, 1000, 64, 128
    torch.manual_seed(0)
    x = torch.randn(1, tokens, hidden, dtype=torch.bfloat16, requires_grad=True)
    lm_head = torch.randn(vocab, hidden, dtype=torch.bfloat16)  # frozen, as under LoRA
    targets = torch.randint(0, vocab, (1, tokens))

    def step():
        logits = [F.linear(piece, lm_head).to(torch.float32) for piece in x.split(chunk, dim=1)]
        logits[-1] = logits[-1][..., :-1, :]
        losses = [F.cross_entropy(lg.reshape(-1, vocab), tg.reshape(-1), reduction="none")
                  for lg, tg in zip(logits, targets[..., 1:].split(chunk, dim=1), strict=True)]
        torch.cat(losses).sum().backward()

    measured, _ = peak_allocated_bytes(step)
    by_hand = 8 * tokens * vocab + 8 * tokens + 8 * chunk * vocab
    assert by_hand == 5_124_096
    engine, _ = loss_bytes(FinetuneConfig(framework="litgpt", seq=tokens, micro_batch=1), vocab)
    assert engine == by_hand
    assert abs(measured - by_hand) / by_hand <= 0.01, measured


def test_an_input_kept_on_ctx_outlives_the_backward_until_the_outputs_go():
    """What the engine's LitGPT 'next forward' moment rests on (engine/finetune/bitsandbytes.py).

    bitsandbytes before 0.43.2 keeps ``MatMul4Bit``'s input as a ``ctx`` attribute; the backward releases only
    what ``save_for_backward`` holds, so the input lives as long as the graph, i.e. until the last output that
    refers to it goes: in LitGPT's loop, when ``logits = model(...)`` rebinds the name after the next forward.
    A tensor saved with ``save_for_backward`` goes with the backward.
    """
    import weakref

    class KeepsInputOnCtx(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, weight):
            ctx.tensors = (a, weight)  # as MatMul4Bit.forward in bitsandbytes 0.41-0.43.1
            return a @ weight.t()

        @staticmethod
        def backward(ctx, grad):
            return grad @ ctx.tensors[1], None

    class SavesInput(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, weight):
            ctx.save_for_backward(a, weight)
            return a @ weight.t()

        @staticmethod
        def backward(ctx, grad):
            return grad @ ctx.saved_tensors[1], None

    def lifetime(function) -> tuple[bool, bool]:
        x = torch.randn(4, 8, requires_grad=True)
        weight = torch.randn(16, 8)
        layer_input = x * 2  # a layer's input: a fresh tensor, referenced only by the graph below
        logits = [function.apply(layer_input, weight).float()]
        kept = weakref.ref(layer_input)
        del layer_input
        loss = torch.cat(logits).sum()
        loss.backward()
        loss = loss.item()  # LitGPT logs the loss as a number
        after_backward = kept() is not None
        logits = None  # the next iteration's `logits = model(...)`
        return after_backward, kept() is not None

    assert lifetime(KeepsInputOnCtx) == (True, False)
    assert lifetime(SavesInput) == (False, False)


@pytest.mark.parametrize("optimizer", ["adamw", "adamw-foreach", "sgd-momentum"])
def test_the_optimizer_creates_its_state_in_its_first_step(optimizer):
    """What the engine's figure before the first optimizer step rests on (engine/training/memory/first_step.py).

    PyTorch's optimizers allocate nothing when they are built: Adam's exp_avg / exp_avg_sq (2 x 4 B per fp32
    parameter) and SGD's momentum buffer (4 B) appear in the first step() that runs.  A step skipped by the
    loss scale (never called) leaves them absent."""
    from fidelity.meter import peak_allocated_bytes

    weight = torch.nn.Parameter(torch.zeros(256, 64))  # 16,384 fp32 parameters, 65,536 B
    params = 256 * 64

    def build():
        if optimizer == "sgd-momentum":
            return torch.optim.SGD([weight], lr=0.1, momentum=0.9)
        return torch.optim.AdamW([weight], lr=0.1, foreach=optimizer == "adamw-foreach")

    built, opt = peak_allocated_bytes(build)
    assert built == 0 and len(opt.state) == 0
    weight.grad = torch.ones_like(weight)
    stepped, _ = peak_allocated_bytes(opt.step)
    state = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values()
                if isinstance(t, torch.Tensor) and t.numel() > 1)
    expected = (4 if optimizer == "sgd-momentum" else 8) * params  # 65,536 or 131,072 B
    assert state == expected
    assert stepped >= expected  # the state, plus the step's own temporaries (foreach: a sqrt copy)


@pytest.mark.parametrize("shape,block", [
    (Shape(s=64, b=2, h=256, a=32, kv=4, f=704), {}),  # GQA: K and V expanded to every head
    (Shape(s=64, b=2, h=256, a=8, kv=8, f=704), {}),  # MHA: V keeps the fused QKV buffer
    (Shape(s=64, b=2, h=256, a=8, kv=2, f=512), {"norm": "layernorm", "mlp": "neox"}),
    (Shape(s=64, b=2, h=256, a=8, kv=8, f=704), {"norm": "layernorm", "mlp": "neox", "parallel": True,
                                                 "shared_norm": True}),
])
def test_litgpt_block_with_every_weight_trainable(shape, block):
    """LitGPT full fine-tuning (engine.training.memory.litgpt): the block of tests/fidelity/litgpt.py with every
    weight trainable, measured, against ``litgpt_full_layer_activations`` byte for byte."""
    from engine.model.spec import ModelSpec
    from engine.training.memory.litgpt import litgpt_full_layer_activations
    from fidelity import litgpt
    from fidelity.layers import layer_input

    blk = litgpt.Block(targets=(), **block)
    p = {k: v.detach().clone().requires_grad_() for k, v in litgpt.block_params(shape, blk).items()}
    rope, x = litgpt.rope_tables(shape, blk), layer_input(shape, batch_first=True)
    with saved_bytes(exclude=[*p.values(), *rope]) as measured:
        out = litgpt.litgpt_block(x, p, shape, blk, rope)
    del out
    spec = ModelSpec(layers=1, hidden=shape.h, heads=shape.a, kv_heads=shape.g, ffn=shape.ffn, vocab=100,
                     gated_mlp=blk.mlp == "llama", norm=blk.norm, bias=False, dropout=0.0,
                     parallel_residual=blk.parallel, norms_per_layer=1 if blk.shared_norm else 2)
    assert litgpt_full_layer_activations(spec, shape.s, shape.b, 2).bytes == measured.total

"""A Trainer + PEFT LoRA step replayed through the caching allocator (``finetune --fragmentation replay``).

Published figures: fms-acceleration's A100 table (foundation-model-stack/fms-acceleration,
scripts/benchmarks/refs/a100_80gb.csv at 24bdadb2; the nvidia-smi columns are checked by
test_validation_cases).  By hand: the autograd tape's lifetimes, and a small model's allocated peak.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import model_catalog
from engine.errors import PlanError
from engine.estimate import estimate
from engine.finetune import hf_trainer_replay
from engine.finetune.autograd_tape import Op, Tensors, run_backward, run_forward
from engine.finetune.config import FinetuneConfig
from engine.finetune.hf_trainer_replay import trainer_replay
from engine.model.spec import ModelSpec
from engine.plan.layout import build_grid
from engine.plan.schema import Plan
from engine.training.config import MethodConfig, OverheadConfig
from engine.training.memory.caching_allocator import CachingAllocator

MiB = 2**20


def _tensors() -> Tensors:
    return Tensors(CachingAllocator(), {}, {})


def test_forward_without_autograd_frees_each_tensor_after_its_last_reader():
    live = _tensors()
    live.new("x", 4 * MiB)
    ops = (Op("a", 8 * MiB, ("x",)), Op("b", 2 * MiB, ("a",)), Op("out", 4 * MiB, ("b", "a")))
    run_forward(live, ops, keep=frozenset({"out"}), autograd=False)
    # x (outer) and out (kept) stay; a and b die after "out" reads them last.  Peak: x + a + b + out
    assert live.alloc.allocated == (4 + 4) * MiB
    assert live.alloc.peak_allocated == (4 + 8 + 2 + 4) * MiB


def test_autograd_keeps_saved_tensors_until_the_backward_of_their_first_saver():
    live = _tensors()
    live.new("x", 4 * MiB)
    ops = (Op("a", 8 * MiB, ("x",), saves=("x",), grads=("x",)),
           Op("b", 2 * MiB, ("a",), saves=("a",), grads=("a",)),
           Op("out", 4 * MiB, ("b",), grads=("b",)))
    run_forward(live, ops, keep=frozenset({"out"}), autograd=True)
    # a is saved by b: it outlives its last reader; b is not saved: gone after "out"
    assert set(live.handles) == {"x", "a", "out"}
    assert live.alloc.allocated == (4 + 8 + 4) * MiB
    grad_out = live.alloc.malloc(4 * MiB)
    left = run_backward(live, ops, "out", grad_out)
    # out's backward: grad b (2) while grad out (4) is alive, then grad out freed; b's: grad a (8), a freed
    # (b saved it); a's: grad x (4).  Left: x, out, and x's gradient.
    assert set(left) == {"x"}
    assert live.alloc.allocated == (4 + 4 + 4) * MiB
    # highest point: x, a, out, grad out, grad b = 4 + 8 + 4 + 4 + 2; then x, a, out, grad b, grad a = 26
    assert live.alloc.peak_allocated == (4 + 8 + 4 + 2 + 8) * MiB


def test_a_shared_gradient_is_summed_into_a_new_tensor_an_owned_one_in_place():
    live = _tensors()
    live.new("x", 4 * MiB)
    # out = x + f(x): AddBackward hands its gradient to both operands unchanged
    ops = (Op("f", 4 * MiB, ("x",), grads=("x",)), Op("out", 4 * MiB, ("x", "f"), passthrough=("x", "f")))
    run_forward(live, ops, keep=frozenset({"out"}), autograd=True)
    before = live.alloc.allocated  # x, f (read by out... not saved: freed), out
    assert before == (4 + 4) * MiB
    grad = live.alloc.malloc(4 * MiB)
    left = run_backward(live, ops, "out", grad)
    # f's backward makes a gradient for x while x's buffer is the incoming gradient, still f's too:
    # shared, so the sum is a new tensor (4) besides the incoming one (4) and the new term (4)
    assert live.alloc.peak_allocated == before + 3 * 4 * MiB
    assert live.alloc.allocated == before + 4 * MiB and set(left) == {"x"}


def test_trainable_weights_get_gradients_after_the_inputs_and_keep_them():
    """A linear's backward (``MmBackward0``: ``self`` before ``mat2``) makes the input's gradient, then the
    weight's, which ``AccumulateGrad`` keeps; a norm's broadcast weight first gets the unreduced product,
    summed to the weight's shape once the node has returned."""
    live = _tensors()
    live.new("x", 4 * MiB)
    ops = (Op("n", 4 * MiB, ("x",), saves=("x",), grads=("x",), param_grads=(1 * MiB,), param_grad_scratch=4 * MiB),
           Op("out", 2 * MiB, ("n",), saves=("n",), grads=("n",), param_grads=(8 * MiB,)))
    run_forward(live, ops, keep=frozenset({"out"}), autograd=True)
    grad_out = live.alloc.malloc(2 * MiB)
    before = live.alloc.allocated  # x, n, out, grad out = 4 + 4 + 2 + 2
    kept: list[int] = []
    run_backward(live, ops, "out", grad_out, param_grads=kept)
    assert len(kept) == 2
    # out's backward: grad n (4), the weight's gradient (8), then grad out (2) and the saved n (4) go: 18 MiB;
    # n's: the unreduced product (4), grad x (4), the weight's gradient (1): 27 MiB at the highest, then the
    # product (4) and grad n (4) go
    assert live.alloc.peak_allocated == before + (4 + 8 - 2 - 4) * MiB + (4 + 4 + 1) * MiB == 27 * MiB
    assert live.alloc.allocated == before - 2 * MiB - 4 * MiB + 8 * MiB + 4 * MiB + 1 * MiB
    with pytest.raises(ValueError, match="param_grads"):
        run_backward(_tensors_with_out(), ops[1:], "out", 0)


def _tensors_with_out() -> Tensors:
    live = _tensors()
    live.new("n", 4 * MiB)
    live.new("out", 2 * MiB)
    return live


def _spec() -> ModelSpec:
    return ModelSpec(name="tiny-llama", layers=2, hidden=512, heads=4, kv_heads=2, ffn=1024, vocab=32_000,
                     gated_mlp=True, norm="rmsnorm", bias=False, tied_embeddings=False)


def test_small_model_peaks_at_the_loss_by_hand():
    """Two layers, h 512, 4 heads of 128 (2 KV heads), ffn 1,024, vocabulary 32,000; one sample of 512
    tokens; bf16 base, fp32 adapters r 8 on q and v, no dropout; gradient checkpointing; transformers 4.48
    (its loss copies the shifted fp32 logits)."""
    cfg = FinetuneConfig(method="lora", rank=8, target_modules=("q", "v"), seq=512, micro_batch=1,
                         gradient_checkpointing=True, flash_attention=True, lora_dropout=0.0)
    h, t, v = 512, 512, 32_000
    layer = (2 * h * h            # q_proj
             + 2 * h * 256 * 2    # k_proj, v_proj (2 KV heads x 128)
             + 2 * h * h          # o_proj
             + 3 * 2 * h * 1024   # gate, up, down
             + 2 * 2 * h)         # two RMSNorm weights
    adapters = 4 * 8 * (h + h) + 4 * 8 * (h + 256)  # q: A 8 x 512 and B 512 x 8; v: B 256 x 8 (fp32)
    weights = 2 * v * h + 2 * (layer + adapters) + 2 * h + 2 * v * h  # embedding, layers, final norm, lm_head
    moments = 2 * 2 * adapters  # AdamW's exp_avg and exp_avg_sq, alive from the second step's loss on
    checkpoints = 3 * 2 * t * h  # the embedding output and each layer's output (bf16)
    rope = 2 * 2 * t * 128  # cos and sin in bf16, kept by the checkpoints
    final_norm = 4 * t * h + 4 * t  # its fp32 input copy and 1/rms, saved
    shifted = (t - 1) * v
    # ForCausalLMLoss at the nll's output (512 B, the smallest block): bf16 logits, fp32 upcast, shifted copy,
    # log-softmax
    loss = 2 * t * v + 4 * t * v + 4 * shifted + 4 * shifted + 512
    # 2 B x 32,000 x 512 = 32,768,000 B (the embedding, lm_head and the bf16 logits) takes a 32 MiB segment,
    # and the 786,432 B left is under the 1 MiB a large block must keep to be split: each counts 32 MiB
    unsplit = 3 * (32 * MiB - 32_768_000)
    r = trainer_replay(_spec(), cfg, None, "4.48.1")
    assert r.peak_allocated == weights + moments + checkpoints + rope + final_norm + loss + unsplit
    assert r.peak_reserved >= r.peak_allocated


# mem_peak_torch_mem_alloc_in_bytes of the table's Mistral-7B rows: LoRA ('none') and QLoRA ('baseline-peft-bnb',
# NF4 with double quantization, bf16 autocast)
FMS = [("lora", 4, 26_704_571_904), ("lora", 8, 38_742_912_512),
       ("qlora", 4, 20_669_338_112), ("qlora", 8, 37_002_646_016)]


@pytest.mark.parametrize(("method", "batch", "published"), FMS)
def test_replayed_allocated_peak_is_the_published_one(method, batch, published):
    """Mistral-7B, r 16 on q,k,v,o, dropout 0.1, 4,096 tokens, checkpointing, flash-attention-2: the replay's
    allocated peak against torch.cuda.max_memory_allocated of the run.  Within 0.2 %: the replay leaves out
    the integer tensors (ids, labels, positions), gradient clipping's norms and autocast's cached casts of
    the adapters."""
    spec = next(m.spec for m in model_catalog() if m.name == "mistral-7b" or "mistral-7b" in m.aliases)
    cfg = FinetuneConfig(method=method, rank=16, alpha=16, target_modules=("q", "k", "v", "o"), seq=4096,
                         micro_batch=batch, gradient_checkpointing=True, flash_attention=True, lora_dropout=0.1)
    assert trainer_replay(spec, cfg, None, "4.48.1").peak_allocated == pytest.approx(published, rel=2e-3)


# the same table's full fine-tuning rows ('none', no peft_method): weights, gradients and both AdamW moments in bf16
FMS_FULL = [(4, 72_434_837_504), (8, 72_435_230_720)]


@pytest.mark.parametrize(("batch", "published"), FMS_FULL)
def test_replayed_full_fine_tuning_peak_is_the_published_one(batch, published):
    """Mistral-7B loaded in bf16, no autocast, every weight trained: the peak is the foreach AdamW step of the
    Trainer's first parameter group, the weights that decay: weights, gradients, both moments and the sqrt copy
    of that group's exp_avg_sq, 5 x 2 B x 7,241,732,096 = 72,417,320,960 B less the 65 RMSNorm weights' copies
    (2 B x 65 x 4,096 = 532,480 B, the second group's, made once the first group's are freed), the same at batch
    4 and 8.  The replay leaves out the integer tensors and gradient clipping's norms."""
    spec = next(m.spec for m in model_catalog() if m.name == "mistral-7b" or "mistral-7b" in m.aliases)
    cfg = FinetuneConfig(method="full", seq=4096, micro_batch=batch, gradient_checkpointing=True,
                         flash_attention=True, mixed_precision=False)
    r = trainer_replay(spec, cfg)
    assert r.peak_allocated == pytest.approx(published, rel=1e-3)
    assert r.peak_allocated == 5 * 2 * 7_241_732_096 - 2 * 65 * 4096 == 72_416_788_480


def test_qlora_load_by_hand():
    """What a QLoRA model holds once loaded, prepared and wrapped: every layer matrix as NF4 (half a byte per
    weight), its 8-bit absmax per 64 weights, their fp32 absmax per 256 and the fp32 offset (double
    quantization; each request at least 512 B); fp32 norms (prepare_model_for_kbit_training); the embedding
    and lm_head back in bf16 (TRL); fp32 adapters r 8 on q and v.  Vocabulary 32,768: 2 B x 32,768 x 512 is
    32 MiB exactly, so no block keeps an unsplit remainder."""
    spec = _spec().model_copy(update={"vocab": 32_768})
    cfg = FinetuneConfig(method="qlora", rank=8, target_modules=("q", "v"), seq=512, double_quant=True)

    def four_bit(n: int) -> int:  # packed, 8-bit absmax, fp32 absmax of the absmax (>= 512 B), offset (512 B)
        return n // 2 + max(512, n // 64) + 512 + 512

    layer = (four_bit(512 * 512) * 2      # q, o
             + four_bit(256 * 512) * 2    # k, v
             + four_bit(1024 * 512) * 3   # gate, up, down
             + 2 * 4 * 512)               # two fp32 RMSNorm weights
    adapters = 4 * 8 * (512 + 512) + 4 * 8 * (512 + 256)
    expected = 2 * (layer + adapters) + 4 * 512 + 2 * (2 * 32_768 * 512)  # + final norm, embedding and lm_head
    alloc = CachingAllocator()
    hf_trainer_replay._load(alloc, spec, cfg)
    assert alloc.allocated == expected


@settings(max_examples=25, deadline=None)
@given(layers=st.integers(1, 3), heads=st.sampled_from([2, 4]), batch=st.integers(1, 3),
       seq=st.sampled_from([64, 256, 1000]), rank=st.integers(1, 16), dropout=st.booleans(),
       checkpointing=st.booleans(), targets=st.sampled_from([("q", "v"), ("q", "k", "v", "o"), ("gate", "down")]),
       method=st.sampled_from(["lora", "qlora"]))
def test_reserved_never_below_allocated_and_more_tokens_or_no_checkpointing_allocate_more(
        layers, heads, batch, seq, rank, dropout, checkpointing, targets, method):
    spec = ModelSpec(name="t", layers=layers, hidden=256, heads=heads, kv_heads=1, ffn=512, vocab=1000,
                     gated_mlp=True, norm="rmsnorm", bias=False)
    cfg = FinetuneConfig(method=method, rank=rank, target_modules=targets, seq=seq, micro_batch=batch,
                         gradient_checkpointing=checkpointing, lora_dropout=0.1 if dropout else 0.0)
    r = trainer_replay(spec, cfg)
    assert r.peak_reserved >= r.peak_allocated
    bigger = trainer_replay(spec, cfg.model_copy(update={"micro_batch": batch + 1}))
    assert bigger.peak_allocated > r.peak_allocated
    # without checkpointing every layer keeps what its backward reads (an fp32 copy of its input at least)
    # where checkpointing keeps the input alone, and no layer is recomputed
    kept = trainer_replay(spec, cfg.model_copy(update={"gradient_checkpointing": False}))
    assert kept.peak_allocated >= trainer_replay(spec, cfg.model_copy(update={"gradient_checkpointing": True})).peak_allocated


def _plan(cfg: FinetuneConfig, cards: int = 1) -> Plan:
    overhead = OverheadConfig(fragmentation_model="replay")
    return Plan(name="p", mode="finetune", model=_spec(), layout=build_grid(dp=cards, pp=1, gpu="A100 80GB", capacity_bytes=85_100_068_864),
                finetune=cfg, method=MethodConfig(overhead=overhead))


@pytest.mark.parametrize(("update", "cards", "allowed"), [
    ({"method": "full", "mixed_precision": True}, 1, "full fine-tuning in pure 16 bits"),
    ({"framework": "litgpt"}, 1, "the Hugging Face Trainer"),
    ({"gradient_accumulation": 2}, 1, "one micro-batch per optimizer step"),
    ({"method": "qlora", "bnb_version": "0.42.0"}, 1, "bitsandbytes 0.43.2 or later"),
    ({"flash_attention": False}, 1, "flash attention"),
    ({}, 2, "one card, or cards FSDP shards over"),
])
def test_replay_names_what_it_cannot_rebuild(update, cards, allowed):
    cfg = FinetuneConfig(method="lora", seq=128).model_copy(update=update)
    with pytest.raises(PlanError) as e:
        estimate(_plan(cfg, cards))
    assert e.value.field == "method.overhead.fragmentation_model" and allowed in str(e.value)


def test_the_card_adds_the_replayed_reserve():
    cfg = FinetuneConfig(method="lora", seq=512, gradient_checkpointing=True)
    card = estimate(_plan(cfg)).cards[0]
    reserve = next(f for f in card.breakdown.details if f.key == "fragmentation")
    # the allocator may take segments up to the card's memory less the CUDA context
    capacity = 85_100_068_864 - OverheadConfig().cuda_context_bytes
    assert reserve.bytes == trainer_replay(_spec(), cfg, capacity).reserve
    assert "Trainer steps of this card" in reserve.formula


def test_cli_finetune_fragmentation_replay():
    args = ["finetune", "--model", "mistral-7b", "--method", "lora", "--seq", "1024", "--gpu", "a100-80gb"]
    ok = subprocess.run([sys.executable, "-m", "engine", *args, "--fragmentation", "replay"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "PyTorch caching allocator replayed over" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "engine", *args, "--method", "full", "--mixed-precision",
                          "--fragmentation", "replay"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "full fine-tuning in pure 16 bits" in bad.stderr


def test_eight_bit_adam_states_by_hand():
    """bitsandbytes' Adam8bit: per adapter tensor of 4,096 elements or more, two states of one byte per
    element with an fp32 absmax per 256 (64 B, a 512 B block); smaller tensors keep two fp32 states.  r 8
    on q and v of the small model: q's A (8 x 512) and B (512 x 8) and v's A are 4,096 elements, v's B
    (256 x 8) 2,048.  Against SGD (no state) the loss peak of a later step holds exactly these."""
    eight_bit = 2 * (4096 + 512)
    per_layer = 3 * eight_bit + 2 * 4 * 2048
    cfg = FinetuneConfig(method="lora", rank=8, target_modules=("q", "v"), seq=512, gradient_checkpointing=True,
                         optimizer="sgd")
    sgd = trainer_replay(_spec(), cfg).peak_allocated
    adam8 = trainer_replay(_spec(), cfg.model_copy(update={"optimizer": "adamw-8bit"})).peak_allocated
    paged = trainer_replay(_spec(), cfg.model_copy(update={"optimizer": "paged-adamw-8bit"})).peak_allocated
    assert adam8 - sgd == 2 * per_layer
    assert paged == sgd  # paged states live in managed memory, outside PyTorch's allocator


def test_the_loss_head_as_each_stack_builds_it():
    """The head's requests: Granite's logits division is one more 16-bit logits tensor between lm_head and the
    fp32 upcast; before transformers 4.46 the inline loss upcasts, copies the shifted fp32 logits and the model
    output holds the fp32 ones (the 16-bit logits are read by the upcast only)."""
    from engine.finetune.hf_peft_layers import LayerShapes, head_ops

    def shapes(**kw):
        return LayerShapes(tokens=8, seq=8, batch=1, hidden=4, q=4, g=4, ffn=8, heads=1, head_dim=4, vocab=10,
                           e=2, a=4, rank=2, dropout=False, targets=frozenset({"q"}), quantized=False, **kw)

    def by_name(sh):
        return {op.out: op for op in head_ops(2, sh)}

    plain = by_name(shapes())
    assert "logits.scaled" not in plain and plain["logits32"].reads == ("logits",) and "shifted" not in plain
    scaled = by_name(shapes(scaled_logits=True))
    assert scaled["logits.scaled"].nbytes == 2 * 8 * 10 and scaled["logits.scaled"].reads == ("logits",)
    assert scaled["logits32"].reads == ("logits.scaled",)
    inline = by_name(shapes(inline_loss=True))
    assert inline["shifted"].nbytes == 4 * 7 * 10  # (seq - 1) x batch rows of fp32 logits
    assert inline["log_softmax"].reads == ("shifted",)

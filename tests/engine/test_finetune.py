"""LoRA and QLoRA memory by hand; full fine-tuning goes through the training engine.

Model as in test_quant: 2 layers, hidden 256, 4 heads x 64, 2 KV heads, gated
MLP 512, vocab 1000: 1,692,928 parameters, bf16 3,385,856 B, NF4 with double
quantization (linear layers) + bf16 rest 1,635,160 B.
"""

import pytest

from engine.errors import PlanError
from engine.estimate import estimate
from engine.finetune.config import FinetuneConfig
from engine.finetune.lora import adapter_params
from engine.model.spec import ModelSpec
from engine.plan.layout import build_grid
from engine.plan.schema import Plan, plan_from_json, plan_to_json
from engine.units import GiB, MiB

SMALL = ModelSpec(name="small", layers=2, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=1000,
                  gated_mlp=True, norm="rmsnorm", bias=False)
# rank 4 on q (256 x 256) and v (128 rows x 256 inputs): 4 x (256 + 256) + 4 x (128 + 256) = 3,584 per layer
TRAINABLE = 2 * (4 * (256 + 256) + 4 * (128 + 256))


def plan(cfg: FinetuneConfig, model: ModelSpec = SMALL, **grid) -> Plan:
    return Plan(name="ft", mode="finetune", model=model, finetune=cfg,
                layout=build_grid(gpu="test", capacity_bytes=24 * GiB, **grid))


LORA = FinetuneConfig(method="lora", rank=4, target_modules=("q", "v"), seq=512, micro_batch=2)


def bd(cfg: FinetuneConfig, **grid):
    return estimate(plan(cfg, **grid)).cards[-1].breakdown


def test_adapter_count():
    assert TRAINABLE == 7_168
    assert adapter_params(SMALL, range(2), ("q", "v"), 4) == 7_168
    # all seven matrices: q 2,048 + k 1,536 + v 1,536 + o 2,048 + gate, up 4 x (512 + 256) + down 4 x (256 + 512)
    assert adapter_params(SMALL, range(2), ("q", "k", "v", "o", "gate", "up", "down"), 4) == 2 * (
        2048 + 1536 + 1536 + 2048 + 3 * 3072)


def test_lora_states_by_hand():
    est = estimate(plan(LORA))
    b = est.cards[0].breakdown
    assert b.weights.bytes == 3_385_856 + 4 * 7_168  # frozen bf16 base + fp32 adapters
    assert b.gradients.bytes == 4 * 7_168  # adapters only
    assert b.optimizer_states.bytes == 2 * 4 * 7_168  # AdamW moments in fp32
    # transformers' ForCausalLMLoss at its backward: the saved log-softmax 4 + nll_loss's gradient 4 + the
    # log-softmax's input gradient 4 B per vocabulary entry and token (1,024 tokens, V = 1,000); the forward's
    # bf16 logits 2 + fp32 upcast 4 + log-softmax 4 is less
    assert b.logits.bytes == (4 + 4 + 4) * 512 * 2 * 1000 == 12_288_000
    # (the forward's 10 B x 1,024,000 plus the model output it still binds, 2 B x 1,024 tokens x 256 = 524,288,
    # is 10,764,288: less)
    # transformers 4.46 to 4.48 also copy the shifted fp32 logits (1,023 of 1,024 rows counted as all): the
    # forward's 2 + 4 + 4 + 4 is the higher instant, with the final norm's output that the causal-LM forward
    # still binds through its loss
    p48 = plan(LORA)
    p48 = p48.model_copy(update={"method": p48.method.model_copy(update={"transformers_version": "4.48.1"})})
    assert estimate(p48).cards[0].breakdown.logits.bytes == (2 + 4 + 4 + 4) * 512 * 2 * 1000 + 2 * 1024 * 256 \
        == 14_860_288
    # before 4.46 the forward computes its loss inline: logits.float() rebinds the name (the bf16 logits go), the
    # shifted fp32 copy and the log-softmax follow: 4 + 4 + 4 B, with the model output still bound, above the
    # backward's 12 B by the model output
    p45 = p48.model_copy(update={"method": p48.method.model_copy(update={"transformers_version": "4.45.2"})})
    assert estimate(p45).cards[0].breakdown.logits.bytes == (4 + 4 + 4) * 512 * 2 * 1000 + 2 * 1024 * 256 \
        == 12_812_288
    visible = sum(f.bytes for f in b.parts() if f.key != "overhead")
    # By default (reserve auto) one card under the Trainer takes the allocator replay's reserve ...
    reserve = next(f for f in b.details if f.key == "fragmentation")
    assert reserve.label == "allocator reserve (replayed)"
    assert b.overhead.bytes == 512 * MiB + reserve.bytes + 2 * 32 * MiB
    # ... and with the percentage: CUDA context + 5 % allocator reserve + two 32 MiB cuBLAS workspaces (forward
    # and backward threads)
    pct = plan(LORA)
    pct = pct.model_copy(update={"method": pct.method.model_copy(update={
        "overhead": pct.method.overhead.model_copy(update={"fragmentation_model": "percent"})})})
    assert estimate(pct).cards[0].breakdown.overhead.bytes == 512 * MiB + visible * 5 // 100 + 2 * 32 * MiB
    assert est.finetune.trainable_parameters == 7_168 and est.mode == "finetune"


def test_adapter_intermediates():
    # each adapter saves x·A in the adapter dtype (fp32 by default: 4 B x s·b tokens x r): rank 8 vs 4 adds
    # 4 B x 1,024 x 4 x 2 adapters x 2 layers
    more = LORA.model_copy(update={"rank": 8})
    assert bd(more).activations.bytes - bd(LORA).activations.bytes == 4 * 1024 * 4 * 2 * 2


def test_adapter_dropout_keeps_its_own_input_copy_and_mask():
    # PEFT lora.Linear.forward: x.to(fp32) -> lora_dropout (p > 0: new fp32 tensor + 1-byte mask) -> lora_A saves
    # it.  q and v of SMALL take h = 256 inputs: per layer 2 adapters x (4 + 1) B x 1,024 tokens x 256, 2 layers.
    # Without dropout the fp32 cast copy (4 B) is still saved because the adapters are fp32 and compute is bf16.
    no_dropout = LORA.model_copy(update={"lora_dropout": 0.0})
    assert bd(LORA).activations.bytes - bd(no_dropout).activations.bytes == 2 * 2 * 1 * 1024 * 256
    bf16_adapters = no_dropout.model_copy(update={"adapter_dtype": "bf16"})
    # bf16 adapters without dropout reuse the layer input: the 4 B copy goes, and x·A shrinks from 4 B to 2 B
    assert bd(no_dropout).activations.bytes - bd(bf16_adapters).activations.bytes == (
        2 * 2 * 4 * 1024 * 256 + 2 * 2 * (4 - 2) * 1024 * 4)


def _moment(b, short: str) -> dict[str, int]:
    return dict(next(m for m in b.timeline if m.short == short).live)


# The final RMSNorm is not checkpointed: its fp32 copy of the input (pow and the product with 1/rms save it)
# and 1/rms, 4 B x 1,024 tokens x 256 + 4 B x 1,024; its frozen weight and the frozen lm_head save nothing more.
FINAL_NORM = 4 * 1024 * 256 + 4 * 1024


def test_gradient_checkpointing_keeps_layer_inputs():
    plain = bd(LORA).activations.bytes  # two identical layers and the final norm
    ckpt = bd(LORA.model_copy(update={"gradient_checkpointing": True}))
    # the loss: one layer input per layer (2 B x 1,024 tokens x 256) and the final norm, no layer's working set yet
    assert _moment(ckpt, "loss")["activations"] == 2 * (2 * 1024 * 256) + FINAL_NORM
    # the backward of the last layer recomputes it: its working set (half of the two layers') joins
    assert _moment(ckpt, "backward")["activations"] == 2 * (2 * 1024 * 256) + FINAL_NORM + (plain - FINAL_NORM) // 2


def test_litgpt_lora_block_by_hand():
    """LitGPT's block as autograd keeps it (engine/finetune/litgpt_block.py; measured in tests/fidelity/litgpt.py).

    Per token, e = 2 (bf16-true), q = 256, g = 128 (GQA), f = 512, 4 heads, r = 4 on q and v, dropout 0.05:
    RMSNorm fp32 input copies and 1/rms 2 x (4 x 256 + 4) = 2,056; Q, K and V expanded to all heads
    3 x 2 x 256 = 1,536, attention output 512, log-sum-exp 4 x 4 = 16; QKV LoRA dropout output and mask
    3 x 256 = 768, rank output 2 x 4 x 2 = 16; zero_pad's index_copy source 2 x (256 + 128) = 768 (and an
    int64 index, 8 x 384 = 3,072 B per layer); SwiGLU 3 x 2 x 512 = 3,072.  8,744 B per token.
    """
    b = bd(LORA.model_copy(update={"framework": "litgpt"}))
    per_layer = 8_744 * 1_024 + 3_072
    final_norm = (4 * 256 + 4) * 1_024
    assert b.activations.bytes == 2 * per_layer + final_norm == 18_966_528


def test_litgpt_qlora_by_hand():
    """bitsandbytes 0.42.0 (LitGPT's pin in spring 2024): MatMul4Bit keeps each 4-bit linear's input."""
    q = LORA.model_copy(update={"method": "qlora", "framework": "litgpt", "bnb_version": "0.42.0"})
    b = bd(q)
    # Fabric's BitsandbytesPrecision replaces lm_head too: 1,000 x 256 in NF4 + DQ is 256,000 x 4 bit + 4,000
    # blocks x 8 bit + 16 x 32 bit + 32 bit = 1,056,544 bit = 132,068 B instead of bf16 512,000 B
    assert b.weights.bytes == 1_635_160 - 512_000 + 132_068 + 4 * 7_168
    # MatMul4Bit keeps every 4-bit linear's input: both norm outputs, the output-projection input and the
    # down-projection input, 2 x (256 + 256 + 256 + 512) = 2,560 B per token more per layer; the 4-bit lm_head
    # keeps its input too (2 x 256 per token)
    per_layer = (8_744 + 2_560) * 1_024 + 3_072
    outer = (4 * 256 + 4 + 2 * 256) * 1_024
    assert _moment(b, "loss")["activations"] == 2 * per_layer + outer == 24_733_696
    # the loss: Fabric's fp32 logit chunks and their fp32 log-softmax 8 B x 1,024 tokens x 1,000 + int64 targets
    # 8 x 1,024 + one 128-token chunk's fp32 gradients 8 x 128 x 1,000 = 9,224,192; the backward through the
    # 4-bit lm_head right after it (fp32 logits 4 B + bf16 gradients 2 B per token and entry, the targets, the
    # lm_head dequantized whole: fp16 output + its bf16 copy 4 B x 256,000) = 7,176,192 is lower here
    assert _moment(b, "loss")["logits"] == 8 * 1_024 * 1_000 + 8 * 1_024 + 8 * 128 * 1_000 == 9_224_192
    short = bd(q.model_copy(update={"seq": 64, "micro_batch": 1}))
    # with 64 tokens the lm_head backward is the higher: 6 x 64 x 1,000 + 8 x 64 + 4 x 256,000, against the
    # loss 8 x 64 x 1,000 + 8 x 64 + 8 x 64 x 1,000 = 1,024,512
    assert _moment(short, "loss")["logits"] == 6 * 64 * 1_000 + 8 * 64 + 4 * 256_000 == 1_408_512
    # the largest 4-bit layer matrix (gate/up/down: 131,072 elements) dequantized in the backward, 4 B each
    assert _moment(b, "backward")["transient"] == 4 * 131_072
    # The next micro-batch's forward ends while LitGPT's loop still holds the previous one's logits, and with them
    # its graph: its 4-bit linears' inputs, which sit on ctx and survive the backward, 2 x (256 + 256 + 256 + 512)
    # x 1,024 per layer + the lm_head's input 2 x 256 x 1,024 = 5,767,168 B, and its fp32 logit chunks
    # 4 x 1,024 x 1,000; the new chunks exist in bf16 and in fp32 (convert_output) at that moment, 6 x 1,024 x 1,000
    held = 2 * 2 * 1_280 * 1_024 + 2 * 256 * 1_024
    assert held == 5_767_168
    assert _moment(b, "next forward")["activations"] == 24_733_696 + held
    assert _moment(b, "next forward")["logits"] == (6 + 4) * 1_024 * 1_000
    assert _moment(b, "optimizer step")["activations"] == held  # the step runs with that graph still referenced
    assert b.timeline[b.peak_moment].short == "next forward" and b.transient.bytes == 0
    assert b.activations.bytes == 24_733_696 + held and b.logits.bytes == 10_240_000
    assert b.total_bytes - b.overhead.bytes == b.timeline[b.peak_moment].total_bytes == max(
        m.total_bytes for m in b.timeline)
    # With 64 tokens the higher instant of that forward's end is its last chunk through the 4-bit lm_head,
    # dequantized whole (fp16 output + bf16 copy, 4 B x 256,000 = 1,024,000 B, a transient) beside the bf16
    # chunks 2 x 64 x 1,000 and the previous fp32 chunks 4 x 64 x 1,000; converting to fp32 would hold only
    # (2 + 4 + 4) x 64 x 1,000 = 640,000 B
    end = _moment(short, "next forward")
    assert end["logits"] == (2 + 4) * 64 * 1_000 and end["transient"] == 4 * 256_000
    assert end["activations"] == _moment(short, "loss")["activations"] + 2 * 2 * 1_280 * 64 + 2 * 256 * 64
    assert short.timeline[short.peak_moment].short == "next forward"
    assert short.transient.bytes == 1_024_000 and short.transient.label == "4-bit lm_head dequantized"


def test_bitsandbytes_0_43_2_keeps_no_linear_input():
    """bitsandbytes PR 1270 (0.43.2): ``ctx.tensors = (None, B)``; the 4-bit linears keep nothing, so the block
    is the LoRA block (8,744 B per token + the int64 index) and nothing of the previous micro-batch but its
    logits is held."""
    current = bd(LORA.model_copy(update={"method": "qlora", "framework": "litgpt"}))  # default: a current release
    per_layer = 8_744 * 1_024 + 3_072
    final_norm = (4 * 256 + 4) * 1_024
    assert _moment(current, "loss")["activations"] == 2 * per_layer + final_norm == 18_966_528
    assert _moment(current, "next forward")["activations"] == 18_966_528
    assert _moment(current, "optimizer step")["activations"] == 0
    assert _moment(bd(LORA.model_copy(update={"method": "qlora", "framework": "litgpt", "bnb_version": "0.43.1"})),
                   "loss")["activations"] == 24_733_696


@pytest.mark.parametrize(("version", "kept"), [("0.41.1", True), ("0.43.1", True), ("v0.42", True),
                                                ("0.43.2", False), ("0.43.3.post1", False), ("0.45.0", False),
                                                (None, False)])
def test_which_bitsandbytes_keeps_the_input(version, kept):
    from engine.finetune.bitsandbytes import keeps_linear_inputs

    assert keeps_linear_inputs(version) is kept


def test_a_bitsandbytes_release_that_is_not_one(capsys):
    from engine.cli.main import main

    rc = main(["finetune", "--model", "llama-2-7b", "--method", "qlora", "--gpu", "rtx4090", "--bnb-version", "latest"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "finetune.bnb_version" in err and "'latest'" in err and "0.42.0" in err
    rc = main(["finetune", "--model", "llama-2-7b", "--method", "qlora", "--gpu", "rtx4090", "--bnb-version", "9" * 40])
    err = capsys.readouterr().err
    assert rc == 2 and "finetune.bnb_version=" in err and "at most 32 characters" in err  # the plan file's path


def test_litgpt_holds_the_previous_logits_through_the_next_forward():
    """LitGPT LoRA: the loop's ``logits`` keeps the previous micro-batch's fp32 chunks (4 B x 1,024 x 1,000) until
    the next forward returns, when that forward's chunks exist in bf16 and fp32 (2 + 4 B): 10,240,000 B, above the
    loss's 9,224,192 B.  PEFT's Trainer drops its outputs with each step: no such moment."""
    lit = bd(LORA.model_copy(update={"framework": "litgpt"}))
    assert _moment(lit, "next forward")["logits"] == 10 * 1_024 * 1_000
    assert _moment(lit, "optimizer step")["logits"] == 4 * 1_024 * 1_000
    assert lit.timeline[lit.peak_moment].short == "next forward"
    fp32 = bd(LORA.model_copy(update={"framework": "litgpt", "base_dtype": "fp32"}))
    assert _moment(fp32, "next forward")["logits"] == (4 + 4) * 1_024 * 1_000  # 32-true converts nothing
    assert all(m.short != "next forward" for m in bd(LORA).timeline)


def test_peft_qlora_runs_the_residual_stream_in_fp32():
    """prepare_model_for_kbit_training's fp32 norms and Linear4bit's out.to(inp_dtype): fp32 hidden states."""
    ckpt = dict(gradient_checkpointing=True)
    qlora = bd(LORA.model_copy(update={"method": "qlora", **ckpt}))
    lora = bd(LORA.model_copy(update=ckpt))
    # checkpoints: 4 B x 1,024 tokens x 256 per layer instead of 2 B; the final norm keeps its fp32 input either way
    # (under QLoRA the input itself, already fp32)
    assert _moment(qlora, "loss")["activations"] == 2 * (4 * 1024 * 256) + FINAL_NORM
    assert _moment(lora, "loss")["activations"] == 2 * (2 * 1024 * 256) + FINAL_NORM


def test_eight_bit_paged_optimizer():
    est = estimate(plan(LORA.model_copy(update={"method": "qlora", "optimizer": "paged-adamw-8bit"})))
    # two 1-byte states + an fp32 absmax per 256 elements: 2 x (7,168 + 4 x 28)
    assert est.cards[0].breakdown.optimizer_states.bytes == 2 * (7_168 + 4 * 28) == 14_560
    assert any(w.code == "paged-optimizer" for w in est.warnings)


def test_layer_split_over_two_cards():
    est = estimate(plan(LORA, pp=2))
    first, last = est.cards[0].breakdown, est.cards[1].breakdown
    # ForCausalLMLoss at its backward: 12 B per vocabulary entry and token
    assert first.logits.bytes == 0 and last.logits.bytes == 12 * 1024 * 1000
    per_layer = (589_824 + 512) * 2 + 4 * 3_584  # bf16 layer + its fp32 adapters
    assert first.weights.bytes == per_layer + 256_000 * 2  # + embedding
    assert last.weights.bytes == per_layer + (256_000 + 256) * 2  # + output layer and final norm


def test_full_finetuning_is_the_training_engine():
    # Full fine-tuning is a training plan with the Hugging Face profile (eager modules, torch AdamW) and,
    # by default, pure 16-bit training (no fp32 master copy; bf16 gradients and moments).
    # (with the percentage reserve in both: by default fine-tuning on one card replays the Trainer's allocator)
    cfg = FinetuneConfig(method="full", seq=512, micro_batch=2, gradient_checkpointing=True)
    method = Plan.model_fields["method"].default
    percent = method.model_copy(update={"overhead": method.overhead.model_copy(update={"fragmentation_model": "percent"})})
    ft = estimate(plan(cfg).model_copy(update={"method": percent}))
    train = Plan(name="ft", mode="training", model=SMALL, layout=plan(cfg).layout).model_copy(update={
        "training": Plan.model_fields["training"].default.model_copy(update={
            "seq": 512, "micro_batch": 2, "recompute": "full", "flash_attention": True, "master_weights": False}),
        "method": percent.model_copy(update={"framework": "huggingface"})})
    assert ft.cards[0].breakdown == estimate(train).cards[0].breakdown
    assert ft.mode == "finetune" and ft.finetune.trainable_parameters == 1_692_928


def test_pure_bf16_full_finetuning_is_8_bytes_per_parameter_plus_the_adamw_step_copy():
    # bf16 weights 2 + bf16 gradients 2 + two bf16 AdamW moments 4 = 8 B/param through the step; torch's foreach
    # AdamW then computes sqrt(exp_avg_sq), one more moment: 2 B/param (fms-acceleration measured 10 B/param for
    # Mistral-7B full fine-tuning, the same at batch 4 and 8: the step, not the activations, is the peak).
    p = 1_692_928
    bd = estimate(plan(FinetuneConfig(method="full", seq=8, micro_batch=1, gradient_checkpointing=True))).cards[0].breakdown
    assert bd.weights.bytes == 2 * p and bd.gradients.bytes == 2 * p and bd.optimizer_states.bytes == 4 * p
    assert bd.timeline[bd.peak_moment].label == "optimizer step"
    assert bd.transient.bytes == 2 * p
    mixed = estimate(plan(FinetuneConfig(method="full", seq=8, micro_batch=1, gradient_checkpointing=True,
                                         mixed_precision=True))).cards[0].breakdown
    # AMP: fp32 master 4 + fp32 moments 8; the sqrt copy is one fp32 moment (4 B)
    assert mixed.optimizer_states.bytes == 12 * p and mixed.transient.bytes == 4 * p


def test_tp_rejected_for_lora():
    with pytest.raises(PlanError) as e:
        estimate(plan(LORA, tp=2))
    assert e.value.field == "layout.tp"


def test_round_trip():
    p = plan(LORA)
    assert plan_from_json(plan_to_json(p)) == p


def test_six_b_lora_on_one_24gb_card_at_2k_micro_batch_4():
    """The issue's question, on a ChatGLM-6B-shaped model (28 x 4096, FFN 16384, vocab 130,528).

    Base 6.7 B params x 2 B = 13.4 GB is fixed.  Under transformers + PEFT the loss over the logits
    is 12 B x 2,048 x 4 x 130,528 = 12.8 GB (its backward: the saved log-softmax, nll_loss's gradient and the
    log-softmax's input gradient), so micro-batch 4 does not fit a 24 GB card even with checkpointing.  LitGPT's
    chunked cross-entropy keeps the logit chunks, which Fabric returns in fp32, and each chunk's fp32
    log-softmax, 8 B x 8,192 x 130,528, the int64 targets 8 B x 8,192, and one 128-token chunk's two fp32
    gradients 8 B x 128 x 130,528 = 8.69 GB; but its loop still holds the previous micro-batch's fp32 chunks
    (4 B) when the next forward returns its chunks in bf16 and fp32 (2 + 4 B): 10 B x 8,192 x 130,528 =
    10.69 GB, the card's peak.  With checkpointing micro-batch 4 is still over, micro-batch 2 fits (half the
    logits).
    """
    glm = ModelSpec(name="glm-6b-shape", layers=28, hidden=4096, heads=32, ffn=16384, vocab=130_528)
    cfg = FinetuneConfig(method="lora", rank=8, seq=2048, micro_batch=4)
    rtx_4090 = 25_386_352_640  # as CUDA reports it (catalog)
    layout = build_grid(gpu="RTX 4090", capacity_bytes=rtx_4090)

    def run(**update):
        return estimate(Plan(mode="finetune", model=glm, layout=layout, finetune=cfg.model_copy(update=update)))

    no_ckpt, ckpt = run(), run(gradient_checkpointing=True)
    assert no_ckpt.cards[0].breakdown.logits.bytes == 12 * 2048 * 4 * 130_528
    assert not no_ckpt.fits and not ckpt.fits
    litgpt = run(gradient_checkpointing=True, framework="litgpt")
    assert _moment(litgpt.cards[0].breakdown, "loss")["logits"] == \
        8 * 8192 * 130_528 + 8 * 8192 + 8 * 128 * 130_528 == 8_688_009_216
    assert litgpt.cards[0].breakdown.logits.bytes == 10 * 8192 * 130_528 == 10_692_853_760
    assert not litgpt.fits
    assert run(gradient_checkpointing=True, framework="litgpt", micro_batch=2).fits
    # r 8 on q and v (4096 x 4096 each): 8 x 8,192 x 2 x 28 layers
    assert ckpt.finetune.trainable_parameters == 8 * 8192 * 2 * 28 == 3_670_016


def test_stages_share_a_breakdown_only_when_their_layers_match():
    """The per-stage cache is keyed by (dense layers, MoE layers, first, last): every card still gets exactly the
    breakdown of its own layers, here on a MoE model whose first layer is dense, split unevenly over 4 stages."""
    from engine.finetune.estimate import _card_breakdown
    from engine.model.spec import MoESpec
    from engine.training.memory.schedule import stage_layer_indices

    moe = ModelSpec(name="moe", layers=8, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=1000, gated_mlp=True,
                    norm="rmsnorm", bias=False, moe=MoESpec(experts=4, top_k=2, expert_ffn=256, first_dense_layers=1))
    p = plan(LORA, moe, pp=4, pp_layers=(1, 3, 3, 1))
    est = estimate(p)
    layers = stage_layer_indices(8, 4, (1, 3, 3, 1), 1)
    for card in est.cards:
        s = card.slot.stage
        assert card.breakdown == _card_breakdown(p, LORA, layers[s], s == 0, s == 3, len(p.layout.cards))


def test_an_adapter_on_the_output_layer():
    """``head``: PEFT's ``lm_head`` target, LitGPT's ``lora_head``: r x (V + h) parameters on the last card.

    SMALL: r 4 x (1,000 + 256) = 5,024 more adapter parameters.  What the adapter keeps, per token: PEFT with fp32
    adapters and dropout, the dropout output and mask of the final norm's output (4 + 1) B x 256 and the rank
    output 4 B x 4; LitGPT (bf16-true) (2 + 1) B x 256 + 2 B x 4.  1,024 tokens.
    """
    head = LORA.model_copy(update={"target_modules": ("q", "v", "head")})
    assert estimate(plan(head)).finetune.trainable_parameters == TRAINABLE + 4 * (1_000 + 256) == 12_192
    assert bd(head).weights.bytes - bd(LORA).weights.bytes == 4 * 5_024  # fp32 adapters
    assert bd(head).activations.bytes - bd(LORA).activations.bytes == (5 * 256 + 4 * 4) * 1_024 == 1_327_104
    lit, lit_head = (LORA.model_copy(update={"framework": "litgpt", **u}) for u in ({}, {"target_modules": ("q", "v", "head")}))
    assert bd(lit_head).activations.bytes - bd(lit).activations.bytes == (3 * 256 + 2 * 4) * 1_024 == 794_624
    # without dropout under LitGPT QLoRA, lora_A reads the final norm's output that the 4-bit lm_head keeps anyway
    # (bitsandbytes before 0.43.2); a current release keeps nothing, so the adapter keeps that output, 2 x 256
    q = {"method": "qlora", "lora_dropout": 0.0, "bnb_version": "0.42.0"}
    assert bd(lit_head.model_copy(update=q)).activations.bytes - bd(lit.model_copy(update=q)).activations.bytes == \
        2 * 4 * 1_024
    q = {"method": "qlora", "lora_dropout": 0.0}
    assert bd(lit_head.model_copy(update=q)).activations.bytes - bd(lit.model_copy(update=q)).activations.bytes == \
        (2 * 256 + 2 * 4) * 1_024


def test_the_table_says_where_the_card_peaks(capsys):
    from engine.cli.main import main

    argv = ["finetune", "--model", "llama-2-7b", "--method", "qlora", "--framework", "litgpt", "--gpu", "a100-40gb",
            "--seq", "512", "--micro-batch", "2"]
    assert main([*argv, "--bnb-version", "0.42.0"]) == 0
    assert "card 0 peaks at: end of the next micro-batch's forward" in capsys.readouterr().out
    assert main([*argv, "--framework", "peft"]) == 0
    assert "card 0 peaks at: loss over the logits and its gradient" in capsys.readouterr().out

"""The `detailed` method on small architectures, every byte derived by hand.

Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in
Large Transformer Models", Table 2): a GPT layer saves s*b*h*(34 + 5*a*s/h) bytes
in 16-bit precision with dropout; TP without SP leaves 10*s*b*h unsplit; SP splits
everything; selective recompute / flash attention drop the 5*a*s^2*b term.
Measured with PyTorch (tests/fidelity, docs/fidelity.md), two terms come on top:
fp32 norm statistics (LayerNorm mean + 1/std: 8 B per token and norm, outside the
TP region) and, with RoPE (GPT below uses the default rope), the rotated Q and K
written to new buffers: 2 * s * b * (q + kv) / t.
"""

import pytest

from engine import (
    GiB,
    MethodConfig,
    ModelSpec,
    OverheadConfig,
    Plan,
    TrainingConfig,
    build_grid,
    estimate,
)
from engine.training.memory.activations import layer_activations
from engine.units import MiB

# GPT-style: h=64, 4 heads, ffn 4h = 256, LayerNorm, biases, dropout; s=32, b=2.
GPT = ModelSpec(layers=4, hidden=64, heads=4, vocab=128, dropout=0.1, norm="layernorm", bias=True)
S, B = 32, 2
SBH = S * B * 64  # 4,096
AS2B = 4 * S * S * B  # a * s^2 * b = 8,192
STATS = 2 * 8 * S * B  # two LayerNorms x fp32 mean + 1/std = 1,024
ROPE = 2 * S * B * (64 + 64)  # rotated Q and K, 16-bit = 16,384
LAYER = 34 * SBH + 5 * AS2B + STATS + ROPE  # 180,224 + 1,024 + 16,384 = 197,632


def act(spec=GPT, t=1, sp=False, flash=False, selective=False, moe=False):
    return layer_activations(spec, moe, S, B, t, sp, flash, selective, 2).bytes


def test_gpt_layer_is_korthikanti_34_sbh_plus_5_as2b():
    assert 34 * SBH + 5 * AS2B == 139_264 + 40_960 == 180_224  # Korthikanti's figure
    assert act() == 180_224 + STATS + ROPE == 197_632


def test_selective_recompute_drops_the_attention_scores():
    assert act(selective=True) == 34 * SBH + STATS + ROPE == 139_264 + 1_024 + 16_384


def test_flash_attention_keeps_a_fp32_logsumexp_instead_of_scores():
    # 34 sbh + 4 bytes x a x s x b = 139,264 + 4 x 4 x 32 x 2
    assert act(flash=True) == 139_264 + 1_024 + STATS + ROPE


def test_tensor_parallel_without_sequence_parallel_leaves_10_sbh_whole():
    # 10 sbh + 24 sbh / t + 5 a s^2 b / t with t = 2
    # (the norm statistics stay whole too; the rotated Q, K are split)
    assert act(t=2) == 10 * SBH + 24 * SBH // 2 + 5 * AS2B // 2 + STATS + ROPE // 2 == 110_592 + 1_024 + 8_192


def test_sequence_parallel_splits_everything():
    assert act(t=2, sp=True) == (34 * SBH + 5 * AS2B + STATS + ROPE) // 2 == 90_112 + 512 + 8_192
    assert act(t=4, sp=True, selective=True) == (34 * SBH + STATS + ROPE) // 4


def test_a_parallel_block_keeps_one_norm_input():
    # GPT-J / GPT-NeoX: both LayerNorms read the layer input, so its 2 sbh is kept once, not twice; their fp32
    # statistics stay two.  A shared norm (norms_per_layer 1) also has one statistics pair and one QKV/FC1 input.
    parallel = GPT.model_copy(update={"parallel_residual": True})
    assert act(parallel) == act() - 2 * SBH == 197_632 - 8_192
    shared = GPT.model_copy(update={"norms_per_layer": 1})
    assert act(shared) == act() - 2 * SBH - 2 * SBH - 8 * S * B == 197_632 - 16_896


def test_llama_style_layer_gqa_swiglu_no_dropout():
    # h=64, 4 heads of 16, 2 KV heads, ffn 172, RMSNorm, no bias, no dropout:
    # norm inputs 2x2sbh + QKV/FC1 inputs 2x2sbh = 16,384 + 16,384
    # Q,K,V 2 x s b (64 + 32 + 32) = 16,384 ; softmax output 2 a s^2 b = 16,384 (no dropout: saved once)
    # output-projection input 2 s b 64 = 8,192 ; SwiGLU gate+up outputs and FC2 input 3 x 2 x s b 172 = 66,048
    # RMSNorm fp32 1/rms 2 x 4 x s b = 512 ; RoPE-rotated Q, K 2 x s b (64 + 32) = 12,288
    llama = ModelSpec(layers=2, hidden=64, heads=4, kv_heads=2, ffn=172, vocab=100, gated_mlp=True,
                      norm="rmsnorm", bias=False)
    assert act(spec=llama) == 16_384 * 4 + 8_192 + 66_048 + 512 + 12_288 == 152_576


def single_card_plan(**training) -> Plan:
    return Plan(
        model=GPT,
        training=TrainingConfig(seq=S, micro_batch=B, **training),
        method=MethodConfig(method="detailed", framework="megatron",
                            overhead=OverheadConfig(cuda_context_bytes=0, nccl_bytes=0, fragmentation_percent=0,
                                                            library_workspace_bytes=0)),
        layout=build_grid(gpu="test", capacity_bytes=1 * GiB),
    )


def test_single_card_megatron_breakdown_by_hand():
    bd = estimate(single_card_plan()).cards[0].breakdown
    # parameters: embedding 128x64 = 8,192 ; output layer (untied) 8,192 ; final LayerNorm 128
    # layer: attention 4x64^2 + 3x64 + 64 = 16,640 ; MLP 2x64x256 + 256 + 64 = 33,088 ; norms 256 -> 49,984
    params = 8_192 + 8_192 + 128 + 4 * 49_984
    assert params == 216_448
    assert bd.weights.bytes == 2 * params  # bf16
    assert bd.gradients.bytes == 4 * params  # fp32 main grads
    assert bd.optimizer_states.bytes == 12 * params  # fp32 master + 2 Adam moments
    # activations: 4 layers x 197,632 ; first stage: input ids 8 s b = 512 + embedding dropout mask sbh = 4,096
    # last stage: final-norm and output-layer inputs 2 x 2 sbh = 16,384 + final LayerNorm statistics 8 s b = 512
    assert bd.activations.bytes == 4 * LAYER + 512 + 4_096 + 16_384 + 512
    # The loss moment: fp32 copy + bf16 logits, (4 + 2) x s x b x V ; loss target mask (bool) + int64
    # targets 9 s b = 576.
    details = {f.key: f.bytes for f in bd.details}
    assert details["loss_logits"] == 6 * S * B * 128 + 9 * S * B == 49_728
    # The first backward: gradient in + out 2 x 2 sbh = 16,384, plus the larger of
    #   attention (no flash): softmax + score gradients 2 x 2 a s^2 b = 32,768 + dq,dk,dv 2 s b (64+64+64) = 24,576
    #   MLP (not gated): gradients of FC2's input and of the GeLU input 2 x 2 s b f = 65,536
    # Megatron fuses the weight-gradient accumulation: no unaccumulated weight gradient.
    backward = 2 * 2 * SBH + 2 * 2 * S * B * 256
    assert backward == 81_920 > 49_728
    # The backward is the peak moment, so the logits are not alive there.
    assert bd.transient.bytes == backward
    assert bd.logits.bytes == 0
    assert bd.overhead.bytes == 0
    assert bd.total_bytes == 18 * params + 4 * LAYER + 512 + 4_096 + 16_384 + 512 + 81_920
    assert bd.timeline[bd.peak_moment].label.startswith("backward of the first layer")


def test_a_loop_that_keeps_its_logits_holds_them_through_the_step():
    """LitGPT's full fine-tuning loop binds ``logits = model(input_ids)`` and Fabric returns them in fp32, so they
    stay alive through the backward, the optimizer step and the next forward (method.model_code litgpt).  GPT
    here has 4 heads of 4 KV heads and no flash attention, so its layers keep the Hugging Face count.  Two
    micro-batches per step (gradient accumulation), so the gradients live through the step as in the Megatron
    plans (with one, zero_grad frees them: test_gradients_start_at_the_backward_without_accumulation)."""
    plan = single_card_plan(global_batch=2 * B)
    method = plan.method.model_copy(update={"framework": "huggingface"})
    plan = plan.model_copy(update={"method": method})
    kept_plan = plan.model_copy(update={"method": method.model_copy(update={"model_code": "litgpt"})})
    bd = estimate(kept_plan).cards[0].breakdown
    kept = 4 * S * B * 128  # fp32 logits: 4 B x 32 tokens x 2 sequences x V 128 = 32,768
    assert {f.key: f.bytes for f in bd.details}["loop_kept_logits"] == kept == 32_768
    # The backward stays the peak and now holds them too; at the loss moment they are the current micro-batch's
    # own, inside the loss's backward (4 saved log-softmax + 4 nll gradient + 4 log-softmax gradient) B x 32 x 2 x
    # 128 + 8 B x 64 labels = 98,304 + 512 = 98,816 B.
    assert bd.timeline[bd.peak_moment].short == "backward"
    assert bd.total_bytes == estimate(plan).cards[0].breakdown.total_bytes + 32_768
    assert bd.logits.bytes == 32_768
    loss = next(m for m in bd.timeline if m.short == "loss")
    assert dict(loss.live)["logits"] == 98_816


def test_gradients_start_at_the_backward_without_accumulation():
    """Hugging Face profile, one micro-batch per step: zero_grad(set_to_none) freed the gradients after the last
    step, so the forward and the loss run without them; the backward makes them layer by layer."""
    plan = single_card_plan()
    plan = plan.model_copy(update={"method": plan.method.model_copy(update={"framework": "huggingface"})})
    bd = estimate(plan).cards[0].breakdown
    grads = {m.short: dict(m.live)["gradients"] for m in bd.timeline}
    # bf16 gradients, 2 B x 216,448 params = 432,896 at the optimizer step
    assert grads["start"] == grads["forward 1/1"] == grads["loss"] == 0
    # back-propagating the last layer: the output layer's (final LayerNorm 128 + 128 x 64 = 8,320) and that
    # layer's (49,984) gradients: 2 B x 58,304
    assert grads["backward"] == 2 * (8_320 + 49_984) == 116_608
    # back-propagating the first layer: all but the embedding's (128 x 64 = 8,192, made after it)
    assert grads["backward end"] == 2 * (216_448 - 8_192) == 416_512
    assert grads["optimizer step"] == 2 * 216_448 == 432_896
    # then only the first layer's activations are left, and the embedding inputs: int64 ids 8 s b = 512 and the
    # embedding dropout mask s b h = 4,096
    end = dict(next(m for m in bd.timeline if m.short == "backward end").live)
    one_layer = next(f.bytes for f in bd.details if f.key == "activations_per_layer")
    assert end["activations"] == one_layer + 512 + 4_096
    # two micro-batches per step: the first backward's gradients are there through the second's forward and loss
    accumulating = estimate(plan.model_copy(update={"training": plan.training.model_copy(
        update={"global_batch": 2 * B})})).cards[0].breakdown
    assert {dict(m.live)["gradients"] for m in accumulating.timeline} == {432_896}


def test_a_card_that_peaks_before_its_gradients_exist_says_what_accumulation_would_add():
    """With a 32,000-entry vocabulary and 256 tokens the loss is the peak, and it runs without gradients at one
    micro-batch per step: an info warning names the gradients a run that accumulates would hold there too
    (bf16: 2 B x (embedding 32,000 x 64 + output layer 32,000 x 64 + final LayerNorm 128 + 4 layers x 49,984)
    = 2 B x 4,296,064 = 8,592,128 B)."""
    plan = single_card_plan()
    plan = plan.model_copy(update={"model": GPT.model_copy(update={"vocab": 32_000}),
                                   "training": plan.training.model_copy(update={"seq": 256}),
                                   "method": plan.method.model_copy(update={"framework": "huggingface"})})
    est = estimate(plan)
    bd = est.cards[0].breakdown
    assert bd.timeline[bd.peak_moment].short == "loss" and bd.gradients.bytes == 0
    warning = next(w for w in est.warnings if w.code == "gradients-from-backward")
    assert warning.severity == "info" and warning.cards == (0,)
    assert "without its 8,592,128 B" in warning.message and "--gradient-accumulation" in warning.message
    accumulating = plan.model_copy(update={"training": plan.training.model_copy(update={"global_batch": 2 * B})})
    assert not any(w.code == "gradients-from-backward" for w in estimate(accumulating).warnings)


def test_ddp_keeps_a_bucket_copy_of_every_gradient():
    """Hugging Face over 2 data-parallel cards: torch DistributedDataParallel's flat gradient buckets, with the
    default gradient_as_bucket_view=False, are a second copy of every gradient from the moment the model is
    wrapped (PyTorch PR 41954: 'For roberta_base model with ~1GB parameters, peak memory dropped ~1GB' once the
    gradients became views of them).  ZeRO shards through DeepSpeed's own buffers instead."""
    plan = single_card_plan().model_copy(update={"layout": build_grid(dp=2, gpu="test", capacity_bytes=1 * GiB)})
    hf = plan.model_copy(update={"method": plan.method.model_copy(update={"framework": "huggingface"})})
    bd = estimate(hf).cards[0].breakdown
    # bf16 gradients: 2 B x 216,448 params, in every moment, the loss included
    assert bd.communication.bytes == 2 * 216_448 == 432_896
    assert all(dict(m.live)["communication"] == 432_896 for m in bd.timeline)
    single = estimate(hf.model_copy(update={"layout": build_grid(gpu="test", capacity_bytes=1 * GiB)}))
    assert single.cards[0].breakdown.communication.bytes == 0
    zero1 = hf.model_copy(update={"training": hf.training.model_copy(update={"zero": 1})})
    assert estimate(zero1).cards[0].breakdown.communication.bytes == 0


def test_backward_without_gradient_accumulation_fusion_adds_the_largest_weight_gradient():
    plan = single_card_plan()
    unfused = plan.model_copy(update={"method": plan.method.model_copy(update={"gradient_accumulation_fusion": False})})
    fused_bd, bd = estimate(plan).cards[0].breakdown, estimate(unfused).cards[0].breakdown
    # The largest module on the card: the MLP's 64 x 256 = 16,384 (embedding and output layer 8,192);
    # its bf16 gradient exists before it is added to main_grad: 2 B x 16,384.
    assert bd.transient.bytes - fused_bd.transient.bytes == 2 * 64 * 256 == 32_768


def test_optimizer_step_is_the_peak_for_a_wide_model_with_torch_adamw():
    # Hugging Face profile, 1 micro-batch of 8 tokens on a 2-layer h=256 model: tiny activations, so the
    # foreach AdamW step (a copy of exp_avg_sq, 4 B per parameter) is the highest moment.
    spec = ModelSpec(layers=2, hidden=256, heads=4, vocab=128, norm="rmsnorm", gated_mlp=True, ffn=512)
    plan = Plan(model=spec, training=TrainingConfig(seq=8, micro_batch=1),
                method=MethodConfig(framework="huggingface",
                                    overhead=OverheadConfig(cuda_context_bytes=0, nccl_bytes=0, fragmentation_percent=0,
                                                            library_workspace_bytes=0)),
                layout=build_grid(gpu="test", capacity_bytes=1 * GiB))
    bd = estimate(plan).cards[0].breakdown
    from engine import parameter_count

    p = parameter_count(spec)
    assert bd.timeline[bd.peak_moment].label == "optimizer step"
    assert bd.activations.bytes == 0 and bd.logits.bytes == 0
    # moments 8 B/param (fp32 exp_avg + exp_avg_sq); the sqrt copy is one moment: 4 B/param
    assert bd.transient.bytes == 4 * p
    assert bd.total_bytes == bd.weights.bytes + bd.gradients.bytes + bd.optimizer_states.bytes + 4 * p


def test_full_recompute_keeps_layer_inputs_and_one_working_set():
    bd = estimate(single_card_plan(recompute="full")).cards[0].breakdown
    # 4 layers x 1 micro-batch: 3 checkpoints of 2 sbh + one layer's working set 197,632 + first/last extras
    assert bd.activations.bytes == 3 * 2 * SBH + LAYER + 512 + 4_096 + 16_384 + 512


def test_overhead_counts_context_nccl_and_fragmentation():
    plan = Plan(
        model=GPT, training=TrainingConfig(seq=S, micro_batch=B),
        method=MethodConfig(overhead=OverheadConfig(cuda_context_bytes=1000, nccl_bytes=300, fragmentation_percent=10)),
        layout=build_grid(dp=2, gpu="test", capacity_bytes=1 * GiB),
    )
    bd = estimate(plan).cards[0].breakdown
    # Megatron-LM today: two 32 MiB cuBLAS workspaces (forward and backward threads) + Transformer Engine's 32 MiB;
    # PyTorch's allocator holds them, so the allocator reserve is taken on what else it sees
    workspaces = 2 * 32 * MiB + 32 * MiB
    visible = bd.total_bytes - bd.overhead.bytes
    assert bd.overhead.bytes == 1000 + 300 + visible // 10 + workspaces
    assert {d.key: d.bytes for d in bd.details}["library_workspace"] == 100_663_296
    deepspeed = estimate(plan.model_copy(update={"method": plan.method.model_copy(update={"framework": "deepspeed"})}))
    assert {d.key: d.bytes for d in deepspeed.cards[0].breakdown.details}["library_workspace"] == 2 * 32 * MiB
    old = estimate(plan.model_copy(update={"method": plan.method.model_copy(update={"framework": "megatron-2021"})}))
    assert {d.key: d.bytes for d in old.cards[0].breakdown.details}["library_workspace"] == 0  # PyTorch 1.8


def test_distributed_optimizer_is_6_plus_12_over_dp():
    # Megatron's compute_weight_and_optimizer_memory: 6 + 12/DP bytes per parameter
    plan = single_card_plan(distributed_optimizer=True).model_copy(
        update={"layout": build_grid(dp=4, gpu="test", capacity_bytes=1 * GiB)})
    bd = estimate(plan).cards[0].breakdown
    assert bd.weights.bytes + bd.gradients.bytes == 6 * 216_448
    assert bd.optimizer_states.bytes == 12 * (216_448 // 4)


@pytest.mark.parametrize("tied", [False, True])
def test_pipeline_puts_embedding_first_and_output_last(tied):
    spec = GPT.model_copy(update={"tied_embeddings": tied})
    plan = single_card_plan().model_copy(update={"model": spec, "layout": build_grid(pp=2, gpu="t", capacity_bytes=GiB)})
    est = estimate(plan)
    first, last = est.cards[0].breakdown, est.cards[1].breakdown
    # stage 0: 2 layers + embedding 8,192 ; stage 1: 2 layers + final norm 128 + output layer 8,192
    # (tied: Megatron keeps a copy of the word embeddings on the last stage)
    assert first.weights.bytes == 2 * (2 * 49_984 + 8_192)
    assert last.weights.bytes == 2 * (2 * 49_984 + 128 + 8_192)
    # 1F1B with 2 micro-batches in flight on stage 0, 1 on stage 1
    assert est.cards[0].in_flight_microbatches == 2 and est.cards[1].in_flight_microbatches == 1
    assert first.activations.bytes == 2 * 2 * LAYER + 2 * (512 + 4_096)
    assert last.activations.bytes == 2 * LAYER + 16_384 + 512


def test_megatron_2021_keeps_fp32_main_grads_and_flattens_fp16_grads_for_the_all_reduce():
    # Megatron-LM 2021, fp16, local DDP: fp16 .grad (2 B) + the fp32 main_param.grad the optimizer never frees
    # (4 B) = 6 B/param of gradients; after the backward, allreduce_gradients flattens every fp16 gradient into a
    # new buffer (2 B/param) while the activations are already freed.
    plan = single_card_plan(precision="fp16")
    plan = plan.model_copy(update={"method": plan.method.model_copy(update={"framework": "megatron-2021"})})
    bd = estimate(plan).cards[0].breakdown
    params = 216_448  # the GPT above
    assert bd.gradients.bytes == 6 * params
    moments = {m.label: m.total_bytes for m in bd.timeline}
    states = (2 + 6 + 12) * params
    assert moments["gradient all-reduce"] == states + 2 * params
    # the backward is higher for this tiny model: states + 4 x 197,632 + first/last extras 21,504 + 81,920
    # backward buffers + the MLP's fp16 weight gradient before it is added into .grad (2 B x 64 x 256) + the
    # previous step's fp16 gradients, which main_grad still references (2 B x 216,448)
    assert bd.total_bytes == states + 4 * LAYER + 512 + 4_096 + 16_384 + 512 + 81_920 + 32_768 + 2 * params
    assert max(moments.values()) == bd.total_bytes


def test_a_declared_count_far_above_the_layers_warns():
    # 2 GPT layers of h = 64 (49,984 params each, as above) + the final LayerNorm 128 = 100,096 params explained.
    def warnings_for(declared: int) -> list[str]:
        spec = ModelSpec(params=declared, layers=2, hidden=64, heads=4)
        plan = Plan(model=spec, training=TrainingConfig(seq=S, micro_batch=B), method=MethodConfig(method="detailed"),
                    layout=build_grid(gpu="test", capacity_bytes=GiB))
        return [w.code for w in estimate(plan).warnings]

    assert 2 * 49_984 + 128 == 100_096
    assert "unexplained-parameters" in warnings_for(200_000)  # 99,904 left over: 50 %
    assert "unexplained-parameters" not in warnings_for(101_000)  # 904 left over: 0.9 % < 2 %
    seed = Plan(model=ModelSpec(params=200_000, layers=2, hidden=64, heads=4), method=MethodConfig(method="seed"),
                training=TrainingConfig(seq=S, micro_batch=B), layout=build_grid(gpu="test", capacity_bytes=GiB))
    assert "unexplained-parameters" not in [w.code for w in estimate(seed).warnings]  # the article splits evenly


# DeepSpeed fp16 without ZeRO: the 52B GPT of the BigScience Megatron-DeepSpeed 3D run (h = 8192, 64 layers,
# TP 4, PP 16, learned positions, tied embeddings, biases).  One layer on one TP rank: QKV 3h²/4 + 3h/4,
# proj h²/4 + h, fc1 4h²/4 + 4h/4, fc2 4h²/4 + h, two LayerNorms 2·2h = 3h² + 7.75h = 201,390,080.
H52 = 8192
LAYER_52B_TP4 = 3 * H52 * H52 + 31 * H52 // 4
MIDDLE_52B = 4 * LAYER_52B_TP4  # a 4-layer stage: 805,560,320 (the run's log: "rank (0, 11): 805560320")


def _ds_52b_plan(zero=0, precision="fp16", fp16_optimizer="unfused", framework="deepspeed"):
    spec = ModelSpec(layers=64, hidden=H52, heads=32, ffn=4 * H52, vocab=50688, gated_mlp=False, norm="layernorm",
                     bias=True, tied_embeddings=True, position_embedding="learned", max_position=1024, dropout=0.1)
    return Plan(model=spec,
                training=TrainingConfig(seq=1024, micro_batch=4, global_batch=1024, precision=precision, zero=zero,
                                        recompute="full"),
                method=MethodConfig(framework=framework, deepspeed_fp16_optimizer=fp16_optimizer),
                layout=build_grid(gpu="test", capacity_bytes=32 * GiB, tp=4, pp=16, dp=1))


def test_deepspeed_fp16_step_converts_every_gradient_to_fp32():
    assert LAYER_52B_TP4 == 201_390_080 and MIDDLE_52B == 805_560_320
    unfused = estimate(_ds_52b_plan()).cards[44].breakdown  # stage 12: two pipe buffers, the step is the peak
    step = next(f.bytes for f in unfused.details if f.key == "optimizer_step_temporaries")
    assert unfused.weights.bytes == 2 * MIDDLE_52B
    # FP16_UnfusedOptimizer: fp32_param.grad = fp16_param.grad.to(fp32) for every parameter: 4 B each
    assert step == 4 * MIDDLE_52B == 3_222_241_280
    assert unfused.timeline[unfused.peak_moment].label == "optimizer step"
    # the run's log: max allocated - allocated after the step = 15,446.85 - 10,837.40 MiB = 4,833,360,896 B,
    # 6 B/param (the fp16 grads and their fp32 copies) to within 1 KiB (the allocator rounds blocks to 512 B)
    assert unfused.gradients.bytes + step == 6 * MIDDLE_52B == 4_833_361_920
    assert abs(round((15446.84716796875 - 10837.39501953125) * MiB) - 6 * MIDDLE_52B) <= 1024
    fused = estimate(_ds_52b_plan(fp16_optimizer="fused")).cards[44].breakdown
    # FP16_Optimizer: the list of fp32 copies and the flat buffer they are flattened into: 8 B each
    assert next(f.bytes for f in fused.details if f.key == "optimizer_step_temporaries") == 8 * MIDDLE_52B


@pytest.mark.parametrize("change,expected", [
    # ZeRO-1: the partition's gradients flattened (2 B) and cast to fp32 (4 B); one replica holds all of them
    ({"zero": 1}, 6 * MIDDLE_52B),
    ({"precision": "bf16"}, 0),  # BF16_Optimizer keeps its fp32 gradients in a standing buffer instead
    ({"framework": "megatron"}, 0),  # Megatron-LM's distributed optimizer / fused Adam update in place
])
def test_the_step_temporaries_beside_deepspeed_fp16_without_zero(change, expected):
    bd = estimate(_ds_52b_plan(**change)).cards[44].breakdown
    assert next(f.bytes for f in bd.details if f.key == "optimizer_step_temporaries") == expected


def test_deepspeed_pipeline_ties_the_whole_embedding_module():
    # The last stage: 4 layers + final LayerNorm 2h + the tied word embeddings 50,688/4 x h; DeepSpeed's
    # TiedLayerSpec('embed', EmbeddingPipe, ...) also builds the 1,024 x h position table there.
    word, positions, final_norm = 50688 // 4 * H52, 1024 * H52, 2 * H52
    assert MIDDLE_52B + final_norm + word + positions == 917_774_336  # the log: "rank (0, 15): 917774336"
    last = estimate(_ds_52b_plan()).cards[60].breakdown
    assert last.weights.bytes == 2 * 917_774_336
    megatron_last = estimate(_ds_52b_plan(framework="megatron")).cards[60].breakdown
    assert megatron_last.weights.bytes == 2 * (917_774_336 - positions)


# Megatron-LM of May 2021, fp16, local DDP: the BigScience 206B GPT (h = 16,384, 64 layers, TP 4, PP 64, one
# layer per stage, micro-batch 1 of 1,024 tokens, 4 micro-batches, full recompute).  One layer on one TP rank:
# 3h² + 7.75h = 805,306,368 + 126,976 (the run's log: "rank (0, 1): 805433344").
H206 = 16384
LAYER_206B_TP4 = 3 * H206 * H206 + 31 * H206 // 4


def _megatron_2021_206b_plan():
    spec = ModelSpec(layers=64, hidden=H206, heads=32, ffn=4 * H206, vocab=50688, gated_mlp=False, norm="layernorm",
                     bias=True, tied_embeddings=True, position_embedding="learned", max_position=1024, dropout=0.1)
    return Plan(model=spec,
                training=TrainingConfig(seq=1024, micro_batch=1, global_batch=4, precision="fp16", recompute="full"),
                method=MethodConfig(framework="megatron-2021"),
                layout=build_grid(gpu="test", capacity_bytes=32 * GiB, tp=4, pp=64, dp=1))


def test_megatron_2021_backward_runs_beside_the_previous_steps_fp16_gradients():
    assert LAYER_206B_TP4 == 805_433_344
    bd = estimate(_megatron_2021_206b_plan()).cards[4].breakdown  # stage 2: one layer
    assert bd.weights.bytes == 2 * LAYER_206B_TP4
    sbh = 1024 * 1 * H206
    stream = 2 * 2 * sbh  # the gradient arriving at the layer and the one it sends on, fp16
    mlp = 2 * 2 * 1024 * 4 * H206 // 4  # FC2's input gradient and GeLU's, sbf/t each
    wgrad = 2 * H206 * (4 * H206 // 4)  # FC1's fp16 weight gradient before autograd adds it into .grad
    held = 2 * LAYER_206B_TP4  # main_grad still points at the previous step's fp16 gradients
    assert stream + mlp + wgrad + held == 67_108_864 + 67_108_864 + 536_870_912 + 1_610_866_688
    assert next(f.bytes for f in bd.details if f.key == "backward_buffers") == stream + mlp + wgrad + held
    assert bd.timeline[bd.peak_moment].label.startswith("backward")
    # 20 B/param steady (2 weights + 2 fp16 grads + 4 fp32 main grads + 4 master + 8 Adam) under the backward
    assert bd.weights.bytes + bd.gradients.bytes + bd.optimizer_states.bytes == 20 * LAYER_206B_TP4


def _ds_bf16_plan(dp):
    # the GPT above (216,448 params) on one card per replica, DeepSpeed bf16 without ZeRO
    plan = single_card_plan()
    return plan.model_copy(update={"method": plan.method.model_copy(update={"framework": "deepspeed"}),
                                   "layout": build_grid(gpu="test", capacity_bytes=GiB, dp=dp)})


def test_deepspeed_bf16_without_zero_runs_the_bf16_optimizer():
    params = 216_448
    one = estimate(_ds_bf16_plan(1)).cards[0].breakdown
    # bf16 weights 2 B, the bf16 .grad 2 B + BF16_Optimizer's unsharded fp32 gradient buffer 4 B, fp32 master
    # 4 B + Adam 8 B (sharded over DP: nothing to shard with one replica)
    assert (one.weights.bytes, one.gradients.bytes, one.optimizer_states.bytes) == (2 * params, 6 * params,
                                                                                    12 * params)
    assert next(f.bytes for f in one.details if f.key == "allreduce_buffer") == 0  # no all-reduce at DP 1
    four = estimate(_ds_bf16_plan(4)).cards[0].breakdown
    assert (four.weights.bytes, four.gradients.bytes) == (2 * params, 6 * params)
    assert four.optimizer_states.bytes == 4 * 54_112 + 8 * 54_112  # ceil(216,448 / 4) = 54,112 each
    # buffered_allreduce_fallback: the fp32 gradients flattened (4 B) and cast to bf16 to communicate (2 B)
    assert next(f.bytes for f in four.details if f.key == "allreduce_buffer") == 6 * params


def test_deepspeed_zero_1_and_2_flatten_and_cast_the_partitions_gradients_at_the_step():
    # the GPT above (216,448 params) over DP 4: each rank's partition is ceil(216,448 / 4) = 54,112 parameters;
    # DeepSpeedZeroOptimizer.step flattens their 16-bit gradients (2 B) and casts them to fp32 (4 B)
    for zero in (1, 2):
        plan = _ds_bf16_plan(4)
        plan = plan.model_copy(update={"training": plan.training.model_copy(update={"zero": zero})})
        bd = estimate(plan).cards[0].breakdown
        assert next(f.bytes for f in bd.details if f.key == "optimizer_step_temporaries") == 6 * 54_112
        assert bd.optimizer_states.bytes == 12 * 54_112


def test_deepspeed_bf16_without_zero_says_which_optimizer_runs():
    def codes(plan):
        return [w.code for w in estimate(plan).warnings]

    plan = _ds_bf16_plan(4)
    assert "deepspeed-bf16-without-zero" in codes(plan)
    zero1 = plan.model_copy(update={"training": plan.training.model_copy(update={"zero": 1})})
    fp16 = plan.model_copy(update={"training": plan.training.model_copy(update={"precision": "fp16"})})
    assert "deepspeed-bf16-without-zero" not in codes(zero1) + codes(fp16)


def test_deepspeed_pipeline_keeps_the_last_stages_two_outputs_through_the_step():
    # The last stage's pipe output is its micro-batch's fp32 logits (GPTModelPipe ends with float16_to_fp32):
    # 4 B x 1,024 tokens x micro-batch 4 x 50,688 / TP 4 = 207,618,048 B per buffer, two buffers kept.
    one = 4 * 1024 * 4 * 50688 // 4
    last = estimate(_ds_52b_plan()).cards[60].breakdown
    assert one == 207_618_048
    assert next(f.bytes for f in last.details if f.key == "pipeline_output_buffers") == 2 * one
    assert last.timeline[last.peak_moment].label == "optimizer step" and last.logits.bytes == 2 * one
    moments = {m.short: dict(m.live) for m in last.timeline}
    assert moments["start"]["logits"] == moments["optimizer step"]["logits"] == 2 * one
    # the loss moment's logits (fp32 + 16-bit + targets) fill one of the buffers; the other is still held
    loss = next(f.bytes for f in last.details if f.key == "loss_logits")
    assert moments["loss"]["logits"] == loss + one
    # other stages keep nothing
    assert next(f.bytes for f in estimate(_ds_52b_plan()).cards[44].breakdown.details
                if f.key == "pipeline_output_buffers") == 0


def test_litgpt_block_with_every_weight_trainable_by_hand():
    """TinyLlama's LitGPT block (h 2,048, 32 heads, 4 KV heads, SwiGLU 5,632, RMSNorm) in full fine-tuning,
    bf16, per token (engine.training.memory.litgpt; measured on the CPU in tests/fidelity)."""
    from engine.training.memory.litgpt import litgpt_full_layer_activations

    spec = ModelSpec(layers=22, hidden=2048, heads=32, kv_heads=4, ffn=5632, vocab=32000, gated_mlp=True,
                     norm="rmsnorm", bias=False, dropout=0.0)
    norms = 2 * (4 * 2048 + 4)  # two RMSNorm calls: fp32 input copy + fp32 1/rms = 16,392
    attention = 3 * 2 * 2048 + 2 * 2048 + 4 * 32  # Q, K, V expanded to 32 heads + output + log-sum-exp = 16,512
    trainable = 2 * 2 * 2 * 2048 + 2 * 2048 + 2 * 5632  # normalised + output per norm, proj and down inputs = 31,744
    mlp = 3 * 2 * 5632  # fc_1, SiLU, fc_2 outputs = 33,792
    per_token = norms + attention + trainable + mlp
    assert per_token == 98_440
    assert litgpt_full_layer_activations(spec, 512, 4, 2).bytes == per_token * 2048

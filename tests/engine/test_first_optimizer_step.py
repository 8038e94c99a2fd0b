"""Before its first step an optimizer holds no state: PyTorch's, apex's and Transformer Engine's Adam
create exp_avg / exp_avg_sq in their first step() (torch.optim.Adam ``_init_group``: ``len(state) == 0``),
DeepSpeed creates them at start-up (``initialize_optimizer_states``).  A card over capacity only from that
step on starts, runs forward and backward, and fails at its first optimizer step."""

import pytest

from engine import GiB, MethodConfig, OverheadConfig, Plan, TrainingConfig, build_grid, estimate
from engine.report.json_report import ReportModel, estimate_to_json
from tests.engine.test_detailed_hand import GPT, LAYER, B, S, single_card_plan

PARAMS = 216_448  # GPT's parameters, counted by hand in test_single_card_megatron_breakdown_by_hand
# The whole step on one card (that test): 18 B/param of states, four layers' activations with the embedding's and
# the output layer's extras, and the first backward's buffers (the peak moment).
ACTIVATIONS = 4 * LAYER + 512 + 4_096 + 16_384 + 512
BACKWARD = 81_920
STEP = 18 * PARAMS + ACTIVATIONS + BACKWARD


def _with_capacity(plan: Plan, capacity: int) -> Plan:
    return plan.model_copy(update={"layout": build_grid(gpu="test", capacity_bytes=capacity)})


def test_megatron_card_before_the_first_step_holds_no_adam_moments():
    bd = estimate(single_card_plan()).cards[0].breakdown
    assert bd.total_bytes == STEP
    first = bd.before_first_step
    assert first is not None
    # Adam's fp32 exp_avg + exp_avg_sq: 8 B/param; the bf16 weights (2), fp32 main grads (4) and fp32 master
    # weights (4, made when the optimizer is built) are there from the start, and the backward stays the peak.
    assert first.state_bytes == 8 * PARAMS == 1_731_584
    assert first.total_bytes == 10 * PARAMS + ACTIVATIONS + BACKWARD == STEP - 1_731_584
    assert first.moment.startswith("backward of the first layer")


def test_the_overhead_before_the_first_step_is_taken_on_what_is_allocated_then():
    plan = single_card_plan()
    plan = plan.model_copy(update={"method": plan.method.model_copy(update={"overhead": OverheadConfig(
        cuda_context_bytes=1000, nccl_bytes=0, fragmentation_percent=10, library_workspace_bytes=0)})})
    first = estimate(plan).cards[0].breakdown.before_first_step
    assert first is not None
    allocated = 10 * PARAMS + ACTIVATIONS + BACKWARD  # 2,164,480 + 812,032 + 81,920 = 3,058,432
    assert allocated == 3_058_432
    # CUDA context 1,000 + 10 % allocator reserve on the allocated bytes, floored
    assert first.total_bytes == allocated + 1000 + 305_843


def test_deepspeed_creates_its_optimizer_state_at_start_up():
    plan = single_card_plan()
    plan = plan.model_copy(update={"method": plan.method.model_copy(update={"framework": "deepspeed"})})
    est = estimate(plan)
    assert est.cards[0].breakdown.before_first_step is None
    assert est.fits_before_first_step is None


@pytest.mark.parametrize("framework", ["megatron", "huggingface"])
def test_offloaded_optimizer_states_leave_nothing_to_create_on_the_card(framework):
    """Both frameworks create their state in the first step; offloaded, that state lives in host memory."""
    plan = single_card_plan(zero=1)
    plan = plan.model_copy(update={"method": plan.method.model_copy(update={"framework": framework})})
    assert estimate(plan).cards[0].breakdown.before_first_step is not None
    offloaded = plan.model_copy(update={"training": plan.training.model_copy(update={"offload_optimizer": True})})
    assert estimate(offloaded).cards[0].breakdown.before_first_step is None


@pytest.mark.parametrize("capacity,fits,fits_before,warned", [
    (STEP, True, True, False),
    (STEP - 1, False, True, True),  # over capacity only once Adam's moments exist
    (STEP - 8 * PARAMS, False, True, True),  # exactly the card before its first step
    (STEP - 8 * PARAMS - 1, False, False, False),  # over capacity from the first forward on
])
def test_a_card_that_fails_only_at_the_first_step_is_named(capacity, fits, fits_before, warned):
    est = estimate(_with_capacity(single_card_plan(), capacity))
    assert est.fits is fits and est.fits_before_first_step is fits_before
    codes = [w.code for w in est.warnings]
    assert ("oom-at-first-optimizer-step" in codes) is warned
    if warned:
        message = next(w.message for w in est.warnings if w.code == "oom-at-first-optimizer-step")
        assert "1 card gets through forward and backward but not the first optimizer step" in message


def test_the_json_report_carries_the_phase():
    report = estimate_to_json(estimate(_with_capacity(single_card_plan(), STEP - 1)))
    ReportModel.model_validate(report)
    assert report["fits"] is False and report["fits_before_first_optimizer_step"] is True
    card = report["cards"][0]["before_first_optimizer_step"]
    assert card["total_bytes"] == STEP - 8 * PARAMS and card["fits"] is True
    assert card["optimizer_state_bytes"] == 8 * PARAMS


def test_huggingface_trainer_counts_the_moments_from_the_first_step():
    """torch.optim.AdamW (the Trainer's default) is lazy too; bf16 without master weights keeps its moments in
    bf16 (zeros_like the parameter): 2 x 2 B/param."""
    plan = Plan(model=GPT, training=TrainingConfig(seq=S, micro_batch=B, master_weights=False),
                method=MethodConfig(framework="huggingface", overhead=OverheadConfig(
                    cuda_context_bytes=0, nccl_bytes=0, fragmentation_percent=0, library_workspace_bytes=0)),
                layout=build_grid(gpu="test", capacity_bytes=1 * GiB))
    first = estimate(plan).cards[0].breakdown.before_first_step
    assert first is not None and first.state_bytes == 4 * PARAMS


@pytest.mark.parametrize("precision,mentioned", [("fp16", True), ("bf16", False)])
def test_the_warning_names_skipped_steps_only_in_fp16(precision, mentioned):
    """Only fp16 scales the loss dynamically (skipping steps whose gradients overflow); bf16 steps at once."""
    est = estimate(_with_capacity(single_card_plan(precision=precision), STEP - 1))
    message = next(w.message for w in est.warnings if w.code == "oom-at-first-optimizer-step")
    assert ("loss scale skips steps" in message) is mentioned
    assert message.endswith("a run resumed from a checkpoint loads the state and fails at start-up")


@pytest.mark.parametrize("seq,training,expected", [
    (32, {}, None),  # 5 x 4 heads x 32 / (34 x 64) = 640 / 2,176 = 0.29: the scores are the smaller part
    (1024, {}, "9.4 times"),  # 5 x 4 x 1,024 / 2,176 = 20,480 / 2,176 = 9.41
    (1024, {"flash_attention": True}, None),  # no scores kept
    (1024, {"recompute": "selective"}, None),  # selective recompute drops them
    (1024, {"recompute": "full"}, "9.4 times"),  # the recomputed layer's working set holds them
])
def test_attention_scores_that_dominate_a_layer_are_pointed_out(seq, training, expected):
    """Korthikanti et al. 2022, Table 2: a GPT layer keeps 34·s·b·h bytes plus 5·a·s²·b of attention scores
    without flash attention; GPT here has h = 64 and a = 4 heads."""
    plan = single_card_plan(**training)
    plan = plan.model_copy(update={"training": plan.training.model_copy(update={"seq": seq})})
    messages = [w.message for w in estimate(plan).warnings if w.code == "attention-scores"]
    if expected is None:
        assert messages == []
    else:
        assert len(messages) == 1
        who = ("the layer being recomputed in the backward holds" if training.get("recompute") == "full"
               else "every layer keeps")
        assert f"{who} its 1,024 × 1,024 scores, {expected} the rest of its activations" in messages[0]

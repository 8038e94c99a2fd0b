"""The step timeline shows at most a few warm-up forwards, and its peak is the full walk's (issue 15).

A stage deep in a long pipeline holds hundreds of micro-batches in flight; walking each warm-up forward
made an estimate of a 256-stage plan take ~0.4 s.  Forward j of k holds ``act * j // k`` bytes of
activations, which never falls as j grows, so the forwards left out are never the highest moment.  The
reference here walks every forward (the timeline as it was) and must give the same peak and breakdown.
"""

import itertools

import pytest

import engine.training.memory.detailed as detailed
from engine import MethodConfig, ModelSpec, TrainingConfig
from engine.model.spec import MoESpec
from engine.training.memory.context import CardContext
from engine.training.memory.schedule import in_flight_chunks, stage_layer_indices

ORIGINAL_TIMELINE = detailed.step_timeline  # before a test swaps in the full walk


def full_walk(ctx, static, act, logits, backward, reduce, step, kept=0, fresh=None, after_forward=None, fsdp=None):
    """Every warm-up forward, one moment each (the walk before warm-up moments were thinned out)."""
    return ORIGINAL_TIMELINE(ctx, static, act, logits, backward, reduce, step,
                             warmups=lambda k: list(range(1, k + 1)), kept=kept, fresh=fresh,
                             after_forward=after_forward, fsdp=fsdp)


def test_warmup_steps_keep_the_first_and_the_last_forward():
    assert detailed.warmup_steps(1) == [1]
    assert detailed.warmup_steps(8) == [1, 2, 3, 4, 5, 6, 7, 8]
    # k = 256: ceil(i x 256 / 8) for i = 1..8 = 32, 64, ... 256, and the first forward
    assert detailed.warmup_steps(256) == [1, 32, 64, 96, 128, 160, 192, 224, 256]
    # k = 9: ceil(9i / 8) = 2, 3, 4, 5, 6, 7, 8, 9, and 1
    assert detailed.warmup_steps(9) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    for k in range(1, 300):
        steps = detailed.warmup_steps(k)
        assert steps[0] == 1 and steps[-1] == k and steps == sorted(set(steps))
        assert len(steps) <= detailed.WARMUP_MOMENTS + 1


MODELS = [
    ModelSpec(layers=64, hidden=64, heads=4, vocab=300),
    ModelSpec(params=10**9, layers=64, hidden=64, heads=4),  # no vocab: no loss moment
    ModelSpec(layers=64, hidden=64, heads=4, vocab=300, moe=MoESpec(experts=4, top_k=2, expert_ffn=96)),
]
GRID = list(itertools.product(
    MODELS, ["megatron", "megatron-2021", "huggingface"], ["none", "full"], [(64, 1), (16, 2), (4, 1), (1, 1)],
    [1, 32], [0, 3]))


@pytest.mark.parametrize("model,framework,recompute,pp_vpp,micro_batch,zero", GRID)
def test_peak_and_breakdown_are_the_full_walks(monkeypatch, model, framework, recompute, pp_vpp, micro_batch, zero):
    pp, vpp = pp_vpp
    training = TrainingConfig(seq=64, micro_batch=micro_batch, recompute=recompute, zero=zero)
    method = MethodConfig(method="detailed", framework=framework)
    layers = stage_layer_indices(model.layers, pp, None, vpp)
    for stage in sorted({0, pp // 2, pp - 1}):
        ctx = CardContext(model=model, training=training, method=method, stage=stage, stages=pp, vpp=vpp,
                          layer_indices=layers[stage], tp=1, dp=4, cp=1, ep=1,
                          in_flight_chunks=in_flight_chunks(stage, pp, 4 * pp, vpp), world=4 * pp)
        shown = detailed.detailed_breakdown(ctx)
        with monkeypatch.context() as m:
            m.setattr(detailed, "step_timeline", full_walk)
            walked = detailed.detailed_breakdown(ctx)
        assert shown.timeline[shown.peak_moment] == walked.timeline[walked.peak_moment]
        assert shown.parts() == walked.parts() and shown.details == walked.details
        assert shown.total_bytes == walked.total_bytes and shown.host_bytes == walked.host_bytes
        # What is shown is the walk's first moment, its last warm-up forward and everything after it.
        kept = [m for m in walked.timeline if m in shown.timeline]
        assert kept == list(shown.timeline)
        forwards = [m for m in walked.timeline if m.short.startswith("forward")]
        assert shown.timeline[0] == walked.timeline[0] and forwards[0] in kept and forwards[-1] in kept
        assert shown.timeline[-len(walked.timeline) + len(forwards) + 1:] == walked.timeline[len(forwards) + 1:]
        assert len(shown.timeline) <= len(walked.timeline) - len(forwards) + detailed.WARMUP_MOMENTS + 1


def test_a_deep_pipeline_shows_a_short_ramp():
    """Stage 0 of 256 stages holds 256 micro-batches in flight; its timeline shows 9 of the 256 forwards."""
    model = ModelSpec(layers=256, hidden=64, heads=4, vocab=300)
    ctx = CardContext(model=model, training=TrainingConfig(seq=64), method=MethodConfig(method="detailed"),
                      stage=0, stages=256, vpp=1, layer_indices=(0,), tp=1, dp=1, cp=1, ep=1,
                      in_flight_chunks=256, world=256)
    bd = detailed.detailed_breakdown(ctx)
    assert [m.short for m in bd.timeline if m.short.startswith("forward")] == [
        f"forward {j}/256" for j in (1, 32, 64, 96, 128, 160, 192, 224, 256)]
    assert bd.timeline[bd.peak_moment].short == "backward"

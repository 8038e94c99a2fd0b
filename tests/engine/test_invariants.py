"""Invariants that must hold for every plan (hypothesis)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import GiB, MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid, estimate
from engine.report.json_report import estimate_to_json
from engine.report.records import BREAKDOWN_KEYS

HEADS = 8


@st.composite
def models(draw):
    heads = HEADS
    kv = draw(st.sampled_from([4, 8]))  # Megatron needs kv_heads % TP == 0 (TP <= 4 here)
    head_dim = draw(st.sampled_from([8, 16]))
    return ModelSpec(
        layers=draw(st.sampled_from([4, 8, 12])), hidden=heads * head_dim, heads=heads, kv_heads=kv,
        ffn=draw(st.integers(16, 512)), vocab=draw(st.integers(10, 5000)),
        gated_mlp=draw(st.booleans()), norm=draw(st.sampled_from(["layernorm", "rmsnorm"])),
        bias=draw(st.booleans()), tied_embeddings=draw(st.booleans()),
        dropout=draw(st.sampled_from([0.0, 0.1])),
    )


@st.composite
def trainings(draw):
    return TrainingConfig(
        seq=draw(st.sampled_from([16, 64, 256])), micro_batch=draw(st.integers(1, 4)),
        precision=draw(st.sampled_from(["bf16", "fp16", "fp32"])),
        optimizer=draw(st.sampled_from(["adamw", "sgd"])), zero=draw(st.integers(0, 3)),
        recompute=draw(st.sampled_from(["none", "selective", "full"])),
        flash_attention=draw(st.booleans()), sequence_parallel=draw(st.booleans()),
    )


methods = st.builds(MethodConfig, method=st.sampled_from(["seed", "detailed"]),
                     framework=st.sampled_from(["megatron", "deepspeed"]))


def plan(model, training, method, tp=1, pp=1, dp=1) -> Plan:
    return Plan(model=model, training=training, method=method,
                layout=build_grid(tp=tp, pp=pp, dp=dp, gpu="g", capacity_bytes=80 * GiB))


@settings(max_examples=60, deadline=None)
@given(models(), trainings(), methods, st.sampled_from([1, 2, 4]), st.sampled_from([1, 2, 4]), st.integers(1, 4))
def test_parts_sum_to_total(model, training, method, tp, pp, dp):
    est = estimate(plan(model, training, method, tp, pp, dp))
    report = estimate_to_json(est)
    for card in report["cards"]:
        assert set(BREAKDOWN_KEYS) == set(card["breakdown"])
        assert sum(card["breakdown"].values()) == card["total_bytes"]
        assert all(v >= 0 for v in card["breakdown"].values())


def model_state_bytes(est):
    return max(c.breakdown.weights.bytes + c.breakdown.gradients.bytes + c.breakdown.optimizer_states.bytes
               for c in est.cards)


@settings(max_examples=60, deadline=None)
@given(models(), trainings(), methods, st.sampled_from([1, 2, 4]), st.integers(1, 8), st.integers(1, 8))
def test_more_dp_never_raises_per_card_model_states(model, training, method, pp, dp, extra):
    small = estimate(plan(model, training, method, pp=pp, dp=dp))
    big = estimate(plan(model, training, method, pp=pp, dp=dp + extra))
    assert model_state_bytes(big) <= model_state_bytes(small)
    if training.zero >= 1:
        assert max(c.breakdown.optimizer_states.bytes for c in big.cards) <= max(
            c.breakdown.optimizer_states.bytes for c in small.cards)


@settings(max_examples=60, deadline=None)
@given(models(), trainings(), methods, st.sampled_from([1, 2, 4]), st.sampled_from([1, 2]))
def test_more_pipeline_stages_never_raise_per_card_model_states(model, training, method, pp, dp):
    a = estimate(plan(model, training, method, pp=1, dp=dp))
    b = estimate(plan(model, training, method, pp=pp, dp=dp))
    assert model_state_bytes(b) <= model_state_bytes(a)


@settings(max_examples=60, deadline=None)
@given(models(), trainings(), st.sampled_from([1, 2, 4]), st.sampled_from([2, 4]))
def test_tp_never_raises_per_card_weights(model, training, pp, tp):
    method = MethodConfig(method="detailed")
    one = estimate(plan(model, training, method, pp=pp))
    many = estimate(plan(model, training, method, tp=tp, pp=pp))
    for k in range(pp):
        w1 = next(c.breakdown.weights.bytes for c in one.cards if c.stage == k)
        wt = max(c.breakdown.weights.bytes for c in many.cards if c.stage == k)
        assert wt <= w1


@settings(max_examples=60, deadline=None)
@given(models(), trainings(), methods, st.sampled_from([1, 2, 4]), st.sampled_from([1, 2]))
def test_recompute_never_raises_activations(model, training, method, tp, pp):
    def activations(recompute):
        t = training.model_copy(update={"recompute": recompute})
        return [c.breakdown.activations.bytes for c in estimate(plan(model, t, method, tp=tp, pp=pp)).cards]

    none = activations("none")
    for mode in ("selective", "full"):
        assert all(r <= n for r, n in zip(activations(mode), none, strict=True))


@st.composite
def litgpt_finetunes(draw):
    from engine.finetune.config import FinetuneConfig

    return FinetuneConfig(
        method=draw(st.sampled_from(["lora", "qlora"])), rank=draw(st.sampled_from([1, 4, 16])),
        target_modules=draw(st.sampled_from([("q", "v"), ("q", "k", "v", "o", "gate", "up", "down", "head"), ("up",)])),
        seq=draw(st.sampled_from([16, 64, 256])), micro_batch=draw(st.integers(1, 4)),
        lora_dropout=draw(st.sampled_from([0.0, 0.05])), framework="litgpt",
        gradient_checkpointing=draw(st.booleans()), base_dtype=draw(st.sampled_from(["bf16", "fp32"])))


@settings(max_examples=60, deadline=None)
@given(models(), litgpt_finetunes(), st.sampled_from([1, 2]))
def test_an_older_bitsandbytes_never_needs_less(model, cfg, pp):
    """bitsandbytes before 0.43.2 keeps each 4-bit linear's input besides everything a current release keeps, and
    LitGPT's loop holds it into the next micro-batch: every card's peak, and every part of it, sums the same way."""
    def run(version):
        p = Plan(mode="finetune", model=model, finetune=cfg.model_copy(update={"bnb_version": version}),
                 layout=build_grid(pp=pp, gpu="g", capacity_bytes=80 * GiB))
        return estimate(p)

    old, new = run("0.42.0"), run(None)
    for o, n in zip(old.cards, new.cards, strict=True):
        assert o.breakdown.total_bytes >= n.breakdown.total_bytes
        assert sum(f.bytes for f in o.breakdown.parts()) == o.breakdown.total_bytes
        assert o.breakdown.timeline[o.breakdown.peak_moment].total_bytes == max(
            m.total_bytes for m in o.breakdown.timeline)


all_frameworks = st.builds(MethodConfig, method=st.just("detailed"),
                           framework=st.sampled_from(["megatron", "megatron-2021", "deepspeed", "huggingface"]))


@settings(max_examples=60, deadline=None)
@given(models(), trainings(), all_frameworks, st.sampled_from([1, 2]), st.sampled_from([1, 2, 4]))
def test_before_the_first_optimizer_step_a_card_needs_at_most_its_step_less_the_state(model, training, method, pp, dp):
    """Until the optimizer creates its state the card needs no more than its step without that state: each
    moment holds it, and the overhead never grows when the allocated bytes do not."""
    est = estimate(plan(model, training, method, pp=pp, dp=dp))
    for card in est.cards:
        first = card.breakdown.before_first_step
        if method.framework == "deepspeed":
            assert first is None
            continue
        if first is None:
            continue
        assert first.state_bytes > 0
        assert 0 < first.total_bytes <= card.total_bytes - first.state_bytes
        moments = {f.key: f.bytes for f in card.breakdown.details}["optimizer_moments"]
        assert first.state_bytes == moments

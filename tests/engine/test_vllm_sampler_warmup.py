"""vLLM V1's profiled batch and sampler warm-up, by hand.

Model as in test_serving (2 layers, hidden 256, 4 heads x 64, 2 KV heads, gated MLP 512) but with
Qwen's vocabulary of 151,936 entries, so that the warm-up, not the forward, is the profile's peak.
Forward working set per token: 3 x 256 + max(768, 3 x 512) = 2,304 elements (test_serving).
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cli.main import main
from engine.estimate import estimate
from engine.serving.config import ServingConfig
from engine.serving.vllm_batch import v1_batch
from engine.serving.vllm_sampler import sampler_warmup, sorts_vocabulary, triton_buffer_rows
from engine.units import GiB
from tests.engine.test_infer_cli import SMALL as SMALL_FLAGS
from tests.engine.test_infer_cli import run_error, run_json
from tests.engine.test_serving import SMALL, plan

QWEN_VOCAB = 151_936
BIG_VOCAB = SMALL.model_copy(update={"vocab": QWEN_VOCAB})
H100 = 80 * GiB  # at least 70 GiB, and not an A100: V1's large-card defaults


@pytest.mark.parametrize(("version", "entry", "gpu", "capacity", "tokens", "seqs"), [
    (None, "serve", "H100 SXM", H100, 8_192, 1_024),  # the newest rule: >= 70 GiB and not an A100 (PR 17885)
    (None, "llm", "H100 SXM", H100, 16_384, 1_024),
    ((0, 9, 2), "serve", "A100 80GB", H100, 2_048, 256),  # larger budgets slowed A100s down
    ((0, 8, 5), "serve", "B200", 180 * GiB, 2_048, 256),  # before 0.9 the name decided: "h100" / "h200" only
    ((0, 9, 0), "serve", "B200", 180 * GiB, 8_192, 1_024),
    ((0, 8, 3), "serve", "L40S", 44 * GiB, 2_048, 1_024),  # 1,024 everywhere until PR 16158 (0.8.4)
    ((0, 8, 5), "llm", "L40S", 44 * GiB, 8_192, 256),
])
def test_v1_defaults_by_card_entry_and_release(version, entry, gpu, capacity, tokens, seqs):
    batch = v1_batch(version, entry, gpu, capacity)
    assert (batch.tokens, batch.seqs) == (tokens, seqs)


def test_set_values_win_and_requests_are_at_most_the_chunk():
    assert (v1_batch(None, "serve", "L40S", 44 * GiB, tokens=128).seqs) == 128  # min(256, 128)
    batch = v1_batch(None, "serve", "L40S", 44 * GiB, tokens=4_096, seqs=2_000)
    assert (batch.tokens, batch.seqs) == (4_096, 2_000)
    assert "set" in batch.why


def test_warmup_bytes_by_hand():
    # always held per request and vocabulary entry: 2 B bf16 logits + 4 B fp32 copy; in the sort its outputs,
    # 4 B sorted values + 8 B int64 indices, and what PyTorch's CUDA sort allocates beside them
    warm = sampler_warmup(BIG_VOCAB, requests=1_024, tokens=8_192)
    # 128 rows or more, a segmented sort: 8 B reverse indices + CUB's third keys and values buffers 4 + 8 B
    assert warm.sampler == 1_024 * 151_936 * (2 + 4 + 12 + 20) == 5_912_133_632
    assert warm.hidden == 2 * (8_192 + 1_024) * 256 == 4_718_592
    # 2 to 127 rows, a full sort: two int2 buffers 8 + 8 B, ATen's keys output 4 B, CUB's keys and values 4 + 8 B
    assert sampler_warmup(BIG_VOCAB, 64, 2_048).sampler == 64 * 151_936 * (2 + 4 + 12 + 32)
    # one row is sorted on its own: 20 B per vocabulary entry once; fp32 logits need no copy
    assert sampler_warmup(BIG_VOCAB, 1, 1).sampler == 151_936 * (2 + 4 + 12) + 151_936 * 20
    assert sampler_warmup(BIG_VOCAB, 1, 1, act_bytes=4).sampler == 151_936 * (4 + 0 + 12) + 151_936 * 20
    # 10^6 entries per row are sorted row by row too; then the scatter moment, 14 B more per entry (top-k mask 1,
    # softmax 4, cumulative sum 4, top-p mask 1, result 4) beside the sort's outputs, is the larger
    huge = BIG_VOCAB.model_copy(update={"vocab": 1_000_000})
    assert 2 * 1_000_000 * (2 + 4 + 12) + 1_000_000 * 20 < 2 * 1_000_000 * (2 + 4 + 12 + 14)
    assert sampler_warmup(huge, 2, 1).sampler == 2 * 1_000_000 * (2 + 4 + 12 + 14)


def _h100(**kw) -> ServingConfig:
    """A release whose sampler sorts the vocabulary (0.15.1) unless the test names another."""
    kw.setdefault("vllm_version", "0.15.1")
    return ServingConfig(context=4096, runtime="vllm", gpu_memory_utilization=0.5, **kw)


def test_profile_peaks_in_the_warmup_and_the_pool_shrinks_by_its_excess():
    one = estimate(plan(_h100(max_num_seqs=1), capacity=H100, model=BIG_VOCAB))
    full = estimate(plan(_h100(), capacity=H100, model=BIG_VOCAB))
    # one request: warm-up 151,936 x 38 + 2 x (8,192 + 1) x 256 = 9,968,384 B, below the forward:
    # 2 B x 8,192 x 2,304 + flash LSE 4 B x 4 heads x 8,192 = 37,879,808 and logits (2 + 4) B x 151,936 = 911,616
    forward = 37_879_808 + 911_616
    assert forward > 151_936 * 38 + 2 * 8_193 * 256
    bd = one.cards[0].breakdown
    assert (bd.activations.bytes, bd.logits.bytes) == (37_879_808, 911_616)
    # 1,024 requests (the large-card default): the warm-up, 5,912,133,632 + 4,718,592 = 5,916,852,224 B
    bd = full.cards[0].breakdown
    assert (bd.activations.bytes, bd.logits.bytes) == (4_718_592, 5_912_133_632)
    assert {d.key: d.bytes for d in bd.details}["sampler_warmup"] == 5_916_852_224
    assert one.serving.kv_pool_bytes - full.serving.kv_pool_bytes == 5_916_852_224 - forward == 5_878_060_800


def test_v1_releases_before_0_8_profile_no_sampler_and_v0_samples():
    est = estimate(plan(_h100(vllm_version="0.7.3", vllm_engine="v1"), capacity=H100, model=BIG_VOCAB))
    bd = est.cards[0].breakdown
    assert bd.logits.bytes == 911_616 and "sampler_warmup" not in {d.key for d in bd.details}
    # V0 samples its 256 dummy sequences (top_p 0.99, top_k V - 1) in every release: 256 x 151,936 x 38 B
    v0 = estimate(plan(_h100(vllm_version="0.6.4", max_model_len=4096), capacity=H100, model=BIG_VOCAB))
    assert v0.cards[0].breakdown.logits.bytes == 256 * 151_936 * 38 == 1_478_033_408


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([(2, 127), (128, 4_096)]).flatmap(
    lambda bounds: st.tuples(st.integers(*bounds), st.integers(*bounds))))
def test_more_warmup_requests_never_grow_the_pool_within_one_sort_algorithm(pair):
    low, high = sorted(pair)
    pools = [estimate(plan(_h100(max_num_seqs=s), capacity=H100, model=BIG_VOCAB)).serving.kv_pool_bytes
             for s in (low, high)]
    assert pools[1] <= pools[0]


def test_the_sort_algorithm_switch_at_128_rows_is_a_step_down():
    # PyTorch sorts 2-127 rows with a full sort (32 B of buffers per entry) and 128 or more with a segmented
    # sort (20 B): 127 requests x 50 B = 6,350 B per vocabulary entry > 128 x 38 B = 4,864 B
    assert sampler_warmup(BIG_VOCAB, 127, 8_192).sampler == 127 * 151_936 * 50
    assert sampler_warmup(BIG_VOCAB, 128, 8_192).sampler == 128 * 151_936 * 38
    assert 127 * 50 > 128 * 38


def test_cli_flags(capsys):
    flags = [("151936" if f == "1000" else f) for f in SMALL_FLAGS]  # Qwen's vocabulary
    data = run_json(capsys, "infer", *flags, "--runtime", "vllm", "--gpu", "H100 SXM",
                    "--vllm-entry", "llm", "--max-num-seqs", "64")
    formula = data["cards"][0]["formulas"]["logits"]
    assert "max_num_batched_tokens 16,384 (V1 large-card default for the LLM class)" in formula
    assert "max_num_seqs 64 (set)" in formula
    err = run_error(capsys, "infer", *SMALL_FLAGS, "--runtime", "vllm", "--gpu", "H100 SXM", "--max-num-seqs", "0")
    assert "--max-num-seqs" in err and "0" in err
    err = run_error(capsys, "infer", *SMALL_FLAGS, "--runtime", "vllm", "--gpu", "H100 SXM", "--vllm-entry", "api")
    assert "--vllm-entry" in err and "serve" in err


def test_a_plan_above_its_max_num_seqs_is_warned_and_a_larger_batch_raises_the_warmup():
    capped = estimate(plan(_h100(batch=300, max_num_seqs=64), capacity=H100, model=BIG_VOCAB))
    warning = next(w for w in capped.warnings if w.code == "vllm-max-num-seqs")
    assert "at most max_num_seqs 64" in warning.message and "--max-num-seqs 300" in warning.message
    # unset, a batch above vLLM's default (1,024 here) needs --max-num-seqs raised to it: 2,000 requests
    wide = estimate(plan(_h100(batch=2_000), capacity=H100, model=BIG_VOCAB))
    assert not any(w.code == "vllm-max-num-seqs" for w in wide.warnings)
    assert wide.cards[0].breakdown.logits.bytes == 2_000 * 151_936 * 38
    assert "raised to the plan's 2,000 concurrent sequences" in wide.cards[0].breakdown.logits.formula


def test_the_table_says_where_the_profile_peaks(capsys):
    flags = [("151936" if f == "1000" else f) for f in SMALL_FLAGS]
    assert main(["infer", *flags, "--runtime", "vllm", "--gpu", "H100 SXM", "--units", "GiB",
                 "--vllm-version", "0.15.1"]) == 0
    # 1,024 requests x 151,936 x 38 B + hidden 2 B x (8,192 + 1,024) x 256 = 5,916,852,224 B = 5.51 GiB
    assert "vLLM's profile peaks in its sampler warm-up: 5.51 GiB" in capsys.readouterr().out
    # the newest release does not sort: 1,024 x 151,936 x 14 B + the Triton buffer 132 SMs x 151,936 x 4 B
    # + the hidden states 4,718,592 B = 2,178,154,496 + 80,222,208 + 4,718,592 = 2,263,095,296 B = 2.11 GiB
    assert main(["infer", *flags, "--runtime", "vllm", "--gpu", "H100 SXM", "--units", "GiB"]) == 0
    assert "vLLM's profile peaks in its sampler warm-up: 2.11 GiB" in capsys.readouterr().out
    assert main(["infer", *flags, "--runtime", "vllm", "--gpu", "H100 SXM", "--max-num-seqs", "1",
                 "--vllm-version", "0.15.1"]) == 0
    assert "vLLM's sampler warm-up: 0.01 GB, below its profile's forward" in capsys.readouterr().out


def test_max_num_seqs_above_the_batched_tokens_is_refused_and_the_warmup_takes_one_request_per_token():
    # 4,096 sequences with `vllm serve`'s 2,048-token chunks on a card below 70 GiB: vLLM refuses to start
    # (SchedulerConfig: max_num_batched_tokens >= max_num_seqs); the dummy run would sample min(4,096, 2,048)
    est = estimate(plan(_h100(max_num_seqs=4_096), capacity=40 * GiB, model=BIG_VOCAB))
    warning = next(w for w in est.warnings if w.code == "vllm-batch-refused")
    assert "refuses to start" in warning.message and "at least 4,096" in warning.message
    assert est.cards[0].breakdown.logits.bytes == 2_048 * 151_936 * 38


def test_which_releases_sort_the_vocabulary():
    # every V0 release; V1 until the Triton top-k/top-p kernel (PR 33538), counted from 0.19.0 (module docstring)
    assert sorts_vocabulary((0, 6, 4), "v0") and sorts_vocabulary((0, 30, 0), "v0")
    assert sorts_vocabulary((0, 15, 1), "v1") and sorts_vocabulary((0, 18, 9), "v1")
    assert not sorts_vocabulary((0, 19, 0), "v1") and not sorts_vocabulary(None, "v1")


def test_warmup_without_the_sort_by_hand():
    # per request and vocabulary entry: 2 B bf16 logits + 4 B fp32 copy + 4 B softmax + 4 B exponential noise;
    # the Triton kernel's buffer: one fp32 row of V per program, min(SMs, N) programs rounded up to a power of two
    # but at most the SM count: 1,024 requests on 132 SMs -> 132 rows
    warm = sampler_warmup(BIG_VOCAB, requests=1_024, tokens=8_192, sorts=False, sms=132)
    assert warm.sampler == 1_024 * 151_936 * 14 + 132 * 151_936 * 4 == 2_258_376_704
    assert warm.hidden == 2 * (8_192 + 1_024) * 256
    assert (triton_buffer_rows(64, 132), triton_buffer_rows(100, 132), triton_buffer_rows(100, 114)) == (64, 128, 114)
    assert triton_buffer_rows(1, 132) == 1
    # fp32 logits need no copy: 4 + 4 + 4 B
    assert sampler_warmup(BIG_VOCAB, 64, 2_048, act_bytes=4, sorts=False, sms=58).sampler == (
        64 * 151_936 * 12 + 58 * 151_936 * 4)
    with pytest.raises(ValueError, match="SM count"):
        sampler_warmup(BIG_VOCAB, 64, 2_048, sorts=False)


def test_the_newest_release_on_a_catalog_card_reads_its_sm_count():
    # H100 SXM: 132 SMs (catalog); 1,024 requests (the large-card default), 14 B per entry without the sort
    newest = estimate(plan(_h100(vllm_version=None), capacity=H100, model=BIG_VOCAB, gpu="H100 SXM"))
    assert newest.cards[0].breakdown.logits.bytes == 1_024 * 151_936 * 14 + 132 * 151_936 * 4
    sorted_ = estimate(plan(_h100(vllm_version="0.18.0"), capacity=H100, model=BIG_VOCAB, gpu="H100 SXM"))
    assert sorted_.cards[0].breakdown.logits.bytes == 1_024 * 151_936 * 38
    # the pool grows by what the sort took beyond the Triton path (both accountings leave the graphs out before
    # 0.20, and 0.18 and 0.19 count the same): 1,024 x 151,936 x 24 - 80,222,208 = 3,653,756,928 B
    v019 = estimate(plan(_h100(vllm_version="0.19.0"), capacity=H100, model=BIG_VOCAB, gpu="H100 SXM"))
    assert v019.serving.kv_pool_bytes - sorted_.serving.kv_pool_bytes == 1_024 * 151_936 * 24 - 80_222_208


def test_the_warmup_still_peaks_with_the_buffers_kept_through_the_profile():
    # a MoE model with Qwen's vocabulary on an H100 (the newest release): the sampler warm-up peaks, and the persistent
    # MoE workspace (2 B x 8,192 x 2 x (256 + 256) = 16,777,216 B) sits on top of it; the answer still says so
    from engine.model.spec import MoESpec
    from engine.serving.report import sampler_warmup_of

    moe = BIG_VOCAB.model_copy(update={"moe": MoESpec(experts=8, top_k=2, expert_ffn=128)})
    card = estimate(plan(_h100(vllm_version=None), capacity=H100, model=moe, gpu="H100 SXM")).cards[0]
    details = {d.key: d.bytes for d in card.breakdown.details}
    assert details["moe_workspace"] == 2 * 8_192 * 2 * (256 + 256) == 16_777_216
    warm, peaks = sampler_warmup_of(card)
    assert peaks and warm == details["sampler_warmup"]
    assert card.breakdown.activations.bytes + card.breakdown.logits.bytes == warm + 16_777_216

"""Templates: every one opens without an error; the article's figures are on the bars."""

from __future__ import annotations

import pytest

from engine.plan.schema import load_plan
from gui.chart import MemoryChart
from gui.document import PlanDocument
from gui.templates import (
    DEFAULT_TEMPLATE,
    all_templates,
    default_plan,
    load_template,
)

TEMPLATE_KEYS = [t.key for t in all_templates()]


def test_the_article_scenarios_are_all_there():
    keys = set(TEMPLATE_KEYS)
    assert {"article-13b-pp4-zero1-dp2", "article-13b-pp8", "article-13b-zero1-only",
            "13b-detailed-megatron", "70b-80-cards"} <= keys
    assert DEFAULT_TEMPLATE in keys


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_template_opens_without_error(qtbot, key):
    template = next(t for t in all_templates() if t.key == key)
    plan = load_plan(template.path)  # a plain plan file for the engine's loader
    document = PlanDocument(plan)
    chart = MemoryChart(document)
    qtbot.addWidget(chart)
    assert document.error is None, document.error
    assert document.estimate is not None and document.estimate.cards
    assert all(w.severity in ("warning", "info") for w in document.estimate.warnings)


def test_default_plan_is_the_articles_13b_pp4_zero1_dp2():
    plan = default_plan()
    assert plan.method.method == "seed" and plan.training.zero == 1
    assert len(plan.layout.cards) == 8 and len({c.stage for c in plan.layout.cards}) == 4
    assert plan.model.params == 13_000_000_000 and plan.model.layers == 40 and plan.model.hidden == 5120


def _stage_totals(key: str) -> list[int]:
    document = PlanDocument(load_template(key))
    totals: dict[int, int] = {}
    for card in document.estimate.cards:
        totals[card.stage] = card.total_bytes
    return [totals[s] for s in sorted(totals)]


def test_pp4_zero1_dp2_matches_the_article():
    # 13e9 x (6/4 + 12/8) = 39e9 of model states; activations 40 x 4096 x 5120 x 10 layers
    # = 8,388,608,000 per micro-batch, x (4, 3, 2, 1) in flight (1F1B).
    act = 40 * 4096 * 5120 * 10
    assert _stage_totals("article-13b-pp4-zero1-dp2") == [39_000_000_000 + act * k for k in (4, 3, 2, 1)]


def test_pp8_stage1_is_63_gb():
    # 13e9 x 18 / 8 = 29.25e9; activations 40 x 4096 x 5120 x 5 layers x 8 in flight = 33,554,432,000
    assert _stage_totals("article-13b-pp8")[0] == 29_250_000_000 + 33_554_432_000


def test_zero1_only_does_not_fit():
    # 13e9 x (6 + 12/8) + 40 x 4096 x 5120 x 40 = 97.5e9 + 33,554,432,000 > 80 GiB
    document = PlanDocument(load_template("article-13b-zero1-only"))
    assert [c.total_bytes for c in document.estimate.cards] == [97_500_000_000 + 33_554_432_000] * 8
    assert not document.estimate.fits
    assert any(w.code == "over-capacity" for w in document.estimate.warnings)


def test_unknown_template_names_the_known_ones():
    with pytest.raises(Exception) as info:
        load_template("nope")
    assert info.value.field == "template" and DEFAULT_TEMPLATE in info.value.allowed

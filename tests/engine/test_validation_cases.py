"""The validation table against published runs (resources/validation/, docs/validation.md).

Every case is an observation of a real run, cited in its file with the exact quote.  A case
passes within its tolerance (±10 % unless the source rounds), and an estimate may not be lower
than an observed peak by more than 5 %.  A case the engine still misses carries ``open_gap``
(the mechanism not modelled yet, in words); this test fails when a passing case regresses and
also when an open case starts passing, so the file always says where the engine stands.
"""

import pytest

from engine.validation.cases import load_cases
from engine.validation.check import check

CASES = load_cases()


def test_the_suite_covers_every_category_the_issue_names():
    by = {}
    for c in CASES:
        by.setdefault(c.category, []).append(c)
    assert len(CASES) >= 50
    assert len(by["vllm"]) >= 10 and len(by["llamacpp"]) >= 10 and len(by["finetune"]) >= 10
    tp_kv = [c for c in by["vllm"] if c.observed.metric == "kv_pool_tokens" and (c.settings.get("tp") or 1) > 1]
    assert tp_kv, "vLLM KV pools with TP > 1"
    for c in CASES:
        assert c.quote.strip() and c.source.citation(), c.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_is_within_tolerance_or_an_open_gap(case):
    result = check(case)
    if case.open_gap:
        assert not result.ok, f"{case.id} now passes ({result.error_percent}); remove its open_gap"
    else:
        assert result.ok, f"{case.id}: {result.problem}"


def test_docs_validation_md_is_the_current_table():
    from pathlib import Path

    from engine.validation.table import render_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text(encoding="utf-8")
    begin, end = "<!-- vramplan validate --markdown: begin -->\n", "\n<!-- vramplan validate --markdown: end -->"
    published = doc[doc.index(begin) + len(begin):doc.index(end)]
    assert published == render_markdown([check(c) for c in CASES]).rstrip(), (
        "docs/validation.md is out of date: regenerate the table with `vramplan validate --markdown`")

"""The validation table (text and Markdown) and the error per category."""

from __future__ import annotations

import statistics
from collections import defaultdict

from engine.validation.check import CaseResult

UNIT_OF_METRIC = {
    "kv_pool_tokens": ("tokens", 1), "max_concurrency": ("x", 1), "verdict": ("", 1),
}


def _fmt(metric: str, value: float | str | None, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if metric in UNIT_OF_METRIC:
        return f"{value:,.0f}" if metric == "kv_pool_tokens" else f"{value:.2f}x"
    scale = {"MiB": 2**20, "MB": 10**6, "GB": 10**9}.get(unit, 2**30)
    name = unit if unit in ("MiB", "MB", "GB") else "GiB"
    return f"{value / scale:,.2f} {name}"


def category_summary(results: list[CaseResult]) -> list[tuple[str, int, int, float, float, float, float]]:
    """Per category, numeric cases: (category, cases, within tolerance, mean |error| % of those within
    tolerance, median |error| % of all, most negative %, most positive %)."""
    by: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        if r.error_percent is not None:
            by[r.case.category].append(r)
    out = []
    for c, rs in sorted(by.items()):
        errors = [r.error_percent for r in rs if r.error_percent is not None]
        ok = [abs(r.error_percent) for r in rs if r.ok and r.error_percent is not None]
        out.append((c, len(rs), len(ok), statistics.fmean(ok) if ok else 0.0,
                    statistics.median(abs(e) for e in errors), min(errors), max(errors)))
    return out


def verdicts_reproduced(results: list[CaseResult]) -> tuple[int, int]:
    """(verdicts reproduced, verdict cases)."""
    verdicts = [r for r in results if r.case.observed.metric == "verdict"]
    return sum(r.ok for r in verdicts), len(verdicts)


def _rows(results: list[CaseResult]) -> list[list[str]]:
    rows = []
    for r in results:
        m, unit = r.case.observed.metric, r.case.observed.unit
        err = "" if r.error_percent is None else f"{r.error_percent:+.1f} %"
        status = "ok" if r.ok else ("open gap" if r.case.open_gap else "FAIL")
        phase = r.case.observed.phase
        label = m if m != "verdict" or phase == "step" else f"{m} ({phase})"
        rows.append([r.case.id, r.case.category, label, _fmt(m, r.observed, unit), _fmt(m, r.estimate, unit), err, status,
                     r.case.source.citation()])
    return rows


HEADER = ["case", "category", "metric", "observed", "estimate", "error", "status", "source"]


def render_text(results: list[CaseResult]) -> str:
    rows = [HEADER, *_rows(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", "error per category (numeric cases): within tolerance / cases, mean |error| of those, "
              "median |error| of all, range"]
    for cat, count, ok, mean, median, lo, hi in category_summary(results):
        lines.append(f"  {cat:<10} {ok:>3} / {count:<3} {mean:5.1f} %  {median:5.1f} %  {lo:+.1f} % .. {hi:+.1f} %")
    reproduced, verdicts = verdicts_reproduced(results)
    if verdicts:
        lines.append(f"  verdicts   {reproduced} of {verdicts} reproduced")
    failed = [r for r in results if not r.ok]
    lines.append(f"{len(results) - len(failed)} of {len(results)} cases within tolerance")
    for r in failed:
        lines.append(f"  {r.case.id}: {r.problem}" + (f" (open gap: {r.case.open_gap})" if r.case.open_gap else ""))
    return "\n".join(lines)


def render_markdown(results: list[CaseResult]) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in _rows(results)]
    out += ["", "| category | within tolerance | mean abs error (within tolerance) | median abs error (all) | range |",
            "|---|---|---|---|---|"]
    for cat, count, ok, mean, median, lo, hi in category_summary(results):
        out.append(f"| {cat} | {ok} of {count} | {mean:.1f} % | {median:.1f} % | {lo:+.1f} % .. {hi:+.1f} % |")
    reproduced, verdicts = verdicts_reproduced(results)
    if verdicts:
        out.append(f"| verdicts | {reproduced} of {verdicts} reproduced | | | |")
    return "\n".join(out)

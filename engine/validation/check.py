"""Run each validation case through the CLI's own JSON output and compare it with the observation."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass

from pydantic import BaseModel, Field

from engine.errors import PlanError
from engine.validation.cases import PEAK_LOW_LIMIT_PERCENT, Case


class ValidationRecord(BaseModel):
    """One case of ``vramplan validate --json`` (a list of these)."""

    id: str
    category: str
    metric: str = Field(description="what was observed: peak_allocated_bytes, kv_pool_tokens, verdict, ...")
    observed: float | str = Field(description="bytes, tokens or requests (converted from the source's unit); "
                                  "'oom' or 'fits' for verdicts")
    estimate: float | str | None = Field(description="the engine's figure for the same metric; None if the call failed")
    error_percent: float | None = Field(description="(estimate - observed) / observed x 100; None for verdicts")
    ok: bool = Field(description="within the case's tolerance (and not more than 5 % under an observed peak)")
    problem: str = Field(description="why the case failed, in words; empty when ok")
    open_gap: str | None = Field(description="the mechanism the engine does not model yet, when the case is known to miss")
    source: str = Field(description="repository#issue, repository:path, or URL")


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    observed: float | str
    estimate: float | str | None
    error_percent: float | None  # (estimate - observed) / observed; None for verdicts and failures
    ok: bool
    problem: str = ""  # why the case failed, in words

    def record(self) -> ValidationRecord:
        return ValidationRecord(id=self.case.id, category=self.case.category, metric=self.case.observed.metric,
                                observed=self.observed, estimate=self.estimate, error_percent=self.error_percent,
                                ok=self.ok, problem=self.problem, open_gap=self.case.open_gap,
                                source=self.case.source.citation())


def _report(case: Case) -> dict:
    from engine.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([case.vramplan.command, *case.vramplan.args, "--json"])
        except SystemExit as e:  # argparse refuses the flags
            code = e.code if isinstance(e.code, int) else 2
    if code != 0:
        raise PlanError(f"{case.id}.vramplan.args", " ".join(case.vramplan.args), f"a call that runs ({err.getvalue().strip()})")
    return json.loads(out.getvalue())


def _card(case: Case, report: dict, key) -> dict:
    cards = report["cards"]
    if case.observed.card is not None:
        return cards[case.observed.card]
    return max(cards, key=key)


def _details(card: dict) -> dict:
    return card.get("details", {})


def measure(case: Case, report: dict) -> float | str:
    """The engine's figure for the case's metric, from the JSON report."""
    metric = case.observed.metric
    if metric == "verdict" and case.observed.phase == "before first optimizer step":
        fits = report.get("fits_before_first_optimizer_step")
        if fits is None:
            raise PlanError(f"{case.id}.observed.phase", case.observed.phase,
                            "a plan whose optimizer creates its state in its first step (fits_before_first_optimizer_step)")
        return "fits" if fits else "oom"
    if metric == "verdict":
        return "fits" if report["fits"] else "oom"
    if metric == "kv_pool_tokens":
        return float(report["kv_pool_tokens"] or 0)
    if metric == "kv_pool_bytes":  # the smallest card's pool, as vLLM's workers each log theirs
        return float((report.get("serving") or {}).get("kv_pool_bytes") or 0)
    if metric == "max_concurrency":
        max_len = case.settings.get("max_model_len") or report["serving"]["context"]
        return (report["kv_pool_tokens"] or 0) / max_len
    if metric == "model_file_bytes":
        return float(report["weight_bytes"])
    if metric in ("weights_bytes_per_card", "weights_buffer_bytes"):
        return float(_card(case, report, lambda c: c["breakdown"]["weights"])["breakdown"]["weights"])
    if metric == "kv_cache_bytes" and case.observed.kv_layers == "window":
        def window(c: dict) -> int:
            return _details(c).get("kv_cache_window_layers", 0)

        if case.observed.cards == "sum":
            return float(sum(window(c) for c in report["cards"]))
        return float(window(_card(case, report, window)))
    if case.observed.cards == "sum" and metric in ("kv_cache_bytes", "weights_buffer_bytes", "compute_buffer_bytes"):
        key = {"kv_cache_bytes": ("kv_cache",), "weights_buffer_bytes": ("weights",),
               "compute_buffer_bytes": ("activations", "logits")}[metric]
        return float(sum(c["breakdown"][k] for c in report["cards"] for k in key))
    if metric == "kv_cache_bytes":
        return float(_card(case, report, lambda c: c["breakdown"]["kv_cache"])["breakdown"]["kv_cache"])
    if metric == "compute_buffer_bytes":
        card = _card(case, report, lambda c: c["breakdown"]["activations"] + c["breakdown"]["logits"])
        return float(card["breakdown"]["activations"] + card["breakdown"]["logits"])
    moments = case.observed.moments
    if metric == "peak_allocated_bytes" and moments is not None:
        wanted = set(moments)

        def allocated(c: dict) -> int:  # the highest of the moments the run reached, with the library workspaces
            reached = [m["bytes"] for m in c["timeline"] if m["short"] in wanted]
            if not reached:
                raise PlanError(f"{case.id}.observed.moments", ",".join(moments),
                                "moments of the card's timeline: " + ", ".join(m["short"] for m in c["timeline"]))
            return max(reached) + _details(c).get("library_workspace", 0)

        return float(allocated(_card(case, report, allocated)))
    if metric == "peak_allocated_bytes":
        def allocated(c: dict) -> int:  # the overhead is outside PyTorch's allocator, but for its library workspaces
            return c["total_bytes"] - c["breakdown"]["overhead"] + _details(c).get("library_workspace", 0)

        return float(allocated(_card(case, report, allocated)))
    if metric == "peak_reserved_bytes":
        def reserved(c: dict) -> int:
            d = _details(c)
            return c["total_bytes"] - d.get("cuda_context", 0) - d.get("nccl", 0)

        return float(reserved(_card(case, report, reserved)))
    if metric == "profile_peak_bytes":
        def profiled(c: dict) -> int:  # what vLLM's profile allocates above the weights, cuBLAS's workspace included
            d = _details(c)
            return (c["breakdown"]["activations"] + c["breakdown"]["logits"]
                    + d.get("library_workspace", 0) - d.get("cuda_graphs", 0))

        return float(profiled(_card(case, report, profiled)))
    if metric == "device_used_bytes":
        return float(_card(case, report, lambda c: c["total_bytes"])["total_bytes"])
    raise PlanError(f"{case.id}.observed.metric", metric, "a metric vramplan validate knows")


def check(case: Case) -> CaseResult:
    try:
        report = _report(case)
        estimate = measure(case, report)
    except PlanError as e:
        return CaseResult(case, case.observed.value, None, None, False, str(e))
    if case.observed.metric == "verdict":
        ok = estimate == case.observed.value
        return CaseResult(case, case.observed.value, estimate, None, ok,
                          "" if ok else f"published {case.observed.value}, vramplan says {estimate}")
    observed = case.observed_number()
    estimate = float(estimate)
    error = (estimate - observed) / observed * 100 if observed else 0.0
    problem = ""
    if abs(error) > case.tolerance_percent:
        problem = f"error {error:+.1f} % beyond ±{case.tolerance_percent:g} %"
    elif case.observed.kind == "peak" and error < -PEAK_LOW_LIMIT_PERCENT:
        problem = f"{error:+.1f} %: lower than a published peak by more than {PEAK_LOW_LIMIT_PERCENT:g} %"
    return CaseResult(case, observed, estimate, error, not problem, problem)

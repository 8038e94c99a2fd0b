"""The serving answers of the current plan, beside the document: the widgets only display them.

What a serving user asks — the longest context, the most concurrent sequences, the KV pool, the
least aggressive weight format that fits, the cheapest card, the formats these cards cannot run —
comes from the engine (``Estimate.serving`` and :mod:`engine.serving.answers`).  The first three
are part of every estimate; the format and card searches run the engine some 70 more times
(~40 ms), so :class:`ServingAnswers` runs them on a worker thread, a moment after the last edit,
and remembers the answers of recent plans: typing in a field stays responsive.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from engine.errors import PlanError
from engine.plan.schema import Plan
from engine.report.records import CardEstimate
from engine.serving.answers import (
    CpuMoeOption,
    GpuOption,
    QuantOption,
    cheapest_gpu,
    fewest_cpu_moe_layers,
    quant_options,
    runtime_schemes,
)
from engine.serving.summary import ServingSummary
from engine.serving.support import catalog_gpu, format_support
from engine.weights.quant import find_scheme

DEBOUNCE_MS = 250  # the searches start this long after the last edit
MEMO_SIZE = 32  # plans whose search results are kept
POOL_RUNTIMES = ("vllm", "trtllm")  # runtimes that reserve a KV pool up front
# One worker for every window: a Python thread, so a window closing mid-search never waits for it
# inside a C++ destructor (which would hold the GIL the search needs); its late result is dropped.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vramplan-serving")


@dataclass(frozen=True)
class Searches:
    """The slow answers: every format the runtime loads (largest weights first), the cheapest card and, for a
    mixture of experts on llama.cpp, the fewest layers whose experts must stay in system RAM."""

    options: tuple[QuantOption, ...]
    cheapest: GpuOption | None
    cpu_moe: CpuMoeOption | None = None

    @property
    def best(self) -> QuantOption | None:
        """The least aggressive format that fits and every card can run (engine.serving.answers.best_quant)."""
        return next((o for o in self.options if o.fits and o.supported), None)

    @property
    def ruled_out(self) -> tuple[QuantOption, ...]:
        return tuple(o for o in self.options if not o.supported)


@dataclass(frozen=True)
class Answers:
    """Everything the serving panel shows for one plan."""

    summary: ServingSummary
    worst: CardEstimate | None  # the fullest card: it decides the limits
    trained_context: int | None  # the model's trained context (caps the longest context)
    pool: bool  # the runtime reserves a KV pool (vLLM, TensorRT-LLM)
    searches: Searches | None  # None while they run
    search_error: str = ""  # a search the engine refused (shown instead of its answers)

    @property
    def context_bound_by_training(self) -> bool:
        """The longest context stops at what the model was trained for, not at memory."""
        return self.trained_context is not None and self.summary.max_context_tokens >= self.trained_context


def searches(plan: Plan) -> Searches:
    """The slow answers of ``plan`` (runs the engine ~70 times); PlanError when it refuses the plan."""
    return Searches(tuple(quant_options(plan)), cheapest_gpu(plan), fewest_cpu_moe_layers(plan))


def unsupported_formats(plan: Plan) -> dict[str, str]:
    """Formats the plan's runtime loads that one of its cards cannot run, with the reason (fast: no estimate)."""
    if plan.mode != "serving" or plan.serving is None:
        return {}
    cfg = plan.serving
    gpus = [g for g in (catalog_gpu(name) for name in dict.fromkeys(c.gpu for c in plan.layout.cards)) if g]
    out: dict[str, str] = {}
    for name in runtime_schemes(cfg.runtime):
        scheme = find_scheme(name, cfg.group_size, cfg.double_quant)
        refused = next((s for s in (format_support(g, scheme, cfg.runtime) for g in gpus) if not s.ok), None)
        if refused is not None:
            out[name] = refused.note
    return out


class _Relay(QObject):
    done = Signal(object, object, str)  # plan, Searches | None, error text


def _run_search(plan: Plan, relay: _Relay) -> None:
    """On the worker thread: the searches, handed to the GUI thread through ``relay`` (queued)."""
    try:
        result, error = searches(plan), ""
    except PlanError as e:
        result, error = None, str(e)
    relay.done.emit(plan, result, error)  # the relay outlives the window (see ServingAnswers.__init__)


class ServingAnswers(QObject):
    """The current plan's serving answers; ``changed`` whenever they (or a part of them) arrive."""

    changed = Signal()
    formats_changed = Signal()  # the formats the plan's cards cannot run changed

    def __init__(self, document, parent: QObject | None = None) -> None:
        super().__init__(parent or document)
        self.document = document
        self._answers: Answers | None = None
        self._memo: OrderedDict[Plan, tuple[Searches | None, str]] = OrderedDict()
        self._running: dict[Plan, Future] = {}
        # unparented: a search still running on its worker thread holds the relay and may emit after the window
        # (and this object) is gone; a parented relay would be deleted under it (the queued signal to a
        # destroyed receiver is dropped by Qt)
        self._relay = _Relay()
        self._relay.done.connect(self._on_done)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._search)
        self._unsupported: dict[str, str] = {}
        document.estimate_changed.connect(self.refresh)
        self.refresh()

    # State -------------------------------------------------------------------
    @property
    def answers(self) -> Answers | None:
        """The answers for the current plan; None when it is not a serving plan or has no estimate."""
        return self._answers

    @property
    def unsupported(self) -> dict[str, str]:
        """Formats the plan's cards cannot run, with the reason (for the weight format combo)."""
        return self._unsupported

    # Updates -----------------------------------------------------------------
    def refresh(self) -> None:
        plan, estimate = self.document.plan, self.document.estimate
        unsupported = unsupported_formats(plan)
        if unsupported != self._unsupported:
            self._unsupported = unsupported
            self.formats_changed.emit()
        if plan.mode != "serving" or estimate is None or estimate.serving is None:
            self._timer.stop()
            self._set(None)
            return
        known = self._memo.get(plan)
        found, error = known if known is not None else (None, "")
        self._set(Answers(estimate.serving, estimate.worst_card, plan.model.max_context,
                          plan.serving is not None and plan.serving.runtime in POOL_RUNTIMES, found, error))
        if known is None:
            self._timer.start()  # restarted by every edit: the search runs once typing pauses

    def _set(self, answers: Answers | None) -> None:
        if answers != self._answers:
            self._answers = answers
            self.changed.emit()

    def _search(self) -> None:
        plan = self.document.plan
        if plan.mode != "serving" or plan in self._memo or plan in self._running:
            return
        self._running[plan] = _WORKER.submit(_run_search, plan, self._relay)

    def _on_done(self, plan: Plan, result: Searches | None, error: str) -> None:
        self._running.pop(plan, None)
        self._memo[plan] = (result, error)
        while len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        if plan == self.document.plan:
            self.refresh()

    def settle(self, timeout_ms: int = 30_000) -> None:
        """Run a pending search now and wait for it (screenshots, tests): the answers are complete after."""
        if self._timer.isActive():
            self._timer.stop()
            self._search()
        for future in list(self._running.values()):
            with contextlib.suppress(FutureTimeout):
                future.result(timeout=timeout_ms / 1000)
        QCoreApplication.processEvents()  # delivers the worker's queued results

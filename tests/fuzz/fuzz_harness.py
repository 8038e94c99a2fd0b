"""Running one fuzz input and checking what every input must give (issue 15).

An input runs the CLI in-process (``engine.cli.main.main(argv)``, the same code
as ``vramplan ...``) under a wall-clock alarm; the outcome must be:

* exit code 0 or 2 (argparse's own exits included), never an exception;
* for 2, exactly one ``error:`` line on stderr (``warning:`` / ``note:`` lines
  may precede it), short, without a traceback;
* no terminal control characters in stdout or stderr (tab and newline aside);
* within ``TIME_LIMIT_S`` (a hang is reported as such), and the process's peak
  RSS within ``RSS_LIMIT_MB`` of where the session started.

``STATS`` counts inputs per entry point (printed at the end of the session).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass

from engine.cli.main import main

# The bound is 1 s on the reference machine; inputs run here on shared cores, so the
# alarm that calls an input a hang is looser.  Slow inputs are listed in SLOW.
TIME_LIMIT_S = float(os.environ.get("VRAMPLAN_FUZZ_TIME_LIMIT", "10"))
SLOW_S = float(os.environ.get("VRAMPLAN_FUZZ_SLOW", "1.0"))
RSS_LIMIT_MB = float(os.environ.get("VRAMPLAN_FUZZ_RSS_MB", "500"))
MAX_ERROR_LINE = 700

STATS: Counter[str] = Counter()
SLOW: list[tuple[float, str, str]] = []  # (seconds, entry point, input)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def peak_rss_mb() -> float:
    """The peak RSS since the last :func:`reset_peak` (Linux), else the process's lifetime peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def reset_peak() -> float:
    """Start measuring one input: reset the kernel's peak RSS (``clear_refs`` 5); the RSS now."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass
    return rss_mb()


START_RSS_MB = rss_mb()
_BASE = [START_RSS_MB]  # RSS before the running input


class Hang(BaseException):
    """Raised by the alarm inside the running input."""


@dataclass
class Outcome:
    rc: int | None
    out: str
    err: str
    seconds: float
    exception: str | None  # a formatted traceback, "hang", or None


@contextlib.contextmanager
def alarm(seconds: float):
    def fire(signum, frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv: list[str], stdin: bytes | None = None) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    rc: int | None = None
    exception = None
    saved_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    _BASE[0] = reset_peak()
    start = time.perf_counter()
    try:
        with alarm(TIME_LIMIT_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(list(argv))
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except Hang:
        exception = "hang"
    except BaseException:  # noqa: BLE001 - the point of a fuzz run: any exception is a finding
        exception = traceback.format_exc()
    finally:
        sys.stdin = saved_stdin
    return Outcome(rc, out.getvalue(), err.getvalue(), time.perf_counter() - start, exception)


def describe(argv: list[str]) -> str:
    text = " ".join(a if len(a) < 120 else a[:100] + f"...({len(a)} chars)" for a in argv)
    return text if len(text) < 2000 else text[:2000] + "..."


def check(entry: str, argv: list[str], outcome: Outcome) -> None:
    """The contract of every input (module docstring)."""
    STATS[entry] += 1
    where = f"[{entry}] vramplan {describe(argv)}"
    if outcome.seconds > SLOW_S:
        SLOW.append((outcome.seconds, entry, describe(argv)[:300]))
    assert outcome.exception != "hang", f"hang (> {TIME_LIMIT_S} s): {where}"
    assert outcome.exception is None, f"traceback: {where}\n{outcome.exception}"
    assert outcome.rc in (0, 2), f"exit code {outcome.rc}: {where}\n{outcome.err[-2000:]}"
    assert "Traceback" not in outcome.err, f"traceback on stderr: {where}\n{outcome.err[-3000:]}"
    if outcome.rc == 2:
        lines = [line for line in outcome.err.splitlines() if line.strip()]
        errors = [line for line in lines if "warning:" not in line and not line.startswith("note:")]
        assert len(errors) == 1 and "error:" in errors[0], f"not one error line: {where}\n{outcome.err[-2000:]}"
        assert len(errors[0]) <= MAX_ERROR_LINE, f"error line of {len(errors[0])} chars: {where}\n{errors[0][:300]}"
    assert not _CONTROL.search(outcome.out), f"control characters on stdout: {where}"
    assert not _CONTROL.search(outcome.err), f"control characters on stderr: {where}"
    check_memory(where)


def check_memory(where: str) -> None:
    """The input's own peak, above the RSS it started from, stays bounded.

    (The session's RSS is not checked here: hypothesis and pytest keep every example's data and
    every logged warning of a long run.  Leaks are test_fuzz_engine.py::test_no_leak's and
    bench/bench_soak.py's to find.)"""
    grown = peak_rss_mb() - _BASE[0]
    assert grown <= RSS_LIMIT_MB, f"memory: one input grew the RSS by {grown:.0f} MB (> {RSS_LIMIT_MB:.0f}): {where}"


def run_engine(entry: str, what: str, fn, *args, allowed: tuple[type[BaseException], ...] = ()) -> object:
    """Call an engine function the same way: under the alarm, only PlanError (and ``allowed``) may escape."""
    from engine.errors import PlanError

    STATS[entry] += 1
    _BASE[0] = reset_peak()
    start = time.perf_counter()
    try:
        with alarm(TIME_LIMIT_S):
            return fn(*args)
    except (PlanError, *allowed):
        return None
    except Hang:
        raise AssertionError(f"hang (> {TIME_LIMIT_S} s): [{entry}] {what}") from None
    finally:
        seconds = time.perf_counter() - start
        if seconds > SLOW_S:
            SLOW.append((seconds, entry, what[:300]))
        check_memory(f"[{entry}] {what}")

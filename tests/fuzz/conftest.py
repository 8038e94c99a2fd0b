"""The fuzz suite (issue 15): hypothesis profiles and the session's counts.

Each entry point has a quick test in the default run (a few dozen inputs, the
suite ~60 s) and a long one under the ``slow`` marker (``LONG_EXAMPLES`` inputs,
default 10,000)::

    VRAMPLAN_FUZZ_LONG=10000 .venv/bin/python -m pytest tests/fuzz -m slow -p no:randomly  # the long campaign
    VRAMPLAN_FUZZ_LONG=2000 .venv/bin/python -m pytest tests/fuzz -m slow  # a shorter one

Inputs run in-process; a few subprocess runs check the real exit codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_harness import SLOW, STATS  # noqa: E402


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not STATS:
        return
    terminalreporter.section("fuzz inputs per entry point")
    for entry, count in sorted(STATS.items()):
        terminalreporter.write_line(f"{entry:28s} {count:8,d}")
    terminalreporter.write_line(f"{'total':28s} {sum(STATS.values()):8,d}")
    if SLOW:
        terminalreporter.write_line(f"{len(SLOW)} inputs over the slow threshold; the slowest:")
        for seconds, entry, what in sorted(SLOW, reverse=True)[:8]:
            terminalreporter.write_line(f"  {seconds:6.2f} s [{entry}] {what[:200]}")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _run_in_a_scratch_folder(tmp_path, monkeypatch):
    """Fuzzed flags name output files (--save-plan, -o): write them in a scratch folder, never the checkout."""
    monkeypatch.chdir(tmp_path)

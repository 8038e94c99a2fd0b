"""Quick (default run) and long (``-m slow``) hypothesis settings, and the test factory."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

QUICK = int(os.environ.get("VRAMPLAN_FUZZ_QUICK", "25"))
# The long campaign (10,000 inputs per entry point) runs only when asked for, so the README's test
# command (and CI) stays well under 30 minutes:  VRAMPLAN_FUZZ_LONG=10000 pytest tests/fuzz -m slow
LONG = int(os.environ.get("VRAMPLAN_FUZZ_LONG", "0") or 0)
_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck), "print_blob": True}


def fuzz_tests(strategy, body, *, quick: int = QUICK, long: int = LONG):
    """(quick test, long test) running ``body(value)`` on values of ``strategy``.

    The quick one is derandomized (the default run is reproducible); the long one explores.
    """

    def make(examples: int, derandomize: bool):
        @settings(max_examples=examples, derandomize=derandomize, **_COMMON)
        @given(strategy)
        def test(value):
            body(value)

        return test

    long_test = pytest.mark.skipif(long <= 0, reason="the long fuzz campaign runs with VRAMPLAN_FUZZ_LONG=N")(
        make(max(long, 1), False))
    return make(quick, True), pytest.mark.slow(long_test)

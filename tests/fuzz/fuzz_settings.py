"""Quick (default run) and long (``-m slow``) hypothesis settings, and the test factory."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

QUICK = int(os.environ.get("VRAMPLAN_FUZZ_QUICK", "25"))
LONG = int(os.environ.get("VRAMPLAN_FUZZ_LONG", "10000"))
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

    return make(quick, True), pytest.mark.slow(make(long, False))

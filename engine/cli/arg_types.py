"""argparse value types shared by the commands (argparse prefixes the flag to the message)."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """``8``, ``4096`` or ``1e4`` -> int > 0."""
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer")
    return value


def non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)

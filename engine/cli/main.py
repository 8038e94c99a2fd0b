"""Dispatch ``vramplan <command>`` to the command modules; turn PlanError into exit code 2."""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import sys
from typing import TextIO

from pydantic import ValidationError

from engine.errors import PlanError, clip, strip_controls
from engine.plan.schema import plan_error_from_validation

# Each module has register(subparsers) and run(args) -> int.  Registering must stay cheap (every command
# registers on every start): a module imports at its top only what its flags need, never numpy or the
# planner; the run functions import the rest (tests/test_startup.py checks what `vramplan estimate` loads).
COMMAND_MODULES = (
    "engine.cli.estimate_cmd",
    "engine.cli.infer_cmd",
    "engine.cli.finetune_cmd",
    "engine.cli.plan_cmd",
    "engine.cli.export_cmd",
    "engine.cli.catalog_cmd",
    "engine.cli.schema_cmd",
    "engine.cli.validate_cmd",
    "engine.cli.compare_cmd",
    "engine.cli.sweep_cmd",
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2.

    argparse quotes what was typed (an invalid choice, unrecognised arguments): the message is
    stripped of control characters and clipped, so a 2 MB argument gives a short line.
    """

    def error(self, message: str) -> None:  # type: ignore[override]
        message = clip(strip_controls(message), 300)
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def build_parser(prog: str = "vramplan") -> argparse.ArgumentParser:
    parser = OneLineParser(prog=prog, description="Per-card GPU memory for LLM training and serving layouts.")
    from engine import __version__

    parser.add_argument("--version", action="version", version=f"vramplan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMAND_MODULES:  # each registers its flags; what a command computes with loads when it runs
        importlib.import_module(name).register(sub)
    return parser


class ControlFilter(io.TextIOBase):
    """A text stream that drops terminal control characters (C0 but tab and newline, DEL, C1, bidi
    overrides) before writing to ``stream``: names read from files (catalogs, plans, model configs)
    are shown as text and cannot move the cursor, recolour or retitle the terminal.  Characters the
    stream cannot encode (surrogates from a non-UTF-8 argv) are written as backslash escapes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        clean = strip_controls(text, keep="\t\n")
        try:
            self.stream.write(clean)
        except UnicodeEncodeError:  # a name from a non-UTF-8 argv or file on a strict stream: escape it
            encoding = getattr(self.stream, "encoding", None) or "utf-8"
            self.stream.write(clean.encode(encoding, "backslashreplace").decode(encoding))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


class WarningLines(logging.Handler):
    """The engine's logged warnings (a skipped user catalog file) as ``vramplan: warning: ...`` lines."""

    def __init__(self, prog: str) -> None:
        super().__init__(logging.WARNING)
        self.prog = prog

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(f"{self.prog}: warning: {clip(strip_controls(record.getMessage()), 400)}\n")


def main(argv: list[str] | None = None, prog: str = "vramplan") -> int:
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a usage error (one line already written), --help or --version
        return e.code if isinstance(e.code, int) else 0
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = ControlFilter(stdout)  # type: ignore[assignment]
    sys.stderr = ControlFilter(stderr)  # type: ignore[assignment]  # notes quote keys read from files
    logger, handler = logging.getLogger("vramplan"), WarningLines(prog)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        return int(args.run(args) or 0)
    except PlanError as e:
        sys.stderr.write(f"{prog}: error: {e}\n")
        return 2
    except ValidationError as e:  # a model built directly from flags: the same one line
        sys.stderr.write(f"{prog}: error: {plan_error_from_validation(e)}\n")
        return 2
    except BrokenPipeError:
        return 0
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        sys.stdout, sys.stderr = stdout, stderr

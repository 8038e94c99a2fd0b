"""Dispatch ``vramplan <command>`` to the command modules; turn PlanError into exit code 2."""

from __future__ import annotations

import argparse
import importlib
import sys

from engine.errors import PlanError

# Each module has register(subparsers) and run(args) -> int.
COMMAND_MODULES = (
    "engine.cli.estimate_cmd",
    "engine.cli.infer_cmd",
    "engine.cli.finetune_cmd",
    "engine.cli.plan_cmd",
    "engine.cli.export_cmd",
    "engine.cli.catalog_cmd",
    "engine.cli.schema_cmd",
    "engine.cli.validate_cmd",
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def build_parser(prog: str = "vramplan") -> argparse.ArgumentParser:
    parser = OneLineParser(prog=prog, description="Per-card GPU memory for LLM training and serving layouts.")
    from engine import __version__

    parser.add_argument("--version", action="version", version=f"vramplan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None, prog: str = "vramplan") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except PlanError as e:
        sys.stderr.write(f"{prog}: error: {e}\n")
        return 2
    except BrokenPipeError:
        return 0

"""``vramplan selftest [--out DIR]``: the installed app's smoke test, offscreen.

Builds the article's 13B plan (PP = 4 x ZeRO-1 DP = 2 on eight A100 80GB
cards), estimates it and checks stage 0 against the article, renders the main
window to a PNG, writes the PDF report, and checks both files are real.  One
line per step; exit code 0 only when every step worked.  Nothing here touches
the network; it is what the packaged bundle runs to prove it is complete.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

# The article's 13B example (../shared/reference/worked-examples.md, "PP = 4 x ZeRO-1 DP = 2"):
#   model + optimizer states on one card: 13e9 x (6/4 + 12/8)           = 39,000,000,000 B
#   activations: 40 x 4096 x 5120 x 40 = 33,554,432,000 B per sample; stage 0 holds
#   10 of 40 layers for 4 in-flight micro-batches (1F1B): 33,554,432,000 / 4 x 4 = 33,554,432,000 B
#   stage 0 total                                                     = 72,554,432,000 B = 72.55 GB
EXPECTED_STAGE0_BYTES = 72_554_432_000
EXPECTED_STAGE0_TEXT = "72.55 GB"
SCREENSHOT_SIZE = (1600, 1000)
MIN_PNG_BYTES = 10_000
MIN_PDF_BYTES = 5_000
MIN_PNG_COLOURS = 8


class StepFailed(Exception):
    """A selftest step ran but its result is wrong (message says what was expected)."""


def article_13b_plan():
    """The article's 13B training plan: S = 4096, H = 5120, L = 40, PP 4 x ZeRO-1 DP 2."""
    from engine import MethodConfig, ModelSpec, Plan, TrainingConfig, build_grid
    from engine.catalog import find_gpu

    gpu = find_gpu("A100 80GB")
    return Plan(
        name="13B, PP 4 x ZeRO-1 DP 2 (article)",
        model=ModelSpec(name="13B", params=13_000_000_000, layers=40, hidden=5120, heads=40),
        training=TrainingConfig(seq=4096, zero=1),
        method=MethodConfig(method="seed"),
        layout=build_grid(pp=4, dp=2, gpu=gpu.name, capacity_bytes=gpu.memory_bytes),
    )


# Steps: each returns a one-line result or raises ------------------------------------------
def step_resources(out_dir: Path) -> str:
    from engine.catalog import gpu_catalog
    from engine.resources import resources_root

    root = resources_root()
    fonts = sorted(p.name for p in (root / "fonts").glob("*.tt[cf]"))
    if not fonts:
        raise StepFailed(f"no fonts under {root / 'fonts'}")
    return f"{len(gpu_catalog())} GPUs in the catalog, fonts {', '.join(fonts)} (from {root})"


def step_estimate(out_dir: Path) -> str:
    from engine import estimate
    from engine.units import format_bytes

    result = estimate(article_13b_plan())
    stage0 = max(c.total_bytes for c in result.cards if c.stage == 0)
    text = format_bytes(stage0, "GB")
    if stage0 != EXPECTED_STAGE0_BYTES or text != EXPECTED_STAGE0_TEXT:
        raise StepFailed(f"stage 1 needs {stage0:,} B ({text}); the article gives "
                         f"{EXPECTED_STAGE0_BYTES:,} B ({EXPECTED_STAGE0_TEXT})")
    return f"stage 1 needs {text} of {format_bytes(result.cards[0].capacity_bytes, 'GB')} (article: 72.55 GB)"


def step_window(out_dir: Path) -> str:
    from gui.app import render_screenshot

    path = out_dir / "vramplan-selftest-window.png"
    render_screenshot(article_13b_plan(), path, size=SCREENSHOT_SIZE)
    return check_png(path)


def step_pdf(out_dir: Path) -> str:
    from gui.pdf import export_pdf

    path = out_dir / "vramplan-selftest-report.pdf"
    export_pdf(article_13b_plan(), path)
    return check_pdf(path)


def step_about(out_dir: Path) -> str:
    from engine import __version__
    from gui.about import about_text

    text = about_text()
    for needed in (__version__, "LGPL", "pyqtgraph", "numpy"):
        if needed not in text:
            raise StepFailed(f"the About text does not mention {needed!r}")
    return f"version {__version__}, licences and notices found ({len(text):,} characters)"


STEPS: tuple[tuple[str, Callable[[Path], str]], ...] = (
    ("resources", step_resources),
    ("estimate", step_estimate),
    ("window", step_window),
    ("pdf", step_pdf),
    ("about", step_about),
)


# File checks -------------------------------------------------------------------------------
def check_png(path: Path) -> str:
    """A real screenshot: a PNG of a sensible size with more than a few colours."""
    from PySide6.QtGui import QImage

    data = _read_file(path, MIN_PNG_BYTES)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise StepFailed(f"{path} is not a PNG file")
    image = QImage(str(path))
    if image.isNull() or image.width() < 400 or image.height() < 300:
        raise StepFailed(f"{path} is {image.width()} x {image.height()} px; expected at least 400 x 300")
    colours = _distinct_colours(image)
    if colours < MIN_PNG_COLOURS:
        raise StepFailed(f"{path} has {colours} distinct colours in a sample; the window looks blank")
    return f"{path} ({image.width()} x {image.height()} px, {len(data) / 1000:.0f} kB)"


def check_pdf(path: Path) -> str:
    """A real PDF: header, trailer, at least one page, embedded fonts."""
    data = _read_file(path, MIN_PDF_BYTES)
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise StepFailed(f"{path} is not a complete PDF file (header or %%EOF missing)")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
    if pages < 1:
        raise StepFailed(f"{path} has no pages")
    if b"/Font" not in data:
        raise StepFailed(f"{path} has no fonts: no text was drawn")
    return f"{path} ({pages} page{'s' if pages > 1 else ''}, {len(data) / 1000:.0f} kB)"


def _read_file(path: Path, min_bytes: int) -> bytes:
    if not path.is_file():
        raise StepFailed(f"{path} was not written")
    data = path.read_bytes()
    if len(data) < min_bytes:
        raise StepFailed(f"{path} is {len(data):,} B; expected at least {min_bytes:,} B")
    return data


def _distinct_colours(image, grid: int = 40) -> int:
    w, h = image.width(), image.height()
    return len({image.pixel(x * w // grid, y * h // grid) for x in range(grid) for y in range(grid)})


# Command -----------------------------------------------------------------------------------
def run_steps(out_dir: Path, write: Callable[[str], object] = print) -> bool:
    """Run every step, one line each; True when all passed."""
    passed = 0
    for name, step in STEPS:
        try:
            detail = step(out_dir)
        except Exception as e:  # noqa: BLE001 - a selftest reports every failure and carries on
            write(f"selftest: FAIL {name}: {type(e).__name__}: {e}")
        else:
            passed += 1
            write(f"selftest: ok   {name}: {detail}")
    write(f"selftest: {passed}/{len(STEPS)} steps passed; files in {out_dir}")
    return passed == len(STEPS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vramplan selftest",
        description="Estimate the article's 13B plan, render the window and the PDF offscreen; exit 0 if all worked.",
    )
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="folder for the PNG and the PDF (default: a new temporary folder)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out_dir = args.out if args.out else Path(tempfile.mkdtemp(prefix="vramplan-selftest-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    from engine import __version__

    print(f"selftest: vramplan {__version__}, Python {sys.version.split()[0]}, "
          f"{'bundle' if getattr(sys, 'frozen', False) else 'source'}")
    _start_offscreen_qt()
    ok = run_steps(out_dir.resolve())
    sys.stdout.flush()
    return 0 if ok else 1


def _start_offscreen_qt() -> None:
    """The selftest never needs a display: offscreen Qt before the first QApplication."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from gui.qt_app import ensure_app

    ensure_app(headless=True)


if __name__ == "__main__":
    sys.exit(main())

"""The compare, sweep and step-timeline docks at 1280x800, and the PDF's alternatives pages, offscreen.

    .venv/bin/python docs/screenshots/make_analysis.py     # writes docs/screenshots/*.png (needs pdftoppm)

* ``compare-article-13b-1280x800.png``: the article's PP 4 x ZeRO-1 DP 2 plan pinned, then sequence 8,192
  and ZeRO-2 (Edit > Pin as Baseline, two edits);
* ``sweep-article-13b-seq-1280x800.png``: View > Sweep on the same plan, sequence length (largest fitting 5,627);
* ``sweep-70b-80-cards-pp-1280x800.png``: the 70B plan on 80 cards, PP size (the smallest that fits);
* ``step-timeline-13b-detailed-1280x800.png``: the step-timeline dock on the detailed-method 13B plan;
* ``step-timeline-litgpt-qlora-1280x800.png``: the 7B QLoRA template switched to LitGPT's config-hub QLoRA
  (bitsandbytes 0.42.0, r 32 on q and v, 2 x 512 tokens, no checkpointing, bf16 adapters, paged AdamW):
  the card peaks at the end of the next micro-batch's forward;
* ``report-alternatives-p2.png``, ``report-sweep-p3.png``: ``vramplan report`` of the article's plan with
  ``--baseline article-13b-zero1-only.json --sweep seq``, pages 2 and 3 at 60 dpi.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_SCRATCH = tempfile.mkdtemp(prefix="vramplan-shots-")  # no saved window layout, recent files or language
os.environ["VRAMPLAN_CONFIG_DIR"] = os.path.join(_SCRATCH, "config")
os.environ["VRAMPLAN_DATA_DIR"] = os.path.join(_SCRATCH, "data")
os.environ["VRAMPLAN_LANG"] = "en"
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def window_shot(template: str, out: str, setup) -> None:
    from PySide6.QtCore import QCoreApplication

    from engine.plan.schema import load_plan
    from engine.resources import resource_path
    from gui.app import _make_window, _setup_app

    _setup_app("vramplan", headless=True, theme="light")
    window = _make_window(load_plan(resource_path("templates", f"{template}.json")), None, "GB", (1280, 800))
    window.show()
    for _ in range(3):
        QCoreApplication.processEvents()
    setup(window)
    deadline = time.monotonic() + 10
    sweep = window.analysis.sweep
    while sweep.isVisible() and (sweep.result is None or sweep.result.knob != sweep.current_knob) \
            and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        QCoreApplication.processEvents()
    window.grab().save(str(OUT / out))
    window.document.undo_stack.setClean()
    window.close()


def compare(window) -> None:
    from gui.panels.plan_fields import set_field

    document = window.document
    window.analysis.pin_action.trigger()
    document.apply(set_field(document.plan, "training.seq", 8192), "Set sequence length")
    document.apply(set_field(document.plan, "training.zero", 2), "Set ZeRO stage")


def sweep_of(knob: str):
    def setup(window) -> None:
        window.analysis.show_dock(window.analysis.sweep_dock)
        window.analysis.sweep.set_knob(knob)
    return setup


def litgpt_qlora(window) -> None:
    from gui.panels.plan_fields import set_field

    document = window.document
    for path, value, text in (("finetune.framework", "litgpt", "Set framework"),
                              ("finetune.bnb_version", "0.42.0", "Set bitsandbytes release"),
                              ("finetune.target_modules", ("q", "v"), "Set adapted matrices"),
                              ("finetune.rank", 32, "Set LoRA rank"), ("finetune.seq", 512, "Set sequence length"),
                              ("finetune.micro_batch", 2, "Set micro-batch"),
                              ("finetune.gradient_checkpointing", False, "Set gradient checkpointing"),
                              ("finetune.adapter_dtype", "bf16", "Set adapter weights"),
                              ("finetune.optimizer", "paged-adamw", "Set optimizer")):
        document.apply(set_field(document.plan, path, value), text)


def report_pages() -> None:
    from engine.resources import resource_path

    templates = Path(resource_path("templates", "article-13b-pp4-zero1-dp2.json")).parent
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "report.pdf"
        subprocess.run([sys.executable, "-m", "gui.entry", "report", str(templates / "article-13b-pp4-zero1-dp2.json"),
                        "-o", str(pdf), "--baseline", str(templates / "article-13b-zero1-only.json"), "--sweep", "seq"],
                       check=True, cwd=ROOT)
        for page, name in ((2, "report-alternatives-p2"), (3, "report-sweep-p3")):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                            str(OUT / name)], check=True)


def main() -> None:
    window_shot("article-13b-pp4-zero1-dp2", "compare-article-13b-1280x800.png", compare)
    window_shot("article-13b-pp4-zero1-dp2", "sweep-article-13b-seq-1280x800.png", sweep_of("seq"))
    window_shot("70b-80-cards", "sweep-70b-80-cards-pp-1280x800.png", sweep_of("pp"))
    window_shot("13b-detailed-megatron", "step-timeline-13b-detailed-1280x800.png", lambda window: None)
    window_shot("7b-rtx4090-qlora", "step-timeline-litgpt-qlora-1280x800.png", litgpt_qlora)
    report_pages()


if __name__ == "__main__":
    main()

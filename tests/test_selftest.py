"""``vramplan selftest``: the bundle's smoke test must pass when the app works and fail loudly otherwise."""

from __future__ import annotations

import sys

import pytest

from gui import selftest


def test_expected_stage0_is_the_articles_figure():
    # Article (worked-examples.md, PP = 4 x ZeRO-1 DP = 2), 13B, S = 4096, H = 5120, L = 40:
    states = 13 * 10**9 * 6 // 4 + 13 * 10**9 * 12 // 8  # 19.5e9 + 19.5e9 = 39,000,000,000 B
    per_sample = 40 * 4096 * 5120 * 40  # 33,554,432,000 B for the whole model
    stage0_activations = per_sample // 4 * 4  # 10 of 40 layers, 4 micro-batches in flight (1F1B)
    assert states == 39_000_000_000
    assert states + stage0_activations == 72_554_432_000
    assert selftest.EXPECTED_STAGE0_BYTES == 72_554_432_000


def test_estimate_step_reports_the_articles_72_55_gb(tmp_path):
    line = selftest.step_estimate(tmp_path)
    assert "72.55 GB" in line


def test_article_plan_is_eight_a100_cards_in_four_stages():
    plan = selftest.article_13b_plan()
    cards = plan.layout.cards
    assert len(cards) == 8
    assert sorted({c.stage for c in cards}) == [0, 1, 2, 3]
    assert {c.capacity_bytes for c in cards} == {85_100_068_864}  # "80 GB" A100 as CUDA reports it (catalog)
    assert plan.training.zero == 1 and plan.method.method == "seed"


def test_run_steps_reports_each_failure_and_returns_false(tmp_path, monkeypatch):
    def broken(out_dir):
        raise selftest.StepFailed("nothing drawn")

    monkeypatch.setattr(selftest, "STEPS", (("estimate", selftest.step_estimate), ("window", broken)))
    lines: list[str] = []
    assert selftest.run_steps(tmp_path, lines.append) is False
    assert lines[0].startswith("selftest: ok   estimate:")
    assert lines[1] == "selftest: FAIL window: StepFailed: nothing drawn"
    assert lines[-1].startswith("selftest: 1/2 steps passed")


@pytest.mark.parametrize("missing", ["gui.app", "gui.pdf"])
def test_selftest_fails_when_the_window_or_the_pdf_is_missing(tmp_path, monkeypatch, capsys, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # import of that module now raises ImportError
    assert selftest.main(["--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    step = "window" if missing == "gui.app" else "pdf"
    assert f"selftest: FAIL {step}: " in out


def test_check_png_rejects_a_blank_image(tmp_path, qapp):
    from PySide6.QtGui import QColor, QImage

    blank = QImage(1600, 1000, QImage.Format.Format_RGB32)
    blank.fill(QColor("white"))
    path = tmp_path / "blank.png"
    blank.save(str(path))
    with pytest.raises(selftest.StepFailed):
        selftest.check_png(path)


def test_check_png_accepts_a_drawn_image(tmp_path, qapp):
    from PySide6.QtGui import QColor, QImage

    image = QImage(800, 600, QImage.Format.Format_RGB32)
    for x in range(800):  # noisy columns: many colours and a file well over 10 kB
        for y in range(0, 600, 3):
            image.setPixelColor(x, y, QColor.fromHsv((x * 7 + y * 13) % 360, 200, 50 + (x * y) % 200))
    path = tmp_path / "drawn.png"
    image.save(str(path))
    assert "800 x 600 px" in selftest.check_png(path)


def test_check_pdf_rejects_a_truncated_file(tmp_path):
    path = tmp_path / "cut.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * 10_000)  # no pages, no %%EOF
    with pytest.raises(selftest.StepFailed, match="not a complete PDF"):
        selftest.check_pdf(path)


def test_check_pdf_rejects_a_missing_file(tmp_path):
    with pytest.raises(selftest.StepFailed, match="was not written"):
        selftest.check_pdf(tmp_path / "absent.pdf")


def test_selftest_passes_and_writes_the_png_and_the_pdf(tmp_path, capsys):
    assert selftest.main(["--out", str(tmp_path)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert f"{len(selftest.STEPS)}/{len(selftest.STEPS)} steps passed" in out
    assert (tmp_path / "vramplan-selftest-window.png").stat().st_size > selftest.MIN_PNG_BYTES
    assert (tmp_path / "vramplan-selftest-report.pdf").stat().st_size > selftest.MIN_PDF_BYTES


def test_about_text_names_version_and_licences():
    from engine import __version__
    from gui.about import about_text

    text = about_text()
    assert f"vramplan {__version__}" in text
    for needed in ("LGPL-3.0", "pyqtgraph", "numpy", "pydantic", "platformdirs", "WenQuanYi", "Dynamic linking"):
        assert needed in text


def test_about_dialog_lists_the_shipped_licence_texts(qtbot):
    from gui.about import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    names = [dialog.license_list.item(i).text() for i in range(dialog.license_list.count())]
    for needed in ("LGPL-3.0.txt", "GPL-3.0.txt", "pyqtgraph-MIT.txt", "numpy-BSD-3-Clause.txt",
                   "LICENSE-wqy-microhei.txt"):
        assert needed in names
    dialog.license_list.setCurrentRow(names.index("LGPL-3.0.txt"))
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in dialog.license_text.toPlainText()

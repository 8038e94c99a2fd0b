"""The Simplified Chinese translation: complete, placeholders intact, shown by real widgets; language choice."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QGroupBox

from engine.resources import resource_path
from gui.app import build_parser
from gui.document import PlanDocument
from gui.i18n import (
    LANG_ENV,
    chosen_language,
    install_translator,
    remove_translators,
    store_language,
    stored_language,
)
from gui.main_window import MainWindow
from gui.planner_panel import PlannerPanel
from gui.step_timeline import tick_text
from gui.templates import default_plan
from gui.warnings_panel import headline

TS_FILE = resource_path("i18n", "vramplan_zh_CN.ts")
QM_FILE = resource_path("i18n", "vramplan_zh_CN.qm")
# What must come through a translation unchanged: format fields, Qt's %n/%1, HTML tags.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%n|%\d|</?[a-z]+[^>]*>")


def _messages():
    """(context, source, translation element) for every message in the .ts."""
    root = ET.parse(TS_FILE).getroot()
    for context in root.findall("context"):
        for message in context.findall("message"):
            yield context.findtext("name") or "", message.findtext("source"), message.find("translation")


def _translated_texts(translation: ET.Element) -> list[str]:
    forms = translation.findall("numerusform")
    return [f.text or "" for f in forms] if forms else [translation.text or ""]


@pytest.fixture
def zh_cn(qapp):
    """The zh_CN translator for one test; removed afterwards so other tests see English."""
    assert install_translator(qapp, "zh_CN")
    yield qapp
    remove_translators(qapp)


@pytest.fixture
def zh_window(zh_cn, qtbot):
    win = MainWindow(PlanDocument(default_plan()))
    yield win
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# The .ts file ---------------------------------------------------------------------------------
def test_every_message_is_translated_and_finished():
    messages = list(_messages())
    assert len(messages) > 300  # the GUI had 324 strings when this was written; an empty .ts must fail
    unfinished = [(ctx, src) for ctx, src, tr in messages if tr.get("type") == "unfinished"]
    empty = [(ctx, src) for ctx, src, tr in messages
             if tr.get("type") not in ("vanished", "obsolete") and not all(t.strip() for t in _translated_texts(tr))]
    assert unfinished == [] and empty == []


def test_no_message_the_code_uses_is_left_obsolete():
    # lrelease leaves obsolete and vanished messages out of the .qm, so one the code still uses (lupdate
    # gave it a location) would show in English; the script's fix-up must revive the translation it kept.
    root = ET.parse(TS_FILE).getroot()
    dead = [(context.findtext("name"), message.findtext("source"))
            for context in root.findall("context") for message in context.findall("message")
            if message.find("location") is not None
            and message.find("translation").get("type") in ("vanished", "obsolete")]
    assert dead == []


def test_no_message_sits_in_the_unnamed_context():
    # lupdate files module-level tr() helpers under "" - a context Qt never asks for at run time;
    # packaging/update_translations.sh moves them to the helper's context.
    assert [src for ctx, src, _tr in _messages() if ctx == ""] == []


def test_translations_keep_placeholders_tags_and_accelerators():
    for ctx, source, translation in _messages():
        for text in _translated_texts(translation):
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (ctx, source, text)
            assert ("&" in text) == ("&" in source), (ctx, source, text)


def test_compiled_qm_matches_the_ts(tmp_path):
    lrelease = shutil.which("pyside6-lrelease") or shutil.which(str(Path(sys.executable).with_name("pyside6-lrelease")))
    if lrelease is None:
        pytest.skip("pyside6-lrelease not installed")
    fresh = tmp_path / "fresh.qm"
    subprocess.run([lrelease, "-silent", str(TS_FILE), "-qm", str(fresh)], check=True, timeout=60)
    assert fresh.read_bytes() == QM_FILE.read_bytes(), "run packaging/update_translations.sh"


# At run time ----------------------------------------------------------------------------------
def test_formatting_a_translated_string_fills_its_placeholders(zh_cn):
    text = QCoreApplication.translate("FileActions", "Could not open {file}: {error}")
    assert text.format(file="plan.json", error="bad JSON") == "无法打开 plan.json：bad JSON"
    worst = QCoreApplication.translate(
        "chart", "worst: card #{index} (stage {stage}, {gpu}) {total} of {capacity}, {headroom}")
    assert worst.format(index=0, stage=1, gpu="A100 80GB", total="72.55 GB", capacity="85.90 GB",
                        headroom="余量 13.34 GB") == "最满：卡 #0（阶段 1，A100 80GB）72.55 GB / 85.90 GB，余量 13.34 GB"


def test_plural_forms_put_the_count_in(zh_cn):
    assert QCoreApplication.translate("RoleActions", "Delete %n card(s)", None, 3) == "删除 3 张卡"
    assert QCoreApplication.translate("DiagramController", "Move %n card(s)", None, 1) == "移动 1 张卡"


def test_main_window_shows_chinese_menus_docks_and_groups(zh_window):
    titles = [a.text() for a in zh_window.menuBar().actions()]
    assert titles[0] == "文件(&F)"
    assert "视图(&V)" in titles
    assert zh_window.settings_dock.windowTitle() == "方案设置"
    assert [zh_window.tabs.tabText(i) for i in range(3)] == ["工作负载", "模型", "阶段"]
    groups = {box.title() for box in zh_window.workload_panel.findChildren(QGroupBox)}
    assert {"模式", "训练负载", "切分与卸载", "显存估算方法"} <= groups


def test_analysis_docks_planner_and_warnings_speak_chinese(zh_window):
    docks = zh_window.analysis
    assert [d.windowTitle() for d in (docks.timeline_dock, docks.compare_dock, docks.sweep_dock)] == [
        "单步时间线", "对比", "参数扫描"]
    assert docks.compare.pages.tabText(1) == "警告"  # a message lupdate once left obsolete
    planner = PlannerPanel(zh_window.document)
    headers = [planner.table.horizontalHeaderItem(i).text() for i in range(planner.table.columnCount())]
    planner.deleteLater()
    assert headers[:3] == ["卡数", "TP", "PP"] and "瓶颈" in headers
    assert headline("over-capacity") == "超出显存容量"


def test_step_timeline_ticks_translate_the_engines_moment_words(zh_cn):
    assert [tick_text(t) for t in ("start", "forward 2/4", "backward", "optimizer step")] == [
        "开始", "前向 2/4", "反向", "优化器步"]
    assert tick_text("a moment added later") == "a moment added later"  # unknown words stay as written


def test_removing_the_translator_brings_english_back(qapp):
    assert install_translator(qapp, "zh_CN")
    remove_translators(qapp)
    assert QCoreApplication.translate("MainWindow", "&File") == "&File"


def test_english_needs_no_translator(qapp):
    assert not install_translator(qapp, "en")
    assert QCoreApplication.translate("MainWindow", "&File") == "&File"


# Choosing the language ------------------------------------------------------------------------
def test_flag_beats_environment_beats_stored_choice(monkeypatch):
    monkeypatch.delenv(LANG_ENV, raising=False)
    assert chosen_language(None) == ""  # nothing chosen: the system locale decides
    store_language("en")
    assert chosen_language(None) == "en"
    monkeypatch.setenv(LANG_ENV, "zh_CN")
    assert chosen_language(None) == "zh_CN"
    assert chosen_language("en") == "en"


def test_lang_flag_accepts_known_languages_only(capsys):
    assert build_parser().parse_args(["--lang", "zh_CN"]).lang == "zh_CN"
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--lang", "klingon"])
    assert exit_info.value.code == 2


def test_language_menu_stores_the_choice_and_says_when_it_applies(qtbot):
    win = MainWindow(PlanDocument(default_plan()))
    try:
        menu = _language_menu(win)
        chinese = next(a for a in menu.actions() if a.data() == "zh_CN")
        chinese.trigger()
        assert stored_language() == "zh_CN"
        assert chinese.isChecked()
        assert not win.notice.isHidden()
        assert "简体中文" in win.notice.label.text() and "next time" in win.notice.label.text()
    finally:
        win.document.undo_stack.setClean()
        win.close()
        win.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _language_menu(win):
    view = next(a.menu() for a in win.menuBar().actions() if a.text() == "&View")
    return next(a.menu() for a in view.actions() if a.menu() is not None and a.text() == "&Language")

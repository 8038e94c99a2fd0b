"""The GPU palette: grouped, searchable, and its drag payload (offscreen, real widget)."""

from __future__ import annotations

import json

from engine.catalog import reload_catalogs
from gui.diagram.interaction import GPU_MIME, gpu_name_from_mime
from gui.palette import GpuPalette


def entries_by_group(palette: GpuPalette) -> dict[str, list[tuple[str, str]]]:
    tree = palette.tree
    out = {}
    for g in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(g)
        out[group.text(0)] = [(group.child(i).text(0), group.child(i).text(1)) for i in range(group.childCount())]
    return out


def test_entries_are_grouped_and_show_memory(qtbot):
    palette = GpuPalette()
    qtbot.addWidget(palette)
    groups = entries_by_group(palette)
    assert list(groups)[:3] == ["Consumer", "Workstation", "Datacenter"]
    # As CUDA reports them (catalog): A100 80GB 85,100,068,864 B = 79.26 GiB; RTX 4090 25,386,352,640 B = 23.64 GiB.
    assert ("A100 80GB", "79.3 GiB") in groups["Datacenter"]
    assert ("RTX 4090", "23.6 GiB") in groups["Consumer"]


def test_palette_follows_the_chosen_unit(qtbot):
    palette = GpuPalette()
    qtbot.addWidget(palette)
    palette.set_units("GB")
    # 85,100,068,864 B = 85.1 GB; 25,386,352,640 B = 25.4 GB
    groups = entries_by_group(palette)
    assert ("A100 80GB", "85.1 GB") in groups["Datacenter"]
    assert ("RTX 4090", "25.4 GB") in groups["Consumer"]


def test_search_filters_by_name_and_vendor(qtbot):
    palette = GpuPalette()
    qtbot.addWidget(palette)
    palette.search.setText("a100")
    assert palette.visible_gpu_names() == ["A100 40GB", "A100 80GB"]
    palette.search.setText("rtx-4090")  # punctuation-insensitive, like the CLI
    assert palette.visible_gpu_names() == ["RTX 4090"]
    palette.search.setText("no such card")
    assert palette.visible_gpu_names() == []
    assert all(palette.tree.topLevelItem(g).isHidden() for g in range(palette.tree.topLevelItemCount()))
    palette.search.clear()
    assert "H100 SXM" in palette.visible_gpu_names()


def test_mime_data_carries_the_gpu_name(qtbot):
    palette = GpuPalette()
    qtbot.addWidget(palette)
    mime = palette.mimeData("H100 SXM")
    assert mime.formats()[0] == GPU_MIME
    assert bytes(mime.data(GPU_MIME)) == b"H100 SXM"
    assert gpu_name_from_mime(mime) == "H100 SXM"
    assert palette.mimeData("no such GPU") is None
    palette.tree.setCurrentItem(palette.entry("RTX 4090"))
    assert gpu_name_from_mime(palette.mimeData()) == "RTX 4090"


def test_user_gpus_appear_under_custom(qtbot, tmp_path):
    folder = tmp_path / "config" / "gpus"  # conftest points VRAMPLAN_CONFIG_DIR at tmp_path / "config"
    folder.mkdir(parents=True)
    (folder / "mine.json").write_text(json.dumps({"gpus": [{
        "name": "实验卡 48G", "category": "custom", "memory_bytes": 48 * 2**30, "source": "test"}]}), encoding="utf-8")
    reload_catalogs()
    try:
        palette = GpuPalette()
        qtbot.addWidget(palette)
        assert ("实验卡 48G", "48.0 GiB") in entries_by_group(palette)["Custom"]
    finally:
        reload_catalogs()


def test_custom_gpu_dialog_validates_inline_and_saves(qtbot, tmp_path):
    from gui.palette import CustomGpuDialog

    reload_catalogs()
    dialog = CustomGpuDialog()
    qtbot.addWidget(dialog)
    dialog.name.setText("Lab card")
    dialog.memory.setText("lots")
    dialog.accept()
    assert dialog.saved is None and "24GiB" in dialog.error.text()  # the engine's hint, shown inline
    dialog.memory.setText("20GiB")
    dialog.accept()
    # 20 GiB = 20 x 2^30 = 21,474,836,480 B, saved in the user's catalog folder.
    assert dialog.saved is not None and dialog.saved.memory_bytes == 21_474_836_480
    assert (tmp_path / "config" / "gpus" / "labcard.json").is_file()
    try:
        palette = GpuPalette()
        qtbot.addWidget(palette)
        assert ("Lab card", "20.0 GiB") in entries_by_group(palette)["Custom"]
    finally:
        reload_catalogs()

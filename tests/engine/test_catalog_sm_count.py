"""GPU catalog: streaming-multiprocessor counts (``sm_count``), as CUDA reports them, with their sources.

``sm_count`` is ``cudaDeviceProp.multiProcessorCount`` / ``torch.cuda.get_device_properties(i).multi_processor_count``
of that exact SKU; ``None`` for non-NVIDIA parts (an AMD compute unit is not an SM) and where no count could be
established.  ``sm_count_source`` quotes where each figure comes from.
"""

from __future__ import annotations

import json
import re

import pytest

from engine.catalog import (
    GpuSpec,
    _entries,
    find_gpu,
    gpu_catalog,
    reload_catalogs,
    user_catalog_dir,
)
from engine.errors import PlanError


@pytest.fixture(autouse=True)
def _fresh_catalogs():
    reload_catalogs()
    yield
    reload_catalogs()


# --- published figures -----------------------------------------------------------------------------
def test_h100_sxm_has_132_sms_and_the_pcie_card_114():
    # NVIDIA H100 Tensor Core GPU Architecture whitepaper: the H100 SXM5 enables 132 of GH100's 144 SMs
    # (66 TPCs, 16,896 FP32 cores); the H100 PCIe enables 114 (57 TPCs, 14,592 FP32 cores).
    # deviceQuery on 8 x H100 SXM (thamada/nvidia-smi gls/H100SXMx8_deviceQuery.py):
    #   "(132) Multiprocessors, (128) CUDA Cores/MP:    16896 CUDA Cores"
    assert find_gpu("H100 SXM").sm_count == 132
    assert find_gpu("H100 PCIe").sm_count == 114
    assert find_gpu("H100 SXM").sm_count * 128 == 16_896


@pytest.mark.parametrize("name", ["A100 40GB", "A100 80GB"])
def test_a100_has_108_sms(name):
    # NVIDIA A100 Tensor Core GPU Architecture whitepaper: the A100 implementation of GA100 has 108 SMs
    # (of the full chip's 128), 64 FP32 cores each = 6,912; deviceQuery prints
    #   "(108) Multiprocessors, (064) CUDA Cores/MP:    6912 CUDA Cores" on both the 40 GB and 80 GB cards.
    g = find_gpu(name)
    assert g.sm_count == 108 and g.sm_count * 64 == 6_912


def test_rtx_4090_has_128_sms():
    # NVIDIA Ada GPU Architecture whitepaper: the GeForce RTX 4090 enables 128 of AD102's 144 SMs
    # (16,384 CUDA cores at 128 per SM).
    g = find_gpu("RTX 4090")
    assert g.sm_count == 128 and g.sm_count * 128 == 16_384


@pytest.mark.parametrize(("name", "sms"), [
    ("H200", 132),  # PyTorch: name='NVIDIA H200' ... multi_processor_count=132
    ("B200", 148),  # PyTorch: name='NVIDIA B200' ... multi_processor_count=148
    ("GB200", 152),  # not the HGX B200's 148
    ("H20", 78),  # PyTorch: name='NVIDIA H20' ... multi_processor_count=78
    ("L40S", 142), ("RTX 6000 Ada", 142), ("RTX 5090", 170), ("RTX 3090", 82), ("T4", 40), ("V100 32GB", 80),
])
def test_other_pinned_counts(name, sms):
    assert find_gpu(name).sm_count == sms


def test_memory_variants_keep_or_change_their_count_as_published():
    # Same name, different SKU: the RTX 3080 12 GB enables 70 SMs (8,960 cores), the 10 GB card 68 (8,704);
    # both RTX 4060 Ti cards enable 34 (4,352 cores).
    assert find_gpu("RTX 3080 10GB").sm_count == 68
    assert find_gpu("RTX 3080 12GB").sm_count == 70
    assert find_gpu("RTX 4060 Ti 8GB").sm_count == find_gpu("RTX 4060 Ti 16GB").sm_count == 34


# --- coverage and provenance -----------------------------------------------------------------------
def test_every_nvidia_datacenter_gpu_has_an_sm_count():
    datacenter = [g for g in gpu_catalog() if g.vendor == "NVIDIA" and g.category == "datacenter"]
    assert len(datacenter) >= 15
    missing = [g.name for g in datacenter if g.sm_count is None]
    assert not missing, missing


def test_non_nvidia_gpus_have_no_sm_count():
    # AMD compute units, Apple GPU cores, Ascend AI cores and Adreno are not CUDA SMs.
    for g in gpu_catalog():
        if g.vendor != "NVIDIA":
            assert g.sm_count is None, g.name


def test_every_sm_count_has_a_source_that_agrees_with_it():
    # sm_count_source either quotes a CUDA print (deviceQuery "(N) Multiprocessors", PyTorch
    # "multi_processor_count=N"; the count is among the quoted figures), or says that none was found
    # and how the count was derived; a missing count says why.
    for g in gpu_catalog():
        if g.vendor != "NVIDIA":
            continue
        src = g.sm_count_source
        assert src.strip(), f"{g.name}: sm_count without a source"
        if g.sm_count is None:
            assert src.startswith("unknown"), g.name
        elif src.startswith("no "):
            assert "SM" in src, g.name
        else:
            quoted = {int(n) for n in re.findall(r"\(\s*(\d+)\) Multiprocessors", src)}
            quoted |= {int(n) for n in re.findall(r"multi_processor_count=(\d+)", src)}
            assert g.sm_count in quoted, (g.name, g.sm_count, sorted(quoted))


def test_sm_count_agrees_with_the_architecture():
    # Rough ceilings of the largest die of each architecture, full chip: a typo such as 1320 fails here.
    ceiling = {"sm_70": 84, "sm_75": 72, "sm_80": 128, "sm_86": 84, "sm_87": 16, "sm_89": 144, "sm_90": 144,
               "sm_100": 160, "sm_120": 192}
    for g in gpu_catalog():
        if g.sm_count is not None:
            assert 0 < g.sm_count <= ceiling[g.arch], (g.name, g.sm_count)


# --- validation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -4])
def test_model_rejects_a_count_that_is_not_positive(bad):
    with pytest.raises(ValueError, match="sm_count"):
        GpuSpec(name="x", memory_bytes=2**30, source="s", sm_count=bad)


@pytest.mark.parametrize("bad", [True, "132", 132.5])
def test_model_rejects_a_count_that_is_not_an_integer(bad):
    with pytest.raises(ValueError, match="sm_count"):
        GpuSpec(name="x", memory_bytes=2**30, source="s", sm_count=bad)


def test_sm_count_is_optional():
    g = GpuSpec(name="x", memory_bytes=2**30, source="s")
    assert g.sm_count is None and g.sm_count_source == ""


def test_user_entries_with_a_bad_sm_count_are_skipped_with_a_message_naming_the_field(caplog):
    folder = user_catalog_dir() / "gpus"
    folder.mkdir(parents=True)
    (folder / "bad.json").write_text(
        '{"gpus": [{"name": "zero", "memory_bytes": 1073741824, "source": "s", "sm_count": 0},'
        ' {"name": "negative", "memory_bytes": 1073741824, "source": "s", "sm_count": -4},'
        ' {"name": "fine", "memory_bytes": 1073741824, "source": "s", "sm_count": 10}]}')
    reload_catalogs()
    with caplog.at_level("WARNING", logger="vramplan.catalog"):
        names = {g.name for g in gpu_catalog()}
    assert "zero" not in names and "negative" not in names and find_gpu("fine").sm_count == 10
    assert "bad.json[0].sm_count=0 is not allowed: expected more than 0" in caplog.text
    assert "bad.json[1].sm_count=-4 is not allowed: expected more than 0" in caplog.text


@pytest.mark.parametrize("bad", [0, -1])
def test_a_built_in_style_file_with_a_bad_sm_count_fails_loudly(tmp_path, bad):
    # Built-in catalog files are loaded strictly (user=False): a bad entry raises, naming file, index and field.
    f = tmp_path / "gpus-test.json"
    f.write_text(json.dumps({"gpus": [{"name": "x", "memory_bytes": 2**30, "source": "s", "sm_count": bad}]}))
    with pytest.raises(PlanError) as err:
        _entries(f, "gpus", False, GpuSpec)
    assert err.value.field == "gpus-test.json[0].sm_count"
    assert str(err.value) == f"gpus-test.json[0].sm_count={bad} is not allowed: expected more than 0"

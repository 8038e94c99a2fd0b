"""Catalog GPU capacities are what CUDA reports (torch.cuda.get_device_properties(0).total_memory), with sources.

Each pinned figure is re-derived here from the published text quoted in the card's ``capacity_source``:
  * deviceQuery prints "N MBytes (B bytes)": B is exact.
  * PyTorch prints "_CudaDeviceProperties(..., total_memory=NMB, ...)" with NMB = total_memory // 2**20 (rounded
    down), so the catalog takes the lower bound N * 2**20.
  * PyTorch's OOM message prints "GPU 0 has a total capacity of X GiB" with two decimals, so X pins the total to
    +-0.005 GiB (+-5.12 MiB); the catalog takes round(X * 1024) MiB.
"""

from __future__ import annotations

import re

import pytest

from engine.catalog import GpuSpec, find_gpu, gpu_catalog, reload_catalogs

MiB = 2**20
GiB = 2**30


@pytest.fixture(autouse=True)
def _fresh_catalogs():
    reload_catalogs()
    yield
    reload_catalogs()


def _oom_gib(total_bytes: int) -> str:
    """How PyTorch's OOM message prints a total capacity: GiB with two decimals."""
    return f"{total_bytes / GiB:.2f}"


# --- exact byte counts from deviceQuery ------------------------------------------------------------
def test_a100_80gb_from_devicequery_and_nvidia_smi_on_one_host():
    # thamada/nvidia-smi gls/A100SXMx4_deviceQuery.py, driver 555.42.02:
    #   "Total amount of global memory: 81158 MBytes (85100068864 bytes)"
    # 85,100,068,864 / 2^20 = 81,157.75 MiB (deviceQuery rounds to 81158) = 79.26 GiB.
    # Same host, gls/A100SXMx4_smi.py: "1MiB /  81920MiB": the driver keeps 81920 - 81157.75 = 762.25 MiB.
    g = find_gpu("A100 80GB")
    assert g.memory_bytes == 85_100_068_864
    assert g.memory_bytes / MiB == 81_157.75 and round(g.memory_bytes / MiB) == 81158
    assert g.nvidia_smi_total_mib == 81920
    assert g.nvidia_smi_total_mib * MiB - g.memory_bytes == 762.25 * MiB == 799_277_056
    assert "85100068864 bytes" in g.capacity_source and "81920MiB" in g.capacity_source


def test_h100_sxm_from_devicequery_and_nvidia_smi_on_one_host():
    # thamada/nvidia-smi gls/H100SXMx8_deviceQuery.py, driver 565.57.01:
    #   "Total amount of global memory: 81106 MBytes (85045477376 bytes)"
    # 85,045,477,376 / 2^20 = 81,105.6875 MiB = 79.20 GiB; gls/H100SXMx8_smi.py: "1MiB /  81559MiB" (453.3 MiB more).
    g = find_gpu("H100 SXM")
    assert g.memory_bytes == 85_045_477_376
    assert g.memory_bytes / MiB == 81_105.6875 and _oom_gib(g.memory_bytes) == "79.20"
    assert g.nvidia_smi_total_mib == 81559
    assert "85045477376 bytes" in g.capacity_source


def test_rtx_4090_from_devicequery_and_nvidia_smi_on_one_host():
    # thamada/nvidia-smi gls/RTX4090_deviceQuery.py, driver 550.127.05:
    #   "Total amount of global memory: 24210 MBytes (25386352640 bytes)"
    # 25,386,352,640 / 2^20 = 24,210.3125 MiB = 23.64 GiB (the "total capacity of 23.64 GiB" of ali-vilab/VGen#104);
    # gls/RTX4090_smi.py: "2MiB /  24564MiB".
    g = find_gpu("RTX 4090")
    assert g.memory_bytes == 25_386_352_640
    assert g.memory_bytes / MiB == 24_210.3125 and _oom_gib(g.memory_bytes) == "23.64"
    assert g.nvidia_smi_total_mib == 24564


def test_rtx_5090_from_devicequery_in_an_issue():
    # aikitoria/open-gpu-kernel-modules#1 (Fedora 41, driver 570.133.04):
    #   "Device 2: "NVIDIA GeForce RTX 5090" ... Total amount of global memory: 32117 MBytes (33677180928 bytes)"
    # 33,677,180,928 / 2^20 = 32,117.0625 MiB = 31.36 GiB.
    g = find_gpu("RTX 5090")
    assert g.memory_bytes == 33_677_180_928
    assert g.memory_bytes // MiB == 32117 and _oom_gib(g.memory_bytes) == "31.36"
    assert "aikitoria/open-gpu-kernel-modules#1" in g.capacity_source


def test_v100_16gb_cuda_total_equals_the_nvidia_smi_total():
    # deviceQuery, CUDA 9.0 and 10.2: "Tesla V100-SXM2-16GB" "16160 MBytes (16945512448 bytes)"
    # 16,945,512,448 / 2^20 = 16,160.5 MiB: on Volta CUDA sees what nvidia-smi shows (16160 MiB, rounded down).
    g = find_gpu("V100 16GB")
    assert g.memory_bytes == 16_945_512_448 == 16160 * MiB + MiB // 2
    assert g.nvidia_smi_total_mib == 16160


# --- whole MiB from PyTorch's _CudaDeviceProperties print (rounded down) ----------------------------
@pytest.mark.parametrize(("name", "printed_mib", "oom_gib"), [
    # "_CudaDeviceProperties(name='NVIDIA H200', major=9, minor=0, total_memory=143156MB, ...)";
    # OOMs: "GPU 0 has a total capacity of 139.80 GiB".  143156 / 1024 = 139.801
    ("H200", 143156, "139.80"),
    # "_CudaDeviceProperties(name='NVIDIA B200', major=10, minor=0, total_memory=182631MB, ...)";
    # OOMs: "GPU 0 has a total capacity of 178.35 GiB".  182631 / 1024 = 178.351
    ("B200", 182631, "178.35"),
    # "_CudaDeviceProperties(name='Tesla T4', major=7, minor=5, total_memory=15102MB, ...)";
    # Colab OOM in hpcaitech/Open-Sora#697: "GPU 0 has a total capacity of 14.75 GiB".  15102 / 1024 = 14.748
    ("T4", 15102, "14.75"),
    # "_CudaDeviceProperties(name='AMD Instinct MI300X', ..., total_memory=196592MB, ...)" (and thamada/nvidia-smi
    # gls/MI300X_deviceQuery.py "196592: Total Global Memory (MB)"); ROCm OOMs: "total capacity of 191.98 GiB".
    ("MI300X", 196592, "191.98"),
])
def test_pytorch_print_and_oom_message_agree(name, printed_mib, oom_gib):
    g = find_gpu(name)
    assert g.memory_bytes == printed_mib * MiB  # lower bound of [N, N + 1) MiB
    assert g.memory_bytes // MiB == printed_mib
    assert _oom_gib(g.memory_bytes) == oom_gib
    assert f"{printed_mib}MB" in g.capacity_source or f"{printed_mib}: Total Global Memory" in g.capacity_source


# --- two-decimal GiB from PyTorch's OOM message -------------------------------------------------------
@pytest.mark.parametrize(("name", "oom_gib", "expected_bytes"), [
    # hahnyuan/PB-LLM#3 (A800-80G): "GPU 0 has a total capacty of 79.33 GiB".
    # 79.33 * 2^30 = 85,179,938,897.9 B; 79.33 * 1024 = 81,233.92 MiB -> 81234 MiB = 85,180,022,784 B (+-0.005 GiB).
    ("A800 80GB", "79.33", 85_180_022_784),
    # google/RB-Modulation#5 (A30): "GPU 0 has a total capacty of 23.53 GiB".
    # 23.53 * 1024 = 24,094.72 MiB -> 24095 MiB = 25,265,438,720 B (+-0.005 GiB).
    ("A30", "23.53", 25_265_438_720),
])
def test_capacity_from_a_pytorch_oom_message(name, oom_gib, expected_bytes):
    g = find_gpu(name)
    assert g.memory_bytes == expected_bytes == round(float(oom_gib) * 1024) * MiB
    assert abs(g.memory_bytes / GiB - float(oom_gib)) <= 0.005
    assert _oom_gib(g.memory_bytes) == oom_gib
    assert f"{oom_gib} GiB" in g.capacity_source


# --- the whole catalog ---------------------------------------------------------------------------------
def _marketed_gib(g: GpuSpec) -> int:
    return int(re.match(r"(\d+) GB", g.marketed_memory).group(1))


def test_every_nvidia_datacenter_card_is_below_its_marketed_gib():
    # "80 GB" on the box is 80 GiB of HBM; CUDA always gets less (ECC, the driver's own reservations).
    cards = [g for g in gpu_catalog() if g.vendor == "NVIDIA" and g.category == "datacenter"]
    assert len(cards) >= 15
    for g in cards:
        assert g.memory_bytes < _marketed_gib(g) * GiB, g.name


def test_every_card_says_where_its_capacity_comes_from():
    for g in gpu_catalog():
        assert g.capacity_source.strip(), g.name
        found = not g.capacity_source.startswith("no published CUDA figure found")
        if found:
            # a quoted figure: the exact bytes, a whole-MiB print or an OOM message's GiB
            assert re.search(r"\d+ bytes|\d+MB|\d+: Total Global Memory|\d+\.\d\d GiB", g.capacity_source), g.name
        else:
            assert "marketed size" in g.capacity_source, g.name


def test_cuda_total_is_under_the_nvidia_smi_total():
    # nvidia-smi rounds its total down to whole MiB; the CUDA total never exceeds it by a whole MiB.
    for g in gpu_catalog():
        if g.nvidia_smi_total_mib is not None:
            assert g.memory_bytes < (g.nvidia_smi_total_mib + 1) * MiB, g.name
            # and a card the driver reserves nothing on is a kept marketed entry, not a measured one
            if g.memory_bytes == g.nvidia_smi_total_mib * MiB:
                assert g.capacity_source.startswith("no published CUDA figure found"), g.name


def test_user_catalog_entries_without_the_new_fields_still_load():
    g = GpuSpec.model_validate({"name": "old card", "memory_bytes": 8 * GiB, "source": "test"})
    assert g.nvidia_smi_total_mib is None and g.capacity_source == ""

"""The measuring instrument itself, against byte counts derived by hand."""

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from fidelity.meter import peak_allocated_bytes, saved_bytes  # noqa: E402


def test_a_linear_layer_saves_its_input_and_the_weight_is_excluded():
    x = torch.randn(4, 8, dtype=torch.bfloat16, requires_grad=True)
    w = torch.randn(16, 8, dtype=torch.bfloat16, requires_grad=True)
    with saved_bytes(exclude=[w]) as m:
        F.linear(x, w)
    assert m.total == 4 * 8 * 2  # bf16 input, 64 B


def test_views_of_one_buffer_count_once_with_the_whole_buffer():
    qkv = torch.randn(4, 24, dtype=torch.bfloat16, requires_grad=True)
    with saved_bytes() as m:
        q, k, v = qkv.split(8, dim=-1)
        q @ k.t()  # saves q and k: two views of qkv
        F.gelu(v)  # saves v: a third view
    assert m.total == 4 * 24 * 2  # 192 B: the one QKV buffer


def test_dropout_on_cuda_path_saves_a_one_byte_mask():
    x = torch.randn(32, 32, dtype=torch.bfloat16, requires_grad=True)
    with saved_bytes() as m:
        torch.native_dropout(x, 0.1, True)
    assert m.by_dtype() == {"bool": 32 * 32}


def test_cpu_f_dropout_saves_a_16_bit_noise_tensor_instead():
    # Why the harness calls native_dropout: on the CPU F.dropout multiplies by a bf16 noise tensor.
    x = torch.randn(32, 32, dtype=torch.bfloat16, requires_grad=True)
    with saved_bytes() as m:
        F.dropout(x, 0.1, training=True)
    assert m.by_dtype() == {"bfloat16": 2 * 32 * 32}


def test_cpu_sdpa_runs_flash_without_dropout_and_the_fp32_math_path_with_it():
    b, a, s, d = 2, 4, 16, 8
    q, k, v = (torch.randn(b, a, s, d, dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    flash = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert "FlashAttentionForCpu" in type(flash.grad_fn).__name__
    with saved_bytes() as m:
        F.scaled_dot_product_attention(q, k, v, is_causal=True)
    # q, k, v, output (bf16, 512 elements each) + fp32 log-sum-exp per head and token
    assert m.total == 4 * (b * a * s * d * 2) + b * a * s * 4
    with saved_bytes() as m:
        F.scaled_dot_product_attention(q, k, v, dropout_p=0.1, is_causal=True)
    assert set(m.by_dtype()) >= {"float32"}  # the math fallback upcasts to fp32


def test_peak_counts_tensors_alive_together():
    def work():
        a = torch.empty(1000, dtype=torch.float32)  # 4,000 B
        b = torch.empty(500, dtype=torch.float32)  # 2,000 B, alive with a
        del a, b
        return torch.empty(100, dtype=torch.float32)  # 400 B

    peak, _ = peak_allocated_bytes(work)
    assert peak == 6_000

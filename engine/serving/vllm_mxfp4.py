"""vLLM's MXFP4 MoE backends, and how much each pads the expert weights it holds.

``Mxfp4MoEMethod.create_weights`` (``vllm/model_executor/layers/quantization/mxfp4.py``) allocates the
gate-up stack as (experts, 2 × F', H' / 2) bytes plus (experts, 2 × F', H' / 32) scales, and the down stack
as (experts, H', F' / 2) plus (experts, H', F' / 32), where F' is the expert FFN width on this rank and H' the
hidden size, each rounded up as the backend ``get_mxfp4_backend`` picks needs:

=====================================  ===============================  =========  ==========
backend                                where                            F' to      H' to
=====================================  ===============================  =========  ==========
Marlin                                 CUDA below 9.0 or from 11.0;     128        256
                                       Hopper before vLLM 0.12
Triton (OpenAI ``triton_kernels``)     Hopper (CUDA 9.x)                64         (none)
FlashInfer MXFP4 x BF16 (SM100)        CUDA 10.x (FlashInfer)           256        256
Triton on ROCm                         MI300 (gfx942); gfx950           128; 256   128; 256
=====================================  ===============================  =========  ==========

vLLM releases before 0.12.0 did not ship ``triton_kernels`` (users installed it by hand; vllm-project/vllm
PR 28788, merged November 2025, vendored it), so Hopper fell back to Marlin: the 0.10.1 log of
gpt-oss-120b on one H100 warns "Weight-only FP4 compression will be used leveraging the Marlin kernel" and
loads 65.9651 GiB (vllm-project/vllm issue 23278), the 0.14.1 log says "Using Triton backend" and loads
64.38 GiB (issue 33155).

The Triton path (``process_weights_after_loading``) also keeps what the kernel does not read: it swizzles
the scales into a new tensor (``HopperMXScaleLayout``: rows padded to 2 × 8 warps × 2 × 8 = 256) while the
checkpoint's uint8 ``w13_weight_scale`` / ``w2_weight_scale`` stay registered on the layer, and it replaces
the bf16 expert biases with fp32 copies.  Per layer and rank that is E × (⌈2F'⌉₂₅₆ × H/32 + ⌈H⌉₂₅₆ × F'/32)
bytes of scales and E × (2F' + H) × 2 bytes of biases (:meth:`Mxfp4Backend.resident_extra`).

gpt-oss's hidden size 2,880 is not a multiple of 256, so Marlin cards (Ampere, Ada, consumer Blackwell)
hold 3,072 / 2,880 = 6.7 % more expert bytes than the checkpoint; per-rank widths that are not multiples of
64 or 128 (2,880 / 2 = 1,440 at TP 2) pad as well.  Hopper takes FlashInfer only when
``VLLM_USE_FLASHINFER_MOE_MXFP4_BF16`` is set (it pads both to 128, not modelled); FlashInfer is a
dependency of vLLM's CUDA wheels, so B200 is counted with it (no published B200 log checked).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog import GpuSpec
from engine.model.spec import ModelSpec
from engine.report.formatting import ceil_div, ceil_to, n

MXFP4_BLOCK = 32  # elements per E8M0 scale
SCALE_ROW_ALIGN = 256  # HopperMXScaleLayout: 2 x num_warps (8) x 2 x 8
BIAS_UPCAST_BYTES = 2  # fp32 less bf16
TRITON_VENDORED = (0, 12, 0)  # first release shipping triton_kernels (PR 28788)


@dataclass(frozen=True, slots=True)
class Mxfp4Backend:
    name: str
    pad: tuple[int, int]  # (expert FFN width per rank, hidden size) rounded up to these multiples
    keeps_scale_copy: bool = False  # Triton on CUDA: swizzled scales beside the checkpoint's, fp32 biases

    def resident_extra(self, spec: ModelSpec, tp: int) -> tuple[int, str]:
        """(bytes, formula) one MoE layer holds on a rank beyond its padded experts (Triton's scale copy and
        fp32 biases; 0 for the other backends)."""
        moe = spec.moe
        if not self.keeps_scale_copy or moe is None:
            return 0, ""
        ffn = ceil_to(ceil_div(moe.expert_ffn, tp), self.pad[0])
        up = 2 * ffn if spec.gated_mlp else ffn
        h = spec.hidden
        scales = moe.experts * (ceil_to(up, SCALE_ROW_ALIGN) * ceil_div(h, MXFP4_BLOCK)
                                + ceil_to(h, SCALE_ROW_ALIGN) * ceil_div(ffn, MXFP4_BLOCK))
        biases = moe.experts * (up + h) * BIAS_UPCAST_BYTES if spec.bias else 0
        return scales + biases, (f"{moe.experts} experts × (swizzled scales ⌈{n(up)}⌉₂₅₆ × {n(h)}/32 + "
                                 f"⌈{n(h)}⌉₂₅₆ × {n(ffn)}/32" + (f" + fp32 biases ({n(up)} + {n(h)}) × 2 B" if biases else "")
                                 + f") = {n(scales + biases)} B a layer")


MARLIN = Mxfp4Backend("Marlin", (128, 256))
TRITON = Mxfp4Backend("Triton", (64, 1), keeps_scale_copy=True)
FLASHINFER_SM100 = Mxfp4Backend("FlashInfer SM100", (256, 256))
ROCM_TRITON = Mxfp4Backend("Triton (ROCm)", (128, 128))
ROCM_TRITON_GFX950 = Mxfp4Backend("Triton (ROCm gfx950)", (256, 256))


def mxfp4_backend(gpu: GpuSpec | None, version: tuple[int, int, int] | None = None) -> Mxfp4Backend:
    """The backend vLLM ``version`` (None: the newest) picks on ``gpu`` (an unknown card: Hopper's)."""
    hopper = MARLIN if version is not None and version < TRITON_VENDORED else TRITON
    if gpu is None:
        return hopper
    if gpu.arch.startswith("gfx"):
        return ROCM_TRITON_GFX950 if gpu.arch == "gfx950" else ROCM_TRITON
    if gpu.compute_capability is None:
        return hopper
    major = int(float(gpu.compute_capability))
    if major == 10:
        return FLASHINFER_SM100
    if major == 9:
        return hopper
    return MARLIN

"""What a fine-tuning plan asks: method, adapters, workload and optimizer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.errors import PlanError
from engine.finetune.bitsandbytes import parse_bnb_version

FinetuneMethod = Literal["full", "lora", "qlora"]
AdapterOptimizer = Literal["adamw", "adamw-8bit", "paged-adamw", "paged-adamw-8bit", "sgd"]
TARGET_MODULES = ("q", "k", "v", "o", "gate", "up", "down", "head")


class FinetuneConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    method: FinetuneMethod = "lora"
    rank: int = Field(8, gt=0, description="LoRA rank r")
    alpha: float = Field(16.0, gt=0, description="LoRA alpha (scales the update; no memory effect)")
    target_modules: tuple[str, ...] = Field(("q", "v"), description="matrices with adapters: q k v o gate up down, head (lm_head)")
    seq: int = Field(2048, gt=0, description="tokens per sample")
    micro_batch: int = Field(1, gt=0, description="samples per micro-batch")
    gradient_accumulation: int = Field(
        1, gt=0, description="micro-batches per optimizer step.  Full fine-tuning: with more than one the 16-bit "
        "gradients of the first backward stay through the later micro-batches' forwards; with one, zero_grad "
        "frees them after every step and the forward and the loss run without them")
    gradient_checkpointing: bool = False
    flash_attention: bool = True
    optimizer: AdapterOptimizer = "adamw"
    base_dtype: Literal["bf16", "fp16", "fp32"] = Field("bf16", description="frozen base weights (LoRA) and compute")
    adapter_dtype: Literal["fp32", "bf16"] = Field("fp32", description="PEFT keeps adapters in fp32 by default")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="dropout on each adapter's input (LitGPT's default "
                                "0.05; PEFT's LoraConfig 0.0, its recipes 0.05-0.1)")
    framework: Literal["peft", "litgpt"] = Field(
        "peft", description="peft: Hugging Face transformers + PEFT (loss over full fp32 logits); "
        "litgpt: Lightning's LitGPT (chunked lm_head and cross-entropy)")
    mixed_precision: bool = Field(
        False, description="full fine-tuning with fp32 master weights and fp32 AdamW moments (AMP); false: pure "
        "16-bit weights, gradients and moments (LitGPT bf16-true, torchtune, transformers loaded in bfloat16)")
    fsdp: bool = Field(
        False, description="shard the weights, gradients and optimizer states over the data-parallel cards with "
        "PyTorch FSDP (FULL_SHARD, one unit per decoder layer: the Hugging Face Trainer under accelerate's "
        "FSDP plugin); false: every card holds the whole model (DDP)")
    quant: Literal["nf4", "fp4"] = Field("nf4", description="QLoRA base format")
    double_quant: bool = Field(True, description="QLoRA double quantization of the absmax")
    bnb_version: str | None = Field(
        None, max_length=32, description="bitsandbytes release (QLoRA), e.g. 0.42.0: before 0.43.2 each 4-bit "
        "linear keeps its input for the backward, and LitGPT's loop holds it through the next micro-batch's "
        "forward (the peft count keeps every linear's input whatever the release); default: a current release")

    @field_validator("target_modules")
    @classmethod
    def _targets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [m for m in v if m not in TARGET_MODULES]
        if bad or not v:
            raise PlanError("finetune.target_modules", ",".join(v), "a non-empty subset of " + ",".join(TARGET_MODULES))
        return tuple(dict.fromkeys(v))

    @field_validator("bnb_version")
    @classmethod
    def _bnb_version(cls, v: str | None) -> str | None:
        if v is not None:
            parse_bnb_version(v)
        return v

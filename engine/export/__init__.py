"""Launch configs from a plan (Megatron-LM, DeepSpeed, vLLM, llama.cpp) and imports back.  Qt-free."""

from engine.export.deepspeed import deepspeed_config, deepspeed_json, plan_from_deepspeed
from engine.export.grid import GridShape, grid_shape
from engine.export.megatron import megatron_args, megatron_command
from engine.export.megatron_import import ImportResult, plan_from_megatron
from engine.export.serving import llamacpp_args, llamacpp_command, vllm_args, vllm_command

EXPORT_FORMATS = ("megatron", "deepspeed", "vllm", "llamacpp")
IMPORT_FORMATS = ("megatron", "deepspeed")


def export_text(plan, fmt: str) -> str:
    """The launch config of ``plan`` in format ``fmt`` as text (what the CLI prints and the GUI saves)."""
    from engine.errors import PlanError

    renderers = {"megatron": megatron_command, "deepspeed": deepspeed_json, "vllm": vllm_command,
                 "llamacpp": llamacpp_command}
    if fmt not in renderers:
        raise PlanError("format", fmt, " | ".join(EXPORT_FORMATS))
    return renderers[fmt](plan)


__all__ = [
    "EXPORT_FORMATS", "IMPORT_FORMATS", "GridShape", "ImportResult", "deepspeed_config", "deepspeed_json",
    "export_text", "grid_shape", "llamacpp_args", "llamacpp_command", "megatron_args", "megatron_command",
    "plan_from_deepspeed", "plan_from_megatron", "vllm_args", "vllm_command",
]

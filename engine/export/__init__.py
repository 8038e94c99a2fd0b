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


def import_launch_config(text: str, fmt: str, *, gpu: str, current_model=None, gpus_per_node: int = 8) -> ImportResult:
    """A pasted launch config -> a plan on catalog GPU ``gpu``.

    Megatron-LM flags carry the whole architecture; a DeepSpeed config carries none,
    so it is applied to ``current_model``.
    """
    from engine.catalog import find_gpu
    from engine.errors import PlanError

    card = find_gpu(gpu)
    if fmt == "megatron":
        return plan_from_megatron(text, gpu=card.name, capacity_bytes=card.memory_bytes,
                                  gpus_per_node=gpus_per_node)
    if fmt == "deepspeed":
        if current_model is None:
            raise PlanError("model", None, "a model to apply the DeepSpeed config to")
        return plan_from_deepspeed(text, model=current_model, gpu=card.name, capacity_bytes=card.memory_bytes,
                                   gpus_per_node=gpus_per_node)
    raise PlanError("format", fmt, " | ".join(IMPORT_FORMATS))


__all__ = [
    "EXPORT_FORMATS", "IMPORT_FORMATS", "GridShape", "ImportResult", "deepspeed_config", "deepspeed_json",
    "export_text", "grid_shape", "import_launch_config", "llamacpp_args", "llamacpp_command", "megatron_args", "megatron_command",
    "plan_from_deepspeed", "plan_from_megatron", "vllm_args", "vllm_command",
]

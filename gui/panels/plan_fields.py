"""Qt-free helpers the panels use to derive a new plan from one edited field.

``set_field(plan, "training.seq", 8192)`` re-validates the sub-model that holds
the field, so a bad value raises :class:`engine.errors.PlanError` naming the
field (shown inline next to it) instead of producing an invalid plan.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from engine.errors import PlanError
from engine.finetune.config import FinetuneConfig
from engine.limits import OPEN_LOW, field_bounds
from engine.model.spec import ModelSpec
from engine.plan.schema import Plan, plan_error_from_validation, with_changes
from engine.replay_scope import allocator_replay_problem
from engine.serving.config import ServingConfig
from engine.serving.release import quant_for_model, release_quant


def get_field(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part) if obj is not None else None
    return obj


LLAMACPP_ONLY = ("gpu_layers", "cpu_moe_layers")  # ServingConfig refuses them with another runtime


def set_field(plan: Plan, path: str, value: Any) -> Plan:
    """A new plan with the field at ``path`` set to ``value``, validated: the section that holds the
    field, then the plan as a whole (``engine.plan.schema.with_changes``), so a value within its own
    bounds that takes the plan past a plan-wide limit (the parameter count of layers x hidden x ...)
    is refused here, naming this field and value, rather than by the estimate.  Switching the serving
    runtime away from llama.cpp drops the llama.cpp-only values (their rows are greyed then) in the
    same plan, one undo step; so does a model edit for a --n-cpu-moe it cannot take (:func:`with_model`)."""
    if path == "serving.runtime" and plan.serving is not None:
        plan = _for_runtime(plan, value)
    head, _, rest = path.partition(".")
    if not rest:
        new = typing.cast(Plan, _validated(type(plan), {**_shallow(plan), head: value}, ""))
    else:
        child = getattr(plan, head)
        if not isinstance(child, BaseModel):
            raise PlanError(head, child, "a section of the plan")
        section = _set_in(child, rest, value, head)
        try:
            new = with_changes(plan, **{head: section})
        except PlanError as e:  # a plan-wide limit: said at the field that was edited, with what the plan would be
            shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
            raise PlanError(path, value, f"{e.allowed}; {shown} makes {e.value}") from None
    return _serving_for_model(plan.model, new) if head == "model" else new


def _for_runtime(plan: Plan, runtime: Any) -> Plan:
    """Leaving llama.cpp drops its only values (their rows are greyed then); a model's release format follows
    the runtime (gpt-oss: mxfp4 under vLLM, the MXFP4_MOE GGUF under llama.cpp)."""
    serving = plan.serving
    if serving is None:
        return plan
    update: dict[str, Any] = dict.fromkeys(LLAMACPP_ONLY) if runtime != "llamacpp" else {}
    if isinstance(runtime, str) and serving.quant == release_quant(plan.model.name, serving.runtime):
        update["quant"] = release_quant(plan.model.name, runtime) or serving.quant
    return plan.model_copy(update={"serving": serving.model_copy(update=update)}) if update else plan


def _serving_for_model(old: ModelSpec, plan: Plan) -> Plan:
    """What a model switch does to the serving settings: a llama.cpp --n-cpu-moe the new model cannot take goes
    (none without routed experts, its row greyed then; at most the model's layers), and the weight format
    follows the model when the user did not choose one (:func:`engine.serving.release.quant_for_model`)."""
    serving = plan.serving
    if serving is None:
        return plan
    update: dict[str, Any] = {"quant": quant_for_model(old, plan.model, serving.quant, serving.runtime)}
    if serving.cpu_moe_layers:
        update["cpu_moe_layers"] = None if plan.model.moe is None else min(serving.cpu_moe_layers, plan.model.layers)
    return plan.model_copy(update={"serving": serving.model_copy(update=update)})


def with_model(plan: Plan, spec: ModelSpec, checkpoint: dict | None = None) -> Plan:
    """The plan with another model (a preset, a config file); a --n-cpu-moe the new model cannot take and the
    format of a model released quantized go with the switch, in the same undo step.  ``checkpoint``: the serving
    defaults a local checkpoint's quantization_config gives (``engine.importers.quantization.serving_defaults``:
    format, modules kept in 16 bit, group size), which a serving plan takes."""
    new = _serving_for_model(plan.model, plan.model_copy(update={"model": spec}))
    if checkpoint and new.serving is not None:
        new = new.model_copy(update={"serving": new.serving.model_copy(update=checkpoint)})
    return new


def field_range(path: str, decimals: int = 0) -> tuple[float, float]:
    """The range a field of the GUI takes: the engine's bound (``engine.limits.field_bounds``), else the
    bounds of the engine model's field (its pydantic ``Field``), at ``decimals`` digits (0: an integer)."""
    bounds = field_bounds(path)
    step = 10.0 ** -decimals if decimals else 1
    if bounds is not None:
        low, high = bounds
        return (low + step if path in OPEN_LOW else low), high
    section, _, name = path.rpartition(".")
    owner = _owner_model(section)
    low, high = 0.0, float(2**31 - 1)
    for meta in owner.model_fields[name].metadata if owner is not None and name in owner.model_fields else ():
        low = meta.ge if getattr(meta, "ge", None) is not None else low
        low = meta.gt + step if getattr(meta, "gt", None) is not None else low
        high = meta.le if getattr(meta, "le", None) is not None else high
        high = meta.lt - step if getattr(meta, "lt", None) is not None else high
    return low, high


def _owner_model(section: str) -> type[BaseModel] | None:
    """The pydantic class at a dotted path of a plan ("method.overhead" -> OverheadConfig)."""
    cls: Any = Plan
    for part in section.split(".") if section else ():
        field = cls.model_fields.get(part)
        if field is None:
            return None
        options = [a for a in (get_args(field.annotation) or (field.annotation,)) if isinstance(a, type)]
        cls = next((a for a in options if issubclass(a, BaseModel)), None)
        if cls is None:
            return None
    return cls


def _set_in(model: BaseModel, path: str, value: Any, prefix: str) -> BaseModel:
    head, _, rest = path.partition(".")
    if rest:
        child = _set_in(getattr(model, head), rest, value, f"{prefix}.{head}")
        return model.model_copy(update={head: child})
    return _validated(type(model), {**_shallow(model), head: value}, prefix)


def _shallow(model: BaseModel) -> dict[str, Any]:
    """The model's fields as given (sub-models stay objects, so they are not re-parsed)."""
    return {name: getattr(model, name) for name in type(model).model_fields}


def _validated(cls: type[BaseModel], data: dict[str, Any], prefix: str) -> BaseModel:
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        err = plan_error_from_validation(e)
        if prefix and not err.field.startswith(prefix):
            err = PlanError(f"{prefix}.{err.field}", err.value, err.allowed)
        raise err from None


def literal_choices(annotation: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal[...]`` (or ``Literal | None``) annotation, else None."""
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    if get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in get_args(annotation):
            found = literal_choices(arg)
            if found:
                return found
    return None


def even_layer_split(layers: int, stages: int) -> tuple[int, ...]:
    """A starting point for an uneven split: layers shared out, the remainder on the first stages."""
    if stages < 1:
        raise PlanError("layout.stages", stages, "at least one pipeline stage")
    base, extra = divmod(layers, stages)
    return tuple(base + (1 if k < extra else 0) for k in range(stages))


def even_split_refusal(plan: Plan) -> PlanError | None:
    """Why the engine refuses an even layer split of this plan's stages (None: it accepts one).

    Training and fine-tuning split the layers evenly only when the stages (× interleaved chunks)
    divide them; serving puts the remainder on the first stages and never refuses.
    """
    stages = len({c.stage for c in plan.layout.cards})
    if stages < 2 or plan.mode == "serving":
        return None
    from engine.training.memory.schedule import stage_layer_indices

    try:
        stage_layer_indices(plan.model.layers, stages, None, plan.layout.vpp)
    except PlanError as e:
        return e
    return None


def rebalanced(counts: tuple[int, ...], index: int, value: int) -> tuple[int, ...]:
    """``counts`` with stage ``index`` set to ``value``, its neighbour (the next stage; the one before
    for the last) giving or taking the difference, so the total stays the model's layer count."""
    out = list(counts)
    if not 0 <= index < len(out) or len(out) < 2:
        return tuple(out)
    other = index + 1 if index + 1 < len(out) else index - 1
    value = max(1, min(value, out[index] + out[other] - 1))
    out[other] -= value - out[index]
    out[index] = value
    return tuple(out)


# The optional plan sections (``plan.serving``, ``plan.finetune``) and their pydantic classes.
SECTION_MODELS: dict[str, type[BaseModel]] = {"serving": ServingConfig, "finetune": FinetuneConfig}


def set_mode(plan: Plan, mode: str) -> Plan:
    """Switch the plan's mode, giving a serving / fine-tuning plan its default settings when it has none."""
    cls = SECTION_MODELS.get(mode)
    if cls is not None and getattr(plan, mode) is None:
        try:
            plan = plan.model_copy(update={mode: cls()})
        except ValidationError as e:
            raise plan_error_from_validation(e) from None
    return set_field(plan, "mode", mode)


# DeepSpeed's checkpoint switches and what each needs: partition_activations acts on the checkpoints of
# full recompute, cpu_checkpointing moves the partitions (engine.training.config.TrainingConfig refuses either
# without what it needs).
VLLM_VERSION_PATH = "serving.vllm_version"


def set_vllm_version(plan: Plan, value: str | None) -> Plan:
    """Set the vLLM release and the engine it ran by default (V0 before 0.8) in one valid edit."""
    from engine.serving.vllm_profiling import default_vllm_engine

    engine = default_vllm_engine(value)
    if get_field(plan, "serving.vllm_engine") != engine:
        plan = set_field(plan, "serving.vllm_version", None)  # every release accepts either engine while unnamed
        plan = set_field(plan, "serving.vllm_engine", engine)
    return set_field(plan, VLLM_VERSION_PATH, value)


FRAMEWORK_PATH = "method.framework"
FRAGMENTATION_MODEL_PATH = "method.overhead.fragmentation_model"


def replay_applies(plan: Plan) -> bool:
    """Whether the plan's reserve can come from the allocator replay (engine.replay_scope)."""
    return allocator_replay_problem(plan) is None


def keep_replay_in_scope(plan: Plan) -> Plan:
    """An edit that takes the plan out of what the allocator replay rebuilds (Megatron-LM 2021 training,
    fine-tuning under the Hugging Face Trainer on one card or FSDP-sharded cards: engine.replay_scope) returns its reserve to the
    percentage, in the same edit."""
    if get_field(plan, FRAGMENTATION_MODEL_PATH) == "replay" and not replay_applies(plan):
        return set_field(plan, FRAGMENTATION_MODEL_PATH, "percent")
    return plan


CHECKPOINT_PATHS = ("training.recompute", "training.partition_activations", "training.cpu_checkpointing")
FSDP_PATHS = ("training.zero", "training.fsdp")


def set_sharding(plan: Plan, path: str, value: Any) -> Plan:
    """Set the ZeRO stage or FSDP (``FSDP_PATHS``) in one valid edit: FSDP on sets ZeRO-3 (FSDP FULL_SHARD is
    ZeRO-3's sharding), a stage below 3 turns FSDP off."""
    if path == "training.fsdp" and value and plan.training.zero != 3:
        plan = set_field(plan, "training.zero", 3)
    elif path == "training.zero" and value != 3 and plan.training.fsdp:
        plan = set_field(plan, "training.fsdp", False)
    return set_field(plan, path, value)


def set_checkpointing(plan: Plan, path: str, value: Any) -> Plan:
    """Set recompute or one of DeepSpeed's checkpoint switches (``CHECKPOINT_PATHS``) in one valid edit: what
    the edit takes away turns off the switches that need it (recompute away from full: both switches;
    partition_activations off: cpu_checkpointing)."""
    if path == "training.recompute" and value != "full":
        dependents: tuple[str, ...] = ("training.cpu_checkpointing", "training.partition_activations")
    elif path == "training.partition_activations" and not value:
        dependents = ("training.cpu_checkpointing",)
    else:
        dependents = ()
    for dependent in dependents:  # the last-needed first, so every step is a valid plan
        if get_field(plan, dependent):
            plan = set_field(plan, dependent, False)
    return set_field(plan, path, value)

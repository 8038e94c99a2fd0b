"""Workload panel: mode, training workload, memory method, and the serving / fine-tuning settings."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget

from engine.replay_scope import replays_by_default
from engine.serving.estimate import llamacpp_keeps_windows, vllm_batch
from engine.serving.runtimes import profile as runtime_profile
from engine.training.memory.deepspeed_optimizer import deepspeed_fp32_grad_bytes_per_param
from gui.panels.expert_load import KIND_PATH, ExpertLoadRows, plan_with_load_kind
from gui.panels.form import BoundForm
from gui.panels.plan_fields import (
    CHECKPOINT_PATHS,
    FRAGMENTATION_MODEL_PATH,
    FRAMEWORK_PATH,
    FSDP_PATHS,
    VLLM_VERSION_PATH,
    keep_replay_in_scope,
    replay_applies,
    set_checkpointing,
    set_mode,
    set_sharding,
    set_vllm_version,
)
from gui.panels.section_form import add_section_fields

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls

TRAINING_MODES = ("training",)
TRANSFORMERS_VERSION_PATH = "method.transformers_version"


def serving_field_rules(serving, moe_model: bool = False) -> dict[str, bool]:
    """Which runtime-specific serving fields apply to the chosen runtime, format and model (others are greyed)."""
    quant, runtime = str(serving.quant).lower(), serving.runtime
    return {
        "serving.gpu_layers": runtime == "llamacpp",
        "serving.cpu_moe_layers": runtime == "llamacpp" and moe_model,  # --n-cpu-moe: routed experts only
        "serving.output_layer_first": runtime == "llamacpp" and serving.gpu_layers is not None,  # which -ngl units
        "serving.gpu_memory_utilization": runtime == "vllm",
        "serving.vllm_engine": runtime == "vllm",
        "serving.vllm_version": runtime == "vllm",
        "serving.enforce_eager": runtime == "vllm",
        "serving.vllm_entry": runtime == "vllm" and serving.vllm_engine == "v1",  # V1's batch defaults
        "serving.max_num_seqs": runtime == "vllm",  # the scheduler's limit and the profile's sampler warm-up
        "serving.kv_free_fraction": runtime == "trtllm",
        "serving.group_size": quant.startswith("int4"),
        "serving.double_quant": quant in ("nf4", "fp4"),
    }


def auto_value_texts(plan) -> dict[str, str]:
    """The "auto" text of the serving batch rows, with what the runtime picks for this plan ("auto (2,048)"), and what an
    unset --n-cpu-moe means."""
    auto = translate("section_form", "auto")
    texts = {"serving.prefill_chunk": auto, "serving.max_num_seqs": auto,
             "serving.cpu_moe_layers": translate("section_form", "none")}
    serving = plan.serving
    if serving is None or not plan.layout.cards:
        return texts
    batch = vllm_batch(plan, serving)
    chunk = batch.tokens if batch is not None else runtime_profile(serving.runtime).prefill_chunk
    if chunk:
        texts["serving.prefill_chunk"] = f"{auto} ({chunk:,})"
    if batch is not None:
        texts["serving.max_num_seqs"] = f"{auto} ({batch.serving_seqs(serving.batch):,})"
    return texts


def swa_full_reason(plan) -> str:
    """Why llama.cpp's --swa-full does nothing for this plan ("" when it matters): it sizes llama.cpp's cache
    of the sliding-window layers, which llama.cpp keeps only when some but not all layers use the window."""
    if plan.serving is None or plan.serving.runtime != "llamacpp":
        return translate("WorkloadPanel", "Only for llama.cpp: the other runtimes keep the window itself.")
    model = plan.model
    if model.sliding_window is None:
        return translate("WorkloadPanel", "The model has no sliding window (Model ▸ Architecture).")
    if not llamacpp_keeps_windows(model) or not model.sliding_window_layers:
        return translate("WorkloadPanel", "llama.cpp keeps a window only when some, not all, layers use one; "
                         "this model keeps the whole context on every layer.")
    return ""


def checkpoint_switch_reasons(training) -> dict[str, str]:
    """Why each DeepSpeed checkpoint switch does nothing for these settings ("" when it applies)."""
    full = training.recompute == "full"
    need_full = translate("WorkloadPanel", "Only with full recompute: it acts on the layer checkpoints that full "
                          "recompute keeps.")
    need_partitions = translate("WorkloadPanel", "Only with partitioned checkpoints: DeepSpeed moves the "
                                "partitions to CPU memory.")
    return {
        "training.partition_activations": "" if full else need_full,
        "training.cpu_checkpointing": need_full if not full else "" if training.partition_activations else need_partitions,
    }


def deepspeed_fp16_step_reason(plan) -> str:
    """Why the DeepSpeed fp16 step choice does nothing for this plan ("" when it applies)."""
    if plan.method.method == "detailed" and deepspeed_fp32_grad_bytes_per_param(plan.training, plan.method,
                                                                                plan.training.zero):
        return ""
    return translate("WorkloadPanel", "Only for the detailed method with DeepSpeed in fp16 without ZeRO or a "
                     "distributed optimizer: sharded optimizers and bf16 keep their fp32 gradients another way.")


def transformers_version_reason(plan) -> str:
    """Why the transformers release does nothing for this plan ("" when it applies)."""
    if plan.mode == "finetune" and (plan.finetune is None or plan.finetune.framework == "peft"):
        return ""
    if plan.mode == "training" and plan.method.method == "detailed" and plan.method.framework == "huggingface":
        return ""
    return translate("WorkloadPanel", "Only for Hugging Face transformers: fine-tuning with PEFT, or training with "
                     "the detailed method and the Hugging Face framework.")


def finetune_field_rules(finetune) -> dict[str, bool]:
    """Which fine-tuning fields the chosen method uses (others are greyed): adapters for LoRA and
    QLoRA, the 4-bit base format for QLoRA, fp32 master weights for full fine-tuning."""
    method = finetune.method
    adapters = method in ("lora", "qlora")
    return {
        "finetune.rank": adapters,
        "finetune.target_modules": adapters,
        "finetune.alpha": adapters,
        "finetune.adapter_dtype": adapters,
        "finetune.lora_dropout": adapters,
        "finetune.quant": method == "qlora",
        "finetune.double_quant": method == "qlora",
        "finetune.bnb_version": method == "qlora",
        "finetune.mixed_precision": method == "full",
        "finetune.fsdp": finetune.framework == "peft",  # FSDP as the Hugging Face Trainer runs it
    }


class WorkloadPanel(BoundForm):
    def __init__(self, document, parent: QWidget | None = None, *, answers=None) -> None:
        super().__init__(document, parent)
        self._answers = answers  # gui.serving_answers.ServingAnswers: formats the cards cannot run
        if answers is not None:
            answers.formats_changed.connect(self._mark_formats)
        self._build_mode()
        self._build_training()
        self._build_parallel()
        self._build_expert_load()
        self._build_method()
        for section, title in (("serving", translate("WorkloadPanel", "Serving")), ("finetune", translate("WorkloadPanel", "Fine-tuning"))):
            # built when the plan first switches to that mode (a training plan never shows them)
            self.begin_group(title, visible_in=(section,), rows=partial(add_section_fields, self, section))
        self._build_reserve()
        self._build_transformers()
        self.finish()

    def _build_mode(self) -> None:
        self.begin_group(translate("WorkloadPanel", "Mode"))
        self.add_combo("mode", translate("WorkloadPanel", "Workload:"), [
            ("training", translate("WorkloadPanel", "Training")), ("serving", translate("WorkloadPanel", "Serving")),
            ("finetune", translate("WorkloadPanel", "Fine-tuning"))])

    def _build_training(self) -> None:
        self.begin_group(translate("WorkloadPanel", "Training workload"), visible_in=TRAINING_MODES)
        self.add_spin("training.seq", translate("WorkloadPanel", "Sequence length:"), step=512, suffix=translate("WorkloadPanel", " tokens"))
        self.add_spin("training.micro_batch", translate("WorkloadPanel", "Micro-batch:"))
        self.add_spin("training.global_batch", translate("WorkloadPanel", "Global batch:"), none_text=translate("WorkloadPanel", "auto (fill the pipeline)"),
                      tooltip=translate("WorkloadPanel", "Samples per optimizer step; auto runs one micro-batch per pipeline stage"))
        self.add_combo("training.precision", translate("WorkloadPanel", "Precision:"), [("bf16", "bf16"), ("fp16", "fp16"), ("fp32", "fp32")])
        self.add_combo("training.optimizer", translate("WorkloadPanel", "Optimizer:"), [("adamw", "AdamW"), ("adam", "Adam"), ("sgd", "SGD")])
        self.add_combo("training.recompute", translate("WorkloadPanel", "Recompute:"), [
            ("none", translate("WorkloadPanel", "none")), ("selective", translate("WorkloadPanel", "selective")), ("full", translate("WorkloadPanel", "full"))])
        self.add_check("training.partition_activations", translate("WorkloadPanel", "Partition activations (DeepSpeed)"),
                       tooltip=translate("WorkloadPanel", "DeepSpeed partition_activations: each tensor-parallel rank keeps "
                                         "1/TP of every layer checkpoint, all-gathered when the layer is recomputed"))
        self.add_check("training.cpu_checkpointing", translate("WorkloadPanel", "CPU checkpointing (DeepSpeed)"),
                       tooltip=translate("WorkloadPanel", "DeepSpeed cpu_checkpointing: the partitioned checkpoints live in "
                                         "CPU memory, none on the GPU"))
        self.add_check("training.flash_attention", translate("WorkloadPanel", "Flash attention"))
        self.add_check("training.sequence_parallel", translate("WorkloadPanel", "Sequence parallel (with TP)"))

    def _build_parallel(self) -> None:
        self.begin_group(translate("WorkloadPanel", "Sharding and offload"), visible_in=TRAINING_MODES)
        self.add_combo("training.zero", translate("WorkloadPanel", "ZeRO stage:"), [
            (0, translate("WorkloadPanel", "0 (none)")), (1, translate("WorkloadPanel", "1 (optimizer states)")), (2, translate("WorkloadPanel", "2 (+ gradients)")),
            (3, translate("WorkloadPanel", "3 (+ weights)"))])
        self.add_check("training.distributed_optimizer", translate("WorkloadPanel", "Distributed optimizer (Megatron)"))
        self.add_check("training.offload_optimizer", translate("WorkloadPanel", "Offload optimizer states to CPU"))
        self.add_check("training.offload_params", translate("WorkloadPanel", "Offload parameters to CPU (ZeRO-3)"))
        self.add_check("training.fsdp", translate("WorkloadPanel", "FSDP (PyTorch, ZeRO-3)"),
                       tooltip=translate("WorkloadPanel", "ZeRO-3 as PyTorch FSDP FULL_SHARD runs it under the Hugging "
                                         "Face Trainer: decoder layers gathered whole while they compute, the "
                                         "embeddings and output layer whole from the forward to the end of the "
                                         "backward, nothing gathered at the optimizer step"))

    def _build_expert_load(self) -> None:
        self.begin_group(translate("WorkloadPanel", "MoE expert load"), visible_in=TRAINING_MODES)
        self.expert_load = ExpertLoadRows(self)

    def _build_method(self) -> None:
        self.begin_group(translate("WorkloadPanel", "Memory method"), visible_in=TRAINING_MODES)
        self.add_combo("method.method", translate("WorkloadPanel", "Method:"), [
            ("seed", translate("WorkloadPanel", "seed (the article's rules)")), ("detailed", translate("WorkloadPanel", "detailed"))],
            tooltip=translate("WorkloadPanel", "seed: 18 B/param and 40·S·H·L activations, no overheads; detailed: framework-accurate"))
        self.add_combo(FRAMEWORK_PATH, translate("WorkloadPanel", "Framework:"), [
            ("megatron", "Megatron-LM"),
            ("megatron-2021", translate("WorkloadPanel", "Megatron-LM 2021 (local DDP)")),
            ("deepspeed", "DeepSpeed"),
            ("huggingface", translate("WorkloadPanel", "Hugging Face (transformers eager)"))])
        self.add_combo("method.deepspeed_fp16_optimizer", translate("WorkloadPanel", "DeepSpeed fp16 step:"), [
            ("fused", translate("WorkloadPanel", "fused (FusedAdam)")),
            ("unfused", translate("WorkloadPanel", "unfused (other optimizers)"))],
            tooltip=translate("WorkloadPanel", "DeepSpeed in fp16 without ZeRO converts every gradient to fp32 for the "
                              "step. Its log says which wrapper runs: 'Creating fp16 optimizer' (fused: fp32 copies "
                              "flattened into one buffer, 8 B per parameter) or 'Creating fp16 unfused optimizer' "
                              "(an fp32 gradient per parameter, 4 B)."))

    def _build_reserve(self) -> None:
        self.begin_group(translate("WorkloadPanel", "Allocator reserve"), visible_in=("training", "finetune"))
        self.add_combo(FRAGMENTATION_MODEL_PATH, translate("WorkloadPanel", "Reserve from:"), [
            ("auto", translate("WorkloadPanel", "auto")),
            ("percent", translate("WorkloadPanel", "percentage")),
            ("replay", translate("WorkloadPanel", "allocator replay"))],
            tooltip=translate("WorkloadPanel", "PyTorch's caching allocator keeps freed blocks reserved. Replay runs "
                              "its rules over the card's allocations, step by step, and takes what it reserves "
                              "above what it allocates: Megatron-LM 2021 training (within 4 % of BigScience's "
                              "reserved memory but for one-layer stages) and fine-tuning under the Hugging Face "
                              "Trainer on one card (nvidia-smi of fms-acceleration's runs: within -7 to +9 %, where "
                              "a flat 5 % is 5-25 % low) or on the cards FSDP shards over (2.5-6.5 % low, where 5 % "
                              "is 15-31 % low). Auto, the default, replays fine-tuning under the Trainer and takes "
                              "the percentage below everywhere else."))
        self.add_double("method.overhead.fragmentation_percent", translate("WorkloadPanel", "Allocator reserve:"),
                        step=1.0, suffix=" %")

    def _build_transformers(self) -> None:
        self.begin_group(translate("WorkloadPanel", "Hugging Face stack"), visible_in=("training", "finetune"))
        self.add_combo(TRANSFORMERS_VERSION_PATH, translate("WorkloadPanel", "transformers:"), [
            (None, translate("WorkloadPanel", "4.49 or later")),
            ("4.48", translate("WorkloadPanel", "4.46 to 4.48")),
            ("4.45", translate("WorkloadPanel", "4.45 or earlier"))],
            tooltip=translate("WorkloadPanel", "From 4.46 to 4.48 ForCausalLMLoss copies the shifted fp32 logits, "
                              "one more vocabulary-sized buffer at the loss (14 B per token and vocabulary entry in "
                              "bf16, against 12 B for the cross-entropy's backward since 4.49). Before 4.46 the "
                              "model's forward computes the loss itself: fp32 logits, their shifted copy and the "
                              "log-softmax, 12 B."))

    def derive(self, path: str, value: Any):
        # whatever the edit, leaving what the allocator replay rebuilds returns the reserve to its percentage
        return keep_replay_in_scope(self._derive(path, value))

    def _derive(self, path: str, value: Any):
        if path == "mode":
            return set_mode(self.document.plan, value)
        if path == KIND_PATH:  # a kind with its factor (a capacity factor or a measured ratio needs one)
            return plan_with_load_kind(self.document.plan, value)
        if path in CHECKPOINT_PATHS:  # turning recompute away from full turns off what needs it, in one edit
            return set_checkpointing(self.document.plan, path, value)
        if path in FSDP_PATHS:  # FSDP on sets ZeRO-3, a lower stage turns FSDP off: one edit
            return set_sharding(self.document.plan, path, value)
        if path == VLLM_VERSION_PATH:  # a release before 0.8 runs the V0 engine, in the same edit
            return set_vllm_version(self.document.plan, value)
        return super().derive(path, value)

    def refresh(self) -> None:
        super().refresh()
        method = self.document.plan.method
        detailed = method.method == "detailed"
        reserved = detailed or self.document.plan.mode == "finetune"  # the seed method has no reserve
        replay = method.overhead.fragmentation_model == "replay"
        for path, enabled in ((FRAMEWORK_PATH, detailed),
                              (FRAGMENTATION_MODEL_PATH, reserved and (replay or replay_applies(self.document.plan))),
                              ("method.overhead.fragmentation_percent",
                               reserved and not replays_by_default(self.document.plan))):
            self.bindings[path].widget.setEnabled(enabled)
        self.expert_load.refresh()
        plan = self.document.plan
        rules = {**(serving_field_rules(plan.serving, plan.model.moe is not None) if plan.serving is not None else {}),
                 **(finetune_field_rules(plan.finetune) if plan.finetune is not None else {})}
        for path, applies in rules.items():
            if path in self.bindings:
                self.bindings[path].widget.setEnabled(applies)
                label = self.bindings[path].row_label
                if label is not None:
                    label.setEnabled(applies)
        for path, text in auto_value_texts(plan).items():
            spin = self.bindings[path].widget if path in self.bindings else None
            if isinstance(spin, QAbstractSpinBox):
                spin.setSpecialValueText(text)
        reasons = checkpoint_switch_reasons(plan.training)
        if "serving.swa_full" in self.bindings:
            reasons["serving.swa_full"] = swa_full_reason(plan)
        reasons["method.deepspeed_fp16_optimizer"] = deepspeed_fp16_step_reason(plan)
        reasons[TRANSFORMERS_VERSION_PATH] = transformers_version_reason(plan)
        for path, reason in reasons.items():
            self.set_applies(path, not reason, reason)
        self._mark_formats()

    def _mark_formats(self) -> None:
        """The weight format list marks the formats the plan's cards cannot run, with the reason."""
        binding = self.bindings.get("serving.quant")
        if binding is None or not isinstance(binding.widget, QComboBox):
            return
        combo, unsupported = binding.widget, (self._answers.unsupported if self._answers is not None else {})
        grey = combo.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for i in range(combo.count()):
            name = combo.itemData(i)
            reason = unsupported.get(name, "")
            text = name if not reason else translate("WorkloadPanel", "{format} (not on these cards)").format(format=name)
            if combo.itemText(i) != text:
                combo.setItemText(i, text)
            combo.setItemData(i, reason or None, Qt.ItemDataRole.ToolTipRole)
            combo.setItemData(i, grey if reason else None, Qt.ItemDataRole.ForegroundRole)

"""Model panel: a catalog preset, a local config.json, or custom architecture numbers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from engine.catalog import model_catalog
from engine.errors import PlanError
from engine.importers.quantization import serving_defaults_for
from engine.model.spec import ModelSpec
from engine.units import parse_count
from gui.panels.form import BoundForm, error_label
from gui.panels.plan_fields import with_model

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls


def model_from_config_file(path: str | Path) -> ModelSpec:
    """A ModelSpec from a local config.json / model folder (engine.importers.hf_import, offline)."""
    from engine.importers.hf_import import model_from_local

    return model_from_local(Path(path))


class ModelPanel(BoundForm):
    model_file_loaded = Signal(str)

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(document, parent)
        form = self.begin_group(translate("ModelPanel", "Model"))
        self.preset = QComboBox(self)
        self.preset.setObjectName("modelPreset")
        self.preset.addItem(translate("ModelPanel", "Custom"), None)
        for preset in model_catalog():
            self.preset.addItem(preset.name, preset.name)
        self.preset.activated.connect(self._on_preset)
        form.addRow(translate("ModelPanel", "Preset:"), self.preset)
        self.open_config = QPushButton(translate("ModelPanel", "Open config.json…"), self)
        self.open_config.setToolTip(translate("ModelPanel", "Read a Hugging Face config.json offline; you can also drop it on the window"))
        self.open_config.clicked.connect(self._choose_config)
        self.file_error = error_label(self)
        form.addRow("", self.open_config)
        form.addRow("", self.file_error)
        self._build_name_and_count(form)
        self.add_spin("model.layers", translate("ModelPanel", "Layers:"))
        self.add_spin("model.hidden", translate("ModelPanel", "Hidden size:"), step=128)
        self.add_spin("model.heads", translate("ModelPanel", "Attention heads:"))
        self.add_spin("model.kv_heads", translate("ModelPanel", "KV heads:"), none_text=translate("ModelPanel", "= heads"))
        self.add_spin("model.ffn", translate("ModelPanel", "MLP size:"), step=128, none_text=translate("ModelPanel", "4 × hidden"))
        self.add_spin("model.vocab", translate("ModelPanel", "Vocabulary:"), none_text=translate("ModelPanel", "not given"),
                      tooltip=translate("ModelPanel", "Without a vocabulary the declared parameter count is used (the article's level)"))
        self._build_architecture()
        self.save_preset = QPushButton(translate("ModelPanel", "Save as my preset…"), self)
        self.save_preset.setObjectName("saveModelPreset")
        self.save_preset.setToolTip(translate("ModelPanel", "Keep this model in your own catalog (a JSON file you can share)"))
        self.save_preset.clicked.connect(self._save_as_preset)
        self.preset_status = error_label(self)
        self.current_form().addRow(self.save_preset)
        self.current_form().addRow(self.preset_status)
        document.estimate_changed.connect(self._show_parameters)
        self._shown_model: ModelSpec | None = None
        self.finish()

    def _build_architecture(self) -> None:
        self.begin_group(translate("ModelPanel", "Architecture"))
        self.add_spin("model.head_dim", translate("ModelPanel", "Head dimension:"),
                      none_text=translate("ModelPanel", "hidden / heads"))
        self.add_spin("model.sliding_window", translate("ModelPanel", "Sliding window:"), step=256,
                      none_text=translate("ModelPanel", "none"), suffix=translate("ModelPanel", " tokens"),
                      tooltip=translate("ModelPanel", "Attention window of the sliding-window layers (Mistral, "
                                        "Gemma 2/3); their KV cache keeps at most this many tokens"))
        self.add_spin("model.sliding_window_layers", translate("ModelPanel", "Window layers:"),
                      none_text=translate("ModelPanel", "all layers"),
                      tooltip=translate("ModelPanel", "How many layers use the window, spread evenly over the "
                                        "model (Gemma 3 27B: 52 of 62); the others attend to the whole context"))
        self.add_combo("model.norm", translate("ModelPanel", "Norm:"),
                       [("layernorm", "LayerNorm"), ("rmsnorm", "RMSNorm")])
        self.add_spin("model.norms_per_layer", translate("ModelPanel", "Norms per layer:"),
                      tooltip=translate("ModelPanel", "1 for a parallel block whose attention and MLP share one norm "
                                        "(GPT-J, Falcon-7B, phi-1.5); 4 with norms before and after each part "
                                        "(Gemma 2/3)"))
        self.add_double("model.dropout", translate("ModelPanel", "Dropout:"), step=0.05, decimals=2)
        self.add_check("model.gated_mlp", translate("ModelPanel", "Gated MLP (SwiGLU, 3 matrices)"))
        self.add_check("model.parallel_residual", translate("ModelPanel", "Parallel attention and MLP"),
                       tooltip=translate("ModelPanel", "Attention and MLP both read the layer input and add to it "
                                         "together (GPT-J, GPT-NeoX, Falcon, phi)"))
        self.add_check("model.bias", translate("ModelPanel", "Biases on linear layers"))
        self.add_check("model.tied_embeddings", translate("ModelPanel", "Tied input and output embeddings"))

    def _save_as_preset(self) -> None:
        """Save the plan's model in the user's catalog and add it to the preset list."""
        from engine.catalog import ModelPreset, save_user_model
        from engine.model.params import parameter_count

        model = self.document.plan.model
        name, ok = QInputDialog.getText(self, translate("ModelPanel", "Save model preset"),
                                        translate("ModelPanel", "Preset name:"), text=model.name)
        if not ok or not name.strip():
            return
        try:
            path = save_user_model(ModelPreset(name=name.strip(), published_params=parameter_count(model),
                                               source="user preset saved from vramplan", spec=model))
        except (PlanError, OSError) as e:
            self.preset_status.setText(str(e))
            self.preset_status.show()
            return
        if self.preset.findData(name.strip()) < 0:
            self.preset.addItem(name.strip(), name.strip())
        self.preset_status.setText(translate("ModelPanel", "Saved to {path}").format(path=str(path)))
        self.preset_status.setStyleSheet("")
        self.preset_status.show()

    def _build_name_and_count(self, form) -> None:
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("model.name")
        self.name_edit.editingFinished.connect(self._on_name)
        form.addRow(translate("ModelPanel", "Name:"), self.name_edit)
        self.params_edit = QLineEdit(self)
        self.params_edit.setObjectName("model.params")
        self.params_edit.setPlaceholderText(translate("ModelPanel", "e.g. 13B or 13e9"))
        self.params_edit.editingFinished.connect(self._on_params)
        self.params_error = error_label(self)
        form.addRow(translate("ModelPanel", "Parameters:"), self.params_edit)
        form.addRow("", self.params_error)
        self.params_used = QLabel(self)
        self.params_used.setObjectName("parametersUsed")
        form.addRow(translate("ModelPanel", "Counted:"), self.params_used)

    # Edits --------------------------------------------------------------------
    def _on_preset(self, _index: int) -> None:
        name = self.preset.currentData()
        if name is None:
            return
        spec = next(p.spec for p in model_catalog() if p.name == name)
        self._apply_model(spec, translate("ModelPanel", "Use model {name}").format(name=name))

    def _on_name(self) -> None:
        text = self.name_edit.text().strip()
        if text and text != self.document.plan.model.name:
            self._apply_model(self.document.plan.model.model_copy(update={"name": text}), translate("ModelPanel", "Rename model"))

    def _on_params(self) -> None:
        text = self.params_edit.text().strip()
        try:
            value = parse_count(text, "model.params") if text else None
            new_plan = self.derive("model.params", value)
        except PlanError as e:
            self.params_error.setText(str(e))
            self.params_error.show()
            return
        self.params_error.hide()
        self.document.apply(new_plan, translate("ModelPanel", "Set parameter count"))

    def _choose_config(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, translate("ModelPanel", "Open model config"), "", translate("ModelPanel", "Model config (*.json);;All files (*)"))
        if path:
            self.load_config(path)

    def load_config(self, path: str | Path) -> bool:
        """Replace the plan's model by the one a local config.json describes (one undo step)."""
        try:
            spec = model_from_config_file(path)
            defaults = serving_defaults_for(path)  # the checkpoint's quantization_config, for a serving plan
        except PlanError as e:
            self.file_error.setText(str(e))
            self.file_error.show()
            return False
        self.file_error.hide()
        self.document.apply(with_model(self.document.plan, spec, defaults),
                            translate("ModelPanel", "Load model from {file}").format(file=Path(path).name))
        self.model_file_loaded.emit(str(path))
        return True

    def _apply_model(self, spec: ModelSpec, text: str) -> None:
        self.document.apply(with_model(self.document.plan, spec), text)

    # Display ------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        model = self.document.plan.model
        self.set_applies("model.sliding_window_layers", model.sliding_window is not None,
                         translate("ModelPanel", "Only with a sliding window: set the window first."))
        if model is self._shown_model:
            return
        self._shown_model = model
        match = next((i for i, p in enumerate(model_catalog(), start=1) if p.spec == model), 0)
        self.preset.setCurrentIndex(match)
        self.name_edit.setText(model.name)
        self.params_edit.setText(f"{model.params:,}" if model.params else "")
        self.params_edit.setPlaceholderText(translate("ModelPanel", "from the architecture") if model.complete else translate("ModelPanel", "e.g. 13B or 13e9"))
        self.params_error.hide()
        self._show_parameters()

    def _show_parameters(self) -> None:
        estimate = self.document.estimate
        self.params_used.setText(f"{estimate.parameters:,}" if estimate is not None else "–")


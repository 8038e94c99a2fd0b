"""The workload panel's MoE expert-load rows (issue 14): how many routed tokens the busiest
expert-parallel (EP) rank receives (``training.expert_load``).

The estimate sizes every card as that rank, so the diagram, the chart and the warnings show the busiest
rank; the button opens the compare dock on "busiest vs average EP rank" (``gui.compare_data.run_expert_load``),
which puts the average rank beside it, stage by stage.
"""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QPushButton

from engine.errors import PlanError
from engine.plan.schema import Plan
from engine.training.config import ExpertLoad
from gui.panels.plan_fields import set_field

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls

KIND_PATH, FACTOR_PATH = "training.expert_load.kind", "training.expert_load.factor"
FACTOR_KINDS = ("capacity-factor", "measured")
# The figure a kind starts from when the load had none: the Switch Transformer's capacity factor (Fedus et
# al. 2021 train with 1.25), and a busiest/mean ratio half again the mean.
DEFAULT_FACTORS = {"capacity-factor": 1.25, "measured": 1.5}


def load_of_kind(load: ExpertLoad, kind: str) -> ExpertLoad:
    """The load the kind list gives: the current factor kept where the new kind takes one and accepts
    it (a measured ratio is at least 1), else the kind's starting figure."""
    try:
        if kind not in FACTOR_KINDS:
            return ExpertLoad(kind=kind)  # type: ignore[arg-type]
        keep = load.factor is not None and (kind != "measured" or load.factor >= 1)
        return ExpertLoad(kind=kind, factor=load.factor if keep else DEFAULT_FACTORS[kind])  # type: ignore[arg-type]
    except ValidationError as e:  # an unknown kind
        raise PlanError(KIND_PATH, kind, "balanced, capacity-factor, measured or dropless-worst-case") from e


def plan_with_load_kind(plan: Plan, kind: str) -> Plan:
    return set_field(plan, "training.expert_load", load_of_kind(plan.training.expert_load, kind))


class ExpertLoadRows:
    """The kind list, the factor, a line on what the cards show and the compare button, in ``form``'s
    current group (a :class:`gui.panels.form.BoundForm`)."""

    def __init__(self, form) -> None:
        self.form = form
        form.add_combo(KIND_PATH, translate("WorkloadPanel", "Busiest EP rank:"), [
            ("balanced", translate("WorkloadPanel", "balanced")),
            ("capacity-factor", translate("WorkloadPanel", "capacity factor")),
            ("measured", translate("WorkloadPanel", "measured ratio")),
            ("dropless-worst-case", translate("WorkloadPanel", "drop-less worst case"))],
            tooltip=translate("WorkloadPanel", "Routed tokens the busiest expert-parallel rank receives in a MoE "
                              "layer; every card is sized as that rank. Balanced: the average; capacity factor: "
                              "tokens beyond it are dropped; measured: the busiest rank's tokens / the mean; "
                              "drop-less worst case: every token of the group may pick this rank's experts"))
        form.add_double(FACTOR_PATH, translate("WorkloadPanel", "Factor:"), step=0.05, decimals=2,
                        tooltip=translate("WorkloadPanel", "Capacity factor: Megatron's --moe-expert-capacity-factor; "
                                          "measured: the busiest rank's tokens / the mean (at least 1)"))
        self.note = QLabel(form)
        self.note.setObjectName("expertLoadNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.compare_button = QPushButton(translate("WorkloadPanel", "Compare with the average rank"), form)
        self.compare_button.setObjectName("expertLoadCompare")
        self.compare_button.setToolTip(translate("WorkloadPanel", "Open the comparison of the busiest and the "
                                                 "average expert-parallel rank"))
        self.compare_button.clicked.connect(lambda: form.document.set_compare_source("expert-load"))
        rows = form.current_form()
        rows.addRow(self.note)
        rows.addRow(self.compare_button)
        self.group = rows.parentWidget()  # shown for mixture-of-experts models only

    def refresh(self) -> None:
        """After the form's own refresh: the group only for a MoE model, the factor for the kinds that take
        one, and what the cards show."""
        plan = self.form.document.plan
        if plan.model.moe is None:
            self.group.hide()
            return
        binding = self.form.bindings[FACTOR_PATH]
        applies = plan.training.expert_load.kind in FACTOR_KINDS
        binding.widget.setEnabled(applies)
        if binding.row_label is not None:
            binding.row_label.setEnabled(applies)
        ep = max(plan.layout.topology.ep_size, default=1)
        if ep == 1:
            text = translate("WorkloadPanel", "EP 1: each card holds every expert, so the load changes nothing.")
        else:
            text = translate("WorkloadPanel", "Every card is sized as the busiest of {ep} expert-parallel ranks.").format(
                ep=ep)
        self.note.setText(text)

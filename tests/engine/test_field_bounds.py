"""engine.limits.FIELD_BOUNDS: the one table of a setting's bounds (issue 15).

The plan's checks and the GUI's fields read it; where the engine's pydantic models bound a field too
(ModelSpec, the section configs), both say the same; a diagram gesture past MAX_CARDS / MAX_NODES is
refused by the edit itself, not by the next estimate.
"""

from __future__ import annotations

import pytest

from engine.errors import PlanError
from engine.finetune.config import FinetuneConfig
from engine.limits import (
    FIELD_BOUNDS,
    MAX_LAYERS,
    MAX_LORA_ALPHA,
    MAX_NODES,
    MAX_SEQ,
    OPEN_LOW,
    check_finetune_limits,
    check_training_limits,
    field_bounds,
)
from engine.model.spec import ModelSpec
from engine.plan import edits
from engine.plan.layout import Layout, Node, build_grid
from engine.plan.schema import Plan
from engine.serving.config import ServingConfig
from engine.training.config import MethodConfig, TrainingConfig

MODELS = {"model": ModelSpec, "training": TrainingConfig, "method": MethodConfig, "serving": ServingConfig,
          "finetune": FinetuneConfig}


def pydantic_bounds(path: str) -> tuple[float | None, float | None]:
    section, *names = path.split(".")
    cls = MODELS[section]
    for name in names[:-1]:
        cls = cls.model_fields[name].annotation
    low = high = None
    for meta in cls.model_fields[names[-1]].metadata:
        if getattr(meta, "ge", None) is not None:
            low = meta.ge
        if getattr(meta, "gt", None) is not None:
            low = meta.gt + (1 if isinstance(FIELD_BOUNDS[path][0], int) else 0)
        if getattr(meta, "le", None) is not None:
            high = meta.le
    return low, high


@pytest.mark.parametrize("path", sorted(FIELD_BOUNDS))
def test_the_table_agrees_with_the_models_own_bounds(path):
    low, high = FIELD_BOUNDS[path]
    model_low, model_high = pydantic_bounds(path)
    if model_low is not None:
        assert model_low == low, path
    if model_high is not None:
        assert model_high == high, path
    assert field_bounds(path) == (low, high)


def test_checks_read_the_table():
    with pytest.raises(PlanError) as info:
        check_training_limits(TrainingConfig.model_construct(seq=MAX_SEQ + 1, micro_batch=1, global_batch=None))
    assert (info.value.field, info.value.allowed) == ("training.seq", f"an integer from 1 to {MAX_SEQ:,}")
    with pytest.raises(PlanError) as info:  # a planner request checks its training under its own prefix
        check_training_limits(TrainingConfig.model_construct(seq=1, micro_batch=0, global_batch=None), "request")
    assert info.value.field == "request.micro_batch"
    assert "finetune.alpha" in OPEN_LOW
    with pytest.raises(PlanError) as info:
        check_finetune_limits(FinetuneConfig.model_construct(rank=8, alpha=2 * MAX_LORA_ALPHA, seq=1, micro_batch=1))
    assert info.value.field == "finetune.alpha" and info.value.allowed == "a number above 0 and at most 1e+06"
    assert field_bounds("model.layers") == (1, MAX_LAYERS) and field_bounds("model.name") is None


def test_a_gesture_past_the_node_limit_is_refused_by_the_edit():
    layout = build_grid(tp=8, gpu="H100 SXM", capacity_bytes=80 * 2**30)
    spare = tuple(Node(name=f"spare {i}", y=i + 1) for i in range(MAX_NODES - 2))
    plan = Plan(model=ModelSpec(params=7_000_000_000, layers=32, hidden=4096, heads=32),
                layout=Layout(nodes=layout.nodes + spare, cards=layout.cards))
    plan = edits.duplicate_node(plan, layout.nodes[0].id)  # MAX_NODES nodes: allowed
    assert len(plan.layout.nodes) == MAX_NODES
    with pytest.raises(PlanError) as info:
        edits.duplicate_node(plan, layout.nodes[0].id)
    assert info.value.field == "layout.nodes" and info.value.allowed == f"at most {MAX_NODES:,} nodes in a plan"

"""Start-up templates: the article's scenarios as plan files under ``resources/templates``.

Each template is an ordinary plan JSON file (valid for ``engine.plan.schema.load_plan``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from engine.errors import PlanError
from engine.plan.schema import Plan, load_plan
from engine.resources import resource_path

translate = QCoreApplication.translate  # lupdate extracts translate("Context", "text") calls

DEFAULT_TEMPLATE = "article-13b-pp4-zero1-dp2"


# Menu order and translatable titles; files not named here are listed after these, by file name.
_TITLES = {
    "article-13b-pp4-zero1-dp2": lambda: translate("templates", "13B: PP4 × ZeRO-1 DP2 on 8 × 80 GB (article, seed)"),
    "article-13b-pp8": lambda: translate("templates", "13B: PP8 on 8 × 80 GB (article, seed)"),
    "article-13b-zero1-only": lambda: translate("templates", "13B: ZeRO-1 DP8 only (article: does not fit)"),
    "13b-detailed-megatron": lambda: translate("templates", "13B: PP4 × ZeRO-1 DP2, detailed method (Megatron)"),
    "70b-80-cards": lambda: translate("templates", "70B: TP8 × PP5 × DP2 on 80 × 80 GB"),
    "6b-rtx4090-bf16": lambda: translate("templates", "6B: serving on one RTX 4090, bf16"),
    "6b-rtx4090-int4": lambda: translate("templates", "6B: serving on one RTX 4090, int4"),
    "6b-rtx3060-int4": lambda: translate("templates", "6B: serving on one RTX 3060 12GB, int4"),
    "13b-a10-int4": lambda: translate("templates", "13B: serving on one A10, int4"),
    "70b-4xh100-vllm": lambda: translate("templates", "70B: serving on 4 × H100 with vLLM"),
    "7b-rtx4090-qlora": lambda: translate("templates", "7B: QLoRA fine-tuning on one RTX 4090"),
}


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    path: Path


def template_dir() -> Path:
    return resource_path("templates")


def all_templates() -> list[Template]:
    """Every template file, in menu order."""
    files = {p.stem: p for p in template_dir().glob("*.json")}
    keys = [k for k in _TITLES if k in files] + sorted(k for k in files if k not in _TITLES)
    return [Template(k, _TITLES[k]() if k in _TITLES else k, files[k]) for k in keys]


def load_template(key: str) -> Plan:
    """The plan of template ``key``; PlanError names the known keys when it does not exist."""
    path = template_dir() / f"{key}.json"
    if not path.is_file():
        known = ", ".join(t.key for t in all_templates())
        raise PlanError("template", key, f"one of {known}")
    return load_plan(path)


def default_plan() -> Plan:
    """The plan the window opens on: the article's 13B scenario."""
    return load_template(DEFAULT_TEMPLATE)

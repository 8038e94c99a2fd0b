"""``vramplan catalog``: list the GPU and model catalogs, add your own, inspect a local model."""

from __future__ import annotations

import argparse
from typing import get_args

from engine.catalog import (
    GpuCategory,
    GpuSpec,
    ModelPreset,
    gpu_catalog,
    model_catalog,
    normalize,
    save_user_gpu,
    save_user_model,
)
from engine.cli.arg_types import float_in
from engine.cli.model_args import add_model_arguments, apply_model_overrides, model_overrides
from engine.cli.output_args import print_json
from engine.cli.training_args import card_bytes
from engine.errors import PlanError
from engine.limits import MAX_NAME_CHARS, MAX_PARAMETERS
from engine.model.params import parameter_count
from engine.units import Unit, parse_count, to_unit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("catalog", help="GPU and model catalogs; add your own GPUs and models",
                       description="List the catalogs, add user entries (saved as shareable JSON files), inspect a local model.")
    what = p.add_subparsers(dest="catalog_command", metavar="WHAT", parser_class=type(p))
    gpus = what.add_parser("gpus", help="list GPUs")
    gpus.add_argument("--category", choices=list(get_args(GpuCategory)), action="append", help="only this category (repeatable)")
    gpus.add_argument("--units", choices=["GB", "GiB"], default="GiB", help="memory column units (default GiB = 2^30 B)")
    gpus.add_argument("--json", action="store_true", help="full entries as JSON (memory in bytes)")
    gpus.set_defaults(run=_run_gpus)
    models = what.add_parser("models", help="list model presets")
    models.add_argument("--json", action="store_true", help="full entries as JSON, with the engine's parameter count")
    models.set_defaults(run=_run_models)
    _register_add_gpu(what)
    _register_add_model(what)
    inspect = what.add_parser("inspect", help="what a local config.json, model folder or .gguf file holds (offline)")
    inspect.add_argument("path", metavar="PATH")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(run=_run_inspect)
    p.set_defaults(run=lambda args: (p.print_help(), 2)[1])


def run(args: argparse.Namespace) -> int:
    return int(args.run(args) or 0)


# --- listing -------------------------------------------------------------------------------------
def _table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _run_gpus(args: argparse.Namespace) -> int:
    gpus = [g for g in gpu_catalog() if not args.category or g.category in args.category]
    if args.json:
        print_json({"gpus": [g.model_dump(mode="json") for g in gpus]})
        return 0
    unit = Unit(args.units)
    rows = [["name", "vendor", "category", f"memory {unit.value}", "marketed", "bf16 TFLOPs", "bandwidth GB/s", "TDP W", "USD/h"]]
    for g in gpus:
        rows.append([g.name + (" (unified)" if g.unified_memory else ""), g.vendor, g.category,
                     f"{to_unit(g.memory_bytes, unit):.2f}", g.marketed_memory, _num(g.bf16_tflops),
                     _num(g.memory_bandwidth_gbps, 0), _num(g.tdp_w, 0), _num(g.price_usd_per_hour, 2)])
    print(_table(rows, right={3, 5, 6, 7, 8}))
    print(f"\n{len(gpus)} GPUs; memory as the driver reports it where known, else the marketed size ({unit.value} = "
          f"{'2^30' if unit is Unit.GiB else '10^9'} bytes); `--json` for sources")
    return 0


def _run_models(args: argparse.Namespace) -> int:
    presets = model_catalog()
    if args.json:
        print_json({"models": [{**m.model_dump(mode="json", exclude_none=True), "parameters": parameter_count(m.spec)}
                               for m in presets]})
        return 0
    rows = [["name", "family", "layers", "hidden", "heads", "kv", "params B", "published B", "diff %", "released"]]
    for m in presets:
        s, count = m.spec, parameter_count(m.spec)
        rows.append([m.name, m.family, str(s.layers), str(s.hidden), str(s.heads), str(s.kv_heads_),
                     f"{count / 1e9:.2f}", f"{m.published_params / 1e9:.2f}",
                     f"{100 * (count - m.published_params) / m.published_params:+.2f}", m.release_quant or "16-bit"])
    print(_table(rows, right={2, 3, 4, 5, 6, 7, 8}))
    print(f"\n{len(presets)} models; params = the engine's count from the architecture (B = 10^9); released = the "
          "weight format the authors publish, which `infer` serves by default")
    return 0


# --- adding --------------------------------------------------------------------------------------
def _register_add_gpu(what: argparse._SubParsersAction) -> None:
    p = what.add_parser("add-gpu", help="add or replace a user GPU (saved under the user config folder)")
    p.add_argument("--name", required=True)
    p.add_argument("--memory", required=True, metavar="SIZE", help="memory the driver reports: 24GiB, 23028MiB, 80GB")
    p.add_argument("--marketed", metavar="TEXT", help="size on the box, e.g. '24 GB'")
    p.add_argument("--vendor", default="")
    p.add_argument("--category", choices=list(get_args(GpuCategory)), default="custom")
    p.add_argument("--alias", action="append", default=[], metavar="NAME", help="another name (repeatable)")
    for flag, help_ in (("--bf16-tflops", "dense BF16/FP16 TFLOPs"), ("--fp8-tflops", "dense FP8 TFLOPs"),
                        ("--int8-tops", "dense INT8 TOPs"), ("--bandwidth", "memory bandwidth GB/s"),
                        ("--interconnect-gbps", "GPU-to-GPU GB/s per direction"), ("--pcie-gbps", "PCIe GB/s"),
                        ("--tdp", "board power W"), ("--price", "USD per hour")):
        p.add_argument(flag, type=_non_negative(flag), metavar="X", help=help_)
    p.add_argument("--interconnect", default="", metavar="TEXT")
    p.add_argument("--unified-memory", action="store_true", help="memory shared with the CPU (Apple, Jetson, phones)")
    p.add_argument("--source", default="user-added via vramplan catalog add-gpu")
    p.set_defaults(run=_run_add_gpu)


def _non_negative(flag: str):
    """A finite figure of a GPU (TFLOPs, GB/s, W, USD/h): 0 to 10^6, the planner's largest."""
    return float_in(0, 1e6)


def _check_texts(args: argparse.Namespace) -> None:
    for flag, value in (("--name", args.name), ("--family", getattr(args, "family", None)),
                        ("--vendor", getattr(args, "vendor", None)), ("--marketed", getattr(args, "marketed", None)),
                        ("--interconnect", getattr(args, "interconnect", None)), ("--source", args.source)):
        if value is not None and len(value) > MAX_NAME_CHARS:
            raise PlanError(flag, value, f"a text of at most {MAX_NAME_CHARS} characters")
    if len(args.alias) > 64 or any(len(a) > MAX_NAME_CHARS for a in args.alias):
        raise PlanError("--alias", args.alias, f"at most 64 names of at most {MAX_NAME_CHARS} characters")


def _run_add_gpu(args: argparse.Namespace) -> int:
    _check_texts(args)
    if not normalize(args.name):
        raise PlanError("--name", args.name, "a name with at least one letter or digit")
    gpu = GpuSpec(
        name=args.name, aliases=tuple(args.alias), vendor=args.vendor, category=args.category,
        memory_bytes=card_bytes(args.memory, "--memory"), marketed_memory=args.marketed or args.memory,
        bf16_tflops=args.bf16_tflops, fp8_tflops=args.fp8_tflops, int8_tops=args.int8_tops,
        memory_bandwidth_gbps=args.bandwidth, interconnect=args.interconnect, interconnect_gbps=args.interconnect_gbps,
        pcie_gbps=args.pcie_gbps, tdp_w=args.tdp, unified_memory=args.unified_memory, price_usd_per_hour=args.price,
        source=args.source,
    )
    path = save_user_gpu(gpu)
    print(f"saved GPU {gpu.name!r} ({to_unit(gpu.memory_bytes, Unit.GiB):.2f} GiB) to {path}")
    return 0


def _register_add_model(what: argparse._SubParsersAction) -> None:
    p = what.add_parser("add-model", help="add or replace a user model preset (from a local config or flags)")
    p.add_argument("--from", dest="from_path", metavar="PATH", help="local config.json, model folder or .gguf (read offline)")
    p.add_argument("--family", default="custom")
    p.add_argument("--alias", action="append", default=[], metavar="NAME", help="another name (repeatable)")
    p.add_argument("--published-params", metavar="N", help="the authors' count (default: exact count of the weight "
                                                              "files, else the engine's count)")
    p.add_argument("--source", metavar="TEXT", help="where the figures come from")
    add_model_arguments(p)
    p.set_defaults(run=_run_add_model)


def _run_add_model(args: argparse.Namespace) -> int:
    _check_texts(args)
    base, weights_count, source = None, None, args.source
    if args.from_path:
        from engine.importers.hf_import import inspect_local

        info = inspect_local(args.from_path)
        base, weights_count = info.spec, info.weights_parameters
        source = source or f"imported offline from {info.path}"
    elif args.model:
        from engine.cli.model_args import base_model

        base = base_model(args.model)
    spec = apply_model_overrides(base, model_overrides(args))
    name = args.name or spec.name
    if not normalize(name) or name == "custom":
        raise PlanError("--name", name, "a name for the preset (e.g. --name my-llama-7b)")
    published = parse_count(args.published_params, "--published-params") if args.published_params else None
    if published is not None and published > MAX_PARAMETERS:
        raise PlanError("--published-params", args.published_params, f"a count of at most {MAX_PARAMETERS:.0e}")
    preset = ModelPreset(
        name=name, aliases=tuple(args.alias), family=args.family,
        published_params=published or weights_count or parameter_count(spec),
        source=source or "user-added via vramplan catalog add-model", spec=spec.model_copy(update={"name": name}),
    )
    path = save_user_model(preset)
    count = parameter_count(spec)
    print(f"saved model {name!r} ({count:,} parameters = {count / 1e9:.2f} B) to {path}")
    return 0


# --- inspect -------------------------------------------------------------------------------------
def _run_inspect(args: argparse.Namespace) -> int:
    from engine.importers.hf_import import inspect_local

    info = inspect_local(args.path)
    count = parameter_count(info.spec)
    if args.json:
        print_json({**info.model_dump(mode="json", exclude_none=True), "parameters": count})
        return 0
    s = info.spec
    print(f"{info.path}: {info.architecture}, {s.layers} layers, hidden {s.hidden}, {s.heads} heads "
          f"({s.kv_heads_} KV), vocab {s.vocab}" + (f", MoE {s.moe.experts}x top-{s.moe.top_k}" if s.moe else "")
          + (", MLA" if s.mla else ""))
    print(f"parameters from the architecture: {count:,}")
    if info.weights_parameters is not None:
        by_dtype = ", ".join(f"{k} {v:,}" for k, v in sorted(info.parameters_by_dtype.items()))
        print(f"parameters in the weight files: {info.weights_parameters:,} ({by_dtype})")
    if info.stored_dtype:
        print(f"stored dtype: {info.stored_dtype}" + (f"; GGUF file type {info.gguf_file_type}" if info.gguf_file_type else ""))
    if info.stored_bytes:
        print(f"tensor data: {info.stored_bytes:,} bytes ({info.stored_bytes / 1e9:.2f} GB)")
    for note in info.notes:
        print(f"note: {note}")
    return 0

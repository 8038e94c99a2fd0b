"""``vramplan infer``: per-card serving memory of a (quantized) deployment.

The flags are a promise to users' scripts (issue 3): ``--quant --kv-dtype
--context --batch --runtime --gpu NAME (repeatable) --gpus N --tp N
--gpu-layers N --tensor-split 3,1 --gpu-memory-utilization F --max-model-len N
--save-plan FILE --json``; later additions such as ``--vllm-entry`` and ``--max-num-seqs`` only extend them.
"""

from __future__ import annotations

import argparse

from pydantic import ValidationError

from engine.catalog import find_gpu
from engine.cli.arg_types import float_in, int_in
from engine.cli.model_args import add_model_arguments, looks_like_path, model_from_args
from engine.cli.output_args import add_output_arguments, print_json, unit_of
from engine.cli.table import render_table
from engine.cli.training_args import card_bytes, overhead_bytes
from engine.errors import PlanError
from engine.estimate import estimate
from engine.limits import (
    MAX_BATCH,
    MAX_CARDS,
    MAX_CONTEXT,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_NAME_CHARS,
    MAX_PARALLEL,
    MAX_SLOTS_PER_NODE,
    check_tensor_split,
)
from engine.plan.layout import Layout, build_grid
from engine.plan.schema import Plan, load_plan, plan_error_from_validation, save_plan, with_changes
from engine.report.json_report import estimate_to_json
from engine.serving.config import ServingConfig
from engine.serving.report import answers_json, serving_lines
from engine.weights.quant import SCHEME_NAMES

_SERVING_FLAGS = ("quant", "kv_dtype", "context", "batch", "runtime", "gpu_layers", "cpu_moe_layers", "output_layer_first",
                  "tensor_split",
                  "gpu_memory_utilization", "max_model_len", "vllm_engine", "group_size", "prefill_chunk", "flash_attention",
                  "logits", "paged_block_size", "double_quant", "swa_full", "vllm_version", "enforce_eager",
                  "vllm_entry", "max_num_seqs")
_LAYOUT_FLAGS = ("gpu", "gpu_memory", "gpus", "tp", "gpus_per_node")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("infer", help="per-card serving memory (weights format, KV cache, runtime)",
                       description="Serving memory per card: weights in the chosen format, KV cache, workspace, "
                                   "runtime overhead; the longest context and most sequences that fit.")
    p.add_argument("--plan", metavar="FILE", help="a saved serving plan")
    p.add_argument("--plan-name", metavar="TEXT", help="name of the plan")
    add_model_arguments(p)
    g = p.add_argument_group("serving")
    g.add_argument("--quant", metavar="FORMAT", help="weights: " + ", ".join(SCHEME_NAMES)
                   + " (default bf16, or the format a preset is released in: mxfp4 for gpt-oss)")
    g.add_argument("--group-size", type=int_in(1, MAX_HIDDEN), metavar="G", help="GPTQ/AWQ group size (default 128)")
    g.add_argument("--double-quant", action=argparse.BooleanOptionalAction, default=None,
                   help="bitsandbytes NF4/FP4: quantize the absmax too (default on)")
    g.add_argument("--keep-16bit", dest="keep_modules", metavar="NAME,NAME",
                   help="module-name fragments kept unquantized (default: the checkpoint's quantization_config)")
    g.add_argument("--kv-dtype", metavar="TYPE", help="KV cache: fp16, bf16, fp8, q8_0, q4_0 (default fp16)")
    g.add_argument("--context", type=int_in(1, MAX_CONTEXT), metavar="N", help="tokens per sequence (default 4096)")
    g.add_argument("--batch", type=int_in(1, MAX_BATCH), metavar="N", help="concurrent sequences (default 1)")
    g.add_argument("--runtime", choices=["transformers", "vllm", "llamacpp", "trtllm"])
    g.add_argument("--gpu-layers", type=int_in(0, MAX_LAYERS + 1), metavar="N", help="llama.cpp n_gpu_layers (partial offload)")
    g.add_argument("--output-layer-first", action=argparse.BooleanOptionalAction, default=None,
                   help="llama.cpp: --gpu-layers offloads the output layer first (default, builds since December "
                        "2025); --no-output-layer-first: the last blocks first (earlier builds)")
    g.add_argument("--cpu-moe-layers", "--n-cpu-moe", dest="cpu_moe_layers", type=int_in(0, MAX_LAYERS), metavar="N",
                   help="llama.cpp --n-cpu-moe: keep the routed experts of the first N layers in system RAM "
                        "(MoE models; the model's layer count for --cpu-moe)")
    g.add_argument("--tensor-split", metavar="A,B,...", help="share of the layers per card, e.g. 3,1")
    g.add_argument("--gpu-memory-utilization", type=float_in(0, 1, lo_open=True), metavar="F", help="vLLM share of each card (default 0.9)")
    g.add_argument("--vllm-engine", choices=["v0", "v1"], help="vLLM engine: v1 (default, vLLM >= 0.8) or v0")
    g.add_argument("--vllm-version", metavar="X.Y.Z",
                   help="vLLM release (e.g. 0.6.4): what it counts before sizing the KV pool (default: the newest)")
    g.add_argument("--enforce-eager", action=argparse.BooleanOptionalAction, default=None,
                   help="vLLM --enforce-eager: no CUDA graphs")
    g.add_argument("--max-model-len", type=int_in(1, MAX_CONTEXT), metavar="N", help="vLLM max_model_len (default: --context)")
    g.add_argument("--prefill-chunk", type=int_in(1, MAX_CONTEXT), metavar="N",
                   help="tokens per prefill forward pass (vLLM: --max-num-batched-tokens)")
    g.add_argument("--vllm-entry", choices=["serve", "llm"],
                   help="vLLM V1 started by `vllm serve` (default) or the Python LLM class: its default "
                        "max_num_batched_tokens and max_num_seqs depend on it and on the card")
    g.add_argument("--max-num-seqs", type=int_in(1, MAX_BATCH), metavar="N",
                   help="vLLM --max-num-seqs: the most sequences at once, and the requests its profile's "
                        "sampler warm-up samples (default: vLLM's, 1,024 on V1's large cards, else 256)")
    g.add_argument("--paged-block-size", type=int_in(1, MAX_CONTEXT), metavar="N", help="KV block size in tokens")
    g.add_argument("--flash-attention", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--swa-full", action=argparse.BooleanOptionalAction, default=None,
                   help="llama.cpp: sliding-window layers keep the whole context (default: window + one ubatch)")
    g.add_argument("--logits", choices=["last", "all"], help="logits of the last token (default) or every token")
    g.add_argument("--cuda-context", metavar="SIZE", help="CUDA context per card (default: the runtime's)")
    g.add_argument("--library-workspace", metavar="SIZE", help="cuBLAS workspace (default: the runtime's)")
    g.add_argument("--cuda-graphs", metavar="SIZE", help="vLLM CUDA graph memory (default 512MiB; 0 with --enforce-eager)")
    lay = p.add_argument_group("cards")
    lay.add_argument("--gpu", action="append", metavar="NAME", help="catalog GPU; repeat for mixed cards")
    lay.add_argument("--gpu-memory", metavar="SIZE", help="card memory instead of a catalog GPU (24GiB)")
    lay.add_argument("--gpus", type=int_in(1, MAX_CARDS), metavar="N", help="number of cards (default: one per --gpu)")
    lay.add_argument("--tp", type=int_in(1, MAX_PARALLEL), metavar="N", help="tensor parallel size (default: all cards for "
                                                               "vllm/trtllm, 1 for transformers/llamacpp)")
    lay.add_argument("--gpus-per-node", type=int_in(1, MAX_SLOTS_PER_NODE), metavar="N", help="slots per server (default 8)")
    ans = p.add_argument_group("answers")
    ans.add_argument("--best-quant", action="store_true", help="also find the least aggressive format that fits")
    ans.add_argument("--cheapest-gpu", action="store_true", help="also find the cheapest catalog card that fits")
    ans.add_argument("--fewest-cpu-moe", action="store_true",
                     help="llama.cpp, mixture of experts: also find the fewest layers whose experts must stay in "
                          "system RAM (--n-cpu-moe) for the plan to fit")
    add_output_arguments(p)
    p.set_defaults(run=run)


def parse_split(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    parts = text.split(",")
    allowed = f"at most {MAX_CARDS:,} comma-separated finite, non-negative shares, e.g. 3,1"
    if len(parts) > MAX_CARDS:
        raise PlanError("--tensor-split", text, allowed)
    try:
        split = tuple(float(x) for x in parts)
    except ValueError:
        raise PlanError("--tensor-split", text, allowed) from None
    check_tensor_split(split, "--tensor-split")  # nan, inf, negative: refused before any work
    return split


def serving_from_args(args: argparse.Namespace, base: ServingConfig | None = None) -> ServingConfig:
    data = base.model_dump() if base else {}
    if args.model is not None and looks_like_path(args.model) and base is None:
        # a local checkpoint: its quantization_config gives the format and the modules kept in 16 bit
        from engine.importers.quantization import serving_defaults_for

        data.update(serving_defaults_for(args.model))
    if args.keep_modules is not None:
        data["keep_modules"] = tuple(m.strip() for m in args.keep_modules.split(",") if m.strip())
    for f in _SERVING_FLAGS:
        value = getattr(args, f, None)
        if value is not None:
            data[f] = parse_split(value) if f == "tensor_split" else value
    if getattr(args, "vllm_version", None) is not None and getattr(args, "vllm_engine", None) is None:
        data.pop("vllm_engine", None)  # the release's default engine (V0 before 0.8)
    for flag, field in (("cuda_context", "cuda_context_bytes"), ("library_workspace", "library_workspace_bytes"),
                        ("cuda_graphs", "cuda_graph_bytes")):
        if getattr(args, flag, None) is not None:
            text = getattr(args, flag)
            data[field] = overhead_bytes(text, "--" + flag.replace("_", "-"))
    if args.max_model_len is not None and args.context is None:
        data["context"] = args.max_model_len
    if args.model is not None and not looks_like_path(args.model) and base is None and "quant" not in data:
        # a preset released quantized (gpt-oss: MXFP4 experts) is served in that format unless --quant says
        from engine.serving.release import release_quant

        released = release_quant(args.model, data.get("runtime", ServingConfig().runtime))
        if released is not None:
            data["quant"] = released
    try:
        return ServingConfig.model_validate(data)
    except ValidationError as e:
        raise plan_error_from_validation(e, "serving") from None


def _cards(args: argparse.Namespace) -> list[tuple[str, int]]:
    if args.gpu and len(args.gpu) > MAX_CARDS:
        raise PlanError("--gpu", f"{len(args.gpu):,} flags", f"at most {MAX_CARDS:,} cards in a plan")
    if args.gpu_memory is not None:
        capacity = card_bytes(args.gpu_memory)
        names = args.gpu or [f"custom {args.gpu_memory}"]
        cards = [(name, capacity) for name in names]
    elif args.gpu:
        found = {name: find_gpu(name) for name in dict.fromkeys(args.gpu)}  # each name looked up once
        cards = [(found[name].name, found[name].memory_bytes) for name in args.gpu]
    else:
        raise PlanError("--gpu", None, "a catalog GPU name (e.g. 'RTX 4090'), repeatable, or --gpu-memory SIZE")
    for name, _ in cards:
        if len(name) > MAX_NAME_CHARS:
            raise PlanError("--gpu", name, f"a GPU name of at most {MAX_NAME_CHARS} characters")
    count = args.gpus
    if count is None and len(cards) == 1 and args.tp:
        count = args.tp  # `--gpu h100 --tp 4` means four of them
    if count is not None:
        if len(cards) == 1:
            cards = cards * count
        elif count != len(cards):
            raise PlanError("--gpus", count, f"the number of --gpu flags ({len(cards)}) or omitted")
    return cards


def layout_from_args(args: argparse.Namespace, runtime: str) -> Layout:
    cards = _cards(args)
    n = len(cards)
    tp = args.tp or (n if runtime in ("vllm", "trtllm") else 1)
    if n % tp:
        raise PlanError("--tp", tp, f"a divisor of the number of cards ({n})")
    layout = build_grid(tp=tp, pp=n // tp, gpu=cards[0][0], capacity_bytes=cards[0][1],
                        gpus_per_node=args.gpus_per_node or 8)
    mixed = tuple(c.model_copy(update={"gpu": cards[i][0], "capacity_bytes": cards[i][1]})
                  for i, c in enumerate(layout.cards))
    return layout.model_copy(update={"cards": mixed})


def plan_from_args(args: argparse.Namespace) -> Plan:
    if args.plan:
        base = load_plan(args.plan)
        if any(getattr(args, f, None) is not None for f in _LAYOUT_FLAGS):
            raise PlanError("--plan", args.plan, "a plan file without card flags (--gpu/--gpus/--tp ...)")
        return with_changes(base, mode="serving", model=model_from_args(args, base=base.model),
                            serving=serving_from_args(args, base.serving), name=args.plan_name or base.name)
    model = model_from_args(args)
    serving = serving_from_args(args)
    return Plan(name=args.plan_name or model.name, mode="serving", model=model,
                layout=layout_from_args(args, serving.runtime), serving=serving)


def run(args: argparse.Namespace) -> int:
    plan = plan_from_args(args)
    est = estimate(plan)
    if args.save_plan:
        save_plan(plan, args.save_plan)
    extra = answers_json(plan, args.best_quant, args.cheapest_gpu, args.fewest_cpu_moe)
    if args.json:
        print_json({**estimate_to_json(est), **extra})
    else:
        unit = unit_of(args)
        print(render_table(est, unit, args.all_cards))
        print("\n".join(serving_lines(est, unit, extra)))
        released = _released_by_default(args, plan)
        if released:
            print(released)
    return 0


def _released_by_default(args: argparse.Namespace, plan: Plan) -> str:
    """The line saying a preset is served in the format its authors release, when --quant did not choose one."""
    from engine.serving.release import release_quant

    if args.plan or args.quant is not None or args.model is None or looks_like_path(args.model) or plan.serving is None:
        return ""
    quant = plan.serving.quant
    if quant != release_quant(args.model, plan.serving.runtime):
        return ""
    return f"{plan.model.name} is served as released, in {quant} (--quant bf16 for 16-bit weights)"

"""Every count, size and ratio the engine accepts, in one place (issue 15).

The same bounds serve the CLI flags (argparse types), plan files and the GUI
(pydantic ``Field`` bounds on the plan models), imported configs (config.json,
GGUF/safetensors headers, pasted launch configs: they build the same models)
and the planner's request.  Each bound is generous next to the largest real
systems and small enough that an estimate, an import or a search answers in
about a second and a few hundred MB, and that the GUI and the PDF never draw
something absurd.  Exceeding one is a :class:`~engine.errors.PlanError` naming
the field, the value and the range, never a traceback.
"""

from __future__ import annotations

import math

from engine.errors import PlanError

# --- Cluster and layout -----------------------------------------------------------------------
# A plan file lists every card explicitly; the GUI draws each one and the PDF prints them.
# 16,384 cards (2,048 eight-GPU servers) is larger than any single training job layout users
# draw card by card, and an estimate of it takes ~0.1 s; 100,000 cards took 49 s and 5.5 GB to render.
MAX_CARDS = 16_384
# Every node is drawn, even an empty one (10,000 empty nodes made a 331 MB PDF): 4,096 nodes hold
# MAX_CARDS at four GPUs per server.
MAX_NODES = 4_096
# GPU slots per server: 8 is usual; 64 lets an NVL rack be drawn as one node.
MAX_SLOTS_PER_NODE = 64
# A parallel size (TP, DP, CP, EP) alone cannot exceed the card count of a plan.
MAX_PARALLEL = MAX_CARDS
# Pipeline stages: published runs use 8-64 (Llama 3.1 405B: 16).  Each stage's step timeline used to walk
# every micro-batch in flight (1,024 stages took 1.6 s, 256 ~0.4 s); it now shows at most 8 warm-up
# forwards, and a 256-stage, 16,384-card estimate takes ~0.04 s.
MAX_PP = 256
# Interleaved (virtual) pipeline chunks per stage: Megatron uses 2-8; each chunk needs >= 1 layer.
MAX_VPP = 128
# Scene coordinates of a node (diagram units, ~ pixels): a 16,384-card grid spans ~10^5.
MAX_COORDINATE = 1e7
# The planner does not build cards, so it may search larger clusters than a plan file holds, but a
# layout it proposes must be savable as a plan: the same bound.
MAX_SEARCH_GPUS = MAX_CARDS
# Configurations one planner search may visit (cells of its arrays), each (TP, PP, split, VPP, CP, EP)
# block counting as SEARCH_BLOCK_CONFIGURATIONS more (its fixed cost: ~0.25 ms, as much as ~5,000 cells
# at ~50 ns).  DeepSeek-V3 on 16,384 H100s is 9.3M configurations in 598 blocks, 0.6 s on two shared
# cores; past the bound the search is refused with a hint to narrow it (fix the micro-batch, ZeRO ...).
MAX_SEARCH_CONFIGURATIONS = 12_500_000
SEARCH_BLOCK_CONFIGURATIONS = 5_000
# With every fitting layout kept (``vramplan plan --all``) each one becomes a Python object (~0.5 KB,
# ~3 us to build) and the answer sorts them by the objective (~1 us each): 438,000 took 2 s; 150,000
# keep the answer within about a second and ~100 MB.
MAX_KEPT_CONFIGURATIONS = 150_000
# Values one planner knob may list (micro-batch sizes to try).
MAX_SEARCH_CHOICES = 16
# Candidates one answer lists (``--top 0``: all, up to this): each is re-checked by the engine over
# every pipeline stage (~0.1 ms a stage), so the front of a 16,384-GPU search (thousands) took > 10 s.
MAX_LISTED_CANDIDATES = 200
# Pipeline stages those re-checks may cover in one answer (~90 us each): 200 candidates of 256 stages
# would take ~4.5 s; the list stops before passing this (its first candidate is always listed).
MAX_LISTED_STAGE_CHECKS = 3_000

# --- Model architecture -----------------------------------------------------------------------
# Llama-3.1-405B has 126 layers, DeepSeek-V3 61, GPT-3 96: 1,024 is 8x the deepest.
MAX_LAYERS = 1_024
# Hidden sizes: 16,384 (405B), 18,432 (PaLM), at most ~32k announced: 4x headroom.
MAX_HIDDEN = 131_072
# MLP width: 53,248 (405B), 73,728 (PaLM 540B); 4x MAX_HIDDEN.
MAX_FFN = 524_288
# Attention heads: 128 (405B, DeepSeek-V3); KV heads never exceed heads.
MAX_HEADS = 1_024
# Head dimension: 64-256 usual, 576 for MLA's latent; 4,096 is far beyond any design.
MAX_HEAD_DIM = 4_096
# Vocabularies: 32k-262k (Gemma 3: 262,144); 4x the largest.
MAX_VOCAB = 1_048_576
# Routed experts: 256 (DeepSeek-V3), 128 (Qwen3-MoE, Llama-4 Maverick); 16x headroom.
MAX_EXPERTS = 4_096
# Context / positions: Llama-4 Scout claims 10M tokens; 2^24 = 16.8M.
MAX_CONTEXT = 16_777_216
# MLA / LoRA ranks and GGUF key lengths are dimensions: bounded like the hidden size.
MAX_RANK = MAX_HIDDEN
# A declared or derived parameter count: 10^15 is ~2,500x Llama-3.1-405B.  It also keeps every
# per-card byte count far inside int64 (the planner's arrays): 10^15 x 18 B = 1.8 x 10^16.
MAX_PARAMETERS = 10**15

# --- Workload -------------------------------------------------------------------------------
# Sequence length per sample (training, fine-tuning): as long as the longest context.
MAX_SEQ = MAX_CONTEXT
# Samples per micro-batch or concurrent sequences served: real runs use 1-512.
MAX_BATCH = 65_536
# Samples per optimizer step: Llama 3 used 2,048 x 8k tokens (16M tokens); 2^24 samples.
MAX_GLOBAL_BATCH = 16_777_216

# --- Hardware -------------------------------------------------------------------------------
# Memory of one card: 288 GB today (MI355X), 512 GB unified-memory boxes; 2^44 B = 16 TiB.
MAX_CARD_BYTES = 2**44
# Per-card constants an overhead override may set (CUDA context, NCCL, workspace): a card's worth.
MAX_OVERHEAD_BYTES = MAX_CARD_BYTES
# Peak dense BF16 per card: ~2,250 TFLOP/s (B200); 10^6 keeps every time finite and non-zero.
MIN_TFLOPS, MAX_TFLOPS = 1e-3, 1e6
# Link bandwidth, GB/s: NVLink 5 is 900 GB/s per direction; 10^6 GB/s is 1 PB/s.
MIN_BANDWIDTH_GBPS, MAX_BANDWIDTH_GBPS = 1e-3, 1e6
# Price per card-hour, USD.
MAX_PRICE_USD = 1e6

# --- Files and text -------------------------------------------------------------------------
MiB = 2**20
# A plan of MAX_CARDS cards is ~5 MB of JSON; 64 MiB leaves room for names and pretty-printing.
MAX_PLAN_BYTES = 64 * MiB
# config.json, model.safetensors.index.json, DeepSpeed configs, catalog files, autosave metadata.
MAX_CONFIG_BYTES = 16 * MiB
# A pasted launch command line (Megatron flags, torchrun): a real one is a few KB; tokenising
# 1 MiB takes ~0.3 s.
MAX_LAUNCH_CONFIG_BYTES = 1 * MiB
# safetensors: the reference implementation refuses headers of 100 MB or more (safetensors
# README, "Format": N is limited to 100MB).
MAX_SAFETENSORS_HEADER_BYTES = 100_000_000
# A real header holds ~5 JSON values per tensor and a shard a few thousand tensors; 1M values is
# 200k tensors in one file and keeps the parsed header to ~100 MB.
MAX_SAFETENSORS_HEADER_VALUES = 1_000_000
# Shards of one model (DeepSeek-V3: 163) and their headers together.
MAX_SHARDS = 4_096
MAX_TOTAL_HEADER_BYTES = 256 * MiB
# Dimensions of one tensor and the size of one dimension (2^48 elements is 256 TiB of int8).
MAX_TENSOR_DIMS = 8
MAX_TENSOR_DIM = 2**48
# GGUF: strings (metadata keys and values, tensor names) longer than this mean a broken file;
# nested metadata arrays deeper than this too (real files nest at most 1).
MAX_GGUF_STRING_BYTES = 16 * MiB
MAX_GGUF_ARRAY_DEPTH = 4
# JSON nesting: a plan nests 5 deep, a safetensors header 3; 64 refuses a recursion bomb early.
MAX_JSON_DEPTH = 64
# Values in one JSON file (counted by separators before parsing, so memory stays bounded: 4M short
# strings are ~200 MB of Python objects).  A plan of MAX_CARDS cards has ~200k.
MAX_JSON_VALUES = 4_000_000
# Digits of a JSON integer: 30 digits is 10^30, beyond every bound above; Python refuses > 4,300.
MAX_INT_DIGITS = 30
# Names and ids shown in tables, the diagram and the PDF.
MAX_NAME_CHARS = 256
MAX_ID_CHARS = 64
# Characters of a bad value quoted in an error message.
MAX_QUOTED_CHARS = 80


def check_int(field: str, value: int, lo: int, hi: int) -> int:
    """``value`` when ``lo <= value <= hi``, else a PlanError naming the range."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PlanError(field, value, f"an integer from {lo:,} to {hi:,}")
    return value


def check_float(field: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """A finite ``value`` in [lo, hi] (or (lo, hi] with ``lo_open``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(field, value, f"a finite number from {lo:g} to {hi:g}")
    if value > hi or value < lo or (lo_open and value == lo):
        raise PlanError(field, value, f"a number {'above' if lo_open else 'from'} {lo:g} {'and at most' if lo_open else 'to'} {hi:g}")
    return float(value)


# --- Bounds of one setting, by its path in a plan ----------------------------------------------
# One table for the checks below (plans, the planner's request) and the GUI's fields, whose spin boxes
# take their ranges from here (``field_bounds``).  Both ends are included, except the low end of the
# settings in OPEN_LOW (a number above it).  Floats are written as floats: those are checked as numbers,
# the rest as integers.
MAX_BUCKET_ELEMENTS = 2**40  # DeepSpeed reduce_bucket_size: 5 x 10^8 by default
MAX_LORA_ALPHA = 1e6  # LoRA alpha scales the update (16-64 usual); it has no memory effect
FIELD_BOUNDS: dict[str, tuple[int, int] | tuple[float, float]] = {
    # the ModelSpec fields the GUI edits (their pydantic bounds use the same constants; a test keeps them equal)
    "model.layers": (1, MAX_LAYERS),
    "model.hidden": (1, MAX_HIDDEN),
    "model.heads": (1, MAX_HEADS),
    "model.kv_heads": (1, MAX_HEADS),
    "model.head_dim": (1, MAX_HEAD_DIM),
    "model.ffn": (1, MAX_FFN),
    "model.vocab": (1, MAX_VOCAB),
    "training.seq": (1, MAX_SEQ),
    "training.micro_batch": (1, MAX_BATCH),
    "training.global_batch": (1, MAX_GLOBAL_BATCH),
    "method.overhead.cuda_context_bytes": (0, MAX_OVERHEAD_BYTES),
    "method.overhead.nccl_bytes": (0, MAX_OVERHEAD_BYTES),
    "method.overhead.fragmentation_percent": (0.0, 100.0),
    "method.deepspeed_reduce_bucket_elements": (0, MAX_BUCKET_ELEMENTS),
    "serving.context": (1, MAX_CONTEXT),
    "serving.batch": (1, MAX_BATCH),
    "serving.group_size": (1, MAX_HIDDEN),
    "serving.gpu_layers": (0, MAX_LAYERS + 1),
    "serving.cpu_moe_layers": (0, MAX_LAYERS),
    "serving.max_model_len": (1, MAX_CONTEXT),
    "serving.paged_block_size": (1, MAX_CONTEXT),
    "serving.prefill_chunk": (1, MAX_CONTEXT),
    "serving.max_num_seqs": (1, MAX_BATCH),
    "serving.cuda_context_bytes": (0, MAX_OVERHEAD_BYTES),
    "serving.library_workspace_bytes": (0, MAX_OVERHEAD_BYTES),
    "serving.cuda_graph_bytes": (0, MAX_OVERHEAD_BYTES),
    "serving.gpu_memory_utilization": (0.0, 1.0),
    "serving.kv_free_fraction": (0.0, 1.0),
    "serving.fragmentation_percent": (0.0, 100.0),
    "finetune.rank": (1, MAX_RANK),
    "finetune.alpha": (0.0, MAX_LORA_ALPHA),
    "finetune.seq": (1, MAX_SEQ),
    "finetune.micro_batch": (1, MAX_BATCH),
    "finetune.gradient_accumulation": (1, MAX_BATCH),
}
OPEN_LOW = frozenset({"serving.gpu_memory_utilization", "serving.kv_free_fraction", "finetune.alpha"})


def field_bounds(path: str) -> tuple[int, int] | tuple[float, float] | None:
    """(low, high) of the setting at ``path`` ("training.seq"), or None for one this table does not bound."""
    return FIELD_BOUNDS.get(path)


def _check(prefix: str, path: str, value) -> None:
    """``value`` of the setting ``path`` (a FIELD_BOUNDS key) in its bounds; the error names ``prefix``
    followed by the rest of the path (a planner request checks its own ``training`` the same way)."""
    lo, hi = FIELD_BOUNDS[path]
    field = prefix + path[path.index("."):]
    if isinstance(lo, float):
        check_float(field, value, lo, hi, lo_open=path in OPEN_LOW)
    else:
        check_int(field, value, int(lo), int(hi))


def _optional(prefix: str, path: str, value) -> None:
    if value is not None:
        _check(prefix, path, value)


# --- Checks of the settings whose models live with their estimators -------------------------
# (engine.training / serving / finetune own TrainingConfig, ServingConfig and FinetuneConfig; the
# plan and the planner's request check their values here, so one table holds every bound.)
def check_training_limits(tr, prefix: str = "training") -> None:
    _check(prefix, "training.seq", tr.seq)
    _check(prefix, "training.micro_batch", tr.micro_batch)
    _optional(prefix, "training.global_batch", tr.global_batch)


def check_method_limits(method, prefix: str = "method") -> None:
    o = method.overhead
    _check(prefix, "method.overhead.cuda_context_bytes", o.cuda_context_bytes)
    _check(prefix, "method.overhead.nccl_bytes", o.nccl_bytes)
    _check(prefix, "method.overhead.fragmentation_percent", o.fragmentation_percent)
    _check(prefix, "method.deepspeed_reduce_bucket_elements", method.deepspeed_reduce_bucket_elements)


def check_serving_limits(s, prefix: str = "serving") -> None:
    for name in ("context", "batch", "group_size", "gpu_memory_utilization", "kv_free_fraction"):
        _check(prefix, f"serving.{name}", getattr(s, name))
    for name in ("gpu_layers", "cpu_moe_layers", "max_model_len", "paged_block_size", "prefill_chunk", "max_num_seqs", "cuda_context_bytes",
                 "library_workspace_bytes", "cuda_graph_bytes", "fragmentation_percent"):
        _optional(prefix, f"serving.{name}", getattr(s, name))
    if s.tensor_split is not None:
        check_tensor_split(s.tensor_split, f"{prefix}.tensor_split")


def check_tensor_split(split: tuple[float, ...], field: str) -> None:
    """Shares of the layers per card: at most MAX_CARDS finite, non-negative numbers with a positive sum."""
    allowed = f"at most {MAX_CARDS:,} finite, non-negative shares (at most 10^12 each) with a positive sum"
    if not split or len(split) > MAX_CARDS:
        raise PlanError(field, f"{len(split)} shares", allowed)
    for x in split:
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or not 0 <= x <= 1e12:
            raise PlanError(field, x, allowed)
    if sum(split) <= 0:
        raise PlanError(field, ",".join(f"{x:g}" for x in split[:8]), allowed)


def check_finetune_limits(f, prefix: str = "finetune") -> None:
    for name in ("rank", "alpha", "seq", "micro_batch", "gradient_accumulation"):
        _check(prefix, f"finetune.{name}", getattr(f, name))


def check_model_size(spec, count: int, prefix: str = "model") -> None:
    """The parameter count as a whole (each field is bounded on ModelSpec; their product is not).

    ``count`` is the engine's parameter count of ``spec`` (``engine.model.params.parameter_count``),
    computed by the caller: this module holds bounds only and imports nothing of the model."""
    if spec.params is not None:
        check_int(f"{prefix}.params", spec.params, 1, MAX_PARAMETERS)
    if count > MAX_PARAMETERS:
        raise PlanError(prefix, f"{count:.3e} parameters", f"a model of at most {MAX_PARAMETERS:.0e} parameters")


def check_plan_limits(plan, parameters: int) -> None:
    """Everything about a plan the field bounds of its models do not already cover (``parameters``:
    the engine's count of ``plan.model``)."""
    check_model_size(plan.model, parameters)
    check_training_limits(plan.training)
    check_method_limits(plan.method)
    if plan.serving is not None:
        check_serving_limits(plan.serving)
    if plan.finetune is not None:
        check_finetune_limits(plan.finetune)


def check_layout_limits(layout, prefix: str = "layout") -> None:
    """Sizes of a layout, for layouts built with ``model_copy`` (which skips the field bounds)."""
    if len(layout.cards) > MAX_CARDS:
        raise PlanError(f"{prefix}.cards", f"{len(layout.cards):,} cards", f"at most {MAX_CARDS:,} cards in a plan")
    if len(layout.nodes) > MAX_NODES:
        raise PlanError(f"{prefix}.nodes", f"{len(layout.nodes):,} nodes", f"at most {MAX_NODES:,} nodes in a plan")
    check_int(f"{prefix}.vpp", layout.vpp, 1, MAX_VPP)
    for i, card in enumerate(layout.cards):
        if not 0 < card.capacity_bytes <= MAX_CARD_BYTES:
            check_int(f"{prefix}.cards[{i}].capacity_bytes", card.capacity_bytes, 1, MAX_CARD_BYTES)


def check_estimate_input(plan, parameters: int) -> None:
    """What ``engine.estimate`` checks before any work, however the plan was built."""
    check_plan_limits(plan, parameters)
    check_layout_limits(plan.layout)

"""Launch configs: hand-derived flags, Megatron/DeepSpeed round trips, imports of pasted configs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cli.main import main as cli_main
from engine.errors import PlanError
from engine.export import (
    deepspeed_config,
    export_text,
    grid_shape,
    megatron_args,
    megatron_command,
    plan_from_deepspeed,
    plan_from_megatron,
    vllm_args,
)
from engine.model.params import parameter_count
from engine.model.spec import ModelSpec, MoESpec
from engine.plan.layout import Card, Layout, Node, build_grid
from engine.plan.schema import Plan, load_plan, save_plan
from engine.training.config import MethodConfig, TrainingConfig

GIB80 = 80 * 2**30  # an "80 GB" A100/H100 as the driver reports it
ARTICLE_13B = ModelSpec(name="13B", params=13_000_000_000, layers=40, hidden=5120, heads=40)
LLAMA2_7B = ModelSpec(name="llama-2-7b", layers=32, hidden=4096, heads=32, ffn=11008, vocab=32000, gated_mlp=True,
                      norm="rmsnorm", bias=False, dropout=0.0)
LLAMA3_8B = ModelSpec(name="llama-3-8b", layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=128256,
                      gated_mlp=True, norm="rmsnorm", bias=False)


def flag_value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def article_plan(**training) -> Plan:
    return Plan(name="13B PP4 x ZeRO-1 DP2", model=ARTICLE_13B, method=MethodConfig(method="seed"),
                training=TrainingConfig(seq=4096, zero=1, **training),
                layout=build_grid(pp=4, dp=2, gpu="A100 80GB", capacity_bytes=GIB80))


# Megatron export ------------------------------------------------------------------------------
def test_article_plan_megatron_flags():
    args = megatron_args(article_plan())
    assert flag_value(args, "--tensor-model-parallel-size") == "1"
    assert flag_value(args, "--pipeline-model-parallel-size") == "4"
    assert "--use-distributed-optimizer" in args  # ZeRO-1 = Megatron's distributed optimizer
    assert flag_value(args, "--micro-batch-size") == "1"
    # No global batch given: the engine fills the pipeline with PP = 4 micro-batches per replica,
    # so the global batch is micro 1 x DP 2 x 4 micro-batches = 8 samples.
    assert flag_value(args, "--global-batch-size") == "8"
    assert flag_value(args, "--seq-length") == "4096"
    assert (flag_value(args, "--num-layers"), flag_value(args, "--hidden-size")) == ("40", "5120")
    assert flag_value(args, "--num-attention-heads") == "40"
    assert flag_value(args, "--ffn-hidden-size") == "20480"  # default 4h = 4 x 5120
    assert "--bf16" in args and "--sequence-parallel" not in args  # SP only with TP > 1


def test_command_has_world_size_and_continuations():
    text = megatron_command(article_plan())
    # 8 cards on one 8-slot node: torchrun 1 node x 8 processes.
    assert "torchrun --nnodes 1 --nproc-per-node 8 pretrain_gpt.py \\\n" in text
    assert "article-level model (13,000,000,000 parameters declared)" in text


def test_gqa_swiglu_rmsnorm_vpp_and_recompute_flags():
    plan = Plan(name="8B", model=LLAMA3_8B,
                training=TrainingConfig(seq=8192, micro_batch=2, global_batch=256, recompute="full",
                                        distributed_optimizer=True, sequence_parallel=True, flash_attention=True),
                layout=build_grid(tp=4, pp=2, dp=4, vpp=4, gpu="H100 SXM", capacity_bytes=GIB80))
    args = megatron_args(plan)
    assert flag_value(args, "--num-query-groups") == "8" and "--group-query-attention" in args
    assert "--swiglu" in args and flag_value(args, "--normalization") == "RMSNorm"
    assert "--disable-bias-linear" in args and "--untie-embeddings-and-output-weights" in args
    # 32 layers / (PP 2 x vpp 4) = 4 layers per virtual stage.
    assert flag_value(args, "--num-layers-per-virtual-pipeline-stage") == "4"
    assert flag_value(args, "--recompute-granularity") == "full"
    assert flag_value(args, "--recompute-method") == "uniform"
    assert "--sequence-parallel" in args


def test_uneven_split_uses_first_and_last_stage_flags():
    plan = Plan(model=LLAMA2_7B, layout=build_grid(pp=4, gpu="A100 80GB", capacity_bytes=GIB80,
                                                   pp_layers=(7, 9, 9, 7)))
    args = megatron_args(plan)
    assert flag_value(args, "--decoder-first-pipeline-num-layers") == "7"
    assert flag_value(args, "--decoder-last-pipeline-num-layers") == "7"
    back = plan_from_megatron(megatron_command(plan), gpu="A100 80GB", capacity_bytes=GIB80).plan
    assert back.layout.pp_layers == (7, 9, 9, 7)


def test_megatron_refuses_what_it_cannot_express():
    with pytest.raises(PlanError, match="training.zero"):
        megatron_args(article_plan().model_copy(update={"training": TrainingConfig(zero=2)}))
    uneven_middle = Plan(model=LLAMA2_7B, layout=build_grid(pp=4, gpu="A100", capacity_bytes=GIB80,
                                                            pp_layers=(8, 7, 9, 8)))
    with pytest.raises(PlanError, match="pp_layers"):
        megatron_args(uneven_middle)
    nodes = (Node(id="n0"),)
    cards = (Card(node="n0", gpu="A100", capacity_bytes=GIB80, tp_group=0),
             Card(node="n0", slot=1, gpu="A100", capacity_bytes=GIB80, tp_group=0),
             Card(node="n0", slot=2, gpu="A100", capacity_bytes=GIB80, tp_group=1))
    with pytest.raises(PlanError, match="layout.tp"):
        grid_shape(Plan(model=LLAMA2_7B, layout=Layout(nodes=nodes, cards=cards)))


# Megatron round trip ------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(tp=st.sampled_from([1, 2, 4, 8]), pp=st.sampled_from([1, 2, 4]), dp=st.integers(1, 6),
       vpp=st.sampled_from([1, 2]), dist_opt=st.booleans(), recompute=st.sampled_from(["none", "selective", "full"]),
       micro=st.integers(1, 4), steps=st.integers(1, 4), sp=st.booleans())
def test_megatron_round_trip_keeps_layout_and_batches(tp, pp, dp, vpp, dist_opt, recompute, micro, steps, sp):
    vpp = vpp if pp > 1 else 1
    training = TrainingConfig(seq=4096, micro_batch=micro, global_batch=micro * dp * pp * steps,
                              distributed_optimizer=dist_opt, recompute=recompute, sequence_parallel=sp and tp > 1)
    plan = Plan(name="rt", model=LLAMA3_8B, training=training,
                layout=build_grid(tp=tp, pp=pp, dp=dp, vpp=vpp, gpu="H100 SXM", capacity_bytes=GIB80))
    result = plan_from_megatron(megatron_command(plan), gpu="H100 SXM", capacity_bytes=GIB80, name="rt")
    assert result.ignored == ()
    assert result.plan.layout == plan.layout  # same tp/pp/dp/vpp grid, same card ids and groups
    assert result.plan.training == plan.training  # batches, distributed optimizer, recompute, SP
    assert result.plan.model == plan.model.model_copy(update={"name": "imported from Megatron-LM"})


def test_moe_round_trip():
    moe = ModelSpec(name="moe", layers=8, hidden=1024, heads=16, ffn=4096, vocab=32000, gated_mlp=True, bias=False,
                    norm="rmsnorm", moe=MoESpec(experts=8, top_k=2, expert_ffn=1408, first_dense_layers=1,
                                                shared_experts=1, shared_expert_ffn=2816))
    plan = Plan(model=moe, layout=build_grid(tp=2, dp=4, ep=4, gpu="H100 SXM", capacity_bytes=GIB80))
    args = megatron_args(plan)
    assert flag_value(args, "--moe-layer-freq") == "([0]*1+[1]*7)"
    back = plan_from_megatron(megatron_command(plan), gpu="H100 SXM", capacity_bytes=GIB80).plan
    assert back.model.moe == moe.moe and back.layout == plan.layout


# Megatron import of a pasted script ---------------------------------------------------------
PASTED_LLAMA2 = r"""
# Llama-2 7B, as in a typical pretrain script
GPT_ARGS="
torchrun --nproc_per_node 8 --nnodes 2 pretrain_gpt.py \
    --tensor-model-parallel-size 2 --pipeline-model-parallel-size 2 \
    --num-layers 32 --hidden-size 4096 --num-attention-heads 32 --ffn-hidden-size 11008 \
    --seq-length 4096 --max-position-embeddings 4096 --micro-batch-size 1 --global-batch-size=64 \
    --swiglu --normalization RMSNorm --disable-bias-linear --untie-embeddings-and-output-weights \
    --position-embedding-type rope --vocab-size 32000 --hidden-dropout 0 --attention-dropout 0 \
    --use-distributed-optimizer --bf16 --lr 3e-4 --train-iters 1000
"""


def test_import_pasted_llama2_script():
    result = plan_from_megatron(PASTED_LLAMA2.replace('GPT_ARGS="', ""), gpu="A100 80GB", capacity_bytes=GIB80)
    plan = result.plan
    # Published Llama-2-7B count (Hugging Face model card / safetensors metadata): 6,738,415,616.
    assert parameter_count(plan.model) == 6_738_415_616
    # World = 2 nodes x 8 = 16 cards; DP = 16 / (TP 2 x PP 2) = 4.
    shape = grid_shape(plan)
    assert (shape.tp, shape.pp, shape.dp, len(plan.layout.cards)) == (2, 2, 4, 16)
    assert plan.training.global_batch == 64 and plan.training.distributed_optimizer
    assert plan.training.precision == "bf16"
    assert result.ignored == ("--lr", "--train-iters")


def test_import_errors_name_the_flag():
    with pytest.raises(PlanError, match="--hidden-size"):
        plan_from_megatron("--num-layers 4 --num-attention-heads 8 --vocab-size 10", gpu="x", capacity_bytes=GIB80)
    with pytest.raises(PlanError, match="--num-layers"):
        plan_from_megatron("--num-layers four", gpu="x", capacity_bytes=GIB80)
    with pytest.raises(PlanError, match="world_size"):
        plan_from_megatron("--num-layers 4 --hidden-size 64 --num-attention-heads 8 --vocab-size 10 "
                           "--position-embedding-type rope --tensor-model-parallel-size 4",
                           gpu="x", capacity_bytes=GIB80, world_size=6)
    with pytest.raises(PlanError, match="--max-position-embeddings"):
        plan_from_megatron("--num-layers 4 --hidden-size 64 --num-attention-heads 8 --vocab-size 10",
                           gpu="x", capacity_bytes=GIB80)
    with pytest.raises(PlanError, match="--vocab-size"):
        plan_from_megatron("--num-layers 4 --hidden-size 64 --num-attention-heads 8 --position-embedding-type rope",
                           gpu="x", capacity_bytes=GIB80)


# DeepSpeed ----------------------------------------------------------------------------------
def test_article_plan_deepspeed_config():
    cfg = deepspeed_config(article_plan())
    assert cfg["zero_optimization"]["stage"] == 1
    # micro 1 per GPU, 4 micro-batches per step (fills PP = 4), DP 2: train batch 1 x 4 x 2 = 8.
    assert (cfg["train_micro_batch_size_per_gpu"], cfg["gradient_accumulation_steps"], cfg["train_batch_size"]) == (1, 4, 8)
    assert cfg["bf16"] == {"enabled": True} and cfg["fp16"] == {"enabled": False}
    assert "offload_optimizer" not in cfg["zero_optimization"]


@pytest.mark.parametrize("zero,offload_opt,offload_params,precision", [
    (0, False, False, "bf16"), (1, False, False, "fp16"), (2, True, False, "bf16"), (3, True, True, "bf16"),
])
def test_deepspeed_round_trip(zero, offload_opt, offload_params, precision):
    training = TrainingConfig(seq=2048, micro_batch=2, global_batch=2 * 8 * 3, zero=zero, precision=precision,
                              offload_optimizer=offload_opt, offload_params=offload_params)
    plan = Plan(name="ds", model=LLAMA2_7B, training=training, method=MethodConfig(framework="deepspeed"),
                layout=build_grid(dp=8, gpu="A100 80GB", capacity_bytes=GIB80))
    text = export_text(plan, "deepspeed")
    cfg = json.loads(text)
    assert cfg["gradient_accumulation_steps"] == 3 and cfg["train_batch_size"] == 48  # 2 x 3 x DP 8
    assert ("offload_param" in cfg["zero_optimization"]) is offload_params
    result = plan_from_deepspeed(text, model=LLAMA2_7B, gpu="A100 80GB", capacity_bytes=GIB80, seq=2048, name="ds")
    assert result.plan.layout == plan.layout
    assert result.plan.training == plan.training
    assert result.plan.method.framework == "deepspeed"


@pytest.mark.parametrize("section,expected", [
    ({"type": "AdamW"}, "fused"),  # DeepSpeed builds its FusedAdam: the fused FP16_Optimizer
    ({"type": "Adam"}, "fused"),
    ({"type": "SGD"}, "unfused"),  # torch SGD: FP16_UnfusedOptimizer
    ({"type": "Lamb"}, "unfused"),
    (None, "fused"),  # no section: the client's own optimizer, which the config does not name (the default stays)
])
def test_deepspeed_import_reads_which_fp16_wrapper_runs(section, expected):
    cfg = {"train_batch_size": 8, "train_micro_batch_size_per_gpu": 1, "fp16": {"enabled": True},
           **({"optimizer": section} if section else {})}
    plan = plan_from_deepspeed(json.dumps(cfg), model=LLAMA2_7B, gpu="A100 80GB", capacity_bytes=GIB80).plan
    assert plan.method.deepspeed_fp16_optimizer == expected


def test_deepspeed_activation_checkpointing_round_trip():
    """activation_checkpointing.partition_activations / cpu_checkpointing travel both ways (full recompute)."""
    training = TrainingConfig(seq=2048, micro_batch=1, global_batch=8, zero=3, recompute="full",
                              partition_activations=True, cpu_checkpointing=True)
    plan = Plan(name="ds", model=LLAMA2_7B, training=training, method=MethodConfig(framework="deepspeed"),
                layout=build_grid(dp=8, gpu="A100 80GB", capacity_bytes=GIB80))
    text = export_text(plan, "deepspeed")
    assert json.loads(text)["activation_checkpointing"]["cpu_checkpointing"] is True
    back = plan_from_deepspeed(text, model=LLAMA2_7B, gpu="A100 80GB", capacity_bytes=GIB80, seq=2048, name="ds")
    assert back.plan.training == plan.training
    # cpu_checkpointing without partition_activations is ignored by DeepSpeed ("if partition_activations")
    lone = json.dumps({"train_batch_size": 8, "train_micro_batch_size_per_gpu": 1,
                       "activation_checkpointing": {"cpu_checkpointing": True}})
    got = plan_from_deepspeed(lone, model=LLAMA2_7B, gpu="A100 80GB", capacity_bytes=GIB80).plan.training
    assert (got.recompute, got.partition_activations, got.cpu_checkpointing) == ("full", False, False)


def test_deepspeed_import_with_tp_pp_and_bad_input():
    text = json.dumps({"train_batch_size": 32, "train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 8,
                       "zero_optimization": {"stage": 1, "reduce_bucket_size": 5e8}, "bf16": {"enabled": True},
                       "wall_clock_breakdown": False})
    result = plan_from_deepspeed(text, model=LLAMA2_7B, gpu="A100", capacity_bytes=GIB80, tp=2, pp=2)
    shape = grid_shape(result.plan)
    # DP = 32 / (1 x 8) = 4; cards = TP 2 x PP 2 x DP 4 = 16.
    assert (shape.dp, len(result.plan.layout.cards)) == (4, 16)
    assert result.plan.method.deepspeed_reduce_bucket_elements == 500_000_000
    assert result.ignored == ("wall_clock_breakdown",)
    with pytest.raises(PlanError, match="train_batch_size"):
        plan_from_deepspeed('{"train_batch_size": 30, "train_micro_batch_size_per_gpu": 4}', model=LLAMA2_7B,
                            gpu="A100", capacity_bytes=GIB80)
    with pytest.raises(PlanError, match="deepspeed config"):
        plan_from_deepspeed("{not json", model=LLAMA2_7B, gpu="A100", capacity_bytes=GIB80)


# Serving ------------------------------------------------------------------------------------
def test_serving_formats_need_a_serving_plan():
    with pytest.raises(PlanError, match="mode"):
        vllm_args(article_plan())
    with pytest.raises(PlanError, match="format"):
        export_text(article_plan(), "tensorrt")


# CLI ----------------------------------------------------------------------------------------
def test_cli_export_and_import_round_trip(tmp_path, capsys):
    plan_path, args_path, out_path = tmp_path / "p.json", tmp_path / "args.sh", tmp_path / "back.json"
    plan = article_plan().model_copy(update={"model": LLAMA2_7B, "method": MethodConfig()})
    save_plan(plan, plan_path)
    assert cli_main(["export", "--format", "megatron", str(plan_path), "-o", str(args_path)]) == 0
    assert "--pipeline-model-parallel-size 4" in args_path.read_text()
    assert cli_main(["import", "--format", "megatron", str(args_path), "--gpu", "A100 80GB",
                     "--save-plan", str(out_path)]) == 0
    # the import takes the card's capacity from the catalog (A100 80GB as CUDA reports it)
    back = load_plan(out_path).layout
    assert back.model_copy(update={"cards": tuple(c.model_copy(update={"capacity_bytes": GIB80}) for c in back.cards)}) \
        == plan.layout
    assert {c.capacity_bytes for c in back.cards} == {85_100_068_864}
    assert cli_main(["export", "--format", "deepspeed", str(plan_path)]) == 0
    assert json.loads(capsys.readouterr().out)["zero_optimization"]["stage"] == 1


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    plan_path = tmp_path / "p.json"
    save_plan(article_plan(), plan_path)
    assert cli_main(["export", "--format", "vllm", str(plan_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "serving plan" in err
    cfg = tmp_path / "ds.json"
    cfg.write_text('{"train_batch_size": 8}')
    assert cli_main(["import", "--format", "deepspeed", str(cfg), "--gpu", "A100 80GB"]) == 2
    assert "--model" in capsys.readouterr().err


def serving_plan(**serving) -> Plan:
    from engine.serving.config import ServingConfig

    return Plan(name="serve", mode="serving", model=LLAMA3_8B.model_copy(update={"name": "meta-llama/Llama-3.1-8B"}),
                serving=ServingConfig(**serving),
                layout=build_grid(pp=2, gpu="RTX 4090", capacity_bytes=24 * 2**30))


def test_vllm_flags():
    pytest.importorskip("engine.serving.config")
    plan = serving_plan(quant="int4-awq", kv_dtype="fp8", context=8192, batch=16, runtime="vllm",
                        gpu_memory_utilization=0.85)
    args = vllm_args(plan)
    assert flag_value(args, "--tensor-parallel-size") == "1" and flag_value(args, "--pipeline-parallel-size") == "2"
    # the max_num_seqs the estimate assumed: vLLM V1's default on an RTX 4090 (256), at least the plan's 16
    assert flag_value(args, "--max-model-len") == "8192" and flag_value(args, "--max-num-seqs") == "256"
    wide = serving_plan(quant="int4-awq", context=8192, batch=300, runtime="vllm")
    assert flag_value(vllm_args(wide), "--max-num-seqs") == "300"  # raised to the plan's concurrency
    capped = serving_plan(quant="int4-awq", context=8192, batch=16, max_num_seqs=8, runtime="vllm")
    assert flag_value(vllm_args(capped), "--max-num-seqs") == "8"  # the plan's own
    assert flag_value(args, "--gpu-memory-utilization") == "0.85"
    assert flag_value(args, "--kv-cache-dtype") == "fp8" and flag_value(args, "--quantization") == "awq"
    assert export_text(plan, "vllm").startswith("vllm serve meta-llama/Llama-3.1-8B \\\n")
    bf16 = vllm_args(serving_plan(quant="bf16", runtime="vllm"))
    assert flag_value(bf16, "--dtype") == "bfloat16" and "--quantization" not in bf16
    with pytest.raises(PlanError, match="serving.kv_dtype"):
        vllm_args(serving_plan(kv_dtype="q8_0", runtime="vllm"))


def test_llamacpp_flags():
    pytest.importorskip("engine.serving.config")
    from engine.export import llamacpp_args

    plan = serving_plan(quant="Q4_K_M", kv_dtype="q8_0", context=8192, batch=2, runtime="llamacpp",
                        tensor_split=(3, 1), flash_attention=False)
    args = llamacpp_args(plan)
    assert flag_value(args, "-ngl") == "33"  # 32 layers + the output layer: everything on the GPUs
    assert flag_value(args, "-c") == "16384"  # -c holds all slots: 8,192 tokens x 2 sequences
    assert flag_value(args, "-np") == "2"
    assert flag_value(args, "--tensor-split") == "3,1"
    assert flag_value(args, "-ctk") == "q8_0" and flag_value(args, "-ctv") == "q8_0"
    assert flag_value(args, "--flash-attn") == "on"  # a quantized V cache needs flash attention
    partial = llamacpp_args(serving_plan(quant="Q4_K_M", runtime="llamacpp", gpu_layers=20))
    assert flag_value(partial, "-ngl") == "20" and flag_value(partial, "--tensor-split") == "1,1"

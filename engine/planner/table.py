"""The planner's readable answer: the best layout, its binding constraint, the ranked candidates."""

from __future__ import annotations

from engine.units import Unit, format_bytes, to_unit

COLUMNS = ("gpus", "gpu", "TP", "PP", "DP", "CP", "EP", "VPP", "ZeRO", "recompute", "mb", "SP", "layers/stage",
           "max card", "headroom", "step s", "tok/s/GPU", "days", "cost", "binding")


def _layout_text(c: dict) -> str:
    text = f"TP {c['tp']} x PP {c['pp']} x DP {c['dp']}"
    if c["cp"] > 1:
        text += f" x CP {c['cp']}"
    if c["ep"] > 1:
        text += f" (EP {c['ep']})"
    if c["vpp"] > 1:
        text += f", VPP {c['vpp']}"
    if c["pp_layers"]:
        text += f", layers {','.join(map(str, c['pp_layers']))}"
    return (f"{c['gpus']} x {c['gpu']}: {text}, ZeRO-{c['zero']}, recompute {c['recompute']}, "
            f"micro-batch {c['micro_batch']}" + (", SP" if c["sequence_parallel"] else ""))


def _row(c: dict, unit: Unit) -> list[str]:
    return [str(c["gpus"]), c["gpu"], str(c["tp"]), str(c["pp"]), str(c["dp"]), str(c["cp"]), str(c["ep"]),
            str(c["vpp"]), str(c["zero"]), c["recompute"], str(c["micro_batch"]), "on" if c["sequence_parallel"] else "-",
            ",".join(map(str, c["pp_layers"])) if c["pp_layers"] else "even",
            f"{to_unit(c['max_total_bytes'], unit):.2f}", f"{to_unit(c['headroom_bytes'], unit):.2f}",
            f"{c['step_time_s']:.3g}", f"{c['tokens_per_s_per_gpu']:,.0f}", f"{c['days_to_train']:.3g}",
            f"{c['cost']:,.0f}" if c["cost"] >= 100 else f"{c['cost']:.3g}", c["binding"]]


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    left = {1, 9, 12, len(widths) - 1}
    lines = ["  ".join(cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def render_plan_table(report: dict, unit: Unit | str = Unit.GB) -> str:
    unit = Unit(unit)
    s = report["stats"]
    out = []
    best = report["best"]
    if best is None:
        out.append(f"NO LAYOUT FITS with a {report['margin']:.0%} margin within the card budget")
    else:
        out.append(f"best ({report['objective']}): {_layout_text(best)}")
        out.append(f"  heaviest card {format_bytes(best['max_total_bytes'], unit)} of "
                   f"{format_bytes(best['capacity_bytes'], unit)} (budget {format_bytes(best['budget_bytes'], unit)}); "
                   f"step {best['step_time_s']:.3g} s, {best['tokens_per_s_per_gpu']:,.0f} tokens/s per GPU, "
                   f"{best['days_to_train']:.3g} days for {report['train_tokens']:.3g} tokens; binding: {best['binding']}")
        for name, other in report["best_by_objective"].items():
            if name != report["objective"] and other is not None:
                out.append(f"  {name}: {_layout_text(other)} (binding: {other['binding']})")
    if report["candidates"]:
        what = "Pareto front (cards, training time, headroom)" if report["pool"] == "front" else "fitting layouts"
        out.append("")
        out.append(f"{what}: {report['listed']} of {report['pool_size']} listed, by {report['objective']}; "
                   f"memory in {unit.value}, cost in {report['best']['cost_unit'] if best else 'USD'}")
        out += _grid([list(COLUMNS)] + [_row(c, unit) for c in report["candidates"]])
    out.append("")
    dominated = f"{s['dominated']:,} unable to reach the front, " if s["dominated"] else ""
    out.append(f"searched {s['configurations']:,} configurations: {s['evaluated']:,} evaluated "
               f"({s['fitting_evaluated']:,} fit), {s['pruned']:,} pruned by memory bounds, "
               f"{dominated}{s['skipped']:,} skipped as duplicates or not allowed by the global batch")
    return "\n".join(out)

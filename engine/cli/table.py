"""The readable per-card table: identical cards grouped into one row with a count."""

from __future__ import annotations

from engine.report.records import Estimate, index_ranges
from engine.training.memory.detailed import REPLAYED_RESERVE
from engine.units import Unit, format_bytes, plural, to_unit

COLUMNS = (
    ("weights", "weights"), ("gradients", "grads"), ("optimizer_states", "optim"), ("activations", "activ"),
    ("logits", "logits"), ("communication", "comm"), ("transient", "trans"), ("kv_cache", "kv"),
    ("overhead", "overhd"),
)


def render_table(est: Estimate, unit: Unit, all_cards: bool = False) -> str:
    groups: dict[tuple, list[int]] = {}
    for c in est.cards:
        key = (c.index,) if all_cards else (c.stage, c.gpu, c.capacity_bytes, c.tp_size, c.dp_size, id(c.breakdown))
        groups.setdefault(key, []).append(c.index)
    present = [(k, h) for k, h in COLUMNS if any(getattr(est.cards[i[0]].breakdown, k).bytes for i in groups.values())]
    # stages 1-based, as the article counts them (JSON keeps the 0-based "stage")
    header = ["cards", "n", "gpu", "stage", "TP", "DP", "mb"] + [h for _, h in present] + ["total", "capacity", "headroom", ""]
    rows = [header]
    for indices in groups.values():
        c = est.cards[indices[0]]
        bd = c.breakdown
        row = [index_ranges(indices), str(len(indices)), c.gpu, str(c.stage + 1), str(c.tp_size), str(c.dp_size),
               str(c.in_flight_microbatches)]
        row += [f"{to_unit(getattr(bd, k).bytes, unit):.2f}" for k, _ in present]
        row += [f"{to_unit(bd.total_bytes, unit):.2f}", f"{to_unit(c.capacity_bytes, unit):.2f}",
                f"{to_unit(c.headroom_bytes, unit):+.2f}", "ok" if c.fits else "OVER"]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    left = {0, 2}
    lines = ["  ".join(cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    worst = est.worst_card
    verdict = "FITS" if est.fits else "DOES NOT FIT"
    summary = (f"{verdict}: {plural(len(est.cards), 'card')}, {est.parameters / 1e9:.2f} B params, method {est.method}"
               + (f"/{est.framework}" if est.method == "detailed" else "")
               + (f"; worst card {worst.index} (stage {worst.stage + 1}) {format_bytes(worst.total_bytes, unit)}"
                  f" of {format_bytes(worst.capacity_bytes, unit)}, headroom {format_bytes(worst.headroom_bytes, unit)}"
                  if worst else ""))
    out = [f"memory per card in {unit.value} ({'10^9' if unit is Unit.GB else '2^30'} bytes); "
           "stages counted from 1; mb = micro-batches in flight", *lines, "", summary]
    if worst and worst.breakdown.timeline:  # training and fine-tuning: where in the step the worst card peaks
        out.append(f"card {worst.index} peaks at: {worst.breakdown.timeline[worst.breakdown.peak_moment].label}")
        reserve = next((f for f in worst.breakdown.details if f.key == "fragmentation"), None)
        if reserve is not None and reserve.label == REPLAYED_RESERVE:  # --fragmentation replay: say where it comes from
            out.append(f"card {worst.index} allocator reserve {format_bytes(reserve.bytes, unit)}: {reserve.formula}")
    for w in est.warnings:
        out.append(f"{w.severity}: {w.message}")
    return "\n".join(out)

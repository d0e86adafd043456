"""`motrans animate --pairs PAIRS.csv --output-dir OUT`: many animations with one loaded model, resumable.

Each job (a row of the pairs file, pairs.py) goes through `animate_video`, so its output appears atomically, whole.
A finished job leaves a done-marker, OUT/.motrans/done/<output>.json, holding its content key: the checkpoint's
and config's hashes, the model config, the dtype, the job's options and its inputs' hashes. A rerun skips a job
whose output exists and whose marker holds the key it would be computed with, and recomputes it otherwise. A job
that fails is reported in OUT/report.csv with its one-line error and the batch goes on.

Under torchrun each rank runs its share (longest first, balanced by frames; shard.py), encodes each source once,
and every rank learns every result, so rank 0 writes the same report.csv that one process writes.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import shutil
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import shard
from ..data.frames import VideoEntry
from ..data.video import frame_files, probe, read_frames
from ..errors import InputError, MotransError
from ..evaluate.stored import file_sha256, method_key, video_sha256
from ..files import atomic_write
from ..progress import Progress
from .pairs import Job, read_pairs
from .pipeline import Animator, Source
from .video import AnimateOptions, _check_options, animate_video

MARKERS = Path(".motrans") / "done"
REPORT = ("line", "source", "driving", "output", "status", "frames", "error")
SOURCES_KEPT = 16  # encoded sources kept per rank: a few MB each at 256², so the pairs file's order matters little


@dataclass(frozen=True)
class Summary:
    done: int
    skipped: int
    failed: int
    seconds: float
    encoded: int  # sources encoded by this rank (each distinct source once, while it stays among SOURCES_KEPT)
    report: Path
    first_error: str = ""
    main: bool = True  # rank 0, which wrote the report (every rank holds the same counts)

    def line(self) -> str:
        total = self.done + self.skipped + self.failed
        return (f"{total} jobs in {self.seconds:.1f} s: {self.done} done, {self.skipped} skipped (already done), "
                f"{self.failed} failed; see {self.report}")


def animate_batch(pairs: str | Path, out_dir: str | Path, checkpoint: str | Path | None = None, *, config=None,
                  device: str = "auto", dtype: str = "float32", options: AnimateOptions = AnimateOptions(),
                  quiet: bool = False) -> Summary:
    """Runs every job of `pairs` into `out_dir`; -> the counts (also on every rank under torchrun)."""
    start = time.monotonic()
    _check_options(options)  # a bad command-line option fails the batch, not every row
    jobs = read_pairs(pairs, replace(options, overwrite=True))  # OUT is the batch's: a recomputed job replaces
    out = _output_folder(out_dir)
    with shard.joined() as world:
        weights = _frame_counts(jobs)
        mine = shard.my_share(weights, world)
        # Every rank passes the same frame count: backend "auto" decides from it, and its choice is collective.
        animator = _load(checkpoint, config, shard.local_device(device, world), dtype, options, sum(weights),
                         quiet or not world.main)
        sources = cache_sources(animator)
        base = method_key(checkpoint or _packaged(), config, animator.model.config, {"dtype": dtype})
        if world.main and not quiet:
            print(f"motrans: {len(jobs)} jobs, {sum(weights)} driving frames"
                  + (f", shared out between {world.size} processes" if world.distributed else ""), file=sys.stderr)
        progress = Progress(sum(weights[i] for i in mine), "frames", enabled=world.main and not quiet)
        batch = Batch(out, animator, base, progress, world.rank)
        results = [run_job(jobs[i], weights[i], batch) for i in mine]
        progress.close()
        results = sorted(shard.everyone(results, world), key=lambda row: row["line"])
    if world.main:
        write_report(out / "report.csv", results)
    return _summary(results, time.monotonic() - start, sources.encoded, out / "report.csv", world.main)


def _output_folder(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--output-dir {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _frame_counts(jobs: list[Job]) -> list[int]:
    """Each job's driving frames, the weight that balances the ranks (0 where unreadable: such a job fails fast).
    A container that does not store its length (GIF) is decoded once to count. Every rank computes the same list,
    so the split needs no messages."""
    counts: dict[Path, int] = {}
    for job in jobs:
        path = job.driving_path
        if path not in counts:
            try:
                counts[path] = probe(path).frames or sum(1 for _ in read_frames(path))
            except (MotransError, OSError):
                counts[path] = 0
    return [0 if job.error else counts[job.driving_path] for job in jobs]


def _load(checkpoint, config, device: str, dtype: str, options: AnimateOptions, frames: int,
          quiet: bool) -> Animator:
    """The model, loaded once for every job, on the backend that `options.backend` names or chooses."""
    from .backend import load_animator

    say = (lambda message: None) if quiet else (lambda message: print(f"motrans: {message}", file=sys.stderr))
    if checkpoint is None:
        from ..packaged import packaged_checkpoint

        checkpoint = packaged_checkpoint(say)
    return load_animator(checkpoint, config, device, dtype, options.backend, options.batch_size, say, frames)


def _packaged() -> Path:
    from ..packaged import packaged_model_path

    return packaged_model_path()


class SourceCache:
    """An animator's `encode_source` that encodes each distinct source image once (the same photo in many rows,
    or in each shot of one driving video) and keeps the last `kept` encodings."""

    def __init__(self, encode: Callable[[np.ndarray, str], Source], kept: int = SOURCES_KEPT):
        self.encode, self.kept, self.encoded = encode, kept, 0
        self.sources: OrderedDict[tuple, Source] = OrderedDict()

    def __call__(self, image: np.ndarray, fit_mode: str = "crop") -> Source:
        key = (hashlib.sha256(np.ascontiguousarray(image).data).hexdigest(), image.shape, fit_mode)
        if key in self.sources:
            self.sources.move_to_end(key)
            return self.sources[key]
        self.encoded += 1
        self.sources[key] = source = self.encode(image, fit_mode)
        if len(self.sources) > self.kept:
            self.sources.popitem(last=False)
        return source


def cache_sources(animator: Animator) -> SourceCache:
    """Puts a SourceCache in front of `animator.encode_source` (whichever engine's it is: torch's, onnxruntime's),
    for this animator alone."""
    cache = SourceCache(animator.encode_source)
    animator.encode_source = cache
    return cache


@dataclass
class Batch:
    """What every job of a rank shares."""

    out: Path
    animator: Animator
    base: dict  # the content key's part common to every job: checkpoint, config, model, dtype
    progress: Progress
    rank: int


def run_job(job: Job, weight: int, batch: Batch) -> dict:
    """One job -> its report row: done, skipped (its marker holds the same key) or failed (with the error)."""
    row = {"line": job.line, "source": job.source, "driving": job.driving, "output": job.output, "status": "failed",
           "frames": 0, "error": job.error}
    if job.error:
        return _failed(row, job.error, batch.progress, weight)
    # A frames-folder output keeps its trailing slash: it is what tells a new folder from a file without a suffix.
    output = batch.out / job.output if not job.output.endswith("/") else str(batch.out / job.output) + "/"
    marker = batch.out / MARKERS / (job.output.rstrip("/") + ".json")
    try:
        key = batch.base | {"options": _options(job.options), "source": _hash(job.source_path),
                            "driving": _hash(job.driving_path)}
        stored = _stored(marker, output, key)
        if stored is not None:
            batch.progress.update(weight)
            return row | {"status": "skipped", "frames": stored}
        frames = _animate(job, output, batch.animator, batch.progress)
        _mark(marker, {"key": key, "frames": frames, "rank": batch.rank})
    except Exception as error:  # noqa: BLE001 - whatever fails one row is that row's; the batch goes on
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:  # every later job would fail too
            raise
        from ..errors import describe  # the one line the CLI would print for it

        return _failed(row, describe(error), batch.progress, 0)
    return row | {"status": "done", "frames": frames}


def _failed(row: dict, message: str, progress: Progress, weight: int) -> dict:
    progress.update(weight)
    print(f"\nmotrans: warning: line {row['line']}: {message}" if progress.live else
          f"motrans: warning: line {row['line']}: {message}", file=sys.stderr)
    return row | {"error": message}


def _options(options: AnimateOptions) -> dict:
    """The options that decide an output. The batch size does not (each frame of a batch is computed on its own,
    as evaluate's protocol notes), nor does overwrite."""
    return {k: v for k, v in asdict(options).items() if k not in ("overwrite", "batch_size")}


def _hash(path: Path) -> str:
    """A file's or a frames folder's content hash (a missing input is that row's error)."""
    if path.is_dir():
        return video_sha256(VideoEntry(path.name, path, "frames", 0, tuple(frame_files(path))))
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return file_sha256(path)


def _stored(marker: Path, output: Path | str, key: dict) -> int | None:
    """The frames of a finished output whose marker holds `key`; None where the job must run."""
    if not Path(output).exists() or not marker.is_file():
        return None
    try:
        record = json.loads(marker.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record.get("frames", 0) if isinstance(record, dict) and record.get("key") == key else None


def _animate(job: Job, output: Path | str, animator: Animator, progress: Progress) -> int:
    """Runs the job, after removing what a killed run of it left (its writer's hidden temporary folder)."""
    folder, name = Path(output).parent, Path(output).name
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(f".{name}.motrans-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    frames = 0

    def advance() -> None:
        nonlocal frames
        frames += 1
        progress.update()

    animate_video(job.source_path, job.driving_path, output, options=job.options, animator=animator, quiet=True,
                  on_frame=advance)
    return frames


def _mark(marker: Path, record: dict) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record)
    atomic_write(marker, lambda tmp: Path(tmp).write_text(text))


def write_report(path: Path, rows: list[dict]) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=REPORT)
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write)


def _summary(rows: list[dict], seconds: float, encoded: int, report: Path, main: bool) -> Summary:
    count = {status: sum(row["status"] == status for row in rows) for status in ("done", "skipped", "failed")}
    first = next((f"line {row['line']}: {row['error']}" for row in rows if row["status"] == "failed"), "")
    return Summary(count["done"], count["skipped"], count["failed"], seconds, encoded, report, first, main)

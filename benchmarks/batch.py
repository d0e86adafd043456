"""Jobs per second of `motrans animate --pairs` in one process and in two (torchrun, gloo), one thread each.

    python benchmarks/batch.py [--jobs 6] [--frames 16] [--checkpoint X.safetensors] [--device cpu]

The jobs pair three shared face photos with two shared talking-head clips cut to `--frames` frames (the packaged
model by default). Each variant is its own command on a fresh output folder, timed twice: the whole command
(Python and torch start-up, torchrun's rendezvous, the model load) and the batch alone, as its summary line
reports it. The variants alternate `--repeats` times and the fastest run of each counts, which damps other
programs' load. Two processes can be at most twice as fast, and only with two idle cores: on a shared machine the
ratio says how much the second process got. Both variants must write the same outputs; this is checked too.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.data.video import VideoWriter, read_frames  # noqa: E402
from motrans.machine import describe, summary  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "faces"
SOURCES = ("vox_lia_macron.png", "vox_lia_mona_lisa.png", "sadtalker_happy.png")
DRIVERS = ("vox_dagan_driving.mp4", "vox_lia_driving2.mp4")
LAUNCHER = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def pairs_file(folder: Path, jobs: int, frames: int) -> Path:
    """`jobs` rows over the shared photos and the clips cut to `frames` frames (written once, to `folder`)."""
    for name in DRIVERS:
        with VideoWriter(folder / name, 25) as writer:
            for _, frame in zip(range(frames), read_frames(DATA / name)):
                writer.write(frame)
    path = folder / "pairs.csv"
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["source", "driving", "output"])
        for job in range(jobs):
            out.writerow([str(DATA / SOURCES[job % len(SOURCES)]), DRIVERS[job % len(DRIVERS)], f"job{job}.mp4"])
    return path


def run(processes: int, pairs: Path, out: Path, args: argparse.Namespace) -> tuple[float, float]:
    """(command seconds, batch seconds from the summary line)."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER} | {"OMP_NUM_THREADS": "1"}
    command = ["-m", "motrans", "animate", "--pairs", str(pairs), "--output-dir", str(out), "--device", args.device,
               "--batch-size", str(args.batch_size)] + (["--checkpoint", args.checkpoint] if args.checkpoint else [])
    launcher = [sys.executable] if processes == 1 else [sys.executable, "-m", "torch.distributed.run",
                                                        "--standalone", "--nproc_per_node", str(processes)]
    start = time.perf_counter()
    done = subprocess.run([*launcher, *command], env=env, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"motrans: error: {processes} process(es) failed:\n{done.stderr[-2000:]}")
    found = re.search(r"jobs in ([0-9.]+) s", done.stderr)
    return wall, float(found.group(1)) if found else float("nan")


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("job*.mp4"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--frames", type=int, default=16, help="driving frames per job")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--checkpoint", help="default: the packaged model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    machine = describe()
    print(f"machine: {summary(machine)}; load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs = pairs_file(folder, args.jobs, args.frames)
        times: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        for repeat in range(args.repeats):
            for n in times:
                times[n].append(run(n, pairs, folder / f"out{n}-{repeat}", args))
        same = outputs(folder / "out1-0") == outputs(folder / "out2-0")
    results = {n: (min(t[0] for t in runs), min(t[1] for t in runs)) for n, runs in times.items()}
    every = "; ".join(f"{n}: " + ", ".join(f"{w:.1f}/{b:.1f}" for w, b in runs) for n, runs in times.items())
    print(f"{args.jobs} jobs x {args.frames} frames, OMP_NUM_THREADS=1 per process, best of {args.repeats}; load "
          f"average {os.getloadavg()[0]:.1f} at the end; every run, command s/batch s, by processes: {every}")
    print(f"{'processes':>9} {'command s':>10} {'jobs/s':>8} {'batch s':>8} {'jobs/s':>8}")
    for n, (wall, batch) in results.items():
        print(f"{n:>9} {wall:>10.1f} {args.jobs / wall:>8.3f} {batch:>8.1f} {args.jobs / batch:>8.3f}")
    (wall1, batch1), (wall2, batch2) = results[1], results[2]
    print(f"ratio 2/1: {wall1 / wall2:.2f}x (command), {batch1 / batch2:.2f}x (batch); "
          f"outputs identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()

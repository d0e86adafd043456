"""Cost of finding the face per driving frame at 720p (issue 21), and of a large photo.

    python benchmarks/crop_detect.py [--frames 100]

On ../shared/data/faces/liveportrait_s18_landscape.mp4 (1280×720): ms/frame and frames with a face for dlib's HOG
at the driving setting (640 px, no upsampling), the still-photo setting (800 px, upsample 1) and full resolution,
plus the scene-cut thumbnail; then one 6000×4000 photo at the still setting. Needs dlib-bin.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.animate.detect import DRIVING_FACES, FaceDetector  # noqa: E402
from motrans.animate.shots import thumbnail  # noqa: E402
from motrans.data.video import read_frames  # noqa: E402
from motrans.machine import summary  # noqa: E402

CLIP = REPO.parent / "shared" / "data" / "faces" / "liveportrait_s18_landscape.mp4"


def timed(step, frames: list[np.ndarray]) -> tuple[float, list]:
    """Median ms per frame over `frames` (after one warm-up call), and the results."""
    step(frames[0])
    times, results = [], []
    for frame in frames:
        start = time.perf_counter()
        results.append(step(frame))
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    frames = list(itertools.islice(read_frames(CLIP), parser.parse_args().frames))
    print(summary(), flush=True)
    settings = {"driving (640 px, upsample 0)": DRIVING_FACES, "still (800 px, upsample 1)": FaceDetector(),
                "full 1280 px, upsample 0": FaceDetector(side=1280, upsample=0)}
    for name, detector in settings.items():
        ms, found = timed(detector, frames)
        print(f"{name:30s} {ms:6.1f} ms/frame  face in {sum(map(bool, found))}/{len(frames)}")
    print(f"{'cut thumbnail':30s} {timed(thumbnail, frames)[0]:6.1f} ms/frame")
    photo = np.random.default_rng(0).integers(0, 256, (4000, 6000, 3), dtype=np.uint8)
    print(f"{'6000x4000 photo, still':30s} {timed(FaceDetector(), [photo] * 3)[0]:6.1f} ms")


if __name__ == "__main__":
    main()

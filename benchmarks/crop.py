"""What auto-crop costs: `motrans animate` on a large photo and a 720p phone clip, with and without cropping.

    python benchmarks/crop.py [--frames 30] [--domain face|body] [--rounds 2]

A full-size MoTrans (motrans-vox256, random weights: speed does not depend on them) told it animates faces. The
source is a 256² face pasted into a 2000×1500 photo; the driving video is the first frames of the 1280×720
`faces/liveportrait_s18_landscape.mp4`. Side by side, in one run:
(a) --crop none: the model sees the centre of each frame (the behaviour before auto-crop), writes 256²;
(b) --crop face --no-paste-back: face found in the photo, pass 1 over the driving frames, one box per shot, 256²;
(c) --crop face: as (b), the result pasted back into the photo, written at 2000×1500.
Prints seconds per frame and the ratios (b)/(a), (c)/(a); the issue's bar is ≤ 1.25× for the cropping itself.
With `--domain body`: motrans-taichi256, `bodies/fullbody_sadtalker.png` in a 2400×1600 picture, driven by the
720×1080 `bodies/fashion_liveportrait_s13.mp4` (MediaPipe pose; needs scripts/install_metrics.sh).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.animate import AnimateOptions, Animator, animate_video  # noqa: E402
from motrans.config import load_config  # noqa: E402
from motrans.data.image import read_image  # noqa: E402
from motrans.data.video import VideoWriter, probe, read_frames  # noqa: E402
from motrans.machine import summary  # noqa: E402
from motrans.models import build_model  # noqa: E402

DATA = REPO.parent / "shared" / "data"
# domain: (preset, subject image, picture (H, W), where the subject goes (x, y), driving clip)
SETUPS = {"face": ("motrans-vox256", DATA / "faces" / "vox_lia_monroe.png", (1500, 2000), (1234, 345),
                   DATA / "faces" / "liveportrait_s18_landscape.mp4"),
          "body": ("motrans-taichi256", DATA / "bodies" / "fullbody_sadtalker.png", (1600, 2400), (1400, 200),
                   DATA / "bodies" / "fashion_liveportrait_s13.mp4")}


def inputs(folder: Path, frames: int, domain: str) -> tuple[Path, Path]:
    """The picture with the subject at its place, and the first `frames` frames of the driving clip."""
    from PIL import Image

    _, subject, size, (x, y), clip = SETUPS[domain]
    photo = np.full((*size, 3), 90, np.uint8)
    image = read_image(subject)
    photo[y: y + image.shape[0], x: x + image.shape[1]] = image
    Image.fromarray(photo).save(folder / "photo.png")
    with VideoWriter(folder / "driving.mp4", probe(clip).fps) as writer:
        for _, frame in zip(range(frames), read_frames(clip)):
            writer.write(frame)
    return folder / "photo.png", folder / "driving.mp4"


def timed(label: str, animator: Animator, source: Path, driving: Path, output: Path, frames: int, **options) -> float:
    start = time.perf_counter()
    animate_video(source, driving, output, animator=animator, quiet=True,
                  options=AnimateOptions(audio=False, **options))
    seconds = (time.perf_counter() - start) / frames
    print(f"  {label:<44} {seconds:6.3f} s/frame", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--domain", default="face", choices=sorted(SETUPS))
    parser.add_argument("--rounds", type=int, default=2, help="runs of each setting, in the order a b c c b a")
    args = parser.parse_args()
    print(summary(), flush=True)
    torch.manual_seed(0)
    preset, _, size, _, clip = SETUPS[args.domain]
    animator = Animator(build_model(load_config(preset).model), "cpu", domain=args.domain)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source, driving = inputs(tmp, args.frames, args.domain)
        print(f"{args.frames} frames of {clip.name}, source {size[1]}x{size[0]}, {preset} (random weights)")
        runs = {"a": ("(a) --crop none (256x256 out)", {"crop": "none"}),
                "b": (f"(b) --crop {args.domain} --no-paste-back (256x256 out)",
                      {"crop": args.domain, "paste_back": False}),
                "c": (f"(c) --crop {args.domain} ({size[1]}x{size[0]} out)", {"crop": args.domain})}
        # a b c, then c b a: a load that drifts during the run weighs on every setting alike
        seconds = {key: [] for key in runs}
        for key in ("abc" if args.rounds == 1 else "abccba" * (args.rounds // 2) + "abc" * (args.rounds % 2)):
            label, options = runs[key]
            seconds[key].append(timed(label, animator, source, driving, tmp / f"{key}.mp4", args.frames, **options))
        a, b, c = (sum(seconds[key]) / len(seconds[key]) for key in "abc")
    print(f"  ratios: (b)/(a) = {b / a:.3f}x   (c)/(a) = {c / a:.3f}x")


if __name__ == "__main__":
    main()

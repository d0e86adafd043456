"""Peak memory of auto-crop and paste-back on large inputs, against a 256² clip, each in its own process.

    python benchmarks/crop_memory.py [--frames 40]

The issue's bound: a 4K driving video and a 6000×4000 photo work within the same memory as a 256² clip plus the
frame buffers. Cases, each a fresh `motrans animate` on the packaged model with `--crop face`:
(a) 256² face and a 256² clip (nothing cropped, 256² out);
(b) the face in a 6000×4000 photo, a 3840×2160 clip: pass 1 finds the face, pass 2 crops, pasted back into the
    photo at the 4096-pixel maximum side (4096×2730 out);
(c) as (b) with --no-paste-back (the crop alone, 128² out).
The inputs are made from `faces/vox_lia_monroe.png` and `faces/liveportrait_s18_landscape.mp4` (upscaled 3×).
Prints peak RSS per case (ru_maxrss of the child), the difference from (a), and the frame buffers that explain it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.data.image import read_image, resize  # noqa: E402
from motrans.data.video import VideoWriter, probe, read_frames  # noqa: E402
from motrans.machine import summary  # noqa: E402

DATA = REPO.parent / "shared" / "data"
FACE, CLIP = DATA / "faces" / "vox_lia_monroe.png", DATA / "faces" / "liveportrait_s18_landscape.mp4"


def make_inputs(folder: Path, frames: int) -> dict[str, Path]:
    from PIL import Image

    face = read_image(FACE)
    photo = np.full((4000, 6000, 3), 90, np.uint8)
    photo[1500:2268, 3900:4668] = resize(face, (768, 768))  # the face three times larger, off-centre
    Image.fromarray(photo).save(folder / "photo.png")
    Image.fromarray(face).save(folder / "face.png")
    fps = probe(CLIP).fps
    with VideoWriter(folder / "clip4k.mp4", fps) as big, VideoWriter(folder / "clip256.mp4", fps) as small:
        for _, frame in zip(range(frames), read_frames(CLIP)):
            big.write(resize(frame, (2160, 3840)))
            small.write(resize(frame[60:660, 340:940], (256, 256)))  # the face's region, as a 256² clip
    return {name: folder / name for name in ("photo.png", "face.png", "clip4k.mp4", "clip256.mp4")}


# The child animates and then prints its own peak RSS (ru_maxrss, KB on Linux) as its last line.
CHILD = ("import resource, sys; from motrans.cli import main; code = main(sys.argv[1:]); "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")


def peak_rss_mb(args: list[str]) -> float:
    """Runs `motrans animate ARGS` in a fresh process and returns its peak resident memory in MB."""
    done = subprocess.run([sys.executable, "-c", CHILD, "animate", *args], check=True, cwd=REPO,
                          capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    print(summary(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = make_inputs(tmp, args.frames)
        common = ["--crop", "face", "--no-audio"]
        cases = [("(a) 256² face, 256² clip", ["--source", files["face.png"], "--driving", files["clip256.mp4"]]),
                 ("(b) 6000x4000 photo, 4K clip, pasted back",
                  ["--source", files["photo.png"], "--driving", files["clip4k.mp4"]]),
                 ("(c) 6000x4000 photo, 4K clip, --no-paste-back",
                  ["--source", files["photo.png"], "--driving", files["clip4k.mp4"], "--no-paste-back"])]
        peaks = {}
        for number, (label, case) in enumerate(cases):
            out = tmp / f"out{number}.mp4"
            peaks[label] = peak_rss_mb([str(part) for part in case] + common + ["--output", str(out)])
            print(f"  {label:<48} peak RSS {peaks[label]:7.0f} MB   out {probe(out).width}x{probe(out).height}",
                  flush=True)
    base = peaks[cases[0][0]]
    print(f"{args.frames} frames. Frame buffers: a 4K RGB frame is {3840 * 2160 * 3 / 2**20:.0f} MB, the 6000x4000"
          f" photo {6000 * 4000 * 3 / 2**20:.0f} MB decoded, a 4096x2730 output frame {4096 * 2730 * 3 / 2**20:.0f}"
          " MB")
    for label, peak in peaks.items():
        print(f"  {label:<48} +{peak - base:6.0f} MB over (a)")


if __name__ == "__main__":
    main()

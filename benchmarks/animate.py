"""Speed and memory of `motrans animate` against a naive loop that mirrors the authors' demo, side by side.

    python benchmarks/animate.py [--frames 100] [--long-frames 0] [--device cpu]

(a) naive: the whole driving video decoded into memory as float arrays, then one frame at a time through the
    estimator and the full generator (the source re-encoded every frame), predictions kept, written at the end;
(b) ours, float32; (c) ours, bfloat16 (mixed precision: convolutions in bf16, geometry in float32).
Each writes the same mp4. A full-size model (motrans-vox256) with random weights: speed does not depend on them.
Prints frames/s and ratios, the PSNR of (c) against (b), and the peak RSS of (b) for short and long runs (each
in its own process, `--long-frames 1169` for all of ../shared/data/faces/vox_lia_obama_long.mov).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from motrans.animate import Animator, animate_video  # noqa: E402
from motrans.animate.normalize import transfer  # noqa: E402
from motrans.config import load_config  # noqa: E402
from motrans.data.image import fit, read_image  # noqa: E402
from motrans.data.video import VideoWriter, probe, read_frames  # noqa: E402
from motrans.machine import describe, summary  # noqa: E402
from motrans.models import build_model  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SOURCE = DATA / "faces" / "vox_lia_macron.png"
DRIVING = DATA / "faces" / "vox_lia_obama_long.mov"


def random_model(seed: int = 0):
    """motrans-vox256 with random weights and non-trivial BatchNorm statistics and heads."""
    torch.manual_seed(seed)
    model = build_model(load_config("motrans-vox256").model).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
        model.estimator.affine_head.linear.weight.normal_(0, 0.02)
    return model


def clip(frames: int, directory: Path) -> Path:
    """The first `frames` frames of the long clip, re-encoded once (with its audio) so every variant reads the same."""
    path = directory / f"driving_{frames}.mp4"
    fps = probe(DRIVING).fps
    with VideoWriter(path, fps, audio_from=DRIVING) as writer:
        for i, frame in enumerate(read_frames(DRIVING)):
            if i == frames:
                break
            writer.write(frame)
    return path


@torch.inference_mode()
def naive(model, source_path: Path, driving_path: Path, output: Path) -> None:
    """The authors' demo: whole video in memory, frame by frame, generator re-encodes the source each time."""
    size = tuple(model.config.frame_size)
    source = fit(read_image(source_path), size, "stretch")[None].astype(np.float32) / 255
    source = torch.tensor(source).permute(0, 3, 1, 2)
    video = [fit(f, size, "stretch").astype(np.float32) / 255 for f in read_frames(driving_path)]
    driving = torch.tensor(np.array(video)[np.newaxis]).permute(0, 4, 1, 2, 3)  # (1, 3, T, H, W), as they do
    kp_source = model.estimator(source)
    kp_initial = model.estimator(driving[:, :, 0])
    predictions = []
    for index in range(driving.shape[2]):
        kp_driving = model.estimator(driving[:, :, index])
        motion = transfer(kp_source, kp_driving, kp_initial, "relative")
        out = model.animate(source, kp_source, motion)  # encoder, dense motion and decoder, all per frame
        predictions.append(np.transpose(out.prediction.numpy(), [0, 2, 3, 1])[0])
    with VideoWriter(output, probe(driving_path).fps, audio_from=driving_path) as writer:
        for frame in predictions:
            writer.write((np.clip(frame, 0, 1) * 255).round().astype(np.uint8))


def ours(model, dtype: str, source: Path, driving: Path, output: Path, keep: list | None = None) -> None:
    animator = Animator(model, "cpu" if not torch.cuda.is_available() else "cuda", dtype)
    if keep is None:
        animate_video(source, driving, output, animator=animator, quiet=True)
        return
    with VideoWriter(output, probe(driving).fps, audio_from=driving) as writer:  # same work, frames also kept
        for frame in animator.animate(read_image(source), read_frames(driving)):
            writer.write(frame)
            keep.append(frame)


def timed(label: str, run, frames: int) -> float:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    print(f"  {label:<28} {frames / seconds:6.3f} frames/s  ({seconds:.1f} s)", flush=True)
    return frames / seconds


def psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    mse = np.mean([(x.astype(np.float64) - y.astype(np.float64)) ** 2 for x, y in zip(a, b)])
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def peak_rss(frames: int, directory: Path) -> float:
    """Peak RSS (MiB) of a fresh process animating `frames` frames with ours in float32."""
    driving = clip(frames, directory) if frames < 1169 else DRIVING
    code = (f"import sys, resource; sys.path.insert(0, {str(REPO)!r}); sys.argv = ['x'];"
            f"from benchmarks.animate import random_model, ours;"
            f"from pathlib import Path;"
            f"ours(random_model(), 'float32', Path({str(SOURCE)!r}), Path({str(driving)!r}), "
            f"Path({str(directory / f'rss{frames}.mp4')!r}));"
            f"print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def rss(frames: int, long_frames: int, directory: Path) -> dict[str, float]:
    short, long = peak_rss(frames, directory), peak_rss(long_frames, directory)
    print(f"  peak RSS, ours float32: {frames} frames {short:.0f} MiB, {long_frames} frames {long:.0f} MiB, "
          f"ratio {long / short:.3f} (target <= 1.1)", flush=True)
    return {"rss_short_mib": short, "rss_long_mib": long, "rss_ratio": long / short}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="frames for the speed comparison")
    parser.add_argument("--long-frames", type=int, default=1169, help="frames for the long-video RSS (0: skip)")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--rss-only", action="store_true", help="only the peak RSS of the short and long runs")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    machine = describe()
    print(summary(machine))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.rss_only:
            figures = {"machine": machine, **rss(args.frames, args.long_frames, tmp)}
            if args.json:
                Path(args.json).write_text(json.dumps(figures, indent=2))
            return
        driving = clip(args.frames, tmp)
        model = random_model()
        print(f"{args.frames} frames of {DRIVING.name} at 256x256, source {SOURCE.name}, "
              "motrans-vox256 (random weights)")
        b_frames, c_frames = [], []
        fps = {
            "a_naive": timed("(a) naive (authors' demo)",
                             lambda: naive(model, SOURCE, driving, tmp / "a.mp4"), args.frames),
            "b_ours_float32": timed("(b) ours float32",
                                    lambda: ours(model, "float32", SOURCE, driving, tmp / "b.mp4", b_frames),
                                    args.frames),
            "c_ours_bfloat16": timed("(c) ours bfloat16",
                                     lambda: ours(model, "bfloat16", SOURCE, driving, tmp / "c.mp4", c_frames),
                                     args.frames),
        }
        figures = {"machine": machine, "fps": fps, "b_over_a": fps["b_ours_float32"] / fps["a_naive"],
                   "c_over_a": fps["c_ours_bfloat16"] / fps["a_naive"], "psnr_c_vs_b_db": psnr(c_frames, b_frames)}
        print(f"  ratios: (b)/(a) = {figures['b_over_a']:.2f}x   (c)/(a) = {figures['c_over_a']:.2f}x   "
              f"PSNR (c) vs (b) = {figures['psnr_c_vs_b_db']:.1f} dB")
        if args.long_frames:
            figures.update(rss(args.frames, args.long_frames, tmp))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Speed and memory of `motrans animate` against a naive loop that mirrors the authors' demo, side by side.

    python benchmarks/animate.py [--frames 100] [--long-frames 0] [--device cpu] [--backends]

(a) naive: the whole driving video decoded into memory as float arrays, then one frame at a time through the
    estimator and the full generator (the source re-encoded every frame), predictions kept, written at the end;
(b) ours, float32; (c) ours, bfloat16 (mixed precision: convolutions in bf16, geometry in float32).
Each writes the same mp4. A full-size model (motrans-vox256) with random weights: speed does not depend on them.
Prints frames/s and ratios, the PSNR of (c) against (b), and the peak RSS of (b) for short and long runs (each
in its own process, `--long-frames 1169` for all of ../shared/data/faces/vox_lia_obama_long.mov).

`--backends` (issue 22) adds, in the same run: onnxruntime float32 and int8 (`motrans.export`), bfloat16 only
where the CPU has it natively, this machine's conv ceiling (the best of NCHW, channels-last and onnxruntime on one
fixed 3×3 convolution) with each path's fraction of it, and the PSNR of every reduced path against float32 on the
trained packaged puppet model (a puppet clip and a real face clip through it).
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
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


CONV = (4, 256, 256, 64)  # batch, in and out channels, side: the ceiling's fixed 3×3 convolution


def conv_ceiling(repeats: int = 5) -> dict[str, float]:
    """GMAC/s of one 3×3 convolution: torch NCHW, torch channels-last, onnxruntime (best of `repeats` each)."""
    import onnxruntime

    b, cin, cout, side = CONV
    conv = torch.nn.Conv2d(cin, cout, 3, padding=1).eval()
    x = torch.rand(b, cin, side, side)
    macs = b * cout * side * side * cin * 9
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "conv.onnx")
        torch.onnx.export(conv, (x,), path, input_names=["x"], dynamo=False)
        sess = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        conv_last = copy.deepcopy(conv).to(memory_format=torch.channels_last)
        x_last = x.to(memory_format=torch.channels_last)
        runs = {"nchw": lambda: conv(x), "channels_last": lambda: conv_last(x_last),
                "onnxruntime": lambda: sess.run(None, {"x": x.numpy()})}
        with torch.inference_mode():
            best = {name: min(_seconds(run) for _ in range(repeats)) for name, run in runs.items()}
    return {name: macs / seconds / 1e9 for name, seconds in best.items()}


def _seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def macs_per_frame(model) -> float:
    """Multiply-accumulates of one driving frame through the streaming path (estimator, dense motion, decoder)."""
    from torch.utils.flop_counter import FlopCounterMode

    animator = Animator(model, "cpu")
    frame = np.zeros((*model.config.frame_size, 3), np.uint8)
    state = animator.encode_source(frame)
    with FlopCounterMode(display=False) as counter:
        animator.generate(state, animator.estimate([frame]))
    return counter.get_total_flops() / 2


def onnx_animator(model, directory: Path, int8: bool):
    from motrans.animate.backend import OnnxRuntimeAnimator

    return OnnxRuntimeAnimator(model, directory, int8)


def run_animator(animator, source: Path, driving: Path, output: Path, keep: list) -> None:
    with VideoWriter(output, probe(driving).fps, audio_from=driving) as writer:
        for frame in animator.animate(read_image(source), read_frames(driving)):
            writer.write(frame)
            keep.append(frame)


def interleaved(model, paths: dict, driving: Path, frames: int, rounds: int, tmp: Path) -> tuple[dict, dict]:
    """frames/s of the authors' loop and of each path, run in turn `rounds` times (a shared machine's load then
    weighs on all alike); the frames of each path's first round, for PSNR."""
    seconds = {"authors' loop": 0.0, **{name: 0.0 for name in paths}}
    kept: dict[str, list] = {name: [] for name in paths}
    for index in range(rounds):
        seconds["authors' loop"] += _seconds(lambda: naive(model, SOURCE, driving, tmp / "a.mp4"))
        for name, make in paths.items():
            keep = kept[name] if index == 0 else []
            seconds[name] += _seconds(lambda: run_animator(make(), SOURCE, driving, tmp / "p.mp4", keep))
        print(f"  round {index + 1}/{rounds}, frames/s so far: "
              + ", ".join(f"{name} {frames * (index + 1) / s:.3f}" for name, s in seconds.items()), flush=True)
    return {name: frames * rounds / s for name, s in seconds.items()}, kept


def backends(model, driving: Path, frames: int, tmp: Path, rounds: int = 2, export_dir: Path | None = None) -> dict:
    """(a) the authors' loop, then every backend × dtype on the same clip; speed, ratios, ceiling fractions."""
    from motrans.animate.pipeline import cpu_has_native_bfloat16
    from motrans.export import export_model

    directory = export_dir or tmp / "onnx"
    if not (directory / "manifest.json").is_file():  # the same seed gives the same model: an export is reusable
        print("  exporting the model to ONNX (float32 + int8, calibrated on 8 synthetic puppet frames) ...", flush=True)
        export_model(model, directory, dtype="int8")
    paths = {"torch float32": lambda: Animator(model, "cpu", "float32"),
             "onnxruntime float32": lambda: onnx_animator(model, directory, False),
             "onnxruntime int8": lambda: onnx_animator(model, directory, True)}
    if cpu_has_native_bfloat16():
        paths["torch bfloat16"] = lambda: Animator(model, "cpu", "bfloat16")
    else:
        print("  torch bfloat16: skipped, this CPU has no native bfloat16 (motrans refuses it here)")
    fps, kept = interleaved(model, paths, driving, frames, rounds, tmp)
    per_frame = steady_state(paths)
    ceiling = conv_ceiling()
    best = max(ceiling.values())
    macs = macs_per_frame(model)
    print(f"  conv ceiling (3x3 {CONV[1]}->{CONV[2]} at {CONV[3]}^2, batch {CONV[0]}): "
          + ", ".join(f"{k} {v:.0f}" for k, v in ceiling.items()) + f" GMAC/s; best {best:.0f}")
    print(f"  {'path':<22} {'frames/s':>8} {'vs authors':>10} {'GMAC/s':>7} {'of ceiling':>10} {'PSNR vs fp32':>12}")
    rows = {}
    for name, rate in fps.items():
        psnr_db = psnr(kept[name], kept["torch float32"]) if name in kept and name != "torch float32" else None
        rows[name] = {"fps": rate, "ratio": rate / fps["authors' loop"], "gmacs": rate * macs / 1e9,
                      "fraction": rate * macs / 1e9 / best, "psnr_db_vs_torch_float32": psnr_db}
        r = rows[name]
        shown = "" if psnr_db is None else f"{psnr_db:.1f} dB"
        print(f"  {name:<22} {rate:8.3f} {r['ratio']:9.2f}x {r['gmacs']:7.1f} {r['fraction']:9.0%} {shown:>12}")
    print("  steady state (batches of 4 after a warm-up, best of 5; what is left of a run is decoding, encoding, "
          "the first calls' planning and, for onnxruntime, loading the graphs):")
    authors = per_frame["authors' loop"][1]
    for name, (load, seconds) in per_frame.items():
        rows[name].update(steady_s_per_frame=seconds, steady_fraction=macs / seconds / 1e9 / best, load_s=load,
                          steady_ratio=authors / seconds)
        print(f"    {name:<22} {seconds:.3f} s/frame, {authors / seconds:.2f}x the authors' loop, "
              f"{rows[name]['steady_fraction']:.0%} of the ceiling, loading {load:.2f} s")
    targets(machine_kind(), rows)
    return {"paths": rows, "conv_ceiling_gmacs": ceiling, "macs_per_frame": macs}


def steady_state(paths: dict, repeats: int = 5) -> dict[str, tuple[float, float]]:
    """(seconds to make the animator, seconds a frame in batches of 4 once warm: the best of `repeats` interleaved
    batches, since on a shared machine a slower batch measures the neighbours) of every path."""
    from motrans.animate.backend import batch_steps, timed_rounds

    animators, loads = {}, {}
    for name, make in paths.items():
        start = time.perf_counter()
        animators[name] = make()
        loads[name] = time.perf_counter() - start
    steps, frames = batch_steps(animators, 4)
    steps["authors' loop"] = lambda: authors_frames(animators["torch float32"], frames)
    return {name: (loads.get(name, 0.0), min(seconds) / 4) for name, seconds in timed_rounds(steps, repeats).items()}


@torch.inference_mode()
def authors_frames(animator, frames: list[np.ndarray]) -> None:
    """The body of `naive`'s loop for frames[1:] (one frame at a time, the whole generator), frames[0] the source."""
    model = animator.model
    source = animator.to_tensor(frames[:1])
    kp_source = model.estimator(source)
    for frame in frames[1:]:
        kp_driving = model.estimator(animator.to_tensor([frame]))
        model.animate(source, kp_source, transfer(kp_source, kp_driving, kp_source, "relative"))


def machine_kind() -> str:
    flags = describe()["flags"]
    if "amx_tile" in flags or "avx512_vnni" in flags:
        return "vnni"
    return "avx512" if "avx512f" in flags else "avx2"


def targets(kind: str, rows: dict) -> None:
    """Issue 22's targets for this kind of CPU, met or not."""
    want = {"avx2": (1.4, 1.8), "avx512": (1.8, 3.0), "vnni": (1.6, 3.0)}[kind]
    exact = [rows[name] for name in ("torch float32", "onnxruntime float32")]
    int8 = rows["onnxruntime int8"]
    print(f"  targets on this CPU ({kind}): float32 >= {want[0]}x (fastest exact: "
          f"{max(r['ratio'] for r in exact):.2f}x), >= 85% of the ceiling (fastest exact: "
          f"{max(r['fraction'] for r in exact):.0%} end to end, "
          f"{max(r['steady_fraction'] for r in exact):.0%} steady); "
          f"int8 >= {want[1]}x at >= 40 dB ({int8['ratio']:.2f}x; its MACs are 8-bit, so no fraction of the "
          "float32 ceiling is claimed for it)")
    if "torch bfloat16" in rows:  # native bfloat16 only (AVX512-BF16, AMX)
        print(f"  bfloat16 target: >= 2.5x ({rows['torch bfloat16']['ratio']:.2f}x)")


def trained_psnr(tmp: Path, frames: int) -> dict:
    """PSNR of onnxruntime float32 and int8 (and bfloat16 where native) against torch float32 on the trained packaged
    puppet model."""
    from motrans.checkpoints import load_model_and_config
    from motrans.data.synth import render_video
    from motrans.export import export_model
    from motrans.packaged import packaged_model_path

    model, _ = load_model_and_config(packaged_model_path())
    export_model(model, tmp / "puppets", dtype="int8")
    size = tuple(model.config.frame_size)
    clips = {"puppet clip": list(render_video(7, frames=frames + 1, size=size[0])),
             "face clip": [fit(f, size, "crop") for _, f in zip(range(frames + 1), read_frames(DRIVING))]}
    source = fit(read_image(SOURCE), size, "crop")
    out = {}
    for clip, video in clips.items():
        first = video[0] if clip == "puppet clip" else source
        reference = list(Animator(model).animate(first, video[1:]))
        spread = torch_spread(first, video[1:], tmp)
        out[f"torch, ATEN_CPU_CAPABILITY=default, {clip}"] = psnr(spread, reference)
        print(f"  packaged puppet model, {clip}: torch's own spread (ATEN_CPU_CAPABILITY=default vs this run): "
              f"{psnr(spread, reference):.1f} dB, max {max_levels(spread, reference)} levels", flush=True)
        for name, make in reduced_paths(model, tmp / "puppets").items():
            got = list(make().animate(first, video[1:]))
            out[f"{name}, {clip}"] = psnr(got, reference)
            print(f"  packaged puppet model, {clip}: {name} vs torch float32: {out[f'{name}, {clip}']:.1f} dB, "
                  f"max {max_levels(got, reference)} levels", flush=True)
    return out


def reduced_paths(model, export_dir: Path) -> dict:
    """The paths compared with torch float32 on trained weights; bfloat16 only where this CPU runs it natively."""
    from motrans.animate.pipeline import cpu_has_native_bfloat16

    paths = {"onnxruntime float32": lambda: onnx_animator(model, export_dir, False),
             "onnxruntime int8": lambda: onnx_animator(model, export_dir, True)}
    if cpu_has_native_bfloat16():
        paths["torch bfloat16"] = lambda: Animator(model, "cpu", "bfloat16")
    return paths


def max_levels(a: list[np.ndarray], b: list[np.ndarray]) -> int:
    return max(int(np.abs(x.astype(int) - y.astype(int)).max()) for x, y in zip(a, b))


def torch_spread(first: np.ndarray, video: list[np.ndarray], tmp: Path) -> list[np.ndarray]:
    """The same animation by torch float32 in a process with ATEN's default (non-vector) kernels: how far torch's
    own frames move between two kernel settings of one machine, the yardstick for onnxruntime's."""
    np.savez(tmp / "spread_in.npz", first=first, video=np.stack(video))
    code = (f"import sys, numpy as np; sys.path.insert(0, {str(REPO)!r});"
            "from motrans.animate import Animator; from motrans.checkpoints import load_model_and_config;"
            "from motrans.packaged import packaged_model_path;"
            f"d = np.load({str(tmp / 'spread_in.npz')!r}); model, _ = load_model_and_config(packaged_model_path());"
            f"np.save({str(tmp / 'spread_out.npy')!r}, np.stack(list(Animator(model).animate(d['first'], "
            "list(d['video'])))))")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "ATEN_CPU_CAPABILITY": "default"})
    return list(np.load(tmp / "spread_out.npy"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="frames for the speed comparison")
    parser.add_argument("--long-frames", type=int, default=1169, help="frames for the long-video RSS (0: skip)")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--rss-only", action="store_true", help="only the peak RSS of the short and long runs")
    parser.add_argument("--backends", action="store_true", help="every backend x dtype, the conv ceiling, PSNR on "
                        "the trained packaged model (issue 22) instead of (b) and (c)")
    parser.add_argument("--rounds", type=int, default=2, help="with --backends: every path runs this many times "
                        "in turn")
    parser.add_argument("--export-dir", help="with --backends: keep the random model's ONNX export here, reuse it")
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
        if args.backends:
            figures = {"machine": machine, **backends(model, driving, args.frames, tmp, args.rounds,
                                                         args.export_dir and Path(args.export_dir)),
                       "trained_psnr_db": trained_psnr(tmp, args.frames),
                       "peak_rss_mib_whole_run": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
            print(f"  peak RSS of the whole run (all paths, one process): {figures['peak_rss_mib_whole_run']:.0f} MiB")
            if args.long_frames:
                figures.update(rss(args.frames, args.long_frames, tmp))
            if args.json:
                Path(args.json).write_text(json.dumps(figures, indent=2))
            return
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

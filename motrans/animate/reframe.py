"""Real photos and phone clips: which region the model sees, and the animated region back in the full picture.

The source is cropped once around its face (or a given box) and the result is pasted back into it at full
resolution; the driving video gets one steady box per stretch of frames (`shots.plan`), and relative motion starts
again at each stretch, as if a new driving clip began. An input already at the model size is never cropped, so
every result on such inputs is what it was without cropping, bit for bit.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..progress import Progress
from .crop import Box, Canvas, PasteOptions, canvas, crop, parse_box, paste_back
from .detect import BODY_SCALE, DRIVING_BODIES, DRIVING_FACES, BodyDetector, FaceDetector, choose
from .people import Tracker, find_all
from .shots import PlanOptions, Stretch, follow, plan, survey

CROPS = ("auto", "face", "body", "none")  # or X,Y,W,H
# What a model animates, from the dataset it was trained on (its config's data.root, which the authors' YAML and
# our files carry): VoxCeleb faces; TaiChiHD and TED bodies; MGIF and our puppets: whole frames.
DOMAINS = (("vox", "face"), ("taichi", "body"), ("ted", "body"), ("gif", "none"), ("puppet", "none"))
FACE_SCALE = PlanOptions.scale  # the face plus hair and chin: VoxCeleb's crops are ~2× dlib's HOG box
SCALES = {"face": FACE_SCALE, "body": BODY_SCALE}


@dataclass(frozen=True)
class Reframe:
    """How one animation is framed: the source box (None: no crop), the driving stretches (one box each, or None:
    no crop), and the canvas the results are pasted into (None: the results are written as they come)."""

    source_box: Box | None
    stretches: list[Stretch]
    canvas: Canvas | None


def model_domain(config) -> str | None:
    """"face", "body", "none" (whole frames) or None where the config does not tell (`data.domain`, else the
    dataset's name in `data.root`)."""
    if config.data.domain:
        return config.data.domain
    root = str(config.data.root).lower()
    return next((domain for word, domain in DOMAINS if word in root), None)


def resolve(crop_mode: str, domain: str | None, say, needed: bool = True) -> str:
    """auto -> the model's domain ("none" where unknown, and one line says how to choose); a box stays a box.
    `needed` False (every input already at the model size): auto is none, silently."""
    if crop_mode not in CROPS and not re.fullmatch(r"[-+0-9.eE]+(,[-+0-9.eE]+){3}", crop_mode):
        raise InputError(f"--crop {crop_mode!r}: use auto, face, body, none or X,Y,W,H")
    if crop_mode != "auto":
        return crop_mode
    if not needed:
        return "none"
    if domain is None:
        say("--crop auto: the model does not say what it animates (an authors' file without its YAML?): not "
            "cropping; give --crop face or --crop X,Y,W,H to choose")
        return "none"
    return domain


def source_box(image: np.ndarray, mode: str, size: tuple[int, int], options, name: str, say) -> Box | None:
    """The source's square crop box, or None (no crop: mode none, or already at the model size)."""
    if mode == "none" or image.shape[:2] == tuple(size):
        return None
    if mode not in SCALES:
        return parse_box(mode, *image.shape[:2], name="--crop").squared()
    what = "face" if mode == "face" else "person"
    boxes = _faces(image) if mode == "face" else find_all(image, BodyDetector())
    box = choose(boxes, options.object, name, what)
    taken = "the largest" if options.object is None else f"number {options.object} from the left"
    if len(boxes) > 1:
        say(f"found {len(boxes)} {what}s in {Path(name).name}: took {taken} (--object N chooses, 1 = leftmost)")
    return box.scaled(options.crop_scale or SCALES[mode]).squared()


def _faces(image: np.ndarray) -> list[Box]:
    """The source's faces: on an 800-pixel copy first (faces from ~40 px there); where none is found, on larger
    copies, so that a face a twentieth of a 6000-pixel photo is found too, at a cost paid only then."""
    for side in (800, 2400, 6000):
        boxes = FaceDetector(side=side)(image)
        if boxes or side >= max(image.shape[:2]):
            return boxes
    return boxes


def driving_stretches(frames: Iterable[np.ndarray], count: int | None, mode: str, size: tuple[int, int],
                      options, name: str, say, quiet: bool = False) -> list[Stretch] | None:
    """Pass 1: one box per stretch of the driving video; None where the driving frames are not cropped."""
    if options.driving_crop:
        first = next(iter(frames))
        if first.shape[:2] == tuple(size):
            return None
        return [Stretch(0, sys.maxsize, parse_box(options.driving_crop, *first.shape[:2], "--driving-crop").squared())]
    if mode == "none":
        return None
    frames = iter(frames)
    first = next(frames)
    if first.shape[:2] == tuple(size):
        return None
    say(f"pass 1/2: finding the {'face' if mode == 'face' else 'person'} in every driving frame, to plan one "
        "steady box per shot")
    progress = Progress(count, "frames searched", enabled=not quiet)
    stretches = plan_stretches(_counted(chain([first], frames), progress), mode, name, options.crop_scale,
                               options.driving_object)
    progress.close()
    return stretches


def plan_stretches(frames: Iterable[np.ndarray], kind: str, name: str, scale: float | None = None,
                   number: int | None = None) -> list[Stretch]:
    """One box per shot of a video around its `kind` ("face" or "body"), following the largest (or `number`-th)."""
    detections, cuts = survey(frames, DRIVING_FACES if kind == "face" else Tracker(DRIVING_BODIES))
    options = PlanOptions(scale=scale or SCALES[kind])
    return plan(follow(detections, cuts, number, name=name), cuts, options, name)


def _counted(frames: Iterable[np.ndarray], progress: Progress) -> Iterator[np.ndarray]:
    for frame in frames:
        yield frame
        progress.update()


def framed(animator, source: np.ndarray, frames: Iterator[np.ndarray], reframe: Reframe, options,
           fps: float) -> Iterator[np.ndarray]:
    """Pass 2: the animated frames, each stretch's driving frames cropped with its box, relative motion starting
    again at each stretch, results pasted into the canvas where there is one."""
    size = animator.frame_size[0]
    cropped_source = source if reframe.source_box is None else crop(source, reframe.source_box, size)
    stretches = reframe.stretches or [Stretch(0, sys.maxsize, None)]
    for stretch in stretches:
        part = islice(frames, stretch.end - stretch.start)
        if stretch.box is not None:
            part = (crop(frame, stretch.box, size) for frame in part)
        results = animator.animate(cropped_source, part, options.mode, options.adapt_scale, options.find_best_frame,
                                   options.batch_size, options.fit, smooth=options.smooth, fps=fps)
        for result in results:
            yield result if reframe.canvas is None else paste_back(reframe.canvas, result)


def paste_canvas(source: np.ndarray, box: Box | None, options, say) -> Canvas | None:
    """Where the results go: the full source (paste-back, the default whenever the source was cropped)."""
    wanted = box is not None if options.paste_back is None else options.paste_back
    if not wanted or box is None or options.side_by_side:
        return None
    result = canvas(source, box, PasteOptions(max_side=options.max_side))
    if result.scale < 1:
        say(f"the source is {source.shape[1]}x{source.shape[0]}: the output is scaled down to "
            f"{result.background.shape[1]}x{result.background.shape[0]} (--max-side {options.max_side})")
    return result

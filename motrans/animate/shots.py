"""Steady driving crops: one box per stretch of frames, not a jittering box per frame.

first-order-model's crop-video semantics, in two passes so that rendering streams. Pass 1 (`survey`) decodes
once, detects and marks scene cuts; it keeps only boxes and flags. `follow` picks the one object to follow and
`plan` splits the clip into stretches, each with ONE box. Pass 2 (the caller) decodes again and crops every frame
of a stretch with its box. A stretch starts at a scene cut, or where the followed object has moved out of the
stretch's box (IoU with the stretch's first detection below `min_iou`, as first-order-model's `iou_with_initial`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .crop import Box
from .detect import Detector, choose

THUMBNAIL = 32  # side of the gray thumbnails compared for cuts: 1.7 ms a 720p frame, blind to noise


@dataclass(frozen=True)
class PlanOptions:
    scale: float = 2.0  # face: the VoxCeleb crops in shared/data are 1.6–2.4× dlib's HOG box (median 2.0)
    # A cut changes both the picture's layout and its tones; a fast pan changes only the layout. Measured on the 16
    # clips in shared/data (consecutive frames) against the 240 joins of one clip's last frame to another's first:
    cut: float = 20.0  # mean |Δ| of 32² gray thumbnails: within a clip ≤ 15.8, across ≥ 31.8
    cut_histogram: float = 0.23  # L1 between 16-bin gray histograms: within ≤ 0.16, across ≥ 0.31, a 40 px pan 0.03
    min_iou: float = 0.25  # first-order-model's iou_with_initial
    lost_after: int = 10  # frames without the followed object before another one is taken (it left the frame)


@dataclass(frozen=True)
class Stretch:
    start: int  # first frame
    end: int  # one past the last frame
    box: Box  # square, in frame pixels; may leave the frame (crop pads)
    detected: bool = True  # False: the object was found in none of its frames, and the box is a neighbour's


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (32, 32) float32 gray, box-filtered."""
    from PIL import Image

    small = Image.fromarray(frame).convert("L").resize((THUMBNAIL, THUMBNAIL), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32)


def is_cut(previous: np.ndarray, current: np.ndarray, options: PlanOptions = PlanOptions()) -> bool:
    """Two consecutive (32, 32) thumbnails -> whether a new shot starts at the second."""
    if float(np.abs(current - previous).mean()) <= options.cut:
        return False
    return float(np.abs(_histogram(current) - _histogram(previous)).sum()) > options.cut_histogram


def _histogram(thumb: np.ndarray) -> np.ndarray:
    return np.histogram(thumb, bins=16, range=(0, 256))[0] / thumb.size


def survey(frames: Iterable[np.ndarray], detector: Detector, every: int = 1,
           options: PlanOptions = PlanOptions()) -> tuple[list[list[Box] | None], list[bool]]:
    """Pass 1, streaming: per frame a cut flag and the detections, None on the frames not looked at (only every
    `every`-th frame and each cut's first are)."""
    detections, cuts, previous = [], [], None
    for index, frame in enumerate(frames):
        small = thumbnail(frame)
        cuts.append(previous is not None and is_cut(previous, small, options))
        detections.append(detector(frame) if cuts[-1] or index % every == 0 else None)
        previous = small
    return detections, cuts


def follow(detections: list[list[Box] | None], cuts: list[bool], number: int | None = None,
           lost_after: int = PlanOptions.lost_after, name: str = "driving video") -> list[Box | None]:
    """The followed object's box per frame (None where unseen): the largest (or `number`-th from the left) at the
    start, at each cut and after `lost_after` looked-at frames without it; in between, the detection that overlaps
    its previous box most."""
    followed, last, missing, acquired = [], None, 0, False
    for boxes, cut in zip(detections, cuts, strict=True):
        if cut or missing >= lost_after:
            last, missing = None, 0
        box = None
        if boxes and last is not None:
            box = _overlapping(boxes, last)
        elif boxes:
            box, acquired = _first(boxes, number, acquired, name), True
        if box is not None:
            last, missing = box, 0
        elif boxes is not None:
            missing += 1
        followed.append(box)
    return followed


def _first(boxes: list[Box], number: int | None, acquired: bool, name: str) -> Box:
    """`number` must exist at the start (else an error); later, where it is out of range, the largest is taken."""
    if acquired and number is not None and number > len(boxes):
        number = None
    return choose(boxes, number, name)


def _overlapping(boxes: list[Box], last: Box) -> Box | None:
    best = max(boxes, key=last.iou)
    return best if last.iou(best) > 0 else None


def plan(followed: list[Box | None], cuts: list[bool], options: PlanOptions = PlanOptions(),
         name: str = "driving video") -> list[Stretch]:
    """Stretches covering every frame, each with the union of its frames' crops (box grown by `scale`, squared);
    a stretch without a detection reuses the previous stretch's box (the first: the next one's)."""
    spans, start, anchor, crops = [], 0, None, []
    for index, (box, cut) in enumerate(zip(followed, cuts, strict=True)):
        moved = box is not None and anchor is not None and box.iou(anchor) < options.min_iou
        if index > start and (cut or moved):
            spans.append((start, index, crops))
            start, anchor, crops = index, None, []
        if box is not None:
            anchor = anchor or box
            crops.append(box.scaled(options.scale).squared())
    spans.append((start, len(followed), crops))
    return _boxed(spans, name)


def _boxed(spans: list[tuple[int, int, list[Box]]], name: str) -> list[Stretch]:
    unions = [_union(crops) for _, _, crops in spans]
    known = [box for box in unions if box is not None]
    if not known:
        raise InputError(f"{name}: no object detected in any frame; use --crop none, or give a box X,Y,W,H")
    stretches, current = [], known[0]
    for (start, end, _), box in zip(spans, unions):
        current = box or current
        stretches.append(Stretch(start, end, current, box is not None))
    return stretches


def _union(crops: list[Box]) -> Box | None:
    if not crops:
        return None
    union = crops[0]
    for box in crops[1:]:
        union = union.union(box)
    return union.squared()

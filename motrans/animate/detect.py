"""Finding the object to crop: a detector is any callable (H, W, 3) uint8 RGB -> list[Box] in that image's pixels.

Faces use dlib's HOG detector from `dlib-bin`, which ships inside the wheel (no model file, no network). A body
detector (MediaPipe pose) plugs in through the same `Detector` signature.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .crop import Box

Detector = Callable[[np.ndarray], list[Box]]
INSTALL = 'pip install dlib-bin==20.0.1.post1 (or pip install -e ".[crop]")'


@functools.cache
def _hog():
    try:
        import dlib
    except ImportError:
        raise InputError(f"face detection needs dlib, which is not installed: {INSTALL}") from None
    return dlib.get_frontal_face_detector()


@dataclass(frozen=True)
class FaceDetector:
    """dlib HOG on a copy at most `side` pixels long, boxes mapped back to the full image."""

    side: int = 800  # a 6000×4000 photo then costs what an 800-px one does, plus 0.13 s to shrink it
    upsample: int = 1  # HOG sees faces from ~80 px; one doubling finds them from ~40 px, 5% of `side`

    def __call__(self, image: np.ndarray) -> list[Box]:
        height, width = image.shape[:2]
        small = shrunk(image, self.side)
        sx, sy = width / small.shape[1], height / small.shape[0]
        rects = _hog()(np.ascontiguousarray(small), self.upsample)
        return [Box(r.left(), r.top(), r.width(), r.height()).mapped(sx, sy) for r in rects]


# Driving frames: 21–37 ms a 720p frame on one EPYC core (benchmarks/crop_detect.py; the still setting: 140 ms).
# Finds faces from ~80 px at 640, 12% of the long side, as a talking head in a phone clip is; pass FaceDetector()
# where faces are smaller.
DRIVING_FACES = FaceDetector(side=640, upsample=0)


def shrunk(image: np.ndarray, side: int) -> np.ndarray:
    """(H, W, 3) uint8 -> the same image with its long side at most `side` (untouched when it already is)."""
    from PIL import Image

    height, width = image.shape[:2]
    ratio = side / max(height, width)
    if ratio >= 1:
        return image
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    # Area average: antialiased like Lanczos, and 2.5× faster on a 24 MP photo (0.13 s against 0.31 s).
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))


def left_to_right(boxes: list[Box]) -> list[Box]:
    """Boxes ordered by their centre's x: the order `number` counts in."""
    return sorted(boxes, key=lambda box: box.centre[0])


def choose(boxes: list[Box], number: int | None = None, name: str = "source", what: str = "face") -> Box:
    """The largest box, or the `number`-th from the left (counting from 1); errors name the file `name`."""
    if not boxes:
        raise InputError(f"{name}: no {what} found; use --crop none, or give the box as --crop X,Y,W,H")
    if number is None:
        return max(boxes, key=lambda box: box.area)
    if not 1 <= number <= len(boxes):
        raise InputError(f"{name}: {what} {number} asked for, but {len(boxes)} found (numbered 1 to {len(boxes)} "
                         "from the left)")
    return left_to_right(boxes)[number - 1]

"""Finding the object to crop: a detector is any callable (H, W, 3) uint8 RGB -> list[Box] in that image's pixels.

Faces use dlib's HOG detector from `dlib-bin`, which ships inside the wheel (no model file, no network). A body
detector, MediaPipe Pose from the metrics extra (its 0.10.21 wheel ships the model), has the same signature.
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



# Bodies: MediaPipe Pose through the metrics' BodyPose (evaluate/detectors.py), so one loaded model serves both.
BODY_INSTALL = "bash scripts/install_metrics.sh (it installs mediapipe 0.10.21, whose wheel ships the pose model)"
VISIBLE = 0.5  # MediaPipe's own drawing threshold and the metrics' MKR rule; below it a point is a guess
EARS, SHOULDERS = [7, 8], [11, 12]  # MediaPipe's landmark indices
# The square crop grows BodyDetector's box by this (already the person plus 10% of its length each way). TaiChiHD's
# own 256² crops are 0.91–0.98 of that box (median 0.94 over 3 stills and 74 frames of bodies/taichi_lia_*);
# 1.0 is a little looser than the loosest, as one driving box must hold a whole shot's motion.
BODY_SCALE = 1.0


class _QuietPose:
    """BodyPose with MediaPipe's C++ start-up lines kept off stderr. It logs them once per model (TFLite's XNNPACK
    line and two absl warnings on the first call, one more on the first call that finds a person), and no
    environment variable turns them off; so file descriptor 2 is silenced until both have happened."""

    def __init__(self, pose):
        self.pose, self.quiet = pose, True

    def __call__(self, image: np.ndarray):
        if not self.quiet:
            return self.pose(image)
        from ..evaluate.detectors import quiet_stderr

        with quiet_stderr():
            found = self.pose(image)
        self.quiet = found is None
        return found


@functools.cache
def _pose() -> _QuietPose:
    from ..evaluate.detectors import BodyPose, MissingExtraError, shared

    try:
        return _QuietPose(shared(BodyPose))
    except MissingExtraError:
        raise InputError(f"body detection needs mediapipe, which is not installed: {BODY_INSTALL}") from None


@dataclass(frozen=True)
class BodyDetector:
    """MediaPipe Pose (one person or none) on a copy at most `side` pixels long. The box bounds the landmarks with
    visibility above VISIBLE, raised to the crown of the head, grown by `margin` of its long side on every side."""

    # Pose resizes inside (224² to detect, a 256² crop for landmarks): 33 ms a frame at 720p and at 24 MP alike,
    # while shrinking 24 MP first costs 170 ms more. So only photos past 4K are shrunk, to bound MediaPipe's copy.
    side: int = 4096
    margin: float = 0.1  # loose sleeves, fingers and toes reach past the elbow, index-finger and toe points

    def __call__(self, image: np.ndarray) -> list[Box]:
        height, width = image.shape[:2]
        small = shrunk(image, self.side)
        found = _pose()(small)
        if found is None or (found.visibility > VISIBLE).sum() < 2:  # one point seen has no extent to box
            return []
        box = self.around(found.points, found.visibility)
        return [box.mapped(width / small.shape[1], height / small.shape[0])]

    def around(self, points: np.ndarray, visibility: np.ndarray) -> Box:
        """(33, 2) landmarks (x, y) in pixels and their (33,) visibility -> the person's box in those pixels."""
        seen = points[visibility > VISIBLE]
        (left, top), (right, bottom) = seen.min(axis=0).tolist(), seen.max(axis=0).tolist()
        if (visibility[EARS + SHOULDERS] > VISIBLE).all():  # the crown: 0.6 ear-to-shoulder drop above the ears
            ears, shoulders = points[EARS, 1].mean(), points[SHOULDERS, 1].mean()
            top = min(top, float(ears - 0.6 * abs(shoulders - ears)))
        pad = self.margin * max(bottom - top, right - left)  # the body's length, standing or lying
        return Box(left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad)


# Driving frames: 33–47 ms a 720p frame (16 ms where nobody is found) on 2 shared EPYC cores, the stills' setting,
# as nothing cheaper works offline: a smaller `side` only adds the shrink (37–41 ms at 256–640 px, against 33),
# the lite model downloads, and tracking mode (21 ms) ties each frame to the one before. Detect every few frames
# instead where that is measured to be enough.
DRIVING_BODIES = BodyDetector()

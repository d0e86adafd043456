"""Several people with a one-person detector: MediaPipe Pose finds one body per call, and only where it fills a
good part of the picture. Three ways around that, all built on any one-object `Detector`:

- `find_all` (stills, and a video's first frame): detect, paint the found box over, detect again, until nothing
  more is found; then look in overlapping square windows, which find people too small for the whole picture.
- `Tracker` (driving frames): after the first frame, each person is looked for in a window around their last box,
  one call per person, so the one chosen in the first frame is followed even where others are larger; when every
  track is lost, the whole frame is searched again.

Measured with MediaPipe on a 1600×1200 picture: a 256-pixel person (21% of its height) is missed on the whole
picture and on 1200² windows, and found on 600² windows (half the short side); a person found and painted over
leaves the next call free to find another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .crop import Box
from .detect import Detector

MOST = 8  # people looked for in one picture: beyond a small group, the largest few are the ones anyone animates
WINDOWS = (2, 3)  # window sides as fractions of the short side: 1/2, then 1/3 only where nothing was found
SAME = 0.3  # IoU above which two boxes are one person (found twice: whole picture and a window, or two windows)
NEAR = 1.6  # a track's window: its last box grown by this, squared (room for a step between frames)


def find_all(image: np.ndarray, detector: Detector, most: int = MOST) -> list[Box]:
    """(H, W, 3) uint8 -> every person's box (up to `most`): whole picture with found people painted over, then
    windows of half (and, where that found none, a third of) the short side."""
    found = _repeated(image, detector, most)
    for parts in WINDOWS:
        if len(found) >= most or (found and parts > WINDOWS[0]):
            break
        found += _in_windows(_painted(image, found), detector, parts, found, most - len(found))
    return found


def _repeated(image: np.ndarray, detector: Detector, most: int) -> list[Box]:
    found: list[Box] = []
    while len(found) < most:
        new = [box for box in detector(_painted(image, found)) if not _known(box, found)]
        if not new:
            return found
        found += new
    return found


def _in_windows(image: np.ndarray, detector: Detector, parts: int, known: list[Box], most: int) -> list[Box]:
    """Square windows of 1/`parts` of the short side, overlapping by half, each searched once. A person cut by a
    window's edge is found whole by a neighbouring window, so whole finds are taken before cut ones."""
    height, width = image.shape[:2]
    side = min(height, width) // parts
    if side < 64:  # MediaPipe's own input is 224²: smaller windows only upsample
        return []
    candidates = []  # (cut by an edge, -area, box)
    for top in _starts(height, side):
        for left in _starts(width, side):
            for box in detector(image[top:top + side, left:left + side]):
                cut = _cut(box, left, top, side, image.shape)
                box = Box(box.x + left, box.y + top, box.w, box.h)
                candidates.append((cut, -box.area, box))
    found: list[Box] = []
    for _, _, box in sorted(candidates, key=lambda item: item[:2]):
        if not _known(box, known + found) and len(found) < most:
            found.append(box)
    return found


def _cut(box: Box, left: int, top: int, side: int, shape: tuple[int, ...]) -> bool:
    """Whether `box` (window pixels) touches an edge of the window that is not an edge of the picture."""
    height, width = shape[:2]
    edge = 2
    return ((box.x <= edge and left > 0) or (box.y <= edge and top > 0)
            or (box.x + box.w >= side - edge and left + side < width)
            or (box.y + box.h >= side - edge and top + side < height))


def _starts(length: int, side: int) -> list[int]:
    """Window starts every side/2 that cover [0, length), the last one flush with the end."""
    starts = list(range(0, max(length - side, 0) + 1, max(side // 2, 1)))
    return starts if starts[-1] + side >= length else starts + [length - side]


def _painted(image: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """The image with each box filled by the picture's median colour: a flat patch a pose model sees nobody in."""
    if not boxes:
        return image
    out = image.copy()
    fill = np.median(image.reshape(-1, image.shape[-1])[:: max(1, image.size // 300000)], axis=0)
    for box in boxes:
        left, top, right, bottom = _pixels(box, image.shape)
        out[top:bottom, left:right] = fill.astype(image.dtype)
    return out


def _pixels(box: Box, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The box's pixel bounds clipped to an image of `shape`: (left, top, right, bottom)."""
    height, width = shape[:2]
    left, top = min(max(int(box.x), 0), width), min(max(int(box.y), 0), height)
    right, bottom = min(max(int(np.ceil(box.x + box.w)), 0), width), min(max(int(np.ceil(box.y + box.h)), 0), height)
    return left, top, right, bottom


def _known(box: Box, boxes: list[Box]) -> bool:
    return any(box.iou(other) > SAME for other in boxes)


@dataclass
class Tracker:
    """A stateful `Detector` for consecutive frames: every tracked person looked for near their last box (one call
    each); the whole frame (`find_all`) on the first frame and when every track is lost. Where that finds nobody,
    the next `idle` frames get only the one whole-picture call, as a clip without anyone must not cost dozens of
    window calls a frame."""

    detector: Detector
    most: int = 4  # people followed at once: each costs one detector call a frame
    idle: int = 25  # frames between window searches while nobody is found (~1 s of video; each costs ~1.5 s)
    tracks: list[Box] = field(default_factory=list)
    since_search: int | None = None  # frames since a window search found nobody (None: it found someone)

    def __call__(self, frame: np.ndarray) -> list[Box]:
        found: list[Box] = []
        for box in (self._near(frame, box) for box in self.tracks):
            if box is not None and not _known(box, found):
                found.append(box)
        if found:
            self.since_search = None
        else:
            found = self._search(frame)
        self.tracks = found
        return list(found)

    def _search(self, frame: np.ndarray) -> list[Box]:
        if self.since_search is not None and self.since_search < self.idle:
            self.since_search += 1
            return _repeated(frame, self.detector, self.most)
        found = find_all(frame, self.detector, self.most)
        self.since_search = None if found else 0
        return found

    def _near(self, frame: np.ndarray, last: Box) -> Box | None:
        """The person in a window around `last` (clamped into the frame), or None (nobody, or someone who does not
        overlap `last`: another person next to the one followed)."""
        height, width = frame.shape[:2]
        side = int(min(max(last.w, last.h) * NEAR, height, width))
        cx, cy = last.centre
        left = int(min(max(cx - side / 2, 0), width - side))
        top = int(min(max(cy - side / 2, 0), height - side))
        boxes = self.detector(frame[top:top + side, left:left + side])
        moved = [Box(box.x + left, box.y + top, box.w, box.h) for box in boxes]
        best = max(moved, key=last.iou, default=None)
        return best if best is not None and last.iou(best) > 0 else None

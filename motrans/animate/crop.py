"""Boxes on the source, the square crop the model sees, and pasting the animated crop back.

A box is (x, y, w, h) in source pixels, floats allowed. `crop` reads the box's pixels and resizes them to the model
size; where the box leaves the image the border is edge-replicated rather than the box shifted, so the object stays
centred. Edge replication (not black) because it is what `fit(..., "pad")` does, and a black bar is a hard edge that
keypoint detectors trained on VoxCeleb/TaiChi never saw; paste-back throws those pixels away anyway.

`paste_back` composites a model-size crop into the full-resolution source with a feathered square mask that lies
inside the box, so every source pixel outside the box is unchanged, byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data.image import resize
from ..errors import InputError


@dataclass(frozen=True)
class Box:
    x: float  # left edge, source pixels
    y: float  # top edge
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def area(self) -> float:
        return self.w * self.h

    def scaled(self, factor: float) -> Box:
        """Grown (factor > 1) or shrunk about its centre."""
        cx, cy = self.centre
        w, h = self.w * factor, self.h * factor
        return Box(cx - w / 2, cy - h / 2, w, h)

    def squared(self) -> Box:
        """A square of the larger side, same centre."""
        cx, cy = self.centre
        side = max(self.w, self.h)
        return Box(cx - side / 2, cy - side / 2, side, side)

    def mapped(self, sx: float, sy: float) -> Box:
        """The same box in an image resized by (sx, sy) along (x, y)."""
        return Box(self.x * sx, self.y * sy, self.w * sx, self.h * sy)

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        right, bottom = max(self.x + self.w, other.x + other.w), max(self.y + self.h, other.y + other.h)
        return Box(x, y, right - x, bottom - y)

    def iou(self, other: Box) -> float:
        w = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        h = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        inter = max(w, 0.0) * max(h, 0.0)
        return inter / (self.area + other.area - inter)

    def bounds(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) whole pixels, right/bottom exclusive; at least one pixel each way."""
        left, top = round(self.x), round(self.y)
        return left, top, max(round(self.x + self.w), left + 1), max(round(self.y + self.h), top + 1)


def parse_box(text: str, height: int, width: int, name: str = "box") -> Box:
    """"X,Y,W,H" in pixels of a (height, width) image -> Box; `name` (the file) starts every error."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InputError(f"{name}: box {text!r} is not X,Y,W,H in pixels (e.g. 100,50,400,400)")
    box = Box(*values)
    if box.w <= 0 or box.h <= 0:
        raise InputError(f"{name}: box {text!r} has a zero or negative width or height")
    if box.x >= width or box.y >= height or box.x + box.w <= 0 or box.y + box.h <= 0:
        raise InputError(f"{name}: box {text!r} lies entirely outside the {width}x{height} image")
    return box


def crop(image: np.ndarray, box: Box, size: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8: the box's pixels, edge-replicated where it leaves the image."""
    height, width = image.shape[:2]
    left, top, right, bottom = box.bounds()
    x0, x1 = _visible(left, right, width)
    y0, y1 = _visible(top, bottom, height)
    if (x0, y0, x1, y1) == (left, top, right, bottom):
        return resize(np.ascontiguousarray(image[top:bottom, left:right]), (size, size))
    # The visible part goes to its footprint in the output and the rest is edge-replicated there, at the output's
    # resolution: memory stays O(image + size²) however far the box reaches.
    ox0, ox1 = _footprint(x0 - left, x1 - left, size / (right - left), size)
    oy0, oy1 = _footprint(y0 - top, y1 - top, size / (bottom - top), size)
    part = resize(np.ascontiguousarray(image[y0:y1, x0:x1]), (oy1 - oy0, ox1 - ox0))
    return np.pad(part, ((oy0, size - oy1), (ox0, size - ox1), (0, 0)), mode="edge")


def _visible(start: int, end: int, length: int) -> tuple[int, int]:
    """The part of [start, end) inside [0, length); at least the nearest pixel, so a box outside gets the edge."""
    first = min(max(start, 0), length - 1)
    return first, max(min(end, length), first + 1)


def _footprint(start: int, end: int, scale: float, size: int) -> tuple[int, int]:
    """[start, end) box pixels -> output pixels, at least one; a box wholly outside lands on its nearest edge."""
    first = min(max(round(start * scale), 0), size - 1)
    return first, min(max(round(end * scale), first + 1), size)


@dataclass(frozen=True)
class PasteOptions:
    max_side: int = 4096  # a larger output is scaled down whole
    feather: float = 0.05  # soft edge, a fraction of the box side: hides the seam without blurring the face


@dataclass(frozen=True)
class Canvas:
    """The source at output size and where crops go in it; built once, then `paste_back` per frame."""

    background: np.ndarray  # (H', W', 3) uint8, even sides for H.264
    window: tuple[int, int, int, int]  # (x0, y0, x1, y1): the part of the box inside the background
    fraction: tuple[float, float, float, float]  # the same part as fractions of the box, (x0, y0, x1, y1) in [0, 1]
    mask: np.ndarray  # (y1 - y0, x1 - x0, 1) float32 over the window: 1 inside, ramping to 0 at the box edge
    scale: float  # output / source side: below 1 only where max_side shrank the output
    inner: tuple[int, int, int, int] = (0, 0, 0, 0)  # (x0, y0, x1, y1) in the window where the mask is exactly 1


def canvas(source: np.ndarray, box: Box, options: PasteOptions = PasteOptions()) -> Canvas:
    """(H, W, 3) uint8 source and its crop box -> the Canvas; the source is resized at most once, here."""
    height, width = source.shape[:2]
    shrink = min(1.0, options.max_side / max(height, width))
    if shrink < 1.0:
        out_h, out_w = _even(round(height * shrink)), _even(round(width * shrink))
        background = resize(source, (out_h, out_w))
        box = box.mapped(out_w / width, out_h / height)
    else:
        background = _even_sides(source)
    left, top, right, bottom = box.bounds()
    w, h = right - left, bottom - top
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = max(min(right, background.shape[1]), x0), max(min(bottom, background.shape[0]), y0)
    feather = options.feather * min(w, h)
    mask = _ramp(np.arange(y0, y1) - top, h, feather)[:, None] * _ramp(np.arange(x0, x1) - left, w, feather)
    fraction = ((x0 - left) / w, (y0 - top) / h, (x1 - left) / w, (y1 - top) / h)
    mask = mask[..., None].astype(np.float32)
    return Canvas(background, (x0, y0, x1, y1), fraction, mask, shrink, _ones(mask[..., 0]))


def _ones(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(h, w) product of a row ramp and a column ramp -> the (x0, y0, x1, y1) rectangle where it is exactly 1
    ((0, 0, 0, 0) where it is nowhere): the rows and the columns whose ramp is 1, each one contiguous run."""
    rows, cols = np.flatnonzero((mask == 1).any(axis=1)), np.flatnonzero((mask == 1).any(axis=0))
    if rows.size == 0:
        return 0, 0, 0, 0
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def paste_back(target: Canvas, animated: np.ndarray) -> np.ndarray:
    """(s, s, 3) uint8 model-size crop -> (H', W', 3) uint8 frame; outside the box it is the background itself."""
    out = target.background.copy()
    x0, y0, x1, y1 = target.window
    if x0 == x1 or y0 == y1:
        return out
    s_h, s_w = animated.shape[:2]
    fx0, fy0, fx1, fy1 = target.fraction
    patch = _resize_window(animated, (y1 - y0, x1 - x0), (fx0 * s_w, fy0 * s_h, fx1 * s_w, fy1 * s_h))
    region = out[y0:y1, x0:x1]
    ix0, iy0, ix1, iy1 = target.inner
    # Where the mask is 1 the blend is the patch itself: copied, and only the feathered band is blended (a fifth
    # of a large box's pixels), with the same arithmetic as blending everything.
    for rows, cols in _band(region.shape[:2], target.inner):
        under = region[rows, cols].astype(np.float32)
        mask = target.mask[rows, cols]
        region[rows, cols] = np.rint(under * (1 - mask) + patch[rows, cols] * mask).astype(np.uint8)
    region[iy0:iy1, ix0:ix1] = patch[iy0:iy1, ix0:ix1]
    return out


def _band(shape: tuple[int, int], inner: tuple[int, int, int, int]) -> list[tuple[slice, slice]]:
    """The window of `shape` (h, w) less the `inner` rectangle, as four strips: above, below, left, right."""
    h, w = shape
    ix0, iy0, ix1, iy1 = inner
    if ix0 >= ix1 or iy0 >= iy1:
        return [(slice(0, h), slice(0, w))]
    return [(slice(0, iy0), slice(0, w)), (slice(iy1, h), slice(0, w)),
            (slice(iy0, iy1), slice(0, ix0)), (slice(iy0, iy1), slice(ix1, w))]


def _resize_window(image: np.ndarray, size: tuple[int, int], window: tuple[float, ...]) -> np.ndarray:
    """The `window` (x0, y0, x1, y1) of `image`, resized to `size` (h, w) as `resize` would: uint8."""
    from PIL import Image

    shrinking = size[0] < window[3] - window[1] or size[1] < window[2] - window[0]
    method = Image.Resampling.LANCZOS if shrinking else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), method, box=window))


def _ramp(positions: np.ndarray, n: int, feather: float) -> np.ndarray:
    """Weights at pixel `positions` of a box n pixels long: 1 in the middle, 0 at its edges over `feather` pixels."""
    if feather <= 0:
        return np.ones(len(positions))
    centres = positions + 0.5
    return np.clip(np.minimum(centres, n - centres) / feather, 0.0, 1.0)


def _even(side: int) -> int:
    return max(2, side - side % 2)


def _even_sides(image: np.ndarray) -> np.ndarray:
    """Odd sides lose their last row/column; a 1-pixel side is edge-replicated to 2 (H.264 needs even sides)."""
    height, width = image.shape[:2]
    if height == 1 or width == 1:
        image = np.pad(image, ((0, int(height == 1)), (0, int(width == 1)), (0, 0)), mode="edge")
        height, width = image.shape[:2]
    return image[: height - height % 2, : width - width % 2]

"""Pillow drawing for the explain panels: a colormap, heat overlays, keypoints, ellipses, warp grids, titles.

Coordinates are the model's (x, y) in [-1, 1] at pixel centres; a panel is an RGB uint8 (S, S, 3) array.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ..train.logging import PALETTE

# A dark-to-bright ramp (black, purple, red, orange, pale yellow), perceptually about monotone like "inferno".
RAMP = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float32)
TITLE = 12  # pixels of caption strip above every panel


def colormap(values: np.ndarray) -> np.ndarray:
    """(h, w) in [0, 1] -> (h, w, 3) uint8 along RAMP."""
    position = np.clip(values, 0, 1) * (len(RAMP) - 1)
    low = np.minimum(position.astype(int), len(RAMP) - 2)
    t = (position - low)[..., None]
    return (RAMP[low] * (1 - t) + RAMP[low + 1] * t).round().astype(np.uint8)


def scaled(values: np.ndarray) -> np.ndarray:
    """Divides by the maximum (a map of zeros stays zeros), so the colormap spans each panel."""
    top = float(values.max())
    return values / top if top > 0 else values


def resized(image: np.ndarray, size: int, smooth: bool = True) -> np.ndarray:
    """(h, w) float or (h, w, 3) uint8 -> size × size, bilinear or nearest (for cells that must stay cells)."""
    resample = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    if image.ndim == 2:  # float32 opens as Pillow's mode "F"
        return np.asarray(Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize((size, size), resample))
    return np.asarray(Image.fromarray(image).resize((size, size), resample))


def heat(values: np.ndarray, size: int, smooth: bool = True) -> np.ndarray:
    """(h, w) non-negative map -> (size, size, 3) colours, scaled to its maximum."""
    return colormap(scaled(resized(values, size, smooth)))


def gray(values: np.ndarray, size: int) -> np.ndarray:
    """(h, w) in [0, 1], not rescaled (black 0, white 1) -> (size, size, 3) uint8."""
    level = (np.clip(resized(values, size), 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(level[..., None], 3, axis=2)


def overlay(image: np.ndarray, values: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """A (h, w) map, scaled to its maximum and upsampled, over the (S, S, 3) image: alpha grows with the value."""
    size = image.shape[0]
    v = scaled(resized(values, size))[..., None]
    mixed = image * (1 - alpha * v) + colormap(v[..., 0]) * (alpha * v)
    return mixed.round().clip(0, 255).astype(np.uint8)


def _pixel(point, size: int) -> tuple[float, float]:
    return (float(point[0]) + 1) / 2 * (size - 1), (float(point[1]) + 1) / 2 * (size - 1)


def colour(index: int) -> tuple[int, int, int]:
    return tuple(int(c) for c in PALETTE[index % len(PALETTE)])


def points(image: np.ndarray, kp: np.ndarray, colours: list[int] | None = None, radius: int = 3) -> np.ndarray:
    """Discs at kp (P, 2), point i in colour colours[i] (default i), outlined in black."""
    canvas = Image.fromarray(image.copy())
    draw = ImageDraw.Draw(canvas)
    for i, point in enumerate(kp):
        x, y = _pixel(point, image.shape[0])
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour(colours[i] if colours else i),
                     outline=(0, 0, 0))
    return np.asarray(canvas)


def ellipse(image: np.ndarray, centre: np.ndarray, axes: np.ndarray, index: int, scale: float = 1.0) -> np.ndarray:
    """The image of a circle of radius `scale` under the affine `axes` (2, 2), about `centre`: an outline."""
    angles = np.linspace(0, 2 * np.pi, 49)
    circle = np.stack([np.cos(angles), np.sin(angles)]) * scale  # (2, 49)
    outline = (np.asarray(axes, dtype=np.float64) @ circle).T + np.asarray(centre)
    return polyline(image, outline, colour(index))


def polyline(image: np.ndarray, line: np.ndarray, fill: tuple[int, int, int], width: int = 1) -> np.ndarray:
    canvas = Image.fromarray(image.copy())
    size = image.shape[0]
    ImageDraw.Draw(canvas).line([_pixel(p, size) for p in line], fill=fill, width=width)
    return np.asarray(canvas)


def grid_lines(image: np.ndarray, grid: np.ndarray, index: int) -> np.ndarray:
    """A warped (g, g, 2) grid drawn as its rows and columns."""
    for line in [*grid, *grid.transpose(1, 0, 2)]:
        image = polyline(image, line, colour(index))
    return image


def titled(panel: np.ndarray, title: str) -> np.ndarray:
    """The panel under a white strip with `title` in Pillow's default font (cut to fit)."""
    size = panel.shape[1]
    strip = Image.new("RGB", (size, TITLE), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    while title and draw.textlength(title) > size - 2:
        title = title[:-1]
    draw.text((1, 0), title, fill=(0, 0, 0))
    return np.concatenate([np.asarray(strip), panel], axis=0)

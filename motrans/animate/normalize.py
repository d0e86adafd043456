"""Motion transfer between identities, as the authors' demo does it (FOMM's `normalize_kp`).

relative: t = t_S + (t_Z − t_Z0)·scale and A = (A_Z·A_Z0⁻¹)·A_S, where Z0 is the first (or best) driving frame;
absolute: the driving motion as is; avd: the method's AVD network given the source and driving motions (MRAA,
TPSMM). `scale` is 1, or with adapt-scale sqrt(area(hull(t_S)) / area(hull(t_Z0))), which the authors apply in
relative mode only (FOMM on request, MRAA and TPSMM always). What the relative rule does not name (MRAA's region
covariance) is the driving frame's, as in MRAA's `get_animation_region_params`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from ..models.motion import Motion

MODES = ("relative", "absolute", "avd")


def hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of (K, 2) points, in float64 (Andrew's monotone chain + shoelace)."""
    pts = sorted(map(tuple, np.asarray(points, dtype=np.float64)))
    if len(pts) < 3:
        return 0.0

    def half(seq):
        chain: list[tuple[float, float]] = []
        for p in seq:
            while len(chain) >= 2 and _cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain[:-1]

    hull = half(pts) + half(reversed(pts))
    xs, ys = np.array([p[0] for p in hull]), np.array([p[1] for p in hull])
    return 0.5 * abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))


def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def movement_scale(source: Motion, initial: Motion) -> float:
    """sqrt(area(source hull)) / sqrt(area(initial driving hull)), from the first item of the batch."""
    source_area, driving_area = hull_area(source.kp[0].cpu().numpy()), hull_area(initial.kp[0].cpu().numpy())
    if driving_area == 0.0:
        return 1.0
    return math.sqrt(source_area) / math.sqrt(driving_area)


def transfer(source: Motion, driving: Motion, initial: Motion, mode: str = "relative", scale: float = 1.0,
             relative_jacobian: bool = True) -> Motion:
    """The motion to give the generator for each driving frame. source and initial (1, K, ...), driving (B, K, ...)."""
    if mode == "absolute":
        return driving
    kp = (driving.kp - initial.kp) * scale + source.kp
    jacobian = driving.jacobian
    if relative_jacobian and driving.jacobian is not None:
        change = torch.matmul(driving.jacobian, torch.inverse(initial.jacobian))
        jacobian = torch.matmul(change, source.jacobian)
    return replace(driving, kp=kp, jacobian=jacobian)

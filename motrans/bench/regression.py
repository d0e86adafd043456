"""Keypoints to true joints by linear regression, as unsupervised-keypoint papers read their keypoints.

A model's K keypoints (any K; TPSMM's 5·K control points) are mapped to the J true joints by one affine map fitted
by least squares on training frames; the error on held-out frames says how much of the pose the keypoints carry. The
same fit on no keypoints at all (the bias alone: the mean pose) is the chance level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIDGE = 1e-6  # relative to the mean squared feature: keeps a fit on collapsed (identical) keypoints solvable


@dataclass(frozen=True)
class LinearMap:
    weights: np.ndarray  # (2·K + 1, 2·J): flattened keypoints and a 1 -> flattened joints

    def __call__(self, keypoints: np.ndarray) -> np.ndarray:
        """(N, K, 2) keypoints -> (N, J, 2) joints."""
        return (_design(keypoints) @ self.weights).reshape(len(keypoints), -1, 2)


def _design(keypoints: np.ndarray) -> np.ndarray:
    """(N, K, 2) -> (N, 2·K + 1): the coordinates and a constant column."""
    flat = np.asarray(keypoints, dtype=np.float64).reshape(len(keypoints), -1)
    return np.concatenate([flat, np.ones((len(flat), 1))], axis=1)


def fit_linear(keypoints: np.ndarray, joints: np.ndarray) -> LinearMap:
    """Least squares (lightly ridged, bias unpenalised) from (N, K, 2) keypoints to (N, J, 2) joints."""
    x = _design(keypoints)
    y = np.asarray(joints, dtype=np.float64).reshape(len(joints), -1)
    gram = x.T @ x
    penalty = RIDGE * max(np.trace(gram) / len(gram), 1e-12) * np.eye(len(gram))
    penalty[-1, -1] = 0.0
    return LinearMap(np.linalg.solve(gram + penalty, x.T @ y))


def chance_map(joints: np.ndarray) -> LinearMap:
    """The mean pose whatever the image: the fit on zero keypoints."""
    return fit_linear(np.zeros((len(joints), 0, 2)), joints)


def pixel_error(predicted: np.ndarray, true: np.ndarray, size: int) -> float:
    """Mean Euclidean distance in pixels of an S×S frame between (N, J, 2) points in [-1, 1]."""
    return float(np.linalg.norm((np.asarray(predicted) - np.asarray(true)) * (size - 1) / 2, axis=-1).mean())

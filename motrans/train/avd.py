"""The second training stage of MRAA and TPSMM: animation via disentanglement (`motrans train --stage avd`).

Everything but the AVD network is frozen. For a pair of frames of one video, the AVD network is given the source's
motion as identity and the driving frame's motion stretched by a random per-axis scale in [1 − s, 1 + s] as pose,
and must return the driving frame's true motion: an L1 loss on the keypoints (shifts) and, where the method has
them, the affines. The stretch teaches it to take the shape from the identity and only the pose from the driver.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import AVDTrainConfig
from ..models import AnimationModel, Motion


def random_stretch(motion: Motion, uniform: Tensor, scale: float) -> Motion:
    """(B, K, ...) motion with kp and affines multiplied on the left by diag(s_x, s_y), s = 1 − scale + 2·scale·u.

    uniform: (B, 2) draws in [0, 1).
    """
    factors = uniform.to(motion.kp) * (2 * scale) + (1 - scale)
    stretch = torch.diag_embed(factors).unsqueeze(1)  # (B, 1, 2, 2)
    kp = torch.matmul(stretch, motion.kp.unsqueeze(-1)).squeeze(-1)
    jacobian = torch.matmul(stretch, motion.jacobian) if motion.jacobian is not None else None
    return Motion(kp, jacobian)


class AVDObjective(nn.Module):
    """source, driving (B, C, H, W) -> the unweighted terms {"avd_shift", ["avd_affine"]}."""

    def __init__(self, model: AnimationModel, config: AVDTrainConfig):
        super().__init__()
        self.model, self.config = model, config

    def forward(self, source: Tensor, driving: Tensor, uniform: Tensor) -> dict[str, Tensor]:
        """uniform (B, 2) in [0, 1): the per-axis stretch of each pair's pose."""
        with torch.no_grad():
            identity, truth = self.model.estimator(source), self.model.estimator(driving)
            pose = random_stretch(truth, uniform, self.config.random_scale)
        predicted = self.model.avd(identity, pose)
        terms = {"avd_shift": torch.abs(truth.kp - predicted.kp).mean()}
        if truth.jacobian is not None:
            terms["avd_affine"] = torch.abs(truth.jacobian - predicted.jacobian).mean()
        return terms

    def total(self, terms: dict[str, Tensor]) -> Tensor:
        return self.config.lambda_shift * terms["avd_shift"] + self.config.lambda_affine * terms.get("avd_affine", 0)

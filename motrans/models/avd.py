"""Animation via disentanglement (MRAA `peers.md` §2.1, §2.3; TPSMM §3.1): the source's shape, the driving pose.

Each frame's K regions are flattened to a 6·K embedding (shift, then the row-major affine, per region); TPSMM's
5·K control points, which carry no affine, to 2·5·K. An identity MLP encodes the source's, a pose MLP the driving
frame's, and a decoder maps both codes back. It is absolute: no initial driving frame. Its BatchNorm1d layers need
`eval()` for a batch of one.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import AVDConfig
from .geometry import relative_affine
from .motion import Motion


def mlp(widths: list[int]) -> nn.Sequential:
    """Linear → BN → ReLU between consecutive widths, a plain Linear last (the authors' key numbering)."""
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(cin, cout))
        if i < len(widths) - 2:
            layers += [nn.BatchNorm1d(cout), nn.ReLU()]
    return nn.Sequential(*layers)


def embed(motion: Motion) -> Tensor:
    """Motion -> (B, 6·K): per region (t_x, t_y, A_00, A_01, A_10, A_11); without affines (B, 2·K)."""
    b, k = motion.kp.shape[:2]
    if motion.jacobian is None:
        return motion.kp.reshape(b, -1)
    return torch.cat([motion.kp, motion.jacobian.view(b, k, -1)], dim=-1).view(b, -1)


class AVDNetwork(nn.Module):
    """identity Motion (source), pose Motion (driving), each (B, K, ...) -> the animated Motion (B, K, ...).

    `affine`: MRAA's regions (keypoint and affine each); False for TPSMM's points (num_kp = 5·K of them).
    """

    def __init__(self, config: AVDConfig, num_kp: int, affine: bool = True):
        super().__init__()
        self.num_kp, self.affine = num_kp, affine
        size = (6 if affine else 2) * num_kp
        self.id_encoder = mlp([size, 256, 512, 1024, config.id_bottleneck])
        self.pose_encoder = mlp([size, 256, 512, 1024, config.pose_bottleneck])
        self.decoder = mlp([config.pose_bottleneck + config.id_bottleneck, 1024, 512, 256, size])

    def forward(self, identity: Motion, pose: Motion) -> Motion:
        if self.affine:
            # The source affine takes the sign that undoes an SVD axis flip against the driving one, as in the flow.
            sign = torch.sign(relative_affine(identity.jacobian, pose.jacobian)[..., 0:1, 0:1])
            identity = Motion(identity.kp, identity.jacobian * sign)
        code = torch.cat([self.pose_encoder(embed(pose)), self.id_encoder(embed(identity))], dim=1)
        regions = self.decoder(code).view(len(code), self.num_kp, -1)
        if not self.affine:
            return Motion(regions)
        affine = regions[:, :, 2:].reshape(len(code), self.num_kp, 2, 2)
        return Motion(regions[:, :, :2], affine, torch.matmul(affine, affine.permute(0, 1, 3, 2)))


def avd_transfer(avd: AVDNetwork, source: Motion, driving: Motion) -> Motion:
    """MRAA's and TPSMM's `--mode avd`: the motion to render for driving frames; source, driving (B, K, ...)."""
    return avd(source, driving)

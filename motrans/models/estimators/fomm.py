"""FOMM's keypoint detector (Siarohin et al., NeurIPS 2019; `peers.md` §1.1): keypoints as heatmap expectations.

image (B, 3, H, W) → anti-aliased to h×w = H/4×W/4 → hourglass (B, 32 + 3, h, w) → 7×7 conv, unpadded:
K heatmaps (B, K, h−6, w−6) → softmax(·/0.1) over each map → kp = Σ_z p(z)·z.
The Jacobian head (4 maps per keypoint, or one shared set) is weighted by the same heatmap: J = Σ_z p(z)·J(z),
starting at the identity. Everything follows the authors' `modules/keypoint_detector.py`, down to the order of
operations, so their released weights give their keypoints.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...config import EstimatorConfig
from ..backbones.hourglass import Hourglass
from ..geometry import coordinate_grid, full_precision
from ..layers import AntiAliasDownsample
from ..motion import Motion

CHANNELS = 3  # RGB, as every released model; the estimator interface carries no channel count


def spatial_softmax(logits: Tensor, temperature: float) -> Tensor:
    """(B, K, h, w) -> (B, K, h, w), each map a probability distribution over its h·w positions."""
    b, k, h, w = logits.shape
    return F.softmax(logits.view(b, k, -1) / temperature, dim=2).view(b, k, h, w)


def expected_position(heatmap: Tensor) -> Tensor:
    """Soft-argmax: (B, K, h, w) probabilities -> (B, K, 2) expected (x, y) on the pixel-centre grid."""
    grid = coordinate_grid(*heatmap.shape[2:], heatmap.dtype, heatmap.device)
    return (heatmap.unsqueeze(-1) * grid).sum(dim=(2, 3))


def heatmap_head(features: int, maps: int, pad: int) -> nn.Conv2d:
    return nn.Conv2d(features, maps, kernel_size=7, padding=pad)


class KeypointDetector(nn.Module):
    """image (B, 3, H, W) in [0, 1] -> Motion(kp (B, K, 2), jacobian (B, K, 2, 2) or None)."""

    def __init__(self, config: EstimatorConfig, num_kp: int, frame_size: tuple[int, int], estimate_jacobian: bool):
        super().__init__()
        c = self.config = config.fomm
        self.num_kp = num_kp
        self.downsample = AntiAliasDownsample(CHANNELS, c.scale) if c.scale != 1 else None
        self.hourglass = Hourglass(c.block_expansion, CHANNELS, c.num_blocks, c.max_features)
        self.heatmap = heatmap_head(self.hourglass.out_features, num_kp, c.pad)
        self.jacobian_maps = 1 if c.single_jacobian_map else num_kp
        self.jacobian = heatmap_head(self.hourglass.out_features, 4 * self.jacobian_maps, c.pad) \
            if estimate_jacobian else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The Jacobian head starts at the identity everywhere (zero weights, bias [1, 0, 0, 1])."""
        if self.jacobian is not None:
            nn.init.zeros_(self.jacobian.weight)
            with torch.no_grad():
                self.jacobian.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0] * self.jacobian_maps))

    def forward(self, image: Tensor) -> Motion:
        x = image if self.downsample is None else self.downsample(image)
        features = self.hourglass(x)  # (B, 32 + 3, h, w); 1.2 GMACs of the 1.28 at 256²
        logits = self.heatmap(features)  # (B, K, h', w')
        jacobian_maps = None if self.jacobian is None else self.jacobian(features)
        with full_precision(logits):
            heatmap = spatial_softmax(logits.float(), self.config.temperature)
            kp = expected_position(heatmap)
            if jacobian_maps is None:
                return Motion(kp)
            return Motion(kp, self.weighted_jacobian(heatmap, jacobian_maps.float()))

    def weighted_jacobian(self, heatmap: Tensor, maps: Tensor) -> Tensor:
        """Σ_z p_k(z)·J_k(z): heatmap (B, K, h', w'), maps (B, 4·maps, h', w') -> (B, K, 2, 2), row-major."""
        b, k, h, w = heatmap.shape
        weighted = heatmap.unsqueeze(2) * maps.reshape(b, self.jacobian_maps, 4, h, w)  # (B, K, 4, h', w')
        return weighted.view(b, k, 4, -1).sum(dim=-1).view(b, k, 2, 2)

"""TPSMM's dense motion (Zhao & Zhang, CVPR 2022, Sec. 3.2-3.3): K thin-plate splines -> deformation, occlusions.

At the h×w motion grid (1/4 of the frame): K TPS transforms, each fitted to 5 keypoint pairs, and the background
(identity, or the BG predictor's affine) warp the source. An InstanceNorm hourglass sees a zero map, the driving −
source Gaussians of the 5·K points and the K+1 warped sources, in that order (`peers.md` Addenda). Its last level
gives K+1 softmax contribution maps (Eq. 6); its last levels and two more UpBlocks give occlusion masks at H/8, H/4,
H/2 and H, one per level of the inpainting generator. Every `grid_sample` uses align_corners=True, as the authors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import DenseMotionConfig
from ..config_bounds import MASKS, upsamplings  # the four occlusion masks, at H/8, H/4, H/2 and H
from . import tps
from .backbones.hourglass import Hourglass
from .dense_motion import MotionGrid, blend_motions, warp_parts
from .geometry import background_motion, coordinate_grid, full_precision, gaussian_heatmaps
from .layers import UpBlock, instance_norm
from .motion import Flow, Motion


class TPSDenseMotion(MotionGrid):
    """source_small (B, C, h, w) + source and driving Motions (kp (B, 5·K, 2)) -> Flow with 4 occlusion masks."""

    def __init__(self, config: DenseMotionConfig, num_kp: int, num_channels: int = 3):
        super().__init__(config, num_kp, num_channels)
        in_features = 1 + num_kp * tps.POINTS + (num_kp + 1) * num_channels  # 84 for K = 10
        self.hourglass = Hourglass(config.block_expansion, in_features, config.num_blocks, config.max_features,
                                   norm=instance_norm)
        levels = self.hourglass.decoder.level_features  # coarse to fine
        self.mask = nn.Conv2d(levels[-1], num_kp + 1, 7, padding=3)  # the contribution maps
        ups = upsamplings(config.scale)
        widths = [levels[-1] // 2**i for i in range(ups + 1)]  # 148 -> 74 -> 37
        self.up_blocks = nn.ModuleList(UpBlock(widths[i], widths[i + 1], norm=instance_norm) for i in range(ups))
        inputs = levels[len(levels) - (MASKS - ups):] + widths[1:]  # the finest decoder levels, then the UpBlocks
        self.occlusion = nn.ModuleList(nn.Conv2d(features, 1, 7, padding=3) for features in inputs)
        # TPS dropout probability (Eq. 7-8), applied in training mode only; the trainer sets it per epoch.
        self.dropout: float | None = None

    def forward(self, source_small: Tensor, source: Motion, driving: Motion, background: Tensor | None = None) -> Flow:
        """source_small (B, C, h, w) from `shrink`; background (B, 3, 3) or None -> Flow (deformation at h×w)."""
        b, _, h, w = source_small.shape
        with full_precision(source_small):
            grid = coordinate_grid(h, w, torch.float32, source_small.device)
            motions = torch.cat([background_motion(grid, b, background), self.tps_motions(grid, source, driving)], 1)
            deformed = warp_parts(source_small.float(), motions, align_corners=True)  # (B, K+1, C, h, w)
            heatmaps = self.heatmaps(source, driving, h, w)
        levels = self.hourglass.levels(torch.cat([heatmaps, deformed.view(b, -1, h, w)], dim=1))
        logits = self.mask(levels[-1])  # (B, K+1, h, w)
        with full_precision(logits):
            dropping = self.training and self.dropout is not None
            mask = dropout_softmax(logits.float(), self.dropout) if dropping else F.softmax(logits.float(), dim=1)
            deformation = blend_motions(motions, mask)  # Eq. (6)
        occlusions = [o.float() for o in self.occlusions(levels)]
        return Flow(deformation, mask, logits, deformed, occlusions[-1], occlusions, align_corners=True)

    def tps_motions(self, grid: Tensor, source: Motion, driving: Motion) -> Tensor:
        """grid (h, w, 2) -> (B, K, h, w, 2): where each driving grid point lies in the source, per transform."""
        b = len(driving.kp)
        control = driving.kp.float().view(b, self.num_kp, tps.POINTS, 2)
        affine, weights = tps.fit(control, source.kp.float().view(b, self.num_kp, tps.POINTS, 2))
        return tps.transform(grid.view(-1, 2), control, affine, weights).view(b, self.num_kp, *grid.shape)

    def heatmaps(self, source: Motion, driving: Motion, h: int, w: int) -> Tensor:
        """A zero map, then driving − source Gaussians of every control point: (B, 1 + 5·K, h, w)."""
        variance = self.config.kp_variance
        driving_maps = gaussian_heatmaps(driving.kp.float(), h, w, variance)
        maps = driving_maps - gaussian_heatmaps(source.kp.float(), h, w, variance)
        return torch.cat([torch.zeros_like(maps[:, :1]), maps], dim=1)

    def occlusions(self, levels: list[Tensor]) -> list[Tensor]:
        """The decoder levels (coarse to fine) -> MASKS sigmoid masks (B, 1, ·, ·) at H/8, ..., H."""
        inputs = levels[len(levels) - (MASKS - len(self.up_blocks)):]
        out = levels[-1]
        for block in self.up_blocks:
            out = block(out)
            inputs.append(out)
        return [torch.sigmoid(conv(x)) for conv, x in zip(self.occlusion, inputs)]


def dropout_softmax(logits: Tensor, p: float) -> Tensor:
    """TPS dropout (Eq. 7-8): softmax over (B, K+1, h, w) with each transform's map dropped with probability p.

    One draw per sample and transform, on the CPU as the authors draw it; the background is never dropped. The
    authors meant to rescale the kept logits by 1/(1 − p), but divide them after they are exponentiated, so the
    rescale changes nothing: it is left out here to the same effect. Their +1e-6 in the denominator is kept.
    """
    b, parts = logits.shape[:2]
    keep = (torch.rand(b, parts) < 1 - p).to(logits.device)
    keep[:, 0] = True
    exp = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
    exp = exp.masked_fill(~keep[:, :, None, None], 0.0)
    return exp / (exp.sum(dim=1, keepdim=True) + 1e-6)

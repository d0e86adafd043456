"""What flows between the boxes of Figure 1, and the shape vocabulary used everywhere.

Glossary
    B  batch            T  frames            K  motion parts (keypoints)    C  image channels (3)
    H×W  image size     h×w  motion grid (H×W times `dense_motion.scale`)
    N  image tokens     D  transformer width
Coordinates are (x, y) in [-1, 1] at pixel centres, x along the width (the FOMM convention).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class Motion:
    """What a motion estimator says about one image: K parts, each a keypoint and a local affine."""

    kp: Tensor  # (B, K, 2), (x, y) in [-1, 1]; TPSMM: (B, 5·K, 2), K transforms × 5 control points
    jacobian: Tensor | None = None  # (B, K, 2, 2), the affine A_k; None for methods without one
    covariance: Tensor | None = None  # (B, K, 2, 2): MRAA's region covariance, which shapes its heatmaps

    def detach(self) -> "Motion":
        return Motion(*(None if t is None else t.detach() for t in (self.kp, self.jacobian, self.covariance)))

    def __getitem__(self, index) -> "Motion":
        return Motion(*(None if t is None else t[index] for t in (self.kp, self.jacobian, self.covariance)))


@dataclass
class Flow:
    """Dense motion from the driving frame back to the source (Eq. 2), at the h×w motion grid."""

    deformation: Tensor  # (B, h, w, 2): where each driving pixel samples the source
    mask: Tensor  # (B, K+1, h, w): softmax part masks, channel 0 is the background
    mask_logits: Tensor  # (B, K+1, h, w)
    sparse_deformed: Tensor  # (B, K+1, C, h, w): the source warped by each part's motion
    occlusion: Tensor | None = None  # (B, 1, h, w) in [0, 1]; 1 = visible in the source. TPSMM: (B, 1, H, W)
    # TPSMM's multi-resolution masks (B, 1, H/8, W/8), ..., (B, 1, H, W), coarse to fine, one per generator level;
    # `occlusion` is then the finest of them.
    occlusions: list[Tensor] | None = None
    # How `deformation` is sampled and resized (grid_sample/interpolate). The grids are pixel-centre aligned, so only
    # True makes the identity flow an exact copy; False (the authors' MTIA, MRAA, and FOMM on torch >= 1.3) shifts
    # and blurs by up to half a pixel.
    align_corners: bool = False


@dataclass
class Animation:
    """The generator's result for one batch of driving frames."""

    prediction: Tensor  # (B, C, H, W) in [0, 1]
    deformed: Tensor  # (B, C, H, W): the source warped by the dense flow
    flow: Flow
    # The source's encoder levels (B, C_l, H/2^l, W/2^l), finest first: kept for TPSMM's warp loss, which compares
    # them warped with the driving frame's, so that training need not encode the source twice.
    features: list[Tensor] | None = None

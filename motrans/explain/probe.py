"""`explain(model, image)`: what a model sees in one image, as a dict of numpy arrays.

The image is the driving frame. Its motion comes from the estimator with the views recorded on the side (the
MoTrans attention of every layer, FOMM's and MRAA's heatmaps); the dense motion network then animates a source
(the image itself unless another is given) with it, which gives the motion masks, the occlusion and, for TPSMM,
each thin-plate spline's warp. Nothing of the model is changed: the hooks go when the call returns.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import Tensor, nn

from ..data.image import fit
from ..models import AnimationModel, Motion
from ..models import tps
from ..models.estimators.fomm import spatial_softmax
from ..models.geometry import coordinate_grid
from .attention import recording_attention, recording_readout

TPS_GRID = 9  # lines of the regular driving grid that each thin-plate spline's warp is drawn with


@torch.inference_mode()
def explain(model: AnimationModel, image: np.ndarray, source: np.ndarray | None = None,
            fit_mode: str = "crop") -> dict[str, np.ndarray]:
    """image (and source), RGB uint8 of any size -> arrays (float32 unless said; K parts, h×w motion grid).

    Common: method (str), image and source (H, W, 3) uint8, kp (K, 2) in [-1, 1], masks (K+1, h, w) with the
    background first, occlusion (h', w') where the model has one, deformed and prediction (H, W, 3) uint8: the
    source moved by the image's motion as it is (absolute mode), so with no source they show the image rebuilt.
    MoTrans: jacobian (K, 2, 2), attention (layers, heads, L, L) as the softmax computed it (L = 2K motion tokens,
    then the N image tokens, row-major), motion_tokens () = 2K, token_grid (2,), and with the heatmap readout
    readout (K, h', w'), each keypoint token's spatial softmax over the 1/4 features. FOMM: jacobian, heatmaps
    (K, h', w'). MRAA: jacobian (the principal axes), covariance (K, 2, 2), heatmaps. TPSMM: kp (5·K, 2) driving
    control points, source_kp the source's, tps_grid (K, g, g, 2) where each spline sends a regular g×g grid of the
    driving frame in the source, occlusion_0, occlusion_1, occlusion_2 its coarser masks (coarse to fine).
    """
    training = model.training
    model.eval()  # BatchNorm's running statistics, as animate uses them; the caller's mode comes back below
    try:
        return _explain(model, image, source, fit_mode)
    finally:
        model.train(training)


def _explain(model: AnimationModel, image: np.ndarray, source: np.ndarray | None, fit_mode: str) -> dict:
    device = next(model.parameters()).device
    driving = _tensor(image, model.config.frame_size, fit_mode, device)
    source_image = driving if source is None else _tensor(source, model.config.frame_size, fit_mode, device)
    with _recording(model) as recorded:
        motion = model.estimator(driving)
    source_motion = motion if source is None else model.estimator(source_image)
    animation = model.animate(source_image, source_motion, motion)
    arrays = {"method": np.array(model.config.estimator.method), "image": _uint8(driving),
              "source": _uint8(source_image), **_motion_arrays(motion, source_motion, model)}
    arrays.update(_flow_arrays(animation))
    arrays.update(recorded.arrays(model))
    return arrays


def _tensor(image: np.ndarray, size: tuple[int, int], fit_mode: str, device) -> Tensor:
    """(H, W, 3) uint8 -> (1, 3, h, w) in [0, 1] at the model size, as the animate pipeline feeds it."""
    frame = fit(image, tuple(size), fit_mode)
    return torch.from_numpy(np.array(frame)).to(device).permute(2, 0, 1)[None].float().div_(255)


def _uint8(images: Tensor) -> np.ndarray:
    return (images[0].float().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _numpy(tensor: Tensor) -> np.ndarray:
    return tensor[0].detach().float().cpu().numpy()


def _motion_arrays(motion: Motion, source: Motion, model: AnimationModel) -> dict[str, np.ndarray]:
    arrays = {"kp": _numpy(motion.kp)}
    if motion.jacobian is not None:
        arrays["jacobian"] = _numpy(motion.jacobian)
    if motion.covariance is not None:
        arrays["covariance"] = _numpy(motion.covariance)
    if model.config.estimator.method == "tpsmm":
        arrays["source_kp"] = _numpy(source.kp)
        arrays["tps_grid"] = tps_grids(source.kp, motion.kp, model.config.num_kp)
    return arrays


def tps_grids(source_kp: Tensor, driving_kp: Tensor, num_kp: int, lines: int = TPS_GRID) -> np.ndarray:
    """Control points (1, 5·K, 2) each -> (K, g, g, 2): where spline k sends a regular g×g driving grid in the
    source, fitted as the dense motion fits it (driving -> source)."""
    control = driving_kp.float().view(1, num_kp, tps.POINTS, 2)
    affine, weights = tps.fit(control, source_kp.float().view(1, num_kp, tps.POINTS, 2))
    grid = coordinate_grid(lines, lines, device=control.device)
    return _numpy(tps.transform(grid.view(-1, 2), control, affine, weights)).reshape(num_kp, lines, lines, 2)


def _flow_arrays(animation) -> dict[str, np.ndarray]:
    flow = animation.flow
    arrays = {"masks": _numpy(flow.mask), "deformed": _uint8(animation.deformed),
              "prediction": _uint8(animation.prediction)}
    if flow.occlusion is not None:
        arrays["occlusion"] = _numpy(flow.occlusion)[0]
    for level, occlusion in enumerate((flow.occlusions or [])[:-1]):  # TPSMM's coarser masks, coarse to fine
        arrays[f"occlusion_{level}"] = _numpy(occlusion)[0]
    return arrays


class _Recorded:
    """What the hooks saw during the driving image's estimation."""

    def __init__(self):
        self.attention: list[Tensor] = []
        self.readout: list[Tensor] = []
        self.heatmap_logits: Tensor | None = None

    def arrays(self, model: AnimationModel) -> dict[str, np.ndarray]:
        estimator = model.estimator
        if self.attention:
            h, w = model.config.frame_size
            patch = 4 * model.config.estimator.patch_size  # tokens are p×p patches of the 1/4 features
            arrays = {"attention": torch.stack([a[0] for a in self.attention]).cpu().numpy(),
                      "motion_tokens": np.array(estimator.num_tokens), "token_grid": np.array([h // patch, w // patch])}
            return arrays | ({"readout": _numpy(self.readout[0])} if self.readout else {})
        if self.heatmap_logits is not None:
            return {"heatmaps": _numpy(spatial_softmax(self.heatmap_logits.float(), estimator.config.temperature))}
        return {}


@contextlib.contextmanager
def _recording(model: AnimationModel):
    """The MoTrans attention or the FOMM/MRAA heatmap logits of the estimator's passes within the block."""
    recorded = _Recorded()
    heatmap = getattr(model.estimator, "heatmap", None)
    if model.config.estimator.method == "motrans":
        with recording_attention(model.estimator) as recorded.attention, \
                recording_readout(model.estimator) as recorded.readout:
            yield recorded
    elif isinstance(heatmap, nn.Conv2d):
        handle = heatmap.register_forward_hook(lambda module, args, out: setattr(recorded, "heatmap_logits", out))
        try:
            yield recorded
        finally:
            handle.remove()
    else:
        yield recorded

"""int8 graphs by onnxruntime's static quantisation: QDQ, per-channel weights, the bulk of the convolutions.

What goes to int8 (`SCOPES`): the estimator's backbone, the dense motion network's hourglass and the generator's
convolutions but its final one to RGB; the transformer, every head (keypoints, jacobians, masks, occlusion), the
final conv and the geometry (warps, softmaxes) stay float32. Measured on the packaged puppet model, frames
against torch float32 (30 frames each; Zen 4): the generator alone in int8 84 dB on a puppet clip, 96 dB on a real
face clip; with the hourglass as well 53 / 61 dB; with the estimator's backbone as well 46 / 46 dB, its keypoints
then 0.32 px off on average (of 128; max 2.6). Calibrating the estimator with the 99.999th percentile of each
activation rather than its extremes brings that to 0.26 px and 46 / 50 dB, so the estimator takes it; the
renderer keeps the extremes (its outputs are images, where clipping shows). On motrans-vox256 that scope takes a
batch from 0.093 + 0.217 s/frame (generator only) to 0.052 + 0.184 (Zen 4). The price shows where a model warps
hard: a real TaiChi clip driving a real photo through the same puppet model (100 frames) is 78 dB with the
generator alone in int8, 45 dB with the hourglass, 32 dB with the estimator's backbone too (34 calibrated on
extremes, 36-37 calibrated on that clip's own first frames; 45 with only the second half of the backbone in
int8, which on vox256's HRNet saves a third of what the whole backbone does). The estimator is what 8 bits cost.
Activations are calibrated on 8 synthetic puppet frames (shipped as code, `data.synth`) by default: on 40
held-out frames of a real face clip that gave the same quality as calibrating on the source and the first 7
driving frames (44.4 against 44.3 dB, measured with an earlier scope), so the fixed set holds quality as well.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch

from ..data.synth import render_video
from ..models import AnimationModel
from .graphs import GRAPHS

CALIBRATION_FRAMES = 8


@dataclass(frozen=True)
class Scope:
    """The Conv nodes of a graph that go to int8 (the tracer names nodes by module path), and how its activations'
    ranges are calibrated."""

    prefixes: tuple[str, ...]
    excluded: str | None = None
    percentile: bool = False

    def selects(self, name: str) -> bool:
        return name.startswith(self.prefixes) and not (self.excluded and self.excluded in name)


# The final conv to RGB on phases (`subpixel`) stays float32: with its 12 outputs int8 gained no time (0.200
# against 0.203 s/frame on motrans-vox256, Zen 4) and lost 6 dB.
SCOPES = {"estimator": Scope(("/estimator/backbone/",), percentile=True),
          "renderer": Scope(("/generator/", "/dense_motion/hourglass/"), excluded="/final_phases/")}


def puppet_frames(size: tuple[int, int], count: int = CALIBRATION_FRAMES, seed: int = 0) -> list[np.ndarray]:
    """`count` (H, W, 3) uint8 frames of one synthetic puppet video, at the model's size."""
    from ..data.image import fit

    return [fit(frame, size, "stretch") for frame in render_video(seed, frames=count, size=max(size))]


def calibration_inputs(model: AnimationModel, graph: str, frames: list[np.ndarray]) -> list[tuple[torch.Tensor, ...]]:
    """One input tuple per calibration batch: the frames for the estimator; for the renderer the first frame as
    the source, each other frame's motion as the driving motion (absolute)."""
    images = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div(255)
    if graph == "estimator":
        return [(images[i:i + 1],) for i in range(len(images))]
    with torch.no_grad():
        source = GRAPHS["encoder"](model)(images[:1])
        motions = GRAPHS["estimator"](model)(images)
    source_motion = tuple(m[:1] for m in motions)
    return [(images[:1], *source, *source_motion, *(m[i:i + 1] for m in motions)) for i in range(1, len(images))]


class Reader:
    """onnxruntime's CalibrationDataReader protocol over prepared input tuples."""

    def __init__(self, names: list[str], batches: list[tuple[torch.Tensor, ...]]):
        self.feeds = iter([{n: t.numpy() for n, t in zip(names, batch)} for batch in batches])

    def get_next(self):
        return next(self.feeds, None)

    def rewind(self):  # not needed by the MinMax calibrator
        raise NotImplementedError


def quantize(graph: str, float_path: Path, int8_path: Path, names: list[str],
             batches: list[tuple[torch.Tensor, ...]]) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    scope = SCOPES[graph]
    prepared = int8_path.with_suffix(".pre.onnx")
    quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
    try:
        nodes = [node.name for node in onnx.load(str(prepared)).graph.node
                 if node.op_type == "Conv" and scope.selects(node.name)]
        method = CalibrationMethod.Percentile if scope.percentile else CalibrationMethod.MinMax
        with contextlib.redirect_stdout(io.StringIO()):  # the histogram calibrator prints its progress
            quantize_static(str(prepared), str(int8_path), Reader(names, batches), quant_format=QuantFormat.QDQ,
                            op_types_to_quantize=["Conv"], per_channel=True, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8, calibrate_method=method, nodes_to_quantize=nodes)
    finally:
        prepared.unlink(missing_ok=True)

"""int8 graphs by onnxruntime's static quantisation: QDQ, per-channel weights, the generator's convolutions only.

Measured on the packaged puppet model (PSNR of the frames against torch float32, puppet clip): the generator in
int8 alone 75 dB; with the dense motion network's convolutions too 40 dB; with the estimator as well 33 dB. Motion
is where 8 bits show (a keypoint or mask off by a little moves whole regions), so the estimator and the dense
motion network stay float32, and the generator, which holds most of the multiply-adds, goes to int8.
Activations are calibrated on 8 synthetic puppet frames (shipped as code, `data.synth`) by default: on 40
held-out frames of a real face clip that gave 44.4 dB, calibrating on the source and the first 7 driving frames
44.3 dB, so the fixed set holds quality as well. The geometry (keypoints, warps, softmaxes) stays float32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch

from ..data.synth import render_video
from ..models import AnimationModel
from .graphs import GRAPHS

CALIBRATION_FRAMES = 8
QUANTISED_PREFIX = "/generator/"  # the renderer's nodes that go to int8 (the tracer names nodes by module path)
# but the final conv to RGB on phases (`subpixel`): with 12 outputs int8 gained no time there (0.200 against 0.203
# s/frame on motrans-vox256, Zen 4) and lost 6 dB.
FLOAT_CONV = "/final_phases/"


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


def quantize(float_path: Path, int8_path: Path, names: list[str], batches: list[tuple[torch.Tensor, ...]]) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = int8_path.with_suffix(".pre.onnx")
    quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
    try:
        nodes = [node.name for node in onnx.load(str(prepared)).graph.node
                 if node.op_type == "Conv" and node.name.startswith(QUANTISED_PREFIX) and FLOAT_CONV not in node.name]
        quantize_static(str(prepared), str(int8_path), Reader(names, batches), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=["Conv"], per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_quantize=nodes)
    finally:
        prepared.unlink(missing_ok=True)

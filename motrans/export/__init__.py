"""`motrans export`: a model as ONNX graphs (estimator, encoder, renderer) with a manifest, checked on export.

    export_checkpoint("vox.safetensors", "vox-onnx", dtype="int8")

The graphs hold no `linalg` op: 2×2 inverses, MRAA's SVD and TPSMM's spline systems are closed forms
(`closed_form`), traced in place of the torch path's calls (`tracing`). Each float32 graph is run once by
onnxruntime at another batch size than it was traced at and compared with the torch path; an int8 export adds
an estimator and a renderer graph whose heavy convolutions run in int8 beside the float32 ones, and reports
the PSNR of their frames against the float32 graphs'.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx

from .. import __version__
from ..errors import InputError, MotransError
from ..files import discard_temporary, make_temporary, nearest_existing, replace_folder
from ..models import AnimationModel
from ..packaged import sha256
from .graphs import feature_count, input_names, motion_fields, output_names
from .manifest import GraphInfo, Manifest, read_manifest
from .onnx_graphs import parity, session, trace

DTYPES = ("float32", "int8")
TOLERANCE = 1e-3  # max |Δ| a float32 graph may differ from torch before the export is refused, or
SPREADS = 4  # this many times torch's own spread (its outputs' move when the inputs move by one ulp), if larger
QUANTISED = ("estimator", "renderer")  # the bulk of their convolutions (quantize.SCOPES); the encoder runs once


def export_checkpoint(checkpoint: str | Path, out: str | Path, config=None, opset: int = 18, dtype: str = "float32",
                      calibration: list[np.ndarray] | None = None, say=lambda message: None) -> Manifest:
    """Loads `checkpoint` (through the public loader) and exports it into folder `out`."""
    from ..checkpoints import load_model_and_config

    model, _ = load_model_and_config(checkpoint, config)
    return export_model(model, out, opset, dtype, sha256(checkpoint), calibration, say)


def export_model(model: AnimationModel, out: str | Path, opset: int = 18, dtype: str = "float32",
                 checkpoint_sha256: str | None = None, calibration: list[np.ndarray] | None = None,
                 say=lambda message: None) -> Manifest:
    """Writes the graphs and manifest.json into `out`, atomically (a folder beside it, renamed when complete)."""
    if dtype not in DTYPES:
        raise InputError(f"--dtype {dtype!r}: export knows {', '.join(DTYPES)}")
    if not 13 <= opset <= 21:
        raise InputError(f"--opset {opset}: use 13 to 21 (18 recommended)")
    model = model.float().cpu().eval()
    out = Path(out)
    parent = nearest_existing(out.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = make_temporary(out.parent if out.parent.exists() else parent, f".{out.name}.")
    try:
        manifest = _export_into(model, work, opset, dtype, checkpoint_sha256, calibration, say)
        replace_folder(work, out)
    finally:
        discard_temporary(work)
    return manifest


def _export_into(model, work: Path, opset, dtype, checkpoint_sha256, calibration, say) -> Manifest:
    fields = motion_fields(model)
    manifest = Manifest(model.config.estimator.method, list(model.config.frame_size), dtype, opset, __version__,
                        checkpoint_sha256, fields)
    for graph in ("estimator", "encoder", "renderer"):
        path = work / f"{graph}.onnx"
        say(f"exporting the {graph}")
        trace(model, graph, path, opset)
        onnx.checker.check_model(str(path))
        difference, spread, inputs, outputs = parity(model, graph, path)
        if not difference <= max(TOLERANCE, SPREADS * spread):
            raise MotransError(f"the exported {graph} differs from torch by {difference:.3g} (torch's own spread "
                               f"at one ulp: {spread:.3g})")
        manifest.graphs[graph] = _info(model, graph, path.name, inputs, outputs, difference, spread)
    if dtype == "int8":
        _quantise(model, work, manifest, calibration, say)
    manifest.write(work)
    return manifest


def _info(model, graph: str, file: str, inputs, outputs, difference: float | None = None,
          spread: float | None = None) -> GraphInfo:
    """File, input and output shapes ("batch" where dynamic), and the parity figures."""
    fields, levels = motion_fields(model), feature_count(model)
    names_in, names_out = input_names(graph, fields, levels), output_names(graph, fields, levels)
    batch_in = set(fields) if graph == "renderer" else set(names_in)
    shapes = lambda names, tensors, batch: {  # noqa: E731
        n: ["batch" if n in batch else 1, *t.shape[1:]] for n, t in zip(names, tensors)}
    outs = shapes(names_out, outputs, set(names_out))
    return GraphInfo(file, shapes(names_in, inputs, batch_in), outs, difference, spread)


def _quantise(model, work: Path, manifest: Manifest, calibration, say) -> None:
    from .quantize import calibration_inputs, puppet_frames, quantize

    frames = calibration if calibration is not None else puppet_frames(tuple(model.config.frame_size))
    for graph in QUANTISED:
        say(f"quantising the {graph} to int8 on {len(frames)} calibration frames")
        names = input_names(graph, manifest.motion_fields, feature_count(model))
        quantize(graph, work / f"{graph}.onnx", work / f"{graph}.int8.onnx", names,
                 calibration_inputs(model, graph, frames))
        onnx.checker.check_model(str(work / f"{graph}.int8.onnx"))
        manifest.graphs[f"{graph}.int8"] = replace(manifest.graphs[graph], file=f"{graph}.int8.onnx",
                                                   max_abs_difference=None, torch_spread=None)
    held_out = puppet_frames(tuple(model.config.frame_size), seed=1)
    manifest.graphs["renderer.int8"].psnr_db = int8_psnr(work, held_out)


def int8_psnr(work: Path, frames: list[np.ndarray]) -> float:
    """PSNR (dB, 8-bit frames) of the int8 graphs' animation against the float32 graphs', on held-out puppet
    frames (another video than the calibration's): frame 0 the source, every other one's motion driving it
    (absolute), each path with its own estimator."""
    images = np.stack(frames).transpose(0, 3, 1, 2).astype(np.float32) / 255
    source = session(work / "encoder.onnx").run(None, {"source": images[:1]})
    frames_8bit = []  # float32 graphs', then int8 graphs'
    for suffix in ("", ".int8"):
        motion = session(work / f"estimator{suffix}.onnx").run(None, {"image": images})
        renderer = session(work / f"renderer{suffix}.onnx")
        inputs = [images[:1], *source, *(m[:1] for m in motion), *(m[1:] for m in motion)]
        feed = {i.name: value for i, value in zip(renderer.get_inputs(), inputs)}
        frames_8bit.append(np.round(np.clip(renderer.run(None, feed)[0], 0, 1) * 255))
    mse = float(np.mean((frames_8bit[0] - frames_8bit[1]) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))


__all__ = ["export_checkpoint", "export_model", "read_manifest", "sha256", "Manifest", "DTYPES"]

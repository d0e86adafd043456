"""Tracing one model into its three ONNX graphs, and checking each against the torch path.

The TorchScript tracer exports in seconds where the dynamo exporter takes minutes on a small CPU; the batch stays
dynamic because every batch size on these paths is a traced `shape[0]` (`tracing.closed_forms`).
"""

from __future__ import annotations

import io
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..models import AnimationModel
from .graphs import GRAPHS, RendererGraph, feature_count, input_names, motion_fields, output_names
from .tracing import closed_forms

TRACE_BATCH, CHECK_BATCH = 2, 3  # traced at one batch size, checked at another: the batch must stay dynamic


def example_inputs(model: AnimationModel, graph: str, batch: int, seed: int = 0) -> tuple[Tensor, ...]:
    """Inputs for `graph`: random frames, and for the renderer the torch path's own source cache and motions."""
    generator = torch.Generator().manual_seed(seed)
    size = tuple(model.config.frame_size)
    frames = torch.rand(batch + 1, 3, *size, generator=generator)
    if graph == "estimator":
        return (frames[:batch],)
    if graph == "encoder":
        return (frames[:1],)
    with torch.no_grad():
        source = GRAPHS["encoder"](model)(frames[:1])
        motions = GRAPHS["estimator"](model)(frames)
    return (frames[:1], *source, *(m[:1] for m in motions), *(m[1:] for m in motions))


def dynamic_axes(graph: str, names_in: list[str], names_out: list[str], fields: list[str]) -> dict:
    if graph == "renderer":  # the source cache is batch 1; the driving motions and the frames are a batch
        return {name: {0: "batch"} for name in [*fields, *names_out]}
    return {name: {0: "batch"} for name in [*names_in, *names_out]}


def trace(model: AnimationModel, graph: str, path: Path, opset: int) -> None:
    """Writes `graph` of the model (eval, float32, CPU) to `path`."""
    fields, levels = motion_fields(model), feature_count(model)
    names_in, names_out = input_names(graph, fields, levels), output_names(graph, fields, levels)
    module = (RendererGraph(model, phases=True) if graph == "renderer" else GRAPHS[graph](model)).eval()
    inputs = example_inputs(model, graph, TRACE_BATCH)
    with closed_forms(), warnings.catch_warnings(), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")  # the tracer's notes about Python ints it keeps as constants
        torch.onnx.export(module, inputs, str(path), input_names=names_in, output_names=names_out, opset_version=opset,
                          dynamic_axes=dynamic_axes(graph, names_in, names_out, fields), dynamo=False,
                          do_constant_folding=True)


def session(path: Path, threads: int | None = None):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess, inputs: tuple[Tensor, ...]) -> list[np.ndarray]:
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, {name: t.detach().numpy() for name, t in zip(names, inputs)})


def parity(model: AnimationModel, graph: str, path: Path) -> tuple[float, float, tuple, list[Tensor]]:
    """(max |ONNX − torch|, torch's own spread, the inputs, torch's outputs), over the graph's outputs at a batch
    size other than the traced one.

    The spread is how far torch's outputs move when every input moves by one float32 ulp: round-off that a
    model amplifies (TPSMM's spline sums cancel terms of ~30 to give ~1) reaches the ONNX graph just the same.
    """
    inputs = example_inputs(model, graph, CHECK_BATCH, seed=1)
    names = output_names(graph, motion_fields(model), feature_count(model))
    expected, nudged = outputs(model, graph, inputs), outputs(model, graph, [t * (1 + 2**-23) for t in inputs])
    got = run(session(path), inputs)
    difference = max(compare(name, g, e.numpy(), model) for name, g, e in zip(names, got, expected))
    spread = max(compare(name, n.numpy(), e.numpy(), model) for name, n, e in zip(names, nudged, expected))
    return difference, spread, inputs, expected


def outputs(model: AnimationModel, graph: str, inputs) -> list[Tensor]:
    with torch.no_grad():
        result = GRAPHS[graph](model).eval()(*inputs)
    return [result] if isinstance(result, Tensor) else list(result)


def compare(name: str, got: np.ndarray, expected: np.ndarray, model: AnimationModel) -> float:
    """max |Δ|; MRAA's affines U·√S up to the sign of each (which LAPACK picks, and `revert_axis_swap` undoes)."""
    if name == "jacobian" and model.config.dense_motion.revert_axis_swap:
        return float(np.minimum(np.abs(got - expected).max((-1, -2)), np.abs(got + expected).max((-1, -2))).max())
    return float(np.abs(got - expected).max())

"""`motrans export` for every method on tiny configs: checked graphs, dynamic batch, parity with torch, manifest."""

import json

import numpy as np
import onnx
import pytest
import torch

from motrans import __version__
from motrans.checkpoints import load_model_and_config
from motrans.export import export_model, read_manifest, sha256
from motrans.export.onnx_graphs import example_inputs, outputs, run, session
from motrans.errors import InputError

from .conftest import METHODS

PARITY = 1e-4  # float32, tiny configs (the bound)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_graph_matches_torch(exports, method_checkpoints, method):
    folder, manifest = exports[method]
    assert manifest.method == method and manifest.checkpoint_sha256 == sha256(method_checkpoints[method])
    assert manifest.motrans_version == __version__ and manifest.frame_size == [64, 64]
    for graph in ("estimator", "encoder", "renderer"):
        info = manifest.graphs[graph]
        onnx.checker.check_model(str(folder / info.file))
        ops = {node.op_type for node in onnx.load(str(folder / info.file)).graph.node}
        assert not ops & {"Inverse", "Det", "SVD"}  # nothing but the standard ops: no linalg, no contrib
        if method == "tpsmm" and graph == "renderer":
            # TPSMM's spline sums cancel terms of ~30 into ~1, and the random hourglass amplifies what is left:
            # torch's own outputs move by the same amount when its inputs move by one ulp.
            assert info.max_abs_difference <= 4 * info.torch_spread
        else:
            assert info.max_abs_difference <= PARITY, (graph, info.max_abs_difference)


@pytest.mark.parametrize("batch", [1, 5])
def test_the_batch_is_dynamic(exports, method_checkpoints, batch):
    """Traced at batch 2, checked on export at 3; here at 1 and 5, through the onnxruntime sessions."""
    folder, manifest = exports["mraa"]
    model, _ = load_model_and_config(method_checkpoints["mraa"])
    for graph in ("estimator", "renderer"):
        inputs = example_inputs(model, graph, batch, seed=2)
        got = run(session(folder / f"{graph}.onnx"), inputs)
        for g, e in zip(got, outputs(model, graph, inputs)):
            assert g.shape[0] == batch
            if e.shape[-2:] != (2, 2) or graph != "estimator":  # MRAA's affines: up to a sign, see below
                assert np.abs(g - e.numpy()).max() <= PARITY


def test_mraa_affines_equal_lapacks_up_to_a_sign(exports, method_checkpoints):
    folder, _ = exports["mraa"]
    model, _ = load_model_and_config(method_checkpoints["mraa"])
    image = torch.rand(6, 3, 64, 64)
    kp, jacobian, covariance = run(session(folder / "estimator.onnx"), (image,))
    expected = model.estimator(image).jacobian.detach().numpy()
    sign = np.sign((jacobian * expected).sum((-1, -2), keepdims=True))
    assert np.abs(jacobian * sign - expected).max() <= PARITY


def test_manifest_describes_the_graphs(exports):
    folder, manifest = exports["motrans"]
    data = json.loads((folder / "manifest.json").read_text())
    assert data["graphs"]["renderer"]["inputs"]["kp"] == ["batch", 4, 2]
    assert data["graphs"]["renderer"]["inputs"]["source"] == [1, 3, 64, 64]
    assert data["graphs"]["estimator"]["outputs"]["jacobian"] == ["batch", 4, 2, 2]
    assert read_manifest(folder) == manifest


def test_bad_dtype_and_opset_are_refused(method_checkpoints, tmp_path):
    model, _ = load_model_and_config(method_checkpoints["fomm"])
    with pytest.raises(InputError, match="dtype"):
        export_model(model, tmp_path / "x", dtype="float16")
    with pytest.raises(InputError, match="opset"):
        export_model(model, tmp_path / "x", opset=9)
    assert not (tmp_path / "x").exists()


def test_cli_export_int8(method_checkpoints, tmp_path, capsys):
    """The command line, with --dtype int8: quantised graphs beside the float32 ones, their PSNR reported."""
    from motrans.cli import main

    out = tmp_path / "fomm-onnx"
    assert main(["export", str(method_checkpoints["fomm"]), "--format", "onnx", "--out", str(out),
                 "--dtype", "int8"]) == 0
    manifest = read_manifest(out)
    assert manifest.method == "fomm" and (out / "renderer.onnx").is_file()
    for graph in ("estimator", "renderer"):
        quantised = onnx.load(str(out / manifest.graphs[f"{graph}.int8"].file))
        assert "QuantizeLinear" in {node.op_type for node in quantised.graph.node}, graph
    assert "encoder.int8" not in manifest.graphs  # it runs once a video
    assert manifest.graphs["renderer.int8"].psnr_db > 30  # against the float32 graphs, on held-out puppets
    assert "max |Δ| from torch" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("motrans: error:") and not (tmp_path / "o").exists()


def test_int8_animation_runs_the_quantised_graphs(method_checkpoints, tmp_path):
    """The animator on an int8 export: its estimator and renderer sessions are the int8 files, and its frames stay
    close to the float32 graphs' (tiny random model, so the bound is loose)."""
    from motrans.animate.backend import OnnxRuntimeAnimator

    model, _ = load_model_and_config(method_checkpoints["motrans"])
    export_model(model, tmp_path / "x", dtype="int8")
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(5)]
    animators = [OnnxRuntimeAnimator(model, tmp_path / "x", int8) for int8 in (False, True)]
    assert animators[1].files == {"estimator": "estimator.int8.onnx", "encoder": "encoder.onnx",
                                  "renderer": "renderer.int8.onnx"}
    reference, reduced = (np.stack(list(a.animate(frames[0], frames[1:]))).astype(float) for a in animators)
    assert 10 * np.log10(255**2 / np.mean((reference - reduced) ** 2)) > 25

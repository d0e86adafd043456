"""The explain figure (motrans/explain/panels.py, probe.py): every method's panels on tiny configs, panel counts
that follow the flags, refusals that name what the model has."""

import numpy as np
import pytest
import torch

from motrans.errors import InputError
from motrans.explain import Selection, compose, explain, figure
from motrans.explain.probe import tps_grids
from motrans.models import build_model

from ..models.test_baselines import _config
from ..test_tpsmm import tiny_config as tpsmm_config

RNG = np.random.default_rng(3)
IMAGE, SOURCE = (RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2))
# per method: what explain() adds to the common arrays
OWN = {"motrans": {"attention", "motion_tokens", "token_grid", "jacobian"}, "fomm": {"heatmaps", "jacobian"},
       "mraa": {"heatmaps", "jacobian", "covariance"},
       "tpsmm": {"tps_grid", "source_kp", "occlusion_0", "occlusion_1", "occlusion_2"}}
COMMON = {"method", "image", "source", "kp", "masks", "occlusion", "deformed", "prediction"}


def _model(tiny_config, method):
    config = {"motrans": lambda: tiny_config.model, "tpsmm": lambda: tpsmm_config().model}.get(
        method, lambda: _config(tiny_config, method))()
    return _perturbed(config)


def _perturbed(config):
    model = build_model(config)
    with torch.no_grad():  # away from the identity-initialised heads, so that parts differ
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return model.eval()


def _panels(rows):
    return [cell for row in rows for cell in row if cell is not None]


@pytest.fixture(scope="module")
def motrans_arrays():
    from motrans.config import load_config

    from ..conftest import TINY

    torch.manual_seed(0)
    return explain(_model(load_config(TINY), "motrans"), IMAGE, SOURCE)


@pytest.mark.parametrize("method", ["motrans", "fomm", "mraa", "tpsmm"])
def test_every_method_draws_its_panels(tiny_config, method):
    arrays = explain(_model(tiny_config, method), IMAGE, SOURCE)
    assert set(arrays) == COMMON | OWN[method]
    k = tiny_config.model.num_kp
    assert arrays["masks"].shape[0] == k + 1
    np.testing.assert_allclose(arrays["masks"].sum(axis=0), 1.0, atol=1e-4)
    if method in ("fomm", "mraa"):
        np.testing.assert_allclose(arrays["heatmaps"].sum(axis=(1, 2)), 1.0, atol=1e-4)
    if method == "tpsmm":
        assert arrays["kp"].shape == (5 * k, 2) and arrays["tps_grid"].shape == (k, 9, 9, 2)
        assert [arrays[f"occlusion_{i}"].shape for i in range(3)] + [arrays["occlusion"].shape] == [
            (8, 8), (16, 16), (32, 32), (64, 64)]
    selection = Selection(tokens=(0, k - 1), source=True)
    rows = figure(arrays, selection, size=96)
    picture = compose(rows, method)
    assert picture.dtype == np.uint8 and picture.ndim == 3
    per_part = 3 if method != "motrans" else None
    if per_part:  # [keypoint | heatmap | mask] or [driving points | warp | mask], then the summary row
        occlusions = 4 if method == "tpsmm" else 1  # TPSMM's at H/8, H/4, H/2 and H
        assert [len(row) for row in rows] == [per_part, per_part, 5 + occlusions]
    # the panels differ from part to part: they show this model's parts, not one picture twice
    assert not np.array_equal(rows[0][0][1], rows[1][0][1])


def test_tps_grid_follows_the_fitted_spline():
    """Spread control points moved by (0.2, −0.1) in the source: each spline's grid moves so (the authors' ridge
    leaves a little warp), and the spline with unmoved points keeps its grid in place."""
    driving = torch.tensor([[-0.5, -0.5], [0.5, -0.5], [0.0, 0.0], [-0.5, 0.5], [0.5, 0.5]]).repeat(2, 1)[None]
    source = driving.clone()
    source[0, :5] += torch.tensor([0.2, -0.1])
    grids = tps_grids(source, driving, num_kp=2)
    lines = np.linspace(-1, 1, 9)
    regular = np.stack(np.meshgrid(lines, lines), axis=-1)  # (9, 9, 2), (x, y), rows along y
    assert grids.shape == (2, 9, 9, 2)
    assert np.abs(grids[0] - regular - [0.2, -0.1]).max() < 0.05
    assert np.abs(grids[1] - regular).max() < 0.05


@pytest.mark.parametrize("tokens, layers, heads, source", [
    ((0,), (1,), "mean", False), ((0, 5, 7), None, "mean", True), ((2, 3), (2,), "all", False),
    (None, None, "all", True)])
def test_motrans_panel_counts_follow_the_flags(motrans_arrays, tokens, layers, heads, source):
    depth, num_heads = motrans_arrays["attention"].shape[:2]
    chosen_tokens = len(tokens) if tokens else int(motrans_arrays["motion_tokens"])
    chosen_layers = len(layers) if layers else depth
    head_rows = num_heads if heads == "all" else 1
    rows = figure(motrans_arrays, Selection(tokens, layers, heads, source), size=64)
    attention = [cell for cell in _panels(rows) if cell[0].startswith("L") and "img" in cell[0]]
    assert len(attention) == chosen_tokens * head_rows * chosen_layers
    assert all("renorm" in title for title, _ in attention)  # the panel says it is renormalised
    assert len(rows) == chosen_tokens * head_rows + 2  # + the motion->motion row and the summary row
    assert len(rows[-2]) == chosen_layers
    assert len(rows[-1]) == 3 + 3 * source  # keypoints, background mask, occlusion (+ source, deformed, prediction)
    assert len(_panels(rows)) == chosen_tokens * (2 + head_rows * chosen_layers) + chosen_layers + len(rows[-1])


def test_affine_tokens_show_their_part(motrans_arrays):
    """Token K + k is part k's affine token: same keypoint and mask panels as token k, its own attention."""
    k = int(motrans_arrays["motion_tokens"]) // 2
    keypoint, affine = (figure(motrans_arrays, Selection(tokens=(t,)), size=64)[0] for t in (1, k + 1))
    assert np.array_equal(keypoint[1][1], affine[1][1])
    assert affine[0][0].startswith(f"token {k + 1}: affine 1")
    assert not np.array_equal(keypoint[2][1], affine[2][1])


@pytest.mark.parametrize("selection, message", [
    (Selection(tokens=(8,)), "--tokens: 8 is out of range (this motrans model has 8 motion tokens: 0-3 keypoints"),
    (Selection(layers=(0,)), "--layers: 0 is out of range (this model has layers 1-2)"),
    (Selection(layers=(3,)), "--layers: 3 is out of range"),
])
def test_choices_the_model_lacks_are_refused(motrans_arrays, selection, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        figure(motrans_arrays, selection)


def test_layers_and_heads_are_motrans_only(tiny_config):
    arrays = explain(_model(tiny_config, "fomm"), IMAGE)
    with pytest.raises(InputError, match="--layers and --heads apply to MoTrans models only"):
        figure(arrays, Selection(heads="all"))
    with pytest.raises(InputError, match=r"--tokens: 4 is out of range \(this fomm model has 4 parts: 0-3\)"):
        figure(arrays, Selection(tokens=(4,)))


def test_the_heatmap_readout_map_is_the_one_the_keypoint_is_read_from(tiny_config):
    """`keypoint_readout: heatmap`: the recorded map's expectation over the pixel grid is the keypoint, and the
    keypoint rows get a readout panel."""
    from motrans.config import replace
    from motrans.models.geometry import coordinate_grid

    model = tiny_config.model
    config = replace(model, estimator=replace(model.estimator, keypoint_readout="heatmap"))
    torch.manual_seed(0)
    arrays = explain(_perturbed(config), IMAGE)
    maps = arrays["readout"]  # (K, h, w)
    assert maps.shape == (model.num_kp, 16, 16)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0, atol=1e-5)
    grid = coordinate_grid(16, 16).numpy()
    np.testing.assert_allclose((maps[..., None] * grid).sum(axis=(1, 2)), arrays["kp"], atol=1e-5)
    assert np.abs(arrays["kp"] - arrays["kp"].mean(axis=0)).max() > 1e-3  # not one point K times
    row = figure(arrays, Selection(tokens=(1,), layers=(1,)), size=64)[0]
    assert [title.split(" ")[0] for title, _ in row] == ["token", "mask", "readout", "L1"]


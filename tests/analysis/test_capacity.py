"""Table 1 and Table 5 figures, counted from the modules we build (no full-size forward pass on real data)."""

import pytest
import torch

from motrans.analysis.capacity import capacity, count_parameters
from motrans.config import load_config
from motrans.models import build_model

from ..conftest import REFERENCE


def _estimator_params(name):
    with torch.device("meta"):
        return count_parameters(build_model(load_config(name).model).estimator)


@pytest.mark.parametrize("name, trainable, total", [
    (REFERENCE / "mtia_configs" / "voxceleb1.yaml", 12_234_310, 12_283_462),
    (REFERENCE / "mtia_configs" / "ted384.yaml", 12_234_310, 12_344_902),
    ("motrans-taichi256-stem", 5_561_862, 5_611_014),
    ("motrans-taichi256-hrw48", 21_303_654, 21_352_806),
])
def test_motion_estimator_parameters(name, trainable, total):
    assert _estimator_params(name) == (trainable, total)


def test_voxceleb1_table1():
    rows = {r.component: r for r in capacity(load_config(REFERENCE / "mtia_configs" / "voxceleb1.yaml").model)}
    generator, estimator = rows["ImageGenerator"], rows["MotionEstimator"]
    assert (generator.trainable, round(generator.macs / 1e9, 2)) == (45_575_391, 53.64)
    assert (estimator.trainable, estimator.total, round(estimator.macs / 1e9, 2)) == (12_234_310, 12_283_462, 7.49)
    assert round(estimator.macs_with_attention / 1e9, 2) == 7.84  # + QKᵀ and AV: 2·276²·192 per layer
    assert rows["Discriminator"].trainable == 2_758_849 and "BackgroundPredictor" not in rows


def test_taichi_has_a_background_predictor():
    rows = {r.component: r for r in capacity(load_config("motrans-taichi256").model)}
    assert rows["BackgroundPredictor"].trainable == 6_282_438

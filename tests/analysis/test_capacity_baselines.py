"""FOMM's and MRAA's sizes at 256² (and MRAA's K=20 TED model at 384²), as measured on the authors' modules
(`peers.md` §1.5, §2.5)."""

import pytest

from motrans.analysis.capacity import capacity
from motrans.config import load_config

from ..conftest import REFERENCE


def _rows(path):
    return {r.component: r for r in capacity(load_config(REFERENCE / path).model)}


@pytest.mark.parametrize("path, params, gmacs", [
    ("fomm_configs/vox-256.yaml", 14_215_368, 1.28),
    ("fomm_configs/mgif-256.yaml", 14_153_592, 1.07),
    ("mraa_configs/vox256.yaml", 14_146_728, 1.06),  # pad 3: 64×64 heatmaps
    ("mraa_configs/taichi256.yaml", 14_146_728, 1.05),  # pad 0: 58×58
])
def test_estimator(path, params, gmacs):
    estimator = _rows(path)["MotionEstimator"]
    assert (estimator.trainable, round(estimator.macs / 1e9, 2)) == (params, gmacs)


def test_mraa_components():
    rows = _rows("mraa_configs/vox256.yaml")
    assert (rows["ImageGenerator"].trainable, round(rows["ImageGenerator"].macs / 1e9, 2)) == (45_575_391, 53.64)
    assert rows["BackgroundPredictor"].trainable == 6_282_438 and rows["AVDNetwork"].trainable == 2_290_620
    ted = _rows("mraa_configs/ted-youtube384.yaml")
    assert (ted["MotionEstimator"].trainable, ted["ImageGenerator"].trainable, ted["AVDNetwork"].trainable) == \
        (14_163_888, 45_717_521, 2_336_760)


@pytest.mark.parametrize("path, has_discriminator", [
    ("fomm_configs/vox-256.yaml", True), ("mraa_configs/vox256.yaml", False), ("tpsmm_configs/vox-256.yaml", False),
])
def test_discriminator_only_for_methods_that_have_one(path, has_discriminator):
    assert ("Discriminator" in _rows(path)) == has_discriminator

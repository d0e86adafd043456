"""`motrans train` on the baselines' estimators (FOMM, MRAA): a few steps on a tiny config, and MRAA's sign fix."""

import pytest
import torch

from motrans.checkpoints import load_model
from motrans.losses.equivariance import equivariance_jacobian
from motrans.models import Motion
from motrans.train.loop import Trainer, TrainOptions

from .helpers import ShiftedPairs, random_mobilenet, tiny_train_config


@pytest.fixture(scope="module")
def perceptual(tmp_path_factory):
    return random_mobilenet(tmp_path_factory.mktemp("mobilenet") / "mobilenet.pt")


@pytest.mark.parametrize("method, flip", [("fomm", "false"), ("mraa", "true")])
def test_baseline_trains_and_exports(perceptual, tmp_path, method, flip):
    config = tiny_train_config(perceptual, **{"model.estimator.method": method,
                                              "model.dense_motion.revert_axis_swap": flip,
                                              "model.dense_motion.covariance_heatmaps": flip})
    trainer = Trainer(config, TrainOptions(out_dir=str(tmp_path), workers=0, log_every=1000, max_steps=3),
                      dataset=ShiftedPairs())
    before = {k: v.clone() for k, v in trainer.model.estimator.state_dict().items()}
    path = trainer.fit()
    after = trainer.model.estimator.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if after[k].is_floating_point())
    exported = load_model(path)
    assert exported.config.estimator.method == method
    motion = exported.estimator(torch.rand(1, 3, 64, 64))
    assert torch.isfinite(motion.kp).all() and (motion.covariance is not None) == (method == "mraa")


class _IdentityWarp:
    def jacobian(self, points):
        return torch.eye(2).expand(*points.shape[:-1], 2, 2)


def test_mraa_equivariance_forgives_an_axis_flip():
    affine = torch.tensor([[1.5, 0.3], [-0.2, 0.8]]).expand(2, 4, 2, 2)
    kp = torch.zeros(2, 4, 2)
    driving, flipped = Motion(kp, affine), Motion(kp, -affine)
    assert equivariance_jacobian(driving, flipped, _IdentityWarp()).item() == pytest.approx(1.0)
    assert equivariance_jacobian(driving, flipped, _IdentityWarp(), revert_axis_swap=True).item() < 1e-6

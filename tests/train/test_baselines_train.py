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


def _mraa_avd_config(perceptual, **overrides):
    return tiny_train_config(perceptual, **{"model.estimator.method": "mraa", "model.avd.enabled": "true",
                                            "model.dense_motion.revert_axis_swap": "true",
                                            "train.avd.batch_size": "4", "train.avd.repeats": "1",
                                            "train.avd.lr": "1e-2", **overrides})


def test_avd_stage_trains_only_the_avd_network(perceptual, tmp_path):
    config = _mraa_avd_config(perceptual)
    first = Trainer(config, TrainOptions(out_dir=str(tmp_path / "one"), workers=0, max_steps=1),
                    dataset=ShiftedPairs()).fit()
    options = TrainOptions(out_dir=str(tmp_path / "avd"), workers=0, max_steps=12, stage="avd", init=str(first))
    trainer = Trainer(config, options, dataset=ShiftedPairs())
    assert set(trainer.optimizers) == {"avd"} and trainer.config.train.batch_size == 4
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    batch = next(iter(torch.utils.data.DataLoader(ShiftedPairs(), batch_size=4)))
    trainer.model.eval()
    trainer.model.avd.train()
    losses = [trainer.train_step(batch)["loss"] for _ in range(12)]
    assert losses[-1] < losses[0], losses
    after = trainer.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("avd.") for k in changed)


def test_avd_stage_needs_a_model_and_its_own_checkpoint(perceptual, tmp_path):
    from motrans.errors import CheckpointError, ConfigError

    config = _mraa_avd_config(perceptual)
    with pytest.raises(ConfigError, match="--init"):
        Trainer(config, TrainOptions(out_dir=str(tmp_path), workers=0, stage="avd"), dataset=ShiftedPairs())
    Trainer(config, TrainOptions(out_dir=str(tmp_path), workers=0, max_steps=1), dataset=ShiftedPairs()).fit()
    with pytest.raises(CheckpointError, match="reconstruction stage"):
        Trainer(config, TrainOptions(out_dir=str(tmp_path), workers=0, stage="avd", resume=True),
                dataset=ShiftedPairs())
    fomm = tiny_train_config(perceptual, **{"model.estimator.method": "fomm"})
    with pytest.raises(ConfigError, match="no AVD network"):
        Trainer(fomm, TrainOptions(out_dir=str(tmp_path), workers=0, stage="avd", init="x"), dataset=ShiftedPairs())


def test_avd_stage_on_tpsmm_points_has_no_affine_term(perceptual, tmp_path):
    from motrans.checkpoints.io import write_safetensors
    from motrans.config import config_to_dict
    from motrans.models import build_model

    config = _mraa_avd_config(perceptual, **{"model.estimator.method": "tpsmm", "model.generator.num_down_blocks": "3",
                                             "model.dense_motion.revert_axis_swap": "false"})
    torch.manual_seed(0)
    first = tmp_path / "tpsmm.safetensors"
    write_safetensors(first, build_model(config.model).state_dict(), config_to_dict(config))
    trainer = Trainer(config, TrainOptions(out_dir=str(tmp_path / "avd"), workers=0, stage="avd", init=str(first)),
                      dataset=ShiftedPairs())
    batch = next(iter(torch.utils.data.DataLoader(ShiftedPairs(), batch_size=4)))
    trainer.model.eval()
    trainer.model.avd.train()
    logs = [trainer.train_step(batch) for _ in range(6)]
    assert "avd_affine" not in logs[0] and logs[-1]["avd_shift"] < logs[0]["avd_shift"]

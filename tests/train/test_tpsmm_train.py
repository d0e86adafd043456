"""`motrans train` with TPSMM's recipe (`peers.md` §3.2): its random TPS, warp and background-cycle losses, BG
predictor from `bg_start`, TPS dropout schedule, weight decay and ∞-norm clipping, and the YAML keys that set them.
Equality with the authors' training code is checked outside the repo (it needs their code); these are the
contracts that hold without it."""

import json
import math

import pytest
import torch

from motrans.checkpoints import load_model
from motrans.config import TPSDropoutConfig, config_from_data, config_to_dict, dump_config, load_config, replace
from motrans.errors import ConfigError
from motrans.losses import Criterion
from motrans.losses.equivariance import RandomTPS, SquaredRandomTPS, random_tps
from motrans.models import build_model
from motrans.train.loop import Trainer, TrainOptions, with_overrides
from motrans.train.schedule import tps_dropout

from ..conftest import REFERENCE
from .helpers import ShiftedPairs, random_mobilenet, tiny_train_config

TPSMM = {"model.estimator.method": "tpsmm", "model.estimate_jacobian": "false", "model.generator.num_down_blocks": "3",
         "train.transform.kind": "tpsmm", "train.loss.equivariance_jacobian": "0", "train.loss.warp": "10",
         "train.loss.background_cycle": "10", "train.weight_decay": "1e-4", "train.clip_estimator": "10",
         "train.clip_dense_motion": "10", "train.clip_background": "10", "train.clip_norm_type": ".inf",
         "train.tps_dropout.until_epoch": "35", "train.tps_dropout.start_p": "0.1", "train.tps_dropout.max_p": "0.3"}


@pytest.fixture(scope="module")
def perceptual(tmp_path_factory):
    return random_mobilenet(tmp_path_factory.mktemp("mobilenet") / "mobilenet.pt")


def tiny_tpsmm(perceptual, **overrides):
    """The tiny test model as a TPSMM (K = 4, three generator levels, ResNet BG) with the authors' recipe."""
    return tiny_train_config(perceptual, **{**TPSMM, **overrides})


def _trainer(config, out, **options):
    options = {"workers": 0, "log_every": 1000, **options}
    return Trainer(config, TrainOptions(out_dir=str(out), **options), dataset=ShiftedPairs(count=8))  # 2 steps an epoch


def _batch():
    return next(iter(torch.utils.data.DataLoader(ShiftedPairs(count=4), batch_size=4)))


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


# ---------------------------------------------------------------------------------------------------- training
def test_tiny_tpsmm_trains_and_exports(perceptual, tmp_path):
    config = tiny_tpsmm(perceptual)
    trainer = _trainer(config, tmp_path, max_steps=2)
    assert isinstance(trainer._warp(4), SquaredRandomTPS)
    before = _state(trainer.model)
    path = trainer.fit()
    after = trainer.model.state_dict()
    for box in ("estimator.", "dense_motion.", "generator.", "background."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(box)), box
    model = load_model(path)
    assert model.config.estimator.method == "tpsmm"
    with torch.no_grad():
        prediction = model(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)).prediction
    assert prediction.shape == (1, 3, 64, 64) and torch.isfinite(prediction).all()


def test_the_step_logs_every_tpsmm_term(perceptual, tmp_path):
    trainer = _trainer(tiny_tpsmm(perceptual), tmp_path)
    trainer.model.train()
    logs = trainer.train_step(_batch())
    assert {"equivariance_value", "warp", "background_cycle"} <= set(logs)
    assert "equivariance_jacobian" not in logs and all(math.isfinite(v) for v in logs.values())


def test_warp_loss_trains_only_the_flow(perceptual):
    config = tiny_tpsmm(perceptual, **{"train.loss.perceptual": "[0, 0, 0, 0, 0]", "train.loss.equivariance_value": "0",
                                       "train.loss.background_cycle": "0"})
    model = build_model(config.model).train()
    out = Criterion(config.train, config.model)(model, torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64))
    assert set(out.terms) == {"warp"}
    out.terms["warp"].backward()
    assert all(p.grad is None for p in model.generator.parameters())  # the encoder is detached on both sides
    assert all(p.grad is None for p in model.dense_motion.occlusion.parameters())  # so are the masks
    for box in (model.dense_motion.mask, model.dense_motion.hourglass, model.estimator, model.background):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in box.parameters())  # the deformation's


def test_warp_loss_needs_the_inpainting_generator(perceptual):
    config = tiny_train_config(perceptual, **{"train.loss.warp": "10"})
    with pytest.raises(ConfigError, match="train.loss.warp"):
        Criterion(config.train, config.model)


def test_background_waits_for_background_start(perceptual, tmp_path):
    trainer = _trainer(tiny_tpsmm(perceptual, **{"train.background_start": "1"}), tmp_path)
    trainer.model.train()
    before = _state(trainer.model.background)  # BatchNorm statistics included: they move if it runs at all
    trainer.set_epoch(0)
    logs = trainer.train_step(_batch())
    assert "background_cycle" not in logs and not trainer.optimizers["background"].state
    assert all(torch.equal(v, trainer.model.background.state_dict()[k]) for k, v in before.items())
    trainer.set_epoch(1)
    logs = trainer.train_step(_batch())
    after = trainer.model.background.state_dict()
    assert "background_cycle" in logs and trainer.optimizers["background"].state
    assert any(not torch.equal(before[k], after[k]) for k in before if after[k].is_floating_point())


def test_the_background_schedule_counts_epochs_before_background_start(perceptual, tmp_path):
    import warnings

    trainer = _trainer(tiny_tpsmm(perceptual, **{"train.background_start": "5", "train.milestones": "[1]"}), tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer._step_schedulers()  # no optimiser has stepped yet: PyTorch would warn about each
    assert not [w for w in caught if "lr_scheduler.step()" in str(w.message)]
    assert {name: s.get_last_lr()[0] for name, s in trainer.schedulers.items()} == \
        pytest.approx({"generator": 2e-5, "estimator": 2e-5, "background": 2e-5})


def test_background_cycle_is_zero_for_inverse_transforms():
    from motrans.losses.background import background_cycle

    forward = torch.tensor([[[1.2, 0.1, 0.05], [-0.2, 0.9, 0.0], [0.0, 0.0, 1.0]]])
    assert background_cycle(forward, torch.inverse(forward)).item() < 1e-6
    assert background_cycle(forward, forward).item() > 0.01


# ---------------------------------------------------------------------------------------------------- schedules
def test_tps_dropout_schedule():
    vox = TPSDropoutConfig(until_epoch=35, start_p=0.1, max_p=0.3, ramp_epochs=10)
    assert [tps_dropout(vox, e) for e in (0, 1, 5)] == pytest.approx([0.1, 0.13, 0.25])
    assert tps_dropout(vox, 7) == tps_dropout(vox, 34) == 0.3 and tps_dropout(vox, 35) is None
    taichi = TPSDropoutConfig(until_epoch=35, start_p=0.0, max_p=0.7, ramp_epochs=10)
    assert tps_dropout(taichi, 0) == 0.0  # still the masked softmax (its +1e-6), as the authors
    assert tps_dropout(TPSDropoutConfig(), 0) is None  # off by default


def test_trainer_sets_the_dropout_per_epoch(perceptual, tmp_path):
    trainer = _trainer(tiny_tpsmm(perceptual, **{"train.tps_dropout.until_epoch": "2"}), tmp_path)
    assert trainer.model.dense_motion.dropout == pytest.approx(0.1)
    trainer.set_epoch(1)
    assert trainer.model.dense_motion.dropout == pytest.approx(0.13)
    trainer.set_epoch(2)
    assert trainer.model.dense_motion.dropout is None


def test_dropout_needs_tps_and_a_ramp(perceptual, tmp_path):
    with pytest.raises(ConfigError, match="tps_dropout needs"):
        _trainer(tiny_train_config(perceptual, **{"train.tps_dropout.until_epoch": "3"}), tmp_path)
    with pytest.raises(ConfigError, match="ramp_epochs"):
        _trainer(tiny_tpsmm(perceptual, **{"train.tps_dropout.ramp_epochs": "0"}), tmp_path)


def test_resume_with_dropout_repeats_an_uninterrupted_run(perceptual, tmp_path):
    config = tiny_tpsmm(perceptual, **{"train.tps_dropout.start_p": "0.5", "train.tps_dropout.max_p": "0.5"})
    whole = _trainer(config, tmp_path / "whole", max_steps=3)
    whole.fit()
    _trainer(config, tmp_path / "parts", max_steps=1).fit()
    second = _trainer(config, tmp_path / "parts", max_steps=3, resume=True)
    second.fit()
    a, b = whole.model.state_dict(), second.model.state_dict()
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)


# ---------------------------------------------------------------------------------------------------- optimisers
def test_weight_decay_and_infinity_norm_clip_are_wired(perceptual, tmp_path):
    limit = 1e-4  # small enough that every clipped module is clipped
    config = tiny_tpsmm(perceptual, **{"train.clip_estimator": str(limit), "train.clip_dense_motion": str(limit),
                                       "train.clip_background": str(limit)})
    trainer = _trainer(config, tmp_path)
    assert {n: o.param_groups[0]["weight_decay"] for n, o in trainer.optimizers.items()} == \
        {"generator": 1e-4, "estimator": 1e-4, "background": 1e-4}
    trainer.model.train()
    trainer.train_step(_batch())
    model = trainer.model

    def largest(module):
        return max(p.grad.abs().max().item() for p in module.parameters() if p.grad is not None)
    for module in (model.estimator, model.dense_motion, model.background):  # the ∞-norm: the largest entry is the limit
        assert largest(module) == pytest.approx(limit, rel=1e-4)
    assert largest(model.generator) > 10 * limit  # the inpainting network is not clipped, as the authors


def test_defaults_keep_the_motrans_recipe():
    train = load_config("motrans-vox256").train
    assert (train.weight_decay, train.clip_norm_type, train.clip_dense_motion, train.background_start) == (0, 2, 0, 0)
    assert train.transform.kind == "fomm" and train.loss.warp == train.loss.background_cycle == 0
    assert train.tps_dropout.until_epoch == 0


# ---------------------------------------------------------------------------------------------------- random TPS
def test_tpsmm_random_tps_is_squared_euclidean_with_aligned_corners():
    config = replace(load_config("motrans-vox256").train.transform, kind="tpsmm", sigma_affine=0.0)
    warp = random_tps(2, config, torch.Generator().manual_seed(0))
    assert isinstance(warp, SquaredRandomTPS) and warp.align_corners
    points = torch.rand(2, 7, 2) * 2 - 1
    squared = ((points[:, :, None] - warp.control_points[:, None]) ** 2).sum(-1)  # (B, N, 25)
    expected = points + (squared * torch.log(squared + 1e-9) * warp.control_params).sum(-1, keepdim=True)
    assert torch.allclose(warp.warp_coordinates(points), expected, atol=1e-7)
    fomm = random_tps(2, replace(config, kind="fomm"), torch.Generator().manual_seed(0))
    assert type(fomm) is RandomTPS and torch.equal(fomm.control_params, warp.control_params)  # the same draws
    assert not torch.allclose(fomm.warp_coordinates(points), expected)
    with pytest.raises(ConfigError, match="transform.kind"):
        random_tps(2, replace(config, kind="l2"))


def test_identity_random_tps_keeps_the_frame():
    config = replace(load_config("motrans-vox256").train.transform, kind="tpsmm", sigma_affine=0.0, sigma_tps=0.0)
    frame = torch.rand(1, 3, 16, 16)
    assert torch.allclose(random_tps(1, config).warp_frame(frame), frame, atol=1e-6)


# ---------------------------------------------------------------------------------------------------- YAMLs
@pytest.mark.parametrize("name, dropout, bg_start", [
    ("vox-256", (35, 0.1, 0.3, 10), 10), ("taichi-256", (35, 0.0, 0.7, 10), 0), ("mgif-256", (35, 0.2, 0.5, 10), 0),
    ("ted-384", (35, 0.0, 0.5, 10), 0),
])
def test_released_yamls_translate_the_training_recipe(name, dropout, bg_start):
    config = load_config(REFERENCE / "tpsmm_configs" / f"{name}.yaml")
    train = config.train
    assert train.tps_dropout == TPSDropoutConfig(*dropout) and train.background_start == bg_start
    assert (train.loss.warp, train.loss.background_cycle, train.loss.equivariance_value) == (10, 10, 10)
    assert train.loss.perceptual == (10,) * 5 and train.scales == (1, 0.5, 0.25, 0.125)
    assert train.transform.kind == "tpsmm" and (train.transform.sigma_affine, train.transform.sigma_tps,
                                                train.transform.points_tps) == (0.05, 0.005, 5)
    assert train.weight_decay == 1e-4 and train.clip_norm_type == math.inf
    clips = (train.clip_estimator, train.clip_dense_motion, train.clip_background, train.clip_generator)
    assert clips == (10, 10, 10, 0)
    assert train.lr_generator == train.lr_estimator == train.lr_background == 2e-4 and train.milestones == (70, 90)
    # ∞ survives a checkpoint's JSON and our YAML
    assert config_from_data(json.loads(json.dumps(config_to_dict(config))), "json") == config
    assert config_from_data(__import__("yaml").safe_load(dump_config(config)), "yaml") == config


def test_command_line_spells_infinity(perceptual):
    config = with_overrides(tiny_tpsmm(perceptual), {"train.clip_norm_type": "inf"})
    assert config.train.clip_norm_type == math.inf

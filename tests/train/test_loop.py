import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from motrans.checkpoints import load_model
from motrans.checkpoints.io import read_pickle
from motrans.train.loop import CHECKPOINT, Trainer, TrainingError, TrainOptions

from .helpers import ShiftedPairs, random_mobilenet, tiny_train_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def perceptual(tmp_path_factory):
    return random_mobilenet(tmp_path_factory.mktemp("vgg") / "mobilenet.pt")


def _trainer(config, out, dataset=None, **options):
    options = {"workers": 0, "log_every": 1000, **options}
    return Trainer(config, TrainOptions(out_dir=str(out), **options), dataset=dataset or ShiftedPairs())


def test_overfits_a_fixed_batch(perceptual, tmp_path):
    config = tiny_train_config(perceptual, **{"train.lr_generator": "1e-3", "train.lr_estimator": "1e-3"})
    trainer = _trainer(config, tmp_path)
    batch = next(iter(torch.utils.data.DataLoader(ShiftedPairs(), batch_size=4)))
    trainer.model.train()
    losses = [trainer.train_step(batch)["loss"] for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0], losses[::5]


def test_resume_repeats_an_uninterrupted_run(perceptual, tmp_path):
    config = tiny_train_config(perceptual, **{"train.checkpoint_every": "3", "train.milestones": "[1]"})
    whole = _trainer(config, tmp_path / "whole", max_steps=6)
    whole.fit()
    first = _trainer(config, tmp_path / "parts", max_steps=3)
    first.fit()
    second = _trainer(config, tmp_path / "parts", max_steps=6, resume=True)
    assert second.step == 3
    second.fit()
    a, b = whole.model.state_dict(), second.model.state_dict()
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)
    assert second.schedulers["generator"].get_last_lr() == whole.schedulers["generator"].get_last_lr()


def test_checkpoint_and_export_load(perceptual, tmp_path):
    config = tiny_train_config(perceptual)
    path = _trainer(config, tmp_path, max_steps=2).fit()
    state = read_pickle(tmp_path / CHECKPOINT)
    assert state["step"] == 2 and set(state["optimizers"]) == {"generator", "estimator", "background"}
    exported, checkpoint = load_model(path), load_model(tmp_path / CHECKPOINT)
    assert exported.config == config.model
    for key, value in exported.state_dict().items():
        assert torch.equal(value, checkpoint.state_dict()[key])


def test_nan_loss_stops_with_the_step(perceptual, tmp_path):
    class Poisoned(ShiftedPairs):
        def __getitem__(self, i):
            item = super().__getitem__(i)
            item["driving"] = torch.full_like(item["driving"], float("nan"))
            return item

    trainer = _trainer(tiny_train_config(perceptual), tmp_path, dataset=Poisoned(), max_steps=3)
    with pytest.raises(TrainingError, match="at step 1"):
        trainer.fit()


def test_missing_perceptual_weights_name_the_file(tmp_path):
    from motrans.errors import ConfigError

    config = tiny_train_config(str(tmp_path / "vgg19-dcbb9e9d.pth"), **{"train.perceptual_backbone": "vgg19"})
    with pytest.raises(ConfigError, match="vgg19-dcbb9e9d.pth"):
        _trainer(config, tmp_path)


def test_kill_minus_nine_keeps_the_last_checkpoint(perceptual, tmp_path):
    script = (
        "import sys; sys.path.insert(0, {repo!r});"
        "from tests.train.helpers import ShiftedPairs, tiny_train_config;"
        "from motrans.train.loop import Trainer, TrainOptions;"
        "c = tiny_train_config({p!r}, **{{'train.checkpoint_every': '1'}});"
        "Trainer(c, TrainOptions(out_dir={out!r}, workers=0, max_steps=10000), dataset=ShiftedPairs()).fit()"
    ).format(repo=REPO, p=perceptual, out=str(tmp_path))
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while not (tmp_path / CHECKPOINT).exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # let it be in the middle of later steps and writes
    process.send_signal(signal.SIGKILL)
    process.wait()
    state = read_pickle(tmp_path / CHECKPOINT)
    assert state["step"] >= 1
    resumed = _trainer(tiny_train_config(perceptual), tmp_path, resume=True, max_steps=state["step"] + 1)
    assert resumed.step == state["step"]
    resumed.fit()


def test_mobilenet_backbone_starts_from_the_perceptual_file_and_resume_keeps_trained_weights(perceptual, tmp_path):
    config = tiny_train_config(perceptual, **{"model.estimator.backbone.kind": "mobilenetv2",
                                              "model.estimator.normalize_input": "true"})
    state = torch.load(perceptual, weights_only=True)
    trainer = _trainer(config, tmp_path, max_steps=1)
    for key, value in trainer.model.estimator.backbone.state_dict().items():
        assert torch.equal(value, state[key]), key  # loaded when training starts
    trainer.fit()
    trained = {k: v.clone() for k, v in trainer.model.estimator.backbone.state_dict().items()}
    resumed = _trainer(config, tmp_path, max_steps=2, resume=True)
    for key, value in resumed.model.estimator.backbone.state_dict().items():
        assert torch.equal(value, trained[key]), key  # a resume does not reload ImageNet over trained weights
    assert any(not torch.equal(trained[k], state[k]) for k in trained)


def test_pixel_term_is_the_mean_absolute_error_and_is_off_by_default(perceptual):
    from motrans.losses import Criterion, total
    from motrans.models import build_model

    source, driving = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    off = tiny_train_config(perceptual)
    on = tiny_train_config(perceptual, **{"train.loss.pixel": "7"})
    model = build_model(on.model)
    assert "pixel" not in Criterion(off.train, off.model)(model, source, driving).terms
    torch.manual_seed(0)
    out = Criterion(on.train, on.model)(model, source, driving)
    expected = (out.animation.prediction - driving).abs().mean()
    assert torch.allclose(out.terms["pixel"], expected)
    rest = {k: v for k, v in out.terms.items() if k != "pixel"}
    assert torch.allclose(total(out.terms, on.train.loss) - total(rest, on.train.loss), 7 * expected)

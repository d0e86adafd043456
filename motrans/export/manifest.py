"""manifest.json beside the graphs: what they are, how to feed them, and where they came from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError

NAME = "manifest.json"


@dataclass
class GraphInfo:
    file: str
    inputs: dict[str, list]  # name -> shape, "batch" where it is dynamic
    outputs: dict[str, list]
    max_abs_difference: float | None = None  # against the torch path, float32 graphs only
    torch_spread: float | None = None  # torch's own: how far its outputs move when the inputs move by one ulp
    psnr_db: float | None = None  # int8 renderer: its frames against the float32 renderer's


@dataclass
class Manifest:
    method: str
    frame_size: list[int]
    dtype: str
    opset: int
    motrans_version: str
    checkpoint_sha256: str | None
    motion_fields: list[str]  # which of kp, jacobian, covariance the estimator gives
    graphs: dict[str, GraphInfo] = field(default_factory=dict)

    def write(self, directory: Path) -> None:
        (directory / NAME).write_text(json.dumps(asdict(self), indent=2) + "\n")


def read_manifest(directory: str | Path) -> Manifest:
    path = Path(directory) / NAME
    try:
        data = json.loads(path.read_text())
        graphs = {name: GraphInfo(**info) for name, info in data.pop("graphs").items()}
        return Manifest(**data, graphs=graphs)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise InputError(f"{path}: not a motrans export manifest ({error})") from None

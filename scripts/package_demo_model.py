"""Packages a trained puppet model as the default model: float16 safetensors + SHA-256 in motrans/assets/.

    python scripts/package_demo_model.py runs/puppets/model.safetensors
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from motrans.packaged import package  # noqa: E402

if __name__ == "__main__":
    target = package(sys.argv[1])
    print(f"{target} ({target.stat().st_size / 1e6:.1f} MB)")

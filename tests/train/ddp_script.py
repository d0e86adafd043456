"""Run under torchrun (or plainly) by test_distributed.py: two training steps, global batch 4, then export."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motrans.train.loop import Trainer, TrainOptions  # noqa: E402
from tests.train.helpers import ShiftedPairs, tiny_train_config  # noqa: E402

if __name__ == "__main__":
    out, perceptual = sys.argv[1], sys.argv[2]
    config = tiny_train_config(perceptual)
    Trainer(config, TrainOptions(out_dir=out, workers=0, max_steps=2), dataset=ShiftedPairs()).fit()

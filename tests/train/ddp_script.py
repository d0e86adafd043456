"""Run under torchrun (or plainly) by test_distributed.py: two training steps, global batch 4, then export.

Plain SGD replaces Adam here: an SGD step moves each weight by lr × its gradient, so two runs' weights differ by
lr × their gradients' difference, whatever the CPU's rounding. Adam's first steps are ±lr wherever a gradient is
non-zero, which turns round-off in near-zero gradients into whole steps (a test of one CPU's digits).
`nosync` keeps each process's BatchNorm statistics local: the negative control.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import motrans.train.loop as loop  # noqa: E402
from tests.train.helpers import ShiftedPairs, tiny_train_config  # noqa: E402


def plain_sgd(trainer: loop.Trainer) -> None:
    for name, optimizer in trainer.optimizers.items():
        group = optimizer.param_groups[0]
        trainer.optimizers[name] = torch.optim.SGD(group["params"], lr=group["lr"])


if __name__ == "__main__":
    out, perceptual = sys.argv[1], sys.argv[2]
    if sys.argv[3:] == ["nosync"]:
        loop.synchronise_batch_norm = lambda module, device: module
    options = loop.TrainOptions(out_dir=out, workers=0, max_steps=2)
    trainer = loop.Trainer(tiny_train_config(perceptual), options, dataset=ShiftedPairs())
    plain_sgd(trainer)
    trainer.fit()

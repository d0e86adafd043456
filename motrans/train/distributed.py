"""torchrun-native data parallelism: on exactly when RANK is set. nccl on GPU, gloo on CPU.

BatchNorm statistics are synchronised over all processes, so N processes with batch B/N train like one process
with batch B. On GPU that is torch's SyncBatchNorm; it refuses CPU tensors, so on CPU `GlobalBatchNorm` does the
same with a differentiable all-reduce of per-channel sums.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def setup(device: torch.device) -> World:
    """Joins the process group when launched by torchrun; a plain run is a world of one."""
    if "RANK" not in os.environ:
        return World()
    world = World(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return world


def device_for(name: str) -> torch.device:
    """"auto" is CUDA when present; under torchrun each process takes the GPU of its LOCAL_RANK. A device this
    machine lacks (cuda without a GPU, cuda:7 on a 2-GPU machine) is an InputError naming it."""
    from ..validate import device as checked_device

    device = checked_device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    return device


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def mean_over_ranks(values: dict[str, float], world: World) -> dict[str, float]:
    """Averages scalar logs over processes (for logging on rank 0)."""
    if not world.distributed or not values:
        return values
    names = sorted(values)
    tensor = torch.tensor([values[n] for n in names], dtype=torch.float64)
    dist.all_reduce(tensor)
    return {n: v / world.size for n, v in zip(names, tensor.tolist())}


class GlobalBatchNorm(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics cover the batch of every process (CPU and GPU)."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or not dist.is_initialized():
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        total = x.numel() / x.shape[1] * dist.get_world_size()  # values per channel, over every process
        # Two passes, the mean first: E[x²] − E[x]² in float32 cancels where |mean| ≫ std and would give N
        # processes a coarser variance than one process gets.
        mean = all_reduce(x.sum(dim=(0, 2, 3))) / total  # (C,)
        centred = x - mean.view(1, -1, 1, 1)
        var = all_reduce((centred * centred).sum(dim=(0, 2, 3))) / total  # biased, as BN normalises with
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.detach())
            unbiased = var.detach() * total / (total - 1)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased)
        shape = (1, -1, 1, 1)
        out = centred / torch.sqrt(var.view(shape) + self.eps)
        return out * self.weight.view(shape) + self.bias.view(shape) if self.affine else out


def synchronise_batch_norm(module: nn.Module, device: torch.device) -> nn.Module:
    """Every BatchNorm2d -> a synchronised one with the same parameters and buffers (keys unchanged)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            replacement = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                          child.track_running_stats)
            # The same Parameter and buffer objects: optimizers and state dicts see no difference.
            replacement.weight, replacement.bias = child.weight, child.bias
            replacement.running_mean, replacement.running_var = child.running_mean, child.running_var
            replacement.num_batches_tracked = child.num_batches_tracked
            setattr(module, name, replacement)
        else:
            synchronise_batch_norm(child, device)
    return module


class EpochSampler(torch.utils.data.Sampler):
    """A seeded permutation per epoch, cut into global batches; each rank takes its slice of every batch.

    With `skip` the first batches of the epoch are left out, which is how a resumed run continues exactly where
    the checkpoint was taken, without touching the data it already saw.
    """

    def __init__(self, length: int, global_batch: int, world: World, seed: int, epoch: int = 0, skip: int = 0):
        self.length, self.global_batch, self.world, self.seed = length, global_batch, world, seed
        self.epoch, self.skip = epoch, skip

    def batches_per_epoch(self) -> int:
        return self.length // self.global_batch  # drop_last, as the authors do

    def __iter__(self):
        order = torch.randperm(self.length, generator=torch.Generator().manual_seed(self.seed * 10_007 + self.epoch))
        local = self.global_batch // self.world.size
        for b in range(self.skip, self.batches_per_epoch()):
            start = b * self.global_batch + self.world.rank * local
            yield from order[start: start + local].tolist()

    def __len__(self) -> int:
        return (self.batches_per_epoch() - self.skip) * (self.global_batch // self.world.size)

"""Many jobs over torchrun's processes: who I am, which jobs are mine, and everyone's results on every rank.

Under `torchrun` (RANK and WORLD_SIZE set) each process takes a disjoint share of the jobs, longest first and
balanced by frame count; a plain run is a world of one that takes them all. Results travel over a gloo process
group whatever the device: they are a few rows of Python values, and gloo works on CPU-only machines and across
machines alike. The split is computed by every rank from the same numbers, so no rank has to send it.
"""

from __future__ import annotations

import contextlib
import heapq
import os
from collections.abc import Iterator
from datetime import timedelta

import torch
import torch.distributed as dist

from .train.distributed import World

# A rank that finishes its share waits for the slowest one at the merge: hours, on a long test set.
MERGE_TIMEOUT = timedelta(days=7)


def world_from_env() -> World:
    """torchrun's RANK, WORLD_SIZE and LOCAL_RANK; a plain run is a world of one."""
    if "RANK" not in os.environ:
        return World()
    return World(int(os.environ["RANK"]), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))


@contextlib.contextmanager
def joined() -> Iterator[World]:
    """This process's World, inside torchrun's process group (joined here, and left here, unless the caller had
    joined it already); threads split across the ranks of this machine."""
    world = world_from_env()
    own = world.distributed and not dist.is_initialized()
    if own:
        dist.init_process_group("gloo", timeout=MERGE_TIMEOUT)
    split_threads(world)
    try:
        yield world
    finally:
        if own and dist.is_initialized():
            dist.destroy_process_group()


def split_threads(world: World) -> None:
    """N processes on one machine share its cores, unless OMP_NUM_THREADS says otherwise (torchrun sets it to 1
    when it starts several processes; set it to cores / N to use every core)."""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    if world.distributed and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))


def local_device(name: str, world: World) -> str:
    """"auto" or "cuda" under torchrun is this process's own GPU, cuda:LOCAL_RANK (more processes than GPUs take
    turns: LOCAL_RANK modulo the count); anything else as given."""
    if world.distributed and name in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{world.local_rank % torch.cuda.device_count()}"
    return name


def balanced(weights: list[int], ranks: int) -> list[list[int]]:
    """Job indices per rank: longest first, each job to the rank with the fewest frames so far (ties: the lower
    rank, then the lower index), which keeps the slowest rank within one job of the mean. Each share lists its
    jobs in the order they were given out (longest first)."""
    shares: list[list[int]] = [[] for _ in range(ranks)]
    loads = [(0, rank) for rank in range(ranks)]  # a heap of (frames, rank)
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        load, rank = heapq.heappop(loads)
        shares[rank].append(index)
        heapq.heappush(loads, (load + weights[index], rank))
    return shares


def my_share(weights: list[int], world: World) -> list[int]:
    """The indices of the jobs this rank runs."""
    return balanced(weights, world.size)[world.rank]


def everyone(items: list, world: World) -> list:
    """The concatenation of every rank's `items`, on every rank (rank 0's first). Waits for all ranks."""
    if not world.distributed:
        return list(items)
    gathered: list = [None] * world.size
    dist.all_gather_object(gathered, list(items))
    return [item for share in gathered for item in share]

"""Distributed data parallel training (``train.strategy: ddp``; docs/distributed.md).

What makes a run on W processes the run on one process with the same global batch:

* :class:`ShardedBatchSampler`: the permutation of an epoch depends only on (seed,
  epoch), as on one process; global batch s (``train.batch_size`` samples) is split
  into W contiguous parts, one per process (sizes differ by at most one).
* :func:`loss_weight`: each process's loss is a mean over its own samples; weighted by
  ``W * b_r / B`` before DDP averages the gradients over the W processes, the update
  is the one of the mean over the global batch, also for an uneven last batch.
* :class:`GlobalBatchNorm1d`: the MLP blocks' BatchNorm normalises with the
  statistics of the global batch (sums and counts all-reduced with autograd, in
  float64), on CPUs (gloo) and GPUs alike; PyTorch's ``SyncBatchNorm`` has no CPU
  path.
* :func:`rank_seed`: process r > 0 draws its Gumbel noise (and augmentation) from its
  own stream; process 0 draws exactly the noise of a one-process run. The noise of
  the other processes' samples therefore differs from a one-process run: the
  deterministic parts are the same to float rounding, the random parts are the same
  in distribution.

Only global rank 0 writes the run directory (config, normaliser, checkpoints, logs)
and evaluates; :func:`is_global_zero_process` reads the rank before Lightning starts, from the
environment of whichever launcher started the process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Sampler

__all__ = [
    "GlobalBatchNorm1d", "ShardedBatchSampler", "check_same_data", "check_world",
    "is_global_zero_process",
    "loss_weight",
    "rank_seed", "shard", "use_global_batch_norm",
]  # fmt: skip


def is_global_zero_process() -> bool:
    """Whether this process is global rank 0 as its launcher set it (True when not
    distributed).

    torchrun / TorchElastic: ``RANK``; SLURM (Lightning's detection: ``srun`` in a
    batch job): ``SLURM_PROCID``; Lightning's own launcher (``nri train --devices N``
    re-runs the command with ``LOCAL_RANK`` and ``NODE_RANK``): 0 only for local rank
    0 on node 0.
    """
    from lightning.fabric.plugins.environments import (
        SLURMEnvironment,
        TorchElasticEnvironment,
    )

    if TorchElasticEnvironment.detect():
        return os.environ["RANK"] == "0"
    if SLURMEnvironment.detect():
        return os.environ.get("SLURM_PROCID", "0") == "0"
    return (
        os.environ.get("LOCAL_RANK", "0") == "0"
        and os.environ.get("NODE_RANK", "0") == "0"
    )


def check_world(
    world: int,
    batch_size: int,
    n_train: int,
    n_valid: int,
    per_sample_state: bool,
    model: str,
) -> None:
    """Refuse a distributed run that cannot be the one-process run (one line each).

    Every process needs at least one sample of every global batch and of the
    validation split; a model that keeps per-sample state (ModularMeta) trains on one
    process only.

    Raises:
        ConfigError: naming the setting and the fix.
    """
    from nri.config import ConfigError

    if world <= 1:
        return
    fix = f"use --devices {{}} or fewer (train.devices x train.num_nodes = {world})"
    if per_sample_state:
        raise ConfigError(
            f"model {model} keeps per-sample state and trains on one process only; "
            "drop --strategy ddp / --devices"
        )
    for what, n in (("train.batch_size", batch_size), ("training samples", n_train),
                    ("validation samples", n_valid)):  # fmt: skip
        if n < world:
            raise ConfigError(
                f"{world} processes need at least {world} {what}, got {n}; "
                + fix.format(max(1, n))
            )


def check_same_data(x: Tensor) -> None:
    """Refuse a distributed run whose processes read different training data (another
    data path on one node, files changed between the starts): every process compares
    the shape and the float64 sums of its normalised training tensor with rank 0's.

    Raises:
        DataError: on every process, naming the first process that differs.
    """
    from nri.data.dataset import DataError

    xd = x.double()
    mine = (tuple(x.shape), float(xd.sum()), float(xd.abs().sum()))
    every: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(every, mine)
    for r, other in enumerate(every):
        if other != every[0]:
            raise DataError(
                f"process {r} read other training data than process 0 (shape "
                f"{other[0]} vs {every[0][0]}, or other values): every process must read "
                "the same data set, with the same normalisation"
            )


def shard(n: int, world: int, rank: int) -> slice:
    """Rank ``rank``'s contiguous part of ``n`` items split over ``world`` processes
    (the first ``n % world`` parts have one item more)."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


class ShardedBatchSampler(Sampler[list[int]]):
    """This process's part of every global batch of an epoch.

    ``sampler`` gives the order of the epoch (:class:`EpochShuffleSampler`: a function
    of seed and epoch; Lightning calls its ``set_epoch``); global batch s is positions
    ``s*B .. s*B + B - 1`` of that order, and process r takes part r of it
    (:func:`shard`). A last global batch with fewer samples than processes is left out
    (at most W - 1 samples per epoch), since every process must take part in every step.

    Args:
        sampler: the epoch order (or None: 0 .. n-1).
        n: samples.
        batch_size: the global batch B.
        world, rank: processes and this one's rank.
    """

    def __init__(
        self,
        sampler: Sampler[int] | None,
        n: int,
        batch_size: int,
        world: int,
        rank: int,
    ) -> None:
        self.sampler = sampler
        self.n, self.batch_size, self.world, self.rank = n, batch_size, world, rank

    def __iter__(self) -> Iterator[list[int]]:
        order = list(self.sampler) if self.sampler is not None else list(range(self.n))
        for s in range(len(self)):
            batch = order[s * self.batch_size : (s + 1) * self.batch_size]
            yield batch[shard(len(batch), self.world, self.rank)]

    def __len__(self) -> int:
        full, last = divmod(self.n, self.batch_size)
        return full + (1 if last >= self.world else 0)


def loss_weight(
    local: int, world: int, strategy: Any, device: torch.device | str = "cpu"
) -> float:
    """``W * b_r / B`` for this step: with it DDP's mean of the processes' gradients is
    the gradient of the mean over the global batch (B all-reduced over processes, on
    ``device``: the process's device, as nccl needs)."""
    count = torch.tensor(float(local), device=device)
    total = strategy.reduce(count, reduce_op="sum")
    return world * local / float(total)


def rank_seed(seed: int, rank: int) -> int:
    """The seed of process ``rank``'s noise from the one-process seed (rank 0 keeps it)."""
    if rank == 0:
        return seed
    return (seed + rank * 0x9E3779B97F4A7C15) % (2**63 - 1)


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes; the gradient of each process's input is the sum of the
    output gradients (every process's loss depends on every input)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:  # noqa: ANN401
        x = x.clone()
        torch.distributed.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:  # noqa: ANN401
        grad = grad.clone()
        torch.distributed.all_reduce(grad)
        return grad


class GlobalBatchNorm1d(nn.BatchNorm1d):
    """``BatchNorm1d`` whose training statistics are those of all processes' rows.

    In training with an initialised process group of more than one process: mean and
    biased variance of the rows of every process (sums, sums of squares and counts
    all-reduced in float64, with gradients), the running statistics updated with the
    unbiased variance, as ``BatchNorm1d`` on the concatenated rows. Otherwise exactly
    ``BatchNorm1d``. Same parameters and buffers (checkpoints are interchangeable).

    Shapes:
        x ``[M, C]`` -> ``[M, C]``.
    """

    def forward(self, x: Tensor) -> Tensor:
        dist = torch.distributed
        if not (
            self.training
            and dist.is_available()
            and dist.is_initialized()
            and dist.get_world_size() > 1
        ):
            return super().forward(x)
        xd = x.double()
        count = torch.full(
            (1,), float(x.shape[0]), dtype=torch.float64, device=x.device
        )
        stats = _AllReduceSum.apply(torch.cat([xd.sum(0), (xd * xd).sum(0), count]))
        c = x.shape[1]
        total = stats[-1]
        mean = stats[:c] / total  # [C]
        var = (stats[c : 2 * c] / total - mean * mean).clamp(min=0.0)  # biased
        if self.track_running_stats and self.running_mean is not None:
            assert self.running_var is not None and self.num_batches_tracked is not None
            self.num_batches_tracked.add_(1)
            n_seen = float(self.num_batches_tracked)
            m = self.momentum if self.momentum is not None else 1.0 / n_seen
            with torch.no_grad():
                unbiased = var * total / (total - 1).clamp(min=1.0)
                self.running_mean.mul_(1 - m).add_(m * mean.to(x.dtype))
                self.running_var.mul_(1 - m).add_(m * unbiased.to(x.dtype))
        inv = torch.rsqrt(var + self.eps).to(x.dtype)  # [C]
        y = (x - mean.to(x.dtype)) * inv
        if self.affine:
            y = y * self.weight + self.bias
        return y


def use_global_batch_norm(module: nn.Module) -> int:
    """Make every ``BatchNorm1d`` of ``module`` a :class:`GlobalBatchNorm1d` in place
    (same parameters and buffers); returns how many were converted."""
    count = 0
    for m in module.modules():
        if type(m) is nn.BatchNorm1d:
            m.__class__ = GlobalBatchNorm1d
            count += 1
    return count

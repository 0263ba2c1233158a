"""Validation edge metrics over the processes of a distributed run (docs/distributed.md).

Each process scores its part of the validation split into an
:class:`~nri.metrics.EdgeMetrics`; :func:`gather_edge_metrics` merges them into the
metrics of the whole split: the confusion matrix and the accuracy and asymmetry sums
and counts on every process (they are small, and ``val/acc_perm`` may stop the run on
every process), the posteriors that the AUROC ranks on global rank 0 only.
"""

from __future__ import annotations

import torch
from torch import Tensor

from nri.metrics import EdgeMetrics

__all__ = ["gather_edge_metrics"]


def _padded(conf: Tensor, n_classes: int) -> Tensor:
    extra = n_classes - conf.shape[1]
    return (
        conf
        if extra == 0
        else torch.cat([conf, conf.new_zeros(conf.shape[0], extra)], 1)
    )


def gather_edge_metrics(em: EdgeMetrics) -> EdgeMetrics:
    """``em`` merged over all processes of the initialised process group.

    Every process gets the summed confusion matrix (label classes padded to the
    largest) and the summed accuracy and asymmetry totals and counts; global rank 0
    also gets every process's posteriors and labels (in rank order), so its
    ``compute()`` gives the AUROC of the whole split. On the other ranks the AUROC of
    ``compute()`` is that of their own part only: log it from rank 0.
    """
    dist = torch.distributed
    small = (em.confusion.cpu(), em.acc.total, em.acc.count, em.asym.total,
             em.asym.count)  # fmt: skip
    parts: list[tuple] = [None] * dist.get_world_size()  # type: ignore[list-item]
    dist.all_gather_object(parts, small)
    n_classes = max(int(p[0].shape[1]) for p in parts)
    out = EdgeMetrics(em.n_edge_types, n_classes, em.skip_first, em.acc.weighting)
    out.confusion = sum(_padded(p[0], n_classes) for p in parts)  # type: ignore[assignment]
    out.acc.total, out.acc.count = sum(p[1] for p in parts), sum(p[2] for p in parts)
    out.asym.total, out.asym.count = sum(p[3] for p in parts), sum(p[4] for p in parts)
    mine = (torch.cat(em._q), torch.cat(em._labels)) if em._q else None
    rank = dist.get_rank()
    scores: list[tuple | None] | None = (
        [None] * dist.get_world_size() if rank == 0 else None
    )
    dist.gather_object(mine, scores, dst=0)
    if rank == 0:
        assert scores is not None
        got = [s for s in scores if s is not None]
        out._q = [q for q, _ in got]
        out._labels = [lab for _, lab in got]
    else:
        out._q, out._labels = list(em._q), list(em._labels)
    return out

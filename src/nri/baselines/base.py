"""What the baselines share: the closed-form model interface and a few small helpers.

A *closed-form* model (:class:`ClosedFormModel`: the correlation and static baselines)
has no gradient training: ``nri train`` calls its :meth:`ClosedFormModel.fit_splits`
once instead of running Lightning, then writes the same run directory (config,
normaliser, ``best.ckpt`` / ``last.ckpt``, ``logs/metrics.csv``), so ``nri evaluate``
treats every model alike (``nri.training.fit``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from nri.data.dataset import Split
from nri.models.outputs import CapabilityError, EvalOutput

__all__ = [
    "CapabilityError", "ClosedFormModel", "check_frames", "eval_without_decoder",
    "nan_horizons", "no_graph", "squared_errors",
]  # fmt: skip


class ClosedFormModel(nn.Module):
    """A model fitted without gradients: :meth:`fit_splits` replaces training.

    Subclasses keep everything they fit in buffers (so it is saved in the checkpoint's
    ``state_dict`` and restored by ``nri.training.fit.load_run``) and implement
    ``selection_metric`` and ``evaluate_batch`` like the trainable models.
    """

    def fit_splits(self, train: Split, valid: Split) -> dict[str, float]:
        """Fit on the data and return what to log (must contain the selection metric).

        Shapes:
            ``train.x`` / ``valid.x`` ``[S, N, T, F]``; ``edges`` ``[S, E]``.
        """
        raise NotImplementedError

    def selection_metric(self) -> tuple[str, str]:
        """The logged value reported as the run's score, and whether lower or higher
        is better ("min" / "max")."""
        raise NotImplementedError


def no_graph(x: Tensor) -> Tensor:
    """The edge argument handed to a step function of a model without a graph: an
    empty ``[B, 0, 0]`` tensor (the step ignores it).

    Shapes:
        x ``[B, ...]`` -> ``[B, 0, 0]``.
    """
    return x.new_zeros(x.shape[0], 0, 0)


def nan_horizons(n_steps: int) -> Tensor:
    """``[H]`` float64 NaN: the squared-error sums of a model without a decoder."""
    return torch.full((n_steps,), math.nan, dtype=torch.float64)


def eval_without_decoder(
    logits: Tensor, z: Tensor, x: Tensor, test_horizon: int
) -> EvalOutput:
    """:class:`~nri.models.nri.EvalOutput` of a relations-only model: its edge
    ``logits`` and graph ``z``, NaN squared errors (so every MSE reads NaN / "n/a").

    Shapes:
        logits, z ``[B, E, K]``; x ``[B, N, L, F]``.
    """
    b, n, _, f = x.shape
    nan = nan_horizons(test_horizon)
    return EvalOutput(logits, z, nan, b * n * f, nan[0], 1)


def squared_errors(
    pred: Tensor, target: Tensor, pred1: Tensor, target1: Tensor
) -> tuple[Tensor, int, Tensor, int]:
    """Sums of squared errors per horizon and of the one-step errors, with counts, as
    :class:`~nri.models.nri.EvalOutput` holds them (float64).

    Shapes:
        pred, target ``[B, N, H, F]``; pred1, target1 ``[B, N, T', F]`` ->
        (``[H]``, ``B * N * F``, scalar, ``pred1.numel()``).
    """
    b, n, _, f = pred.shape
    sq = (pred.double() - target.double()).pow(2).sum(dim=(0, 1, 3))  # [H]
    sq1 = (pred1.double() - target1.double()).pow(2).sum()
    return sq, b * n * f, sq1, pred1.numel()


def check_frames(
    name: str, x: Tensor, n_features: int, min_frames: int, n_objects: int | None = None
) -> None:
    """One clear line when ``x`` is not ``[B, N, T, F]`` with enough frames."""
    bad = x.ndim != 4 or x.shape[3] != n_features or x.shape[2] < min_frames
    bad = bad or x.shape[1] < 2 or (n_objects is not None and x.shape[1] != n_objects)
    if bad:
        objects = f"N={n_objects}" if n_objects is not None else "N >= 2"
        raise ValueError(
            f"{name}: x must be [B, N, T, F] with {objects}, F={n_features} and "
            f"T >= {min_frames}, got {tuple(x.shape)}"
        )

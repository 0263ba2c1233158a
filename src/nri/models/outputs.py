"""What every model's ``loss`` / ``validation_loss`` and ``evaluate_batch`` return
(NRI, NRI-MPM and the baselines alike; read by nri.training and nri.evaluate)."""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

__all__ = ["CapabilityError", "EvalOutput", "LossOutput"]


class CapabilityError(ValueError):
    """The model cannot do what was asked (e.g. forecasting with a relations-only
    model, or inferring a graph with a dynamics-only one)."""


class LossOutput(NamedTuple):
    """``loss`` (scalar, float32), ``logs`` (scalar tensors, detached), ``logits``
    (``[B, E, K]``; None for models that infer no graph)."""

    loss: Tensor
    logs: dict[str, Tensor]
    logits: Tensor | None


class EvalOutput(NamedTuple):
    """Sums for one test batch, to be accumulated over the split.

    Fields:
        logits: ``[B, E, K]`` encoder logits on frames ``0 .. T-1`` (None: the model
            infers no graph).
        z: ``[B, E, K]`` the (hard) graph used by the decoder (None: no graph).
        sq_err: ``[H]`` float64, sum over batch, objects and features of the squared
            error of the h-step-ahead prediction (frame ``T + h``).
        count: ``B * N * F``, the number of terms in each entry of ``sq_err``.
        one_step_sq_err: scalar float64, sum of squared one-step errors over the last
            ``T`` frames (pure teacher forcing).
        one_step_count: number of terms in ``one_step_sq_err``.
    """

    logits: Tensor | None
    z: Tensor | None
    sq_err: Tensor
    count: int
    one_step_sq_err: Tensor
    one_step_count: int

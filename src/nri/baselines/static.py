"""Static baseline ``x_hat[t + k] = x[t]``: the MSE floor (spec/evaluation.md 3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from nri.baselines.base import (
    CapabilityError,
    ClosedFormModel,
    check_frames,
    squared_errors,
)
from nri.data.dataset import Split
from nri.models.encoders import EncoderOutput
from nri.models.outputs import EvalOutput
from nri.models.validation import check_fields

CHUNK = 2048  # samples at a time when fitting (bounds the float64 copies)


@dataclass(frozen=True)
class StaticConfig:
    """Settings of the static baseline: only the frames of the test protocol."""

    n_features: int = 4  # F
    n_timesteps: int = 49  # T: the prediction starts from frame T (spec 2)
    test_horizon: int = 20  # H predicted frames

    def __post_init__(self) -> None:
        check_fields(self, positive_ints=("n_features", "n_timesteps", "test_horizon"))


class Static(ClosedFormModel):
    """Static baseline: every future frame equals the last observed one (printed as
    "MSE Baseline" by NRI's ``train_dec.py`` and ``lstm_baseline.py``;
    spec/evaluation.md 3.1). Nothing is fitted; ``nri train`` only records the
    validation one-step MSE ``mean (x[t+1] - x[t])^2``.

    Args:
        config: a :class:`StaticConfig`.

    Shapes:
        x ``[B, N, T, F]``; predictions ``[B, N, T', F]``.
    """

    def __init__(self, config: StaticConfig) -> None:
        super().__init__()
        self.config = config

    def selection_metric(self) -> tuple[str, str]:
        """The validation one-step MSE (reported, nothing is selected)."""
        return "val/mse_1step", "min"

    def fit_splits(self, train: Split, valid: Split) -> dict[str, float]:
        """Nothing to fit: returns the one-step MSE of both splits."""
        logs = {}
        for name, split in (("train", train), ("val", valid)):
            total, count = 0.0, 0
            for i in range(0, len(split.x), CHUNK):  # bounded float64 copies
                x = split.x[i : i + CHUNK].double()  # [S', N, T, F]
                total += float((x[:, :, 1:] - x[:, :, :-1]).pow(2).sum())
                count += x[:, :, 1:].numel()
            logs[f"{name}/mse_1step"] = total / count if count else float("nan")
        return logs

    def predict(self, x: Tensor, z: Tensor | None, pred_steps: int) -> Tensor:
        """Teacher forcing every ``pred_steps`` frames: output ``j`` (frame ``j + 1``)
        repeats the ground-truth frame ``P * floor(j / P)``. ``z`` is ignored.

        Shapes:
            x ``[B, N, L, F]`` -> ``[B, N, L-1, F]``.
        """
        check_frames("Static", x, self.config.n_features, 2)
        if pred_steps < 1:
            raise ValueError(f"pred_steps must be >= 1, got {pred_steps}")
        src = torch.arange(x.shape[2] - 1, device=x.device) // pred_steps * pred_steps
        return x.index_select(2, src)  # [B, N, L-1, F]

    def forecast(self, x_hist: Tensor, z: Tensor | None, n_steps: int) -> Tensor:
        """The last frame of ``x_hist`` repeated ``n_steps`` times. ``z`` is ignored.

        Shapes:
            x_hist ``[B, N, T, F]`` -> ``[B, N, n_steps, F]``.
        """
        check_frames("Static", x_hist, self.config.n_features, 1)
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        last = x_hist[:, :, -1:]  # [B, N, 1, F]
        return last.expand(-1, -1, n_steps, -1).clone()

    def encode(self, x: Tensor) -> EncoderOutput:
        """Not available: the static baseline has no graph."""
        raise CapabilityError("the static baseline infers no relations")

    @torch.no_grad()
    def evaluate_batch(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> EvalOutput:
        """Test protocol (spec/evaluation.md 2, 3.1): frames ``T + 1 .. T + H`` are
        predicted as frame ``T``; one-step errors on the last ``T`` frames; no graph
        (``logits`` and ``z`` are None). ``generator`` and ``edge_types`` are unused.

        Shapes:
            x ``[B, N, L, F]`` with ``L >= T + 1 + test_horizon``.
        """
        c = self.config
        t, h = c.n_timesteps, c.test_horizon
        check_frames("Static", x, c.n_features, t + 1 + h)
        pred = self.forecast(x[:, :, : t + 1], None, h)  # [B, N, H, F]
        window = x[:, :, -t:]  # last T frames
        pred1 = self.predict(window, None, 1)  # [B, N, T-1, F]
        sq, count, sq1, count1 = squared_errors(
            pred, x[:, :, t + 1 : t + 1 + h], pred1, window[:, :, 1:]
        )
        return EvalOutput(None, None, sq, count, sq1, count1)

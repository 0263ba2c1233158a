"""Rollouts of a one-step decoder: teacher forcing, burn-in, forecasting (spec 6).

A decoder step is any callable ``step(x_t, z, state) -> (x_next, state)`` with
``x_t [B, N, F]`` or ``[B, N, S, F]`` and ``z [B, E, K]``; ``state=None`` starts
afresh. Outputs are aligned so that output ``j`` predicts frame ``j + 1``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

StepFn = Callable[[Tensor, Tensor, Tensor | None], tuple[Tensor, Tensor | None]]

__all__ = ["StepFn", "rollout", "rollout_sequential", "forecast", "random_window"]


def _check_x(x: Tensor, min_frames: int = 2) -> None:
    if x.ndim != 4 or x.shape[2] < min_frames:
        raise ValueError(
            f"x must be [B, N, T, F] with T >= {min_frames}, got {tuple(x.shape)}"
        )


def rollout(step: StepFn, x: Tensor, z: Tensor, pred_steps: int) -> Tensor:
    """Periodic teacher forcing with segments as a batch axis (Eqs. (19)-(20)).

    Segments start at the ground-truth frames ``0, P, 2P, ...`` (those before the last
    frame), are stacked on a segment axis and rolled out in parallel for
    ``min(P, L - 1)`` steps with the same graph; the state restarts in every segment
    (right for the Markovian MLP decoder). Output ``j`` is a ``(j mod P) + 1``-step
    prediction of frame ``j + 1``.

    Args:
        step: one-step decoder.
        x: ground-truth window.
        z: edge weights.
        pred_steps: P >= 1; ``P = 1`` is one-step teacher forcing.

    Shapes:
        x ``[B, N, L, F]``, z ``[B, E, K]`` -> ``[B, N, L - 1, F]``.
    """
    _check_x(x)
    if pred_steps < 1:
        raise ValueError(f"pred_steps must be >= 1, got {pred_steps}")
    b, n, length, f = x.shape
    cur = x[:, :, : length - 1 : pred_steps]  # [B, N, S, F] segment starts
    state: Tensor | None = None
    preds, frames = [], []
    for m in range(min(pred_steps, length - 1)):
        # Segments whose (m+1)-th prediction still lies inside the window: the last
        # segment is shorter when P does not divide L - 1 (no wasted decoder work).
        n_live = (length - 2 - m) // pred_steps + 1
        if n_live < cur.shape[2]:
            cur = cur[:, :, :n_live]
            state = None if state is None else state[:, :, :n_live]
        cur, state = step(cur, z, state)  # [B, N, S', F]
        preds.append(cur)
        frames.extend(s * pred_steps + m for s in range(n_live))
    out = torch.cat(preds, dim=2)  # [B, N, L - 1, F], step-major
    order = torch.argsort(torch.tensor(frames, device=x.device))  # -> frame order
    return out.index_select(2, order)  # [B, N, L - 1, F]


def rollout_sequential(
    step: StepFn,
    x: Tensor,
    z: Tensor,
    pred_steps: int = 1,
    burn_in_steps: int | None = None,
    graph_at: Callable[[int], Tensor] | None = None,
) -> Tensor:
    """Sequential rollout with the state carried through (the RNN decoder's mode).

    The input at step ``s = 0 .. L-2`` is the ground truth ``x_s`` if
    ``s <= burn_in_steps`` (burn-in mode, when ``burn_in_steps`` is given) or if
    ``s % pred_steps == 0`` (otherwise), else the previous prediction.

    ``graph_at`` (burn-in mode only) gives the graph of every step
    ``s >= burn_in_steps`` instead of ``z``: the reference's dynamic graph
    (spec/nri.md 6.1, quirk Q14), typically re-inferred from the ground-truth frames
    ``[s - burn_in_steps, s)``, which lie inside the predicted horizon for later steps.

    Shapes:
        x ``[B, N, L, F]``, z and ``graph_at(s)`` ``[B, E, K]`` -> ``[B, N, L - 1, F]``.
    """
    _check_x(x)
    if pred_steps < 1:
        raise ValueError(f"pred_steps must be >= 1, got {pred_steps}")
    if graph_at is not None and burn_in_steps is None:
        raise ValueError("graph_at (dynamic graph) needs burn_in_steps")
    state: Tensor | None = None
    preds: list[Tensor] = []
    for s in range(x.shape[2] - 1):
        if graph_at is not None and burn_in_steps is not None and s >= burn_in_steps:
            z = graph_at(s)
        if burn_in_steps is not None:
            truth = s <= burn_in_steps
        else:
            truth = s % pred_steps == 0
        x_in = x[:, :, s] if truth else preds[-1]  # [B, N, F]
        x_next, state = step(x_in, z, state)
        preds.append(x_next)
    return torch.stack(preds, dim=2)  # [B, N, L - 1, F]


def forecast(
    step: StepFn, x_hist: Tensor, z: Tensor, n_steps: int, burn_in: bool
) -> Tensor:
    """Predict the ``n_steps`` frames after the last given frame, autoregressively.

    With ``burn_in`` the step first reads the history frames ``0 .. T-2`` (ground truth,
    outputs discarded) so that its state has seen the whole history (RNN decoder);
    without it only the last frame is used (Markovian decoders).

    Shapes:
        x_hist ``[B, N, T, F]``, z ``[B, E, K]`` -> ``[B, N, n_steps, F]``.
    """
    _check_x(x_hist, min_frames=1)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    state: Tensor | None = None
    if burn_in:
        for t in range(x_hist.shape[2] - 1):
            _, state = step(x_hist[:, :, t], z, state)
    cur = x_hist[:, :, -1]  # [B, N, F]
    preds = []
    for _ in range(n_steps):
        cur, state = step(cur, z, state)
        preds.append(cur)
    return torch.stack(preds, dim=2)  # [B, N, n_steps, F]


def random_window(
    x: Tensor, frames: int | None, generator: torch.Generator | None = None
) -> tuple[Tensor, float]:
    """A random contiguous window of ``frames`` frames for the training decoder.

    The training recipe ``decoder_window`` (docs/training.md): the encoder reads the
    whole window, the decoder predicts only a random stretch of it, which costs
    ``(frames - 1) / (L - 1)`` of the full rollout. The start is uniform over the
    ``L - frames + 1`` possible starts (one per batch, from ``generator``). The second
    value rescales the stretch's NLL to the full window, ``(L - 1) / (frames - 1)``,
    so that the balance of the NLL against the KL terms is that of the full ELBO.
    ``frames=None`` or ``frames >= L`` returns ``(x, 1.0)``.

    Shapes:
        x ``[B, N, L, F]`` -> (``[B, N, frames, F]``, scale).
    """
    _check_x(x)
    length = x.shape[2]
    if frames is None or frames >= length:
        return x, 1.0
    if frames < 2:
        raise ValueError(f"a decoder window needs at least 2 frames, got {frames}")
    start = int(torch.randint(0, length - frames + 1, (1,), generator=generator).item())
    return x[:, :, start : start + frames], (length - 1) / (frames - 1)

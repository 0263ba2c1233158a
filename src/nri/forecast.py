"""Forecasts of own data with a trained run, on the user's time axis.

:func:`forecast_trajectories` continues every sample from a frame the user chooses
(default: after its last frame). With ``at = A`` (default ``A = T``, the number of
frames): the graph is inferred from frames ``A - W .. A - 1`` (W = ``model.n_timesteps``)
and the decoder predicts frames ``A .. A + K - 1`` from frame ``A - 1`` (MLP decoder,
NRI-MPM's ST decoder, which starts with empty hidden states) or after a burn-in over the
W frames (NRI's RNN decoder). Frames of the data at ``A ..`` (a held-out tail) come back
as ``observed`` for comparison.

Time stamps continue the data's own axis: ISO stamps in give ISO stamps out, numbers
give numbers, data without times give frame indices. Inputs are normalised with the
run's normaliser and forecasts mapped back with its inverse (the data's units).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nri import progress
from nri.data.dataset import DataError
from nri.data.series import Series
from nri.eval_batch import resolve_eval_batch
from nri.run_data import as_run, as_series, check_data, encode, match_series, normalised
from nri.training.run_dir import LoadedRun

GraphMode = Literal["argmax", "sample", "probs"]

__all__ = ["Forecast", "GraphMode", "first_frame", "forecast_trajectories", "iso"]


@dataclass(frozen=True)
class Forecast:
    """Future trajectories in the data's units.

    Attributes:
        pred: ``[S, N, K, F]`` predicted frames ``A .. A + K - 1``.
        history: ``[S, N, W, F]`` the observed frames the model read (``A - W .. A-1``).
        graph: ``[S, E, K]`` the edge weights the decoder used.
        probs: ``[S, E, K]`` the posterior they came from.
        first_frame: A, the index of the first predicted frame.
        times: ``[S, K]`` time of every predicted frame on the data's axis (seconds
            since ``time_origin`` for ISO stamps, else the data's numbers), or None
            when the data have no time column.
        time_origin: the ISO stamp of time 0 (data with ISO stamps), else None.
        time_step: ``[S]`` the step between frames (seconds for ISO stamps), or None.
        observed: ``[S, N, K', F]`` the data's own frames ``A .. A + K' - 1``
            (``K' <= K``; a held-out tail to compare with), None when ``A = T``.
        feature_names, object_names, sample_names, source, run: provenance.
    """

    pred: np.ndarray
    history: np.ndarray
    graph: np.ndarray
    probs: np.ndarray
    first_frame: int
    times: np.ndarray | None
    feature_names: tuple[str, ...]
    object_names: tuple[str, ...]
    sample_names: tuple[str, ...]
    source: str
    run: str
    time_origin: str | None = None
    time_step: np.ndarray | None = None
    observed: np.ndarray | None = None

    def time_labels(self) -> np.ndarray:
        """The predicted frames' times as the data wrote them: ISO stamps, numbers,
        or frame indices (data without times).

        Shapes:
            returns ``[S, K]`` str.
        """
        s, _, k, _ = self.pred.shape
        if self.times is None:
            idx = np.broadcast_to(self.first_frame + np.arange(k), (s, k))
            return idx.astype(str)
        if self.time_origin is not None:
            return iso(self.time_origin, self.times)
        return np.vectorize(lambda v: f"{v:.10g}", otypes=[str])(self.times)


def iso(origin: str, seconds: np.ndarray) -> np.ndarray:
    """ISO stamps of ``origin + seconds`` (dates alone when every stamp is a midnight).

    Shapes:
        seconds ``[...]`` float -> ``[...]`` str.
    """
    base = pd.Timestamp(origin)
    micro = np.round(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)
    stamps = pd.DatetimeIndex(base + pd.to_timedelta(micro.ravel(), unit="us"))
    if (stamps == stamps.normalize()).all():
        text = [t.date().isoformat() for t in stamps]
    else:
        text = [t.isoformat() for t in stamps]
    return np.array(text, dtype=str).reshape(micro.shape)


def _frame_labels(series: Series, frames: np.ndarray) -> list[str]:
    """Times of frames of the first sample as the data write them (ISO stamps or
    numbers); frame ``T`` (one after the last) is the time one step after the last.

    Shapes:
        frames ``[M]`` int in ``0..T`` -> M labels.
    """
    assert series.times is not None
    times = series.times[0]  # [T]
    t = series.n_frames
    step = (times[-1] - times[0]) / max(t - 1, 1)
    values = np.array([times[k] if k < t else times[-1] + step * (k - t + 1)
                       for k in frames.tolist()])  # fmt: skip
    if series.time_origin is not None:
        return [str(v) for v in iso(series.time_origin, values)]
    return [f"{v:.10g}" for v in values]


def first_frame(series: Series, at: int | str | None, window: int) -> int:
    """The frame index of ``at``: None = after the last frame; for data with a time
    column a time as written there (an ISO stamp or a number; the time one step after
    the last frame is allowed), for data without one a frame index (an int or its
    text). Refuses frames with fewer than ``window`` frames before them, naming the
    allowed range in the form ``--at`` takes.
    """
    t = series.n_frames
    if at is None:
        return t
    if isinstance(at, str) and series.times is None:
        try:
            at = int(at)
        except ValueError:
            raise DataError(
                f"{series.source} has no time column, so --at must be a frame index "
                f"({window}..{t}), got {at!r}"
            ) from None
    given = at
    if isinstance(at, str):
        at = _frame_of_time(series, at)
    if not window <= at <= t:
        if series.times is not None and isinstance(given, str):
            lo, hi = _frame_labels(series, np.array([window, t]))
            raise DataError(
                f"the forecast of {series.source} cannot start at {given!r} (frame "
                f"{at}): the encoder reads the {window} frames before it, so give a "
                f"time from {lo} to {hi} (--at {lo} .. {hi}, as written in the time "
                f"column; {hi} is one step after the last frame)"
            )
        raise DataError(
            f"the forecast of {series.source} cannot start at frame {at}: the encoder "
            f"reads the {window} frames before it, so give a frame from {window} to {t} "
            f"(--at {window}..{t})"
        )
    return int(at)


def _frame_of_time(series: Series, text: str) -> int:
    """Frame index of a time stamp (the same in every sample, else refused)."""
    assert series.times is not None
    t = series.n_frames
    if series.time_origin is not None:
        try:
            value = (
                pd.Timestamp(text) - pd.Timestamp(series.time_origin)
            ).total_seconds()
        except (ValueError, TypeError):
            lo, last, after = _frame_labels(series, np.array([0, t - 1, t]))
            raise DataError(
                f"--at {text!r} is not an ISO time stamp like the time column of "
                f"{series.source} (it runs from {lo} to {last}); data with a time "
                f"column take --at as a time, e.g. --at {after} (after the last frame)"
            ) from None
    else:
        try:
            value = float(text)
        except ValueError:
            raise DataError(
                f"--at {text!r} is not a number like the time column of {series.source}"
            ) from None
    times = series.times  # [S, T]
    step = (times[:, -1] - times[:, 0]) / max(t - 1, 1)  # [S]
    frame = (value - times[:, 0]) / np.where(step > 0, step, 1.0)  # [S]
    k = np.round(frame)
    if not np.allclose(frame[0], k[0], atol=1e-3):  # between two frames
        near = np.unique(np.clip([np.floor(frame[0]), np.ceil(frame[0])], 0, t))
        shown = " and ".join(_frame_labels(series, near.astype(np.int64)))
        raise DataError(
            f"--at {text!r} is not the time of a frame of {series.source}; the nearest "
            f"frame times are {shown}: give one of them"
        )
    if not (np.allclose(frame, k, atol=1e-3) and (k == k[0]).all()):
        first, last = _frame_labels(series, np.array([0, t - 1]))
        raise DataError(
            f"--at {text!r} is not a time stamp of every sample of {series.source} "
            f"(the first sample runs from {first} to {last}, and the samples' times "
            "differ); give a time that every sample has, or forecast the samples "
            "separately"
        )
    return int(k[0])


def forecast_trajectories(
    run: LoadedRun | str | Path,
    data: Series | str | Path,
    n_steps: int,
    split: str = "test",
    graph_mode: GraphMode = "argmax",
    batch_size: int | None = None,
    seed: int | None = None,
    allow_other_objects: bool = False,
    at: int | str | None = None,
) -> Forecast:
    """Continue every sample for ``n_steps`` frames from frame ``at``.

    The graph is inferred from the W frames before ``at`` (module docstring) and used
    as ``graph_mode``: "argmax" (the most likely type of each edge), "sample" (one hard
    Gumbel sample, seeded) or "probs" (the posterior as soft edge weights). Features
    and objects are matched to the run's by name (:func:`nri.run_data.match_series`).

    Args:
        at: the first predicted frame: None (after the last frame), a frame index, or a
            time as written in the data's time column (see :func:`first_frame`).

    Shapes:
        pred ``[S, N, n_steps, F]`` in the data's units.

    Raises:
        DataError: data that do not fit the run, a bad ``at``, a run without decoder.
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)):
        raise DataError(
            f"the number of forecast steps must be a whole number >= 1, got {n_steps!r}"
        )
    if n_steps < 1:
        raise DataError(f"the number of forecast steps must be >= 1, got {n_steps}")
    if graph_mode not in ("argmax", "sample", "probs"):
        raise DataError(
            f"graph_mode must be argmax, sample or probs, got {graph_mode!r}"
        )
    loaded, run_dir = as_run(run)
    series = as_series(data, split)
    series = match_series(loaded, series, run_dir, allow_other_objects)
    mc = loaded.config.model_config
    if batch_size is None:  # train.eval_batch_size (auto: sized from N)
        batch_size = resolve_eval_batch(
            loaded.config.train, loaded.config.model_config, series.n_objects
        )
    w = mc.n_timesteps
    check_data(loaded, series, w, run_dir, allow_other_objects)
    a = first_frame(series, at, w)
    x = normalised(loaded, series)[:, :, a - w : a]  # [S, N, W, F]
    model = loaded.model
    if getattr(model, "decoder", True) is None:
        raise DataError(
            "this run has no decoder (supervised encoder); it cannot forecast"
        )
    gen = torch.Generator().manual_seed(
        loaded.config.train.eval_seed if seed is None else seed
    )
    preds, zs, qs = [], [], []
    with torch.no_grad():
        for i in progress.batches(x.shape[0], batch_size, "forecasting", "samples"):
            xb = x[i : i + batch_size]
            logits = encode(loaded, xb, gen)  # [B, E, K]
            q = torch.softmax(logits.float(), dim=-1)
            if graph_mode == "argmax":
                z = F.one_hot(logits.argmax(-1), mc.n_edge_types).float()
            elif graph_mode == "sample":
                z = model.sample_edges(logits, True, gen)
            else:
                z = q
            preds.append(model.forecast(xb, z, n_steps).double())  # [B, N, K, F]
            zs.append(z.double())
            qs.append(q.double())
    pred = loaded.normalizer.inverse(torch.cat(preds)).numpy()
    times = step = None
    t = series.n_frames
    if series.times is not None and t > 1:
        step = (series.times[:, -1] - series.times[:, 0]) / (t - 1)  # [S]
        times = series.times[:, a - 1 : a] + step[:, None] * np.arange(1, n_steps + 1)
    return Forecast(
        pred=pred,
        history=series.x[:, :, a - w : a],
        graph=torch.cat(zs).numpy(),
        probs=torch.cat(qs).numpy(),
        first_frame=a,
        times=times,
        feature_names=series.feature_names,
        object_names=series.object_names,
        sample_names=series.sample_names,
        source=series.source,
        run=str(run_dir),
        time_origin=series.time_origin if times is not None else None,
        time_step=step,
        observed=series.x[:, :, a : a + n_steps] if a < t else None,
    )

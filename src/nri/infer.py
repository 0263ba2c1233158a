"""Relational inference on own data with a trained run.

:func:`infer_edges` gives the edge-type posterior ``q(z | x)`` of every encoder window
and its mean over windows (the graph of a system whose graph is fixed);
the result is an :class:`~nri.edge_inference.EdgeInference`, and
:func:`~nri.infer_export.to_networkx` and :func:`~nri.infer_export.to_edge_index`
export it. Forecasts live in :mod:`nri.forecast`. Every one of these names is
importable from here (``nri.infer.EdgeInference``, ``nri.infer.to_networkx``,
``nri.infer.forecast_trajectories``, ...).

Windows (W = ``model.n_timesteps``, the encoder window): by default every sample is cut
into windows ``0 .. W-1``, ``W .. 2W-1``, ... (one long recording gives many graphs and
their mean); ``start`` alone reads one window ``start .. start + W - 1`` per sample
(``start=0``: the papers' test protocol); ``stride`` sets the step between windows.

Features and objects are matched to the run's by name (:mod:`nri.run_data`); inputs
are normalised with the run's normaliser (fitted on its training split).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nri import graph, progress
from nri.data.dataset import DataError
from nri.data.series import Series
from nri.edge_inference import EdgeInference
from nri.eval_batch import resolve_eval_batch
from nri.forecast import Forecast, GraphMode, forecast_trajectories
from nri.infer_export import to_edge_index, to_networkx
from nri.run_data import (
    as_run,
    as_series,
    check_data,
    encode,
    match_series,
    normalised,
    with_true_edges,
)
from nri.training.run_dir import LoadedRun

__all__ = [
    "EdgeInference", "Forecast", "GraphMode", "check_data", "forecast_trajectories",
    "infer_edges", "to_edge_index", "to_networkx",
]  # fmt: skip


def _window_starts(
    n_frames: int, w: int, start: int | None, stride: int | None
) -> list[int]:
    """First frames of the encoder windows of one sample (module docstring)."""
    if start is not None and start < 0:
        raise DataError(f"start must be >= 0, got {start}")
    if stride is not None and stride < 1:
        raise DataError(f"stride must be >= 1, got {stride}")
    if start is not None and w <= n_frames < start + w:  # shorter: check_data says
        raise DataError(
            f"start {start}: the encoder window of {w} frames (model.n_timesteps) "
            f"from frame {start} ends after the last frame ({n_frames - 1}) of the "
            f"data; give a start of at most {n_frames - w}"
        )
    if start is not None and stride is None:
        return [start]
    return list(range(start or 0, n_frames - w + 1, stride or w))


def infer_edges(
    run: LoadedRun | str | Path,
    data: Series | str | Path,
    split: str = "test",
    start: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    allow_other_objects: bool = False,
    stride: int | None = None,
    true_edges: np.ndarray | str | Path | None = None,
) -> EdgeInference:
    """Edge-type probabilities of every encoder window, and their mean.

    Args:
        run: a run directory or a loaded run.
        data: a :class:`~nri.data.series.Series` or a file / data set directory
            (:func:`~nri.data.importers.read_series`; a directory gives ``split``).
        start: first frame of the one window read per sample (None: every window,
            module docstring).
        batch_size: windows per forward pass (None: the run's
            ``train.eval_batch_size``, auto = sized from N, :mod:`nri.eval_batch`;
            NRI's results do not depend on it).
        seed: seed of NRI-MPM's relation-interaction orders (default: the run's
            ``train.eval_seed``); NRI's encoder is deterministic.
        allow_other_objects: accept a number of objects other than the training data's.
        stride: frames between windows (default W, no overlap).
        true_edges: the true graph, replacing the data's own: an ``[N, N]`` array
            indexed [receiver, sender] or a ``.csv``/``.npy`` file of one
            (:func:`nri.data.edge_file.read_edge_file`).

    Shapes:
        probs ``[S', E, K]``, mean_probs ``[E, K]`` with ``E = N (N - 1)``.

    Raises:
        DataError: data that do not fit the run (one line).
    """
    loaded, run_dir = as_run(run)
    k = getattr(loaded.config.model_config, "n_edge_types", 2)
    said = k if k > 2 else None  # model.n_edge_types given at training
    series = as_series(data, split, said)
    if true_edges is not None:
        series = with_true_edges(series, true_edges, said)
    series = match_series(loaded, series, run_dir, allow_other_objects)
    w = loaded.config.model_config.n_timesteps
    if batch_size is None:  # train.eval_batch_size (auto: sized from N)
        batch_size = resolve_eval_batch(
            loaded.config.train, loaded.config.model_config, series.n_objects
        )
    starts = _window_starts(series.n_frames, w, start, stride)
    check_data(loaded, series, (start or 0) + w, run_dir, allow_other_objects)
    x = normalised(loaded, series)  # [S, N, T, F]; refuses overflows
    sample = np.repeat(np.arange(series.n_samples, dtype=np.int64), len(starts))
    first = np.tile(np.asarray(starts, dtype=np.int64), series.n_samples)  # [S']
    windows = x.unfold(2, w, 1)  # [S, N, T - W + 1, F, W], a view
    gen = torch.Generator().manual_seed(
        loaded.config.train.eval_seed if seed is None else seed
    )
    probs = []
    with torch.no_grad():
        for i in progress.batches(
            len(sample), batch_size, "inferring edges", "windows"
        ):
            b = slice(i, i + batch_size)
            xb = windows[torch.from_numpy(sample[b]), :, torch.from_numpy(first[b])]
            xb = xb.transpose(-1, -2).contiguous()  # [B, N, W, F]
            logits = encode(loaded, xb, gen)  # [B, E, K]
            probs.append(torch.softmax(logits.double(), dim=-1))
    q = torch.cat(probs).numpy()  # [S', E, K]
    names = tuple(
        series.sample_names[s] if len(starts) == 1 else f"{series.sample_names[s]}@{a}"
        for s, a in zip(sample.tolist(), first.tolist(), strict=True)
    )
    send, recv = graph.fully_connected_np(series.n_objects)
    return EdgeInference(
        probs=q,
        mean_probs=q.mean(axis=0),
        send=send,
        recv=recv,
        no_edge_type=0 if loaded.config.model_config.skip_first else None,
        true_edges=None if series.edges is None else series.edges[sample],
        frames=(starts[0], starts[0] + w),
        object_names=series.object_names,
        sample_names=names,
        source=series.source,
        run=str(run_dir),
        window_sample=sample,
        window_start=first,
    )

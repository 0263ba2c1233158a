"""Relational inference and forecasts on own data with a trained run.

:func:`infer_edges` gives the edge-type posterior ``q(z | x)`` of every sample and its
mean over samples (the graph of a system whose graph is fixed); :func:`to_networkx`
and :func:`to_edge_index` export it. :func:`forecast_trajectories` continues every
sample after its last frame, in the data's own units.

Which frames are used (W = ``model.n_timesteps``, the encoder window):

* inference: frames ``start .. start + W - 1`` of each sample (default ``start = 0``:
  the first W frames, as in the papers' test protocol);
* forecast: the last W frames ``T - W .. T - 1`` infer the graph; the decoder then
  predicts frames ``T .. T + K - 1`` from frame ``T - 1`` (MLP decoder, NRI-MPM's ST
  decoder, which starts with empty hidden states) or after a burn-in over the W frames
  (NRI's RNN decoder).

Inputs are normalised with the run's normaliser (fitted on its training split) and
forecasts are mapped back with its inverse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from nri import graph
from nri.data.dataset import DataError
from nri.data.importers import read_series
from nri.data.series import Series
from nri.models.nri import NRI
from nri.training.run_dir import LoadedRun, load_run

GraphMode = Literal["argmax", "sample", "probs"]


@dataclass(frozen=True)
class EdgeInference:
    """Edge-type probabilities inferred from data.

    Attributes:
        probs: ``[S, E, K]`` posterior of every sample (rows sum to 1).
        mean_probs: ``[E, K]`` mean over samples (for one fixed graph).
        send, recv: ``[E]`` sender and receiver of each edge (:mod:`nri.graph` order).
        no_edge_type: the type that means "no interaction" (0 for runs trained with
            ``skip_first``), else None (unsupervised types have no fixed meaning).
        true_edges: ``[S, E]`` labels of the data (-1 unknown), or None.
        frames: the encoder window ``(first, last + 1)``.
        object_names, sample_names: from the data.
        source, run: where the data and the model came from.
    """

    probs: np.ndarray
    mean_probs: np.ndarray
    send: np.ndarray
    recv: np.ndarray
    no_edge_type: int | None
    true_edges: np.ndarray | None
    frames: tuple[int, int]
    object_names: tuple[str, ...]
    sample_names: tuple[str, ...]
    source: str
    run: str

    @property
    def n_objects(self) -> int:
        return len(self.object_names)

    @property
    def n_edge_types(self) -> int:
        return int(self.probs.shape[2])

    def edge_scores(
        self, sample: int | None = None, edge_type: int | None = None
    ) -> np.ndarray:
        """Probability that each edge interacts: ``p(edge_type)`` when given, else
        ``1 - p(no_edge_type)``.

        Shapes:
            returns ``[E]`` (of sample ``sample``, or of the mean over samples).
        """
        p = self.mean_probs if sample is None else self.probs[sample]  # [E, K]
        if edge_type is not None:
            if not 0 <= edge_type < self.n_edge_types:
                raise ValueError(
                    f"edge_type must be in 0..{self.n_edge_types - 1}, got {edge_type}"
                )
            return p[:, edge_type]
        if self.no_edge_type is None:
            raise ValueError(
                "which edge type means 'no interaction' is unknown (the run was trained "
                "without model.skip_first); choose the type to score with edge_type=K"
            )
        return 1.0 - p[:, self.no_edge_type]

    def edge_list(self, sample: int | None = None) -> list[dict[str, Any]]:
        """One dict per edge: sender, receiver (indices and names), ``probs`` per
        type, the most likely ``type`` and, when known, ``p_interaction``."""
        p = self.mean_probs if sample is None else self.probs[sample]
        score = self.edge_scores(sample) if self.no_edge_type is not None else None
        rows = []
        for e, (j, i) in enumerate(
            zip(self.send.tolist(), self.recv.tolist(), strict=True)
        ):
            row: dict[str, Any] = {
                "sender": j,
                "receiver": i,
                "sender_name": self.object_names[j],
                "receiver_name": self.object_names[i],
                "probs": [float(v) for v in p[e]],
                "type": int(p[e].argmax()),
            }
            if score is not None:
                row["p_interaction"] = float(score[e])
            rows.append(row)
        return rows


@dataclass(frozen=True)
class Forecast:
    """Future trajectories in the data's units.

    Attributes:
        pred: ``[S, N, K, F]`` predicted frames ``T .. T + K - 1``.
        history: ``[S, N, W, F]`` the observed frames the model read (``T - W .. T-1``).
        graph: ``[S, E, K]`` the edge weights the decoder used.
        probs: ``[S, E, K]`` the posterior they came from.
        first_frame: T, the index of the first predicted frame.
        times: ``[S, K]`` time stamps of the predictions (inputs with time stamps: the
            last stamp plus multiples of the mean step), else None.
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


def _as_run(run: LoadedRun | str | Path) -> tuple[LoadedRun, Path]:
    """The loaded run and its directory (a loaded run's: its checkpoint's)."""
    if isinstance(run, LoadedRun):
        return run, run.checkpoint.parent.parent  # RUN/checkpoints/best.ckpt
    return load_run(run), Path(run)


def _as_series(data: Series | str | Path, split: str) -> Series:
    return data if isinstance(data, Series) else read_series(data, split=split)


def check_data(
    run: LoadedRun,
    series: Series,
    frames: int,
    run_dir: Path | None = None,
    allow_other_objects: bool = False,
) -> None:
    """One line when the data do not fit the run (features, objects, frames)."""
    mc = run.config.model_config
    where = f"the run {run_dir}" if run_dir is not None else "the run"
    names = run.normalizer.names
    if series.n_features != mc.n_features:
        which = f" ({', '.join(names)})" if names else ""
        raise DataError(
            f"{series.source} has {series.n_features} features per object but {where} "
            f"was trained on {mc.n_features}{which}; give the same features in the "
            "same order"
        )
    trained = _trained_objects(run_dir)
    if trained is not None and trained != series.n_objects and not allow_other_objects:
        raise DataError(
            f"{series.source} has {series.n_objects} objects but {where} was trained on "
            f"{trained}; train a run on data with {series.n_objects} objects (nri import,"
            " nri train), or allow it explicitly (--any-objects) to try the model anyway"
        )
    if series.n_frames < frames:
        raise DataError(
            f"{series.source} has {series.n_frames} frames per sample but {where} needs "
            f"{frames} (its encoder reads model.n_timesteps = {mc.n_timesteps}); give "
            "longer samples or train a run with a shorter window "
            f"(--set model.n_timesteps={series.n_frames})"
        )


def _trained_objects(run_dir: Path | None) -> int | None:
    if run_dir is None or not (run_dir / "data.json").exists():
        return None  # runs from before data.json
    try:
        return int(json.loads((run_dir / "data.json").read_text())["n_objects"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _encode(run: LoadedRun, x: Tensor, gen: torch.Generator) -> Tensor:
    """Logits ``[B, E, K]`` of a window ``[B, N, W, F]``."""
    model = run.model
    if isinstance(model, NRI):
        return model.encode(x).logits
    if hasattr(model, "encode") and getattr(model, "encoder", None) is not None:
        return model.encode(x, generator=gen).logits  # NRI-MPM: RI orders from gen
    raise DataError(
        f"the run's model ({run.config.model}) has no edge encoder, so it infers no "
        "graph; use a run of nri or nri_mpm (scheme vae or supervised)"
    )


def _normalised(run: LoadedRun, series: Series) -> Tensor:
    return torch.from_numpy(run.normalizer.transform(series.x).astype(np.float32))


def infer_edges(
    run: LoadedRun | str | Path,
    data: Series | str | Path,
    split: str = "test",
    start: int = 0,
    batch_size: int = 256,
    seed: int | None = None,
    allow_other_objects: bool = False,
) -> EdgeInference:
    """Edge-type probabilities of every sample, and their mean over samples.

    Args:
        run: a run directory or a loaded run.
        data: a :class:`~nri.data.series.Series` or a file / data set directory
            (:func:`~nri.data.importers.read_series`; a directory gives ``split``).
        start: first frame of the encoder window.
        batch_size: samples per forward pass (results do not depend on it).
        seed: seed of NRI-MPM's relation-interaction orders (default: the run's
            ``train.eval_seed``); NRI's encoder is deterministic.
        allow_other_objects: accept a number of objects other than the training data's.

    Shapes:
        probs ``[S, E, K]``, mean_probs ``[E, K]`` with ``E = N (N - 1)``.
    """
    loaded, run_dir = _as_run(run)
    series = _as_series(data, split)
    mc = loaded.config.model_config
    if start < 0:
        raise DataError(f"start must be >= 0, got {start}")
    check_data(loaded, series, start + mc.n_timesteps, run_dir, allow_other_objects)
    x = _normalised(loaded, series)[:, :, start : start + mc.n_timesteps]  # [S,N,W,F]
    gen = torch.Generator().manual_seed(
        loaded.config.train.eval_seed if seed is None else seed
    )
    probs = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            logits = _encode(loaded, x[i : i + batch_size], gen)  # [B, E, K]
            probs.append(torch.softmax(logits.double(), dim=-1))
    q = torch.cat(probs).numpy()  # [S, E, K]
    send, recv = graph.fully_connected_np(series.n_objects)
    return EdgeInference(
        probs=q,
        mean_probs=q.mean(axis=0),
        send=send,
        recv=recv,
        no_edge_type=0 if mc.skip_first else None,
        true_edges=series.edges,
        frames=(start, start + mc.n_timesteps),
        object_names=series.object_names,
        sample_names=series.sample_names,
        source=series.source,
        run=str(run_dir),
    )


def forecast_trajectories(
    run: LoadedRun | str | Path,
    data: Series | str | Path,
    n_steps: int,
    split: str = "test",
    graph_mode: GraphMode = "argmax",
    batch_size: int = 256,
    seed: int | None = None,
    allow_other_objects: bool = False,
) -> Forecast:
    """Continue every sample for ``n_steps`` frames after its last frame.

    The graph is inferred from the last W frames (module docstring) and used as
    ``graph_mode``: "argmax" (the most likely type of each edge), "sample" (one hard
    Gumbel sample, seeded) or "probs" (the posterior as soft edge weights).

    Shapes:
        pred ``[S, N, n_steps, F]`` in the data's units.
    """
    if n_steps < 1:
        raise DataError(f"the number of forecast steps must be >= 1, got {n_steps}")
    if graph_mode not in ("argmax", "sample", "probs"):
        raise DataError(
            f"graph_mode must be argmax, sample or probs, got {graph_mode!r}"
        )
    loaded, run_dir = _as_run(run)
    series = _as_series(data, split)
    mc = loaded.config.model_config
    check_data(loaded, series, mc.n_timesteps, run_dir, allow_other_objects)
    t, w = series.n_frames, mc.n_timesteps
    x = _normalised(loaded, series)[:, :, t - w :]  # [S, N, W, F]
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
        for i in range(0, x.shape[0], batch_size):
            xb = x[i : i + batch_size]
            logits = _encode(loaded, xb, gen)  # [B, E, K]
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
    times = None
    if series.times is not None and t > 1:
        step = (series.times[:, -1] - series.times[:, 0]) / (t - 1)  # [S]
        times = series.times[:, -1:] + step[:, None] * np.arange(1, n_steps + 1)
    return Forecast(
        pred=pred,
        history=series.x[:, :, t - w :],
        graph=torch.cat(zs).numpy(),
        probs=torch.cat(qs).numpy(),
        first_frame=t,
        times=times,
        feature_names=series.feature_names,
        object_names=series.object_names,
        sample_names=series.sample_names,
        source=series.source,
        run=str(run_dir),
    )


# ------------------------------------------------------------------------- exports


def _selected(
    result: EdgeInference,
    sample: int | None,
    threshold: float | None,
    edge_type: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Edge indices kept, their probabilities ``[E', K]`` and scores ``[E']``."""
    p = result.mean_probs if sample is None else result.probs[sample]  # [E, K]
    known = edge_type is not None or result.no_edge_type is not None
    score = result.edge_scores(sample, edge_type) if known else None
    keep = np.arange(len(result.send))
    if threshold is not None:
        if score is None:
            result.edge_scores(sample, edge_type)  # raises the explanation
        assert score is not None
        keep = np.flatnonzero(score >= threshold)
    return keep, p[keep], None if score is None else score[keep]


def to_networkx(
    result: EdgeInference,
    sample: int | None = None,
    threshold: float | None = None,
    edge_type: int | None = None,
) -> Any:
    """A ``networkx.DiGraph`` with an edge sender -> receiver per inferred edge.

    Nodes ``0 .. N-1`` carry ``name``; edges carry ``probs`` (one per type), ``type``
    (the most likely) and ``weight`` (the interaction score of
    :meth:`EdgeInference.edge_scores`, when it is defined). With ``threshold`` only the
    edges whose score is at least ``threshold`` are kept. ``sample=None`` uses the mean
    over samples. networkx is optional: it is imported here.
    """
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is installed in development
        raise ImportError(
            "to_networkx needs networkx: pip install networkx (or use to_edge_index)"
        ) from None
    keep, p, score = _selected(result, sample, threshold, edge_type)
    g = nx.DiGraph()
    for i, name in enumerate(result.object_names):
        g.add_node(i, name=name)
    for k, e in enumerate(keep.tolist()):
        attrs: dict[str, Any] = {"probs": p[k].tolist(), "type": int(p[k].argmax())}
        if score is not None:
            attrs["weight"] = float(score[k])
        g.add_edge(int(result.send[e]), int(result.recv[e]), **attrs)
    return g


def to_edge_index(
    result: EdgeInference,
    sample: int | None = None,
    threshold: float | None = None,
    edge_type: int | None = None,
) -> tuple[Tensor, Tensor]:
    """PyTorch Geometric style ``(edge_index [2, E'], edge_attr [E', K])``: row 0 the
    senders, row 1 the receivers, ``edge_attr`` the type probabilities; edges in
    :mod:`nri.graph` order, filtered as in :func:`to_networkx`. Needs no PyG.
    """
    keep, p, _ = _selected(result, sample, threshold, edge_type)
    index = np.stack([result.send[keep], result.recv[keep]])  # [2, E']
    return torch.from_numpy(index.astype(np.int64)), torch.from_numpy(p.copy()).float()

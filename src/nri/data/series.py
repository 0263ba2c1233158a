"""The data model: :class:`Series`, multi-object time series in physical units.

Every reader of :mod:`nri.data` produces a :class:`Series` (or one per split): the NRI
layout and our simulator's files (:mod:`nri.data.layout`), NPZ/NPY
(:mod:`nri.data.importers`), long CSV (:mod:`nri.data.long_csv`) and the external
formats of :mod:`nri.data.formats`. It holds trajectories ``x [S, N, T, F]`` in the
data's own units, optional edge labels ``[S, E]`` in the order of :mod:`nri.graph`
(any number of types K; one graph shared by every sample is stored once per sample,
:attr:`Series.shared_edges` recovers it), names and time stamps.
:func:`make_series` builds one from arrays and rejects what the models cannot use
(missing values, a single object, edges of the wrong shape or labels) with one line
that says what to do (the checks are :mod:`nri.data.series_checks`).
:func:`make_windows` cuts long recordings into samples. The path from a Series to the
models is :mod:`nri.data.splits` (docs/data.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from nri.data.errors import DataError
from nri.data.labels import n_edge_types
from nri.data.series_checks import (
    SHORT_TIME_AXIS,
    check_names,
    check_trajectories,
    edge_labels,
    notice_short_samples,
    notice_swapped_axes,
)

__all__ = [
    "SHORT_TIME_AXIS",  # re-exported: defined in nri.data.series_checks
    "Series",
    "make_series",
    "make_windows",
    "notice_swapped_axes",  # re-exported: defined in nri.data.series_checks
    "window_of_name",
    "windows_of",
]


@dataclass(frozen=True)
class Series:
    """Multi-object time series in physical units.

    Attributes:
        x: trajectories ``[S, N, T, F]`` float64.
        edges: labels ``[S, E]`` int64 in :mod:`nri.graph` order (0 no interaction,
            1..K-1 interaction types, -1 unknown; any K up to 16), or None when the
            data come without a graph. One graph shared by every sample is repeated
            per sample (:attr:`shared_edges` gives it back as ``[E]``).
        feature_names, object_names, sample_names: one name each.
        source: where the data came from.
        times: time stamps ``[S, T]`` float64 (CSV input), else None: seconds since
            ``time_origin`` when the CSV had ISO time stamps, else the user's numbers.
        time_origin: the ISO stamp of time 0 when the CSV had ISO time stamps (then
            ``times`` are seconds since it), None for numeric times or no times.
        objects_named: True when ``object_names`` came with the data (a CSV's
            ``object`` column, even numeric ids, an ``.npz``'s ``object_names``),
            False for the default positions ``0 .. N-1`` of data without names,
            None when unknown (data sets imported before this was recorded: then
            names ``0 .. N-1`` count as positions).
        recordings: for windows (:func:`windows_of`, :func:`make_windows`), the
            recording each sample was cut from (its sample name before windowing),
            so that a split can keep a recording's windows together; None when every
            sample is a whole recording.
    """

    x: np.ndarray
    edges: np.ndarray | None
    feature_names: tuple[str, ...]
    object_names: tuple[str, ...]
    sample_names: tuple[str, ...]
    source: str
    times: np.ndarray | None = None
    time_origin: str | None = None
    recordings: tuple[str, ...] | None = None
    objects_named: bool | None = None

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_objects(self) -> int:
        return int(self.x.shape[1])

    @property
    def n_frames(self) -> int:
        return int(self.x.shape[2])

    @property
    def n_features(self) -> int:
        return int(self.x.shape[3])

    @property
    def n_edge_types(self) -> int | None:
        """K, the largest edge label + 1 (at least 2), or None without edges."""
        return None if self.edges is None else n_edge_types(self.edges)

    @property
    def time_step(self) -> float | None:
        """The median step between frames, in the units of :attr:`times` (seconds
        for ISO stamps), or None without times or with one frame."""
        if self.times is None or self.times.shape[-1] < 2:
            return None
        return float(np.median(np.diff(self.times, axis=-1)))

    @property
    def shared_edges(self) -> np.ndarray | None:
        """The one graph ``[E]`` of every sample when all samples have the same
        labels (a StructInfer-style data set, ``nri import --edges``), else None
        (no edges, or one graph per sample)."""
        if self.edges is None or not (self.edges == self.edges[:1]).all():
            return None
        return self.edges[0]

    def place(self, sample: int, obj: int, frame: int) -> str:
        """One value's place in the user's names, for messages: ``sample 's3', object
        'bravo', time '2024-03-01T10:06:00'`` (the time as the CSV wrote it), or
        ``frame N`` for data without a time column."""
        if self.times is None:
            when = f"frame {frame}"
        else:
            value = float(self.times[sample, frame])
            text = f"{value:.10g}"
            if self.time_origin is not None:
                import pandas as pd  # only for ISO time axes

                stamp = pd.Timestamp(self.time_origin)
                text = (
                    stamp + pd.Timedelta(microseconds=round(value * 1e6))
                ).isoformat()
            when = f"time {text!r}"
        return (
            f"sample {self.sample_names[sample]!r}, object "
            f"{self.object_names[obj]!r}, {when}"
        )

    def take(self, index: np.ndarray) -> Series:
        """The samples ``index`` (in that order)."""
        return replace(
            self,
            x=self.x[index],
            edges=None if self.edges is None else self.edges[index],
            sample_names=tuple(self.sample_names[i] for i in index),
            times=None if self.times is None else self.times[index],
            recordings=None
            if self.recordings is None
            else tuple(self.recordings[i] for i in index),
        )


def make_series(
    x: np.ndarray,
    edges: np.ndarray | None = None,
    feature_names: Sequence[str] | np.ndarray | None = None,
    object_names: Sequence[str] | np.ndarray | None = None,
    sample_names: Sequence[str] | np.ndarray | None = None,
    source: str = "array",
    times: np.ndarray | None = None,
    time_origin: str | None = None,
    edge_threshold: float | None = None,
    n_edge_types: int | None = None,
) -> Series:
    """Check arrays and build a :class:`Series` (default names: f0.., 0.., 0..;
    ``object_names`` given are names, even ``0 .. N-1``: :attr:`Series.objects_named`).

    Edges are labels 0..K-1 (-1 unknown) or, with ``edge_threshold``, weights
    (``weight > edge_threshold`` is an interaction); see :func:`nri.data.labels.to_labels`.
    ``n_edge_types``: how many edge types there are, when the user said so (labels
    must be below it); None: K = the largest label + 1, said in a notice when above
    2 (:func:`nri.data.labels.check_edge_types`).

    Shapes:
        x ``[S, N, T, F]``; edges ``[S, N, N]`` (indexed [receiver, sender]), ``[S, E]``,
        ``[N, N]`` or ``[E]`` (one graph for every sample).
    """
    x = check_trajectories(x, source)
    s, n, _, f = x.shape
    labels = (
        None
        if edges is None
        else edge_labels(np.asarray(edges), s, n, source, edge_threshold, n_edge_types)
    )
    names = check_names(feature_names, f, "f", "feature_names", source)
    return Series(
        x=x,
        edges=labels,
        feature_names=names,
        object_names=check_names(object_names, n, "", "object_names", source),
        sample_names=check_names(sample_names, s, "", "sample_names", source),
        source=source,
        times=None if times is None else np.asarray(times, dtype=np.float64),
        time_origin=time_origin,
        objects_named=object_names is not None,
    )


def window_of_name(name: str) -> tuple[str, int] | None:
    """``(SAMPLE, FIRST_FRAME)`` of a window named ``SAMPLE@FIRST_FRAME`` by
    :func:`windows_of`; None for a name that is not a window's."""
    sample, at, start = name.rpartition("@")
    return (sample, int(start)) if at and start.isdigit() else None


def windows_of(
    xs: list[np.ndarray],
    times: list[np.ndarray],
    s_names: list[str],
    o_names: list[str],
    f_names: tuple[str, ...],
    source: str,
    window: int,
    stride: int | None,
    time_origin: str | None = None,
    recordings: list[str] | None = None,
    notice: bool = True,
) -> Series:
    """Windows of ``window`` frames, ``stride`` apart, of samples of any lengths,
    named ``SAMPLE@FIRST_FRAME``; ``recordings`` names the recording of every sample
    (default: the sample names; pieces ``SAMPLE/k`` of one recording cut at its gaps
    share one), kept as :attr:`Series.recordings` of the windows. Samples shorter
    than a window are left out with a :class:`~nri.errors.DataNotice` naming them
    (:func:`~nri.data.series_checks.notice_short_samples`; ``notice=False``: the
    caller says it, once for several calls).

    Shapes:
        xs: one ``[N, T_s, F]`` per sample; times: one ``[T_s]`` per sample.
    """
    stride = window if stride is None else stride
    if window < 2 or stride < 1:
        raise DataError(f"window must be >= 2 and stride >= 1, got {window}, {stride}")
    cut, cut_t, names, recs = [], [], [], []
    for x, t, name, rec in zip(xs, times, s_names, recordings or s_names, strict=True):
        for a in range(0, x.shape[1] - window + 1, stride):
            cut.append(x[:, a : a + window])
            cut_t.append(t[a : a + window])
            names.append(f"{name}@{a}")  # read back by window_of_name
            recs.append(rec)
    if not cut:
        longest = max(x.shape[1] for x in xs)
        raise DataError(
            f"{source}: no sample has {window} time steps (the longest has "
            f"{longest}); choose a window <= {longest}"
        )
    short = [(n, x.shape[1], "") for x, n in zip(xs, s_names, strict=True)
             if x.shape[1] < window]  # fmt: skip
    if notice and short:
        shortest = min(t for _, t, _ in short)
        fix = (f"choose a window <= {shortest} (--window)" if shortest >= 2
               else "give them 2 frames or more")  # fmt: skip
        notice_short_samples(short, f"the window of {window} frames", source, fix)
    out = make_series(
        np.stack(cut),
        feature_names=f_names,
        object_names=tuple(o_names),
        sample_names=tuple(names),
        source=source,
        times=np.stack(cut_t),
        time_origin=time_origin,
    )
    return replace(out, recordings=tuple(recs))


def make_windows(series: Series, window: int, stride: int | None = None) -> Series:
    """Cut every sample into windows of ``window`` frames, ``stride`` apart (default:
    ``window``, no overlap: overlapping windows in different splits leak data).

    Shapes:
        ``[S, N, T, F]`` -> ``[S * W, N, window, F]`` with
        ``W = (T - window) // stride + 1``; edges are repeated per window.
    """
    if series.times is not None:
        times = list(series.times)
    else:
        times = [np.arange(series.n_frames, dtype=np.float64)] * series.n_samples
    out = windows_of(
        list(series.x), times, list(series.sample_names), list(series.object_names),
        series.feature_names, series.source, window, stride, series.time_origin,
        list(series.recordings or series.sample_names),
    )  # fmt: skip
    out = replace(out, objects_named=series.objects_named)
    if series.edges is not None:
        per = (series.n_frames - window) // (window if stride is None else stride) + 1
        out = replace(out, edges=np.repeat(series.edges, per, axis=0))
    return out

"""Own data against a trained run: names, sizes and frames must fit the model.

A run records the names of the features it was trained on (``RUN/normalizer.json``,
``RUN/data.json``) and, for imported data, the object names (``RUN/data.json``).
:func:`match_series` puts new data into that order by name: columns given in another
order are reordered; missing or extra names are refused with one line naming them.
Names that are only positions (``f0, f1, ...`` for features, ``0, 1, ...`` for objects:
data that came without names) are matched by position, as before names existed. Object
ids read from the data (a CSV's ``object`` column) are names even when they are numbers
(``Series.objects_named``, ``objects_named`` in ``RUN/data.json``); only runs and data
sets that predate that record judge ``0, 1, ...`` to be positions.

Used by :mod:`nri.infer` and :mod:`nri.forecast`; no printing, no file writes.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nri import graph
from nri.data.edge_file import read_edge_file
from nri.data.errors import DataError
from nri.data.importers import read_series
from nri.data.normalize import normalise
from nri.data.series import Series
from nri.data.series_checks import edge_labels
from nri.errors import DataNotice
from nri.models.nri import NRI
from nri.run_notices import notice_far_from_training, notice_time_step
from nri.training.run_dir import LoadedRun, load_run

__all__ = [
    "as_run",
    "with_true_edges",
    "as_series",
    "check_data",
    "encode",
    "match_series",
    "name_order",
    "names_mismatch",
    "normalised",
    "reorder_edges",
    "trained_info",
]


def as_run(run: LoadedRun | str | Path) -> tuple[LoadedRun, Path]:
    """The loaded run and its directory (a loaded run's: its checkpoint's)."""
    if isinstance(run, LoadedRun):
        return run, run.checkpoint.parent.parent  # RUN/checkpoints/best.ckpt
    return load_run(run), Path(run)


def as_series(
    data: Series | str | Path, split: str, n_edge_types: int | None = None
) -> Series:
    """A Series as given, or read from a file / data set directory (``split``;
    ``n_edge_types``: the run's, for the data's own edges, :func:`read_series`)."""
    if isinstance(data, Series):
        return data
    return read_series(data, split=split, n_edge_types=n_edge_types)


def trained_info(run_dir: Path | None) -> dict[str, Any]:
    """``RUN/data.json`` (what the run was trained on), or ``{}`` when absent."""
    if run_dir is None or not (run_dir / "data.json").exists():
        return {}  # runs from before data.json, or a run built in memory
    try:
        info = json.loads((run_dir / "data.json").read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _positional(names: tuple[str, ...], prefix: str, named: bool | None = None) -> bool:
    """True for the default names of data without names (``f0..``, ``0..``),
    unless ``named`` says that they came with the data (a CSV's numeric ids)."""
    return named is not True and names == tuple(
        f"{prefix}{i}" for i in range(len(names))
    )


def name_order(
    what: str,
    given: tuple[str, ...],
    trained: tuple[str, ...],
    source: str,
    where: str,
    named: tuple[bool | None, bool | None] = (None, None),
) -> np.ndarray | None:
    """Index into ``given`` that yields ``trained``'s order, None when there is
    nothing to reorder (the same order already, or either side positional: then by
    position, sizes are checked later). ``what`` is "feature" (positional names
    ``f0..``) or "object" (``0..``). ``named``: whether the given and the trained
    names came with their data (True: names even when they are ``0..``; False or
    None: judged by the names).

    Raises:
        DataError: names missing or extra (:func:`names_mismatch`).
    """
    if not trained:
        return None
    prefix = "f" if what == "feature" else ""
    pos_given = _positional(given, prefix, named[0])
    pos_trained = _positional(trained, prefix, named[1])
    if pos_given != pos_trained and len(given) == len(trained):
        _notice_by_position(what, given, trained, source, where, pos_given)
        return None  # no names on one side: by position, even if they look alike
    if given == trained or pos_given or pos_trained:
        return None  # nothing to reorder, or by position (sizes are checked later)
    if sorted(given) != sorted(trained) or len(set(given)) != len(given):
        raise names_mismatch(what, given, trained, source, where)
    index = {name: i for i, name in enumerate(given)}
    return np.array([index[name] for name in trained], dtype=np.int64)


def _few(names: tuple[str, ...]) -> str:
    return ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")


def _notice_by_position(
    what: str, given: tuple[str, ...], trained: tuple[str, ...], source: str,
    where: str, pos_given: bool,
) -> None:  # fmt: skip
    """A :class:`~nri.errors.DataNotice`: ``what``s matched by position because one
    side has no names, so that another order would go unnoticed."""
    side = "the data have" if pos_given else f"{where} has"
    taking = f"taking {_few(given)} as {_few(trained)}" if given != trained else (
        f"taking {_few(given)} in the order given")  # fmt: skip
    key = "feature_names" if what == "feature" else "object_names"
    fix = (f"give the data {what} names (the training data's layout, e.g. an .npz "
           f"with {key}; in Python {key}=[...])" if pos_given
           else "train on data with names")  # fmt: skip
    warnings.warn(
        f"{source}: {side} no {what} names; {taking} by position: check that the "
        f"order is the same, or {fix} to have them matched by name",
        DataNotice,
        stacklevel=4,
    )


def names_mismatch(
    what: str, given: tuple[str, ...], trained: tuple[str, ...], source: str, where: str
) -> DataError:
    """One line naming the missing and extra names; for objects ``--any-objects``
    (which takes objects by position) is named as the other way out."""
    missing = [n for n in trained if n not in given]
    extra = [n for n in given if n not in trained]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(repr(n) for n in missing)}")
    if extra:
        parts.append(f"extra {', '.join(repr(n) for n in extra)}")
    return DataError(
        f"{source}: the {what} names do not match those of {where} "
        f"({'; '.join(parts)}); it was trained on {', '.join(trained)}: give exactly "
        f"these {what}s (any order)"
        + (", or pass --any-objects to take the objects by position"
           if what == "object" else "")
    )  # fmt: skip


def reorder_edges(edges: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Edge labels ``[S, E]`` of the objects taken in the order ``idx`` (-1 unknown).

    Shapes:
        edges ``[S, E]``, idx ``[N]`` -> ``[S, E]``.
    """
    dense = graph.to_dense_np(edges, fill=-1)  # [S, N, N] [receiver, sender]
    return np.ascontiguousarray(graph.to_edges_np(dense[:, idx][:, :, idx]))


def match_series(
    run: LoadedRun,
    series: Series,
    run_dir: Path | None = None,
    allow_other_objects: bool = False,
) -> Series:
    """``series`` with its features (and objects, where the run records their names)
    in the run's order.

    Features: the run's feature names are its normaliser's. A permutation of them is
    reordered; other names raise. Objects: the names in ``RUN/data.json``; skipped
    with ``allow_other_objects``. Edge labels follow the objects.

    Shapes:
        ``x [S, N, T, F]`` -> the same shape, axes 1 and 3 reordered.

    Raises:
        DataError: names missing or extra (one line naming them).
    """
    where = f"the run {run_dir}" if run_dir is not None else "the run"
    info = trained_info(run_dir)
    trained_f = tuple(run.normalizer.names) or tuple(info.get("feature_names", ()))
    idx = name_order("feature", series.feature_names, trained_f, series.source, where)
    if idx is not None:
        series = replace(
            series, x=series.x[..., idx], feature_names=trained_f
        )  # [S, N, T, F] in the run's feature order
    trained_o = tuple(str(n) for n in info.get("object_names", ()))
    if allow_other_objects or not trained_o:
        return series
    named = (series.objects_named, info.get("objects_named"))
    idx = name_order(
        "object", series.object_names, trained_o, series.source, where, named
    )
    if idx is None:
        return series
    edges = None if series.edges is None else reorder_edges(series.edges, idx)
    return replace(
        series, x=series.x[:, idx], edges=edges, object_names=trained_o
    )  # objects (axis 1) in the run's order


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
            f"was trained on {mc.n_features}{which}; give the same features"
        )
    info = trained_info(run_dir)
    trained = info.get("n_objects")
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
    notice_time_step(series, info, where)


def encode(run: LoadedRun, x: Tensor, gen: torch.Generator) -> Tensor:
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


def normalised(run: LoadedRun, series: Series) -> Tensor:
    """The run's normalisation of ``series.x``: ``[S, N, T, F]`` float32.

    Raises:
        DataError: a value that is not finite after normalisation (e.g. a 1e308
            placeholder overflows), naming the file, feature, sample, object and
            time, as ``nri import`` does (:func:`nri.data.normalize.normalise`; the
            source names the split of a data set directory).
    """
    x = normalise(run.normalizer, series.x, None, series.source, series.place)
    notice_far_from_training(run, series, x)
    return torch.from_numpy(x)


def with_true_edges(
    series: Series, edges: np.ndarray | str | Path, n_edge_types: int | None = None
) -> Series:
    """``series`` with the true graph ``edges`` (an ``[N, N]`` array indexed
    [receiver, sender], shared by every sample, or a file of one:
    :func:`nri.data.edge_file.read_edge_file`) instead of its own; labels checked
    as on every route (weights and NaN refused; ``n_edge_types`` as
    :func:`nri.data.labels.check_edge_types`).

    Shapes:
        edges ``[N, N]`` -> ``Series.edges [S, E]``.
    """
    s, n = series.n_samples, series.n_objects
    if isinstance(edges, str | Path):
        adj = read_edge_file(edges, series.object_names, n_types=n_edge_types)
        labels = np.broadcast_to(graph.to_edges_np(adj), (s, n * (n - 1)))  # [S, E]
    elif np.shape(edges) != (n, n):
        raise DataError(
            f"true edges of shape {np.shape(edges)}; expected [{n}, {n}] indexed "
            "[receiver, sender]"
        )
    else:  # [N, N] -> [S, E]; weights, NaN and labels below -1 refused
        labels = edge_labels(np.asarray(edges), s, n, "the true edges", None,
                             n_edge_types)  # fmt: skip
    return replace(series, edges=np.ascontiguousarray(labels))

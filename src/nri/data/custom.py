"""Import of own data (system ``custom``): reading, splitting, then writing the
generic data set layout, and loading a single file.

``nri import`` (:func:`import_data`) reads any format of :mod:`nri.data.importers`,
splits the samples and writes ``feat_{split}_{name}.npy`` ``[S, N, T, F]`` in physical
units, optional ``edges_{split}_{name}.npy`` ``[S, N, N]`` (labels indexed [receiver,
sender]) and ``meta_{name}.json``, safely, as ``nri simulate`` does
(:mod:`nri.data.writer`); :func:`~nri.data.dataset.load_dataset` reads the directory.
Splitting and normalising are :mod:`nri.data.splits`, shared with every other route
(docs/data.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nri import graph
from nri.atomic import make_out_dir
from nri.data.edge_file import read_edge_file
from nri.data.errors import DataError
from nri.data.files import safe_name
from nri.data.importers import read_file_set, read_series
from nri.data.labels import check_edge_types
from nri.data.layout import read_data_dir
from nri.data.loaded import LoadedData
from nri.data.normalize import Normalizer
from nri.data.series import Series, make_windows
from nri.data.splits import (
    SplitBy,
    prepare,
    split_series,
    split_unit,
    windows_sharing_frames,
)
from nri.data.time_axis import OnGap
from nri.data.writer import check_splits, suggested_settings, write_data_dir
from nri.errors import DataNotice
from nri.sim.io import SPLITS

__all__ = [
    "check_splits",  # re-exported: defined in nri.data.writer
    "import_data",
    "load_file_dataset",
    "split_series",  # re-exported: defined in nri.data.splits
    "suggested_settings",  # re-exported: defined in nri.data.writer
    "write_data_dir",  # re-exported: defined in nri.data.writer
]


def import_data(
    path: str | Path,
    out: str | Path,
    name: str | None = None,
    valid_frac: float | None = None,
    test_frac: float | None = None,
    seed: int | None = None,
    window: int | None = None,
    stride: int | None = None,
    feature_groups: tuple[int, ...] | None = None,
    x_key: str | None = None,
    suffix: str | None = None,
    on_gap: OnGap | None = None,
    edge_threshold: float | None = None,
    edges: str | Path | None = None,
    data_format: str | None = None,
    format_options: Mapping[str, str] | None = None,
    split_by: SplitBy | None = None,
    n_edge_types: int | None = None,
) -> Path:
    """Read own data (any format), split it and write a standard data directory.

    A data set directory keeps its own train/valid/test splits; a file is split at
    random (``seed``, default 0) into ``1 - valid_frac - test_frac`` / ``valid_frac``
    / ``test_frac`` (default 0.1 each) of its samples (after cutting them into
    windows, when ``window`` is given: then by recording, all windows of one
    recording in one split, when there are at least 3 recordings, else in time, every
    recording's first windows train and its last ones test; ``split_by``
    "recording", "time" or "window" chooses, :func:`nri.data.splits.split_series`).
    ``split_by``, ``valid_frac``, ``test_frac`` and ``seed`` given for a directory or
    a format with its own splits are refused (they would be ignored). ``on_gap``
    ("cut" or "drop") handles CSV samples that are not equally spaced in time;
    ``edge_threshold`` turns edge weights into 0/1 labels; ``n_edge_types`` says
    how many edge types the labels are (they must be below it, and it is recorded;
    without it more than 2 are said in a notice, since counts or weights 0..4 would
    read as 5 types: :func:`nri.data.labels.check_edge_types`). ``edges`` is a file of
    one true graph for every sample (an ``[N, N]`` ``.npy`` or ``.csv`` indexed
    [receiver, sender]: :func:`nri.data.edge_file.read_edge_file`), for data that
    carry none (a CSV). ``data_format`` names an external format of
    :data:`nri.data.formats.FORMATS` (motion capture, basketball, NetSim...), read
    with ``format_options``; a format that defines its own splits keeps them.
    Everything is checked before anything is written (:func:`check_splits`).

    Returns:
        The path of ``meta_<name>.json`` in ``out``.
    """
    path = Path(path)
    out = Path(out)
    if stride is not None and window is None:  # it would be ignored
        raise DataError(
            f"--stride {stride} needs --window L (the window length); without "
            "--window the samples are not cut"
        )
    if out.exists() and not out.is_dir():  # before the (possibly long) read
        make_out_dir(out)
    name = name or safe_name(path.stem)
    opts = {"window": window, "stride": stride, "on_gap": on_gap,
            "edge_threshold": edge_threshold, "n_edge_types": n_edge_types}  # fmt: skip
    given = {"--split-by": split_by, "--valid-frac": valid_frac,
             "--test-frac": test_frac, "--seed": seed}  # fmt: skip
    fracs = {"valid_frac": 0.1 if valid_frac is None else valid_frac,
             "test_frac": 0.1 if test_frac is None else test_frac,
             "seed": 0 if seed is None else seed}  # fmt: skip
    how: dict[str, Any]
    if data_format is not None:
        from nri.data.formats import get_format, read_format

        read = read_format(data_format, path, window, stride, format_options)
        if isinstance(read, dict):
            _refuse_given(given, f"the {data_format} format defines its own train/"
                          "valid/test splits (see its --format-option settings)")  # fmt: skip
            splits, how = read, {"split": f"defined by the {data_format} format"}
        else:
            splits, how = _split(read, fracs, split_by)
        how |= {"format": data_format, "format_options": dict(format_options or {}),
                "edges_meaning": get_format(data_format).edges}  # fmt: skip
    elif path.is_dir():
        _refuse_given(given, f"{path} is a data set directory, which keeps its own "
                      "train/valid/test splits")  # fmt: skip
        read = read_data_dir(  # every split at once: one check of the edge types
            path, suffix, edge_threshold=edge_threshold, n_edge_types=n_edge_types
        )
        splits = {s: read.splits[s] for s in SPLITS}
        if window is not None:
            splits = {s: make_windows(v, window, stride) for s, v in splits.items()}
        how = {"split": "kept from the source"}
    else:
        splits, how = _split(read_series(path, x_key=x_key, **opts), fracs, split_by)
    if window is not None and how.get("split_by") == "window":  # split at random:
        _notice_shared_frames(splits, window, stride)  # by recording or time, none
    if edges is not None:
        splits = _with_edge_file(splits, path, Path(edges), edge_threshold,
                                 n_edge_types)  # fmt: skip
        how["edges"] = str(edges)
    extra = {"source": str(path), "import": {**how, **opts}}
    if n_edge_types is not None:  # checked by the readers; a format's edges here
        extra["n_edge_types"] = _given_types(splits, n_edge_types, path)
    return write_data_dir(splits, out, name, feature_groups, extra)


def _split(
    series: Series, fracs: dict[str, Any], split_by: SplitBy | None
) -> tuple[dict[str, Series], dict[str, Any]]:
    """``series`` split (:func:`split_series`) and the record of how, for the
    metadata's ``import``: the fractions, the seed, ``split_by`` and, split by
    recording or in time, how many recordings or windows went where."""
    splits = split_series(series, split_by=split_by, **fracs)
    how = {**fracs, "split_by": split_unit(series, split_by)}
    if how["split_by"] == "recording":  # how many went where, for the user
        how["n_recordings"] = {
            split: len(set(s.recordings or ())) for split, s in splits.items()
        }
    elif how["split_by"] == "time":
        how["n_windows"] = {split: s.n_samples for split, s in splits.items()}
        how["n_dropped"] = series.n_samples - sum(how["n_windows"].values())
    return splits, how


def _refuse_given(given: Mapping[str, Any], why: str) -> None:
    """A :class:`DataError` naming the first option of ``given`` that was given
    (not None): it would be ignored because of ``why``."""
    for option, value in given.items():
        if value is not None:
            raise DataError(f"{option} {value} does not apply: {why}; leave it out")


def _notice_shared_frames(
    splits: Mapping[str, Series], window: int, stride: int | None
) -> None:
    """A :class:`~nri.errors.DataNotice` when overlapping windows of one recording
    fell into training and valid/test (``stride < window``): their scores leak."""
    shared = windows_sharing_frames(splits, window)
    if not any(n for n, _ in shared.values()):
        return
    counts = " and ".join(f"{n} of {m} {split}" for split, (n, m) in shared.items())
    warnings.warn(
        f"--stride {stride} < --window {window}: {counts} windows share frames with "
        "a training window, so their scores overstate accuracy on new data; use "
        f"--stride {window} (or more) for windows that share no frames",
        DataNotice,
        stacklevel=2,
    )


def _given_types(splits: Mapping[str, Series], k: int, source: Path) -> int:
    """``k`` edge types (``--edge-types``), checked against every split's labels;
    refused for data without edges, where it would be ignored."""
    found = [s.edges for s in splits.values() if s.edges is not None]
    if not found:
        raise DataError(f"--edge-types {k} does not apply: {source} has no edges "
                        "(give them, e.g. with --edges TRUTH); leave it out")  # fmt: skip
    check_edge_types(np.concatenate(found), str(source), k)
    return k


def _with_edge_file(
    splits: dict[str, Series],
    source: Path,
    edges: Path,
    threshold: float | None,
    n_types: int | None = None,
) -> dict[str, Series]:
    """Every split with the one true graph of the file ``edges`` (``[N, N]`` indexed
    [receiver, sender] -> ``Series.edges [S, E]``)."""
    first = splits["train"]
    if any(s.edges is not None for s in splits.values()):
        raise DataError(
            f"{source} carries its own edges; --edges {edges} would replace them: "
            "give one or the other"
        )
    adj = read_edge_file(edges, first.object_names, threshold, n_types)
    labels = graph.to_edges_np(adj)  # [N, N] -> [E]
    return {
        name: replace(
            s,
            edges=np.ascontiguousarray(
                np.broadcast_to(labels, (s.n_samples, labels.size))
            ),
        )
        for name, s in splits.items()
    }


def load_file_dataset(
    path: str | Path,
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
    seed: int = 0,
    splits: tuple[str, ...] = SPLITS,
    normalizer: Normalizer | None = None,
) -> LoadedData:
    """A file of own data as a :class:`~nri.data.loaded.LoadedData`: split as
    :func:`split_series` does, normalised with the training split's min/max per
    feature (or ``normalizer``): :func:`nri.data.importers.read_file_set`, then
    :func:`nri.data.splits.prepare`."""
    return prepare(read_file_set(path, valid_frac, test_frac, seed), normalizer, splits)

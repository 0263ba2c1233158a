"""Own data: NumPy/NPZ arrays, long-format CSV and the original NRI layout.

Every reader returns a :class:`Series`: trajectories ``x [S, N, T, F]`` in the data's
own (physical) units, optional edge labels ``[S, E]`` in the order of :mod:`nri.graph`,
and names. The same data give the same ``Series`` whatever the format. Bad input
(missing values, ragged series, a single object, unreadable files) raises
:class:`~nri.data.dataset.DataError` with one line that says what to do.

Formats:

* ``.npy``: one array ``[samples, objects, time, features]``.
* ``.npz``: the trajectories under ``x`` (or ``feat``, ``features``,
  ``trajectories``, or the only array), optional ``edges`` (``[S, N, N]`` indexed
  [receiver, sender], ``[S, E]`` in :mod:`nri.graph` order, or ``[N, N]``/``[E]`` for
  one graph shared by all samples; labels 0/1, -1 = unknown), optional string arrays
  ``feature_names`` and ``object_names``.
* ``.csv``/``.tsv``: long format, one row per (sample, time, object); a header with
  the columns ``sample`` (optional: one sample), ``time`` (numbers or ISO dates),
  ``object`` and one column per feature (as ``DataFrame.to_csv(index=False)`` writes).
* a directory: a data set in the original NRI layout or written by ``nri import``.

:func:`import_data` turns any of them into a standard data directory
(``feat_{split}_{name}.npy`` ``[S, N, T, F]``, optional ``edges_{split}_{name}.npy``
``[S, N, N]``, ``meta_{name}.json``) that ``nri train`` reads; the normalisation is
fitted on its training split when a run is trained (and stored with the run).
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

import nri
from nri import graph
from nri.data import dataset as ds
from nri.data.dataset import DataError, LoadedData, Split
from nri.data.normalize import Normalizer
from nri.sim.io import SPLITS, marker_name, meta_name, write_json_atomic

X_KEYS = ("x", "feat", "features", "trajectories")
NAME_KEYS = ("edges", "feature_names", "object_names", "sample_names", "times")


@dataclass(frozen=True)
class Series:
    """Multi-object time series in physical units.

    Attributes:
        x: trajectories ``[S, N, T, F]`` float64.
        edges: labels ``[S, E]`` int64 in :mod:`nri.graph` order (0/1, -1 unknown), or
            None when the data come without a graph.
        feature_names, object_names, sample_names: one name each.
        source: where the data came from.
        times: time stamps ``[S, T]`` (CSV input), else None.
    """

    x: np.ndarray
    edges: np.ndarray | None
    feature_names: tuple[str, ...]
    object_names: tuple[str, ...]
    sample_names: tuple[str, ...]
    source: str
    times: np.ndarray | None = None

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

    def take(self, index: np.ndarray) -> Series:
        """The samples ``index`` (in that order)."""
        return replace(
            self,
            x=self.x[index],
            edges=None if self.edges is None else self.edges[index],
            sample_names=tuple(self.sample_names[i] for i in index),
            times=None if self.times is None else self.times[index],
        )


def make_series(
    x: np.ndarray,
    edges: np.ndarray | None = None,
    feature_names: tuple[str, ...] | None = None,
    object_names: tuple[str, ...] | None = None,
    sample_names: tuple[str, ...] | None = None,
    source: str = "array",
    times: np.ndarray | None = None,
) -> Series:
    """Check arrays and build a :class:`Series` (default names: f0.., 0.., 0..).

    Shapes:
        x ``[S, N, T, F]``; edges ``[S, N, N]`` (indexed [receiver, sender]), ``[S, E]``,
        ``[N, N]`` or ``[E]`` (one graph for every sample).
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise DataError(
            f"{source}: trajectories have shape {x.shape}; expected 4 axes "
            "[samples, objects, time, features] (add an axis with x[None] for one "
            "sample or x[..., None] for one feature)"
        )
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise DataError(
            f"{source}: trajectories have dtype {x.dtype}; expected numbers"
        )
    s, n, t, f = x.shape
    if min(s, t, f) < 1:
        raise DataError(f"{source}: trajectories of shape {x.shape} are empty")
    if n < 2:
        raise DataError(
            f"{source}: {n} object per sample; relational inference needs at least 2 "
            "interacting objects (axis 1 of [samples, objects, time, features])"
        )
    if t < 2:
        raise DataError(f"{source}: {t} time step per sample; at least 2 are needed")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{source}: {int(bad.sum())} missing (NaN) or infinite values, the first at "
            f"sample {i[0]}, object {i[1]}, time {i[2]}, feature {i[3]}; fill or "
            "interpolate the gaps, or drop the samples that have them"
        )
    labels = None if edges is None else _edge_labels(np.asarray(edges), s, n, source)
    names = _names(feature_names, f, "f", "feature_names", source)
    return Series(
        x=x,
        edges=labels,
        feature_names=names,
        object_names=_names(object_names, n, "", "object_names", source),
        sample_names=_names(sample_names, s, "", "sample_names", source),
        source=source,
        times=None if times is None else np.asarray(times, dtype=np.float64),
    )


def _names(
    names: Any, count: int, prefix: str, what: str, source: str
) -> tuple[str, ...]:
    if names is None:
        return tuple(f"{prefix}{i}" for i in range(count))
    out = tuple(str(v) for v in np.asarray(names).ravel())
    if len(out) != count:
        raise DataError(f"{source}: {len(out)} {what} for {count} entries")
    return out


def _edge_labels(edges: np.ndarray, s: int, n: int, source: str) -> np.ndarray:
    e = n * (n - 1)
    if edges.shape in ((n, n), (e,)):
        edges = np.broadcast_to(edges, (s, *edges.shape))  # one graph for all samples
    if edges.shape == (s, n, n):
        edges = graph.to_edges_np(edges)  # [S, E], diagonal dropped
    elif edges.shape != (s, e):
        raise DataError(
            f"{source}: edges have shape {edges.shape}; expected [{s}, {n}, {n}] "
            f"(indexed [receiver, sender]), [{s}, {e}] (nri.graph order), [{n}, {n}] "
            f"or [{e}] for one graph"
        )
    values = np.unique(edges)
    if not np.isin(values, (-1, 0, 1)).all():
        raise DataError(
            f"{source}: edge labels must be 0 (no interaction), 1 (interaction) or -1 "
            f"(unknown), found {values[:8].tolist()}; binarise them (e.g. weight > 0)"
        )
    return np.ascontiguousarray(edges, dtype=np.int64)


# --------------------------------------------------------------------------- readers


def _np_load(path: Path) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        raise DataError(
            f"cannot read {path}: {err} (save plain numeric and string arrays, "
            "without pickled objects)"
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read {path}: {err}; the file is corrupt") from None


def read_npy(path: str | Path) -> Series:
    """One ``.npy`` array ``[samples, objects, time, features]`` (no edges)."""
    path = Path(path)
    arr = _np_load(path)
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{path} is not a single .npy array")
    return make_series(arr, source=str(path))


def read_npz(path: str | Path, x_key: str | None = None) -> Series:
    """An ``.npz`` archive: trajectories, optional edges and names (module docstring)."""
    path = Path(path)
    archive = _np_load(path)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path} is not an .npz archive")
    with archive as z:
        keys = list(z.files)
        if x_key is None:
            found = [k for k in X_KEYS if k in keys]
            rest = [k for k in keys if k not in NAME_KEYS]
            x_key = found[0] if found else (rest[0] if len(rest) == 1 else None)
        if x_key is None or x_key not in keys:
            raise DataError(
                f"{path} holds arrays {keys}; store the trajectories under 'x' "
                "(or name the key with --x-key)"
            )
        try:
            get = {k: z[k] for k in keys}
        except ValueError as err:
            raise DataError(
                f"cannot read {path}: {err} (save plain numeric and string arrays, "
                "without pickled objects)"
            ) from None
        except (OSError, EOFError, zipfile.BadZipFile) as err:
            raise DataError(f"cannot read {path}: {err}; the file is corrupt") from None
    return make_series(
        get[x_key],
        edges=get.get("edges"),
        feature_names=_opt(get, "feature_names"),
        object_names=_opt(get, "object_names"),
        sample_names=_opt(get, "sample_names"),
        source=str(path),
    )


def _opt(arrays: dict[str, np.ndarray], key: str) -> tuple[str, ...] | None:
    return tuple(str(v) for v in arrays[key].ravel()) if key in arrays else None


def _sorted_ids(values: list[str]) -> tuple[list[str], np.ndarray]:
    """Unique ids (numeric order when all are numbers) and each value's index."""
    uniq = sorted(set(values))
    try:
        uniq.sort(key=float)
    except ValueError:
        pass  # text ids: alphabetical
    pos = {v: i for i, v in enumerate(uniq)}
    return uniq, np.fromiter(
        (pos[v] for v in values), dtype=np.int64, count=len(values)
    )


def _times(values: list[str], path: Path, lines: np.ndarray) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except ValueError:
        pass
    try:  # ISO dates / date-times -> seconds
        stamps = np.array(values, dtype="datetime64[ns]")
        return (stamps - stamps.min()).astype("timedelta64[ns]").astype(
            np.float64
        ) / 1e9
    except ValueError:
        bad = next((i for i, v in enumerate(values) if not _is_number(v)), 0)
        raise DataError(
            f"{path} line {lines[bad]}: time {values[bad]!r} is neither a number nor "
            "an ISO date; give time as a number (e.g. seconds or a frame index)"
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(
    path: str | Path, window: int | None = None, stride: int | None = None
) -> Series:
    """A long-format CSV: one row per (sample, time, object), one column per feature.

    Objects and samples are ordered by id (numerically when every id is a number);
    frames by time. Every object needs a row at every time step of its sample. With
    ``window`` every sample is cut into windows of that many frames (samples of
    different lengths are then allowed); see :func:`make_windows`.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            head = f.read(4096)
            f.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(head, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel_tab if path.suffix == ".tsv" else csv.excel
            rows = [
                r for r in csv.reader(f, dialect) if r and any(c.strip() for c in r)
            ]
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {path}: {err}") from None
    if len(rows) < 2:
        raise DataError(f"{path} has no data rows (a header and one row per value)")
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    missing = [c for c in ("time", "object") if c not in lower]
    if missing:
        raise DataError(
            f"{path}: no column {' or '.join(repr(c) for c in missing)} in the header "
            f"{header}; expected columns sample, time, object, then one per feature"
        )
    col = {c: lower.index(c) for c in ("sample", "time", "object") if c in lower}
    feat_cols = [i for i in range(len(header)) if i not in col.values()]
    if not feat_cols:
        raise DataError(f"{path}: no feature columns besides {list(col)}")
    body = rows[1:]
    lines = np.arange(2, len(body) + 2)
    width = len(header)
    for i, r in enumerate(body):
        if len(r) != width:
            raise DataError(
                f"{path} line {lines[i]} has {len(r)} fields, the header has {width}"
            )
    values = np.empty((len(body), len(feat_cols)), dtype=np.float64)
    for i, r in enumerate(body):
        for j, c in enumerate(feat_cols):
            cell = r[c].strip()
            try:
                v = float(cell) if cell else np.nan
            except ValueError:
                raise DataError(
                    f"{path} line {lines[i]}: {header[c]} = {cell!r} is not a number"
                ) from None
            if not np.isfinite(v):
                raise DataError(
                    f"{path} line {lines[i]}: missing value in column {header[c]!r}; "
                    "fill or interpolate the gaps, or drop the samples that have them"
                )
            values[i, j] = v
    sample_ids = [r[col["sample"]].strip() for r in body] if "sample" in col else None
    s_names, s_idx = _sorted_ids(sample_ids or ["0"] * len(body))
    o_names, o_idx = _sorted_ids([r[col["object"]].strip() for r in body])
    t = _times([r[col["time"]].strip() for r in body], path, lines)
    n = len(o_names)
    if n < 2:
        raise DataError(
            f"{path}: only one object ({o_names[0]!r}); relational inference needs at "
            "least 2 interacting objects"
        )
    order = np.lexsort((o_idx, t, s_idx))  # by sample, then time, then object
    s_idx, o_idx, t, values, lines = (
        a[order] for a in (s_idx, o_idx, t, values, lines)
    )
    same = (np.diff(s_idx) == 0) & (np.diff(t) == 0)
    dup = same & (np.diff(o_idx) == 0)
    if dup.any():
        i = int(np.argmax(dup))
        raise DataError(
            f"{path} lines {lines[i]} and {lines[i + 1]}: two rows for sample "
            f"{s_names[s_idx[i]]!r}, object {o_names[o_idx[i]]!r}, time {t[i]:g}; "
            "keep one row per (sample, time, object)"
        )
    starts = np.flatnonzero(np.r_[True, ~same])  # first row of every (sample, time)
    counts = np.diff(np.r_[starts, len(t)])
    if (counts != n).any():
        k = int(np.flatnonzero(counts != n)[0])
        rows_k = slice(starts[k], starts[k] + counts[k])
        absent = sorted(set(range(n)) - set(o_idx[rows_k].tolist()))
        raise DataError(
            f"{path}: sample {s_names[s_idx[starts[k]]]!r} has no row for object(s) "
            f"{[o_names[a] for a in absent]} at time {t[starts[k]]:g}; every object "
            "needs a value at every time step: fill or interpolate the missing rows, "
            "or drop that time step"
        )
    frame_sample = s_idx[starts]  # [frames of all samples]
    lengths = np.bincount(frame_sample, minlength=len(s_names))
    per_sample = np.split(
        values.reshape(-1, n, len(feat_cols)), np.cumsum(lengths)[:-1]
    )
    time_split = np.split(t[starts], np.cumsum(lengths)[:-1])
    xs = [a.transpose(1, 0, 2) for a in per_sample]  # [N, T_s, F] each
    src = str(path)
    names = tuple(header[c] for c in feat_cols)
    if window is not None:
        return _windows(xs, time_split, s_names, o_names, names, src, window, stride)
    if len(set(lengths.tolist())) > 1:
        lo, hi = int(lengths.min()), int(lengths.max())
        short = s_names[int(np.argmin(lengths))]
        raise DataError(
            f"{path}: samples differ in length ({lo} to {hi} time steps; sample "
            f"{short!r} has {lo}); cut every sample to {lo} steps, or import with "
            f"--window L (L <= {lo}) to cut them into windows of L steps"
        )
    return make_series(
        np.stack(xs),
        feature_names=names,
        object_names=tuple(o_names),
        sample_names=tuple(s_names),
        source=src,
        times=np.stack(time_split),
    )


def _windows(
    xs: list[np.ndarray],
    times: list[np.ndarray],
    s_names: list[str],
    o_names: list[str],
    f_names: tuple[str, ...],
    source: str,
    window: int,
    stride: int | None,
) -> Series:
    stride = window if stride is None else stride
    if window < 2 or stride < 1:
        raise DataError(f"window must be >= 2 and stride >= 1, got {window}, {stride}")
    cut, cut_t, names = [], [], []
    for x, t, name in zip(xs, times, s_names, strict=True):
        for a in range(0, x.shape[1] - window + 1, stride):
            cut.append(x[:, a : a + window])
            cut_t.append(t[a : a + window])
            names.append(f"{name}@{a}")
    if not cut:
        longest = max(x.shape[1] for x in xs)
        raise DataError(
            f"{source}: no sample has {window} time steps (the longest has "
            f"{longest}); choose a window <= {longest}"
        )
    return make_series(
        np.stack(cut),
        feature_names=f_names,
        object_names=tuple(o_names),
        sample_names=tuple(names),
        source=source,
        times=np.stack(cut_t),
    )


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
    out = _windows(
        list(series.x), times, list(series.sample_names), list(series.object_names),
        series.feature_names, series.source, window, stride,
    )  # fmt: skip
    if series.edges is not None:
        per = (series.n_frames - window) // (window if stride is None else stride) + 1
        out = replace(out, edges=np.repeat(series.edges, per, axis=0))
    return out


def read_nri(path: str | Path, split: str, suffix: str | None = None) -> Series:
    """One split of a data set directory (original NRI layout or ``nri import``'s),
    in physical units, with the features :func:`~nri.data.dataset.load_dataset` uses."""
    root, suffix = ds._resolve(path, suffix)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose from {SPLITS}")
    meta = ds._read_meta(root, suffix)
    system = ds._system_of(root, suffix, meta)
    raw = ds.read_split(root, suffix, split, system)
    x, labels = ds.physical_split(raw, system)
    stored = raw["feat"].shape[3] if "feat" in raw else 4
    names = ds.feature_names(system, stored, (0, 1, 3), meta)
    objects = (meta or {}).get("object_names")
    return make_series(
        x,
        edges=labels,
        feature_names=names,
        object_names=tuple(objects) if objects else None,
        source=f"{root} ({suffix}, {split})",
    )


def read_series(
    path: str | Path,
    split: str = "test",
    suffix: str | None = None,
    x_key: str | None = None,
    window: int | None = None,
    stride: int | None = None,
) -> Series:
    """Any supported input by its extension (a directory: one ``split`` of a data set).

    ``window``/``stride`` cut the samples into windows (:func:`make_windows`).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    ext = path.suffix.lower()
    if path.is_dir():
        series = read_nri(path, split, suffix)
    elif ext == ".npz":
        series = read_npz(path, x_key)
    elif ext == ".npy":
        series = read_npy(path)
    elif ext in (".csv", ".tsv", ".txt"):
        return read_csv(path, window, stride)
    else:
        raise DataError(
            f"{path}: unknown format {ext or '(no extension)'}; give a .npz, .npy or "
            ".csv file, or a data set directory"
        )
    return series if window is None else make_windows(series, window, stride)


# -------------------------------------------------------------- splits and writing


def split_series(
    series: Series, valid_frac: float = 0.1, test_frac: float = 0.1, seed: int = 0
) -> dict[str, Series]:
    """Random train/valid/test split of the samples (seeded; every split non-empty)."""
    for name, frac in (("valid_frac", valid_frac), ("test_frac", test_frac)):
        if not 0 < frac < 1:
            raise DataError(f"{name} must be in (0, 1), got {frac}")
    s = series.n_samples
    n_valid = max(1, round(s * valid_frac))
    n_test = max(1, round(s * test_frac))
    if s - n_valid - n_test < 1:
        raise DataError(
            f"{series.source}: {s} sample(s) cannot fill train, valid and test splits; "
            "give more samples, or cut long recordings into windows (--window L)"
        )
    perm = np.random.default_rng(seed).permutation(s)
    parts = np.split(perm, [s - n_valid - n_test, s - n_test])
    return {
        name: series.take(np.sort(idx)) for name, idx in zip(SPLITS, parts, strict=True)
    }


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise DataError(
            f"data set name {name!r} must be letters, digits, '_', '.' or '-'"
        )
    return name


def write_data_dir(
    splits: Mapping[str, Series],
    out: str | Path,
    name: str,
    feature_groups: tuple[int, ...] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the generic layout, safely (``*.partial`` files renamed when all are
    written, an ``.incomplete_<name>`` marker meanwhile, metadata last).

    Returns:
        The path of ``meta_<name>.json``.
    """
    name = _check_name(name)
    if set(splits) != set(SPLITS):
        raise DataError(f"need the splits {SPLITS}, got {sorted(splits)}")
    first = splits["train"]
    for split, s in splits.items():
        if (s.n_objects, s.n_features) != (first.n_objects, first.n_features):
            raise DataError(
                f"split {split} has {s.n_objects} objects x {s.n_features} features, "
                f"train {first.n_objects} x {first.n_features}"
            )
    with_edges = all(s.edges is not None for s in splits.values())
    if feature_groups is not None:  # validates the groups on the training data
        ds.fit_normalizer(first.x, first.feature_names, feature_groups)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[Path, Path] = {}
    try:
        for split, s in splits.items():
            arrays = {"feat": s.x}
            if with_edges:
                assert s.edges is not None
                arrays["edges"] = graph.to_dense_np(s.edges, fill=0)  # [S, N, N]
            for key, arr in arrays.items():
                final = out / f"{key}_{split}_{name}.npy"
                part = final.with_name(final.name + ".partial")
                with part.open("wb") as f:
                    np.save(f, arr)
                    f.flush()
                    os.fsync(f.fileno())
                files[part] = final
    except BaseException:
        for part in files:
            part.unlink(missing_ok=True)
        raise
    meta = {
        "format": "nri-dataset",
        "system": ds.CUSTOM,
        "suffix": name,
        "nri_version": nri.__version__,
        "feature_names": list(first.feature_names),
        "object_names": list(first.object_names),
        "feature_groups": None if feature_groups is None else list(feature_groups),
        "has_edges": with_edges,
        "edges_layout": "[S, N, N] labels indexed [receiver, sender]; 1 = interaction",
        "splits": {
            split: {
                "n_samples": s.n_samples,
                "n_frames": s.n_frames,
                "sample_names": list(s.sample_names),
            }
            for split, s in splits.items()
        },
        **(extra or {}),
    }
    marker = out / marker_name(name)
    marker.write_text("written by nri import; removed when the set is complete\n")
    (out / meta_name(name)).unlink(missing_ok=True)
    for stale in (f"edges_{split}_{name}.npy" for split in SPLITS):
        (out / stale).unlink(missing_ok=True)  # an older set's edges must not stay
    for part, final in files.items():
        os.replace(part, final)
    write_json_atomic(out / meta_name(name), meta)
    marker.unlink()
    return out / meta_name(name)


def import_data(
    path: str | Path,
    out: str | Path,
    name: str | None = None,
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
    seed: int = 0,
    window: int | None = None,
    stride: int | None = None,
    feature_groups: tuple[int, ...] | None = None,
    x_key: str | None = None,
    suffix: str | None = None,
) -> Path:
    """Read own data (any format), split it and write a standard data directory.

    A data set directory keeps its own train/valid/test splits; a file is split at
    random into ``1 - valid_frac - test_frac`` / ``valid_frac`` / ``test_frac`` of its
    samples (after cutting them into windows, when ``window`` is given).

    Returns:
        The path of ``meta_<name>.json`` in ``out``.
    """
    path = Path(path)
    name = name or re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem).lstrip("._-") or "data"
    if path.is_dir():
        splits = {
            s: read_series(path, s, suffix, window=window, stride=stride)
            for s in SPLITS
        }
        how: dict[str, Any] = {"split": "kept from the source"}
    else:
        series = read_series(path, x_key=x_key, window=window, stride=stride)
        splits = split_series(series, valid_frac, test_frac, seed)
        how = {"valid_frac": valid_frac, "test_frac": test_frac, "seed": seed}
    extra = {"source": str(path), "import": {**how, "window": window, "stride": stride}}
    return write_data_dir(splits, out, name, feature_groups, extra)


def load_file_dataset(
    path: str | Path,
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
    seed: int = 0,
    splits: tuple[str, ...] = SPLITS,
    normalizer: Normalizer | None = None,
) -> LoadedData:
    """A file of own data as a :class:`~nri.data.dataset.LoadedData`: split as
    :func:`split_series` does, normalised with the training split's min/max per
    feature (or ``normalizer``)."""
    series = read_series(path)
    parts = split_series(series, valid_frac, test_frac, seed)
    if normalizer is None:
        normalizer = ds.fit_normalizer(parts["train"].x, series.feature_names)
    elif normalizer.n_features != series.n_features:
        raise DataError(
            f"{path} has {series.n_features} features per object, the normaliser "
            f"(a trained run's) {normalizer.n_features}"
        )
    out = {}
    for s in splits:
        p = parts[s]
        x = normalizer.transform(p.x).astype(np.float32)
        e = p.n_objects * (p.n_objects - 1)
        labels = np.full((p.n_samples, e), -1) if p.edges is None else p.edges
        out[s] = Split(torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64)))
    meta = {"feature_names": list(series.feature_names),
            "object_names": list(series.object_names)}  # fmt: skip
    return LoadedData(out, normalizer, ds.CUSTOM, Path(path).stem, meta, str(path))


def suggested_settings(train_frames: int, test_frames: int) -> dict[str, int]:
    """Model settings that fit trajectories of these lengths: the encoder window
    ``n_timesteps``, the test protocol's ``test_horizon`` (``n_timesteps + 1 +
    test_horizon <= test_frames``) and rollout lengths ``<= n_timesteps - 1``."""
    if test_frames > train_frames:  # longer test trajectories, as the papers' sets
        window = train_frames
        horizon = min(20, test_frames - window - 1)
    else:
        horizon = min(20, max(1, test_frames // 4))
        window = test_frames - 1 - horizon
    if window < 2 or horizon < 1:
        raise DataError(
            f"trajectories of {train_frames}/{test_frames} frames are too short for "
            "NRI: it needs at least 4 (a window to infer the graph, then frames to "
            "predict)"
        )
    steps = min(10, window - 1)
    out = {"n_timesteps": window, "test_horizon": horizon}
    if steps != 10:
        out |= {"pred_steps": steps, "val_pred_steps": steps}
    return out

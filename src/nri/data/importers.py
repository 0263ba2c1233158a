"""Own data: NumPy/NPZ arrays, long-format CSV and the original NRI layout.

Every reader returns a :class:`Series`: trajectories ``x [S, N, T, F]`` in the data's
own (physical) units, optional edge labels ``[S, E]`` in the order of :mod:`nri.graph`,
and names. The same data give the same ``Series`` whatever the format. Bad input
(missing values, ragged series, a single object, unreadable files) raises
:class:`~nri.data.errors.DataError` with one line that says what to do.

Formats:

* ``.npy``: one array ``[samples, objects, time, features]``.
* ``.npz``: the trajectories under ``x`` (or ``feat``, ``features``,
  ``trajectories``, or the only array), optional ``edges`` (``[S, N, N]`` indexed
  [receiver, sender], ``[S, E]`` in :mod:`nri.graph` order, or ``[N, N]``/``[E]`` for
  one graph shared by all samples; labels 0..K-1, -1 = unknown; weights only with
  ``edge_threshold``), optional string arrays
  ``feature_names`` and ``object_names``.
* ``.csv``/``.tsv``: long format, one row per (sample, time, object); a header with
  the columns ``sample`` (optional: one sample), ``time`` (numbers or ISO stamps,
  equally spaced), ``object`` and one column per feature (as
  ``DataFrame.to_csv(index=False)`` writes; a leading unnamed index column is dropped).
* a directory: a data set in the original NRI layout or written by ``nri import``
  (:func:`nri.data.layout.read_nri`).

:func:`nri.data.custom.import_data` turns any of them into a standard data directory
(``feat_{split}_{name}.npy`` ``[S, N, T, F]``, optional ``edges_{split}_{name}.npy``
``[S, N, N]``, ``meta_{name}.json``) that ``nri train`` reads; the normalisation is
fitted on its training split when a run is trained (and stored with the run).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nri.data.errors import DataError
from nri.data.layout import read_nri
from nri.data.long_csv import read_csv
from nri.data.series import Series, make_series, make_windows, notice_swapped_axes
from nri.data.splits import SeriesSet, random_splits
from nri.data.time_axis import OnGap

__all__ = [
    "Series",
    "make_series",
    "make_windows",
    "read_csv",
    "read_npy",
    "read_npz",
    "read_file_set",
    "read_nri",
    "read_series",
]

X_KEYS = ("x", "feat", "features", "trajectories")
NAME_KEYS = ("edges", "feature_names", "object_names", "sample_names", "times")


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
    notice_swapped_axes(arr, str(path))
    return make_series(arr, source=str(path))


def read_npz(
    path: str | Path,
    x_key: str | None = None,
    edge_threshold: float | None = None,
    n_edge_types: int | None = None,
) -> Series:
    """An ``.npz`` archive: trajectories, optional edges and names (module docstring);
    ``edge_threshold`` binarises edge weights (:func:`nri.data.labels.to_labels`),
    ``n_edge_types`` is the number of edge types when given
    (:func:`~nri.data.series.make_series`)."""
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
    notice_swapped_axes(get[x_key], str(path))
    return make_series(
        get[x_key],
        edges=get.get("edges"),
        feature_names=get.get("feature_names"),
        object_names=get.get("object_names"),
        sample_names=get.get("sample_names"),  # names: checked by make_series
        source=str(path),
        edge_threshold=edge_threshold,
        n_edge_types=n_edge_types,
    )


def read_series(
    path: str | Path,
    split: str = "test",
    suffix: str | None = None,
    x_key: str | None = None,
    window: int | None = None,
    stride: int | None = None,
    on_gap: OnGap | None = None,
    edge_threshold: float | None = None,
    n_edge_types: int | None = None,
) -> Series:
    """Any supported input by its extension (a directory: one ``split`` of a data set).

    ``window``/``stride`` cut the samples into windows (:func:`make_windows`);
    ``on_gap`` ("cut" or "drop") handles CSV samples whose time steps are not equal
    (:func:`nri.data.time_axis.even_pieces`; default: refuse them);
    ``edge_threshold`` turns edge weights into 0/1 labels (default: refuse weights);
    ``n_edge_types`` is the number of edge types when the user gave it (labels must
    be below it; None: more than 2 are said in a notice).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    ext = path.suffix.lower()
    if path.is_dir():
        series = read_nri(path, split, suffix, edge_threshold, n_edge_types)
    elif ext == ".npz":
        series = read_npz(path, x_key, edge_threshold, n_edge_types)
    elif ext == ".npy":
        series = read_npy(path)
    elif ext in (".csv", ".tsv", ".txt"):
        return read_csv(path, window, stride, on_gap)
    else:
        raise DataError(
            f"{path}: unknown format {ext or '(no extension)'}; give a .npz, .npy or "
            ".csv file, or a data set directory"
        )
    return series if window is None else make_windows(series, window, stride)


def read_file_set(
    path: str | Path, valid_frac: float = 0.1, test_frac: float = 0.1, seed: int = 0
) -> SeriesSet:
    """One file of own data (:func:`read_series`) split at random into a
    :class:`SeriesSet` named by the file's stem
    (:func:`~nri.data.splits.random_splits`), as ``nri train --data FILE`` reads it."""
    series = read_series(path)
    return random_splits(
        series, Path(path).stem, valid_frac, test_frac, seed, str(path)
    )

"""Loading a data set for the models: :func:`load_dataset`.

One entry point for every input: a directory in the original NRI layout (our simulated
sets and the originals' files, ``../shared/reference-data``: springs/charged
``loc``/``vel``/``edges``, Kuramoto ``feat``/``edges``), a directory that ``nri
import`` wrote (system ``custom``), or one ``.npz``/``.npy``/``.csv`` file of own data
(split on the fly). Every route reads :class:`~nri.data.series.Series` in physical
units (:mod:`nri.data.layout`, :mod:`nri.data.importers`) and takes the one path of
:func:`nri.data.splits.prepare` to normalised tensors (docs/data.md, "The data
model"). A problem fails with one line (:class:`DataError`) that names the file.

The names that lived here before the data layer had one module per step stay
importable from here.
"""

from __future__ import annotations

from pathlib import Path

from nri.data.errors import DataError
from nri.data.files import CUSTOM  # re-exported
from nri.data.layout import (
    KURAMOTO_FEATURES,
    edge_labels,
    feature_names,
    physical_split,
    read_data_dir,
)
from nri.data.loaded import LoadedData, Split, check_finite_splits
from nri.data.normalize import Normalizer, fit_normalizer, normalise
from nri.data.series import Series
from nri.data.splits import SeriesSet, prepare, random_splits, split_series
from nri.sim.io import SPLITS

__all__ = [
    "CUSTOM",
    "KURAMOTO_FEATURES",
    "DataError",
    "LoadedData",
    "Series",
    "Normalizer",
    "SeriesSet",
    "as_loaded",
    "Split",
    "check_finite_splits",
    "edge_labels",
    "feature_names",
    "fit_normalizer",
    "load_dataset",
    "load_series_set",
    "normalise",
    "physical_split",
    "prepare",
    "random_splits",
    "split_series",
]


def load_series_set(
    path: str | Path,
    suffix: str | None = None,
    splits: tuple[str, ...] = SPLITS,
    kuramoto_features: tuple[int, ...] = (0, 1, 3),
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
    seed: int = 0,
) -> SeriesSet:
    """Any input as a :class:`SeriesSet` in physical units: a directory's ``splits``
    as stored (:func:`nri.data.layout.read_data_dir`), or a file read by
    :func:`nri.data.importers.read_series` and split at random
    (:func:`~nri.data.splits.split_series`: ``valid_frac``, ``test_frac``, ``seed``;
    ``suffix`` is ignored)."""
    if not Path(path).is_file():
        return read_data_dir(path, suffix, splits, kuramoto_features)
    from nri.data.importers import read_file_set  # pandas: only for files of own data

    return read_file_set(path, valid_frac, test_frac, seed)


def load_dataset(
    path: str | Path,
    suffix: str | None = None,
    splits: tuple[str, ...] = SPLITS,
    kuramoto_features: tuple[int, ...] = (0, 1, 3),
    normalizer: Normalizer | None = None,
) -> LoadedData:
    """Read a data set and normalise it with training statistics.

    Args:
        path: directory holding the files, or one ``.npz``/``.npy``/``.csv`` file of
            own data (split with :func:`nri.data.custom.load_file_dataset`'s
            defaults: 10 % validation, 10 % test, seed 0; ``suffix`` is ignored).
        suffix: which data set (e.g. "springs5"); may be omitted when the directory
            holds exactly one.
        splits: which splits to return (the training split is always read to fit the
            normaliser).
        kuramoto_features: features kept from the 4 stored Kuramoto features (dphi,
            sin phi, phase, omega); the default (0, 1, 3) drops the scaled phase, as
            NRI-MPM does.
        normalizer: use this normalisation (e.g. a trained run's) instead of fitting
            one on the training split; the training split is then not read unless
            asked.

    Returns:
        :class:`LoadedData` with ``x [S, N, T, F]`` float32 and ``edges [S, E]`` int64
        (-1 where unknown: sets without edge files).
    """
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise DataError(f"unknown split(s) {unknown}; choose from {SPLITS}")
    needed = splits if normalizer is not None else ("train", *splits)
    data = load_series_set(
        path, suffix, tuple(dict.fromkeys(needed)), kuramoto_features
    )
    return prepare(data, normalizer, splits)


def as_loaded(
    data: LoadedData | SeriesSet | Series | str | Path,
    suffix: str | None = None,
    normalizer: Normalizer | None = None,
) -> LoadedData:
    """Any form of a data set, ready for the models: :class:`LoadedData` as it is, a
    :class:`SeriesSet` prepared (:func:`~nri.data.splits.prepare`), one
    :class:`Series` split at random first (:func:`~nri.data.splits.random_splits`,
    10 % validation, 10 % test, seed 0), a path loaded (:func:`load_dataset`).
    ``normalizer`` (a trained run's) is used for all but ``LoadedData``."""
    if isinstance(data, LoadedData):
        return data
    if isinstance(data, Series):
        data = random_splits(data, "series")
    if isinstance(data, SeriesSet):
        return prepare(data, normalizer)
    return load_dataset(data, suffix, normalizer=normalizer)

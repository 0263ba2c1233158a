"""The one path from :class:`~nri.data.series.Series` to the models' tensors.

Readers produce a :class:`Series` per split in physical units (a data directory keeps
its splits, :func:`split_series` splits one file at random); a :class:`SeriesSet`
holds them with what the normaliser needs; :func:`prepare` fits the normaliser on the
training split, maps every split to float32 in [-1, 1] (refusing values that are not
finite there) and returns :class:`~nri.data.loaded.LoadedData`, whose splits
:class:`nri.training.datamodule.NRIDataModule` batches. ``nri train``, ``nri import``
(its checks), the experiments and Python callers all take this path.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from nri.data.errors import DataError
from nri.data.files import CUSTOM
from nri.data.loaded import LoadedData, Split
from nri.data.normalize import (
    Normalizer,
    fit_normalizer,
    normalise,
    squeezed_features,
)
from nri.data.series import Series, window_of_name
from nri.data.time_split import split_in_time
from nri.errors import DataNotice
from nri.sim.io import SPLITS

__all__ = ["SeriesSet", "prepare", "random_splits", "split_series", "split_unit"]


@dataclass(frozen=True)
class SeriesSet:
    """A data set in physical units: one :class:`Series` per split.

    Attributes:
        splits: split name -> Series (the same objects and features in every split).
        name: the data set's name (the file suffix, e.g. "springs5", or a file's stem).
        system: "springs", "charged", "kuramoto", "particles" (springs/charged files
            without metadata) or "custom" (own data).
        feature_groups: for every feature, its (min, max) group of the normaliser
            (springs/charged: positions and velocities, ``(0, 0, 1, 1)``); None = one
            group per feature.
        meta: the data set's metadata (``meta_<name>.json``; None for files written
            by other code).
        source: where it came from (a directory or a file).
        label: how messages name it (default: ``source``).
    """

    splits: Mapping[str, Series]
    name: str
    system: str
    feature_groups: tuple[int, ...] | None = None
    meta: dict[str, Any] | None = None
    source: str = ""
    label: str = ""

    @property
    def feature_names(self) -> tuple[str, ...]:
        return next(iter(self.splits.values())).feature_names


SplitBy = Literal["recording", "time", "window"]
SPLIT_BY_CHOICES: tuple[str, ...] = ("recording", "time", "window")
MIN_RECORDINGS = 3  # one recording for each of train, valid and test


def split_unit(series: Series, split_by: SplitBy | None = None) -> str:
    """What :func:`split_series` assigns to the splits: ``"sample"`` (samples that
    are whole recordings, :attr:`Series.recordings` None), ``"recording"`` (every
    window or piece cut at a gap of one recording goes to one split), ``"time"``
    (every recording's first windows train, its last ones test:
    :func:`~nri.data.time_split.split_in_time`) or ``"window"`` (windows or pieces
    at random).

    ``split_by`` None chooses "recording" when the samples come from at least 3
    recordings, else "time".

    Raises:
        DataError: an unknown ``split_by``, "recording" for windows (pieces) of
            fewer than 3 recordings, or "time" for samples that are whole recordings.
    """
    if split_by is not None and split_by not in SPLIT_BY_CHOICES:
        raise DataError(
            f"split_by must be one of {SPLIT_BY_CHOICES} or None, got {split_by!r}"
        )
    if series.recordings is None:
        if split_by == "time":  # no order in time between whole recordings
            raise DataError(
                f"{series.source}: --split-by time (split_by='time') splits the "
                "windows of every recording in time order, but these samples are "
                "whole recordings; cut them with --window L, or leave out --split-by"
            )
        return "sample"
    n_rec = len(set(series.recordings))
    if split_by == "recording" and n_rec < MIN_RECORDINGS:
        raise DataError(
            f"{series.source}: the {series.n_samples} {_parts(series)} come from {n_rec} "
            f"recording(s), too few to put whole recordings into train, valid and "
            f"test; give {MIN_RECORDINGS} or more recordings, or split every "
            "recording in time with --split-by time"
        )
    if split_by is not None:
        return split_by
    return "recording" if n_rec >= MIN_RECORDINGS else "time"


def _parts(series: Series) -> str:
    """What the samples of a series with recordings are, for messages."""
    if any(window_of_name(name) for name in series.sample_names):
        return "windows"
    return "pieces (cut at gaps)"


def _cuts(
    n: int, valid_frac: float, test_frac: float, what: str, source: str, fix: str
) -> tuple[int, int]:
    """Where a permutation of ``n`` units is cut into train, valid and test (every
    split at least one unit)."""
    n_valid = max(1, round(n * valid_frac))
    n_test = max(1, round(n * test_frac))
    if n - n_valid - n_test < 1:
        raise DataError(
            f"{source}: {n} {what} cannot fill train, valid and test splits; {fix}"
        )
    return n - n_valid - n_test, n - n_test


def split_series(
    series: Series,
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
    seed: int = 0,
    split_by: SplitBy | None = None,
) -> dict[str, Series]:
    """Train/valid/test split of the samples (seeded; every split non-empty).

    Samples that are whole recordings are split at random. Windows (or pieces cut
    at gaps, ``--on-gap cut``) of at least 3 recordings (:attr:`Series.recordings`)
    are split by recording: every window of one recording goes to the same split,
    and the fractions count recordings, so that no test window neighbours (or
    shares frames with) a training window. Windows of fewer recordings are split
    in time: every recording's first windows train, the next ones validate, the
    last ones test, and windows that would share frames across splits are dropped
    (:func:`~nri.data.time_split.split_in_time`; the fractions count each
    recording's windows). ``split_by`` chooses (:func:`split_unit`): ``"window"``
    splits the windows at random, with a :class:`~nri.errors.DataNotice` that
    their test scores overstate accuracy on new data.
    """
    for name, frac in (("valid_frac", valid_frac), ("test_frac", test_frac)):
        if not 0 < frac < 1:
            raise DataError(f"{name} must be in (0, 1), got {frac}")
    unit = split_unit(series, split_by)
    rng = np.random.default_rng(seed)
    if unit == "recording":
        assert series.recordings is not None
        names, rec = np.unique(np.array(series.recordings, dtype=object),
                               return_inverse=True)  # fmt: skip
        cuts = _cuts(len(names), valid_frac, test_frac, "recordings", series.source,
                     "give more recordings, or smaller --valid-frac/--test-frac")  # fmt: skip
        groups = np.split(rng.permutation(len(names)), cuts)
        parts = [np.flatnonzero(np.isin(rec, g)) for g in groups]
    elif unit == "time":
        parts = split_in_time(series, valid_frac, test_frac, _parts(series))
    else:
        if unit == "window":
            _notice_random_windows(series)
        s = series.n_samples
        cuts = _cuts(s, valid_frac, test_frac, "sample(s)", series.source,
                     "give more samples, or cut long recordings into windows "
                     "(--window L)")  # fmt: skip
        parts = np.split(rng.permutation(s), cuts)
    return {
        name: series.take(np.sort(idx)) for name, idx in zip(SPLITS, parts, strict=True)
    }


def _notice_random_windows(series: Series) -> None:
    what = "windows" if _parts(series) == "windows" else "pieces"
    warnings.warn(
        f"{series.source}: --split-by window puts neighbouring {what} of one "
        "recording into train and test, so test scores overstate accuracy on new "
        "data; --split-by time or recording avoids this",
        DataNotice,
        stacklevel=3,
    )


def windows_sharing_frames(
    splits: Mapping[str, Series], window: int
) -> dict[str, tuple[int, int]]:
    """For ``valid`` and ``test``: how many of their windows share frames with a
    training window of the same recording, and how many windows they hold.

    Windows are recognised by the names :func:`nri.data.series.windows_of` gives
    them (``SAMPLE@FIRST_FRAME``); two windows of one recording overlap when their
    first frames are less than ``window`` apart. Such test scores overstate accuracy
    on new data (the model has seen those frames).
    """

    seen: dict[str, list[int]] = {}
    for name in splits["train"].sample_names:
        if (p := window_of_name(name)) is not None:
            seen.setdefault(p[0], []).append(p[1])
    out = {}
    for split in ("valid", "test"):
        names = splits[split].sample_names
        shared = 0
        for name in names:
            p = window_of_name(name)
            if p is not None and any(
                abs(p[1] - a) < window for a in seen.get(p[0], ())
            ):
                shared += 1
        out[split] = (shared, len(names))
    return out


def random_splits(
    series: Series,
    name: str,
    valid_frac: float = 0.1,
    test_frac: float = 0.1,
    seed: int = 0,
    source: str | None = None,
    split_by: SplitBy | None = None,
) -> SeriesSet:
    """One :class:`Series` of own data split (:func:`split_series`: samples at
    random; windows by recording, or in time for fewer than 3 recordings, as
    ``split_by`` chooses) into a :class:`SeriesSet` of system ``custom`` called
    ``name`` (``source``: default the series')."""
    return SeriesSet(
        splits=split_series(series, valid_frac, test_frac, seed, split_by),
        name=name,
        system=CUSTOM,
        meta={
            "feature_names": list(series.feature_names),
            "object_names": list(series.object_names),
            "objects_named": series.objects_named,
        },
        source=series.source if source is None else source,
    )


def prepare(
    data: SeriesSet,
    normalizer: Normalizer | None = None,
    splits: tuple[str, ...] | None = None,
) -> LoadedData:
    """Normalise a data set for the models.

    Args:
        data: the splits in physical units.
        normalizer: use this normalisation (a trained run's) instead of fitting one
            on ``data.splits["train"]``.
        splits: which splits to return (default: all of ``data``).

    Returns:
        :class:`LoadedData` with ``x [S, N, T, F]`` float32 and ``edges [S, E]``
        int64 (-1 where unknown: data without edges).

    Raises:
        DataError: splits of other objects or features than the training split, a
            constant feature, a normaliser of another width, a value that is not
            finite after normalisation (naming its place in the user's names).
    """
    label = data.label or data.source
    names = data.feature_names
    first = data.splits["train"] if "train" in data.splits else None
    for split, s in data.splits.items():
        shape = (s.n_objects, s.n_features)
        if first is not None and shape != (first.n_objects, first.n_features):
            raise DataError(
                f"{label}: the {split} split has {s.n_objects} objects x "
                f"{s.n_features} features but the train split {first.n_objects} x "
                f"{first.n_features}; give every split the same objects and features"
            )
    if normalizer is None:
        normalizer = fit_normalizer(data.splits["train"].x, names, data.feature_groups)
        if data.system == CUSTOM:  # simulated data are not second-guessed
            for message in squeezed_features(data.splits["train"].x, normalizer):
                warnings.warn(f"{label}: {message}", DataNotice, stacklevel=2)
    elif normalizer.n_features != len(names):
        raise DataError(
            f"{label} has {len(names)} features per object but the given normaliser "
            f"(a trained run's) has {normalizer.n_features}; use data with the "
            "features the model was trained on"
        )
    out: dict[str, Split] = {}
    for split in data.splits if splits is None else splits:
        s = data.splits[split]
        x = normalise(normalizer, s.x, split, label, s.place)  # [S, N, T, F] float32
        labels = s.edges
        if labels is None:  # unknown
            labels = np.full((s.n_samples, s.n_objects * (s.n_objects - 1)), -1)
        out[split] = Split(
            torch.from_numpy(np.ascontiguousarray(x)),
            torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64)),
        )
    return LoadedData(
        splits=out,
        normalizer=normalizer,
        system=data.system,
        suffix=data.name,
        meta=data.meta,
        source=data.source,
    )

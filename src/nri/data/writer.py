"""Writing the generic data set layout of own data (system ``custom``), after the
checks ``nri train`` would make: :func:`check_splits` (the splits agree, the
normaliser fits on the training split, every split is finite, the trajectories are
long enough), :func:`write_data_dir` (``feat_{split}_{name}.npy`` ``[S, N, T, F]``,
optional ``edges_{split}_{name}.npy`` ``[S, N, N]`` indexed [receiver, sender],
``times``, then ``meta_{name}.json``, safely) and :func:`suggested_settings` (model
settings that fit the trajectories' lengths). :func:`nri.data.custom.import_data`
reads own data and calls :func:`write_data_dir`; :mod:`nri.data.layout` reads the
directory back.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nri import graph
from nri.atomic import make_out_dir, write_json_atomic
from nri.data.errors import DataError
from nri.data.files import CUSTOM
from nri.data.labels import n_edge_types
from nri.data.normalize import fit_normalizer, normalise
from nri.data.series import Series
from nri.errors import OutputPathError
from nri.sim.io import SPLITS, marker_name, meta_name

__all__ = ["check_splits", "suggested_settings", "write_data_dir"]


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise DataError(
            f"data set name {name!r} must be letters, digits, '_', '.' or '-'"
        )
    return name


def check_splits(
    splits: Mapping[str, Series], feature_groups: tuple[int, ...] | None = None
) -> None:
    """Everything ``nri train`` will check about the data, done before anything is
    written: the splits agree in objects and features, the normaliser fits on the
    training split (no constant feature, valid groups), every split is finite after
    normalisation, and the trajectories are long enough for a model.

    Raises:
        DataError: one line naming the split, feature or length.
    """
    if set(splits) != set(SPLITS):
        raise DataError(f"need the splits {SPLITS}, got {sorted(splits)}")
    first = splits["train"]
    for split, s in splits.items():
        if (s.n_objects, s.n_features) != (first.n_objects, first.n_features):
            raise DataError(
                f"split {split} has {s.n_objects} objects x {s.n_features} features, "
                f"train {first.n_objects} x {first.n_features}"
            )
    norm = fit_normalizer(first.x, first.feature_names, feature_groups)
    for split, s in splits.items():
        normalise(norm, s.x, split, s.source, s.place)
    suggested_settings(first.n_frames, splits["test"].n_frames)


def write_data_dir(
    splits: Mapping[str, Series],
    out: str | Path,
    name: str,
    feature_groups: tuple[int, ...] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Check the splits (:func:`check_splits`), then write the generic layout, safely
    (``*.partial`` files renamed when all are written, an ``.incomplete_<name>`` marker
    meanwhile, metadata last). A failure leaves no data set behind (and removes
    ``out`` when this call created it).

    Returns:
        The path of ``meta_<name>.json``.

    Raises:
        DataError: bad data (nothing is written); OutputPathError: ``out`` is a file
            or cannot be written.
    """
    from nri import __version__  # nri/__init__.py may import the library's API

    name = _check_name(name)
    check_splits(splits, feature_groups)
    first = splits["train"]
    with_edges = all(s.edges is not None for s in splits.values())
    out = Path(out)
    created = make_out_dir(out)
    files: dict[Path, Path] = {}
    try:
        for split, s in splits.items():
            arrays = {"feat": s.x}
            if s.times is not None:  # [S, T]: the time axis of CSV input
                arrays["times"] = np.asarray(s.times, dtype=np.float64)
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
    except BaseException as err:
        for part in files:
            part.unlink(missing_ok=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        if isinstance(err, OSError):
            raise OutputPathError(
                f"cannot write the data set into {out}: {err.strerror or err}"
            ) from None
        raise
    k = max(
        (n_edge_types(s.edges) for s in splits.values() if s.edges is not None),
        default=None,
    )
    meta = {
        "format": "nri-dataset",
        "system": CUSTOM,
        "suffix": name,
        "nri_version": __version__,
        "feature_names": list(first.feature_names),
        "object_names": list(first.object_names),
        "objects_named": first.objects_named,
        "feature_groups": None if feature_groups is None else list(feature_groups),
        "has_edges": with_edges,
        "n_edge_types": k if with_edges else None,
        "edges_layout": "[S, N, N] labels indexed [receiver, sender]; 0 = no "
        "interaction, 1..K-1 = interaction types, -1 = unknown",
        "time_origin": first.time_origin,
        "time_step": first.time_step,  # checked against new data by nri infer/forecast
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
    for stale in (
        f"{k}_{split}_{name}.npy" for split in SPLITS for k in ("edges", "times")
    ):
        (out / stale).unlink(missing_ok=True)  # an older set's edges must not stay
    for part, final in files.items():
        os.replace(part, final)
    write_json_atomic(out / meta_name(name), meta)
    marker.unlink()
    return out / meta_name(name)


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

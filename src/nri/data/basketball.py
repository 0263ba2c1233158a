"""NBA trajectories of Zhan et al. (ICLR 2019) as dNRI (Graber & Schwing, CVPR 2020)
uses them: ``nri import PATH --format basketball`` (docs/basketball.md).

Layouts (``PATH`` is one of):

* a directory holding Zhan et al.'s ``bball_train.npz`` and ``bball_test.npz``, each
  with one array under ``data`` (option ``data_key``);
* one ``.npz`` holding both splits, under ``train`` and ``test`` (options
  ``train_key``, ``test_key``).

Each array is ``[sequences, frames, 22]``: per frame the ball (x, y), then the five
offence players (x, y each), then the five defenders (Zhan et al.'s
``datasets/bball/cfg.py``: ball columns 0-1, offence 2-11, defence 12-21), or the
same as ``[sequences, frames, 11, 2]``; offence-only arrays (``[S, T, 10]`` or
``[S, T, 5, 2]``, dNRI's five agents) are read as the five offence players.
Positions are in feet on the left half court (x from the baseline, 0-47; y across,
0-50); Zhan et al.'s sequences are 50 frames at 6.25 Hz (0.16 s per frame).

Preprocessing (all options are ``--format-option KEY=VALUE``):

* ``offence_only=true``: keep the five offence players (dNRI's setting), drop the
  ball and the defence; ``ball=false`` drops the ball alone (10 players), and
  ``offence_only=true ball=true`` keeps offence and ball (6 objects).
* ``velocities=true`` (default): features ``x, y, vx, vy`` with forward differences
  ``v_t = (p_{t+1} - p_t) * fps`` in ft/s; the last frame, which has no successor,
  is dropped (50 -> 49 frames, dNRI's 40 + 9). ``fps`` defaults to 6.25.
* the validation split is drawn at random (``valid_frac=0.1``, ``seed=0``) from the
  training sequences; the test file is kept as it is.

Values stay in feet (and ft/s): ``nri import`` normalises to [-1, 1] from the
training split itself; ``--norm-groups 0,0,1,1`` shares one min/max between x and y
and one between vx and vy, which is dNRI's normalisation (one min/max over all
training positions, one over all velocities). The data have no graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nri.data.files import DataError
from nri.data.format_helpers import (
    as_bool,
    fraction,
    non_negative_int,
    npz_arrays,
    parse,
    positive_float,
)
from nri.data.series import Series, make_series, make_windows

FILES = {"train": "bball_train.npz", "test": "bball_test.npz"}
FPS = 6.25  # Zhan et al.: 50 frames over 8 s (0.16 s per frame)
BALL = "ball"
OFFENCE = tuple(f"offence{i}" for i in range(1, 6))
DEFENCE = tuple(f"defence{i}" for i in range(1, 6))
OBJECTS = (BALL, *OFFENCE, *DEFENCE)  # the column order of Zhan et al.'s files
LAYOUT = (
    "[sequences, frames, 22] (ball x, y; 5 offence players x, y; 5 defenders x, y: "
    "Zhan et al.) or [sequences, frames, 11, 2], or the 5 offence players alone "
    "([S, T, 10] or [S, T, 5, 2])"
)

OPTIONS: dict[str, tuple[Any, Any]] = {
    "offence_only": (False, as_bool),
    "ball": (None, as_bool),  # None: True unless offence_only
    "velocities": (True, as_bool),
    "fps": (FPS, positive_float),
    "valid_frac": (0.1, fraction),
    "seed": (0, non_negative_int),
    "data_key": ("data", str),
    "train_key": ("train", str),
    "test_key": ("test", str),
}


def read(
    path: str | Path,
    *,
    window: int | None = None,
    stride: int | None = None,
    **options: str,
) -> dict[str, Series]:
    """Read a basketball file (module docstring) into train/valid/test Series.

    Args:
        path: a directory with ``bball_train.npz`` and ``bball_test.npz``, or one
            ``.npz`` with ``train`` and ``test`` arrays.
        window, stride: cut every sequence into windows (``nri import --window``).
        options: ``--format-option`` strings (module docstring).

    Returns:
        ``{"train", "valid", "test": Series}`` in feet (and ft/s), no edges.

    Shapes:
        each split ``x [S, N, T', F]``: N = 11, 10, 6 or 5 objects, T' = T - 1 with
        velocities (F = 4: x, y, vx, vy), else T' = T (F = 2: x, y).

    Raises:
        DataError: a missing file or key, an array of another layout, a bad option.
    """
    opts = parse(options, OPTIONS, "basketball")
    raw = _load(Path(path), opts)
    n_objects = {arr.shape[2] for arr, _ in raw.values()}
    if len(n_objects) != 1:
        shapes = ", ".join(f"{s} {a.shape}" for s, (a, _) in raw.items())
        raise DataError(f"{path}: train and test hold different objects ({shapes})")
    objects = OBJECTS if n_objects == {11} else OFFENCE
    keep = _objects(objects, opts, Path(path))
    out: dict[str, Series] = {}
    for split, (arr, source) in raw.items():
        pos = arr[:, :, [objects.index(o) for o in keep]]  # [S, T, N, 2]
        out[split] = _series(pos, keep, split, source, opts)
    train, valid = _valid_split(out["train"], opts["valid_frac"], opts["seed"])
    splits = {"train": train, "valid": valid, "test": out["test"]}
    if window is not None:
        splits = {s: make_windows(v, window, stride) for s, v in splits.items()}
    return splits


def _objects(objects: tuple[str, ...], opts: dict[str, Any], path: Path) -> list[str]:
    ball = (not opts["offence_only"]) if opts["ball"] is None else opts["ball"]
    if ball and BALL not in objects:
        if opts["ball"]:
            raise DataError(
                f"{path} holds the 5 offence players only; there is no ball to keep "
                "(drop --format-option ball=true)"
            )
        ball = False
    keep = [BALL] if ball else []
    keep += list(OFFENCE)
    if not opts["offence_only"]:
        keep += [o for o in DEFENCE if o in objects]
    return keep


def _series(
    pos: np.ndarray, names: list[str], split: str, source: str, opts: dict[str, Any]
) -> Series:
    """Positions ``[S, T, N, 2]`` -> a Series ``[S, N, T', F]``."""
    x = np.moveaxis(pos.astype(np.float64), 1, 2)  # [S, T, N, 2] -> [S, N, T, 2]
    features: tuple[str, ...] = ("x", "y")
    if opts["velocities"]:
        if x.shape[2] < 3:
            raise DataError(
                f"{source}: {x.shape[2]} frames per sequence; velocities need at "
                "least 3 (or --format-option velocities=false)"
            )
        vel = np.diff(x, axis=2) * opts["fps"]  # forward differences, [S, N, T-1, 2]
        x = np.concatenate([x[:, :, :-1], vel], axis=3)  # [S, N, T-1, 4]
        features = ("x", "y", "vx", "vy")
    return make_series(
        x,
        feature_names=features,
        object_names=tuple(names),
        sample_names=tuple(f"{split}{i}" for i in range(x.shape[0])),
        source=source,
    )


def _valid_split(train: Series, frac: float, seed: int) -> tuple[Series, Series]:
    s = train.n_samples
    n_valid = max(1, round(s * frac))
    if s - n_valid < 1:
        raise DataError(
            f"{train.source}: {s} training sequence(s) cannot give both a training "
            "and a validation split"
        )
    perm = np.random.default_rng(seed).permutation(s)
    return train.take(np.sort(perm[n_valid:])), train.take(np.sort(perm[:n_valid]))


def _load(path: Path, opts: dict[str, Any]) -> dict[str, tuple[np.ndarray, str]]:
    """``{split: (positions [S, T, N, 2], source)}`` for train and test."""
    if path.is_dir():
        where = {s: (path / name, opts["data_key"]) for s, name in FILES.items()}
        missing = [str(f) for f, _ in where.values() if not f.exists()]
        if missing:
            raise DataError(
                f"{path} has no {' and no '.join(Path(m).name for m in missing)}; a "
                "basketball directory holds Zhan et al.'s bball_train.npz and "
                "bball_test.npz (or give one .npz with 'train' and 'test' arrays)"
            )
    else:
        where = {"train": (path, opts["train_key"]), "test": (path, opts["test_key"])}
    out = {}
    for split, (file, key) in where.items():
        arrays = npz_arrays(file, LAYOUT)
        if key not in arrays:
            hint = (
                " (give the directory holding bball_train.npz and bball_test.npz)"
                if key == "train" and "data" in arrays
                else ""
            )
            raise DataError(
                f"{file} has no array '{key}' (the {split} split); it holds "
                f"{sorted(arrays) or 'no arrays'}; expected {LAYOUT}{hint}"
            )
        out[split] = (_positions(arrays[key], f"{file}:{key}"), f"{file}:{key}")
    return out


def _positions(arr: np.ndarray, source: str) -> np.ndarray:
    """``[S, T, 22]`` / ``[S, T, 11, 2]`` (or offence only) -> ``[S, T, N, 2]``."""
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(
        arr.dtype, np.complexfloating
    ):
        raise DataError(f"{source} has dtype {arr.dtype}; expected positions in feet")
    if arr.ndim == 3 and arr.shape[2] in (22, 10):
        arr = arr.reshape(*arr.shape[:2], arr.shape[2] // 2, 2)  # (x, y) per object
    if arr.ndim != 4 or arr.shape[2:] not in ((11, 2), (5, 2)):
        raise DataError(f"{source} has shape {arr.shape}; expected {LAYOUT}")
    if min(arr.shape[:2]) < 1:
        raise DataError(f"{source} is empty (shape {arr.shape})")
    return arr

"""CMU motion capture (Acclaim ``.asf`` + ``.amc``) as NRI and dNRI use it:
``nri import subject35/ --format amc`` (docs/mocap.md).

``PATH`` is a directory of one skeleton (``35.asf``) and its trials (``35_01.amc``
...), or one ``.amc`` file (its skeleton beside it). Each trial is run through
forward kinematics (:mod:`nri.data.mocap_kinematics`) to the 3-D positions of every joint
(31 for CMU: the root and 30 bones), and velocities are backward differences
``v_t = (p_t - p_{t-1}) * fps``; the first frame, which has no predecessor, is
dropped (dNRI's ``loc = p[1:]``, ``vel = p[1:] - p[:-1]``, here per second). The
features are ``x, y, z, vx, vy, vz`` (metres, m/s by default; y is up in CMU's data).

Splits: whole trials, so no window of a test trial is seen in training. dNRI's
(Graber & Schwing 2020, ``dnri/datasets/cmu_motion_data.py``; its README asks for
subject 35's trials 1-16 and 28-34) are, in file-name order, the first 12 trials
for training, the next 4 for validation and the rest (7) for testing: 35_01-35_12,
35_13-35_16, 35_28-35_34. Training and validation trials are cut into
non-overlapping windows of 50 frames, test trials into windows of 100, each from the
trial's start. The graph is the skeleton's parent-child pairs in both directions: a
*reference* (what a person would draw), not the interactions that generated the
motion, so the data set's metadata and the report call it a reference.

Options (``--format-option KEY=VALUE``): ``asf`` (the skeleton, default the only
``.asf`` in the directory), ``trials`` (which trials to read, e.g. ``1-16,28-34``;
default all), ``train_trials``/``valid_trials``/``test_trials`` (all three, instead
of dNRI's 12/4/rest rule), ``train_window`` (50), ``valid_window`` (the train
window), ``test_window`` (100), ``units`` (``m``, ``in`` or ``file``: the numbers
as written, dNRI's), ``fps`` (120, CMU's rate).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from nri import graph
from nri.data.errors import DataError
from nri.data.format_helpers import choice, non_negative_int, parse, positive_float
from nri.data.mocap_asf import Skeleton, forward_kinematics, read_amc, read_asf
from nri.data.series import Series, windows_of
from nri.data.series_checks import notice_short_samples

__all__ = ["read_mocap", "read_trial", "DNRI_SPLIT", "FEATURES"]

FEATURES = ("x", "y", "z", "vx", "vy", "vz")
DNRI_SPLIT = (12, 4)  # first 12 trials train, next 4 valid, the rest test


def _window(text: str) -> int:
    value = non_negative_int(text)
    if value < 2:
        raise ValueError("expected a window of at least 2 frames")
    return value


def _trial_set(text: str) -> tuple[str, ...]:
    """``1-16,28-34`` or ``35_01 35_02``: trial numbers (as strings) or file stems."""
    out: list[str] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)-(\d+)", part)
        if m:
            lo, hi = int(m[1]), int(m[2])
            if lo > hi:
                raise ValueError(f"expected a range low-high, got {part}")
            out += [str(i) for i in range(lo, hi + 1)]
        else:
            out.append(str(int(part)) if part.isdigit() else part)
    if not out:
        raise ValueError("expected trial numbers such as 1-16,28-34")
    return tuple(out)


OPTIONS = {
    "asf": ("", str),
    "trials": ((), _trial_set),
    "train_trials": ((), _trial_set),
    "valid_trials": ((), _trial_set),
    "test_trials": ((), _trial_set),
    "train_window": (50, _window),
    "valid_window": (0, _window),
    "test_window": (100, _window),
    "units": ("m", choice("m", "in", "file")),
    "fps": (120.0, positive_float),
}


def _trial_id(path: Path) -> str:
    """``35_07.amc`` -> ``"7"`` (the number after the last ``_``), else the stem."""
    m = re.search(r"(\d+)$", path.stem)
    return str(int(m[1])) if m else path.stem


def _find_asf(root: Path, given: str) -> Path:
    if given:
        asf = Path(given)
        asf = asf if asf.is_absolute() or asf.exists() else root / asf
        if not asf.is_file():
            raise DataError(f"--format-option asf={given}: no such file")
        return asf
    found = sorted(p for p in root.iterdir() if p.suffix.lower() == ".asf")
    if len(found) != 1:
        what = "no .asf skeleton" if not found else (
            f"{len(found)} .asf skeletons ({', '.join(p.name for p in found)})")  # fmt: skip
        raise DataError(f"{root} has {what}; give the skeleton with --format-option "
                        "asf=FILE")  # fmt: skip
    return found[0]


def read_trial(
    skeleton: Skeleton, amc: str | Path, units: str = "m", fps: float = 120.0
) -> np.ndarray:
    """One trial's features ``x, y, z, vx, vy, vz`` per joint.

    Shapes:
        -> ``[N, T - 1, 6]`` for an AMC of T frames (the first frame has no velocity).
    """
    pos = forward_kinematics(skeleton, read_amc(amc, skeleton), units)  # [T, N, 3]
    if pos.shape[0] < 2:
        raise DataError(f"{amc} has {pos.shape[0]} frame; velocities need 2")
    vel = (pos[1:] - pos[:-1]) * fps  # [T-1, N, 3], backward differences
    return np.concatenate([pos[1:], vel], axis=-1).transpose(1, 0, 2)  # [N, T-1, 6]


def _splits(path: Path, ids: list[str], opts: dict) -> dict[str, list[int]]:
    """Trial indices per split: the options' or dNRI's first 12 / next 4 / rest."""
    given = [opts[f"{s}_trials"] for s in ("train", "valid", "test")]
    if not any(given):
        n_train, n_valid = DNRI_SPLIT
        if len(ids) <= n_train + n_valid:
            raise DataError(
                f"{path}: {len(ids)} trials; dNRI's split (the first {n_train} in "
                f"file-name order for training, the next {n_valid} for validation, "
                "the rest for testing) needs at least 17: give train_trials=, "
                "valid_trials= and test_trials="
            )
        idx = list(range(len(ids)))
        cut = n_train + n_valid
        return {"train": idx[:n_train], "valid": idx[n_train:cut], "test": idx[cut:]}
    if not all(given):
        raise DataError("give all three of train_trials=, valid_trials= and "
                        "test_trials= (or none, for dNRI's split)")  # fmt: skip
    out: dict[str, list[int]] = {}
    seen: dict[str, str] = {}
    for split, wanted in zip(("train", "valid", "test"), given, strict=True):
        out[split] = []
        for t in wanted:
            if t not in ids:
                raise DataError(f"{split}_trials: no trial {t} among the trials read "
                                f"({', '.join(ids)})")  # fmt: skip
            if t in seen:
                raise DataError(f"trial {t} is in both {seen[t]}_trials and "
                                f"{split}_trials")  # fmt: skip
            seen[t] = split
            out[split].append(ids.index(t))
    return out


def read_mocap(
    path: str | Path,
    *,
    window: int | None = None,
    stride: int | None = None,
    **options: str,
) -> dict[str, Series] | Series:
    """Read CMU motion capture (see the module docstring for the options).

    Returns:
        ``{"train", "valid", "test": Series}`` for a directory (whole trials per
        split); one Series of ``train_window`` windows for a single ``.amc``.
        Series ``x [S, N, T, 6]`` with the skeleton as edges (a reference graph).

    Raises:
        DataError: ``--window`` (use the ``*_window`` options), a missing or
            ambiguous skeleton, bad trials, a corrupt file (one line naming it).
    """
    opts = parse(options, OPTIONS, "amc")
    if window is not None:
        raise DataError("--window does not apply to the amc format: use "
                        "--format-option train_window=50 test_window=100")  # fmt: skip
    path = Path(path)
    root = path if path.is_dir() else path.parent
    if path.is_file() and path.suffix.lower() != ".amc":
        raise DataError(f"{path} is not an .amc motion; give a directory of .asf + "
                        ".amc files or one .amc (its .asf beside it)")  # fmt: skip
    skeleton = read_asf(_find_asf(root, opts["asf"]))
    amcs = [path] if path.is_file() else sorted(
        p for p in root.iterdir() if p.suffix.lower() == ".amc")  # fmt: skip
    ids = [_trial_id(p) for p in amcs]
    if opts["trials"]:
        missing = [t for t in opts["trials"] if t not in ids]
        if missing:
            raise DataError(f"trials: no trial {missing[0]} in {root} (found "
                            f"{', '.join(ids) or 'no .amc files'})")  # fmt: skip
        keep = [i for i, t in enumerate(ids) if t in opts["trials"]]
        amcs, ids = [amcs[i] for i in keep], [ids[i] for i in keep]
    if not amcs:
        raise DataError(f"{root} has no .amc motions")
    if len(set(ids)) != len(ids):
        raise DataError(f"{root}: two .amc files have the same trial number; keep "
                        "one subject per directory")  # fmt: skip
    feats = [read_trial(skeleton, p, opts["units"], opts["fps"]) for p in amcs]
    adj = skeleton.edges()  # [N, N] [receiver, sender]
    win = {"train": opts["train_window"], "test": opts["test_window"]}
    win["valid"] = opts["valid_window"] or win["train"]
    if path.is_file():
        return _cut(feats, [amcs[0].stem], skeleton, adj, win["train"], stride, opts)
    out, short = {}, []
    for split, idx in _splits(root, ids, opts).items():
        out[split] = _cut([feats[i] for i in idx], [amcs[i].stem for i in idx],
                          skeleton, adj, win[split], stride, opts, split)  # fmt: skip
        short += [(amcs[i].stem, feats[i].shape[1], f", {split}") for i in idx
                  if feats[i].shape[1] < win[split]]  # fmt: skip
    if short:  # one notice for the three splits
        splits = [s for s in out if any(note == f", {s}" for *_, note in short)]
        windows = ", ".join(f"{s}_window={win[s]}" for s in splits)
        options = " / ".join(f"{s}_window" for s in splits)
        notice_short_samples(short, f"the window of their split ({windows})",
                             f"{skeleton.source} + {len(feats)} .amc",
                             f"choose a smaller {options} (--format-option)",
                             "trial(s)")  # fmt: skip
    return out


def _cut(
    feats: list[np.ndarray], names: list[str], skeleton: Skeleton, adj: np.ndarray,
    window: int, stride: int | None, opts: dict, split: str = "",
) -> Series:  # fmt: skip
    """Windows of ``window`` frames of the trials, with the skeleton as edges."""
    longest = max(f.shape[1] for f in feats)
    if longest < window:
        where = f"the {split} trials" if split else "the trial"
        raise DataError(f"{where} ({', '.join(names)}) have at most {longest} frames "
                        f"after the first, fewer than a window of {window}; choose a "
                        f"smaller {split or 'train'}_window")  # fmt: skip
    times = [np.arange(1, f.shape[1] + 1) / opts["fps"] for f in feats]  # seconds
    series = windows_of(feats, times, names, list(skeleton.names), FEATURES,
                        f"{skeleton.source} + {len(feats)} .amc", window, stride,
                        notice=False)  # fmt: skip
    labels = graph.to_edges_np(adj)  # [E]
    edges = np.ascontiguousarray(
        np.broadcast_to(labels, (series.n_samples, labels.size))
    )
    return replace(series, edges=edges)

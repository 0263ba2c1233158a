"""Finding and reading the files of a data set, with a one-line :class:`DataError`
naming the file and the problem for anything missing, corrupt or inconsistent.

Layouts: the original NRI one (springs/charged ``loc``/``vel``/``edges``, Kuramoto
``feat``/``edges``, file names from :func:`nri.sim.io.file_names`) and the generic one
that ``nri import`` writes (system :data:`CUSTOM`: ``feat`` and optional ``edges``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from nri.data.errors import DataError
from nri.sim.io import file_names, meta_name

__all__ = [
    "CUSTOM",
    "DataError",  # re-exported: defined in nri.data.errors
    "check_finite",
    "find_suffixes",
    "is_number",
    "load_array",
    "read_meta",
    "read_split",
    "resolve_dataset",
    "safe_name",
    "split_fingerprint",
    "system_of",
]

CUSTOM = "custom"  # users' own data in the generic layout (nri import)


def safe_name(text: str, default: str = "data") -> str:
    """``text`` as a data set or file name part: letters, digits, ``_``, ``.`` and
    ``-`` only (others become ``_``), not starting with a separator (``default`` when
    nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).lstrip("._-") or default


def find_suffixes(path: Path) -> list[str]:
    """Suffixes of the data sets in a directory (from their training edge or feature
    files; a set of the generic layout may have no edge files)."""
    pattern = re.compile(r"^(?:edges|feat)_train_?(.*)\.npy$")
    return sorted(
        {
            m.group(1)
            for p in [*path.glob("edges_train*.npy"), *path.glob("feat_train*.npy")]
            if (m := pattern.match(p.name))
        }
    )


def resolve_dataset(path: str | Path, suffix: str | None) -> tuple[Path, str]:
    """The directory and the suffix of the data set to read (the only one in the
    directory when ``suffix`` is None)."""
    root = Path(path)
    if not root.exists():
        raise DataError(
            f"data directory {root} does not exist; give the path of a data set "
            "with --data (nri import writes one from your files, nri simulate a "
            "synthetic one)"
        )
    if root.is_file():
        raise DataError(f"{root} is a file; pass the directory that holds the data set")
    found = find_suffixes(root)
    if suffix is None:
        if len(found) == 1:
            return root, found[0]
        if not found:
            partial = sorted(p.name for p in root.glob("*.npy.partial"))
            if partial:  # an import killed before its marker was written
                raise DataError(
                    f"no complete data set in {root}: it holds the partial files of an "
                    f"interrupted `nri import` ({partial[0]}, ...); run the import "
                    "again (it replaces them) or delete the *.partial files"
                )
            raise DataError(
                f"no data set in {root}: expected files such as edges_train_springs5.npy "
                "(nri simulate) or feat_train_NAME.npy (nri import)"
            )
        raise DataError(
            f"{root} holds several data sets ({', '.join(found)}); choose one with "
            "--suffix NAME (nri train: --set data.suffix=NAME)"
        )
    suffix = suffix.lstrip("_")
    if suffix not in found:
        extra = f" (found: {', '.join(found)})" if found else ""
        raise DataError(f"no data set '{suffix}' in {root}{extra}")
    return root, suffix


def load_array(path: Path, what: str) -> np.ndarray:
    """One non-empty numeric ``.npy`` array, memory-mapped (``what`` names it in
    errors)."""
    if not path.exists():
        raise DataError(f"missing file {path} ({what})")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise DataError(
            f"cannot read {path}: {err} (not a plain numeric .npy file)"
        ) from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err}; the file is corrupt") from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{path} holds several arrays; expected one .npy array")
    if not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise DataError(f"{path} has dtype {arr.dtype}; expected a float array")
    if arr.size == 0:
        raise DataError(f"{path} is empty (shape {arr.shape})")
    return arr


def check_finite(arr: np.ndarray, path: Path) -> None:
    """A DataError counting the NaN and infinite values of ``arr``, if any."""
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise DataError(f"{path} contains {bad} NaN or infinite values; regenerate it")


def is_number(text: str) -> bool:
    """Whether a cell as written reads as a number (``inf`` and ``nan`` included)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_split(
    root: Path, suffix: str, split: str, system: str
) -> dict[str, np.ndarray]:
    """Raw arrays of one split, validated.

    Shapes:
        particles: loc, vel ``[S, T, 2, n]``; Kuramoto: feat ``[S, n, T, D]``;
        edges ``[S, n, n]``.
    """
    if system == CUSTOM:
        return _read_custom_split(root, suffix, split)
    names = file_names(system, suffix, split)
    arrays = {
        k: load_array(root / name, f"{split} split of {suffix}")
        for k, name in names.items()
    }
    edges = arrays["edges"]
    if edges.ndim != 3 or edges.shape[1] != edges.shape[2]:
        raise DataError(
            f"{root / names['edges']} has shape {edges.shape}; expected [S, n, n]"
        )
    s, n = edges.shape[0], edges.shape[1]
    if system == "kuramoto":
        feat = arrays["feat"]
        if feat.ndim != 4 or feat.shape[0] != s or feat.shape[1] != n:
            raise DataError(
                f"{root / names['feat']} has shape {feat.shape}; expected [{s}, {n}, T, D] "
                f"to match {names['edges']}"
            )
    else:
        for key in ("loc", "vel"):
            a = arrays[key]
            if a.ndim != 4 or a.shape[0] != s or a.shape[2] != 2 or a.shape[3] != n:
                raise DataError(
                    f"{root / names[key]} has shape {a.shape}; expected [{s}, T, 2, {n}] "
                    f"to match {names['edges']}"
                )
        if arrays["loc"].shape != arrays["vel"].shape:
            raise DataError(
                f"{names['loc']} {arrays['loc'].shape} and {names['vel']} "
                f"{arrays['vel'].shape} differ in shape"
            )
    for key, a in arrays.items():
        check_finite(a, root / names[key])
    return arrays


def _read_custom_split(root: Path, suffix: str, split: str) -> dict[str, np.ndarray]:
    """The generic layout: ``feat [S, N, T, F]`` and, if present, ``edges [S, N, N]``."""
    names = file_names("kuramoto", suffix, split)  # feat_..., edges_...
    feat = load_array(root / names["feat"], f"{split} split of {suffix}")
    if feat.ndim != 4:
        raise DataError(
            f"{root / names['feat']} has shape {feat.shape}; expected "
            "[samples, objects, time, features]"
        )
    check_finite(feat, root / names["feat"])
    arrays = {"feat": feat}
    if (root / names["edges"]).exists():
        edges = load_array(root / names["edges"], f"{split} split of {suffix}")
        s, n = feat.shape[:2]
        if edges.shape == (n, n):  # one graph shared by every sample (StructInfer)
            edges = np.broadcast_to(edges, (s, n, n))
        if edges.shape != (s, n, n):
            raise DataError(
                f"{root / names['edges']} has shape {edges.shape}; expected "
                f"[{s}, {n}, {n}] to match {names['feat']}, or [{n}, {n}] for one "
                "graph shared by every sample"
            )
        arrays["edges"] = edges  # NaN, inf and weights: refused by nri.data.labels
    return arrays


def system_of(root: Path, suffix: str, meta: dict[str, Any] | None) -> str:
    """ "springs", "charged", "kuramoto", "custom" or "particles" (unknown), from the
    metadata file when there is one, else from the file names.

    ``feat_``/``edges_`` files without metadata are own data (:data:`CUSTOM`: every
    feature is kept); only our metadata makes a set a Kuramoto one (whose scaled phase
    the loader drops)."""
    if meta is not None:
        return str(meta["system"])
    if (root / f"feat_train_{suffix}.npy").exists():
        return CUSTOM
    if (root / f"bold_train_{suffix}.npy").exists():
        return "netsims"  # the StructInfer / DoSI NetSims layout
    for name in ("springs", "charged"):
        if suffix.startswith(name):
            return name
    return "particles"


def read_meta(root: Path, suffix: str) -> dict[str, Any] | None:
    """The data set's ``meta_<suffix>.json`` (None when there is none)."""
    path = root / meta_name(suffix)
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(
            f"cannot read {path}: {err}; the metadata file is corrupt"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != "nri-dataset":
        raise DataError(f"{path} is not an nri data set metadata file")
    return meta


def split_fingerprint(root: str | Path, suffix: str, split: str) -> str | None:
    """A short SHA-256 of the files of one split (``*_{split}_{suffix}.npy``: their
    names and bytes), kept in ``RUN/data.json`` so that a data directory re-imported
    after training is noticed (:func:`nri.evaluate.evaluate_run`). The files, not
    the loaded tensors: normalised values may round differently on other CPUs.
    None when ``root`` is not a directory or holds no such file."""
    root = Path(root)
    if not root.is_dir():
        return None
    tail = f"_{split}_{suffix}.npy" if suffix else f"_{split}.npy"
    files = sorted(p for p in root.iterdir() if p.name.endswith(tail) and p.is_file())
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]

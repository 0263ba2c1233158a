"""What ``nri import`` keeps beside a data set's arrays and a reader must check
against them: the sample names of every split (in ``meta_NAME.json``) and the
time stamps of CSV input (``times_{split}_NAME.npy``). Files replaced after the
import would pin names or times on the wrong samples, so a mismatch is refused in
one line (import again). Used by :mod:`nri.data.layout`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nri.data.errors import DataError
from nri.data.files import load_array
from nri.sim.io import meta_name

__all__ = ["stored_sample_names", "stored_times"]


def stored_sample_names(
    meta: dict[str, Any] | None, split: str, n_samples: int, root: Path, suffix: str
) -> tuple[str, ...] | None:
    """The sample names ``nri import`` recorded for ``split`` (None: not recorded).

    Raises:
        DataError: the metadata names a different number of samples than the split's
            files hold (files replaced after the import), so names would be misplaced.
    """
    names = ((meta or {}).get("splits") or {}).get(split, {}).get("sample_names")
    if names is None:
        return None
    if len(names) != n_samples:
        raise DataError(
            f"{root / meta_name(suffix)} names {len(names)} {split} samples but the "
            f"{split} files hold {n_samples}; the files were changed after `nri "
            "import`: import the data again"
        )
    return tuple(str(n) for n in names)


def stored_times(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """The time stamps ``[S, T]`` ``nri import`` kept from a CSV (None: none kept).

    Raises:
        DataError: the file does not fit the split's samples and frames.
    """
    if not path.exists():
        return None
    times = np.asarray(load_array(path, "time stamps"), dtype=np.float64)
    if times.shape != tuple(shape) or not np.isfinite(times).all():
        raise DataError(
            f"{path} holds time stamps of shape {times.shape} for {shape[0]} samples x "
            f"{shape[1]} frames (or values that are not finite); the files were "
            "changed after `nri import`: import the data again"
        )
    return times

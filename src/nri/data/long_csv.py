"""Long-format CSV: one row per (sample, time, object), one column per feature.

The layout ``DataFrame.to_csv(index=False)`` writes for a tidy table: a header with the
columns ``sample`` (optional: one sample), ``time`` (numbers or ISO dates), ``object`` and
one column per feature. Rows may come in any order.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from nri.data.dataset import DataError
from nri.data.series import Series, make_series, windows_of


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
        return windows_of(xs, time_split, s_names, o_names, names, src, window, stride)
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

"""Long-format CSV: one row per (sample, time, object), one column per feature.

The layout ``DataFrame.to_csv(index=False)`` writes for a tidy table: a header with the
columns ``sample`` (optional: one sample), ``time`` (numbers or ISO stamps), ``object``
and one column per feature. Rows may come in any order. pandas reads the table; this
module keeps the checks that matter for relational inference (one row per sample, time
and object; equally spaced frames), each failing with one line that names the file,
the line and the column.

A leading unnamed column (the index that ``DataFrame.to_csv()`` writes without
``index=False``) is dropped with a :class:`~nri.errors.DataNotice`.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nri.data.errors import DataError
from nri.data.files import is_number
from nri.data.series import Series, make_series, windows_of
from nri.data.time_axis import OnGap, even_pieces, parse_times
from nri.errors import DataNotice

ROLES = ("sample", "time", "object")
NA_CELLS = ["", "NA", "N/A", "n/a", "NaN", "nan", "-nan", "null", "NULL", "None",
            "#N/A", "<NA>"]  # fmt: skip
_INDEX_NAME = re.compile(r"^(|Unnamed: 0)$")


def _header(path: Path) -> tuple[list[str], str]:
    """The raw header fields and the delimiter (``,``, ``;`` or tab)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            head = f.read(65536)
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {path}: {err}") from None
    try:
        delim = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        delim = "\t" if path.suffix.lower() == ".tsv" else ","
    first = next((line for line in head.splitlines() if line.strip()), "")
    return [h.strip() for h in next(csv.reader([first], delimiter=delim), [])], delim


def _columns(path: Path, header: list[str]) -> tuple[list[str], bool]:
    """Check the header: no unnamed or duplicate columns, ``time`` and ``object``
    present. Returns the names and whether the first column is an unnamed index."""
    index = len(header) > 1 and bool(_INDEX_NAME.match(header[0]))
    names = header[1:] if index else header
    for i, h in enumerate(names):
        if not h:
            raise DataError(
                f"{path}: column {i + 1 + index} of the header has no name; name it "
                "or remove it (every feature needs a name)"
            )
    seen: dict[str, int] = {}
    for i, h in enumerate(names):
        key = h.lower() if h.lower() in ROLES else h
        if key in seen:
            raise DataError(
                f"{path}: the header names column {h!r} twice (columns "
                f"{seen[key] + 1 + index} and {i + 1 + index}); rename or remove one"
            )
        seen[key] = i
    lower = [h.lower() for h in names]
    missing = [c for c in ("time", "object") if c not in lower]
    if missing:
        raise DataError(
            f"{path}: no column {' or '.join(repr(c) for c in missing)} in the header "
            f"{names}; expected columns sample, time, object, then one per feature "
            "(one row per object and frame: a wide table with a column per object "
            "and feature becomes one with pandas.melt, docs/own-data.md)"
        )
    return names, index


def _read_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The table as strings (ids, time) and text cells; the checked column names."""
    header, delim = _header(path)
    names, index = _columns(path, header)
    if index:
        warnings.warn(
            f"{path}: dropped the unnamed first column (a table index, as "
            "DataFrame.to_csv() writes without index=False)",
            DataNotice,
            stacklevel=3,
        )
    try:
        df = pd.read_csv(
            path, sep=delim, header=0, names=header if not index else ["", *names],
            usecols=names, dtype=str, keep_default_na=False, na_filter=False,
            skipinitialspace=True, encoding="utf-8-sig", engine="c",
        )  # fmt: skip
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {path}: {err}") from None
    except (pd.errors.ParserError, ValueError) as err:
        text = " ".join(str(err).split())
        raise DataError(f"cannot read {path}: {text}") from None
    if len(df) == 0:
        raise DataError(f"{path} has no data rows (a header and one row per value)")
    return df, names  # a short row: its missing fields are empty cells


def _ids(cells: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Unique ids (numeric order when all are numbers) and each cell's index."""
    codes, uniq = pd.factorize(cells)
    uniq = [str(u) for u in uniq]
    try:
        order = np.argsort([float(u) for u in uniq], kind="stable")
    except ValueError:
        order = np.argsort(np.array(uniq, dtype=object), kind="stable")  # alphabetical
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return [uniq[i] for i in order], rank[codes]


def _features(
    df: pd.DataFrame, cols: list[str], path: Path, lines: np.ndarray
) -> np.ndarray:
    """Feature cells -> float64 ``[R, F]``; one line for a missing or bad cell."""
    values = np.empty((len(df), len(cols)), dtype=np.float64)
    for j, c in enumerate(cols):
        cells = df[c].str.strip()
        missing = cells.isin(NA_CELLS).to_numpy()
        if missing.any():
            i = int(np.argmax(missing))
            raise DataError(
                f"{path} line {lines[i]}: missing value in column {c!r}; fill or "
                "interpolate the gaps, or drop the samples that have them"
            )
        num = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(num)
        if bad.any():
            i = int(np.argmax(bad))
            what = "is not finite" if is_number(cells.iloc[i]) else "is not a number"
            raise DataError(
                f"{path} line {lines[i]}: column {c!r} = {cells.iloc[i]!r} {what}; "
                "give every feature cell as a finite number"
            )
        values[:, j] = num
    return values


def _id_column(df: pd.DataFrame, col: str, path: Path, lines: np.ndarray) -> Any:
    cells = df[col].str.strip().to_numpy(dtype=object)
    empty = cells == ""
    if empty.any():
        raise DataError(
            f"{path} line {lines[int(np.argmax(empty))]}: empty {col.lower()!r} cell; "
            f"every row needs its {col.lower()}"
        )
    return cells


def read_csv(
    path: str | Path,
    window: int | None = None,
    stride: int | None = None,
    on_gap: OnGap | None = None,
) -> Series:
    """A long-format CSV: one row per (sample, time, object), one column per feature.

    Objects and samples are ordered by id (numerically when every id is a number);
    frames by time. Every object needs a row at every time step of its sample, and the
    time steps must be equal (:func:`~nri.data.time_axis.even_pieces`; ``on_gap``
    "cut" or "drop" handles samples that are not). With ``window`` every sample is cut
    into windows of that many frames (samples of different lengths are then allowed);
    see :func:`~nri.data.series.make_windows`. Pieces ``SAMPLE/k`` cut at gaps (and
    their windows) name their sample in :attr:`Series.recordings`.

    Returns:
        A :class:`Series` with ``times [S, T]`` (numbers as given, or seconds since
        ``time_origin`` for ISO stamps).

    Raises:
        DataError: one line naming the file, line and column of the problem.
    """
    path = Path(path)
    df, names = _read_table(path)
    role = {h.lower(): h for h in names if h.lower() in ROLES}
    feat_cols = [h for h in names if h.lower() not in ROLES]
    if not feat_cols:
        raise DataError(f"{path}: no feature columns besides {list(role)}")
    lines = np.arange(2, len(df) + 2)
    values = _features(df, feat_cols, path, lines)
    if "sample" in role:
        s_cells = _id_column(df, role["sample"], path, lines)
    else:
        s_cells = np.full(len(df), "0", dtype=object)
    s_names, s_idx = _ids(s_cells)
    o_names, o_idx = _ids(_id_column(df, role["object"], path, lines))
    t_text = df[role["time"]].str.strip().to_numpy(dtype=object)
    t, origin = parse_times(t_text, str(path), lines)
    n = len(o_names)
    if n < 2:
        raise DataError(
            f"{path}: only one object ({o_names[0]!r}); relational inference needs at "
            "least 2 interacting objects"
        )
    order = np.lexsort((o_idx, t, s_idx))  # by sample, then time, then object
    s_idx, o_idx, t, t_text, values, lines = (
        a[order] for a in (s_idx, o_idx, t, t_text, values, lines)
    )
    same = (np.diff(s_idx) == 0) & (np.diff(t) == 0)
    dup = same & (np.diff(o_idx) == 0)
    if dup.any():
        i = int(np.argmax(dup))
        raise DataError(
            f"{path} lines {lines[i]} and {lines[i + 1]}: two rows for sample "
            f"{s_names[s_idx[i]]!r}, object {o_names[o_idx[i]]!r}, time {t_text[i]!r}; "
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
            f"{[o_names[a] for a in absent]} at time {t_text[starts[k]]!r}; every "
            "object needs a value at every time step: fill or interpolate the missing "
            "rows, or drop that time step"
        )
    lengths = np.bincount(s_idx[starts], minlength=len(s_names))
    cuts = np.cumsum(lengths)[:-1]
    frames = np.split(values.reshape(-1, n, len(feat_cols)), cuts)  # [T_s, N, F] each
    f_times = np.split(t[starts], cuts)
    f_text = np.split(t_text[starts], cuts)
    unit = " s" if origin is not None else ""
    pieces = even_pieces(f_times, f_text, s_names, str(path), on_gap, unit)
    xs = [frames[p.sample][p.start : p.stop].transpose(1, 0, 2) for p in pieces]
    times = [f_times[p.sample][p.start : p.stop] for p in pieces]
    p_names = [p.name for p in pieces]
    src, f_names = str(path), tuple(feat_cols)
    if window is not None:
        recordings = [s_names[p.sample] for p in pieces]  # pieces SAMPLE/k: one
        return windows_of(
            xs, times, p_names, o_names, f_names, src, window, stride, origin,
            recordings,
        )  # fmt: skip
    sizes = np.array([x.shape[1] for x in xs])
    if len(set(sizes.tolist())) > 1:
        lo, hi = int(sizes.min()), int(sizes.max())
        short = p_names[int(np.argmin(sizes))]
        raise DataError(
            f"{path}: samples differ in length ({lo} to {hi} time steps; sample "
            f"{short!r} has {lo}); cut every sample to {lo} steps, or import with "
            f"--window L (L <= {lo}) to cut them into windows of L steps"
        )
    out = make_series(
        np.stack(xs),
        feature_names=f_names,
        object_names=tuple(o_names),
        sample_names=tuple(p_names),
        source=src,
        times=np.stack(times),
        time_origin=origin,
    )
    if all(p.name == s_names[p.sample] for p in pieces):  # whole samples
        return out
    # pieces SAMPLE/k of one recording go to one split, as its windows do
    return replace(out, recordings=tuple(s_names[p.sample] for p in pieces))

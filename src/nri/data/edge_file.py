"""One true graph for every sample, from its own file (``nri import --edges``, ``nri
infer --edges``).

Users keep their graph beside the data: an ``[N, N]`` matrix indexed **[receiver,
sender]** (row i = receiver i, column j = sender j; the diagonal is ignored and may be
empty) as an ``.npy`` or a ``.csv`` (comma, semicolon, tab or space separated). A CSV
may name the objects: the columns by a header row, the rows by a first column, each
matched to the data's object names in any order; a header alone names both (the rows
in the header's order). The index column that pandas' ``DataFrame.to_csv()`` writes
(an empty first header cell) is such a first column, and the default names ``0 ..
N-1`` of a DataFrame are positions in the data's object order. The values follow
:func:`nri.data.labels.to_labels`, as on every other route (labels, or weights with a
threshold); without a threshold the first cell that is not a label (empty, NaN, a
weight) is named by its row and column.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from nri.data.errors import DataError
from nri.data.files import is_number
from nri.data.labels import (
    check_edge_types,
    is_label,
    notice_diagonal_only,
    to_labels,
)
from nri.errors import DataNotice

__all__ = ["read_edge_file"]


def _rows(path: Path) -> list[list[str]]:
    """The non-empty rows of a CSV (comma, semicolon, tab or space separated), cells
    stripped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the edges file {path}: {err}") from None
    found = [d for d in ",;\t" if d in text]
    if not found:  # np.savetxt's default: runs of spaces
        rows = [line.split() for line in text.splitlines()]
    else:
        try:
            delim = (
                csv.Sniffer().sniff(text[:4096], delimiters="".join(found)).delimiter
            )
        except csv.Error:
            delim = found[0]
        rows = [
            [c.strip() for c in row]
            for row in csv.reader(text.splitlines(), delimiter=delim)
        ]
    return [r for r in rows if any(r)]


def _are_names(cells: list[str], names: tuple[str, ...]) -> bool:
    """Cells that name objects: one is not a number, or they are the data's object
    names or ``0 .. N-1`` (in any order)."""
    numbers = sorted(str(i) for i in range(len(names)))
    return any(c and not is_number(c) for c in cells) or sorted(cells) in (
        numbers,
        sorted(names),
    )


def _refuse_smaller_named_matrix(
    rows: list[list[str]], names: tuple[str, ...], path: Path
) -> None:
    """Refuse the names of an ``[N-1, N-1]`` matrix that would pass for a plain
    ``[N, N]`` one: pandas' ``to_csv()`` of a smaller matrix writes an empty corner,
    a header and an index column, N rows of N cells, whose corner reads as an empty
    diagonal cell and whose names would be taken as labels. The header and the first
    column name the same objects (``0 .. N-2``, or names that are not numbers) and the
    matrix below them has a diagonal (a plain matrix whose diagonal is left empty is
    kept)."""
    n = len(names)
    if len(rows) != n or n < 2 or any(len(r) != n for r in rows) or rows[0][0] != "":
        return
    head, first = rows[0][1:], [r[0] for r in rows[1:]]
    numbered = head == [str(i) for i in range(n - 1)]
    named = len(set(head)) == n - 1 and not any(is_number(c) for c in head)
    diagonal = [rows[i][i] for i in range(1, n)]
    if head != first or not (named or (numbered and any(diagonal))):
        return
    raise DataError(
        f"the edges file {path} has a header and a first column naming {n - 1} "
        f"objects ({', '.join(head)}): a [{n - 1}, {n - 1}] matrix; expected "
        f"[{n}, {n}] for the {n} objects of the data, indexed [receiver, sender]"
    )


def _split_names(
    rows: list[list[str]], names: tuple[str, ...]
) -> tuple[list[list[str]], list[str] | None, list[str] | None]:
    """The matrix without its names: ``(body, row_names, column_names)``.

    A header is a first row of names above N rows: N names, or N + 1 cells of which
    the first is the corner (pandas writes it empty). A first column of names makes
    every row N + 1 cells long.
    """
    n = len(names)
    head: list[str] | None = None
    if len(rows) == n + 1:
        first = rows[0]
        cells = first[1:] if len(first) == n + 1 else first
        if len(cells) == n and _are_names(cells, names):
            head, rows = cells, rows[1:]
    row_names: list[str] | None = None
    if (
        rows
        and all(len(r) == n + 1 for r in rows)
        and _are_names([r[0] for r in rows], names)
    ):
        row_names, rows = [r[0] for r in rows], [r[1:] for r in rows]
    return rows, row_names, head


def _order(
    found: list[str], names: tuple[str, ...], what: str, path: Path
) -> np.ndarray:
    """Positions of ``names`` in ``found`` (the file's names of rows or columns).
    Names ``0 .. N-1`` where the objects have other names (a DataFrame's default index
    and columns) are positions in the data's object order."""
    numbers = [str(i) for i in range(len(names))]
    if sorted(found) != sorted(names) and sorted(found) == sorted(numbers):
        if what == "column names":  # once per file (a header is always there then)
            warnings.warn(
                f"the edges file {path} numbers its objects 0..{len(names) - 1}: "
                f"taken as the data's objects in the data's order ({', '.join(names)}); "
                "name them as the data does if that is not the order meant",
                DataNotice,
                stacklevel=3,
            )
        return np.array([found.index(k) for k in numbers])
    if sorted(found) != sorted(names):
        missing = [n for n in names if n not in found]
        extra = [n for n in found if n not in names]
        raise DataError(
            f"the {what} of the edges file {path} are not the objects of the data: "
            f"missing {missing}, extra {extra}; name them as the data's 'object' "
            "column does (or give a plain matrix in the data's object order)"
        )
    return np.array([found.index(n) for n in names])


def _cell_name(i: int, j: int, rows: list[str] | None, cols: list[str] | None) -> str:
    """``row i (NAME), column j (NAME)`` of the matrix as written in the file."""
    r = f" ({rows[i]})" if rows else ""
    c = f" ({cols[j]})" if cols else ""
    return f"row {i + 1}{r}, column {j + 1}{c}"


def _read_csv(
    path: Path, names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, list[str] | None, list[str] | None]:
    """``(values, empty, row_names, column_names)``: the ``[N, N]`` matrix as written
    (NaN for an empty cell), which cells are empty, and the file's names."""
    n = len(names)
    rows = _rows(path)
    _refuse_smaller_named_matrix(rows, names, path)
    body, row_names, col_names = _split_names(rows, names)
    if len(body) != n or any(len(r) != n for r in body):
        widths = sorted({len(r) for r in body})
        raise DataError(
            f"the edges file {path} has {len(body)} rows of {widths} cells; expected "
            f"an [{n}, {n}] matrix for the {n} objects of the data (indexed [receiver, "
            "sender]), optionally with a header row and a first column of names"
        )
    for i, r in enumerate(body):
        for j, c in enumerate(r):
            if c != "" and not is_number(c):
                raise DataError(
                    f"the edges file {path} has {c!r} at "
                    f"{_cell_name(i, j, row_names or col_names, col_names)}, not a "
                    f"number; expected an [{n}, {n}] matrix of labels (0 no "
                    "interaction, 1.. types, -1 unknown) indexed [receiver, sender]"
                )
    values = np.array([[float(c) if c != "" else np.nan for c in r] for r in body])
    empty = np.array([[c == "" for c in r] for r in body], dtype=bool)
    return values, empty, row_names, col_names


def _check_labels(
    values: np.ndarray,
    off: np.ndarray,
    empty: np.ndarray,
    path: Path,
    names: tuple[list[str] | None, list[str] | None],
) -> None:
    """One line naming the first cell off the diagonal (``off``) that is not a label
    (``values`` and the masks ``[N, N]`` as written in the file)."""
    ok = is_label(values)
    if ok[off].all():
        return
    i, j = (int(v) for v in np.argwhere(~ok & off)[0])
    v = values[i, j]
    fix = (
        "give every pair a label (-1 where it is unknown)"
        if not np.isfinite(v)
        else "binarise weights first (e.g. weight > 0; nri import --edge-threshold T "
        "does it at import)"
    )
    raise DataError(
        f"the edges file {path} holds {'an empty cell' if empty[i, j] else f'{v:g}'} "
        f"at {_cell_name(i, j, *names)}; labels must be whole numbers: 0 (no "
        "interaction), 1 (interaction; 2.. for more edge types), -1 (unknown): "
        f"{fix}"
    )


def read_edge_file(
    path: str | Path,
    object_names: tuple[str, ...],
    threshold: float | None = None,
    n_types: int | None = None,
) -> np.ndarray:
    """The true graph shared by every sample, from an ``[N, N]`` ``.npy`` or ``.csv``.

    Args:
        path: the file.
        object_names: the data's objects (rows and columns named in the file are
            matched to them by name, in any order).
        threshold: as :func:`nri.data.labels.to_labels` (weights -> 0/1, empty or NaN
            -> -1 unknown); None: the values must be labels.
        n_types: the number of edge types, when the user gave it (labels must be
            below it); None: more than 2 are said in a notice
            (:func:`nri.data.labels.check_edge_types`).

    Shapes:
        returns ``[N, N]`` int64 labels indexed [receiver, sender], in the order of
        ``object_names`` (diagonal 0).

    Raises:
        DataError: an unreadable file, another shape, names that are not the data's
            objects, values that are not labels, naming the first bad cell (one line).
    """
    path = Path(path)
    names = tuple(str(o) for o in object_names)
    n = len(names)
    if not path.is_file():
        raise DataError(f"the edges file {path} does not exist")
    rows = cols = np.arange(n)  # data object k is file row rows[k], column cols[k]
    row_names: list[str] | None = None
    col_names: list[str] | None = None
    if path.suffix.lower() == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise DataError(f"cannot read the edges file {path}: {err}") from None
        if values.shape != (n, n):
            raise DataError(
                f"the edges file {path} holds shape {values.shape}; expected [{n}, "
                f"{n}] for the {n} objects of the data, indexed [receiver, sender]"
            )
        if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
            raise DataError(f"the edges file {path} holds {values.dtype}, not numbers")
        empty = np.zeros((n, n), dtype=bool)
    else:
        values, empty, row_names, col_names = _read_csv(path, names)
        if col_names is not None:
            cols = _order(col_names, names, "column names", path)
        if row_names is not None:
            rows = _order(row_names, names, "row names (first column)", path)
        else:
            row_names, rows = col_names, cols  # a header alone names the rows too
    values = np.asarray(values, dtype=np.float64)  # [N, N] as written in the file
    off = np.ones((n, n), dtype=bool)
    off[rows, cols] = False  # the diagonal (an object and itself) is ignored
    if threshold is None:
        _check_labels(values, off, empty, path, (row_names, col_names))
    values = values[rows][:, cols]  # [receiver, sender] in the data's object order
    off = ~np.eye(n, dtype=bool)
    labels = np.zeros((n, n), dtype=np.int64)
    labels[off] = to_labels(values[off], f"the edges file {path}", threshold)
    notice_diagonal_only(np.diagonal(values), labels, f"the edges file {path}")
    check_edge_types(labels[off], f"the edges file {path}", n_types)
    return labels

"""One true graph for every sample, from its own file (``nri import --edges``).

CSV users keep their graph beside the data: an ``[N, N]`` matrix indexed **[receiver,
sender]** (row i = receiver i, column j = sender j; the diagonal is ignored) as an
``.npy`` or a ``.csv``. A CSV may name the objects: the columns by a header row, the
rows by a first column, each matched to the data's object names in any order (the
index column that pandas' ``DataFrame.to_csv()`` writes, with an empty first header
cell, is such a first column). The values follow :func:`nri.data.labels.to_labels`,
as on every other route (labels, or weights with a threshold).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from nri.data.files import DataError
from nri.data.labels import to_labels

__all__ = ["read_edge_file"]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the edges file {path}: {err}") from None
    try:
        delim = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delim = ","
    rows = [
        [c.strip() for c in row]
        for row in csv.reader(text.splitlines(), delimiter=delim)
    ]
    return [r for r in rows if any(r)]


def _order(
    found: list[str], names: tuple[str, ...], what: str, path: Path
) -> np.ndarray:
    """Positions of ``names`` in ``found`` (the file's names of rows or columns).
    Names ``0 .. N-1`` where the objects have other names (a DataFrame's default index
    and columns) are positions in the data's object order."""
    numbers = [str(i) for i in range(len(names))]
    if sorted(found) != sorted(names) and sorted(found) == sorted(numbers):
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


def _read_csv(path: Path, names: tuple[str, ...]) -> np.ndarray:
    n = len(names)
    rows = _rows(path)
    header: list[str] | None = None
    if rows and (rows[0][0] == "" or not all(_is_number(c) for c in rows[0])):
        header, rows = rows[0], rows[1:]
    if len(rows) != n or any(len(r) not in (n, n + 1) for r in rows):
        widths = sorted({len(r) for r in rows})
        raise DataError(
            f"the edges file {path} has {len(rows)} rows of {widths} cells; expected "
            f"an [{n}, {n}] matrix for the {n} objects of the data (indexed [receiver, "
            "sender]), optionally with a header row and a first column of names"
        )
    row_names = None
    if all(len(r) == n + 1 for r in rows):
        row_names, rows = [r[0] for r in rows], [r[1:] for r in rows]
    elif any(len(r) != n for r in rows):
        raise DataError(f"the edges file {path} has rows of different lengths")
    try:
        values = np.array([[float(c) if c != "" else np.nan for c in r] for r in rows])
    except ValueError:
        raise DataError(
            f"the edges file {path} has cells that are not numbers; expected an "
            f"[{n}, {n}] matrix of labels (0 no interaction, 1.. types, -1 unknown) "
            "indexed [receiver, sender]"
        ) from None
    if header is not None:
        cols = header[1:] if len(header) == n + 1 else header
        if len(cols) != n:
            raise DataError(
                f"the edges file {path} has a header of {len(header)} cells for {n} "
                "columns"
            )
        values = values[:, _order(cols, names, "column names", path)]
    if row_names is not None:
        values = values[_order(row_names, names, "row names (first column)", path)]
    return values


def read_edge_file(
    path: str | Path, object_names: tuple[str, ...], threshold: float | None = None
) -> np.ndarray:
    """The true graph shared by every sample, from an ``[N, N]`` ``.npy`` or ``.csv``.

    Args:
        path: the file.
        object_names: the data's objects (rows and columns named in the file are
            matched to them by name, in any order).
        threshold: as :func:`nri.data.labels.to_labels` (weights -> 0/1).

    Shapes:
        returns ``[N, N]`` int64 labels indexed [receiver, sender], in the order of
        ``object_names`` (diagonal 0).

    Raises:
        DataError: an unreadable file, another shape, names that are not the data's
            objects, values that are not labels (one line).
    """
    path = Path(path)
    n = len(object_names)
    if not path.is_file():
        raise DataError(f"the edges file {path} does not exist")
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
    else:
        values = _read_csv(path, tuple(str(o) for o in object_names))
    values = np.asarray(values)
    off = ~np.eye(n, dtype=bool)
    labels = np.zeros((n, n), dtype=np.int64)
    labels[off] = to_labels(values[off], f"the edges file {path}", threshold)
    return labels

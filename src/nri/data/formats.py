"""Named external data formats: ``nri import PATH --format NAME``.

Each format is one reader module in :mod:`nri.data` and one line in :data:`FORMATS`.
A reader is a function ``read(path, *, window, stride, **options)`` returning either
one :class:`~nri.data.series.Series` (then ``nri import`` splits its samples at
random, as for any file) or a dict ``{"train": Series, "valid": Series, "test":
Series}`` when the format defines its own splits (motion-capture trials, a
published train/test file). ``options`` are the ``--format-option KEY=VALUE`` pairs,
as strings; a reader converts and checks them and raises
:class:`~nri.data.files.DataError` for an unknown key or a bad value.

The reader module is imported only when its format is used, so a format's
dependencies never slow ``nri --help``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from nri.data.files import DataError
from nri.data.series import Series


class Format(NamedTuple):
    """One external format.

    Attributes:
        module, function: where its reader is (imported on first use).
        summary: one line for ``nri import --help`` and error messages.
        edges: what the format's edges mean, written into the data set's metadata
            (``"truth"``: the interactions that generated the data; ``"reference"``:
            a plausible graph, e.g. a skeleton, that is not the generating one;
            ``"none"``: the format has no graph, e.g. basketball tracks).
    """

    module: str
    function: str
    summary: str
    edges: str = "truth"


FORMATS: dict[str, Format] = {
    "amc": Format("nri.data.mocap", "read_mocap", "CMU mocap .asf+.amc", "reference"),
    "basketball": Format("nri.data.basketball", "read", "NBA tracks, dNRI", "none"),
    "netsim": Format("nri.data.netsim", "read", "NetSim fMRI (Smith 2011), ACD"),
}


def format_names() -> list[str]:
    """The registered format names, sorted."""
    return sorted(FORMATS)


def get_format(name: str) -> Format:
    """The :class:`Format` called ``name``.

    Raises:
        DataError: no such format (the message lists the known ones).
    """
    if name not in FORMATS:
        known = ", ".join(format_names()) or "(none registered)"
        raise DataError(f"unknown data format {name!r}; known formats: {known}")
    return FORMATS[name]


def read_format(
    name: str,
    path: str | Path,
    window: int | None = None,
    stride: int | None = None,
    options: Mapping[str, str] | None = None,
) -> Series | dict[str, Series]:
    """Read ``path`` with the reader of format ``name``.

    Returns:
        One :class:`Series` (to be split at random) or ``{split: Series}`` for the
        three splits ``train``, ``valid``, ``test``.

    Raises:
        DataError: unknown format, missing path, or whatever the reader refuses.
    """
    fmt = get_format(name)
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    reader = getattr(importlib.import_module(fmt.module), fmt.function)
    out = reader(path, window=window, stride=stride, **dict(options or {}))
    if isinstance(out, dict) and set(out) != {"train", "valid", "test"}:
        raise AssertionError(  # a reader's bug, not the user's
            f"format {name!r} returned splits {sorted(out)}, not train/valid/test"
        )
    return out


def parse_options(pairs: list[str] | None) -> dict[str, str]:
    """``["key=value", ...]`` from ``--format-option`` as a dict.

    Raises:
        DataError: a pair without ``=`` or a key given twice.
    """
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DataError(
                f"--format-option {pair!r}: expected KEY=VALUE, e.g. offence_only=true"
            )
        if key in out:
            raise DataError(f"--format-option {key} is given twice")
        out[key] = value.strip()
    return out

"""Shared by the readers of :mod:`nri.data.formats`: typed ``--format-option
KEY=VALUE`` settings (each reader declares its options with a default and a parser,
and gets a dict of checked values or one line naming the bad option) and reading
every array of an ``.npz`` archive with one-line errors.

```python
OPTIONS = {"offence_only": (False, as_bool), "fps": (6.25, positive_float)}
opts = parse(options, OPTIONS, "basketball")   # {"offence_only": True, "fps": 6.25}
```
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nri.data.files import DataError

Parser = Callable[[str], Any]


def as_bool(text: str) -> bool:
    """``true/false``, ``yes/no``, ``1/0`` (any case)."""
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise ValueError("expected true or false")


def _number(text: str, kind: type, ok: Callable[[Any], bool], expected: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise ValueError(f"expected {expected}")
    return value


def positive_float(text: str) -> float:
    return float(_number(text, float, lambda v: 0 < v < float("inf"), "a number > 0"))


def fraction(text: str) -> float:
    return float(_number(text, float, lambda v: 0 < v < 1, "a number in (0, 1)"))


def non_negative_int(text: str) -> int:
    return int(_number(text, int, lambda v: v >= 0, "an integer >= 0"))


def choice(*values: str) -> Parser:
    """A parser accepting one of ``values``."""

    def parse_choice(text: str) -> str:
        if text not in values:
            raise ValueError(f"expected one of {', '.join(values)}")
        return text

    return parse_choice


def parse(
    options: Mapping[str, str],
    spec: Mapping[str, tuple[Any, Parser]],
    fmt: str,
) -> dict[str, Any]:
    """The options of format ``fmt``: every key of ``spec`` with its parsed value or
    its default.

    Raises:
        DataError: an unknown key (the message lists the known ones) or a value its
            parser refuses (a parser raises ValueError("expected ...")).
    """
    unknown = sorted(set(options) - set(spec))
    if unknown:
        raise DataError(
            f"--format-option {unknown[0]}: not an option of the {fmt} format; its "
            f"options are {', '.join(sorted(spec))}"
        )
    out = {key: default for key, (default, _) in spec.items()}
    for key, text in options.items():
        try:
            out[key] = spec[key][1](text)
        except ValueError as err:
            raise DataError(
                f"--format-option {key}={text}: {err} ({fmt} format)"
            ) from None
    return out


def npz_arrays(path: Path, expected: str) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive ``path``, read now (``expected`` says what
    it should hold, for the message about a single ``.npy`` array).

    Raises:
        DataError: not a numpy file, a corrupt archive, pickled objects.
    """
    try:
        z = np.load(path, allow_pickle=False)
    except ValueError:  # numpy's pickle refusal: not a numpy file at all
        raise DataError(
            f"{path} is not an .npz archive (numpy cannot read it)"
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read {path}: {err}; the file is corrupt") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise DataError(f"{path} is a single .npy array; expected {expected}")
    try:
        with z:
            return {k: z[k] for k in z.files}
    except ValueError as err:
        raise DataError(
            f"cannot read {path}: {err} (not an .npz of plain numeric arrays)"
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read {path}: {err}; the file is corrupt") from None

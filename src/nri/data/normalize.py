"""Min-max normalisation to [-1, 1] fitted on the training split (spec/data.md 3, 2.5).

Springs and charged: one (min, max) pair for positions and one for velocities, global
extremes over the training split (the original ``load_data``). Kuramoto: one pair per
feature. Every split is mapped with the training values; the mapping is stored with the
data set and with every run, so it can be inverted. :func:`fit_normalizer` fits one per
group of features (Kuramoto, own data; no constant group) and :func:`normalise` maps a
split, refusing values that are not finite there; both fail with one line (DataError).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

from nri.data.errors import DataError

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


@dataclass(frozen=True)
class Normalizer:
    """``x' = (x - min) * 2 / (max - min) - 1`` per feature group.

    Attributes:
        groups: for every feature (last axis of ``x``), the index of its (min, max) pair.
        mins, maxs: one value per group.
        names: a name per feature, for reports.
    """

    groups: tuple[int, ...]
    mins: tuple[float, ...]
    maxs: tuple[float, ...]
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.mins) != len(self.maxs) or not self.mins:
            raise ValueError("mins and maxs must be non-empty and of equal length")
        if any(g < 0 or g >= len(self.mins) for g in self.groups):
            raise ValueError(f"groups {self.groups} refer to missing min/max pairs")
        for lo, hi in zip(self.mins, self.maxs, strict=True):
            if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
                raise ValueError(
                    f"cannot normalise a feature whose training range is [{lo}, {hi}]; "
                    "it must be finite and non-empty (is the feature constant?)"
                )

    @property
    def n_features(self) -> int:
        return len(self.groups)

    @classmethod
    def fit_particles(cls, loc: np.ndarray, vel: np.ndarray) -> Normalizer:
        """Fit on raw training positions and velocities (any shape)."""
        return cls(
            groups=(0, 0, 1, 1),
            mins=(float(loc.min()), float(vel.min())),
            maxs=(float(loc.max()), float(vel.max())),
            names=("x", "y", "vx", "vy"),
        )

    @classmethod
    def fit_per_feature(cls, x: np.ndarray, names: tuple[str, ...] = ()) -> Normalizer:
        """Fit one pair per feature on training data ``[..., F]``."""
        flat = x.reshape(-1, x.shape[-1])
        return cls(
            groups=tuple(range(x.shape[-1])),
            mins=tuple(float(v) for v in flat.min(axis=0)),
            maxs=tuple(float(v) for v in flat.max(axis=0)),
            names=names,
        )

    def _per_feature(self, like: ArrayT) -> tuple[ArrayT, ArrayT]:
        lo = np.array([self.mins[g] for g in self.groups])
        hi = np.array([self.maxs[g] for g in self.groups])
        if isinstance(like, torch.Tensor):
            return (
                torch.as_tensor(lo, dtype=like.dtype, device=like.device),
                torch.as_tensor(hi, dtype=like.dtype, device=like.device),
            )
        return lo.astype(like.dtype, copy=False), hi.astype(like.dtype, copy=False)

    def _check(self, x: ArrayT) -> None:
        if x.shape[-1] != self.n_features:
            raise ValueError(
                f"normaliser expects {self.n_features} features in the last axis, got "
                f"shape {tuple(x.shape)}"
            )

    def transform(self, x: ArrayT) -> ArrayT:
        """Physical units -> [-1, 1] (training range). Shapes: ``[..., F]``."""
        self._check(x)
        lo, hi = self._per_feature(x)
        return (x - lo) * 2 / (hi - lo) - 1

    def inverse(self, x: ArrayT) -> ArrayT:
        """[-1, 1] -> physical units. Shapes: ``[..., F]``."""
        self._check(x)
        lo, hi = self._per_feature(x)
        return (x + 1) * (hi - lo) / 2 + lo

    def mse_scale(self) -> np.ndarray:
        """Per-feature factor turning a normalised squared error into physical units."""
        lo = np.array([self.mins[g] for g in self.groups])
        hi = np.array([self.maxs[g] for g in self.groups])
        return ((hi - lo) / 2) ** 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "mins": list(self.mins),
            "maxs": list(self.maxs),
            "names": list(self.names),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalizer:
        try:
            return cls(
                groups=tuple(int(g) for g in d["groups"]),
                mins=tuple(float(v) for v in d["mins"]),
                maxs=tuple(float(v) for v in d["maxs"]),
                names=tuple(str(n) for n in d.get("names", ())),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"malformed normaliser state: {err}") from None


def fit_normalizer(
    x: np.ndarray,
    names: tuple[str, ...],
    groups: tuple[int, ...] | None = None,
) -> Normalizer:
    """Min-max normaliser of training data ``[..., F]`` with one (min, max) pair per
    group of features (default: one per feature); a constant group is an error."""
    f = x.shape[-1]
    groups = tuple(range(f)) if groups is None else tuple(int(g) for g in groups)
    if len(groups) != f or sorted(set(groups)) != list(range(max(groups) + 1)):
        raise DataError(
            f"feature groups {list(groups)} must give one group per feature ({f}) and "
            "number the groups 0, 1, 2, ... without gaps"
        )
    flat = x.reshape(-1, f)
    mins, maxs = [], []
    for g in range(max(groups) + 1):
        cols = [i for i in range(f) if groups[i] == g]
        lo, hi = float(flat[:, cols].min()), float(flat[:, cols].max())
        if not hi > lo:
            which = ", ".join(repr(names[i]) if names else str(i) for i in cols)
            raise DataError(
                f"feature {which} is constant ({lo:g}) in the training split and cannot "
                "be normalised; drop it (it carries no dynamics)"
            )
        mins.append(lo)
        maxs.append(hi)
    return Normalizer(groups=groups, mins=tuple(mins), maxs=tuple(maxs), names=names)


def squeezed_features(x: np.ndarray, norm: Normalizer) -> list[str]:
    """Why some of the training data's features would reach the model squeezed: one
    message per feature group, for own data (``nri import`` and training on own data
    issue them as notices).

    Two cases, both legal but almost always a mistake: the group varies by less than
    1e-6 of its magnitude (float rounding noise, which min-max normalisation
    stretches to [-1, 1]); or 98 % of its values (1st to 99th percentile) span less
    than 0.1 % of its range while differing among themselves (a few extreme values,
    such as a -9999 or 1e200 placeholder, squeeze everything else to one value).
    A feature that mostly holds one value (an indicator) is not reported.

    Shapes:
        x ``[..., F]`` in physical units, the split ``norm`` was fitted on.
    """
    flat = x.reshape(-1, x.shape[-1])
    out = []
    for g, (lo, hi) in enumerate(zip(norm.mins, norm.maxs, strict=True)):
        cols = [i for i, k in enumerate(norm.groups) if k == g]
        which = ", ".join(repr(norm.names[i]) if norm.names else str(i) for i in cols)
        span, magnitude = hi - lo, max(abs(lo), abs(hi))
        if span < 1e-6 * magnitude:
            out.append(
                f"feature {which} varies by only {span:.3g} around {magnitude:.6g} "
                "(rounding noise?); normalisation stretches that to [-1, 1]: drop the "
                "feature or check its precision"
            )
            continue
        values = flat[:, cols].ravel()
        if values.size > 2**20:  # the percentiles of an even subsample suffice
            values = values[:: values.size // 2**20]
        q01, q99 = np.quantile(values, [0.01, 0.99])
        if q99 > q01 and q99 - q01 < 1e-3 * span:
            out.append(
                f"98 % of the training values of feature {which} lie in [{q01:.6g}, "
                f"{q99:.6g}], under 0.1 % of its range [{lo:.6g}, {hi:.6g}]: a few "
                "extreme values (a placeholder such as -9999?) squeeze the rest to "
                "one value for the model; remove them or give them as NaN (refused "
                "with their place)"
            )
    return out


def normalise(
    normalizer: Normalizer,
    x: np.ndarray,
    split: str | None,
    source: str,
    where: Callable[[int, int, int], str] | None = None,
) -> np.ndarray:
    """Map one split to the normalised float32 the models read, refusing values that
    are not finite there (an outlier such as 1e308 overflows the mapping).

    Args:
        normalizer: the training normalisation.
        x: the split in physical units.
        split: its name, for messages (None: data given as one file, as to ``nri
            infer``/``forecast``, whose ``source`` names the split where it has one).
        source: the file, for messages.
        where: ``(sample, object, frame) -> str`` naming a value's place in the
            user's names (:meth:`nri.data.series.Series.place`); default: positions.

    Shapes:
        x ``[S, N, T, F]`` in physical units -> ``[S, N, T, F]`` float32.

    Raises:
        DataError: naming the feature, the split and the first bad value.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = normalizer.transform(np.asarray(x, dtype=np.float64)).astype(np.float32)
    bad = ~np.isfinite(out)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])  # (sample, object, time, f)
        f = i[3]
        name = normalizer.names[f] if len(normalizer.names) == out.shape[-1] else f
        g = normalizer.groups[f]
        place = (
            where(i[0], i[1], i[2])
            if where is not None
            else f"sample {i[0]}, object {i[1]}, frame {i[2]}"
        )
        lo, hi = normalizer.mins[g], normalizer.maxs[g]
        of = f" of the {split} split" if split else ""
        raise DataError(
            f"{source}: feature {name!r}{of} is not finite after normalisation with "
            f"the training range [{lo:g}, {hi:g}] ({int(bad.sum())} value(s), the "
            f"first {float(x[i]):g} at {place}); fix or remove such values in "
            f"{source} (e.g. 1e308 placeholders for missing values)"
        )
    return out

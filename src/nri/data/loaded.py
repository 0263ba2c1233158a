"""A data set ready for the models: normalised tensors per split.

:class:`LoadedData` is the end of the data path (docs/data.md): readers produce
:class:`~nri.data.series.Series` in physical units, :func:`nri.data.splits.prepare`
fits the normaliser on the training split and maps every split to a :class:`Split` of
float32 tensors, which :class:`nri.training.datamodule.NRIDataModule` batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import Tensor

from nri.data.errors import DataError
from nri.data.normalize import Normalizer

__all__ = ["LoadedData", "Split", "check_finite_splits"]


class Split(NamedTuple):
    """One split, normalised.

    Shapes:
        x ``[S, N, T, F]`` float32; edges ``[S, E]`` int64 labels in the order of
        :mod:`nri.graph`.
    """

    x: Tensor
    edges: Tensor


@dataclass
class LoadedData:
    """A data set ready for the models.

    Attributes:
        splits: split name -> :class:`Split`.
        normalizer: fitted on the training split (maps physical units to [-1, 1]).
        system: "springs", "charged", "kuramoto" (or "particles" when unknown).
        suffix: the file suffix, e.g. "springs5".
        meta: our metadata file's content, or None for files written by other code.
    """

    splits: dict[str, Split]
    normalizer: Normalizer
    system: str
    suffix: str
    meta: dict[str, Any] | None = None
    source: str = ""
    raw_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def valid(self) -> Split:
        return self.splits["valid"]

    @property
    def test(self) -> Split:
        return self.splits["test"]

    @property
    def n_objects(self) -> int:
        return int(next(iter(self.splits.values())).x.shape[1])

    @property
    def n_features(self) -> int:
        return int(next(iter(self.splits.values())).x.shape[3])

    @property
    def has_edges(self) -> bool:
        """True when some edge labels are known (labels < 0 mean unknown)."""
        return any(bool((s.edges >= 0).any()) for s in self.splits.values())

    def describe(self) -> dict[str, Any]:
        """A JSON-able description (stored with every run as ``data.json``)."""
        meta = self.meta or {}
        return {
            "source": self.source,
            "suffix": self.suffix,
            "system": self.system,
            "n_objects": self.n_objects,
            "n_features": self.n_features,
            "feature_names": list(self.normalizer.names)
            or [f"f{i}" for i in range(self.n_features)],
            "object_names": list(meta.get("object_names", [])),
            "objects_named": meta.get("objects_named"),
            "has_edges": self.has_edges,
            "time_step": meta.get("time_step"),  # None: no time column
            "time_origin": meta.get("time_origin"),
            "splits": {
                name: {"n_samples": int(s.x.shape[0]), "n_frames": int(s.x.shape[2])}
                for name, s in self.splits.items()
            },
            "normalizer": self.normalizer.to_dict(),
        }

    def summary(self) -> str:
        """A few lines describing the data set."""
        lines = [f"data set {self.suffix} ({self.system}) from {self.source}"]
        for name, s in self.splits.items():
            known = s.edges[s.edges >= 0]
            if not known.numel():
                labels = "no edge labels"
            elif int(known.max()) > 1:  # K > 2 edge types: the fraction of each
                frac = torch.bincount(known).float() / known.numel()
                labels = "label fractions " + ", ".join(
                    f"{k}: {v:.4f}" for k, v in enumerate(frac.tolist())
                )
            else:
                labels = f"label-1 fraction {known.float().mean().item():.4f}"
            lines.append(
                f"  {name:5s}: {s.x.shape[0]:6d} samples x {s.x.shape[1]} objects x "
                f"{s.x.shape[2]} frames x {s.x.shape[3]} features; "
                f"{labels}; range [{s.x.min().item():.3f}, "
                f"{s.x.max().item():.3f}]"
            )
        lo = ", ".join(f"{m:.4g}" for m in self.normalizer.mins)
        hi = ", ".join(f"{m:.4g}" for m in self.normalizer.maxs)
        lines.append(f"  normaliser (train) min [{lo}] max [{hi}]")
        diagonal = (self.meta or {}).get("diagonal")
        if isinstance(diagonal, dict) and diagonal.get("dropped"):
            lines.append(
                f"  graph: one [N, N] adjacency per split; its diagonal dropped "
                f"({diagonal['nonzero']} non-zero entries, values {diagonal['values']})"
            )
        return "\n".join(lines)


def check_finite_splits(data: LoadedData) -> None:
    """A DataError naming the split and feature of the first non-finite value of a
    loaded (normalised) data set, e.g. one built by hand in Python."""
    for name, split in data.splits.items():
        bad = ~torch.isfinite(split.x)
        if bool(bad.any()):
            f = int(bad.reshape(-1, bad.shape[-1]).any(dim=0).nonzero()[0])
            names = data.normalizer.names
            feat = names[f] if len(names) == split.x.shape[-1] else f
            raise DataError(
                f"{data.source or 'data'}: feature {feat!r} of the {name} split has "
                f"{int(bad.sum())} non-finite value(s) after normalisation; remove "
                "or fix such outliers"
            )

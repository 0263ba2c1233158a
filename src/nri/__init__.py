"""nri: neural relational inference (NRI and NRI-MPM) with fast simulators.

The estimator API (docs/python.md)::

    model = nri.NRI(preset="springs5", epochs=50).fit(X_train)
    G = model.infer(X)                # [S, N, N, K] edge-type probabilities
    Y = model.forecast(X, steps=20)   # [S, N, 20, F] in the units of X
    model.save("runs/mine"); model = nri.load("runs/mine")

``NRI``, ``NRIMPM``, ``Model`` and ``load`` come from :mod:`nri.estimator`, imported on
first use so that ``import nri`` (and the ``nri`` command) does not load PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["NRI", "NRIMPM", "Model", "__version__", "load"]

_ESTIMATOR = frozenset({"NRI", "NRIMPM", "Model", "load"})

if TYPE_CHECKING:
    from nri.estimator import NRI, NRIMPM, Model, load


def __getattr__(name: str) -> Any:
    if name in _ESTIMATOR:
        from nri import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'nri' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _ESTIMATOR)

"""Reproducing the papers' tables and figures: ``nri experiment table1 ... fig9``.

* :mod:`nri.experiments.spec`: methods, tables, figures, scales and the paper's numbers;
* :mod:`nri.experiments.runner`: data, training and evaluation of cells (resumable);
* :mod:`nri.experiments.evaluations`: the figures' extra evaluations of finished cells;
* :mod:`nri.experiments.timing`: seconds per epoch of each cell, and the host;
* :mod:`nri.experiments.tables`: mean +- std over seeds, Markdown and CSV;
* :mod:`nri.experiments.figures`: Figs. 5-9 (matplotlib) and an atomic PNG/SVG writer;
* :mod:`nri.experiments.build`: :func:`make` runs what a table or figure needs and writes it.

The names below are loaded on first use, so that importing :mod:`nri.experiments.spec`
(the command-line parser does) does not import PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "make": "nri.experiments.build",
    "NAMES": "nri.experiments.build",
    "Cell": "nri.experiments.runner",
    "ExperimentError": "nri.experiments.runner",
    "Settings": "nri.experiments.runner",
    "FIGURES": "nri.experiments.spec",
    "METHODS": "nri.experiments.spec",
    "SCALES": "nri.experiments.spec",
    "TABLES": "nri.experiments.spec",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nri.experiments' has no attribute {name!r}")

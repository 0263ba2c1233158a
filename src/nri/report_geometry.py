"""The data's own geometry in ``nri report``, and what its edges mean.

Some data sets have a geometry a person knows better than a graph of numbered
circles: a skeleton (motion capture), a court (basketball). :data:`GEOMETRY` maps a
data set's import format (``meta_<name>.json`` -> ``import.format``) to a drawing
function, imported on use (a missing module only leaves the panel out)::

    draw(ax, x, names, edges, meta) -> None
    # ax: matplotlib Axes; x [N, T, F]: one sample in physical units; names: the
    # object names; edges [N, N] (receiver, sender): the graph to draw, or None;
    # meta: the data set's metadata (plus "reference" [N, N] when the edges drawn
    # are inferred and a reference graph is known)

Edges stored with a data set are the *truth* (the interactions that generated the
data) unless its metadata says ``import.edges_meaning == "reference"`` (a plausible
graph such as a skeleton, :data:`nri.data.formats.FORMATS`): then the report calls
them reference edges, and its accuracy and AUROC measure agreement with that
reference, not correctness (:func:`truth_word`, :func:`reword`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from nri import graph
from nri.config import RunConfig
from nri.data.series import Series
from nri.infer import EdgeInference
from nri.report_figures import GRAPH_THRESHOLD, figure_html, scores
from nri.training.run_dir import RunError, run_data_path

__all__ = ["GEOMETRY", "dataset_meta", "geometry_figures", "reword", "truth_word",
           "REFERENCE_NOTE"]  # fmt: skip

GEOMETRY: dict[str, tuple[str, str]] = {
    "amc": ("nri.plots_skeleton", "draw_skeleton"),
    "basketball": ("nri.plots_court", "draw_court"),
}
REFERENCE_NOTE = (
    "The edges of this data set are a reference graph (format {fmt}: e.g. a "
    "skeleton's parent-child pairs), not the interactions that generated the data: "
    "edge accuracy and AUROC measure agreement with that reference, not correctness."
)
_REWORDS = (
    ("true edges", "reference edges (not ground truth)"),
    ("edge accuracy", "edge accuracy against the reference"),
    ("AUROC", "AUROC against the reference"),
    ("type -> label mapping", "type -> reference label mapping"),
)


def dataset_meta(run_dir: str | Path, config: RunConfig) -> dict[str, Any]:
    """The metadata (``meta_<suffix>.json``) of the data set a run was trained on,
    or ``{}`` (data not found, a file, no metadata)."""
    try:
        path = run_data_path(run_dir, config)
    except RunError:
        return {}
    meta = Path(path) / f"meta_{config.data.suffix}.json"
    try:
        out = json.loads(meta.read_text()) if meta.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}
    return out if isinstance(out, dict) else {}


def _import(meta: dict[str, Any]) -> dict[str, Any]:
    how = meta.get("import")
    return how if isinstance(how, dict) else {}


def truth_word(meta: dict[str, Any]) -> str:
    """``"reference"`` where the data set's edges are a reference, else ``"true"``."""
    return "reference" if _import(meta).get("edges_meaning") == "reference" else "true"


def reword(label: str, truth: str) -> str:
    """A report label about true edges, said of reference edges when ``truth`` is
    ``"reference"`` (unchanged otherwise)."""
    if truth != "reference":
        return label
    for old, new in _REWORDS:
        if label.startswith(old):
            return new + label[len(old) :]
    return label


def _drawer(fmt: str | None) -> Callable[..., None] | None:
    if fmt not in GEOMETRY:
        return None
    module, function = GEOMETRY[fmt]
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):  # that module is not (yet) installed
        return None


def geometry_figures(
    meta: dict[str, Any],
    series: Series,
    inf: EdgeInference,
    metrics: dict[str, Any] | None,
    sample: int,
) -> list[str]:
    """The sample drawn in its own geometry (the stored graph, then the inferred
    one), as the report's figure HTML; ``[]`` for data without a geometry."""
    fmt = _import(meta).get("format")
    draw = _drawer(fmt)
    if draw is None:
        return []
    truth = truth_word(meta)
    score, what = scores(inf, metrics)  # [S, E]
    inferred = graph.to_dense_np((score[sample] >= GRAPH_THRESHOLD).astype(np.int64))
    stored = None
    if series.edges is not None and (series.edges[sample] > 0).any():
        stored = graph.to_dense_np(np.clip(series.edges[sample], 0, None))  # [N, N]
    panels = []
    if stored is not None:
        what_is = " (not ground truth)" if truth == "reference" else ""
        panels.append((f"{truth} graph{what_is}", stored, meta))
    panels.append((f"inferred edges ({what} >= {GRAPH_THRESHOLD:g})", inferred,
                   {**meta, "reference": stored}))  # fmt: skip
    fig = Figure(figsize=(5.6 * len(panels), 5.2), layout="constrained")
    for k, (title, edges, m) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        draw(ax, series.x[sample], series.object_names, edges, m)
        ax.set_title(title, fontsize=10)
    name = series.sample_names[sample]
    caption = f"sample {name} in the data's own geometry ({fmt})"
    if stored is not None:
        caption += (
            f": left the {truth} graph"
            + (" (a reference, not ground truth)" if truth == "reference" else "")
            + f", right the edges inferred in this sample; blue = an inferred edge "
            f"that is in the {truth} graph, orange = one that is not"
        )
    return [figure_html(fig, caption)]

"""The per-sample sections of :mod:`nri.report`: edges, trajectories, forecast, graph.

Captions say what a figure shows and nothing it does not: "true vs inferred" only
where true edges are known, the threshold of the drawn graph, the units of a
forecast. Trajectories are drawn as paths in the plane only when two features are
positions (:func:`nri.plots.positional_dims`); otherwise every feature is drawn over
time. Where the data go on after the encoder window, the forecast starts early
enough to be compared with the data's own frames (a held-out tail), in the data's
units.
"""

from __future__ import annotations

import base64
import html
import io
import re
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text

from nri import plots
from nri.data.series import Series
from nri.forecast import Forecast, forecast_trajectories
from nri.infer import EdgeInference
from nri.plots_graph import NAME_GID
from nri.training.run_dir import LoadedRun

__all__ = ["figure_html", "note", "scores", "graph_sections", "GRAPH_THRESHOLD"]

GRAPH_THRESHOLD = 0.5  # edges drawn: more likely present than absent
FIXED_SPREAD = 0.15  # mean spread of a score between samples below: a fixed graph


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(fig: Figure, caption: str) -> str:
    """A ``<figure>`` with the PNG embedded and its caption."""
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,'
        f'{_png(fig)}"><figcaption>{html.escape(caption)}</figcaption></figure>'
    )


def _reword(fig: Figure, truth: str) -> None:
    """Say ``truth`` (e.g. "reference") where the figure's texts say "true"."""
    if truth != "true":
        for t in fig.findobj(Text):
            t.set_text(re.sub(r"\btrue\b", truth, t.get_text()))


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def scores(inf: EdgeInference, m: dict[str, Any] | None) -> tuple[np.ndarray, str]:
    """Interaction score per sample and edge ``[S, E]``, and what it is."""
    if inf.no_edge_type is not None:
        return 1.0 - inf.probs[..., inf.no_edge_type], "P(interaction) = 1 - P(type 0)"
    mapping = (m or {}).get("perm_mapping")
    if mapping:
        types = [t for t, c in enumerate(mapping) if c == 1]
        label = f"P(types {types}), the types matched to label 1 on the test split"
        return inf.probs[..., types].sum(-1), label
    return inf.probs[..., -1], f"P(type {inf.n_edge_types - 1})"


def _truth(labels: np.ndarray | None) -> np.ndarray | None:
    """Labels ``[E]`` (-1 unknown) as 1 interaction / 0 none / NaN, None if unknown."""
    if labels is None or not (labels >= 0).any():
        return None
    return np.where(labels >= 0, (labels > 0).astype(np.float64), np.nan)


def _numbered(names: tuple[str, ...], i: int) -> str:
    """``i name`` (the number of the figures), or ``i`` where the name is the number."""
    return str(i) if names[i] == str(i) else f"{i} {html.escape(names[i])}"


def _edge_table(
    inf: EdgeInference,
    score: np.ndarray,
    sample: int,
    own: np.ndarray | None,
    limit: int = 40,
    truth: str = "true",
) -> str:
    """The edges of the mean graph, highest score first: mean and spread of the score
    over samples, the score in the plotted sample, the truth where known, the mean
    type probabilities."""
    mean, std = score.mean(axis=0), score.std(axis=0)  # [E]
    order = np.argsort(-mean, kind="stable")[:limit]
    head = (
        "<tr><th>sender</th><th>receiver</th><th>mean score</th><th>std over samples"
        f"</th><th>sample {html.escape(inf.sample_names[sample])}</th>"
        + (f"<th>{truth} edge in the sample</th>" if own is not None else "")
        + "".join(f"<th>mean p(type {t})</th>" for t in range(inf.n_edge_types))
        + "</tr>"
    )
    rows = []
    for e in order:
        j, i = int(inf.send[e]), int(inf.recv[e])
        cells = "".join(f"<td class=num>{v:.3f}</td>" for v in inf.mean_probs[e])
        true = ""
        if own is not None:
            true = f"<td>{'?' if np.isnan(own[e]) else 'yes' if own[e] else 'no'}</td>"
        rows.append(
            f"<tr><td>{_numbered(inf.object_names, j)}</td>"
            f"<td>{_numbered(inf.object_names, i)}</td>"
            f"<td class=num>{mean[e]:.3f}</td><td class=num>{std[e]:.3f}</td>"
            f"<td class=num>{score[sample, e]:.3f}</td>{true}{cells}</tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _clock(series: Series, seconds: np.ndarray) -> np.ndarray:
    """Times of the data's axis for a plot: ``datetime64`` for ISO stamps, else the
    numbers."""
    if series.time_origin is None:
        return seconds
    micro = np.round(np.asarray(seconds) * 1e6).astype("timedelta64[us]")
    return np.datetime64(series.time_origin.replace("Z", "")) + micro


def _forecast(run: LoadedRun, one: Series, steps: int) -> tuple[Forecast, str]:
    """A forecast of one sample: from ``T - K`` against the data's own last K frames
    when the data go on after the encoder window, else after the last frame."""
    w = run.config.model_config.n_timesteps
    tail = min(steps, one.n_frames - w)
    if tail >= 1:
        fc = forecast_trajectories(run, one, tail, at=one.n_frames - tail,
                                   allow_other_objects=True)  # fmt: skip
        return fc, f"a {tail}-step forecast from frame {fc.first_frame}"
    fc = forecast_trajectories(run, one, steps, allow_other_objects=True)
    return (
        fc,
        f"a {steps}-step forecast after the last frame (no data there to compare)",
    )


def _rmse_text(fc: Forecast) -> str:
    if fc.observed is None:
        return ""
    k = fc.observed.shape[2]
    err = np.sqrt(((fc.pred[0, :, :k] - fc.observed[0]) ** 2).mean(axis=(0, 1)))  # [F]
    parts = ", ".join(
        f"{name} {v:.3g}" for name, v in zip(fc.feature_names, err, strict=True)
    )
    return f"; RMSE over the {k} frames against the data, in the data's units: {parts}"


def _trajectory_figures(
    run: LoadedRun, series: Series, score: np.ndarray, what: str, sample: int,
    steps: int,
) -> list[str]:  # fmt: skip
    """The sample's trajectories (paths with the inferred edges for positions) and
    the forecast against the data, in the data's units."""
    name = series.sample_names[sample]
    one = series.take(np.array([sample]))
    fc, how = _forecast(run, one, steps)
    a, x = fc.first_frame, series.x[sample]  # x [N, T, F]
    truth = None if fc.observed is None else fc.observed[0]
    rmse = _rmse_text(fc)
    figs = []
    dims = plots.positional_dims(series.feature_names)
    if dims is not None:
        fig = plots.trajectories_figure(
            x[:, :a], score[sample], fc.pred[0], threshold=GRAPH_THRESHOLD, dims=dims,
            feature_names=series.feature_names, object_names=series.object_names,
            truth=truth,
        )  # fmt: skip
        caption = (
            f"sample {name}: paths of {series.feature_names[dims[0]]}, "
            f"{series.feature_names[dims[1]]} up to frame {a - 1}, arrows for the "
            f"edges with {what} >= {GRAPH_THRESHOLD:g}, and {how} (dashed)"
            + (" against the data's frames (dotted)" if truth is not None else "")
        )
        figs.append(figure_html(fig, caption + rmse))
        if truth is None:
            return figs
    times = fc_times = start = None
    label = "frame"
    if series.times is not None and fc.times is not None:
        times = _clock(series, series.times[sample])  # [T]
        fc_times = _clock(series, fc.times[0])  # [K]
        label, start = "time", str(fc.time_labels()[0, 0])
    fig = plots.features_figure(
        x, fc.pred[0], a, times, fc_times, series.feature_names, series.object_names,
        time_label=label, start_label=start,
    )  # fmt: skip
    caption = (
        f"sample {name}: every feature over time in the data's units (solid) and "
        f"{how} (dashed)" + (" against the data there" if truth is not None else "")
    )
    figs.append(figure_html(fig, caption + rmse))
    return figs


def _graph_figure(
    inf: EdgeInference,
    score: np.ndarray,
    what: str,
    sample: int,
    own: np.ndarray | None,
    fixed: bool,
    word: str = "true",
) -> tuple[str, list[str]]:
    """The inferred graph of the sample (and of the mean, for a ``fixed`` graph), true
    vs inferred where the truth ``own`` of the sample is known; its HTML and the
    labels drawn."""
    name, n = inf.sample_names[sample], len(score)
    panels = {f"sample {name}": score[sample]}
    truth: dict[str, np.ndarray] = {}
    if own is not None:
        truth[f"sample {name}"] = own
    if fixed:
        panels[f"mean over {n} samples"] = score.mean(axis=0)
        agreed = inf.true_graph()
        mean_truth = None if agreed is None else _truth(agreed[0])
        if mean_truth is not None:
            truth[f"mean over {n} samples"] = mean_truth
    fig = plots.graph_figure(panels, inf.object_names, GRAPH_THRESHOLD, truth)
    _reword(fig, word)
    drawn = [t.get_text() for t in fig.findobj(lambda a: a.get_gid() == NAME_GID)]
    caption = f"inferred graph of sample {name}" + (
        f" and its mean over {n} samples (the graph is nearly the same in every sample)"
        if fixed
        else f" (not the mean over the {n} samples: the graph varies between them)"
    )
    caption += (
        f"; arrows sender -> receiver for the edges with {what} >= "
        f"{GRAPH_THRESHOLD:g}, thicker for higher scores"
    )
    if truth:
        caption += (
            f"; {word} vs inferred: blue = an inferred edge that is a {word} edge, "
            f"orange = an inferred edge that is not, dashed grey = a {word} edge not "
            "inferred"
        )
    else:
        caption += "; no true edges known, so the graph is not compared with a truth"
    return figure_html(fig, caption), drawn


def _object_key(names: tuple[str, ...], drawn: list[str]) -> str:
    """Numbers of the objects in the figures and their full names."""
    full = bool(drawn) and all(d == names[i % len(names)] for i, d in enumerate(drawn))
    why = "" if full else " (the graph shows some names shortened or only the numbers)"
    cells = "".join(
        f"<tr><td class=num>{i}</td><td>{html.escape(s)}</td></tr>"
        for i, s in enumerate(names)
    )
    return (
        f"<p class=sub>Objects by number{why}:</p><table><tr><th>#</th><th>object</th>"
        f"</tr>{cells}</table>"
    )


def graph_sections(
    run: LoadedRun,
    series: Series,
    inf: EdgeInference,
    metrics: dict[str, Any] | None,
    sample: int,
    forecast_steps: int,
    truth: str = "true",
) -> tuple[list[str], str]:
    """Edge matrices, trajectories and forecast, the graph (figures' HTML) and the
    HTML of the graph section (object key and edge table). ``truth`` names the stored
    edges: ``"true"``, or ``"reference"`` for a reference graph such as a skeleton
    (:mod:`nri.report_geometry`)."""
    score, what = scores(inf, metrics)  # [S, E]
    name = inf.sample_names[sample]
    true = None if inf.true_edges is None else inf.true_edges[sample]
    own = _truth(true)  # [E] or None
    n = len(score)
    spread = float(score.std(axis=0).mean())
    fig = plots.edge_matrices_figure(
        inf.probs[sample], true, inf.no_edge_type, inf.object_names
    )
    _reword(fig, truth)
    caption = (
        f"sample {name}: {truth} vs inferred relations, [receiver, sender]"
        if own is not None
        else f"sample {name}: inferred relations, [receiver, sender] (no true edges "
        "known)"
    )
    figs = [figure_html(fig, caption)]
    figs += _trajectory_figures(run, series, score, what, sample, forecast_steps)
    fixed = spread <= FIXED_SPREAD and n > 1
    graph_html, drawn = _graph_figure(inf, score, what, sample, own, fixed, truth)
    figs.append(graph_html)
    varies = (
        "the graph varies between samples"
        if spread > FIXED_SPREAD
        else "nearly the same graph in every sample"
    )
    named = inf.object_names != tuple(str(i) for i in range(inf.n_objects))
    table = (
        (_object_key(inf.object_names, drawn) if named else "")
        + f"<p class=sub>Edges of {html.escape(inf.source)}, {n} samples, encoder "
        f"frames {inf.frames[0]}-{inf.frames[1] - 1}; score = {html.escape(what)}. "
        f"Mean spread of an edge's score between samples: {spread:.3f} ({varies}); "
        "highest mean first.</p>" + _edge_table(inf, score, sample, own, truth=truth)
    )
    return figs, table

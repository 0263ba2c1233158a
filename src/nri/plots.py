"""Figures of a run and its inferred graphs (matplotlib, Agg canvas, no pyplot state).

Every function takes plain arrays and returns a ``matplotlib.figure.Figure``; the
caller saves it (``fig.savefig(path)``) or embeds it (:mod:`nri.report`). Matrices are
indexed [receiver, sender], like :func:`nri.graph.to_dense`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator

from nri import graph
from nri.plots_graph import graph_figure
from nri.plots_series import features_figure, positional_dims
from nri.plots_text import (
    agg_figure,
    drawable,
    each_drawable,
    legend_font,
    numbered,
    text_style,
)

__all__ = [
    "trajectories_figure",
    "edge_matrices_figure",
    "mse_figure",
    "training_curves_figure",
    "graph_figure",
    "features_figure",
    "positional_dims",
]


def _names(names: Sequence[str], n: int) -> list[str]:
    """The names when there are n of them, else the indices."""
    return list(names) if len(names) == n else [str(i) for i in range(n)]


def _ticks(names: list[str]) -> list[str]:
    """Matrix tick labels: the names when all are short and drawable, else the
    objects' numbers (as in the graph figure and the report's key)."""
    if drawable(names) and max(len(s) for s in names) <= 10:
        return names
    return [str(i) for i in range(len(names))]


def _arrow(
    ax: Axes,
    p: tuple[float, float],
    q: tuple[float, float],
    score: float,
    color: str,
    label: str,
    rad: float = 0.15,
) -> None:
    """An arrow p -> q (curved, so that i -> j and j -> i stay apart)."""
    ax.add_patch(
        FancyArrowPatch(
            p, q, arrowstyle="-|>", mutation_scale=12, shrinkA=9, shrinkB=9,
            connectionstyle=f"arc3,rad={rad}", color=color, label=label,
            alpha=float(np.clip(score, 0.05, 1.0)), lw=0.6 + 2.4 * float(score),
        )
    )  # fmt: skip


def trajectories_figure(
    x: np.ndarray,
    scores: np.ndarray | None = None,
    forecast: np.ndarray | None = None,
    threshold: float = 0.5,
    dims: tuple[int, int] = (0, 1),
    feature_names: Sequence[str] = (),
    object_names: Sequence[str] = (),
    title: str = "",
    truth: np.ndarray | None = None,
) -> Figure:
    """2-D trajectories of one sample with the inferred edges between the objects.

    Each object's path over features ``dims`` (a dot at its last frame); an arrow
    sender -> receiver between last positions for every edge with score >=
    ``threshold`` (opacity and width grow with the score); ``forecast`` dashed from
    the last frame, ``truth`` (the data's frames there, a held-out tail) dotted. With
    one feature the feature is drawn against time instead (no edges); for features
    that are not positions use :func:`features_figure`.

    Shapes:
        x ``[N, T, F]``; scores ``[E]`` (interaction probabilities); forecast
        ``[N, K, F]``; truth ``[N, K', F]``.
    """
    n, t, f = x.shape
    fig = agg_figure(6.4, 5.2)
    ax = fig.add_subplot()
    names = numbered(_names(object_names, n))
    colors = [f"C{i % 10}" for i in range(n)]
    fnames = each_drawable(_names(feature_names, f), prefix="feature ")
    if f < 2:
        for i in range(n):
            ax.plot(np.arange(t), x[i, :, 0], color=colors[i], label=names[i])
            if forecast is not None:
                k = forecast.shape[1]
                ax.plot(np.arange(t, t + k), forecast[i, :, 0], "--", color=colors[i])
        ax.set_xlabel("frame")
        ax.set_ylabel(fnames[0])
    else:
        a, b = dims
        for i in range(n):
            ax.plot(x[i, :, a], x[i, :, b], color=colors[i], lw=1.2, label=names[i])
            ax.plot(x[i, -1, a], x[i, -1, b], "o", color=colors[i], ms=7)
            if forecast is not None:
                path = np.concatenate([x[i, -1:, :], forecast[i]], axis=0)
                ax.plot(path[:, a], path[:, b], "--", color=colors[i], lw=1.2)
            if truth is not None:
                path = np.concatenate([x[i, -1:, :], truth[i]], axis=0)
                ax.plot(path[:, a], path[:, b], ":", color=colors[i], lw=1.6)
        if scores is not None:
            send, recv = graph.fully_connected_np(n)
            for e in np.flatnonzero(scores >= threshold):
                p = (x[send[e], -1, a], x[send[e], -1, b])
                q = (x[recv[e], -1, a], x[recv[e], -1, b])
                label = f"_edge {send[e]}->{recv[e]}"  # "_": not in the legend
                _arrow(ax, p, q, float(scores[e]), "0.3", label)
        ax.set_xlabel(fnames[a])
        ax.set_ylabel(fnames[b])
        ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="best", prop=legend_font(names), title="object")
    extra = " (dashed: forecast)" if forecast is not None else ""
    if truth is not None:
        extra = " (dashed: forecast, dotted: the data's frames there)"
    edges = f"\narrows: edges with score >= {threshold:g}" if scores is not None else ""
    ax.set_title(title or f"trajectories{extra}{edges}", fontsize=9)
    return fig


def _matrix(
    ax: Axes, m: np.ndarray, names: list[str], title: str, vmax: float = 1.0
) -> AxesImage:
    im = ax.imshow(m, vmin=0.0, vmax=vmax, cmap="viridis")
    n = len(names)
    ticks = _ticks(names)
    style = text_style(ticks)
    wide = n > 8 or max((len(s) for s in ticks), default=0) > 3
    ax.set_xticks(range(n), ticks, rotation=90 if wide else 0, fontsize=8, **style)
    ax.set_yticks(range(n), ticks, fontsize=8, **style)
    ax.set_xlabel("sender")
    ax.set_ylabel("receiver")
    ax.set_title(title, fontsize=10)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if i != j and np.isfinite(m[i, j]):
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center",
                            fontsize=7, color="w" if m[i, j] < 0.6 * vmax else "k")  # fmt: skip
    return im


def edge_matrices_figure(
    probs: np.ndarray,
    true_edges: np.ndarray | None = None,
    no_edge_type: int | None = None,
    object_names: Sequence[str] = (),
    title: str = "",
) -> Figure:
    """True relations next to the inferred edge probabilities, as [receiver, sender]
    matrices.

    Panels: the true labels (when given and known), then P(interaction) =
    ``1 - p(no_edge_type)`` when the "no interaction" type is known, else one panel per
    edge type. Unknown labels (-1) are blank; the diagonal is blank.

    Shapes:
        probs ``[E, K]``; true_edges ``[E]``.
    """
    e, k = probs.shape
    n = graph.n_nodes(e)
    names = _names(object_names, n)
    panels: list[tuple[np.ndarray, str]] = []
    if true_edges is not None and (true_edges >= 0).any():
        lab = np.where(true_edges >= 0, true_edges, np.nan).astype(np.float64)
        panels.append((graph.to_dense_np(lab, fill=np.nan), "true relations"))
    if no_edge_type is not None:
        score = 1.0 - probs[:, no_edge_type]
        panels.append(
            (graph.to_dense_np(score, fill=np.nan), "inferred P(interaction)")
        )
    else:
        for t in range(k):
            m = graph.to_dense_np(probs[:, t].astype(np.float64), fill=np.nan)
            panels.append((m, f"inferred P(type {t})"))
    fig = agg_figure(3.3 * len(panels) + 0.9, 3.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    im = None
    for ax, (m, label) in zip(axes, panels, strict=True):
        im = _matrix(ax, m, names, label)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="probability")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def mse_figure(
    curves: Mapping[str, Sequence[float]], ylabel: str = "MSE (normalised units)"
) -> Figure:
    """Mean squared error against the prediction horizon (1, 2, ... steps), one line
    per entry of ``curves``, log scale."""
    fig = agg_figure(6.0, 3.8)
    ax = fig.add_subplot()
    for label, values in curves.items():
        v = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(1, len(v) + 1), v, "o-", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("prediction horizon (steps)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("forecast error against horizon", fontsize=10)
    return fig


PANELS = (
    ("loss and NLL", ("loss", "nll")),
    ("MSE (normalised units)", ("mse",)),
    ("edge metrics", ("acc", "auroc")),
)


def training_curves_figure(
    log: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> Figure:
    """Training curves per epoch: loss and NLL, MSE, and edge accuracies (panels
    without logged metrics are left out; other metrics such as the KL are not drawn).

    Args:
        log: metric name (``train/loss``, ``val/nll``, ``val/acc_perm``, ...) ->
            (epochs, per-epoch values), as :func:`nri.report.read_training_log` gives.
    """
    panels = []
    for title, words in PANELS:
        keys = sorted(k for k in log if any(w in k.split("/")[-1] for w in words))
        if title != "edge metrics":
            keys = [k for k in keys if "acc" not in k]
        if keys:
            panels.append((title, keys))
    fig = agg_figure(4.4 * max(1, len(panels)), 3.6)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, (title, keys) in zip(axes, panels, strict=False):
        for key in keys:
            ep, val = log[key]
            ax.plot(ep, val, "o-" if len(ep) < 30 else "-", ms=3, label=key)
        values = np.concatenate([log[k][1] for k in keys])
        if title == "edge metrics":
            ax.set_ylim(0.0, 1.02)
        elif (values > 0).all() and values.max() > 20 * values.min():
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return fig

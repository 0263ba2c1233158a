"""The inferred graph as a picture: objects on a circle, arrows sender -> receiver.

Only edges whose score reaches a threshold are drawn (default 0.5: the edge is more
likely present than absent), so that a graph reads as a graph and not as a hairball.
Where the true graph is known, arrows are coloured by whether a true edge is behind
them, and true edges the model missed are drawn dashed.

Each object is a numbered circle; its name sits outside the circle, where no arrow
runs. Names are wrapped or shortened until no two labels overlap (and none covers a
node); names that no installed font can draw are left out (the numbers remain, and
the figure says so).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text

from nri import graph
from nri.plots_text import agg_figure, drawable, overlaps, shorten, text_style

__all__ = ["graph_figure", "NAME_GID", "FOUND", "FALSE", "MISSED"]

NAME_GID = "object-name"  # gid of the name labels (tests and the report find them)
FOUND, FALSE, MISSED = "#1f5fa8", "#d9480f", "0.55"  # arrow colours
_LEVELS = ((9.0, 18), (8.0, 14), (7.5, 11), (7.0, 8))  # (font size, wrap width)


def _arrow(
    ax: Axes,
    p: np.ndarray,
    q: np.ndarray,
    score: float,
    color: str,
    label: str,
    dashed: bool = False,
) -> None:
    """An arrow p -> q, curved so that i -> j and j -> i stay apart; width and
    opacity grow with ``score``."""
    ax.add_patch(
        FancyArrowPatch(
            tuple(p), tuple(q), arrowstyle="-|>", mutation_scale=12, shrinkA=11,
            shrinkB=11, connectionstyle="arc3,rad=0.15", color=color, label=label,
            alpha=0.8 if dashed else float(np.clip(0.35 + 0.65 * score, 0.0, 1.0)),
            lw=1.0 if dashed else 0.8 + 2.2 * float(score),
            linestyle="--" if dashed else "-",
        )
    )  # fmt: skip


def _panel(
    ax: Axes,
    title: str,
    score: np.ndarray,
    truth: np.ndarray | None,
    threshold: float,
    pos: np.ndarray,
) -> list[Line2D]:
    """Arrows and numbered nodes of one panel; returns the node markers."""
    n = len(pos)
    send, recv = graph.fully_connected_np(n)
    drawn = score >= threshold  # [E]
    counts = f"{int(drawn.sum())} of {len(score)} edges"
    if truth is not None:
        known = np.isfinite(truth)
        true = known & (truth > 0)
        found, false = drawn & true, drawn & known & ~true
        missed = true & ~drawn
        counts = (
            f"{int(found.sum())} true edges found, {int(false.sum())} false, "
            f"{int(missed.sum())} missed"
        )
        for e in np.flatnonzero(missed):
            _arrow(ax, pos[send[e]], pos[recv[e]], 0.0, MISSED,
                   f"_missed {send[e]}->{recv[e]}", dashed=True)  # fmt: skip
    for e in np.flatnonzero(drawn):
        color = FOUND if truth is None or truth[e] > 0 or np.isnan(truth[e]) else FALSE
        _arrow(ax, pos[send[e]], pos[recv[e]], float(score[e]), color,
               f"_edge {send[e]}->{recv[e]}")  # fmt: skip
    nodes = []
    for i in range(n):
        (mark,) = ax.plot(*pos[i], "o", ms=17, color="white", mec=f"C{i % 10}", mew=2)
        nodes.append(mark)
        ax.text(*pos[i], str(i), ha="center", va="center", fontsize=8, zorder=5)
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.5, 1.5)  # room for the names of the top and bottom objects
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{title}\n{counts}", fontsize=9)
    return nodes


def _name_labels(
    fig: Figure, axes: Sequence[Axes], pos: np.ndarray, names: Sequence[str]
) -> list[Text]:
    """Names outside the circle, wrapped or shortened until none overlaps another
    label or a node (:data:`_LEVELS`); none when they never fit."""
    style = text_style(names)
    nodes = [ln for ax in axes for ln in ax.lines]
    for size, width in _LEVELS:
        labels = []
        for ax in axes:
            for (cx, cy), name in zip(pos, names, strict=True):
                if not name:
                    continue  # not drawable: the node's number only
                ha = "left" if cx > 0.3 else "right" if cx < -0.3 else "center"
                va = "bottom" if cy > 0.3 else "top" if cy < -0.3 else "center"
                text = shorten(name, width)
                labels.append(
                    ax.text(
                        1.17 * cx,
                        1.17 * cy,
                        text,
                        ha=ha,
                        va=va,
                        fontsize=size,
                        gid=NAME_GID,
                        linespacing=1.0,
                        **style,
                    )  # fmt: skip
                )
        with warnings.catch_warnings():  # a try that does not fit may squeeze the axes
            warnings.filterwarnings("ignore", "constrained_layout not applied")
            fig.draw_without_rendering()  # the layout, without rasterizing
        renderer = fig.canvas.get_renderer()
        boxes = [ln.get_window_extent(renderer) for ln in nodes]
        boxes += [ax.title.get_window_extent(renderer) for ax in axes]
        inside = all(
            fig.bbox.contains(*box.min) and fig.bbox.contains(*box.max)
            for box in (t.get_window_extent(renderer) for t in labels)
        )
        if inside and not overlaps(labels, boxes):
            return labels
        for t in labels:
            t.remove()
    return []


def graph_figure(
    scores: Mapping[str, np.ndarray],
    object_names: Sequence[str] = (),
    threshold: float = 0.5,
    truth: Mapping[str, np.ndarray] | None = None,
) -> Figure:
    """Inferred graphs, one panel per entry of ``scores`` (title -> scores).

    An arrow sender -> receiver for every edge with score >= ``threshold`` (width and
    opacity grow with the score). Panels with an entry in ``truth`` colour arrows
    blue (a true edge) or orange (no true edge) and draw missed true edges dashed
    grey. The figure title states the threshold.

    Args:
        scores: title -> ``[E]`` interaction scores in [0, 1] (:mod:`nri.graph` order).
        object_names: N names (default: the indices).
        threshold: the smallest score drawn.
        truth: title -> ``[E]`` true relations (1 interaction, 0 none, NaN unknown).
    """
    truth = truth or {}
    fig = agg_figure(4.0 * len(scores), 4.6 if truth else 4.3)
    axes = fig.subplots(1, len(scores), squeeze=False)[0]
    n = 0
    for ax, (title, sc) in zip(axes, scores.items(), strict=True):
        n = graph.n_nodes(len(sc))
        angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n
        pos = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # [N, 2]
        t = truth.get(title)
        t = None if t is None else np.asarray(t, dtype=np.float64)
        _panel(ax, title, np.asarray(sc, dtype=np.float64), t, threshold, pos)
    head = f"arrows: sender -> receiver, score >= {threshold:g}"
    fig.suptitle(head, fontsize=9)
    if truth:
        fig.legend(
            handles=[
                Line2D([], [], color=FOUND, lw=2, label="inferred, true edge"),
                Line2D([], [], color=FALSE, lw=2, label="inferred, no true edge"),
                Line2D([], [], color=MISSED, lw=1, ls="--", label="true edge missed"),
            ],
            loc="outside lower center", ncols=3 if len(scores) > 1 else 1,
            fontsize=8, frameon=False,
        )  # fmt: skip
    names = list(object_names) if len(object_names) == n else []
    if names == [str(i) for i in range(n)]:
        names = []  # the numbers are the names
    shown = [s if drawable([s]) else "" for s in names]
    if any(shown) and not _name_labels(fig, axes, pos, shown):
        fig.suptitle(f"{head}\nnames too long to place: objects by number",
                     fontsize=9)  # fmt: skip
    elif names and not all(shown):
        missing = [str(i) for i, s in enumerate(shown) if not s]
        which = f"object{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        fig.suptitle(f"{head}\n{which}: no installed font draws the name",
                     fontsize=9)  # fmt: skip
    return fig

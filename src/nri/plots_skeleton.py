"""A motion-capture sample as a skeleton: the joints at a few frames, seen from the
side of the walk, with the edges of a graph drawn as bones.

The view is the vertical plane that holds the walk: horizontally the direction in
which the root moved over the sample (the x axis when it stood still), vertically
the up axis (y in CMU's data, ``meta["up"]`` otherwise). Four frames, from the first
(faint) to the last (dark), show the motion as a chronophotograph. The edges drawn
are those of ``edges``: the skeleton, at every frame; or, where ``meta["reference"]``
holds the skeleton, an inferred graph, drawn at the last frame over the faint
skeleton, an inferred edge that is a bone in blue and one that is not in orange
(the colours of :mod:`nri.plots_graph`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from nri.plots_graph import FALSE, FOUND

__all__ = ["draw_skeleton", "side_view"]

LABELLED = ("head", "lhand", "rhand", "lfoot", "rfoot", "root")  # named at the end
N_POSES = 4


def side_view(p: np.ndarray, up: int = 1) -> tuple[np.ndarray, np.ndarray, str]:
    """Horizontal and vertical coordinates of positions in the plane of the walk.

    Shapes:
        p ``[N, T, 3]`` -> (h ``[N, T]``, v ``[N, T]``, what h is).
    """
    flat = [a for a in range(3) if a != up]
    move = p[0, -1, flat] - p[0, 0, flat]  # the root's horizontal displacement
    norm = float(np.linalg.norm(move))
    span = float(np.ptp(p[..., up])) or 1.0
    if norm < 0.05 * span:
        d, what = np.eye(2)[0], f"axis {'xyz'[flat[0]]}"
    else:
        d, what = move / norm, "along the walk"
    h = p[..., flat] @ d  # [N, T]
    return h, p[..., up], what


def draw_skeleton(
    ax: Axes,
    x: np.ndarray,
    names: tuple[str, ...],
    edges: np.ndarray | None,
    meta: dict[str, Any],
) -> None:
    """Draw one sample's skeleton at a few frames.

    Args:
        ax: the axes to draw in.
        x: one sample in physical units; features 0-2 are the positions.
        names: the joint names.
        edges: ``[N, N]`` indexed [receiver, sender], nonzero = drawn (a pair is
            drawn once, whichever direction it has); None draws the joints alone.
        meta: the data set's metadata; ``up`` (axis index, default 1),
            ``reference`` (``[N, N]``: colour edges by whether they are bones),
            ``import.format_options.units`` (for the axis labels, default m).

    Shapes:
        x ``[N, T, F]`` with F >= 3.
    """
    if x.ndim != 3 or x.shape[2] < 3:
        raise ValueError(f"x must be [N, T, F] with F >= 3, got {tuple(x.shape)}")
    up = int(meta.get("up", 1))
    h, v, what = side_view(x[..., :3], up)
    n, t = h.shape
    frames = np.unique(np.linspace(0, t - 1, N_POSES).round().astype(int))
    pairs: list[tuple[int, int]] = []
    if edges is not None:
        sym = (np.asarray(edges) != 0) | (np.asarray(edges) != 0).T
        pairs = [(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(sym, 1)),
                                                   strict=True)]  # fmt: skip
    ref = meta.get("reference")
    ref = None if ref is None else (np.asarray(ref) != 0) | (np.asarray(ref) != 0).T
    ref_pairs = [] if ref is None else [(int(i), int(j)) for i, j in
                                        zip(*np.nonzero(np.triu(ref, 1)), strict=True)]  # fmt: skip
    last = frames[-1]
    for k, f in enumerate(frames):
        alpha = 0.3 + 0.7 * (k + 1) / len(frames)
        if ref is None:  # the graph itself is the skeleton: drawn at every frame
            _bones(ax, h, v, pairs, f, "0.15", alpha, 1.6)
        else:  # an inferred graph: the skeleton faint, the edges at the last frame
            _bones(ax, h, v, ref_pairs, f, "0.6", 0.5 * alpha, 1.0)
        ax.scatter(h[:, f], v[:, f], s=8, color="0.1", alpha=alpha, zorder=3)
    if ref is not None:
        bones = [(i, j) for i, j in pairs if ref[i, j]]
        other = [(i, j) for i, j in pairs if not ref[i, j]]
        _bones(ax, h, v, other, last, FALSE, 0.45, 0.8)
        _bones(ax, h, v, bones, last, FOUND, 1.0, 2.0)
    last = frames[-1]
    for i, name in enumerate(names[:n]):
        if name in LABELLED:
            ax.annotate(name, (h[i, last], v[i, last]), xytext=(4, 4),
                        textcoords="offset points", fontsize=7, color="0.2",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white",
                              "ec": "none", "alpha": 0.75}, zorder=4)  # fmt: skip
    ax.plot(h[0], v[0], color="0.5", lw=0.8, ls=":", zorder=1)  # the root's path
    opts = (meta.get("import") or {}).get("format_options") or {}
    unit = {"in": "in", "file": "file units"}.get(opts.get("units", "m"), "m")
    ax.set_xlabel(f"{what} ({unit})")
    ax.set_ylabel(f"{'xyz'[up]}, up ({unit})")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, alpha=0.25)
    handles = [Line2D([], [], color="0.1", marker="o", ls="", ms=3,
                      label=f"joints at frames {', '.join(map(str, frames))}")]  # fmt: skip
    if ref is not None:
        n_bones = sum(1 for i, j in pairs if ref[i, j])
        handles += [
            Line2D([], [], color="0.6", lw=1.0, label="the skeleton (reference)"),
            Line2D([], [], color=FOUND, lw=2.0,
                   label=f"inferred, a bone ({n_bones} of {len(ref_pairs)})"),
            Line2D([], [], color=FALSE, lw=0.8,
                   label=f"inferred, no bone ({len(pairs) - n_bones})"),
        ]  # fmt: skip
    ax.legend(handles=handles, fontsize=7, loc="lower right", framealpha=0.8)


def _bones(
    ax: Axes, h: np.ndarray, v: np.ndarray, pairs: list[tuple[int, int]], f: int,
    colour: str, alpha: float, lw: float,
) -> None:  # fmt: skip
    """Segments between the joints of ``pairs`` at frame ``f`` (one artist)."""
    if not pairs:
        return
    i, j = np.array(pairs).T
    xs = np.stack([h[i, f], h[j, f], np.full(len(i), np.nan)], axis=1).ravel()
    ys = np.stack([v[i, f], v[j, f], np.full(len(i), np.nan)], axis=1).ravel()
    ax.plot(xs, ys, color=colour, alpha=alpha, lw=lw, solid_capstyle="round")

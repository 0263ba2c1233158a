"""A basketball sample drawn on an NBA half court to scale (feet), for ``nri report``
of data imported with ``--format basketball`` (nri.data.basketball).

Court (NBA): 94 x 50 ft, half court 47 x 50 ft; the basket 5.25 ft from the baseline
at mid-width; the key 16 ft wide and 19 ft deep (free-throw line) with a 6 ft circle;
the three-point line 22 ft from the basket in the corners (straight, up to 14 ft from
the baseline) and a 23.75 ft arc; the restricted area a 4 ft arc. Zhan et al.'s
positions are x from the baseline (0-47) and y across (0-50); a sample reaching past
half court gets the full court.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Arc, Circle, Rectangle

LENGTH, WIDTH, HALF = 94.0, 50.0, 47.0
BASKET = 5.25  # ft from the baseline
LINE = {"color": "#8a6d3b", "linewidth": 1.2, "fill": False, "zorder": 1}


def _half(ax: Axes, mirror: bool) -> None:
    """One half's markings; ``mirror`` draws the right half (x -> 94 - x)."""

    def fx(x: float) -> float:
        return LENGTH - x if mirror else x

    cy = WIDTH / 2
    bx = fx(BASKET)
    ax.add_patch(Circle((bx, cy), 0.75, **LINE))  # rim (18 in)
    ax.plot([fx(4.0)] * 2, [cy - 3, cy + 3], color=LINE["color"], lw=2)  # backboard
    ax.add_patch(Rectangle((min(fx(0), fx(19)), cy - 8), 19, 16, **LINE))  # key
    ax.add_patch(Circle((fx(19), cy), 6, **LINE))  # free-throw circle
    a0, a1 = (-90, 90) if not mirror else (90, 270)
    ax.add_patch(Arc((bx, cy), 8, 8, theta1=a0, theta2=a1, **LINE))  # restricted
    corner = BASKET + np.sqrt(23.75**2 - 22**2)  # where the arc meets the corners
    for y in (cy - 22, cy + 22):
        ax.plot([fx(0), fx(corner)], [y, y], color=LINE["color"], lw=LINE["linewidth"])
    t = np.degrees(np.arcsin(22 / 23.75))
    arc = (-t, t) if not mirror else (180 - t, 180 + t)
    ax.add_patch(Arc((bx, cy), 47.5, 47.5, theta1=arc[0], theta2=arc[1], **LINE))


def _colour(name: str, k: int) -> str:
    if name == "ball":
        return "#e67e22"
    if name.startswith("defence"):
        return ("#c0392b", "#e74c3c", "#a93226", "#cd6155", "#922b21")[k % 5]
    return ("#1f4e99", "#2e86c1", "#117a65", "#6c3483", "#2874a6")[k % 5]


def draw_court(
    ax: Axes,
    x: np.ndarray,
    names: list[str] | tuple[str, ...],
    edges: np.ndarray | None,
    meta: dict[str, Any],
) -> None:
    """Draw one sample's tracks on the court.

    Args:
        ax: the axes to draw into (its aspect is set equal).
        x: one sample in feet; the features named ``x`` and ``y`` in
            ``meta["feature_names"]`` (else the first two) are the position.
        names: object names (``ball``, ``offence1``.., ``defence1``..).
        edges: ``[N, N]`` indexed [receiver, sender]: labels or probabilities; the
            edges >= 0.5 (off the diagonal) are drawn at the last frame as arrows
            from sender to receiver, their opacity the value. None: no edges.
        meta: the data set's metadata.

    Shapes:
        x ``[N, T, F]``; edges ``[N, N]``.
    """
    feats = list(meta.get("feature_names") or [])
    ix = feats.index("x") if "x" in feats else 0
    iy = feats.index("y") if "y" in feats else 1
    pos = np.asarray(x, dtype=float)[..., [ix, iy]]  # [N, T, 2]
    full = bool(np.nanmax(pos[..., 0]) > HALF + 2)
    right = LENGTH if full else HALF
    ax.add_patch(Rectangle((0, 0), right, WIDTH, **LINE))  # boundary
    _half(ax, mirror=False)
    ax.add_patch(Arc((HALF, WIDTH / 2), 12, 12, theta1=90, theta2=270, **LINE))
    if full:
        ax.plot([HALF, HALF], [0, WIDTH], color=LINE["color"], lw=LINE["linewidth"])
        ax.add_patch(Circle((HALF, WIDTH / 2), 6, **LINE))
        _half(ax, mirror=True)
    last = pos[:, -1]  # [N, 2]
    if edges is not None:
        w = np.asarray(edges, dtype=float)
        for recv, send in zip(*np.nonzero(w >= 0.5), strict=True):
            if recv == send:
                continue
            ax.annotate(
                "", xy=last[recv], xytext=last[send], zorder=2,
                arrowprops={"arrowstyle": "-|>", "color": "#555555",
                            "alpha": float(min(1.0, w[recv, send])), "lw": 1.3,
                            "connectionstyle": "arc3,rad=0.15",
                            "shrinkA": 6, "shrinkB": 6},
            )  # fmt: skip
    for k, name in enumerate(names):
        c = _colour(str(name), k)
        ball = name == "ball"
        ax.plot(*pos[k].T, color=c, lw=1.0 if ball else 1.6, alpha=0.8, zorder=3,
                ls=":" if ball else "-")  # fmt: skip
        ax.plot(*pos[k, 0], "o", color=c, ms=3, alpha=0.6, zorder=3)  # start
        ax.plot(*last[k], "o", color=c, ms=5 if ball else 8, zorder=4, mec="white")
        short = "ball" if ball else f"{str(name)[0].upper()}{str(name)[-1]}"
        ax.annotate(short, last[k], xytext=(5, 4), textcoords="offset points",
                    fontsize=7, color=c, zorder=5)  # fmt: skip
    lo = min(-2.0, float(np.nanmin(pos[..., 0])) - 2)
    hi = max(right + 2, float(np.nanmax(pos[..., 0])) + 2)
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(-2.0, float(np.nanmin(pos[..., 1])) - 2),
                max(WIDTH + 2, float(np.nanmax(pos[..., 1])) + 2))  # fmt: skip
    ax.set_aspect("equal")
    ax.set_xlabel("feet from the baseline")
    ax.set_ylabel("feet")

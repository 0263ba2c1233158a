"""Trajectories that are not positions: every feature over time, a forecast against
the held-out frames in the data's units.

:func:`positional_dims` decides whether two features can be drawn as a path in the
plane (names like ``x``/``y``, ``pos_x``/``pos_y``); everything else (temperatures,
prices, phases, one feature) is drawn by :func:`features_figure`, one panel per feature.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from nri.plots_text import (
    agg_figure,
    each_drawable,
    legend_font,
    numbered,
    shorten,
    text_style,
)

__all__ = ["positional_dims", "features_figure"]

_NOT_POSITION = {
    "v",
    "vel",
    "velocity",
    "speed",
    "a",
    "acc",
    "accel",
    "f",
    "force",
    "d",
}


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", name.lower()) if t]


def positional_dims(feature_names: Sequence[str]) -> tuple[int, int] | None:
    """Indices of an x and a y position among ``feature_names``, or None.

    A pair is two names that differ only in one word ``x`` <-> ``y`` (``x``/``y``,
    ``pos_x``/``pos_y``, ``X (m)``/``Y (m)``) and name no velocity, acceleration or
    force (``vx``/``vy`` and ``vel_x``/``vel_y`` are not positions).
    """
    tokens = [_tokens(n) for n in feature_names]
    for i, ti in enumerate(tokens):
        if "x" not in ti or _NOT_POSITION & set(ti):
            continue
        k = ti.index("x")
        want = ti[:k] + ["y"] + ti[k + 1 :]
        for j, tj in enumerate(tokens):
            if j != i and tj == want:
                return i, j
    return None


def features_figure(
    x: np.ndarray,
    forecast: np.ndarray | None = None,
    first_frame: int | None = None,
    times: np.ndarray | None = None,
    forecast_times: np.ndarray | None = None,
    feature_names: Sequence[str] = (),
    object_names: Sequence[str] = (),
    time_label: str = "frame",
    start_label: str | None = None,
    max_objects: int = 8,
    max_features: int = 6,
) -> Figure:
    """Each feature of one sample over time, one panel per feature, one line per
    object; a forecast dashed from ``first_frame`` on, drawn against the data's own
    frames there (a held-out tail) when the data go on.

    Args:
        x: the observed frames, in the data's units.
        forecast: predicted frames ``first_frame .. first_frame + K - 1``.
        first_frame: index of the first predicted frame (default: after the last one).
        times: the time of every observed frame (numbers or ``datetime64``; default
            the frame index), ``forecast_times`` of every predicted one.
        start_label: the first predicted frame's time as the data write it (default
            ``frame A``).
        max_objects, max_features: at most this many lines per panel and panels (the
            title says when some were left out).

    Shapes:
        x ``[N, T, F]``; forecast ``[N, K, F]``; times ``[T]``; forecast_times ``[K]``.
    """
    n, t, f = x.shape
    shown_f, shown_n = min(f, max_features), min(n, max_objects)
    fnames = (
        list(feature_names)
        if len(feature_names) == f
        else [f"feature {i}" for i in range(f)]
    )
    onames = numbered(
        list(object_names) if len(object_names) == n else [str(i) for i in range(n)]
    )
    fnames = each_drawable(fnames, prefix="feature ")
    tx = np.arange(t) if times is None else np.asarray(times)
    a = t if first_frame is None else first_frame
    fig = agg_figure(7.6, 1.7 * shown_f + 0.9)
    axes = fig.subplots(shown_f, 1, sharex=True, squeeze=False)[:, 0]
    for d, ax in enumerate(axes):
        for i in range(shown_n):
            ax.plot(tx, x[i, :, d], color=f"C{i % 10}", lw=1.2,
                    label=onames[i])  # fmt: skip
            if forecast is not None:
                k = forecast.shape[1]
                fx = (np.arange(a, a + k) if forecast_times is None
                      else np.asarray(forecast_times))  # fmt: skip
                if a > 0:  # join the forecast to the frame it starts from
                    fx = np.concatenate([tx[a - 1 : a], fx])
                    fy = np.concatenate([x[i, a - 1 : a, d], forecast[i, :, d]])
                else:
                    fy = forecast[i, :, d]
                ax.plot(fx, fy, "--", color=f"C{i % 10}", lw=1.4)
        if forecast is not None and a < t:
            ax.axvline(tx[a - 1] if a > 0 else tx[0], color="0.5", lw=0.8, ls=":")
        ax.set_ylabel(
            shorten(fnames[d], 18), fontsize=8, **text_style(fnames[d : d + 1])
        )
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[-1].set_xlabel(time_label)
    if np.issubdtype(tx.dtype, np.datetime64):  # dates: ticks that do not collide
        locator = mdates.AutoDateLocator(maxticks=8)
        axes[-1].xaxis.set_major_locator(locator)
        axes[-1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=min(shown_n, 3), title="object",
               prop=legend_font(onames))  # fmt: skip
    what = "solid: the data"
    if forecast is not None:
        start = start_label or f"frame {a}"
        what += f"; dashed: forecast from {start}" + (
            " against the data there" if a < t else ""
        )
    left = []
    if shown_f < f:
        left.append(f"first {shown_f} of {f} features")
    if shown_n < n:
        left.append(f"first {shown_n} of {n} objects")
    extra = f" ({', '.join(left)})" if left else ""
    fig.suptitle(f"each feature over time, in the data's units{extra}\n{what}",
                 fontsize=9)  # fmt: skip
    return fig

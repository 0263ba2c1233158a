"""Figures 5-9 of Chen, Wang & Li (AAAI 2021) from our runs (matplotlib, Agg canvas).

Each ``figN`` function takes plain arrays and returns a ``matplotlib.figure.Figure``;
:func:`save_figure` writes it as PNG and SVG, each to a temporary file renamed into
place. Matrices are indexed [receiver, sender] (:func:`nri.graph.to_dense`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from nri.atomic import atomic_path

__all__ = ["fig5", "fig6", "fig7", "fig8", "fig9", "save_figure"]


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``<stem>.png`` (150 dpi) and ``<stem>.svg`` atomically; returns the paths.
    The SVG carries no date and a fixed hash salt, so the same figure gives the same
    file."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    import matplotlib

    paths = []
    for ext in ("png", "svg"):
        path = stem.with_name(f"{stem.name}.{ext}")
        meta = {"Date": None} if ext == "svg" else {"Software": None}
        with atomic_path(path) as tmp, matplotlib.rc_context({"svg.hashsalt": "nri"}):
            fig.savefig(tmp, format=ext, dpi=150, metadata=meta)
        paths.append(path)
    return paths


def fig5(
    truth: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    start: int,
    feature: int = 1,
    feature_name: str = "sin(phase)",
    title: str = "",
) -> Figure:
    """Predicted and true trajectories of one sample (the paper's Fig. 5: LSTM,
    ground truth, NRI-MPM on Kuramoto 5).

    Args:
        truth: ``[N, L, F]`` the whole ground-truth trajectory.
        predictions: panel title -> ``[N, H, F]`` predictions of frames
            ``start .. start + H - 1``; panels are ordered predictions first, then the
            truth in the middle when there are two (as in the paper).
        start: first predicted frame.
        feature: which feature to plot.
    """
    n, length, _ = truth.shape
    names = list(predictions)
    panels: list[tuple[str, np.ndarray | None]] = [(k, predictions[k]) for k in names]
    panels.insert(min(1, len(panels)), ("ground truth", None))
    fig = _figure(4.0 * len(panels), 3.2)
    axes = fig.subplots(1, len(panels), sharey=True)
    axes = np.atleast_1d(axes)
    colors = [f"C{i % 10}" for i in range(n)]
    for ax, (name, pred) in zip(axes, panels, strict=True):
        for i in range(n):
            ax.plot(
                np.arange(start), truth[i, :start, feature], color=colors[i], lw=1.2
            )
            if pred is None:
                h = length - start
                seg = truth[i, start:, feature]
            else:
                h = pred.shape[1]
                seg = pred[i, :, feature]
            ax.plot(np.arange(start, start + h), seg, color=colors[i], lw=1.2,
                    ls="-" if pred is None else "--")  # fmt: skip
        ax.axvline(start - 0.5, color="0.5", lw=0.8, ls=":")
        ax.set_title(name)
        ax.set_xlabel("frame")
    axes[0].set_ylabel(f"{feature_name} (normalised)")
    if title:
        fig.suptitle(title)
    return fig


def fig6(
    seconds: Mapping[str, Mapping[str, tuple[float, float]]],
    title: str = "",
    ylabel: str = "seconds per training epoch",
) -> Figure:
    """Seconds per training epoch of each method (the paper's Fig. 6).

    Args:
        seconds: data set label -> method label -> (mean, std) over seeds (std may be
            NaN).
    """
    groups = list(seconds)
    methods = list(dict.fromkeys(m for g in groups for m in seconds[g]))
    fig = _figure(max(4.5, 1.6 * len(groups) * max(1, len(methods)) / 2), 3.4)
    ax = fig.subplots()
    width = 0.8 / max(1, len(methods))
    x = np.arange(len(groups))
    for j, m in enumerate(methods):
        vals = [seconds[g].get(m, (np.nan, np.nan)) for g in groups]
        mean = np.array([v[0] for v in vals], dtype=float)
        std = np.nan_to_num(np.array([v[1] for v in vals], dtype=float))
        err = std if np.any(std > 0) else None  # no bars from a single seed
        ax.bar(x + (j - (len(methods) - 1) / 2) * width, mean, width, yerr=err,
               label=m, color=f"C{j}", capsize=3)  # fmt: skip
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def fig7(
    truth: np.ndarray, predictions: Mapping[str, np.ndarray], title: str = ""
) -> Figure:
    """Predicted relation matrices next to the ground truth (the paper's Fig. 7).

    Args:
        truth: ``[N, N]`` labels 0/1, diagonal -1 (white).
        predictions: panel title -> ``[N, N]`` predicted labels, diagonal -1.
    """
    panels = [*predictions.items(), ("ground truth", truth)]
    fig = _figure(3.0 * len(panels), 3.2)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    cmap = ListedColormap(["white", "tab:red", "tab:green"])
    for ax, (name, mat) in zip(axes, panels, strict=True):
        mat = np.asarray(mat, dtype=float)
        ax.imshow(mat + 1, cmap=cmap, vmin=0, vmax=2, interpolation="nearest")
        acc = ""
        if mat is not truth:
            off = ~np.eye(mat.shape[0], dtype=bool)
            acc = f" ({100 * np.mean(mat[off] == np.asarray(truth)[off]):.0f} %)"
        ax.set_title(name + acc, fontsize=10)
        ax.set_xlabel("sender")
        ax.set_xticks(range(mat.shape[0]))
        ax.set_yticks(range(mat.shape[0]))
        ax.tick_params(labelsize=6)
    axes[0].set_ylabel("receiver")
    if title:
        fig.suptitle(title)
    return fig


def fig8(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], title: str = ""
) -> Figure:
    """MSE against the prediction step (the paper's Fig. 8).

    Args:
        curves: method label -> (mean ``[H]``, std ``[H]``) over seeds.
    """
    fig = _figure(5.5, 3.8)
    ax = fig.subplots()
    for j, (name, (mean, std)) in enumerate(curves.items()):
        mean, std = np.asarray(mean, float), np.nan_to_num(np.asarray(std, float))
        steps = np.arange(1, len(mean) + 1)
        ax.plot(steps, mean, label=name, color=f"C{j}", lw=1.4)
        if np.any(std > 0):
            lo = np.clip(mean - std, mean * 1e-3, None)
            ax.fill_between(steps, lo, mean + std, color=f"C{j}", alpha=0.15, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("prediction step M")
    ax.set_ylabel("MSE (normalised units)")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def fig9(
    lambdas: Sequence[float],
    accuracy: tuple[Sequence[float], Sequence[float]],
    asymmetry: tuple[Sequence[float], Sequence[float]],
    title: str = "",
) -> Figure:
    """Accuracy and asymmetry rate against the symmetric-prior weight lambda (the
    paper's Fig. 9); both in %, mean and std over seeds; log-scaled lambda axis
    (lambda = 0 is drawn at a tenth of the smallest positive value, labelled 0)."""
    lam = np.asarray(lambdas, dtype=float)
    pos = lam[lam > 0]
    zero_at = (pos.min() / 10) if pos.size else 1.0
    xs = np.where(lam > 0, lam, zero_at)
    fig = _figure(5.5, 3.8)
    ax = fig.subplots()
    ax2 = ax.twinx()
    for axis, (mean, std), color, name in (
        (ax, accuracy, "C0", "accuracy (%)"),
        (ax2, asymmetry, "C3", "asymmetry rate (%)"),
    ):
        axis.errorbar(xs, np.asarray(mean, float), yerr=np.nan_to_num(np.asarray(std, float)),
                      color=color, marker="o", capsize=3, label=name)  # fmt: skip
        axis.set_ylabel(name, color=color)
    handles = [*ax.get_legend_handles_labels()[0], *ax2.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, fontsize=8, loc="center right")
    ax.set_xscale("log")
    ax.set_xticks(xs, [("0" if v == 0 else f"{v:g}") for v in lam])
    ax.minorticks_off()
    ax.set_xlabel("lambda (weight of the symmetric prior)")
    if title:
        ax.set_title(title)
    return fig

"""Commands that bring results back to the user: ``nri infer``, ``nri forecast``,
``nri report``, and the ``--out`` checks they share with ``nri evaluate``.

Registered in :data:`nri.cli.COMMANDS`; handlers import the library lazily. ``--out``
is checked before any work (one line naming the path when it is a file, lies under one
or cannot be written) and a directory a failed command created is removed again.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nri.cli_args import int_at_least as _int_at_least
from nri.cli_user import _data_args

# ---------------------------------------------------------------------------- infer


@contextmanager
def _output_dir(path: Path) -> Iterator[Path]:
    """Check ``--out`` before the work (one line naming the path when it is a file or
    cannot be written); a directory this command created is removed again when the
    work fails, so a refused command leaves nothing behind."""
    from nri.atomic import make_out_dir

    created = make_out_dir(path)
    try:
        yield path
    except BaseException:
        if created and path.is_dir() and not any(path.iterdir()):
            path.rmdir()
        raise


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An OS error while writing the outputs as one line naming ``path`` (not the
    temporary file's name, not only an errno)."""
    import errno

    from nri.errors import OutputPathError

    codes = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EISDIR,
             errno.ENOTDIR, errno.EDQUOT)  # fmt: skip
    try:
        yield
    except OSError as err:
        if err.errno not in codes:
            raise
        raise OutputPathError(
            f"cannot write into {path}: {err.strerror or err}; give another --out"
        ) from None


def _add_infer(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "infer",
        help="infer the interaction graph of data with a trained run",
        description="Edge-type probabilities of every encoder window (W = "
        "model.n_timesteps frames; by default windows 0..W-1, W..2W-1, ... of every "
        "sample, so one long recording gives many graphs) and their mean. Writes "
        "edges.npz (per window), edges.json and edges.csv (mean graph, with the true "
        "edges when known) into --out (default RUN/infer).",
    )
    _data_args(p)
    p.add_argument(
        "--start",
        type=_int_at_least(0),
        default=None,
        help="read one window per sample, from this frame (default: every window)",
    )
    p.add_argument(
        "--stride",
        type=_int_at_least(1),
        default=None,
        help="frames between windows (default W: no overlap)",
    )
    p.add_argument(
        "--edges",
        type=Path,
        default=None,
        help="the true graph: an [N, N] .csv or .npy of labels indexed [receiver, "
        "sender] (0 none, 1 interaction, -1 unknown) to score the inferred graph",
    )
    p.add_argument(
        "--show", type=_int_at_least(0), default=10, help="edges printed (10)"
    )
    p.add_argument(
        "--aggregate",
        nargs="?",
        const="mean",
        default=None,
        choices=["mean", "logit"],
        help="one graph for data whose samples share it: pool every window's "
        "posterior (mean, or logit: the normalised geometric mean) and write "
        "graph.npy/.csv/.graphml ([N, N] P(interaction), [receiver, sender])",
    )
    p.set_defaults(func=_cmd_infer)


def _windows_line(result: Any) -> str:
    """What was read: windows, frames and what the printed graph is."""
    w = result.frames[1] - result.frames[0]
    starts = result.window_starts
    n_samples = len(set(result.window_sample.tolist()))
    return (
        f"inferred {result.probs.shape[1]} edges x {result.n_edge_types} types in "
        f"{result.n_windows} window(s) of {w} frames ({len(starts)} per sample, frames "
        f"{starts[0]}-{starts[-1] + w - 1}) of {n_samples} sample(s) of {result.source}"
    )


def _truth_line(m: dict[str, Any]) -> str:
    """The scores against the true edges, with the trivial baselines."""
    if "acc_interaction" in m:  # a skip_first run: type 0 means no interaction
        head = (
            f"accuracy (type 0 = no edge vs any interaction) {m['acc_interaction']:.3f}"
        )
    else:
        head = (
            f"accuracy (perm.-invariant, type -> label {m['perm_mapping']}) "
            f"{m['acc_perm']:.3f}"
        )
    auroc = m["auroc"]
    auc = "n/a" if auroc != auroc else f"{auroc:.3f}"
    return (
        f"against the true edges ({int(m['n_edges'])} labelled): {head}, AUROC {auc};"
        f" trivial baselines: all no-edge {m['acc_all_no_edge']:.3f}, all edge "
        f"{m['acc_all_edge']:.3f}"
    )


def _aggregate_line(result: Any, method: str) -> str:
    """What the one graph is and, with a shared truth, the benchmark's AUROCs."""
    line = f"one graph = the {method} pool of the {result.n_windows} windows"
    m = result.metrics()
    if m is not None and m.get("auroc_per_sample") is not None:

        def fmt(v: Any) -> str:
            return "n/a" if v is None or v != v else f"{v:.4f}"

        line += (
            f"; AUROC per window {fmt(m['auroc_per_sample'])}, of the pooled graph: "
            f"mean {fmt(m['auroc_aggregate'])}, logit {fmt(m['auroc_aggregate_logit'])}"
        )
    return line


def _cmd_infer(args: argparse.Namespace) -> int:
    import numpy as np

    from nri.exports import write_edges, write_graph
    from nri.infer import infer_edges

    with _output_dir(args.out or args.run / "infer") as out:
        result = infer_edges(
            args.run, args.data, split=args.split, start=args.start,
            stride=args.stride, allow_other_objects=args.any_objects,
            true_edges=args.edges,
        )  # fmt: skip
        if args.aggregate is not None and result.no_edge_type is None:
            raise ValueError(
                "--aggregate scores P(interaction), but this run's edge types have no "
                "fixed meaning (trained without model.skip_first; train with --set "
                "model.skip_first=true, as the springs/kuramoto presets do)"
            )
        with _writing(out):
            paths = write_edges(result, out)
            if args.aggregate is not None:
                paths.update(write_graph(result, out, args.aggregate))
    print(_windows_line(result))
    if args.aggregate is not None:
        print(_aggregate_line(result, args.aggregate))
    pool = args.aggregate or "mean"  # "mean over the windows" / "logit over ..."
    what = (
        f"the {pool} over the {result.n_windows} windows (per-window graphs: edges.npz)"
        if result.n_windows > 1
        else "the one window"
    )
    truth = result.true_graph()
    if result.no_edge_type is not None and args.show:
        score = result.edge_scores(method=pool)
        print(f"graph = {what}; most likely interactions (of {len(score)}):")
        for e in np.argsort(-score, kind="stable")[: args.show]:
            j, i = result.send[e], result.recv[e]
            known = ""
            if truth is not None:
                t = int(truth[0][e])
                known = "  true: " + ("?" if t < 0 else str(t))
            print(
                f"  {result.object_names[j]:>10s} -> {result.object_names[i]:<10s}"
                f" p = {score[e]:.3f}{known}"
            )
    else:
        print(f"graph = {what}")
    metrics = result.metrics()
    if metrics is not None:
        print(_truth_line(metrics))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


# ------------------------------------------------------------------------- forecast


def _add_forecast(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "forecast",
        help="forecast future trajectories of data with a trained run",
        description="Infer the graph from the W = model.n_timesteps frames before --at "
        "(default: the last W frames) of every sample and roll the decoder out for "
        "--steps frames from there, in the data's units; time stamps continue the "
        "data's time axis. Writes forecast.npz and forecast.csv into --out (default "
        "RUN/forecast).",
    )
    _data_args(p)
    p.add_argument("--steps", type=_int_at_least(1), required=True, help="frames ahead")
    p.add_argument(
        "--at",
        default=None,
        metavar="WHEN",
        help="first forecast frame: a time as written in the data's time column (an "
        "ISO stamp or a number), or a frame index for data without times (default: "
        "after the last frame)",
    )
    p.add_argument(
        "--graph",
        default="argmax",
        choices=["argmax", "sample", "probs"],
        help="edges used: the most likely type (argmax), one Gumbel sample, or the "
        "probabilities as soft weights",
    )
    p.set_defaults(func=_cmd_forecast)


def _cmd_forecast(args: argparse.Namespace) -> int:
    from nri.exports import write_forecast
    from nri.infer import forecast_trajectories

    with _output_dir(args.out or args.run / "forecast") as out:
        fc = forecast_trajectories(
            args.run, args.data, args.steps, split=args.split, graph_mode=args.graph,
            allow_other_objects=args.any_objects, at=args.at,
        )  # fmt: skip
        with _writing(out):
            paths = write_forecast(fc, out)
    s, n, k, f = fc.pred.shape
    w = fc.history.shape[2]
    labels = fc.time_labels()
    when = f", time {labels[0, 0]} .. {labels[0, -1]}" if fc.times is not None else ""
    print(
        f"forecast {k} frames ({fc.first_frame}..{fc.first_frame + k - 1}{when}) of "
        f"{s} sample(s) x {n} objects x {f} features from frames "
        f"{fc.first_frame - w}..{fc.first_frame - 1} of {fc.source}"
    )
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


# --------------------------------------------------------------------------- report


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a run",
        description="One HTML file (images embedded) with the config, the data summary, "
        "the metrics, training curves, MSE against horizon, true vs inferred edges, "
        "trajectories with the inferred graph and a forecast.",
    )
    p.add_argument("run", type=Path, help="run directory")
    p.add_argument(
        "--data", type=Path, default=None, help="data to show (the run's test split)"
    )
    p.add_argument("--out", type=Path, default=None, help="HTML file (RUN/report.html)")
    p.add_argument(
        "--sample", type=_int_at_least(0), default=0, help="sample plotted (0)"
    )
    p.set_defaults(func=_cmd_report)


def check_out_file(path: Path, example: str = "report.html") -> None:
    """``--out FILE``: one line naming the path when it is a directory, or when its
    directory is a file or cannot be written (nothing is created here)."""
    from nri.errors import OutputPathError

    if path.is_dir():
        raise OutputPathError(
            f"--out {path} is a directory; give a file name such as {path / example}"
        )
    for p in path.parents:
        if p.exists():
            if not p.is_dir():
                raise OutputPathError(
                    f"--out {path}: {p} is a file, so {path} cannot be written; give a "
                    "file in a directory"
                )
            if not os.access(p, os.W_OK | os.X_OK):
                raise OutputPathError(
                    f"--out {path}: the directory {p} is not writable; give a file in a "
                    "directory you can write to"
                )
            return


def _cmd_report(args: argparse.Namespace) -> int:
    from nri.report import write_report

    if args.out is not None:
        check_out_file(args.out)
    target = args.out or args.run / "report.html"
    with _writing(target.parent):
        path = write_report(args.run, args.data, args.out, sample=args.sample)
    print(f"report: {path.resolve()}")
    return 0

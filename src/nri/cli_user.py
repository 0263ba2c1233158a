"""Commands for own data: ``nri import``, ``nri candidates`` (``nri infer``, ``nri forecast`` and
``nri report`` are in :mod:`nri.cli_results`).

Registered in :data:`nri.cli.COMMANDS`; handlers import the library lazily, and bad
input reaches the user as one line (the CLI prints ``ValueError`` messages).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from nri.cli_args import fraction as _fraction
from nri.cli_args import int_at_least as _int_at_least


def _groups(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated group numbers such as 0,0,1,1, got {text!r}"
        ) from None


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", type=Path, help="run directory (nri train)")
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help=".npz, .npy or .csv file, or a data set directory (see --split)",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["train", "valid", "test"],
        help="split read from a data set directory (test)",
    )
    p.add_argument("--out", type=Path, default=None, help="output directory")
    p.add_argument(
        "--any-objects",
        action="store_true",
        help="accept a number of objects other than the training data's",
    )


# --------------------------------------------------------------------------- import


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="turn own data (.npz/.npy/.csv, NRI layout) into a data set for nri train",
        description="Read multi-object time series [samples, objects, time, features] "
        "from an .npz/.npy array, a long-format CSV (columns sample, time, object, then "
        "features) or a data set directory, split the samples into train/valid/test and "
        "write feat_{split}_{name}.npy (+ edges_...) and meta_{name}.json into --out. "
        "See docs/own-data.md.",
    )
    p.add_argument("file", type=Path, help="the data (.npz, .npy, .csv or a directory)")
    p.add_argument("--out", type=Path, required=True, help="output data directory")
    p.add_argument("--name", default=None, help="data set name (the file's stem)")
    given = "; refused for a directory or a --format with its own splits"
    p.add_argument("--valid-frac", type=_fraction, default=None, help="(0.1)" + given)
    p.add_argument("--test-frac", type=_fraction, default=None, help="(0.1)" + given)
    p.add_argument("--seed", type=int, default=None, help="split seed (0)" + given)
    p.add_argument(
        "--window",
        type=_int_at_least(2),
        default=None,
        help="cut every sample (e.g. one long recording) into windows of this many "
        "frames before splitting",
    )
    p.add_argument(
        "--stride", type=_int_at_least(1), default=None, help="window step (= --window)"
    )
    p.add_argument(
        "--split-by",
        choices=["recording", "time", "window"],
        default=None,
        help="with --window (or --on-gap cut): keep all windows (pieces) of one "
        "recording (sample) in one split (default for 3 or more recordings), split "
        "every recording in time: its first windows train, its last ones test, "
        "windows sharing frames across splits dropped (default for 1 or 2), or "
        "split the windows at random (neighbouring windows then land in train and "
        "test: scores overstate accuracy on new data)",
    )
    p.add_argument(
        "--norm-groups",
        type=_groups,
        default=None,
        help="features sharing one min/max, e.g. 0,0,1,1 for x,y,vx,vy (default: "
        "one per feature)",
    )
    p.add_argument(
        "--x-key", default=None, help="array name of the trajectories (.npz)"
    )
    p.add_argument(
        "--on-gap",
        choices=["cut", "drop"],
        default=None,
        help="CSV samples whose time stamps are not equally spaced (a missing time "
        "stamp): cut them at the gaps into pieces, or drop them (default: refuse)",
    )
    p.add_argument(
        "--edge-threshold",
        type=float,
        default=None,
        metavar="T",
        help="edges are weights: weight > T is an interaction (1), else 0 (default: "
        "edges must be labels 0..K-1, -1 unknown)",
    )
    p.add_argument(
        "--edge-types",
        type=_int_at_least(2),
        default=None,
        metavar="K",
        help="the edges are labels of K edge types (0 none, 1..K-1 types); without "
        "it labels above 1 are said in a notice (counts or weights are no types)",
    )
    p.add_argument(
        "--edges",
        type=Path,
        default=None,
        metavar="TRUTH",
        help="the true graph of every sample: an [N, N] .npy or .csv indexed "
        "[receiver, sender] (a CSV may name rows by its first column and columns by "
        "its header, in any order); for data without edges, e.g. a CSV",
    )
    p.add_argument(
        "--suffix", default=None, help="which data set of a directory with several"
    )
    p.add_argument(
        "--format",
        dest="data_format",
        default=None,
        metavar="NAME",
        help="an external data format instead of the file's extension (see "
        "docs/own-data.md; an unknown name lists the known ones)",
    )
    p.add_argument(
        "--format-option",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="a setting of the --format reader (repeatable)",
    )
    p.set_defaults(func=_cmd_import)


def _cmd_import(args: argparse.Namespace) -> int:
    import json

    from nri.data.custom import import_data, suggested_settings
    from nri.data.dataset import load_dataset
    from nri.data.formats import parse_options
    from nri.sim.io import SPLITS

    meta = import_data(
        args.file, args.out, name=args.name, valid_frac=args.valid_frac,
        test_frac=args.test_frac, seed=args.seed, window=args.window,
        stride=args.stride, feature_groups=args.norm_groups, x_key=args.x_key,
        suffix=args.suffix, on_gap=args.on_gap, edge_threshold=args.edge_threshold,
        edges=args.edges, data_format=args.data_format, n_edge_types=args.edge_types,
        format_options=parse_options(args.format_option), split_by=args.split_by,
    )  # fmt: skip
    name = meta.name[len("meta_") : -len(".json")]
    data = load_dataset(args.out, name)
    print(f"wrote {meta}")
    print(data.summary())
    how = json.loads(meta.read_text()).get("import", {})
    if "n_recordings" in how:
        counts = " / ".join(str(how["n_recordings"][s]) for s in SPLITS)
        print(f"split by recording: {counts} recordings in train / valid / test "
              "(--split-by window splits the samples themselves at random)")  # fmt: skip
    if "n_windows" in how:
        counts = " / ".join(str(how["n_windows"][s]) for s in SPLITS)
        what = "windows" if args.window is not None else "pieces"
        print(f"split in time: {counts} {what} in train / valid / test, "
              f"{how['n_dropped']} dropped that would share frames across splits")  # fmt: skip
    settings = suggested_settings(int(data.train.x.shape[2]), int(data.test.x.shape[2]))
    sets = [f"data.suffix={name}", "model.skip_first=true",
            f"model.n_features={data.n_features}"]  # fmt: skip
    sets += [f"model.{k}={v}" for k, v in settings.items()]
    k = json.loads(meta.read_text()).get("n_edge_types")
    if k is not None and k > 2:
        sets.append(f"model.n_edge_types={k}")  # type 0 = no interaction
    print("train a model on it (CPU, minutes):")
    words = ["nri", "train", "--preset", "cpu", "--data", str(args.out),
             "--out", f"runs/{name}"]  # fmt: skip
    for text in sets:
        words += ["--set", text]
    print("  " + shlex.join(words))  # quoted: paths with spaces paste into a shell
    return 0


# ----------------------------------------------------------------------- candidates


def _add_candidates(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "candidates",
        help="one candidate graph for a data set from a linear interaction score "
        "(for model.candidates=FILE)",
        description="Score every ordered pair by a ridge regression of each object's "
        "change of state on the others' states relative to it, pooled over a split "
        "(nri.linear_candidates), keep the K best senders of every receiver and write "
        "the [N, N] 0/1 matrix [receiver, sender] for model.candidates=FILE. For data "
        "whose samples share one graph. See docs/scale.md.",
    )
    p.add_argument("data", type=Path, help="data set directory")
    p.add_argument("--suffix", default=None, help="which data set, e.g. springs50")
    p.add_argument(
        "--k", type=_int_at_least(1), required=True, help="senders per receiver"
    )
    p.add_argument("--out", type=Path, required=True, help="the graph: .npy or .csv")
    p.add_argument(
        "--split", default="train", choices=["train", "valid", "test"], help="(train)"
    )
    p.add_argument("--ridge", type=float, default=1e-3, help="relative penalty (1e-3)")
    p.add_argument(
        "--scores", type=Path, default=None, help="also write the [N, N] scores (.npy)"
    )
    p.set_defaults(func=_cmd_candidates)


def _cmd_candidates(args: argparse.Namespace) -> int:
    from nri.linear_candidates import write_candidates

    print(write_candidates(args.data, args.k, args.out, suffix=args.suffix,
                           split=args.split, ridge=args.ridge, scores=args.scores))  # fmt: skip
    return 0

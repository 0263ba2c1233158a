"""The ``nri`` command line: parses arguments and calls the library.

Every command turns expected failures (bad input, missing or corrupt files) into one line
on stderr and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from nri import cli_experiment, cli_results, cli_train, cli_user, progress
from nri.cli_args import nonneg_float, positive_int
from nri.errors import DataNotice, TrainingStopped

EXIT_USER_ERROR = 2
EXIT_SIGTERM = 143  # 128 + SIGTERM, what a shell reports for a job killed by it


# --------------------------------------------------------------------------------------
# nri simulate


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a data set (springs, charged, kuramoto; netsims on a given "
        "graph) in the original NRI layout",
        description="Simulate train/valid/test splits and write them in the original NRI "
        "file layout (loc_train_springs5.npy, ...) plus meta_<suffix>.json.",
    )
    p.add_argument("system", choices=["springs", "charged", "kuramoto", "netsims"])
    p.add_argument(
        "--objects",
        type=positive_int,
        default=None,
        help="number of objects (5; a --graph file gives its own)",
    )
    p.add_argument(
        "--train", type=positive_int, default=50_000, help="training sims (50000)"
    )
    p.add_argument(
        "--valid", type=positive_int, default=10_000, help="validation sims (10000)"
    )
    p.add_argument(
        "--test", type=positive_int, default=10_000, help="test sims (10000)"
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (42)")
    p.add_argument(
        "--out", type=Path, default=Path("data"), help="output directory (data)"
    )
    p.add_argument(
        "--length",
        type=positive_int,
        default=5000,
        help="integration steps of train/valid simulations (5000 -> 49 frames; particles)",
    )
    p.add_argument(
        "--length-test",
        type=positive_int,
        default=10000,
        help="integration steps of test simulations (10000 -> 99 frames; particles)",
    )
    p.add_argument(
        "--sample-freq",
        type=positive_int,
        default=100,
        help="steps between stored frames (100; particles)",
    )
    p.add_argument(
        "--frames",
        type=positive_int,
        default=49,
        help="train/valid frames (Kuramoto: 49)",
    )
    p.add_argument(
        "--frames-test",
        type=positive_int,
        default=99,
        help="test frames (Kuramoto: 99)",
    )
    p.add_argument(
        "--noise", type=nonneg_float, default=0.0, help="observation noise std"
    )
    p.add_argument(
        "--interaction-strength",
        type=float,
        default=None,
        help="spring constant / Coulomb constant / Kuramoto coupling / NetSim edge weight "
        "(system default)",
    )
    p.add_argument(
        "--edge-prob",
        type=float,
        default=0.5,
        help="probability of an interaction (charged: of a +1 charge) (0.5)",
    )
    p.add_argument(
        "--reference",
        action="store_true",
        help="reproduce the original NRI generator bit for bit (slower; particles only)",
    )
    p.add_argument(
        "--graph",
        default=None,
        metavar="SPEC",
        help="one graph for every simulation (springs, netsims): an [N, N] 0/1 .npy/.csv "
        "indexed [receiver, sender], or er:p=0.2, ba:m=2, ws:k=4,p=0.1, "
        "sbm:sizes=5+5,p_in=0.5,p_out=0.05 (networkx, seeded; docs/structinfer.md)",
    )
    p.add_argument(
        "--graph-seed",
        type=int,
        default=None,
        help="seed of --graph's generator (--seed)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from nri.sim.graphs import make_graph
    from nri.sim.io import DatasetConfig, write_dataset

    graph = None
    if args.graph is not None:
        seed = args.seed if args.graph_seed is None else args.graph_seed
        is_file = args.graph.endswith((".npy", ".csv")) or Path(args.graph).exists()
        adj = make_graph(
            args.graph, args.objects if is_file else args.objects or 5, seed
        )
        args.objects = adj.shape[0]
        graph = tuple(tuple(float(v) for v in row) for row in adj)
    elif args.graph_seed is not None:
        raise ValueError("--graph-seed needs --graph")
    args.objects = args.objects or 5
    cfg = DatasetConfig(
        system=args.system,
        n_objects=args.objects,
        n_train=args.train,
        n_valid=args.valid,
        n_test=args.test,
        length=args.length,
        length_test=args.length_test,
        frames=args.frames,
        frames_test=args.frames_test,
        sample_freq=args.sample_freq,
        noise_std=args.noise,
        interaction_strength=args.interaction_strength,
        edge_prob=args.edge_prob,
        seed=args.seed,
        reference=args.reference,
        graph=graph,
        graph_source=args.graph,
    )
    for split in ("train", "test"):
        cfg.n_frames(split)  # validates length / sample_freq before any work
    if cfg.system == "netsims":
        from nri.sim.netsims import growth_rate

        rate = growth_rate(cfg.system_config(), cfg.graph_array())  # type: ignore[arg-type]
        if rate > 0:
            print(
                f"nri: notice: on this graph the NetSim states grow like exp({rate:.3g} t) "
                "(as in the benchmark's files); --interaction-strength below 1 / the "
                "largest eigenvalue of the graph gives decaying data",
                file=sys.stderr,
            )
    total = args.train + args.valid + args.test
    start = time.perf_counter()
    with tqdm(
        total=total, unit="sim", desc=f"simulate {cfg.suffix}", disable=args.quiet
    ) as bar:
        meta = write_dataset(cfg, args.out, progress=bar.update)
    seconds = time.perf_counter() - start
    print(
        f"wrote {cfg.suffix}: {args.train}/{args.valid}/{args.test} simulations to "
        f"{args.out} in {seconds:.1f} s ({total / seconds:.0f} sims/s); metadata {meta}"
    )
    return 0


# --------------------------------------------------------------------------------------
# nri data


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="check a data set and print its summary",
        description="Load a data set (ours or the original NRI files), validate every "
        "file and print shapes, label fractions and the normaliser.",
    )
    p.add_argument("path", type=Path, help="directory holding the data set")
    p.add_argument("--suffix", default=None, help="which data set, e.g. springs5")
    p.set_defaults(func=_cmd_data)


def _cmd_data(args: argparse.Namespace) -> int:
    from nri.data.dataset import load_dataset

    print(load_dataset(args.path, args.suffix).summary())
    return 0


# --------------------------------------------------------------------------------------
# nri demo


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="simulate a small springs5 set, train NRI on the CPU, evaluate"
    )
    p.add_argument("--out", type=Path, default=Path("demo"), help="output directory")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--epochs", type=positive_int, default=20)
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from nri.demo import run_demo

    run_demo(args.out, seed=args.seed, epochs=args.epochs)
    return 0


# --------------------------------------------------------------------------------------


COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_simulate,
    _add_data,
    cli_train._add_train,
    cli_train._add_evaluate,
    _add_demo,
    cli_user._add_import,
    cli_user._add_candidates,
    cli_results._add_infer,
    cli_results._add_forecast,
    cli_results._add_report,
    cli_experiment._add_experiment,
)


def build_parser() -> argparse.ArgumentParser:
    from nri import __version__

    parser = argparse.ArgumentParser(
        prog="nri",
        description="Neural relational inference: simulate, train, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"nri {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def _show_notices(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001, ANN202
    """Data notices (a dropped index column, samples cut at gaps) as one line each."""
    if issubclass(category, DataNotice):
        print(f"nri: notice: {message}", file=sys.stderr)
    else:
        _SHOW_WARNING(message, category, filename, lineno, file, line)


_SHOW_WARNING = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(), progress.report_to(sys.stderr):
            warnings.simplefilter("always", DataNotice)
            warnings.showwarning = _show_notices
            with progress.for_command(args.command, **vars(args)):  # stderr lines
                return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("nri: interrupted", file=sys.stderr)
        return 130
    except TrainingStopped as err:
        print(f"nri: stopped: {err}", file=sys.stderr)
        return EXIT_SIGTERM
    except (ValueError, TypeError, FileNotFoundError, OSError,
            FloatingPointError) as err:  # fmt: skip
        if args.debug:
            raise
        name = "" if isinstance(err, ValueError) else f"{type(err).__name__}: "
        print(f"nri: error: {name}{err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())

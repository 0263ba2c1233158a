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

from nri import cli_experiment, cli_results, cli_user, progress
from nri.cli_args import nonneg_float, positive_int
from nri.config import preset_names
from nri.errors import DataNotice, TrainingStopped

EXIT_USER_ERROR = 2
EXIT_SIGTERM = 143  # 128 + SIGTERM, what a shell reports for a job killed by it


class UserError(Exception):
    """An error the user can fix; printed as one line."""


# --------------------------------------------------------------------------------------
# nri simulate


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a data set (springs, charged, kuramoto) in the original NRI layout",
        description="Simulate train/valid/test splits and write them in the original NRI "
        "file layout (loc_train_springs5.npy, ...) plus meta_<suffix>.json.",
    )
    p.add_argument("system", choices=["springs", "charged", "kuramoto"])
    p.add_argument(
        "--objects", type=positive_int, default=5, help="number of objects (5)"
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
        help="spring constant / Coulomb constant / Kuramoto coupling (system default)",
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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from nri.sim.io import DatasetConfig, write_dataset

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
    )
    for split in ("train", "test"):
        cfg.n_frames(split)  # validates length / sample_freq before any work
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
# nri train / evaluate


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model (NRI) on a data set",
        description="Train a model into a run directory (config, normaliser, best and last "
        "checkpoints, CSV and TensorBoard logs), then evaluate the best checkpoint.",
    )
    p.add_argument(
        "--preset",
        action="append",
        default=[],
        help="preset name or YAML file; repeat to combine (e.g. springs5 then cpu). "
        f"Presets: {', '.join(preset_names())}",
    )
    p.add_argument("--data", type=Path, default=None, help="data set directory")
    p.add_argument(
        "--out", type=Path, default=None, help="run directory (runs/<suffix>)"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. train.epochs=20 or model.skip_first=true",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--epochs", type=positive_int, default=None, help="= train.epochs")
    p.add_argument("--seed", type=int, default=None, help="= train.seed")
    p.add_argument(
        "--accelerator", default=None, help="cpu, gpu, auto (= train.accelerator)"
    )
    p.add_argument(
        "--devices", default=None, help="device count or list (= train.devices)"
    )
    p.add_argument("--precision", default=None, help="32-true, bf16-mixed, ...")
    p.add_argument("--strategy", default=None, help="auto, ddp, ddp_spawn, ...")
    p.add_argument("--num-nodes", type=positive_int, default=None)
    p.add_argument("--no-eval", action="store_true", help="skip the test evaluation")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    from nri.config import resolve
    from nri.evaluate import evaluate_run, format_metrics
    from nri.training.fit import fit

    overrides = list(args.overrides)
    for flag, key in (("epochs", "train.epochs"), ("seed", "train.seed"),
                      ("accelerator", "train.accelerator"), ("devices", "train.devices"),
                      ("precision", "train.precision"), ("strategy", "train.strategy"),
                      ("num_nodes", "train.num_nodes")):  # fmt: skip
        value = getattr(args, flag)
        if value is not None:
            overrides.append(
                f"{key}={value}" if flag != "devices" else f"{key}='{value}'"
            )
    if args.data is not None:  # resolved: the run works from any directory
        overrides.append(f"data.path='{args.data.resolve()}'")
    config = resolve(args.preset or ["springs5"], overrides)
    out = args.out or Path("runs") / (config.data.suffix or "run")
    result = fit(config, out, resume=args.resume)
    if not result.is_global_zero:
        return 0  # a DDP worker process: rank 0 reports and evaluates
    print(
        f"trained in {result.seconds:.1f} s; best {result.monitor} {result.best_score:.4g}"
    )
    print(f"run directory: {result.run_dir}")
    if not args.no_eval:  # batches sized from the run (nri.evaluate.eval_batch_size)
        print(format_metrics(evaluate_run(result.run_dir)))
    return 0


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a trained run with the papers' test protocol",
        description="Encoder on frames 0..W-1 of every sample (W = the run's "
        "model.n_timesteps; 49 for the papers' presets), a hard Gumbel graph, then a "
        "rollout of H = model.test_horizon frames (20) from frame W; needs W + 1 + H "
        "frames per sample. Raw and permutation-invariant accuracy (skip_first runs: "
        "type 0 stays 'no interaction'), AUROC, asymmetry, MSE per horizon in "
        "normalised units. Writes RUN/metrics.json.",
    )
    p.add_argument("run", type=Path, help="run directory")
    p.add_argument(
        "--data", type=Path, default=None, help="data directory (default: the run's)"
    )
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--checkpoint", default="best", help="best, last or a .ckpt path")
    p.add_argument("--eval-seed", type=int, default=None)
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="samples per evaluation batch (default: the run's batch size, scaled by "
        "the number of edges; lower it when memory runs out)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="metrics JSON file to write (default RUN/metrics.json)",
    )
    p.add_argument(
        "--any-objects",
        "--allow-other-objects",
        dest="allow_other_objects",
        action="store_true",
        help="evaluate on data with other objects (another number, or other names: "
        "taken by position) than the training data",
    )
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from nri.atomic import write_text_atomic
    from nri.cli_results import check_out_file
    from nri.evaluate import evaluate_run, format_metrics

    target = args.out or args.run / "metrics.json"
    if args.out is not None or args.run.is_dir():
        check_out_file(target, "metrics.json")
    metrics = evaluate_run(
        args.run, args.data, split=args.split, checkpoint=args.checkpoint,
        eval_seed=args.eval_seed, batch_size=args.batch_size,
        allow_other_objects=args.allow_other_objects, write=False,
    )  # fmt: skip
    from nri.metrics import json_text

    try:
        write_text_atomic(target, json_text(metrics))
    except OSError as err:
        raise UserError(f"cannot write {target}: {err.strerror or err}") from None
    print(format_metrics(metrics))
    print(f"wrote {target}")
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
    _add_train,
    _add_evaluate,
    _add_demo,
    cli_user._add_import,
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
    except (UserError, ValueError, TypeError, FileNotFoundError, OSError,
            FloatingPointError) as err:  # fmt: skip
        if args.debug:
            raise
        name = (
            "" if isinstance(err, UserError | ValueError) else f"{type(err).__name__}: "
        )
        print(f"nri: error: {name}{err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())

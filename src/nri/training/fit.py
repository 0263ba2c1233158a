"""``fit``: train a model into a self-describing run directory; ``load_run`` rebuilds it.

Run directory::

    RUN/config.yaml          resolved configuration (model, train, data)
    RUN/normalizer.json      the training normalisation (to invert predictions)
    RUN/data.json            what the model was trained on (objects, features, splits)
    RUN/checkpoints/best.ckpt   best on the model's selection metric (NRI: validation NLL)
    RUN/checkpoints/last.ckpt   end of the latest epoch (for --resume)
    RUN/logs/metrics.csv     CSV log;  RUN/tb/  TensorBoard log
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import lightning as L
import torch
import yaml
from lightning.pytorch.trainer.setup import _log_device_info
from lightning.pytorch.utilities.exceptions import (
    SIGTERMException,
)

from nri.atomic import check_out_dir, write_text_atomic
from nri.baselines.base import ClosedFormModel
from nri.config import ConfigError, RunConfig
from nri.data.dataset import LoadedData, Split, check_finite_splits, load_dataset
from nri.data.files import split_fingerprint
from nri.errors import DataNotice, TrainingStopped
from nri.eval_batch import REF_OBJECTS, resolve_eval_batch
from nri.models import candidates
from nri.registry import MODELS
from nri.sim.io import SPLITS
from nri.training.checkpoint import (
    atomic_torch_save,
    safe_load,
)
from nri.training.compat import box_symmetry, check_compatible, check_labels
from nri.training.datamodule import NRIDataModule
from nri.training.distributed import check_world, is_global_zero_process
from nri.training.hardware import resolve_precision
from nri.training.logs import truncate_metrics
from nri.training.module import NRILightning
from nri.training.run_dir import LoadedRun, RunError, load_run, read_run_config
from nri.training.schedule import anneal_of
from nri.training.trainer import make_trainer

# load_run and friends live in run_dir.py; importing them from here stays supported
__all__ = [
    "FitResult", "LoadedRun", "RunError", "check_compatible", "check_labels", "fit",
    "launcher_is_rank_zero", "load_run", "read_run_config",
]  # fmt: skip


def launcher_is_rank_zero() -> bool:
    """False in every process but global rank 0: the workers that Lightning's DDP
    launcher starts (they re-run the command with LOCAL_RANK > 0), the other nodes,
    and ranks > 0 under torchrun or SLURM (:func:`is_global_zero_process`)."""
    return is_global_zero_process()


class FitResult(NamedTuple):
    run_dir: Path
    best_checkpoint: Path
    last_checkpoint: Path
    best_score: float  # best value of the selection metric
    seconds: float
    is_global_zero: bool = True  # False in DDP worker processes
    monitor: str = "val/nll"  # the selection metric


def fit(
    config: RunConfig,
    run_dir: str | Path,
    data: LoadedData | str | Path | None = None,
    resume: bool = False,
    callbacks: list[Any] | None = None,
) -> FitResult:
    """Train ``config`` into ``run_dir``; with ``resume`` continue from ``last.ckpt``.

    Args:
        config: the resolved run configuration. ``config.data.path`` is used when
            ``data`` is None.
        run_dir: output directory; must not already hold a run unless ``resume``.
        data: a loaded data set or its directory.
        resume: continue the run in ``run_dir`` from its last checkpoint (the saved
            config must equal ``config`` except for ``train.epochs`` and devices); a
            run killed before its first checkpoint, or an empty ``run_dir``, starts
            from the beginning, so a scheduler can always pass ``resume=True``.
        callbacks: extra Lightning callbacks.
    """
    run_dir = Path(run_dir)
    t = config.train  # precision "auto" becomes this machine's choice, saved as such
    t = dataclasses.replace(t, precision=resolve_precision(t.precision, t.accelerator))
    config = dataclasses.replace(config, train=t)
    rank_zero = launcher_is_rank_zero()
    if rank_zero:
        check_out_dir(run_dir)  # a file there: one line now, not an Errno at the end
    if not rank_zero:
        pass  # DDP worker: the launcher (rank 0) has checked and written the run dir
    elif resume and not (run_dir / "config.yaml").exists():
        resume = False  # nothing to resume (killed before it began): start afresh
    elif resume:
        _check_resume_config(run_dir, config)
    elif (run_dir / "config.yaml").exists() and _has_checkpoint(run_dir):
        raise RunError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )

    if data is None:
        if config.data.path is None:
            raise ConfigError("no data given: pass --data DIR")
        data = config.data.path
    if not isinstance(data, LoadedData):
        data = load_dataset(data, config.data.suffix)  # checks finiteness itself
    else:
        check_finite_splits(data)  # data built in Python
    config = dataclasses.replace(
        config,
        data=dataclasses.replace(
            config.data, path=_resolved(data.source), suffix=data.suffix
        ),
    )
    check_compatible(config, data)
    if rank_zero and not resume:
        _notice_candidate_recall(config, data)

    t = config.train
    if t.threads is not None:
        torch.set_num_threads(t.threads)
    L.seed_everything(t.seed, workers=True, verbose=False)  # the only global seeding

    fresh = rank_zero and not resume
    created = not run_dir.exists()
    try:
        return _start(config, run_dir, data, resume, callbacks, rank_zero)
    except BaseException:
        if fresh:  # a run that never wrote a checkpoint must not block a rerun
            _forget_unstarted(run_dir, created)
        raise


def _notice_candidate_recall(config: RunConfig, data: LoadedData) -> None:
    """A :class:`~nri.errors.DataNotice` with the candidates' recall of the true
    edges of the training split (model.candidates other than all, true edges
    known): a true edge outside the candidates can never be found."""
    mc = config.model_config
    split = data.splits.get("train")
    if split is None or not candidates.active(mc):
        return
    frames = getattr(mc, "n_timesteps", None) or split.x.shape[2]
    cov = candidates.coverage(mc, split.x[:, :, :frames], split.edges)
    if cov is not None:
        warnings.warn(
            candidates.coverage_notice(mc, cov, "the training split"),
            DataNotice,
            stacklevel=3,
        )


def _has_checkpoint(run_dir: Path) -> bool:
    return any((run_dir / "checkpoints").glob("*.ckpt"))


def _forget_unstarted(run_dir: Path, created: bool) -> None:
    """Remove what a run that failed before its first checkpoint wrote (config,
    normaliser, logs), and ``run_dir`` itself when this run created it."""
    if _has_checkpoint(run_dir):
        return
    for name in ("config.yaml", "normalizer.json", "data.json"):
        (run_dir / name).unlink(missing_ok=True)
    for name in ("logs", "tb", "checkpoints"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
    if created and run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()


def _start(
    config: RunConfig,
    run_dir: Path,
    data: LoadedData,
    resume: bool,
    callbacks: list[Any] | None,
    rank_zero: bool,
) -> FitResult:
    """The part of :func:`fit` that writes into ``run_dir`` and trains."""
    t = config.train
    last = run_dir / "checkpoints" / "last.ckpt"
    if rank_zero:
        run_dir.mkdir(parents=True, exist_ok=True)
    if not resume and rank_zero:
        write_text_atomic(
            run_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False)
        )
        write_text_atomic(
            run_dir / "normalizer.json", json.dumps(data.normalizer.to_dict(), indent=2)
        )
        info = {**data.describe(), "fingerprints": _fingerprints(data)}
        write_text_atomic(run_dir / "data.json", json.dumps(info, indent=2) + "\n")

    if issubclass(MODELS[config.model][0], ClosedFormModel):
        if not rank_zero:  # torchrun / srun started this one too: rank 0 fits
            last = run_dir / "checkpoints" / "last.ckpt"
            return FitResult(run_dir, last.with_name("best.ckpt"), last, math.nan,
                             0.0, False)  # fmt: skip
        return _fit_closed_form(config, run_dir, data)  # correlation, static: no SGD
    module = NRILightning(config.to_dict())
    module.use_labels = data.has_edges  # without true edges: no edge accuracy logs
    if t.augment == "box":
        module.augmentation = box_symmetry(data)
    frames = getattr(config.model_config, "n_timesteps", None)
    anneal = anneal_of(config)  # a growing batch: ConfigError before any training
    dm = NRIDataModule(
        data,
        batch_size=t.batch_size,
        shuffle=t.shuffle,
        seed=t.seed,
        n_train=t.n_train,
        n_valid=t.n_valid,
        num_workers=t.num_workers,
        n_frames=frames,
        val_batch_size=t.val_batch_size,
        max_val_batch=_max_val_batch(config, data),
        sample_index=getattr(module.model, "needs_sample_index", False),
        batch_of_epoch=anneal.batch_size if anneal.max_batch is not None else None,
    )
    # A run killed before its first checkpoint restarts from the beginning.
    ckpt_path = str(last) if resume and last.exists() else None
    if ckpt_path is not None and rank_zero:
        step = int(safe_load(last).get("global_step", 0))
        truncate_metrics(run_dir / "logs" / "metrics.csv", step)
    elif resume and rank_zero:
        truncate_metrics(run_dir / "logs" / "metrics.csv", 0)
    trainer = make_trainer(
        config, run_dir, callbacks or [], module.model.selection_metric()
    )
    check_world(  # before the DDP launcher starts any worker: one line, exit 2
        trainer.world_size,
        t.batch_size,
        len(dm._dataset("train", t.n_train)),
        len(dm._dataset("valid", t.n_valid)),
        dm.sample_index,
        config.model,
    )
    _log_device_info(trainer)  # "GPU available: ...", as Lightning prints it
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*could not find the monitored key.*")
        warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
        warnings.filterwarnings("ignore", ".*exists and is not empty.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*")
        # DDP: val/acc_perm, auroc, asym are computed from the gathered split
        warnings.filterwarnings("ignore", ".*on epoch level in distributed setting.*")
        try:
            trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path)
        except SIGTERMException:
            kept = (
                f"its last finished epoch is in {last}"
                if last.exists()
                else "no epoch had finished yet"
            )
            raise TrainingStopped(
                f"training stopped by SIGTERM; {kept}; run the same command with "
                "--resume to continue"
            ) from None
    seconds = time.perf_counter() - start
    best_cb = trainer.checkpoint_callback
    score = getattr(best_cb, "best_model_score", None)
    return FitResult(
        run_dir,
        run_dir / "checkpoints" / "best.ckpt",
        last,
        float(score) if score is not None else float("nan"),
        seconds,
        trainer.is_global_zero,
        module.model.selection_metric()[0],
    )


def _fit_closed_form(config: RunConfig, run_dir: Path, data: LoadedData) -> FitResult:
    """Fit a closed-form baseline (``ClosedFormModel.fit_splits``, no Lightning) and
    write what a trained run has: ``best.ckpt`` = ``last.ckpt`` (the same keys,
    ``weights_only``-loadable, written atomically) and one row of ``logs/metrics.csv``
    (no TensorBoard log). Deterministic, so ``--resume`` simply fits again."""
    start = time.perf_counter()
    module = NRILightning(config.to_dict())
    model = module.model
    assert isinstance(model, ClosedFormModel)
    t = config.train

    def first(split: Split, n: int | None) -> Split:
        return split if n is None else Split(split.x[:n], split.edges[:n])

    logs = model.fit_splits(first(data.train, t.n_train), first(data.valid, t.n_valid))
    ckpt = {
        "state_dict": module.state_dict(),
        "hyper_parameters": {"config": config.to_dict()},
        "epoch": 0,
        "global_step": 0,
        "nri_fit": dict(logs),
    }
    best, last = (run_dir / "checkpoints" / f"{n}.ckpt" for n in ("best", "last"))
    for path in (best, last):
        atomic_torch_save(ckpt, path)
    (run_dir / "logs").mkdir(exist_ok=True)
    header = ",".join(["epoch", "step", *logs])
    row = ",".join(["0", "0", *(repr(float(v)) for v in logs.values())])
    write_text_atomic(run_dir / "logs" / "metrics.csv", f"{header}\n{row}\n")
    monitor = model.selection_metric()[0]
    score = float(logs.get(monitor, float("nan")))
    return FitResult(
        run_dir, best, last, score, time.perf_counter() - start, True, monitor
    )


def _max_val_batch(config: RunConfig, data: LoadedData) -> int | None:
    """The bound on validation batches: the evaluation batch of N
    (:func:`nri.eval_batch.resolve_eval_batch`); None (no bound, as before) up to
    ``REF_OBJECTS`` objects with ``eval_batch_size: auto``."""
    n = int(data.train.x.shape[1])
    t = config.train
    if t.eval_batch_size == "auto" and n <= REF_OBJECTS:
        return None
    return resolve_eval_batch(t, config.model_config, n)


def _resolved(source: str) -> str:
    """A data path as an absolute path (a run directory then works from any working
    directory, issue 14 item 11); other sources (in-memory data) as they are."""
    return str(Path(source).resolve()) if source and Path(source).exists() else source


def _fingerprints(data: LoadedData) -> dict[str, str]:
    """``{split: fingerprint}`` of the data directory's files, for ``data.json``
    (empty for data built in memory); :func:`nri.data.files.split_fingerprint`."""
    prints = {
        split: split_fingerprint(data.source, data.suffix, split) for split in SPLITS
    }
    return {split: fp for split, fp in prints.items() if fp is not None}


def _check_resume_config(run_dir: Path, config: RunConfig) -> None:
    saved = read_run_config(run_dir)
    ignore = {"epochs", "accelerator", "devices", "strategy", "num_nodes", "num_workers",
              "threads", "progress_bar", "eval_batch_size", "eval_memory_gb"}  # fmt: skip
    a, b = saved.to_dict(), config.to_dict()
    for section in ("model", "train"):
        for key in sorted(set(a[section]) | set(b[section])):
            if section == "train" and key in ignore:
                continue
            if a[section].get(key) != b[section].get(key):
                raise RunError(
                    f"cannot resume {run_dir}: {section}.{key} was "
                    f"{a[section].get(key)!r}, now {b[section].get(key)!r}"
                )

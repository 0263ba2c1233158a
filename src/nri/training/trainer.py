"""The Lightning ``Trainer`` of :func:`nri.training.fit.fit`: checkpoints (best and
last), early stopping at a validation accuracy, CSV and TensorBoard logs, safe
checkpoint I/O, the configured accelerator, devices, strategy and precision; a
Trainer that cannot be set up (devices the machine lacks) is one ``ConfigError`` line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities.exceptions import MisconfigurationException

from nri.config import ConfigError, RunConfig
from nri.training.checkpoint import SafeCheckpointIO
from nri.training.logs import ResumableCSVLogger

__all__ = ["make_trainer"]


class _NoTips(logging.Filter):
    """Drop Lightning's advertising tips from the console."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("\U0001f4a1")


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_NoTips())


def make_trainer(
    config: RunConfig,
    run_dir: Path,
    extra_callbacks: list[Any],
    monitor: tuple[str, str],
) -> L.Trainer:
    t = config.train
    devices: Any = t.devices
    if isinstance(devices, str) and devices.isdigit():
        devices = int(devices)
    best = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best",
        monitor=monitor[0],
        mode=monitor[1],
        save_top_k=1,
        save_last=True,
        enable_version_counter=False,
    )
    stop = []
    if t.stop_at_val_acc is not None:
        stop = [
            EarlyStopping(
                monitor="val/acc_perm",
                mode="max",
                stopping_threshold=t.stop_at_val_acc,
                patience=t.epochs,
                check_on_train_epoch_end=False,
            )
        ]
    info = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    level = info.level
    info.setLevel(logging.WARNING)  # device lines: after check_world (one-line errors)
    try:
        return _lightning_trainer(t, devices, best, stop, extra_callbacks, run_dir)
    except (MisconfigurationException, TypeError) as err:  # e.g. 4 devices, 2 GPUs
        first = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
        raise ConfigError(
            f"cannot set up training on train.accelerator={t.accelerator!r}, "
            f"devices={t.devices!r}, strategy={t.strategy!r}: {first}"
        ) from None
    finally:
        info.setLevel(level)


def _lightning_trainer(
    t: Any,
    devices: Any,
    best: ModelCheckpoint,
    stop: list[Any],
    extra_callbacks: list[Any],
    run_dir: Path,
) -> L.Trainer:
    return L.Trainer(
        max_epochs=t.epochs,
        accelerator=t.accelerator,
        devices=devices,
        strategy=t.strategy,
        num_nodes=t.num_nodes,
        precision=t.precision,  # type: ignore[arg-type]
        callbacks=[best, *stop, *extra_callbacks],
        logger=[
            ResumableCSVLogger(run_dir, name="logs", version=""),
            TensorBoardLogger(run_dir, name="tb", version="", default_hp_metric=False),
        ],
        plugins=[SafeCheckpointIO()],
        gradient_clip_val=t.grad_clip,
        log_every_n_steps=t.log_every_n_steps,
        enable_progress_bar=t.progress_bar,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        deterministic="warn",  # GPU: warn (not fail) where no deterministic kernel exists
        default_root_dir=run_dir,
        use_distributed_sampler=False,  # the datamodule shards (global batch kept)
        # a growing batch (train.max_batch_size): a new training loader every epoch
        reload_dataloaders_every_n_epochs=0 if t.max_batch_size is None else 1,
    )

"""Reading a run directory written by :func:`nri.training.fit.fit`.

``read_run_config`` returns its resolved configuration; ``load_run`` rebuilds the trained
model with its normaliser from a checkpoint, checking that the checkpoint belongs to the
run. Both raise one-line errors (:class:`RunError`, ``CheckpointError``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import torch
import yaml

from nri.config import RunConfig, from_dict
from nri.data.normalize import Normalizer
from nri.training.checkpoint import CheckpointError, safe_load
from nri.training.module import NRILightning

__all__ = ["LoadedRun", "RunError", "load_run", "read_run_config", "run_data_path"]


class RunError(ValueError):
    """A run directory is missing, incomplete or does not match the request."""


def read_run_config(run_dir: str | Path) -> RunConfig:
    """The resolved configuration saved in a run directory."""
    path = Path(run_dir) / "config.yaml"
    if not Path(run_dir).is_dir():
        raise RunError(f"run directory {run_dir} does not exist")
    if not path.exists():
        raise RunError(f"{run_dir} is not a run directory (no config.yaml)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise RunError(f"cannot parse {path}: {str(err).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise RunError(f"{path} is not a run configuration")
    return from_dict(raw)


class LoadedRun(NamedTuple):
    config: RunConfig
    model: torch.nn.Module
    normalizer: Normalizer
    checkpoint: Path


def load_run(run_dir: str | Path, checkpoint: str = "best") -> LoadedRun:
    """Rebuild a trained model from its run directory (no command-line flags needed).

    Args:
        run_dir: the directory written by :func:`fit`.
        checkpoint: "best", "last", or a path to a ``.ckpt`` file.
    """
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    norm_path = run_dir / "normalizer.json"
    try:
        normalizer = Normalizer.from_dict(json.loads(norm_path.read_text()))
    except (OSError, json.JSONDecodeError, ValueError) as err:
        raise RunError(f"cannot read {norm_path}: {err}") from None
    ckpt_path = (
        run_dir / "checkpoints" / f"{checkpoint}.ckpt"
        if checkpoint in ("best", "last")
        else Path(checkpoint)
    )
    ckpt = safe_load(ckpt_path)
    saved = ckpt.get("hyper_parameters", {}).get("config")
    if not isinstance(saved, dict):
        raise CheckpointError(f"{ckpt_path} does not carry an nri run configuration")
    if saved.get("model", {}).get("name") != config.model:
        raise CheckpointError(
            f"{ckpt_path} holds a {saved.get('model', {}).get('name')!r} model but the run "
            f"{run_dir} is {config.model!r}"
        )
    module = NRILightning(config.to_dict())
    try:
        module.load_state_dict(ckpt["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(
            f"{ckpt_path} does not fit the model of {run_dir}: "
            f"{str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else err}"
        ) from None
    model = module.model.eval()
    return LoadedRun(config, model, normalizer, ckpt_path)


def run_data_path(run_dir: str | Path, config: RunConfig | None = None) -> Path:
    """The data a run was trained on, found from any working directory.

    ``nri train`` stores ``data.path`` resolved (absolute). A relative path (runs
    trained from Python with a relative path, or before paths were stored resolved) is
    tried against the working directory, then against the run directory and each of
    its parents (a project tree of ``data/`` and ``runs/NAME`` works from anywhere).

    Raises:
        RunError: no path recorded, or none of the tried paths exists (the message
            names them and the ``--data`` option).
    """
    run_dir = Path(run_dir)
    config = read_run_config(run_dir) if config is None else config
    if config.data.path is None:
        raise RunError(
            f"the run {run_dir} records no data path; give the data with --data PATH"
        )
    stored = Path(config.data.path)
    tried = [stored]
    if not stored.is_absolute():
        tried += [p / stored for p in (run_dir.resolve(), *run_dir.resolve().parents)]
    for path in tried:
        if path.exists():
            return path
    where = str(stored) if stored.is_absolute() else f"{stored} (from here and from "
    if not stored.is_absolute():
        where += f"{run_dir} and the directories above it)"
    raise RunError(
        f"the data of the run {run_dir} were not found at {where}; give them with "
        "--data PATH (a data directory or file with the features the run was trained "
        "on)"
    )

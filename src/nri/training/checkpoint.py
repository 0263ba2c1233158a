"""Checkpoints: atomic writes and safe loading (``weights_only=True``, never unpickling code)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import TorchCheckpointIO

from nri.atomic import atomic_path


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, unsafe or belongs to another model."""


def safe_load(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; one clear error for every failure.

    A file that would need to unpickle arbitrary objects (and so could run code) is
    refused, never executed.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        detail = _unpickler_detail(str(err))
        if "Unsupported global" in detail:
            raise CheckpointError(
                f"refusing to load {path}: it would import code to unpickle it "
                f"({detail[:160]}); only load checkpoints written by nri"
            ) from None
        raise CheckpointError(
            f"cannot read checkpoint {path}: not a valid checkpoint ({detail[:120]}); "
            "corrupt or truncated?"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        first = (
            str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        )
        raise CheckpointError(
            f"cannot read checkpoint {path}: {first[:200]} (corrupt or truncated?)"
        ) from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(
            f"{path} is not an nri/Lightning checkpoint (no state_dict)"
        )
    return ckpt


def _unpickler_detail(message: str) -> str:
    """The one informative line of torch's weights-only unpickling error."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if "WeightsUnpickler error:" in line:
            rest = line.split("WeightsUnpickler error:", 1)[1].strip()
            if not rest and i + 1 < len(lines):
                rest = lines[i + 1]
            return rest.split(". Please use")[0]
    return lines[0] if lines else "unpickling failed"


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temporary file in the same directory, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O: atomic saves, ``weights_only=True`` loads."""

    def save_checkpoint(
        self,
        checkpoint: dict[str, Any],
        path: _PATH,
        storage_options: Any | None = None,
    ) -> None:
        atomic_torch_save(checkpoint, Path(path))

    def load_checkpoint(
        self,
        path: _PATH,
        map_location: Any | None = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        return safe_load(Path(path), map_location or "cpu")

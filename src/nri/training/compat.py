"""Can this config train on these data? One line naming both when not (used by ``fit``
before anything is written, and by ``evaluate``)."""

from __future__ import annotations

import torch

from nri.config import ConfigError, RunConfig
from nri.data.augment import BoxSymmetry
from nri.data.dataset import LoadedData

__all__ = ["box_symmetry", "check_compatible", "check_labels"]


def check_labels(edges: torch.Tensor, n_edge_types: int | None, where: str) -> None:
    """Edge labels must be -1 (unknown) or a type ``0 .. K-1`` of the model."""
    if n_edge_types is None or edges.numel() == 0:
        return
    lo, hi = int(edges.min()), int(edges.max())
    if lo < -1 or hi >= n_edge_types:
        raise ConfigError(
            f"the edge labels of {where} range from {lo} to {hi} but the model has "
            f"model.n_edge_types={n_edge_types} (labels 0..{n_edge_types - 1}, -1 for "
            f"unknown); set model.n_edge_types={max(hi + 1, 2)} or fix the labels"
        )


def check_compatible(config: RunConfig, data: LoadedData) -> None:
    """The model's input sizes must match the data, and a model that needs edge labels
    needs data that have them (one line naming both)."""
    mc = config.model_config
    if data.n_objects < 2:
        raise ConfigError(
            f"the data have {data.n_objects} object per sample; relational inference "
            "needs at least 2"
        )
    n_objects = getattr(mc, "n_objects", None)  # models tied to N (the joint LSTM)
    if n_objects is not None and data.n_objects != n_objects:
        raise ConfigError(
            f"the data have {data.n_objects} objects per sample but the model is built "
            f"for {n_objects}; set model.n_objects={data.n_objects} or use the matching "
            "preset"
        )
    if data.n_features != mc.n_features:
        raise ConfigError(
            f"the data have {data.n_features} features per object but the model expects "
            f"{mc.n_features}; set model.n_features={data.n_features} or use the matching preset"
        )
    need = getattr(mc, "n_timesteps", 0)
    for split in ("train", "valid"):
        frames = int(data.splits[split].x.shape[2]) if split in data.splits else need
        if frames < need:
            raise ConfigError(
                f"{split} trajectories have {frames} frames but the encoder reads {need}; "
                f"set model.n_timesteps={frames} (or less) or give longer trajectories"
            )
    for split in ("train", "valid"):
        if split in data.splits:
            check_labels(
                data.splits[split].edges,
                getattr(mc, "n_edge_types", None),
                f"the {split} split",
            )
    if config.train.augment == "box":
        box_symmetry(data)  # refuses data without the box's symmetries
    if not data.has_edges:
        scheme = getattr(mc, "scheme", "vae")
        if scheme != "vae":
            raise ConfigError(
                f"model.scheme={scheme!r} learns from the true edges, but the data have "
                "none; use model.scheme=vae (unsupervised)"
            )
        if config.train.stop_at_val_acc is not None:
            raise ConfigError(
                "train.stop_at_val_acc needs true edges, but the data have none; "
                "set train.stop_at_val_acc=null"
            )


def box_symmetry(data: LoadedData) -> BoxSymmetry:
    """The box-symmetry augmentation for ``data`` (train.augment: box), or one line
    saying why the data do not have these symmetries."""
    if data.system not in ("springs", "charged"):
        raise ConfigError(
            f"train.augment=box needs springs or charged particles in a box centred on "
            f"0, but the data set {data.suffix!r} is {data.system!r}; set "
            "train.augment=none"
        )
    try:
        return BoxSymmetry.from_normalizer(data.normalizer)
    except ValueError as err:
        raise ConfigError(f"train.augment=box: {err}") from None

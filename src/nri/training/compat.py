"""Can this config train on these data? One line naming both when not (used by ``fit``
before anything is written, and by ``evaluate``)."""

from __future__ import annotations

import torch

from nri.config import ConfigError, RunConfig
from nri.data.augment import BoxSymmetry
from nri.data.dataset import DataError, LoadedData
from nri.models.candidates import check_candidates

__all__ = ["box_symmetry", "check_compatible", "check_labels", "check_lengths"]


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
    check_lengths(config, data)
    try:  # candidate edges: k < N - 1, a candidate file of N objects (docs/scale.md)
        check_candidates(mc, data.n_objects)
    except ValueError as err:
        raise ConfigError(str(err)) from None
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


def _frames(data: LoadedData, split: str) -> int | None:
    return int(data.splits[split].x.shape[2]) if split in data.splits else None


def check_lengths(config: RunConfig, data: LoadedData) -> None:
    """The model's lengths must fit the data before any training (issue 14 item 7):
    the encoder window ``n_timesteps`` <= the train and valid frames, the rollouts
    ``pred_steps`` and ``val_pred_steps`` <= ``n_timesteps - 1``, and the test
    protocol's ``n_timesteps + 1 + test_horizon`` <= the test frames (else the run
    would train fully and fail at its final evaluation).

    The advice gives one set of values that satisfies every check at once: those
    ``nri import`` suggests (:func:`nri.data.custom.suggested_settings`).

    Raises:
        ConfigError: one line naming the split, its frames, what the model needs and
            the ``--set`` values that fit.
    """
    mc = config.model_config
    window = getattr(mc, "n_timesteps", None)
    if window is None:
        return
    fit_frames = [f for f in (_frames(data, "train"), _frames(data, "valid")) if f]
    test = _frames(data, "test")
    horizon = getattr(mc, "test_horizon", None)
    problem = None
    for split in ("train", "valid"):
        frames = _frames(data, split)
        if frames is not None and frames < window:
            problem = (
                f"the {split} trajectories have {frames} frames but the encoder reads "
                f"model.n_timesteps={window}"
            )
            break
    if problem is None:
        for key in ("pred_steps", "val_pred_steps"):
            steps = getattr(mc, key, None)
            if steps is not None and steps > window - 1:
                problem = (
                    f"model.{key}={steps} needs model.n_timesteps >= {steps + 1} "
                    f"(the training window), but it is {window}"
                )
                break
    if problem is None and test is not None and horizon is not None:
        if window + 1 + horizon > test:
            problem = (
                f"the test trajectories have {test} frames but the test protocol "
                f"reads model.n_timesteps + 1 + model.test_horizon = {window} + 1 + "
                f"{horizon} = {window + 1 + horizon}"
            )
    if problem is None:
        return
    raise ConfigError(f"{problem}; {_advice(mc, min(fit_frames or [0]), test)}")


def _advice(mc: object, fit_frames: int, test_frames: int | None) -> str:
    """``set ...`` values that fit every length check at once, or what to give."""
    from nri.data.custom import suggested_settings  # data.custom imports much more

    test = test_frames if test_frames is not None else fit_frames
    try:
        values = suggested_settings(fit_frames, test)
    except DataError:
        return "give longer trajectories (at least 4 frames)"
    window = values["n_timesteps"]
    steps = min(10, window - 1)
    for key in ("pred_steps", "val_pred_steps"):
        if getattr(mc, key, None) is not None and getattr(mc, key) > window - 1:
            values.setdefault(key, steps)
    sets = " ".join(
        f"--set model.{k}={v}"
        for k, v in values.items()
        if hasattr(mc, k) and getattr(mc, k) != v
    )
    return (
        f"for {fit_frames} training and {test} test frames use {sets} (what nri "
        "import suggests), or give longer trajectories"
    )

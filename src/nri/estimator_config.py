"""Estimator keywords -> a run configuration, as ``nri train --preset ... --set ...``.

:func:`resolve_settings` merges the presets (:func:`nri.config.read_preset`) and the
keyword settings into the raw sections ``{"model": ..., "train": ...}`` and checks them
at once (:func:`nri.config.from_dict`: names and types); :func:`fitted_config` fills
what the training data determine (features, objects, window lengths) and builds the
:class:`~nri.config.RunConfig` that :func:`nri.training.fit.fit` trains.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nri.config import (
    ConfigError,
    RunConfig,
    TrainConfig,
    from_dict,
    merge,
    read_preset,
)
from nri.data.custom import suggested_settings
from nri.data.series import Series
from nri.registry import MODELS

__all__ = ["fitted_config", "resolve_settings"]

_TRAIN_KEYS = frozenset(f.name for f in dataclasses.fields(TrainConfig))


def _section(key: str, model_fields: set[str], owner: str) -> tuple[str, str]:
    """``(section, name)`` of one keyword: ``"model.lr"`` as written, a bare name in
    the section whose config has it (``train`` first for names only it has)."""
    if "." in key:
        section, name = key.split(".", 1)
        if section not in ("model", "train") or not name:
            raise ConfigError(
                f"{owner}: setting {key!r} must be model.NAME or train.NAME"
            )
        return section, name
    in_train, in_model = key in _TRAIN_KEYS, key in model_fields
    if in_train and in_model:
        raise ConfigError(
            f"{owner}: {key!r} is a model and a train setting; write "
            f"**{{'model.{key}': ...}} or **{{'train.{key}': ...}}"
        )
    if in_train:
        return "train", key
    if in_model:
        return "model", key
    raise ConfigError(
        f"{owner}: unknown setting {key!r}; model settings: "
        f"{', '.join(sorted(model_fields))}; train settings: "
        f"{', '.join(sorted(_TRAIN_KEYS))}"
    )


def resolve_settings(
    presets: list[str], settings: dict[str, Any], model_name: str | None, owner: str
) -> tuple[dict[str, Any], set[str]]:
    """The raw config sections and the ``section.key`` names set by keywords.

    Args:
        presets: merged in order, as ``--preset``.
        settings: keyword settings (:class:`nri.estimator.Model`).
        model_name: the model the class stands for (``nri``, ``nri_mpm``), or None
            (the presets' model, default ``nri``).
        owner: the class name, for messages.

    Raises:
        ConfigError: an unknown or mistyped setting, a preset of another model.
    """
    raw: dict[str, Any] = {}
    for name in presets:
        raw = merge(raw, read_preset(name))
    named = (raw.get("model") or {}).get("name")
    if model_name is not None and named not in (None, model_name):
        raise ConfigError(
            f"{owner}: the preset(s) {', '.join(presets)} describe a {named!r} model, "
            f"not {model_name!r}; use nri.Model(preset=...) for it"
        )
    name = model_name or named or "nri"
    model_fields = {f.name for f in dataclasses.fields(MODELS[name][1])} - {"name"}
    given: set[str] = set()
    for key, value in settings.items():
        section, field = _section(key, model_fields, owner)
        if section == "model" and field == "name":
            raise ConfigError(f"{owner}: the model is chosen by the class or preset")
        raw = merge(raw, {section: {field: value}})
        given.add(f"{section}.{field}")
    raw = merge(raw, {"model": {"name": name}})
    from_dict(raw)  # every name and type checked now, not at fit
    return raw, given


def fitted_config(raw: dict[str, Any], given: set[str], train: Series) -> RunConfig:
    """The run configuration for training data ``train``: ``model.n_features``
    (and ``model.n_objects`` where the model has it) from the data unless given, and,
    when the encoder window is longer than the samples and was not given, the window
    and rollout lengths :func:`nri.data.custom.suggested_settings` gives for them."""
    model = dict(raw["model"])
    fields = {f.name for f in dataclasses.fields(MODELS[model["name"]][1])}
    fill: dict[str, Any] = {"n_features": train.n_features}
    if "n_objects" in fields:
        fill["n_objects"] = train.n_objects
    window = model.get("n_timesteps", _default(model["name"], "n_timesteps"))
    if window is not None and window > train.n_frames:
        t = train.n_frames
        fill |= suggested_settings(t, t) if t >= 4 else {"n_timesteps": t}
    for key, value in fill.items():
        if key in fields and f"model.{key}" not in given:
            model[key] = value
    return from_dict({**raw, "model": model})


def _default(name: str, key: str) -> Any:
    """The model config's default of ``key`` (None when it has no such field)."""
    for f in dataclasses.fields(MODELS[name][1]):
        if f.name == key:
            return f.default
    return None

"""Run configuration: presets (YAML), typed ``--set key=value`` overrides, resolution.

A run is described by three sections::

    model: {name: nri, skip_first: true, ...}   # name + fields of the model's config
    train: {epochs: 500, batch_size: 128, ...}  # TrainConfig
    data:  {suffix: springs5}                   # DataConfig

Presets list only what differs from the defaults; several presets are merged in order
(``--preset springs5 --preset cpu``), then ``--set`` overrides are applied. Every value
is checked against the field's type; unknown keys are errors.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A preset, override or config file is invalid."""


STRATEGIES = ("auto", "ddp")  # one process, or Lightning's DDP (docs/distributed.md)


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained (the optimiser settings live in the model's config).

    Attributes:
        epochs: training epochs (paper: 500).
        batch_size: samples per batch (paper: 128).
        val_batch_size: samples per validation batch (None = ``batch_size``). Validation
            keeps no gradients and its loss is a per-sample mean, so a larger batch only
            makes it cheaper where small batches are dominated by per-operation overhead
            (the ``cpu`` preset, docs/training.md); the Gumbel draws differ with it.
        seed: seeds weights, shuffling, Gumbel noise and dropout.
        eval_seed: seeds the Gumbel noise of validation and test (fixed across epochs).
        shuffle: reshuffle training data every epoch (False = the original NRI, Q8).
        n_train, n_valid: use only the first samples of a split (None = all).
        precision: Lightning precision, e.g. "32-true" or "bf16-mixed"; "auto" = bf16-mixed
            where the hardware computes bf16 natively, else 32-true
            (:func:`nri.training.hardware.resolve_precision`; the run's config.yaml
            records what was used).
        accelerator, devices, num_nodes: passed to the Lightning Trainer.
        strategy: ``"auto"`` (one process; Lightning's choice) or ``"ddp"``
            (distributed data parallel, one process per device, gloo on CPUs and
            nccl on GPUs; docs/distributed.md). ``batch_size`` is the global batch
            (summed over processes), so a run on any number of devices takes the
            same optimiser steps on the same samples.
        eval_batch_size: samples per batch of the test protocol (``nri train``'s
            final evaluation, ``nri evaluate``), of ``nri infer`` / ``forecast``, and
            the most per validation batch: ``"auto"`` sizes it from N, T and the
            decoder width within ``eval_memory_gb`` (256 up to 10 objects, as
            before; :mod:`nri.eval_batch`), an integer fixes it.
        eval_memory_gb: the memory budget (GiB) of ``eval_batch_size: auto``.
        num_workers: DataLoader workers.
        threads: torch intra-op threads on the CPU (None = PyTorch's default).
        grad_clip: gradient-norm clip (None = off, as the papers).
        log_every_n_steps: logging interval.
        progress_bar: show Lightning's progress bar.
        stop_at_val_acc: stop once the validation permutation-invariant edge accuracy
            reaches this value (None = train all epochs).
        augment: ``"box"`` maps every training sample by a random one of the 8 exact
            symmetries of the square box (reflections of x and y, the swap of x and
            y; springs and charged only, :class:`nri.data.augment.BoxSymmetry`);
            ``"none"`` (the reference) trains on the samples as they are.
        max_batch_size: grow the batch instead of decaying the rate: each decay that
            the model's ``lr_decay_*`` settings schedule multiplies the training batch
            by ``1 / lr_decay_gamma`` (2 for the usual 1/2) while the batch stays at
            most this size; only the later decays lower the rate
            (:class:`nri.training.schedule.Anneal`, docs/training.md). None (the
            papers): the batch stays ``batch_size`` throughout.
    """

    epochs: int = 500
    batch_size: int = 128
    val_batch_size: int | None = None
    seed: int = 42
    eval_seed: int = 0
    shuffle: bool = True
    n_train: int | None = None
    n_valid: int | None = None
    precision: str = "32-true"
    accelerator: str = "auto"
    devices: str = "auto"
    strategy: str = "auto"
    num_nodes: int = 1
    num_workers: int = 0
    threads: int | None = None
    grad_clip: float | None = None
    log_every_n_steps: int = 10
    progress_bar: bool = True
    stop_at_val_acc: float | None = None
    augment: Literal["none", "box"] = "none"
    max_batch_size: int | None = None
    eval_batch_size: int | Literal["auto"] = "auto"
    eval_memory_gb: float = 2.0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "num_nodes", "log_every_n_steps"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"train.{name} must be >= 1, got {getattr(self, name)}"
                )
        for name in (
            "n_train",
            "n_valid",
            "threads",
            "val_batch_size",
            "max_batch_size",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"train.{name} must be >= 1 or null, got {value}")
        if self.eval_batch_size != "auto" and self.eval_batch_size < 1:
            raise ConfigError(
                f"train.eval_batch_size must be auto or >= 1, got {self.eval_batch_size}"
            )
        if not self.eval_memory_gb > 0:
            raise ConfigError(
                f"train.eval_memory_gb must be > 0, got {self.eval_memory_gb}"
            )
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"train.strategy must be one of {', '.join(STRATEGIES)}, got "
                f"{self.strategy!r} (several devices: --strategy ddp --devices N)"
            )
        allowed = (
            "auto", "32-true", "32", "bf16-mixed", "16-mixed", "bf16-true", "64-true"
        )  # fmt: skip
        if str(self.precision) not in allowed:
            raise ConfigError(
                f"train.precision must be one of {allowed}, got {self.precision!r}"
            )


@dataclass(frozen=True)
class DataConfig:
    """Which data set: a directory (given on the command line) and a suffix."""

    path: str | None = None
    suffix: str | None = None


@dataclass(frozen=True)
class RunConfig:
    """The resolved description of a run: model name and config, training, data."""

    model: str
    model_config: Any
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": {
                "name": self.model,
                **_plain(dataclasses.asdict(self.model_config)),
            },
            "train": _plain(dataclasses.asdict(self.train)),
            "data": _plain(dataclasses.asdict(self.data)),
        }


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


# --------------------------------------------------------------------------------------
# presets


def preset_names() -> list[str]:
    """Names of the built-in presets."""
    files = resources.files("nri.presets").iterdir()
    return sorted(p.name[:-5] for p in files if p.name.endswith(".yaml"))


def read_preset(name: str) -> dict[str, Any]:
    """A built-in preset by name, or a YAML file by path."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        text = path.read_text()
        source = str(path)
    else:
        res = resources.files("nri.presets") / f"{name}.yaml"
        if not res.is_file():
            raise ConfigError(
                f"unknown preset {name!r}; choose from {', '.join(preset_names())} "
                "or give a .yaml file"
            )
        text = res.read_text()
        source = f"preset {name}"
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse {source}: {err}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping of sections")
    return data


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge (update wins)."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_override(text: str) -> dict[str, Any]:
    """``"section.key=value"`` -> ``{"section": {"key": value}}`` (value parsed as YAML)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like section.key=value")
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(
            f"override key {key!r} must be section.key with section model, train or data"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return {parts[0]: {parts[1]: value}}


# --------------------------------------------------------------------------------------
# typed construction


_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where} must be one of {list(args)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_coerce(v, inner, where) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            # YAML 1.1 reads 1e-8 (no dot) as a string; we take it as the number meant
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, bool) or value is None:
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return str(value)
    return value


def build(cls: type, values: dict[str, Any], section: str) -> Any:
    """Construct a frozen config dataclass from a dict, checking names and types."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"unknown {section} setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(names))}"
        )
    kwargs = {k: _coerce(v, hints[k], f"{section}.{k}") for k, v in values.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{section}: {err}") from None


def from_dict(raw: dict[str, Any]) -> RunConfig:
    """Build a :class:`RunConfig` from sections (as in a preset or a saved run)."""
    from nri.registry import MODELS

    unknown = sorted(set(raw) - {"model", "train", "data"})
    if unknown:
        raise ConfigError(
            f"unknown config section(s) {unknown}; use model, train, data"
        )
    model = dict(raw.get("model") or {})
    name = model.pop("name", "nri")
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    _, config_cls = MODELS[name]
    return RunConfig(
        model=name,
        model_config=build(config_cls, model, "model"),
        train=build(TrainConfig, dict(raw.get("train") or {}), "train"),
        data=build(DataConfig, dict(raw.get("data") or {}), "data"),
    )


def resolve(presets: list[str], overrides: list[str]) -> RunConfig:
    """Merge presets in order, apply ``section.key=value`` overrides, build the config."""
    raw: dict[str, Any] = {}
    for name in presets:
        raw = merge(raw, read_preset(name))
    for text in overrides:
        raw = merge(raw, parse_override(text))
    return from_dict(raw)

"""Checks shared by the model configs (NRIConfig, MPMConfig): one clear line each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nri.nn.cnn import MIN_TIMESTEPS


def check_fields(
    cfg: Any,
    positive_ints: Iterable[str] = (),
    choices: Mapping[str, tuple[object, ...]] | None = None,
    fractions: Iterable[str] = (),
    positive: Iterable[str] = (),
    optional_counts: Iterable[str] = (),
) -> None:
    """Integers >= 1, values from a set, numbers in [0, 1), numbers > 0, and null or
    integers >= 0 (``optional_counts``, e.g. ``lr_decay_start``)."""
    name = type(cfg).__name__
    for field in positive_ints:
        value = getattr(cfg, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}.{field} must be an int >= 1, got {value!r}")
    for field in optional_counts:
        value = getattr(cfg, field)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise ValueError(
                f"{name}.{field} must be null or an int >= 0, got {value!r}"
            )
    for field, allowed in (choices or {}).items():
        if getattr(cfg, field) not in allowed:
            raise ValueError(
                f"{name}.{field} must be one of {allowed}, got {getattr(cfg, field)!r}"
            )
    for field in fractions:
        if not 0.0 <= getattr(cfg, field) < 1.0:
            raise ValueError(
                f"{name}.{field} must be in [0, 1), got {getattr(cfg, field)!r}"
            )
    for field in positive:
        if not getattr(cfg, field) > 0:
            raise ValueError(f"{name}.{field} must be > 0, got {getattr(cfg, field)!r}")


def check_graph_and_rollout(cfg: Any, uses_cnn: bool) -> None:
    """skip_first needs K >= 2; the CNN needs 14 frames; rollout horizons fit the window;
    a prior is K positive numbers summing to 1."""
    name = type(cfg).__name__
    if cfg.skip_first and cfg.n_edge_types < 2:
        raise ValueError(f"skip_first needs n_edge_types >= 2, got {cfg.n_edge_types}")
    if uses_cnn and cfg.n_timesteps < MIN_TIMESTEPS:
        raise ValueError(
            f"the CNN needs n_timesteps >= {MIN_TIMESTEPS}, got {cfg.n_timesteps}"
        )
    check_decoder_window(cfg)
    for field in ("pred_steps", "val_pred_steps"):
        if getattr(cfg, field) > cfg.n_timesteps - 1:
            raise ValueError(
                f"{name}.{field} must be <= n_timesteps - 1 = {cfg.n_timesteps - 1}, "
                f"got {getattr(cfg, field)}"
            )
    if cfg.prior is not None:
        p = tuple(cfg.prior)
        if len(p) != cfg.n_edge_types or min(p) <= 0 or abs(sum(p) - 1) > 1e-6:
            raise ValueError(
                f"{name}.prior must be {cfg.n_edge_types} positive numbers summing to 1, "
                f"got {cfg.prior!r}"
            )


def check_decoder_window(cfg: Any) -> None:
    """``decoder_window`` is null or at least ``pred_steps + 1`` frames (a value of
    ``n_timesteps`` or more means the whole window)."""
    window = cfg.decoder_window
    if window is not None and window < cfg.pred_steps + 1:
        raise ValueError(
            f"{type(cfg).__name__}.decoder_window must be at least pred_steps + 1 = "
            f"{cfg.pred_steps + 1} frames (or null for the whole window), got {window}"
        )

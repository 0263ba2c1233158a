"""Checks shared by the model configs (NRIConfig, MPMConfig): one clear line each,
including which combinations of parts are refused and why (:func:`check_parts`)."""

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


# Settings that choose a variant of one part, with the value that means "not used": a
# config that sets one while naming another part is refused (it would be silently
# ignored). Reference-quirk switches (edge_to_node_norm, rnn_agg_norm, ...) are not
# refused: the reference preset sets them whatever the parts.
_PART_SETTINGS = {
    "encoder": {
        "relation_interaction": ("reducer", "relation_interaction", "ri_sequence")
    },
    "decoder": {"st": ("st_parts",)},
}
_UNUSED = {"reducer": "mlp", "relation_interaction": "both", "ri_sequence": "gru",
           "st_parts": "both"}  # fmt: skip


def check_parts(cfg: Any) -> None:
    """The named parts exist (:mod:`nri.models.parts`) and fit together.

    Refused, one line each: an unknown encoder, decoder or prior (or one named twice);
    a setting of one part while another is named (``reducer``, ``relation_interaction``
    or ``ri_sequence`` of the relation interaction encoder with ``encoder=mlp``, say;
    ``st_parts`` without the ST decoder); the degree prior with fewer than 2 edge
    types (type 0 is "no interaction"); negative prior weights.
    """
    from nri.config import ConfigError
    from nri.models.parts import DECODERS, ENCODERS, PRIORS

    for field, known in (("encoder", ENCODERS), ("decoder", DECODERS)):
        value = getattr(cfg, field)
        if value not in known:
            raise ConfigError(
                f"model.{field} must be one of {list(known)}, got {value!r}"
            )
    priors = tuple(cfg.priors)
    for prior in priors:
        if prior not in PRIORS:
            raise ConfigError(
                f"model.priors: unknown prior {prior!r}; known: {list(PRIORS)}"
            )
    if len(set(priors)) != len(priors):
        raise ConfigError(f"model.priors names a prior twice: {list(priors)}")
    for field, parts in _PART_SETTINGS.items():
        chosen = getattr(cfg, field)
        used = parts.get(chosen, ())
        for setting in sorted(
            {s for group in parts.values() for s in group} - set(used)
        ):
            value = getattr(cfg, setting, _UNUSED[setting])
            if value != _UNUSED[setting]:
                users = " / ".join(p for p, group in parts.items() if setting in group)
                raise ConfigError(
                    f"model.{setting}={value!r} is a setting of the {users} {field}, "
                    f"but model.{field}={chosen!r}; set "
                    f"model.{setting}={_UNUSED[setting]!r} or choose that {field}"
                )
    if "degree" in priors and cfg.n_edge_types < 2:
        raise ConfigError(
            "the degree prior needs n_edge_types >= 2 (type 0 = no interaction)"
        )
    name = type(cfg).__name__
    if not cfg.degree_lambda >= 0:
        raise ValueError(
            f"{name}.degree_lambda must be >= 0, got {cfg.degree_lambda!r}"
        )
    if not 0.0 < cfg.degree_prior_p < 1.0:
        raise ValueError(
            f"{name}.degree_prior_p must be in (0, 1), got {cfg.degree_prior_p!r}"
        )
    if not cfg.sym_lambda >= 0:
        raise ValueError(f"{name}.sym_lambda must be >= 0, got {cfg.sym_lambda!r}")


def check_graph_and_rollout(cfg: Any) -> None:
    """skip_first needs K >= 2; the CNN needs 14 frames; rollout horizons fit the window;
    a prior is K positive numbers summing to 1."""
    name = type(cfg).__name__
    uses_cnn = cfg.encoder == "cnn" or (
        cfg.encoder == "relation_interaction"
        and getattr(cfg, "reducer", "mlp") == "cnn"
    )
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

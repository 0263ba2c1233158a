"""The parts of a relational VAE, by name: one literal dict per kind, one line per part.

A model config names its parts (``encoder``, ``decoder``, ``priors``, ``scheme``;
:mod:`nri.models.configs`) and :class:`~nri.models.vae.RelationalVAE` is built from
what these builders return. Every builder takes the model config and reads the
settings it needs; a setting that the config's family does not have (an NRI-MPM
setting asked of an NRI config, or the reverse) takes its value from
:data:`PART_DEFAULTS` (the part's own default).

Interfaces:

* encoder: ``encoder(x, generator) -> EncoderOutput(logits [B, E, K], q [B, E, K])``
  (``x [B, N, T, F]``; the generator draws what the encoder randomises, e.g. the RI
  orders; deterministic encoders ignore it);
* decoder: ``decoder.step(x_t [B, N, S, F], z [B, E, K], state) -> (x_next, state)``
  and a class attribute ``burn_in``: True rolls out as NRI's RNN (ground truth, then
  its own predictions, one hidden state), False in segments with teacher forcing every
  ``pred_steps`` frames (states reset per segment; :mod:`nri.rollout`);
* prior: ``prior(logits, q) -> scalar`` with ``name`` (its log key) and ``weight``
  (:mod:`nri.models.priors`); a builder returns None for a prior switched off.

To add a part: write its module (one file), then add one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from nri.models.decoders import MLPDecoder, RNNDecoder
from nri.models.encoders import CNNEncoder, MLPEncoder
from nri.models.priors import CategoricalKL, DegreePrior, SymmetricKL
from nri.models.relation_interaction import RelationInteractionEncoder
from nri.models.st_decoder import GNNDecoder, STAttentionDecoder, STDecoder

__all__ = [
    "DECODERS", "ENCODERS", "PART_DEFAULTS", "PRIORS", "SCHEMES", "build_priors",
    "setting",
]  # fmt: skip

# settings that only one family's config has, with the part's default
PART_DEFAULTS: dict[str, Any] = {
    # NRI's encoders and decoders (NRIConfig)
    "factor": True,
    "edge_to_node_norm": "n_in",
    "rnn_agg_norm": "n_in",
    "decoder_dropout_in_eval": False,
    # NRI-MPM's relation interaction encoder and ST decoder (MPMConfig)
    "reducer": "mlp",
    "relation_interaction": "both",
    "ri_sequence": "gru",
    "ri_eval_samples": 1,
    "ri_transformer_heads": 4,
    "inter_only_reference": False,
    "ri_output": "linear",
    "ri_orders_seeded": True,
    "st_parts": "both",
    # both families (docs/scale.md); other configs (baselines) get these
    "edge_chunk": None,
}


def setting(c: Any, name: str) -> Any:
    """``c.name``, or the part's default when ``c``'s family has no such field."""
    return getattr(c, name) if hasattr(c, name) else PART_DEFAULTS[name]


# ------------------------------------------------------------------------ encoders
def mlp_encoder(c: Any) -> nn.Module:
    return MLPEncoder(
        c.n_timesteps, c.n_features, c.encoder_hidden_dim, c.n_edge_types,
        c.encoder_dropout, setting(c, "factor"), setting(c, "edge_to_node_norm"),
    )  # fmt: skip


def cnn_encoder(c: Any) -> nn.Module:
    return CNNEncoder(
        c.n_features, c.encoder_hidden_dim, c.n_edge_types, c.encoder_dropout,
        setting(c, "factor"), setting(c, "edge_to_node_norm"),
    )  # fmt: skip


def relation_interaction_encoder(c: Any) -> nn.Module:
    return RelationInteractionEncoder(
        c.n_features, c.n_timesteps, c.encoder_hidden_dim, c.n_edge_types,
        setting(c, "reducer"), setting(c, "relation_interaction"),
        setting(c, "ri_sequence"), c.encoder_dropout,
        setting(c, "inter_only_reference"), setting(c, "ri_eval_samples"),
        setting(c, "ri_transformer_heads"), setting(c, "ri_output"),
        setting(c, "ri_orders_seeded"),
    )  # fmt: skip


# ------------------------------------------------------------------------ decoders
def mlp_decoder(c: Any) -> nn.Module:
    h = c.decoder_hidden_dim
    return MLPDecoder(
        c.n_features, c.n_edge_types, h, h, h, c.decoder_dropout, c.skip_first,
        setting(c, "decoder_dropout_in_eval"), edge_chunk=setting(c, "edge_chunk"),
    )  # fmt: skip


def rnn_decoder(c: Any) -> nn.Module:
    return RNNDecoder(
        c.n_features, c.n_edge_types, c.decoder_hidden_dim, c.decoder_dropout,
        c.skip_first, setting(c, "rnn_agg_norm"), setting(c, "decoder_dropout_in_eval"),
        edge_chunk=setting(c, "edge_chunk"),
    )  # fmt: skip


def st_decoder(c: Any) -> nn.Module:
    return STDecoder(
        c.n_features, c.n_edge_types, c.decoder_hidden_dim, c.decoder_dropout,
        c.skip_first, setting(c, "st_parts"), edge_chunk=setting(c, "edge_chunk"),
    )  # fmt: skip


def st_attention_decoder(c: Any) -> nn.Module:
    return STAttentionDecoder(
        c.n_features, c.n_edge_types, c.decoder_hidden_dim, c.decoder_dropout,
        c.skip_first, edge_chunk=setting(c, "edge_chunk"),
    )  # fmt: skip


def gnn_decoder(c: Any) -> nn.Module:
    return GNNDecoder(
        c.n_features, c.n_edge_types, c.decoder_hidden_dim, c.decoder_dropout,
        c.skip_first, edge_chunk=setting(c, "edge_chunk"),
    )  # fmt: skip


# -------------------------------------------------------------------------- priors
def kl_prior(c: Any) -> nn.Module | None:
    return CategoricalKL(c.prior, c.kl_add_const)


def symmetric_prior(c: Any) -> nn.Module | None:
    return SymmetricKL(c.sym_lambda)


def degree_prior(c: Any) -> nn.Module | None:
    if c.degree_lambda == 0:
        return None  # SUGAR with degree_lambda 0: the prior is off (not logged)
    return DegreePrior(c.degree_lambda, c.degree_prior_p)


ENCODERS: dict[str, Callable[[Any], nn.Module]] = {
    "mlp": mlp_encoder,  # NRI (Kipf et al. 2018)
    "cnn": cnn_encoder,  # NRI's CNN variant
    "relation_interaction": relation_interaction_encoder,  # NRI-MPM (Chen et al. 2021)
}
DECODERS: dict[str, Callable[[Any], nn.Module]] = {
    "mlp": mlp_decoder,  # NRI
    "rnn": rnn_decoder,  # NRI's recurrent decoder (burn-in)
    "st": st_decoder,  # NRI-MPM's RNNDEC
    "st_attention": st_attention_decoder,  # NRI-MPM's AttDEC
    "gnn": gnn_decoder,  # NRI-MPM w/o ST
}
PRIORS: dict[str, Callable[[Any], nn.Module | None]] = {
    "kl": kl_prior,  # KL to a uniform or given prior (the ELBO's)
    "symmetric_kl": symmetric_prior,  # NRI-MPM, weight sym_lambda
    "degree": degree_prior,  # SUGAR, weight degree_lambda
}
# vae: the ELBO; supervised: the encoder alone, cross-entropy on the labels;
# true_graph: the decoder alone on z = one_hot(labels)
SCHEMES = ("vae", "supervised", "true_graph")


def build_priors(c: Any) -> list[nn.Module | None]:
    """The priors that ``c.priors`` names, in order (None: switched off)."""
    return [PRIORS[name](c) for name in c.priors]

"""The NRI model: a VAE over edge types (Kipf et al. 2018; spec/nri.md), as a choice of
parts of :class:`~nri.models.vae.RelationalVAE`."""

from __future__ import annotations

from nri.models.configs import NRIConfig
from nri.models.parts import DECODERS, ENCODERS, build_priors
from nri.models.vae import RelationalVAE

__all__ = ["NRI"]


class NRI(RelationalVAE):
    """Neural relational inference (Kipf et al. 2018), a VAE over edge types.

    Encoder ``q(z | x) = softmax(f_enc(x))`` (Eqs. (1)-(2), (8)-(11) of the restatement
    in Chen et al. 2021; ``config.encoder``: ``"mlp"`` or ``"cnn"``), Gumbel-softmax
    samples (Eq. (3)), a one-step decoder (``config.decoder``: ``"mlp"``, or ``"rnn"``
    with burn-in) rolled out with periodic teacher forcing (Eqs. (4), (19)-(21),
    (25)-(27)) and the ELBO (Eq. (5)) with a factorised uniform (or given) prior:
    ``loss = nll + kl``, both divided by ``B * N`` (spec/nri.md 7). Checkpoints are
    selected on the validation NLL, as the original (spec/nri.md 9).

    Any registered encoder, decoder and priors can be named in the config
    (:mod:`nri.models.parts`); the defaults are NRI's. ``config.scheme``:
    ``"supervised"`` (the encoder alone, cross-entropy on the labels, selected on the
    validation accuracy, test graph = argmax; NRI's ``train_enc.py``) or
    ``"true_graph"`` (the decoder alone on ``z = one_hot(labels)``, ``train_dec.py``).

    Args:
        config: an :class:`NRIConfig`.

    Shapes:
        x ``[B, N, T, F]``; logits, q, z ``[B, E, K]``; edge_types ``[B, E]``.

    Differences from the paper: the encoder mean-normalises its edge-to-node step
    (reference: divides by N, switch ``edge_to_node_norm``); the RNN decoder averages
    incoming messages (reference: divides by F, ``rnn_agg_norm``); validation uses the
    training horizon ``val_pred_steps = 10`` (reference and paper: 1); the logged KL
    includes ``log K`` per edge (reference: omitted, ``kl_add_const``); a prior is a
    length-K config vector used in training and validation.
    """

    config: NRIConfig

    def __init__(self, config: NRIConfig) -> None:
        c = config
        # both parts are built whatever the scheme, encoder first: the initial weights
        # are those of the original train.py / train_enc.py / train_dec.py runs
        encoder = ENCODERS[c.encoder](c)
        decoder = DECODERS[c.decoder](c)
        super().__init__(
            c,
            None if c.scheme == "true_graph" else encoder,
            None if c.scheme == "supervised" else decoder,
            build_priors(c),
            c.scheme,
            test_graph="argmax" if c.scheme == "supervised" else None,
            true_graph_logits=False,  # NRI's decoder on the true graph infers none
        )

"""NRI's "gold standard" variants trained with the true relations (spec/evaluation.md
3.4, 3.5): the encoder alone with cross-entropy (NRI's ``train_enc.py``), the decoder
alone on the true graph (``train_dec.py``). Both are the schemes ``"supervised"`` and
``"true_graph"`` of :class:`~nri.models.vae.RelationalVAE` with NRI's parts (NRI-MPM's
counterparts are ``MPMConfig.scheme``)."""

from __future__ import annotations

from nri.models.configs import NRIConfig
from nri.models.nri import NRI
from nri.models.parts import DECODERS, ENCODERS
from nri.models.vae import RelationalVAE

__all__ = ["NRISupervised", "NRITrueGraph"]


class NRISupervised(NRI):
    """NRI's encoder trained with cross-entropy on the true edge types (the supervised
    upper bound for relation recovery; spec/evaluation.md 3.4).

    ``loss = cross_entropy(logits, labels)`` over all directed edges (labels < 0
    ignored), computed on the logits (no double softmax); selection on the raw
    validation accuracy (the labels fix the type identity). Test: encoder on frames
    ``0 .. T-1``; the predicted graph is the argmax; no decoder (MSEs are NaN).

    Args:
        config: an :class:`~nri.models.nri.NRIConfig` (decoder fields unused).

    Differences from the reference (``train_enc.py``): its defaults are hidden 512 and
    dropout 0.5; ours take the encoder of the NRI being compared (the config's
    ``encoder_hidden_dim`` / ``encoder_dropout``; set them to 512 / 0.5 for the
    reference).
    """

    def __init__(self, config: NRIConfig) -> None:
        encoder = ENCODERS[config.encoder](config)
        DECODERS[config.decoder](config)  # built and dropped: the seed order of NRI
        RelationalVAE.__init__(
            self, config, encoder, None, (), "supervised", test_graph="argmax"
        )


class NRITrueGraph(NRI):
    """NRI's decoder trained on the true graph ``z = one_hot(labels)`` (spec/evaluation.md
    3.5, "Ours": the decoder of the model being compared, the same rollout horizon).

    Loss: the Gaussian NLL of the ``pred_steps`` rollout (no KL); selection on the
    validation NLL as NRI. Test: the graph is the labels; the rollout and one-step
    errors of NRI's protocol. No graph is inferred, so no edge metrics (``logits`` None).

    Args:
        config: an :class:`~nri.models.nri.NRIConfig` (encoder fields unused).
    """

    def __init__(self, config: NRIConfig) -> None:
        ENCODERS[config.encoder](config)  # built and dropped: the decoder's seed order
        decoder = DECODERS[config.decoder](config)
        RelationalVAE.__init__(
            self, config, None, decoder, (), "true_graph", true_graph_logits=False
        )

"""NRI's "gold standard" variants trained with the true relations (spec/evaluation.md
3.4, 3.5): the encoder alone with cross-entropy (NRI's ``train_enc.py``), the decoder
alone on the true graph (``train_dec.py``). NRI-MPM's counterparts are
``MPMConfig.scheme`` ("supervised", "true_graph")."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from nri import rollout as ro
from nri.baselines.base import CapabilityError, eval_without_decoder, squared_errors
from nri.losses import rollout_nll
from nri.metrics import batch_accuracy
from nri.models.configs import NRIConfig
from nri.models.encoders import EncoderOutput
from nri.models.nri import NRI
from nri.models.outputs import EvalOutput, LossOutput


def _labels(edge_types: Tensor | None, x: Tensor, who: str) -> Tensor:
    b, n = x.shape[:2]
    if edge_types is None:
        raise ValueError(
            f"{who} is trained on the true relations: pass edge_types [B, E]"
        )
    if tuple(edge_types.shape) != (b, n * (n - 1)):
        raise ValueError(
            f"edge_types must be [B, E] = {(b, n * (n - 1))}, got "
            f"{tuple(edge_types.shape)}"
        )
    return edge_types


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
        super().__init__(config)
        self.decoder = None  # type: ignore[assignment]  # encoder only

    def selection_metric(self) -> tuple[str, str]:
        """The raw validation accuracy (spec/evaluation.md 3.4)."""
        return "val/acc", "max"

    def predict(self, x: Tensor, z: Tensor, pred_steps: int) -> Tensor:
        raise CapabilityError("the supervised encoder has no decoder; no predictions")

    def forecast(self, x_hist: Tensor, z: Tensor, n_steps: int) -> Tensor:
        raise CapabilityError("the supervised encoder has no decoder; no forecasts")

    def loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """Cross-entropy of the labels (logged as ``nll``) and the raw ``acc``.

        Shapes:
            x ``[B, N, T, F]``, edge_types ``[B, E]`` -> scalar, logits ``[B, E, K]``.
        """
        labels = _labels(edge_types, x, "NRISupervised")
        logits, _ = self.encode(x[:, :, : self.config.n_timesteps])  # [B, E, K]
        k = self.config.n_edge_types
        loss = F.cross_entropy(
            logits.reshape(-1, k), labels.reshape(-1), ignore_index=-1
        )
        logs = {"nll": loss.detach(), "acc": batch_accuracy(logits, labels)}
        return LossOutput(loss, logs, logits)

    def validation_loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """As :meth:`loss` (call in eval mode under ``torch.no_grad()``)."""
        return self.loss(x, generator, edge_types)

    @torch.no_grad()
    def evaluate_batch(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> EvalOutput:
        """Encoder on frames ``0 .. T-1``; graph = argmax; NaN MSEs.

        Shapes:
            x ``[B, N, L, F]`` with ``L >= T + 1 + test_horizon``.
        """
        c = self.config
        self._check_x(x, c.n_timesteps + 1 + c.test_horizon)
        logits, _ = self.encode(x[:, :, : c.n_timesteps])  # [B, E, K]
        z = F.one_hot(logits.argmax(-1), c.n_edge_types).float()
        return eval_without_decoder(logits, z, x, c.test_horizon)


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
        super().__init__(config)
        self.encoder = None  # type: ignore[assignment]  # decoder only

    def encode(self, x: Tensor) -> EncoderOutput:
        raise CapabilityError(
            "the true-graph decoder has no encoder; it infers no graph"
        )

    def true_graph(self, edge_types: Tensor | None, x: Tensor) -> Tensor:
        """One-hot edge types of the labels (every label must be known).

        Shapes:
            edge_types ``[B, E]`` -> z ``[B, E, K]`` float32.
        """
        labels = _labels(edge_types, x, "NRITrueGraph")
        if bool((labels < 0).any()):
            raise ValueError("NRITrueGraph needs every edge label (got -1)")
        return F.one_hot(labels, self.config.n_edge_types).float()

    def _nll(
        self, x: Tensor, z: Tensor, pred_steps: int, validation: bool
    ) -> LossOutput:
        nll, logs = rollout_nll(
            lambda xx, m: self.predict(xx, z, m), x, pred_steps,
            self.config.variance, validation,
        )  # fmt: skip
        return LossOutput(nll, logs, None)  # no inferred graph

    def loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """NLL of the ``pred_steps`` rollout on the true graph.

        Shapes:
            x ``[B, N, T, F]``, edge_types ``[B, E]`` -> scalar.
        """
        z = self.true_graph(edge_types, x)
        x_dec, scale = ro.random_window(x, self.config.decoder_window, generator)
        out = self._nll(x_dec, z, self.config.pred_steps, False)
        return LossOutput(out.loss * scale, out.logs, None)

    def validation_loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """NLL with ``val_pred_steps``; also logs the one-step NLL and MSE."""
        z = self.true_graph(edge_types, x)
        return self._nll(x, z, self.config.val_pred_steps, True)

    @torch.no_grad()
    def evaluate_batch(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> EvalOutput:
        """NRI's test protocol with ``z = one_hot(edge_types)``; ``logits`` is None.

        Shapes:
            x ``[B, N, L, F]`` with ``L >= T + 1 + test_horizon``; edge_types ``[B, E]``.
        """
        c = self.config
        t, h = c.n_timesteps, c.test_horizon
        self._check_x(x, t + 1 + h)
        z = self.true_graph(edge_types, x)  # [B, E, K]
        pred = self.forecast(x[:, :, : t + 1], z, h)  # [B, N, H, F]
        window = x[:, :, -t:]
        pred1 = self.predict(window, z, 1)  # [B, N, T-1, F]
        sq, count, sq1, count1 = squared_errors(
            pred, x[:, :, t + 1 : t + 1 + h], pred1, window[:, :, 1:]
        )
        return EvalOutput(None, z, sq, count, sq1, count1)

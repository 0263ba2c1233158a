"""ModularMeta's inference: the structure search with fixed modules and the test
protocol built on it (a mixin of :class:`nri.baselines.modular_meta.ModularMeta`; it
reads the model's config, proposal, structure loss and rollouts)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from nri.baselines import anneal as sa
from nri.baselines.base import squared_errors
from nri.models.encoders import EncoderOutput
from nri.models.outputs import EvalOutput, LossOutput

__all__ = ["HARD_LOGIT", "SearchProtocol", "raw_accuracy"]

HARD_LOGIT = 20.0  # logits of a found structure: 20 for its type, 0 for the others


def raw_accuracy(s: Tensor, labels: Tensor) -> Tensor:
    """Agreement of structures with the known labels (-1 unknown are skipped).

    Shapes:
        s, labels ``[B, E]`` -> scalar.
    """
    labels = labels.to(s.device)
    known = labels >= 0
    hits = (s == labels) & known
    return hits.sum().float() / known.sum().clamp(min=1).float()


class SearchProtocol:
    """``search``, ``encode``, ``sample_edges``, ``validation_loss`` and
    ``evaluate_batch`` of ModularMeta: simulated annealing over the structures of a
    batch with the modules fixed."""

    config: Any
    temperature: float
    proposal_q: Any
    initial_structures: Any
    structure_loss: Any
    propose: Any
    one_hot: Any
    forecast: Any
    predict: Any
    _check_x: Any

    # ------------------------------------------------------------------- search
    @torch.no_grad()
    def search(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        steps: int | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """The inner loop with fixed modules on windows ``x``: ``steps`` (default
        ``test_search_steps``) proposals per sample at the test temperature.

        Shapes:
            x ``[B, N, T, F]`` -> (structures ``[B, E]``, losses ``[B]``, q
            ``[B, E, K]``).
        """
        c = self.config
        steps = c.test_search_steps if steps is None else steps
        temp = self.temperature if c.test_temperature is None else c.test_temperature
        q = self.proposal_q(x, generator)
        s0 = self.initial_structures(q, generator)
        s, loss = sa.anneal(
            lambda s: self.structure_loss(x, s),
            s0,
            lambda s, g: self.propose(s, q, g),
            steps,
            temp,
            generator,
        )
        return s, loss, q

    def hard_logits(self, s: Tensor) -> Tensor:
        """Logits whose argmax is the structure (``HARD_LOGIT`` on its type)."""
        return self.one_hot(s) * HARD_LOGIT

    def encode(
        self, x: Tensor, generator: torch.Generator | None = None
    ) -> EncoderOutput:
        """The graph of windows ``x``: the search's structure as logits and q.

        Shapes:
            x ``[B, N, T, F]`` -> ``EncoderOutput(logits [B, E, K], q [B, E, K])``.
        """
        self._check_x(x, self.config.pred_steps + 1)
        s, _, _ = self.search(x, generator)
        logits = self.hard_logits(s)
        return EncoderOutput(logits, torch.softmax(logits, dim=-1))

    def sample_edges(
        self,
        logits: Tensor,
        hard: bool = True,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """The structure as one-hot edge weights (the search's result is not sampled).

        Shapes:
            logits ``[B, E, K]`` -> ``[B, E, K]``.
        """
        return self.one_hot(logits.argmax(-1))

    @torch.no_grad()
    def validation_loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """The search with ``val_search_steps`` proposals per sample; loss and ``mse``:
        the found structures' rollout MSE; ``logits``: the structures (so that
        nri.training logs ``val/acc_perm``). Call in eval mode.

        Shapes:
            x ``[B, N, T, F]`` -> scalar.
        """
        self._check_x(x, self.config.pred_steps + 1)
        s, loss, _ = self.search(x, generator, self.config.val_search_steps)
        mse = loss.mean()
        logs = {"mse": mse}
        if edge_types is not None:
            logs["acc"] = raw_accuracy(s, edge_types)
        return LossOutput(mse, logs, self.hard_logits(s))

    @torch.no_grad()
    def evaluate_batch(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> EvalOutput:
        """Test protocol (spec/evaluation.md 2): the search on frames ``0 .. T-1``
        (``test_search_steps`` proposals per sample, the loss of each proposal being
        the rollout MSE on those frames); the found structure is the graph; a rollout
        of ``test_horizon`` frames after frame ``T``; one-step errors on the last
        ``T`` frames.

        Shapes:
            x ``[B, N, L, F]`` with ``L >= T + 1 + test_horizon``.
        """
        c = self.config
        t, h = c.n_timesteps, c.test_horizon
        self._check_x(x, t + 1 + h)
        s, _, _ = self.search(x[:, :, :t], generator)
        z = self.one_hot(s)  # [B, E, K]
        pred = self.forecast(x[:, :, : t + 1], z, h)  # [B, N, H, F]
        window = x[:, :, -t:]
        pred1 = self.predict(window, z, 1)  # [B, N, T-1, F]
        sq, count, sq1, count1 = squared_errors(
            pred, x[:, :, t + 1 : t + 1 + h], pred1, window[:, :, 1:]
        )
        return EvalOutput(self.hard_logits(s), z, sq, count, sq1, count1)

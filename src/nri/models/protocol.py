"""The test protocol of the NRI family (spec/evaluation.md 2), written once for
:class:`~nri.models.vae.RelationalVAE` (a mixin: it reads the model's config, encoder,
decoder and scheme)."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from nri import rollout as ro
from nri.models.outputs import EvalOutput

__all__ = ["EvalProtocol"]


class EvalProtocol:
    """``evaluate_batch``: the graph of frames ``0 .. T-1``, then ``test_horizon``
    predicted frames and the one-step errors (a mixin of
    :class:`~nri.models.vae.RelationalVAE`)."""

    config: Any
    scheme: str
    test_graph: str | None
    decoder: Any

    def _eval_graph(self, logits: Tensor, generator: torch.Generator | None) -> Tensor:
        if (self.test_graph or self.config.eval_graph) == "argmax":
            z = F.one_hot(logits.argmax(-1), self.config.n_edge_types).float()
            return self.silence_non_candidates(z, logits)  # [B, E, K]
        return self.sample_edges(logits, True, generator)  # [B, E, K]

    @torch.no_grad()
    def evaluate_batch(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> EvalOutput:
        """Test protocol on one batch of long trajectories (spec/evaluation.md 2).

        Encoder on frames ``0 .. T-1`` (encoded once; twice with
        ``eval_encode_twice``, NRI-MPM's D6); graph = one hard Gumbel sample (or the
        argmax with ``eval_graph="argmax"``); the true-graph scheme uses the labels
        (``logits`` None: no edge metrics). Rollout of ``test_horizon`` frames after
        frame ``T`` (a burn-in decoder reads frames ``0 .. T`` first; with
        ``dynamic_graph`` it re-infers the graph at every step ``s >= T`` from the
        ground-truth frames ``[s - T, s)``, spec/nri.md 6.1); one-step errors on the
        last ``T`` frames. Without a decoder the squared errors are NaN. Returns sums
        so that a caller can accumulate exact means. Call in eval mode.

        Shapes:
            x ``[B, N, L, F]`` with ``L >= T + 1 + test_horizon``; edge_types ``[B, E]``.
        """
        c = self.config
        t, h = c.n_timesteps, c.test_horizon
        self._check_x(x, t + 1 + h)
        b, n, _, f = x.shape
        logits: Tensor | None
        if self.scheme == "true_graph":
            z, logits = self.true_graph(edge_types, x), None
        else:
            logits, _ = self.encode(x[:, :, :t], generator)  # [B, E, K]
            # D6 (reference): the rollout graph comes from a second encoding
            g_logits = (
                self.encode(x[:, :, :t], generator).logits
                if self._opt("eval_encode_twice")
                else logits
            )
            z = self._eval_graph(g_logits, generator)  # [B, E, K]
        if self.decoder is None:
            nan = torch.full((h,), math.nan, dtype=torch.float64)
            return EvalOutput(logits, z, nan, b * n * f, nan[0], 1)
        if self._opt(
            "dynamic_graph"
        ):  # Q14: z re-inferred from ground truth [s - T, s)

            def graph_at(s: int) -> Tensor:
                return self._eval_graph(
                    self.encode(x[:, :, s - t : s], generator).logits, generator
                )

            seq = ro.rollout_sequential(
                self._decoder().step, x[:, :, : t + 1 + h], z, burn_in_steps=t,
                graph_at=graph_at,
            )  # fmt: skip
            pred = seq[:, :, t : t + h]  # [B, N, H, F]
        else:
            pred = self.forecast(x[:, :, : t + 1], z, h)  # [B, N, H, F] after frame T
        sq = (pred.double() - x[:, :, t + 1 : t + 1 + h].double()).pow(2)
        window = x[:, :, -t:]  # last T frames
        pred1 = self.predict(window, z, 1)  # [B, N, T-1, F]
        sq1 = (pred1.double() - window[:, :, 1:].double()).pow(2).sum()
        return EvalOutput(
            logits, z, sq.sum(dim=(0, 1, 3)), b * n * f, sq1, math.prod(pred1.shape)
        )

"""SUGAR-like baseline: NRI with hard symmetry and a node-degree-distribution prior
(after Li, Meng, Shahabi & Liu 2019; our form, spec/evaluation.md 3.7, docs/baselines.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from nri import graph
from nri.models.configs import NRIConfig
from nri.models.encoders import EncoderOutput
from nri.models.nri import NRI
from nri.models.outputs import LossOutput

DEGREE_EPS = 1e-10


@dataclass(frozen=True)
class SUGARConfig(NRIConfig):
    """NRI settings plus SUGAR's structural priors (all our choices; the SUGAR paper's
    settings are not available, spec/evaluation.md 3.7)."""

    hard_sym: bool = True  # z_ij = z_ji: logits (and q) of i<-j tied to j<-i
    hard_sym_shared_sample: bool = True  # one Gumbel sample per unordered pair
    degree_lambda: float = 1.0  # weight of the degree prior; 0 = off
    # Prior on a node's number of interaction partners: Binomial(N - 1, p). Every pair
    # of the synthetic sets interacts with probability 1/2 (springs, Kuramoto; charged:
    # "equal charges"), so p = 0.5.
    degree_prior_p: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.degree_lambda >= 0:
            raise ValueError(
                f"SUGARConfig.degree_lambda must be >= 0, got {self.degree_lambda!r}"
            )
        if not 0.0 < self.degree_prior_p < 1.0:
            raise ValueError(
                f"SUGARConfig.degree_prior_p must be in (0, 1), got {self.degree_prior_p!r}"
            )
        if self.n_edge_types < 2:
            raise ValueError("SUGAR needs n_edge_types >= 2 (type 0 = no interaction)")


def symmetrise(values: Tensor) -> Tensor:
    """Edges with receiver < sender take the values of their reverse edge (the tying of
    spec/nri-mpm.md 3): ``v'(i <- j) = v(j <- i)`` for ``i < j``.

    Shapes:
        values ``[B, E, ...]`` -> ``[B, E, ...]``.
    """
    n = graph.n_nodes(values.shape[1])
    send, recv = graph.fully_connected(n, values.device)
    rev = graph.reverse_index(n, values.device)
    mask = (recv < send).reshape(1, -1, *([1] * (values.ndim - 2)))  # [1, E, 1...]
    return torch.where(mask, values.index_select(1, rev), values)


def degree_distribution(p_edge: Tensor) -> Tensor:
    """Distribution of each node's degree for independent edges (Poisson binomial).

    ``P[b, i, d]`` = probability that exactly d of node i's incoming edges are present,
    edge k present with probability ``p_edge[b, i, k]``; exact recursion over the
    edges.

    Shapes:
        p_edge ``[B, N, N-1]`` (incoming edges of every receiver, :mod:`nri.graph`
        order) -> ``[B, N, N]`` (degrees 0 .. N-1).
    """
    b, n, m = p_edge.shape
    dist = torch.cat(
        [p_edge.new_ones(b, n, 1), p_edge.new_zeros(b, n, m)], dim=-1
    )  # [B, N, M+1]: degree 0 with certainty before any edge
    for k in range(m):
        p = p_edge[:, :, k : k + 1]  # [B, N, 1]
        shifted = torch.cat([dist.new_zeros(b, n, 1), dist[:, :, :-1]], dim=-1)
        dist = dist * (1 - p) + shifted * p
    return dist


def binomial_pmf(n: int, p: float) -> Tensor:
    """``Binomial(n, p)`` probabilities of ``0 .. n`` (float64, ``[n + 1]``)."""
    return torch.tensor(
        [math.comb(n, d) * p**d * (1 - p) ** (n - d) for d in range(n + 1)],
        dtype=torch.float64,
    )


def degree_kl(q: Tensor, prior_p: float) -> Tensor:
    """``KL(h || Binomial(N - 1, p))`` between the expected degree histogram ``h`` of
    the batch and the prior.

    An edge is "present" with probability ``1 - q[..., 0]`` (type 0 = no interaction);
    node degrees count incoming edges; ``h[d]`` is the mean over samples and nodes of
    ``P(degree = d)`` (:func:`degree_distribution`), i.e. the expected fraction of
    nodes with degree d.

    Shapes:
        q ``[B, E, K]`` -> scalar (float32).
    """
    b, e, _ = q.shape
    n = graph.n_nodes(e)
    p_edge = (1.0 - q[..., 0].float()).reshape(b, n, n - 1)  # [B, E] -> [B, N, N-1]
    hist = degree_distribution(p_edge).mean(dim=(0, 1))  # [N]
    prior = binomial_pmf(n - 1, prior_p).to(hist)
    return (hist * (torch.log(hist + DEGREE_EPS) - torch.log(prior))).sum()


class SUGAR(NRI):
    """NRI with SUGAR's structural priors (Li, Meng, Shahabi & Liu, ICML 2019 workshop
    "Structure-Informed Graph Auto-Encoder for Relational Inference and Simulation"),
    in the form we define (spec/evaluation.md 3.7; docs/baselines.md).

    * Hard symmetry: the logits of every edge with receiver < sender are those of its
      reverse (so ``q_ij = q_ji``) and, with ``hard_sym_shared_sample``, one Gumbel
      sample serves both directions (``z_ij = z_ji``, the constraint as NRI-MPM's paper
      states it, citing SUGAR).
    * Degree prior: ``loss = nll + kl + degree_lambda * KL(h || Binomial(N - 1, p))``
      with ``h`` the batch's expected node-degree histogram (:func:`degree_kl`).

    Everything else is :class:`~nri.models.nri.NRI` (encoder, decoder, rollouts,
    selection on the validation NLL, test protocol).

    Args:
        config: a :class:`SUGARConfig`.

    Shapes:
        as :class:`~nri.models.nri.NRI`.

    Differences from the paper: the SUGAR paper and code are not available to us; the
    form of the degree prior (a KL between expected degree histograms and a binomial
    prior), its weight, the base model (NRI's encoder and decoder) and all settings are
    our choices, not SUGAR's.
    """

    config: SUGARConfig

    def __init__(self, config: SUGARConfig) -> None:
        super().__init__(config)

    def encode(self, x: Tensor) -> EncoderOutput:
        """NRI's encoder; under ``hard_sym`` the logits are tied across directions.

        Shapes:
            x ``[B, N, T, F]`` -> logits, q ``[B, E, K]``.
        """
        logits, q = super().encode(x)
        if not self.config.hard_sym:
            return EncoderOutput(logits, q)
        logits = symmetrise(logits)  # [B, E, K]
        return EncoderOutput(logits, torch.softmax(logits, dim=-1))

    def sample_edges(
        self, logits: Tensor, hard: bool, generator: torch.Generator | None = None
    ) -> Tensor:
        """Gumbel-softmax sample; with hard symmetry and a shared sample, edges with
        receiver < sender copy their reverse's sample.

        Shapes:
            logits ``[B, E, K]`` -> z ``[B, E, K]``.
        """
        z = super().sample_edges(logits, hard, generator)
        c = self.config
        return symmetrise(z) if c.hard_sym and c.hard_sym_shared_sample else z

    def _with_degree_prior(self, out: LossOutput) -> LossOutput:
        c = self.config
        if c.degree_lambda == 0:
            return out
        degree = degree_kl(torch.softmax(out.logits.float(), dim=-1), c.degree_prior_p)
        logs = {**out.logs, "degree": degree.detach()}
        return LossOutput(out.loss + c.degree_lambda * degree, logs, out.logits)

    def loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """NRI's training loss plus ``degree_lambda * degree`` (logged as ``degree``).

        Shapes:
            x ``[B, N, T, F]``, edge_types ``[B, E]`` -> scalar loss.
        """
        return self._with_degree_prior(super().loss(x, generator, edge_types))

    def validation_loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """NRI's validation loss plus the degree term (selection stays on val/nll)."""
        return self._with_degree_prior(
            super().validation_loss(x, generator, edge_types)
        )

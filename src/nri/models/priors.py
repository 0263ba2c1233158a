"""Graph priors and regularisers of the ELBO, and the hard-symmetry constraint.

A prior is a small module ``prior(logits, q) -> Tensor`` (a scalar, divided by
``B * N`` like the NLL) with a log key ``name`` and a ``weight``:
:class:`~nri.models.vae.RelationalVAE` adds ``weight * term`` to the loss (``weight``
0: logged only) and logs the term under ``name``.

* :class:`CategoricalKL`: ``KL[q || prior]`` with a uniform (NRI, NRI-MPM) or given
  length-K prior (Eq. 5 of Kipf et al. 2018);
* :class:`SymmetricKL`: NRI-MPM's ``lambda * KL[q' || q]``, ``q'(i, j) = q(j, i)``
  (Eqs. 28-29 of Chen et al. 2021);
* :class:`DegreePrior`: SUGAR's node-degree prior in our form,
  ``KL(h || Binomial(N - 1, p))`` of the batch's expected degree histogram
  (spec/evaluation.md 3.7).

:func:`symmetrise` is the hard symmetry of NRI-MPM's "w/ hard Sym" and SUGAR (the
logits, and optionally the sample, of edge ``i <- j`` copied from ``j <- i``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from nri import graph
from nri.losses import KL_EPS, kl_categorical, kl_categorical_uniform, symmetric_kl
from nri.models.encoders import is_non_candidate

__all__ = [
    "DEGREE_EPS",
    "CategoricalKL",
    "DegreePrior",
    "SymmetricKL",
    "binomial_pmf",
    "degree_distribution",
    "degree_kl",
    "symmetrise",
]

DEGREE_EPS = 1e-10


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


class CategoricalKL(nn.Module):
    """``KL[q || p]`` summed over edges and types, divided by ``B * N``: ``p`` uniform
    (``prior`` None; with ``add_const`` the ``log K`` per edge that makes it a true KL,
    reference: omitted) or the given length-K probabilities.

    Shapes:
        logits, q ``[B, E, K]`` -> scalar.
    """

    name = "kl"

    def __init__(
        self, prior: tuple[float, ...] | None = None, add_const: bool = True
    ) -> None:
        super().__init__()
        self.weight = 1.0
        self.add_const = add_const
        log_prior = torch.log(torch.tensor(prior)) if prior is not None else None
        self.register_buffer("log_prior", log_prior, persistent=False)

    def forward(self, logits: Tensor, q: Tensor) -> Tensor:
        cand = ~is_non_candidate(logits)  # [B, E]: candidate edges (docs/scale.md)
        if not bool(cand.all()):  # the fixed non-candidates are no variables
            w = cand[..., None].float()  # [B, E, 1]
            qf = q.float()
            log_p = (
                self.log_prior.to(qf)
                if self.log_prior is not None
                else qf.new_tensor(-math.log(q.shape[-1]))
            )
            if self.log_prior is None and not self.add_const:
                log_p = qf.new_tensor(0.0)
            kl = (w * qf * (torch.log(qf + KL_EPS) - log_p)).sum()
            return kl / (q.shape[0] * graph.n_nodes(q.shape[1]))
        if self.log_prior is not None:
            return kl_categorical(q, self.log_prior)
        return kl_categorical_uniform(q, add_const=self.add_const)


class SymmetricKL(nn.Module):
    """NRI-MPM's symmetric prior ``KL[q' || q]`` (:func:`nri.losses.symmetric_kl`); with
    weight 0 ("w/o Sym") it is logged, not trained on. Also logged by the supervised
    scheme (a measure of asymmetry).

    Shapes:
        logits, q ``[B, E, K]`` -> scalar.
    """

    name = "sym"
    diagnostic = True  # logged (detached) by the schemes that train no prior

    def __init__(self, weight: float = 100.0) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, logits: Tensor, q: Tensor) -> Tensor:
        rev = graph.reverse_index(graph.n_nodes(q.shape[1]), q.device)
        cand = ~is_non_candidate(logits)  # [B, E]
        if not bool(cand.all()):  # only pairs with both directions candidates
            both = (cand & cand.index_select(1, rev))[..., None].float()  # [B, E, 1]
            qf = q.float()
            log_q = torch.log(qf + KL_EPS)
            kl = both * qf.index_select(1, rev) * (log_q.index_select(1, rev) - log_q)
            return kl.sum() / (q.shape[0] * graph.n_nodes(q.shape[1]))
        return symmetric_kl(q, rev)


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


class DegreePrior(nn.Module):
    """SUGAR's structural prior in our form (Li et al. 2019; spec/evaluation.md 3.7):
    ``degree_kl(softmax(logits), p)`` (:func:`degree_kl`), type 0 = no interaction.

    Shapes:
        logits, q ``[B, E, K]`` -> scalar.
    """

    name = "degree"

    def __init__(self, weight: float = 1.0, prior_p: float = 0.5) -> None:
        super().__init__()
        self.weight = weight
        self.prior_p = prior_p

    def forward(self, logits: Tensor, q: Tensor) -> Tensor:
        return degree_kl(torch.softmax(logits.float(), dim=-1), self.prior_p)

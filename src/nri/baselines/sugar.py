"""SUGAR-like baseline: NRI with hard symmetry and a node-degree-distribution prior
(after Li, Meng, Shahabi & Liu 2019; our form, spec/evaluation.md 3.7, docs/baselines.md).

A preset of parts: NRI's encoder and decoder, the priors ``kl`` and ``degree``
(:class:`nri.models.priors.DegreePrior`) and hard symmetry. The degree prior's
functions live in :mod:`nri.models.priors` (any model can name it) and are re-exported
here.
"""

from __future__ import annotations

from dataclasses import dataclass

from nri.models.configs import NRIConfig
from nri.models.nri import NRI
from nri.models.priors import (
    DEGREE_EPS,
    binomial_pmf,
    degree_distribution,
    degree_kl,
    symmetrise,
)

__all__ = [
    "DEGREE_EPS", "SUGAR", "SUGARConfig", "binomial_pmf", "degree_distribution",
    "degree_kl", "symmetrise",
]  # fmt: skip


@dataclass(frozen=True)
class SUGARConfig(NRIConfig):
    """NRI settings with SUGAR's structural priors switched on (all our choices; the
    SUGAR paper's settings are not available, spec/evaluation.md 3.7)."""

    priors: tuple[str, ...] = ("kl", "degree")
    hard_sym: bool = True  # z_ij = z_ji: logits (and q) of i<-j tied to j<-i
    hard_sym_shared_sample: bool = True  # one Gumbel sample per unordered pair
    degree_lambda: float = 1.0  # weight of the degree prior; 0 = off
    # Prior on a node's number of interaction partners: Binomial(N - 1, p). Every pair
    # of the synthetic sets interacts with probability 1/2 (springs, Kuramoto; charged:
    # "equal charges"), so p = 0.5.
    degree_prior_p: float = 0.5


class SUGAR(NRI):
    """NRI with SUGAR's structural priors (Li, Meng, Shahabi & Liu, ICML 2019 workshop
    "Structure-Informed Graph Auto-Encoder for Relational Inference and Simulation"),
    in the form we define (spec/evaluation.md 3.7; docs/baselines.md).

    * Hard symmetry: the logits of every edge with receiver < sender are those of its
      reverse (so ``q_ij = q_ji``) and, with ``hard_sym_shared_sample``, one Gumbel
      sample serves both directions (``z_ij = z_ji``, the constraint as NRI-MPM's paper
      states it, citing SUGAR).
    * Degree prior: ``loss = nll + kl + degree_lambda * KL(h || Binomial(N - 1, p))``
      with ``h`` the batch's expected node-degree histogram
      (:func:`~nri.models.priors.degree_kl`; logged as ``degree``).

    Everything else is :class:`~nri.models.nri.NRI` (encoder, decoder, rollouts,
    selection on the validation NLL, test protocol).

    Args:
        config: a :class:`SUGARConfig`.

    Differences from the paper: the SUGAR paper and code are not available to us; the
    form of the degree prior (a KL between expected degree histograms and a binomial
    prior), its weight, the base model (NRI's encoder and decoder) and all settings are
    our choices, not SUGAR's.
    """

    config: SUGARConfig

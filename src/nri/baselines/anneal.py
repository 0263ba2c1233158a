"""Simulated annealing over per-sample structures, batched (ModularMeta's inner loop).

A *structure* assigns one edge module (edge type) to every directed edge of a sample,
``s [B, E]`` int64 in the edge order of :mod:`nri.graph`. The search minimises a loss
``loss_fn(s) -> [B]`` (the prediction error of the module composition) with
Metropolis steps: propose ``s'`` (:func:`propose_node` / :func:`propose_edge`),
accept with :func:`metropolis_accept`. Every function works on a whole batch of
samples at once; randomness comes from a ``torch.Generator``.

The temperature controller (:func:`update_acceptance`, :func:`adapt_temperature`,
:func:`target_rate`) is that of Alet et al.'s code (FerranAlet/modular-metalearning,
``neurips2019/modular_metalearning.py``, ``SAConfig_SGDModules``): a running estimate
of the fraction of *worse* proposals that were accepted is steered towards a target
that decays exponentially, by multiplying or dividing the temperature by 1.1.
docs/baselines.md (ModularMeta) gives the settings and where ours departs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "anneal",
    "adapt_temperature",
    "metropolis_accept",
    "propose_edge",
    "propose_node",
    "target_rate",
    "update_acceptance",
]

LossFn = Callable[[Tensor], Tensor]  # s [B, E] -> loss [B]
ProposeFn = Callable[[Tensor, torch.Generator | None], Tensor]  # s -> s'


def metropolis_accept(
    old: Tensor, new: Tensor, temperature: float, u: Tensor
) -> Tensor:
    """Acceptance of proposals: ``new <= old`` or ``u < exp((old - new) / T)``.

    ``temperature <= 0`` accepts only proposals that are no worse (greedy).

    Args:
        old, new: losses of the current and proposed structures.
        temperature: T.
        u: uniform draws in [0, 1), one per sample.

    Shapes:
        old, new, u ``[B]`` -> ``[B]`` bool.
    """
    better = new <= old
    if temperature <= 0:
        return better
    ratio = torch.exp(((old - new) / temperature).clamp(max=0.0).double())
    return better | (u.double() < ratio)


def _sample_types(probs: Tensor, generator: torch.Generator | None) -> Tensor:
    """One type per row of ``probs [..., K]`` (multinomial; rows need not be
    normalised, zero rows are not allowed)."""
    k = probs.shape[-1]
    flat = probs.reshape(-1, k).float()
    draws = torch.multinomial(flat, 1, generator=generator)  # [M, 1]
    return draws.view(probs.shape[:-1])


def propose_node(
    s: Tensor,
    q: Tensor,
    recv: Tensor,
    n_nodes: int,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The authors' "node" proposal: pick one node per sample uniformly and redraw
    the type of each of its *incoming* edges from ``q`` (each edge independently; it
    may keep its type). ``q`` uniform gives a blind proposal.

    Args:
        s: current structures.
        q: proposal distribution per edge (the learned proposal's softmax).
        recv: receiver of every edge (:func:`nri.graph.fully_connected`).
        n_nodes: N.
        generator: the draws' generator.

    Shapes:
        s ``[B, E]`` int64, q ``[B, E, K]``, recv ``[E]`` -> ``[B, E]`` int64.
    """
    b = s.shape[0]
    node = torch.randint(0, n_nodes, (b,), generator=generator, device=s.device)
    mask = recv[None, :] == node[:, None]  # [B, E]: incoming edges of the node
    drawn = _sample_types(q, generator)  # [B, E]
    return torch.where(mask, drawn, s)


def propose_edge(
    s: Tensor, q: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """The authors' "edge" proposal: change the type of one edge per sample, to a
    type other than its current one drawn from ``q`` without the current type (a
    uniform other type where ``q`` puts all its mass on the current one).

    Shapes:
        s ``[B, E]`` int64, q ``[B, E, K]`` -> ``[B, E]`` int64.
    """
    b, e = s.shape
    k = q.shape[-1]
    if k < 2:
        raise ValueError(f"an edge proposal needs at least 2 types, got K={k}")
    rows = torch.arange(b, device=s.device)
    edge = torch.randint(0, e, (b,), generator=generator, device=s.device)
    cur = s[rows, edge]  # [B]
    p = q[rows, edge].float().clone()  # [B, K]
    p[rows, cur] = 0.0
    empty = p.sum(-1) <= 0
    if bool(empty.any()):
        uniform = torch.ones_like(p)
        uniform[rows, cur] = 0.0
        p = torch.where(empty[:, None], uniform, p)
    new = s.clone()
    new[rows, edge] = _sample_types(p, generator)
    return new


def update_acceptance(
    rate: float, factor: float, worse: Tensor, accepted: Tensor
) -> tuple[float, float]:
    """The running fraction of worse proposals accepted, after one batch.

    The authors' update, applied to each worse proposal in batch order with one rate
    ``w = min(0.01, rate / factor)`` per batch: ``factor <- (1 - w) factor + w``,
    ``rate <- (1 - w) rate + w [accepted]``; ``rate / factor`` is the estimate.

    Shapes:
        worse, accepted ``[B]`` bool -> (rate, factor).
    """
    w = min(0.01, rate / factor)
    acc = accepted[worse].double().cpu()  # [M] in batch order
    m = acc.numel()
    if m == 0:
        return rate, factor
    decay = (1.0 - w) ** m
    # the i-th of m updates is discounted by (1 - w)^(m - 1 - i)
    weights = w * (1.0 - w) ** torch.arange(m - 1, -1, -1, dtype=torch.float64)
    return decay * rate + float((weights * acc).sum()), decay * factor + (1 - decay)


def adapt_temperature(
    temperature: float, rate: float, factor: float, target: float, min_temp: float
) -> float:
    """The authors' controller: heat by 1.1 while the running acceptance rate of worse
    proposals is below the target, else cool by 1.1 (not below ``min_temp``)."""
    if rate / factor < target:
        return temperature * 1.1
    return max(temperature / 1.1, min_temp)


def target_rate(initial_log_rate: float, progress: float) -> float:
    """The target fraction of accepted worse proposals, ``exp(a - 5 progress)`` with
    ``progress`` = elapsed / annealing length (the authors' ``initial_acc`` = a = -1:
    37 % at the start, 0.25 % at the end of the annealing length)."""
    return math.exp(initial_log_rate - 5.0 * progress)


def anneal(
    loss_fn: LossFn,
    s: Tensor,
    propose: ProposeFn,
    steps: int,
    temperature: float,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """``steps`` Metropolis steps at a fixed temperature from ``s`` (the search with
    fixed modules: test time). The current losses are kept between steps (the
    modules do not change), so a step costs one evaluation of ``loss_fn``.

    Args:
        loss_fn: ``s [B, E] -> [B]``, e.g. the rollout MSE of the composition.
        s: initial structures.
        propose: ``(s, generator) -> s'``.
        steps: number of proposals per sample (0: ``s`` itself).
        temperature: T (0: greedy).
        generator: proposals and acceptance draws.

    Returns:
        (final structures ``[B, E]``, their losses ``[B]``).
    """
    loss = loss_fn(s)
    for _ in range(steps):
        new = propose(s, generator)
        new_loss = loss_fn(new)
        u = torch.rand(s.shape[0], generator=generator, device=s.device)
        ok = metropolis_accept(loss, new_loss, temperature, u)
        s = torch.where(ok[:, None], new, s)
        loss = torch.where(ok, new_loss, loss)
    return s, loss

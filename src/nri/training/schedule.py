"""The annealing schedule of training: the learning rate's step decay, and the batch
growth that can take the place of its first decays (``train.max_batch_size``;
docs/training.md, "Ten thousand simulations").

Both are pure functions of the number of finished epochs, so a resumed run follows the
schedule of an uninterrupted one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nri.config import ConfigError, RunConfig


def n_decays(epoch: int, step: int, start: int | None = None) -> int:
    """How many decays the step schedule has made after ``epoch`` finished epochs: 0
    before epoch ``start``, then one more every ``step`` epochs (``start=None``:
    ``start = step``, PyTorch's StepLR and the original NRI code's schedule)."""
    first = step if start is None else start
    return 0 if epoch < first else (epoch - first) // step + 1


def lr_factor(epoch: int, step: int, gamma: float, start: int | None = None) -> float:
    """The learning-rate multiplier after ``epoch`` finished epochs: ``gamma ** n``
    with ``n`` = :func:`n_decays` (the first decay at ``start``, then one every
    ``step`` epochs; ``start=None`` is StepLR: ``gamma ** (epoch // step)``)."""
    return gamma ** n_decays(epoch, step, start)


@dataclass(frozen=True)
class Anneal:
    """The schedule of one run: decays of the rate by ``gamma`` at the epochs of
    :func:`n_decays`; with ``max_batch`` set, each of the first decays multiplies the
    training batch by ``1 / gamma`` instead (2 for the usual gamma 1/2), as long as the
    batch stays within ``max_batch``, and only the later ones lower the rate. The noise
    of a stochastic-gradient step falls with the batch as it does with the rate
    (Smith et al., "Don't decay the learning rate, increase the batch size", ICLR
    2018), while a step of a larger batch costs less per sample on a CPU (a batch-16
    step is mostly per-operation overhead; docs/training.md, "Where a step's time
    goes").

    Attributes:
        step, gamma, start: the model's ``lr_decay_step``, ``lr_decay_gamma``,
            ``lr_decay_start``.
        batch: the first epochs' batch (``train.batch_size``).
        max_batch: the largest batch to grow to (None: the batch stays; the papers).
        shift: 1 where the rate is stepped before the epoch (reference quirk Q3).

    Raises:
        ConfigError: ``max_batch`` below ``batch``, or a batch growth ``1 / gamma``
            that is not a whole number.
    """

    step: int
    gamma: float
    start: int | None
    batch: int
    max_batch: int | None = None
    shift: int = 0

    def __post_init__(self) -> None:
        if self.max_batch is None:
            return
        if self.max_batch < self.batch:
            raise ConfigError(
                f"train.max_batch_size ({self.max_batch}) is below train.batch_size "
                f"({self.batch}); give a larger one, or null to keep the batch"
            )
        if abs(self.growth - 1 / self.gamma) > 1e-9 or self.growth < 2:
            raise ConfigError(
                f"train.max_batch_size grows the batch by 1 / lr_decay_gamma, which "
                f"must be a whole number >= 2, got 1 / {self.gamma}; use "
                "model.lr_decay_gamma=0.5 (or 0.25, ...), or train.max_batch_size=null"
            )

    @property
    def growth(self) -> int:
        """The factor by which one decay grows the batch (``round(1 / gamma)``)."""
        return max(1, round(1 / self.gamma))

    @property
    def batch_decays(self) -> int:
        """How many decays grow the batch before the rate takes over."""
        if self.max_batch is None:
            return 0
        return int(
            math.floor(math.log(self.max_batch / self.batch, self.growth) + 1e-9)
        )

    def batch_size(self, epoch: int) -> int:
        """Training samples per batch in epoch ``epoch`` (0-based: after ``epoch``
        finished epochs)."""
        n = n_decays(epoch + self.shift, self.step, self.start)
        return self.batch * self.growth ** min(n, self.batch_decays)

    def lr_factor(self, epoch: int) -> float:
        """The learning-rate multiplier in epoch ``epoch`` (0-based)."""
        n = n_decays(epoch + self.shift, self.step, self.start)
        return self.gamma ** max(n - self.batch_decays, 0)

    @property
    def largest_batch(self) -> int:
        """The largest batch the schedule can reach (if the run lasts long enough)."""
        return self.batch * self.growth**self.batch_decays


def anneal_of(config: RunConfig) -> Anneal:
    """The :class:`Anneal` of a run: the model's ``lr_decay_*`` settings with the
    training batch and ``train.max_batch_size``."""
    mc, t = config.model_config, config.train
    return Anneal(
        step=mc.lr_decay_step,
        gamma=mc.lr_decay_gamma,
        start=mc.lr_decay_start,
        batch=t.batch_size,
        max_batch=t.max_batch_size,
        shift=1 if getattr(mc, "lr_step_before_epoch", False) else 0,
    )

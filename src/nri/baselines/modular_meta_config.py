"""Settings of the ModularMeta baseline (Alet et al., NeurIPS 2019): the module library,
the learned proposal, the simulated annealing and the search budgets.

Defaults follow the authors' run scripts (FerranAlet/modular-metalearning,
``neurips2019/run_springs.sh``) where our framework allows; each departure is named
in its comment and in docs/baselines.md (ModularMeta).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from nri.models.validation import check_decoder_window, check_fields

__all__ = ["ModularMetaConfig"]


@dataclass(frozen=True)
class ModularMetaConfig:
    """ModularMeta settings (docs/baselines.md, ModularMeta)."""

    # data
    n_features: int = 4  # F
    n_timesteps: int = 49  # T: training window; test: search on frames 0 .. T-1
    # module library: K edge modules and one node module, NRI's MLP decoder parts
    # (authors: "relu-8-256-256-256" edge and "affine-260-256-256-256-4" node MLPs,
    # one hidden layer more than NRI's)
    n_edge_types: int = 2  # K edge modules (authors: --num_modules 1,2)
    decoder_hidden_dim: int = 256  # message and node-module widths (authors: 256)
    decoder_dropout: float = 0.0  # authors: none
    skip_first: bool = False  # authors: every edge module is learned (none silent)
    # learned proposal: NRI's encoder (authors: their MLPStateEncoder = NRI's MLP
    # encoder, hidden 512, dropout 0.5), trained on the accepted structures
    proposal: Literal["learned", "uniform"] = "learned"
    encoder: Literal["mlp", "cnn"] = "mlp"
    encoder_hidden_dim: int = 256  # authors: 512
    encoder_dropout: float = 0.0  # authors: 0.5
    # move: "node" = redraw the incoming edges of one random node (authors'
    # --proposal_type node), "edge" = change one random edge
    proposal_move: Literal["node", "edge"] = "node"
    # rollout: teacher forcing every pred_steps frames (authors: num_steps 10)
    pred_steps: int = 10
    decoder_window: int | None = None  # a random stretch in training (cpu preset)
    # simulated annealing in training (authors: --initial_temp -9.8,
    # --initial_acc -1, --temp_slope_opt_steps 800 passes over the data)
    initial_temperature: float = math.exp(-9.8)
    min_temperature: float = math.exp(-100.0)
    # target rate exp(a - 5 epoch / anneal_epochs): 5 % at the start (authors: -1, 37 %)
    initial_log_acceptance: float = -3.0
    anneal_epochs: float = 10.0  # authors: 800 passes over the data
    # proposals per training sample and batch before the gradient step (authors: 1;
    # with 1 a 6-epoch CPU run on springs5 stays at chance, with 4 it learns)
    train_search_steps: int = 4
    # search with fixed modules (validation, test, nri infer): steps per sample from
    # the proposal's most likely structure ("proposal") or a uniform one ("random")
    val_search_steps: int = 5
    test_search_steps: int = 50
    search_init: Literal["proposal", "random"] = "proposal"
    test_temperature: float | None = None  # None: the temperature training ended at
    test_horizon: int = 20
    # optimisation (read by nri.training): Adam on the modules (authors: Adam 1e-2
    # springs, 1e-4 charged, ReduceLROnPlateau) and on the proposal (authors: SGD
    # 1e-3, momentum 0.9)
    lr: float = 1e-3
    encoder_lr: float = 1e-3
    lr_decay_step: int = 200
    lr_decay_gamma: float = 0.5
    lr_decay_start: int | None = None
    lr_step_before_epoch: bool = False

    def __post_init__(self) -> None:
        check_fields(
            self,
            positive_ints=(
                "n_features n_timesteps n_edge_types decoder_hidden_dim "
                "encoder_hidden_dim pred_steps test_horizon lr_decay_step"
            ).split(),
            choices={
                "proposal": ("learned", "uniform"),
                "encoder": ("mlp", "cnn"),
                "proposal_move": ("node", "edge"),
                "search_init": ("proposal", "random"),
            },
            fractions=("decoder_dropout", "encoder_dropout"),
            positive=(
                "initial_temperature min_temperature anneal_epochs lr encoder_lr "
                "lr_decay_gamma"
            ).split(),
            optional_counts=("lr_decay_start",),
        )
        name = type(self).__name__
        if not 2 <= self.n_edge_types <= 127:
            raise ValueError(
                f"{name}.n_edge_types must be in 2..127 (a structure chooses among "
                f"the edge modules), got {self.n_edge_types}"
            )
        if self.train_search_steps < 1:
            raise ValueError(
                f"{name}.train_search_steps must be an int >= 1, got "
                f"{self.train_search_steps!r}"
            )
        for field in ("val_search_steps", "test_search_steps"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}.{field} must be an int >= 0, got {value!r}")
        if self.test_temperature is not None and self.test_temperature < 0:
            raise ValueError(
                f"{name}.test_temperature must be null or >= 0, got "
                f"{self.test_temperature!r}"
            )
        if self.pred_steps > self.n_timesteps - 1:
            raise ValueError(
                f"{name}.pred_steps must be <= n_timesteps - 1 = "
                f"{self.n_timesteps - 1}, got {self.pred_steps}"
            )
        if self.proposal == "uniform" and self.search_init == "proposal":
            raise ValueError(
                f"{name}.search_init=proposal needs proposal=learned; set "
                "model.search_init=random with the uniform proposal"
            )
        check_decoder_window(self)

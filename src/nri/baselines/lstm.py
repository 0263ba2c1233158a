"""LSTM (joint) baseline: one LSTM over the concatenated states of all objects (NRI's
``lstm_baseline.py``; spec/evaluation.md 3.2), the "LSTM" row of Table 2."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nri import rollout as ro
from nri.baselines.base import CapabilityError, check_frames, no_graph, squared_errors
from nri.losses import rollout_nll
from nri.models.encoders import EncoderOutput
from nri.models.outputs import EvalOutput, LossOutput
from nri.models.validation import check_decoder_window, check_fields


@dataclass(frozen=True)
class LSTMConfig:
    """Joint LSTM settings; defaults are the reference's (spec/evaluation.md 3.2) except
    ``val_pred_steps`` (our NRI fix Q4; reference 1)."""

    # data: the model is tied to a fixed number and order of objects
    n_objects: int = 5  # N
    n_features: int = 4  # F
    n_timesteps: int = 49  # T: training window length; test burn-in frames 0 .. T
    # model
    hidden_dim: int = 256  # per-object embedding; LSTM width n_objects * hidden_dim
    n_layers: int = 2
    dropout: float = 0.0  # in the per-object embedding
    # loss and rollout
    variance: float = 5e-5  # sigma^2 of the Gaussian likelihood
    pred_steps: int = 10  # ground truth at steps 0 .. T - pred_steps, then own outputs
    decoder_window: int | None = None  # training: a random stretch (None: all frames)
    val_pred_steps: int = 10  # reference: 1 (pure teacher forcing, spec/nri.md Q4)
    test_horizon: int = 20
    # optimisation (read by nri.training)
    lr: float = 5e-4
    lr_decay_step: int = 200
    lr_decay_start: int | None = None  # first decay; None: lr_decay_step (StepLR)
    lr_decay_gamma: float = 0.5
    lr_step_before_epoch: bool = False  # reference: True (spec/nri.md Q3)

    def __post_init__(self) -> None:
        check_fields(
            self,
            positive_ints=(
                "n_objects n_features n_timesteps hidden_dim n_layers pred_steps "
                "val_pred_steps test_horizon lr_decay_step"
            ).split(),
            fractions=("dropout",),
            positive=("variance", "lr", "lr_decay_gamma"),
            optional_counts=("lr_decay_start",),
        )
        if self.n_objects < 2:
            raise ValueError(f"LSTMConfig.n_objects must be >= 2, got {self.n_objects}")
        check_decoder_window(self)
        for field in ("pred_steps", "val_pred_steps"):
            if getattr(self, field) > self.n_timesteps - 1:
                raise ValueError(
                    f"LSTMConfig.{field} must be <= n_timesteps - 1 = "
                    f"{self.n_timesteps - 1}, got {getattr(self, field)}"
                )


class JointLSTM(nn.Module):
    """LSTM (joint) baseline (Kipf et al. 2018, "an LSTM that takes the concatenation of
    all state vectors and predicts all future states simultaneously").

    One step: per-object embedding ``Linear(F, H) -> ReLU -> Dropout -> Linear(H, H) ->
    ReLU`` (shared weights); the N embeddings concatenated in object order ``[B, N*H]``;
    a ``n_layers`` LSTM of width ``N*H`` (state carried); ``Linear(N*H, N*H) -> ReLU ->
    Linear(N*H, N*F)``; prediction ``x_t + output`` (residual). Linear layers:
    Xavier-normal weights, bias 0.1; LSTM: PyTorch's default. 27,967,252 parameters
    for N = 5, F = 4 (spec: about 28.0 M).

    Training (spec/evaluation.md 3.2): ``T``-frame windows, ground truth at steps
    ``0 .. T - pred_steps`` and its own predictions afterwards (39 / 8 steps for
    T = 49), Gaussian NLL over all ``T - 1`` outputs, divided by ``B * N``. Test
    (spec 2.4): burn-in on ground-truth frames ``0 .. T``, then ``test_horizon``
    frames free-running.

    Args:
        config: an :class:`LSTMConfig`.

    Shapes:
        x ``[B, N, T, F]`` with ``N = n_objects``; one step ``[B, N, F] -> [B, N, F]``;
        state ``[2, n_layers, B, N*H]`` (hidden and cell states).

    Differences from the reference: validation with the training horizon
    (``val_pred_steps``, reference 1); the unused BatchNorm of the reference is not
    built.
    """

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = c = config
        h, width = c.hidden_dim, c.n_objects * c.hidden_dim
        self.embed = nn.Sequential(
            nn.Linear(c.n_features, h),
            nn.ReLU(),
            nn.Dropout(c.dropout),
            nn.Linear(h, h),
            nn.ReLU(),
        )
        self.lstm = nn.LSTM(width, width, num_layers=c.n_layers, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, c.n_objects * c.n_features),
        )
        for module in (*self.embed, *self.head):
            if isinstance(module, nn.Linear):
                nn.init.xavier_normal_(module.weight)
                nn.init.constant_(module.bias, 0.1)

    def selection_metric(self) -> tuple[str, str]:
        """Checkpoint selection: the lowest validation NLL (spec/evaluation.md 3.2)."""
        return "val/nll", "min"

    def _check_x(self, x: Tensor, min_frames: int) -> None:
        c = self.config
        check_frames("JointLSTM", x, c.n_features, min_frames, c.n_objects)

    def step(
        self, x_t: Tensor, z: Tensor, state: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """One step of all objects; ``z`` is ignored (no graph).

        Shapes:
            x_t ``[B, N, F]``, state ``[2, L, B, N*H]`` or None ->
            (``[B, N, F]``, ``[2, L, B, N*H]``).
        """
        b, n, f = x_t.shape
        e = self.embed(x_t).reshape(b, 1, -1)  # [B, N, F] -> [B, 1, N*H]
        hc = None if state is None else (state[0].contiguous(), state[1].contiguous())
        out, (h, c) = self.lstm(e, hc)  # [B, 1, N*H]
        delta = self.head(out[:, 0]).reshape(b, n, f)  # [B, N*F] -> [B, N, F]
        return x_t + delta.to(x_t.dtype), torch.stack([h, c])

    def predict(self, x: Tensor, z: Tensor | None, pred_steps: int) -> Tensor:
        """Burn-in prediction of frames ``1 .. L-1``: ground truth at steps
        ``0 .. L - pred_steps``, own predictions afterwards (``pred_steps = 1``: pure
        teacher forcing). ``z`` is ignored.

        Shapes:
            x ``[B, N, L, F]`` -> ``[B, N, L-1, F]``.
        """
        self._check_x(x, pred_steps + 1)
        burn_in = x.shape[2] - pred_steps
        return ro.rollout_sequential(self.step, x, no_graph(x), burn_in_steps=burn_in)

    def forecast(self, x_hist: Tensor, z: Tensor | None, n_steps: int) -> Tensor:
        """Burn in on the whole history, then roll out ``n_steps`` frames after its
        last frame. ``z`` is ignored.

        Shapes:
            x_hist ``[B, N, T, F]`` -> ``[B, N, n_steps, F]``.
        """
        self._check_x(x_hist, 1)
        return ro.forecast(self.step, x_hist, no_graph(x_hist), n_steps, burn_in=True)

    def encode(self, x: Tensor) -> EncoderOutput:
        """Not available: the joint LSTM infers no relations."""
        raise CapabilityError("the LSTM baseline infers no relations")

    def _loss(self, x: Tensor, pred_steps: int, validation: bool) -> LossOutput:
        nll, logs = rollout_nll(
            lambda xx, m: self.predict(xx, None, m), x, pred_steps,
            self.config.variance, validation,
        )  # fmt: skip
        return LossOutput(nll, logs, None)  # no graph

    def loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """Training loss: Gaussian NLL of the burn-in rollout (``pred_steps``), divided
        by ``B * N``. Logs ``nll`` and ``mse``; ``logits`` is None (no graph).
        With ``decoder_window`` the rollout covers a random stretch of that many
        frames (start from ``generator``), its NLL rescaled to the whole window.
        ``edge_types`` is unused (dropout uses the global RNG).

        Shapes:
            x ``[B, N, T, F]`` -> scalar.
        """
        x_dec, scale = ro.random_window(x, self.config.decoder_window, generator)
        out = self._loss(x_dec, self.config.pred_steps, False)
        return LossOutput(out.loss * scale, out.logs, None)

    def validation_loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """Validation loss with ``val_pred_steps``; also logs ``nll_1step`` and
        ``mse_1step`` (the reference's selection criterion). Call in eval mode under
        ``torch.no_grad()``.
        """
        return self._loss(x, self.config.val_pred_steps, True)

    @torch.no_grad()
    def evaluate_batch(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> EvalOutput:
        """Test protocol (spec/evaluation.md 2.4, 3.2): burn-in on ground-truth frames
        ``0 .. T``, free-running predictions of frames ``T + 1 .. T + H``; one-step
        errors on the last ``T`` frames; no graph (``logits``, ``z`` None).

        Shapes:
            x ``[B, N, L, F]`` with ``L >= T + 1 + test_horizon``.
        """
        c = self.config
        t, h = c.n_timesteps, c.test_horizon
        self._check_x(x, t + 1 + h)
        pred = self.forecast(x[:, :, : t + 1], None, h)  # [B, N, H, F]
        window = x[:, :, -t:]  # last T frames
        pred1 = self.predict(window, None, 1)  # [B, N, T-1, F]
        sq, count, sq1, count1 = squared_errors(
            pred, x[:, :, t + 1 : t + 1 + h], pred1, window[:, :, 1:]
        )
        return EvalOutput(None, None, sq, count, sq1, count1)

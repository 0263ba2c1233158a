"""The NRI model: a VAE over edge types (Kipf et al. 2018; spec/nri.md)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from nri import rollout as ro
from nri.losses import gaussian_nll, kl_categorical, kl_categorical_uniform
from nri.metrics import batch_accuracy
from nri.models.configs import NRIConfig
from nri.models.decoders import MLPDecoder, RNNDecoder
from nri.models.encoders import CNNEncoder, EncoderOutput, MLPEncoder
from nri.models.outputs import EvalOutput, LossOutput
from nri.nn.gumbel import gumbel_softmax


class NRI(nn.Module):
    """Neural relational inference (Kipf et al. 2018), a VAE over edge types.

    Encoder ``q(z | x) = softmax(f_enc(x))`` (Eqs. (1)-(2), (8)-(11) of the restatement
    in Chen et al. 2021), Gumbel-softmax samples (Eq. (3)), a one-step decoder rolled
    out with periodic teacher forcing (Eqs. (4), (19)-(21), (25)-(27)) and the ELBO
    (Eq. (5)) with a factorised uniform (or given) prior: ``loss = nll + kl``, both
    divided by ``B * N`` (spec/nri.md 7).

    Args:
        config: an :class:`NRIConfig`.

    Shapes:
        x ``[B, N, T, F]``; logits, q, z ``[B, E, K]``; edge_types ``[B, E]``.

    Differences from the paper: the encoder mean-normalises its edge-to-node step
    (reference: divides by N, switch ``edge_to_node_norm``); the RNN decoder averages
    incoming messages (reference: divides by F, ``rnn_agg_norm``); validation uses the
    training horizon ``val_pred_steps = 10`` (reference and paper: 1); the logged KL
    includes ``log K`` per edge (reference: omitted, ``kl_add_const``); a prior is a
    length-K config vector used in training and validation.
    """

    def __init__(self, config: NRIConfig) -> None:
        super().__init__()
        self.config = c = config
        self.encoder: MLPEncoder | CNNEncoder
        if c.encoder == "mlp":
            self.encoder = MLPEncoder(
                c.n_timesteps,
                c.n_features,
                c.encoder_hidden_dim,
                c.n_edge_types,
                c.encoder_dropout,
                c.factor,
                c.edge_to_node_norm,
            )
        else:
            self.encoder = CNNEncoder(
                c.n_features,
                c.encoder_hidden_dim,
                c.n_edge_types,
                c.encoder_dropout,
                c.factor,
                c.edge_to_node_norm,
            )
        self.decoder: MLPDecoder | RNNDecoder
        if c.decoder == "mlp":
            h = c.decoder_hidden_dim
            self.decoder = MLPDecoder(
                c.n_features,
                c.n_edge_types,
                h,
                h,
                h,
                c.decoder_dropout,
                c.skip_first,
                c.decoder_dropout_in_eval,
            )
        else:
            self.decoder = RNNDecoder(
                c.n_features,
                c.n_edge_types,
                c.decoder_hidden_dim,
                c.decoder_dropout,
                c.skip_first,
                c.rnn_agg_norm,
                c.decoder_dropout_in_eval,
            )
        log_prior = torch.log(torch.tensor(c.prior)) if c.prior is not None else None
        self.register_buffer("log_prior", log_prior, persistent=False)

    def selection_metric(self) -> tuple[str, str]:
        """Logged metric and mode for choosing the best checkpoint: the validation NLL,
        as the original (spec/nri.md 9)."""
        return "val/nll", "min"

    def _check_x(self, x: Tensor, min_frames: int) -> None:
        f = self.config.n_features
        if x.ndim != 4 or x.shape[3] != f or x.shape[2] < min_frames:
            raise ValueError(
                f"x must be [B, N, T, F] with F={f} and T >= {min_frames}, "
                f"got {tuple(x.shape)}"
            )

    def encode(self, x: Tensor) -> EncoderOutput:
        """Edge-type logits and posterior.

        Shapes:
            x ``[B, N, T, F]`` -> ``EncoderOutput(logits [B, E, K], q [B, E, K])``.
        """
        return self.encoder(x)

    def sample_edges(
        self, logits: Tensor, hard: bool, generator: torch.Generator | None = None
    ) -> Tensor:
        """Gumbel-softmax sample with the configured temperature.

        Shapes:
            logits ``[B, E, K]`` -> z ``[B, E, K]`` float32.
        """
        return gumbel_softmax(logits, self.config.tau, hard, generator)

    def predict(self, x: Tensor, z: Tensor, pred_steps: int) -> Tensor:
        """Teacher-forced multi-step prediction of frames ``1 .. L-1`` (spec 6).

        MLP decoder: segments every ``pred_steps`` frames; RNN decoder: burn-in with
        ground truth at steps ``0 .. L - pred_steps``, then its own predictions.

        Shapes:
            x ``[B, N, L, F]``, z ``[B, E, K]`` -> ``[B, N, L-1, F]``.
        """
        self._check_x(x, pred_steps + 1)
        if self.decoder.stateful:
            burn_in = x.shape[2] - pred_steps
            return ro.rollout_sequential(self.decoder.step, x, z, burn_in_steps=burn_in)
        return ro.rollout(self.decoder.step, x, z, pred_steps)

    def forecast(self, x_hist: Tensor, z: Tensor, n_steps: int) -> Tensor:
        """Roll out ``n_steps`` frames after the last frame of ``x_hist``.

        The MLP decoder sees only the last frame; the RNN decoder burns in over the
        whole history first.

        Shapes:
            x_hist ``[B, N, T, F]``, z ``[B, E, K]`` -> ``[B, N, n_steps, F]``.
        """
        self._check_x(x_hist, 1)
        return ro.forecast(
            self.decoder.step, x_hist, z, n_steps, burn_in=self.decoder.stateful
        )

    def _kl(self, q: Tensor) -> Tensor:
        if self.log_prior is not None:
            return kl_categorical(q, self.log_prior)
        return kl_categorical_uniform(q, add_const=self.config.kl_add_const)

    def _loss(
        self,
        x: Tensor,
        generator: torch.Generator | None,
        edge_types: Tensor | None,
        hard: bool,
        pred_steps: int,
        log_one_step: bool,
    ) -> LossOutput:
        self._check_x(x, pred_steps + 1)
        logits, q = self.encode(x)  # [B, E, K] x2
        z = self.sample_edges(logits, hard, generator)  # [B, E, K]
        # training recipe: the decoder on a random stretch (validation: all frames)
        window = None if log_one_step else self.config.decoder_window
        x_dec, scale = ro.random_window(x, window, generator)
        pred = self.predict(x_dec, z, pred_steps)  # [B, N, L'-1, F]
        target = x_dec[:, :, 1:]
        nll = gaussian_nll(pred, target, self.config.variance) * scale
        kl = self._kl(q)
        loss = nll + kl
        logs = {
            "nll": nll.detach(),
            "kl": kl.detach(),
            "mse": (pred.detach().float() - target.float()).pow(2).mean(),
        }
        if log_one_step and pred_steps != 1:
            pred1 = self.predict(x, z, 1)  # [B, N, L-1, F]
            logs["nll_1step"] = gaussian_nll(pred1, target, self.config.variance)
            logs["mse_1step"] = (pred1.float() - target.float()).pow(2).mean()
            logs = {k: v.detach() for k, v in logs.items()}
        if edge_types is not None:
            logs["acc"] = batch_accuracy(logits, edge_types)
        return LossOutput(loss, logs, logits)

    def loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """Training loss: negative ELBO / N with ``pred_steps`` rollouts.

        Relaxed Gumbel samples unless ``config.hard``. With ``config.decoder_window``
        the decoder predicts a random stretch of that many frames (from ``generator``)
        and its NLL is rescaled to the whole window (:func:`nri.rollout.random_window`).
        Logs ``nll``, ``kl``, ``mse`` and ``acc`` (raw, when ``edge_types`` is given;
        labels < 0 ignored).

        Shapes:
            x ``[B, N, T, F]``, edge_types ``[B, E]`` -> scalar loss,
            logits ``[B, E, K]``.
        """
        c = self.config
        return self._loss(x, generator, edge_types, c.hard, c.pred_steps, False)

    def validation_loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """Validation loss: hard Gumbel samples, ``val_pred_steps`` rollouts.

        Also logs ``nll_1step`` and ``mse_1step`` when ``val_pred_steps != 1``. Call
        it in eval mode under ``torch.no_grad()``.

        Shapes:
            as :meth:`loss`.
        """
        c = self.config
        return self._loss(x, generator, edge_types, True, c.val_pred_steps, True)

    def _eval_graph(self, logits: Tensor, generator: torch.Generator | None) -> Tensor:
        if self.config.eval_graph == "argmax":
            k = self.config.n_edge_types
            return torch.nn.functional.one_hot(logits.argmax(-1), k).float()
        return self.sample_edges(logits, True, generator)  # [B, E, K]

    @torch.no_grad()
    def evaluate_batch(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> EvalOutput:
        """Test protocol on one batch of long trajectories (spec/evaluation.md 2).

        Encoder on frames ``0 .. T-1``; graph = one hard Gumbel sample (or the argmax
        with ``eval_graph="argmax"``); rollout of ``test_horizon`` frames after frame
        ``T`` (MLP decoder: from frame ``T`` alone; RNN decoder: burn-in on frames
        ``0 .. T``; with ``dynamic_graph`` it re-infers the graph at every step
        ``s >= T`` from the ground-truth frames ``[s - T, s)``, spec/nri.md 6.1);
        one-step errors on the last ``T`` frames. Returns sums so that a
        caller can accumulate exact means (``metrics.HorizonMSE``). Call in eval mode.
        ``edge_types`` is accepted for a uniform interface and not used.

        Shapes:
            x ``[B, N, L, F]`` with ``L >= T + 1 + test_horizon`` (99 in the test set).
        """
        c = self.config
        self._check_x(x, c.n_timesteps + 1 + c.test_horizon)
        t, h = c.n_timesteps, c.test_horizon
        logits, _ = self.encode(x[:, :, :t])  # [B, E, K]
        z = self._eval_graph(logits, generator)  # [B, E, K]
        if c.dynamic_graph:  # Q14: z re-inferred from ground truth [s - T, s)

            def graph_at(s: int) -> Tensor:
                return self._eval_graph(
                    self.encode(x[:, :, s - t : s]).logits, generator
                )

            seq = ro.rollout_sequential(
                self.decoder.step,
                x[:, :, : t + 1 + h],
                z,
                burn_in_steps=t,
                graph_at=graph_at,
            )
            pred = seq[:, :, t : t + h]  # [B, N, H, F]
        else:
            pred = self.forecast(x[:, :, : t + 1], z, h)  # from frames 0 .. T
        target = x[:, :, t + 1 : t + 1 + h]
        sq = (pred.double() - target.double()).pow(2)  # [B, N, H, F]
        b, n, _, f = x.shape
        window = x[:, :, -c.n_timesteps :]  # last T frames
        pred1 = self.predict(window, z, 1)  # [B, N, T-1, F]
        sq1 = (pred1.double() - window[:, :, 1:].double()).pow(2).sum()
        return EvalOutput(
            logits, z, sq.sum(dim=(0, 1, 3)), b * n * f, sq1, math.prod(pred1.shape)
        )

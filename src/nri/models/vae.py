"""The one machine of the NRI family: encoder -> edge-type logits -> Gumbel sample ->
decoder rollout -> ELBO with graph priors; it owns the losses and the test protocol.

NRI, NRI-MPM, SUGAR and the supervised / true-graph variants are choices of parts
(:mod:`nri.models.parts`) named by their configs; :mod:`nri.models.nri`,
:mod:`nri.models.mpm` and :mod:`nri.baselines` only pick them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nri import graph
from nri import rollout as ro
from nri.losses import gaussian_nll
from nri.metrics import batch_accuracy
from nri.models import candidates
from nri.models.encoders import EncoderOutput, is_non_candidate
from nri.models.outputs import CapabilityError, LossOutput
from nri.models.priors import symmetrise
from nri.models.protocol import EvalProtocol
from nri.nn.gumbel import gumbel_softmax

__all__ = ["RelationalVAE"]

# protocol settings that only one family's config has (the others behave as these)
_PROTOCOL_DEFAULTS: dict[str, Any] = {
    "dynamic_graph": False,  # NRI: re-infer z at every test step (RNN decoder)
    "eval_encode_twice": False,  # NRI-MPM D6: the rollout graph from a 2nd encoding
    "loss_scale": 1.0,  # NRI-MPM D8: training loss multiplier
    "supervised_double_softmax": False,  # NRI-MPM D2: cross-entropy on q
    "hard_sym": False,
    "hard_sym_shared_sample": True,
}


class RelationalVAE(EvalProtocol, nn.Module):
    """A VAE over edge types (Kipf et al. 2018; Chen et al. 2021) made of parts.

    Encoder ``q(z | x) = softmax(logits)`` (optionally tied across directions: hard
    symmetry), Gumbel-softmax samples (soft in training unless ``config.hard``, hard in
    validation and test), a one-step decoder rolled out with teacher forcing every
    ``pred_steps`` frames (or burned in, NRI's RNN), and the loss of the ``scheme``:

    * ``"vae"``: ``nll + sum_p weight_p * prior_p(q)`` (Eq. 5 of Kipf et al.; Eqs.
      27-29 of Chen et al.), every term divided by ``B * N``;
    * ``"supervised"``: the encoder alone, cross-entropy of the labels (no decoder);
    * ``"true_graph"``: the decoder alone on ``z = one_hot(labels)`` (no encoder).

    The test protocol (``evaluate_batch``) is :class:`~nri.models.protocol.EvalProtocol`.

    Args:
        config: the model config (:class:`~nri.models.configs.NRIConfig`,
            :class:`~nri.models.configs.MPMConfig` or a subclass); the protocol
            settings (``tau``, ``variance``, horizons, ``eval_graph`` ...) are read
            from it at every call.
        encoder, decoder: parts from :data:`nri.models.parts.ENCODERS` /
            :data:`~nri.models.parts.DECODERS` (None: the scheme has none).
        priors: modules from :data:`nri.models.parts.PRIORS` (None entries: off).
        scheme: ``"vae"``, ``"supervised"`` or ``"true_graph"``.
        selection: the validation metric minimised for checkpoint selection
            (NRI: ``"val/nll"``, NRI-MPM: ``"val/loss"``); the supervised scheme
            maximises ``"val/acc"``.
        test_graph: None: the test graph follows ``config.eval_graph``; ``"argmax"``
            always (NRI's supervised encoder).
        true_graph_logits: the true-graph scheme returns the label graph as its
            training ``logits`` (so validation logs edge metrics; NRI-MPM) or None
            (NRI's ``train_dec.py``).

    Candidate edges (``config.candidates``, docs/scale.md): the encoder computes
    only the candidates of the encoder window and gives every other edge the
    logits :func:`~nri.models.encoders.non_candidate_logits` (q = one-hot of type
    0, "no interaction", exactly); their samples ``z`` are the zero vector (they
    send no message of any type), and the decoder passes messages on the support
    of ``z`` only. The KL and symmetric priors count the candidates only.

    Shapes:
        x ``[B, N, T, F]``; logits, q, z ``[B, E, K]``; edge_types ``[B, E]``.
    """

    def __init__(
        self,
        config: Any,
        encoder: nn.Module | None,
        decoder: nn.Module | None,
        priors: Sequence[nn.Module | None] = (),
        scheme: str = "vae",
        selection: str = "val/nll",
        test_graph: str | None = None,
        true_graph_logits: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.decoder = decoder
        self.priors = nn.ModuleList([p for p in priors if p is not None])
        self.scheme = scheme
        self.selection = selection
        self.test_graph = test_graph
        self.true_graph_logits = true_graph_logits

    # ------------------------------------------------------------------ pieces
    def _opt(self, name: str) -> Any:
        c = self.config
        return getattr(c, name) if hasattr(c, name) else _PROTOCOL_DEFAULTS[name]

    def selection_metric(self) -> tuple[str, str]:
        """Logged metric and mode for choosing the best checkpoint."""
        if self.scheme == "supervised":
            return "val/acc", "max"
        return self.selection, "min"

    def _check_x(self, x: Tensor, min_frames: int) -> None:
        f = self.config.n_features
        if x.ndim != 4 or x.shape[3] != f or x.shape[2] < min_frames or x.shape[1] < 2:
            raise ValueError(
                f"x must be [B, N, T, F] with N >= 2, F={f} and T >= {min_frames}, "
                f"got {tuple(x.shape)}"
            )

    def encode(
        self, x: Tensor, generator: torch.Generator | None = None, orders: Any = None
    ) -> EncoderOutput:
        """Edge-type logits and posterior (hard symmetry applied when configured);
        the encoder's randomness (RI orders) from ``generator`` unless ``orders``.

        Shapes:
            x ``[B, N, T, F]`` -> ``EncoderOutput(logits [B, E, K], q [B, E, K])``.
        """
        if self.encoder is None:
            raise CapabilityError(
                f"{type(self).__name__} (scheme {self.scheme!r}) has no encoder; it "
                "infers no graph"
            )
        edges = candidates.candidate_edges(self.config, x)
        if edges is not None:
            logits, q = (
                self.encoder(x, generator, edges=edges)
                if orders is None
                else self.encoder(x, generator, orders, edges=edges)
            )
        elif orders is None:
            logits, q = self.encoder(x, generator)
        else:
            logits, q = self.encoder(x, generator, orders)
        if self._opt("hard_sym"):
            logits = symmetrise(logits)  # receiver < sender: the reverse's logits
            q = torch.softmax(logits, dim=-1)
        return EncoderOutput(logits, q)

    def sample_edges(
        self, logits: Tensor, hard: bool, generator: torch.Generator | None = None
    ) -> Tensor:
        """Gumbel-softmax sample with the configured temperature; under hard symmetry
        with a shared sample the edges with receiver < sender copy their reverse's.

        Shapes:
            logits ``[B, E, K]`` -> z ``[B, E, K]`` float32.
        """
        z = gumbel_softmax(logits, self.config.tau, hard, generator)
        if self._opt("hard_sym") and self._opt("hard_sym_shared_sample"):
            z = symmetrise(z)
        return self.silence_non_candidates(z, logits)

    def silence_non_candidates(self, z: Tensor, logits: Tensor) -> Tensor:
        """``z`` with the edges that are not candidates set to the zero vector (no
        message of any type); unchanged when every pair is a candidate.

        Shapes:
            z, logits ``[B, E, K]`` -> ``[B, E, K]``.
        """
        if not candidates.active(self.config):
            return z
        return z * (~is_non_candidate(logits))[..., None].to(z.dtype)

    def _step(self, z: Tensor) -> tuple[Callable[..., Any], Tensor]:
        """The decoder's step and its ``z``: with candidate edges the step runs on
        the slots of ``z``'s support (:func:`nri.graph.from_edge_mask`) and ``z`` is
        mapped to them."""
        dec = self._decoder()
        if not candidates.active(self.config):
            return dec.step, z
        edges = graph.from_edge_mask(z.detach().ne(0).any(-1))  # [B, N, D]
        return partial(dec.step, edges=edges), graph.full_to_slots(z, edges)

    def _decoder(self) -> nn.Module:
        if self.decoder is None:
            raise CapabilityError(
                f"{type(self).__name__} (scheme {self.scheme!r}) has no decoder; no "
                "predictions or forecasts"
            )
        return self.decoder

    def predict(self, x: Tensor, z: Tensor, pred_steps: int) -> Tensor:
        """Teacher-forced prediction of frames ``1 .. L-1``: segments every
        ``pred_steps`` frames (hidden states reset per segment), or for a burn-in
        decoder (NRI's RNN) ground truth at ``0 .. L - pred_steps``, then its own.

        Shapes:
            x ``[B, N, L, F]``, z ``[B, E, K]`` -> ``[B, N, L-1, F]``.
        """
        dec = self._decoder()
        self._check_x(x, pred_steps + 1)
        step, z = self._step(z)
        if dec.burn_in:
            burn_in = x.shape[2] - pred_steps
            return ro.rollout_sequential(step, x, z, burn_in_steps=burn_in)
        return ro.rollout(step, x, z, pred_steps)

    def forecast(self, x_hist: Tensor, z: Tensor, n_steps: int) -> Tensor:
        """Roll out ``n_steps`` frames after the last frame of ``x_hist`` (a burn-in
        decoder reads the whole history first; the others start empty there).

        Shapes:
            x_hist ``[B, N, T, F]``, z ``[B, E, K]`` -> ``[B, N, n_steps, F]``.
        """
        dec = self._decoder()
        self._check_x(x_hist, 1)
        step, z = self._step(z)
        return ro.forecast(step, x_hist, z, n_steps, burn_in=dec.burn_in)

    def _labels(self, edge_types: Tensor | None, shape: tuple[int, int]) -> Tensor:
        if edge_types is None:
            raise ValueError(
                f"{type(self).__name__} (scheme {self.scheme!r}) is trained on the true "
                "relations: pass edge_types [B, E]"
            )
        if tuple(edge_types.shape) != shape:
            raise ValueError(
                f"edge_types must be [B, E] = {shape}, got {tuple(edge_types.shape)}"
            )
        return edge_types

    def true_graph(self, edge_types: Tensor | None, x: Tensor) -> Tensor:
        """One-hot edge types of the labels (every label must be known).

        Shapes:
            edge_types ``[B, E]``, x ``[B, N, ...]`` -> z ``[B, E, K]`` float32.
        """
        b, n = x.shape[:2]
        labels = self._labels(edge_types, (b, n * (n - 1)))
        if bool((labels < 0).any()):
            raise ValueError(
                f"{type(self).__name__} (scheme 'true_graph') needs every edge label "
                "(got -1)"
            )
        return F.one_hot(labels, self.config.n_edge_types).float()  # [B, E, K]

    # -------------------------------------------------------------------- losses
    def _supervised(
        self, x: Tensor, generator: torch.Generator | None, edge_types: Tensor | None
    ) -> LossOutput:
        c = self.config
        logits, q = self.encode(x[:, :, : c.n_timesteps], generator)  # [B, E, K] x2
        labels = self._labels(edge_types, tuple(logits.shape[:2]))
        if candidates.active(c):  # non-candidates are fixed: not trained on
            labels = labels.masked_fill(is_non_candidate(logits), -1)
        scores = q if self._opt("supervised_double_softmax") else logits  # D2
        loss = F.cross_entropy(
            scores.reshape(-1, c.n_edge_types), labels.reshape(-1), ignore_index=-1
        )
        logs = {"nll": loss.detach()}  # the labels' NLL
        for prior in self.priors:
            if getattr(prior, "diagnostic", False):
                logs[prior.name] = prior(logits.detach(), q.detach())
        logs["acc"] = batch_accuracy(logits, labels)
        return LossOutput(loss, logs, logits)

    def _loss(
        self,
        x: Tensor,
        generator: torch.Generator | None,
        edge_types: Tensor | None,
        hard: bool,
        pred_steps: int,
        validation: bool,
    ) -> LossOutput:
        c = self.config
        self._check_x(x, pred_steps + 1)
        if self.scheme == "supervised":
            return self._supervised(x, generator, edge_types)
        q: Tensor | None = None
        logits: Tensor | None
        if self.scheme == "true_graph":
            z = self.true_graph(edge_types, x)  # [B, E, K]
            logits = z if self.true_graph_logits else None
        else:
            logits, q = self.encode(x, generator)  # [B, E, K] x2
            z = self.sample_edges(logits, hard, generator)  # [B, E, K]
        # training recipe: the decoder on a random stretch (validation: all frames)
        window = None if validation else c.decoder_window
        x_dec, scale = ro.random_window(x, window, generator)
        pred = self.predict(x_dec, z, pred_steps)  # [B, N, L'-1, F]
        target = x_dec[:, :, 1:]
        nll = gaussian_nll(pred, target, c.variance) * scale
        loss = nll
        logs = {
            "nll": nll.detach(),
            "mse": (pred.detach().float() - target.float()).pow(2).mean(),
        }
        if self.scheme == "vae":
            assert logits is not None and q is not None
            for prior in self.priors:
                term = prior(logits, q)  # scalar, / (B * N)
                logs[prior.name] = term.detach()
                if prior.weight == 1.0:
                    loss = loss + term
                elif prior.weight:  # weight 0: logged only (e.g. NRI-MPM w/o Sym)
                    loss = loss + prior.weight * term
        if validation and pred_steps != 1:
            with torch.no_grad():
                pred1 = self.predict(x, z, 1)  # [B, N, L-1, F]
                logs["nll_1step"] = gaussian_nll(pred1, target, c.variance)
                logs["mse_1step"] = (pred1.float() - target.float()).pow(2).mean()
        if edge_types is not None and logits is not None:
            logs["acc"] = batch_accuracy(logits, edge_types)
        return LossOutput(loss, logs, logits)

    def loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """Training loss of the scheme with ``pred_steps`` rollouts (times
        ``loss_scale``, NRI-MPM's D8). Relaxed samples unless ``config.hard``; RI
        orders and Gumbel noise from ``generator``. With ``config.decoder_window``
        the decoder predicts a random stretch and its NLL is rescaled to the whole
        window (:func:`nri.rollout.random_window`). Logs ``nll``, ``mse``, one entry
        per prior (``kl``, ``sym``, ``degree``) and ``acc`` (raw, with ``edge_types``;
        labels < 0 ignored).

        Shapes:
            x ``[B, N, T, F]``, edge_types ``[B, E]`` -> scalar loss,
            logits ``[B, E, K]``.
        """
        c = self.config
        out = self._loss(x, generator, edge_types, c.hard, c.pred_steps, False)
        scale = self._opt("loss_scale")
        if scale != 1.0:
            out = LossOutput(out.loss * scale, out.logs, out.logits)
        return out

    def validation_loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
    ) -> LossOutput:
        """Validation loss: hard samples, ``val_pred_steps`` rollouts, all frames,
        unscaled; also logs ``nll_1step`` and ``mse_1step`` when ``val_pred_steps !=
        1``. Call it in eval mode under ``torch.no_grad()``.
        """
        c = self.config
        return self._loss(x, generator, edge_types, True, c.val_pred_steps, True)

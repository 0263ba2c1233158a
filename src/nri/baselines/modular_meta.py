"""ModularMeta baseline (Alet, Weng, Lozano-Perez & Kaelbling, "Neural Relational
Inference with Fast Modular Meta-learning", NeurIPS 2019), the "ModularMeta" row of
Tables 1-2 of Chen et al. 2021; docs/baselines.md (ModularMeta).

Relational inference as modular meta-learning: a library of K edge modules and one node
module (NRI's MLP decoder parts, :class:`nri.models.decoders.MLPDecoder`, with a
one-hot ``z``) is shared by all samples; a sample's *structure* says which edge module
sits on each directed edge. Training (BounceGrad): every training sample keeps its
structure across epochs; in each batch one simulated-annealing step per sample
(a learned proposal, :mod:`nri.baselines.anneal`) then one gradient step on the modules
with the structures kept. Inference: the search alone, with the trained modules.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nri import graph
from nri import rollout as ro
from nri.baselines import anneal as sa
from nri.baselines.base import check_frames
from nri.baselines.modular_meta_config import ModularMetaConfig
from nri.baselines.modular_meta_protocol import HARD_LOGIT, SearchProtocol, raw_accuracy
from nri.models.outputs import LossOutput
from nri.models.parts import DECODERS, ENCODERS

__all__ = ["HARD_LOGIT", "ModularMeta", "ModularMetaConfig"]

# the annealing state, one float64 buffer: temperature, running acceptance rate of
# worse proposals and its normaliser (the authors start both at 1e-9), target rate
_T, _RATE, _FACTOR, _TARGET = range(4)


class ModularMeta(SearchProtocol, nn.Module):
    """ModularMeta (Alet et al. 2019): edge and node modules meta-learned with
    per-sample structures found by simulated annealing (BounceGrad).

    Loss of a structure ``s``: the MSE of the module composition's rollout with
    teacher forcing every ``pred_steps`` frames (the authors' ``self_regress_steps``),
    mean over objects, frames and features. Training step on a batch (``loss``):

    1. the proposal network (NRI's encoder) reads the window: ``q [B, E, K]``;
    2. each sample's stored structure ``s`` (uniform at its first visit) gets
       ``train_search_steps`` Metropolis steps (authors: 1): a proposal ``s'``
       (``proposal_move``: the incoming edges of one random node redrawn from ``q``)
       scored without gradients and accepted at the current temperature;
    3. the kept structures are stored (the buffer ``train_structures``, in the
       checkpoint);
    4. loss = MSE of the kept structures (gradient to the modules) + the proposal's
       cross-entropy on the accepted structures, times accepted / B (the authors'
       encoder loss);
    5. before each step the temperature is multiplied or divided by 1.1 to steer the
       running rate of accepted worse proposals to ``exp(initial_log_acceptance - 5
       epoch / anneal_epochs)``.

    Validation and test (``validation_loss``, ``evaluate_batch``, ``encode``): the
    search with fixed modules, ``val_search_steps`` / ``test_search_steps`` proposals
    per sample from the proposal's most likely structure, at the temperature training
    ended at (``test_temperature`` overrides it); the found structure is the graph.

    Args:
        config: a :class:`ModularMetaConfig`.

    Shapes:
        x ``[B, N, T, F]``; structures ``[B, E]`` int64 (edge order of
        :mod:`nri.graph`); logits, z ``[B, E, K]``; sample_index ``[B]``.

    Differences from the authors' code (docs/baselines.md): NRI's decoder parts as
    modules (one hidden layer less per module), NRI's encoder as the proposal; the
    temperature adapts before every step (theirs once per pass over the data); 4
    proposals per visit (theirs 1); the test structures are searched after training
    with a fixed budget (theirs during training, one proposal per pass); Adam for the
    proposal (theirs SGD).
    """

    needs_sample_index = True  # nri.training passes each training sample's index

    def __init__(self, config: ModularMetaConfig) -> None:
        super().__init__()
        self.config = c = config
        self.encoder = ENCODERS[c.encoder](c) if c.proposal == "learned" else None
        self.decoder = DECODERS["mlp"](c)
        self.register_buffer(
            "train_structures", torch.zeros(0, 0, dtype=torch.int8), persistent=True
        )
        state = torch.tensor(
            [
                c.initial_temperature,
                1e-9,
                1e-9,
                sa.target_rate(c.initial_log_acceptance, 0),
            ],
            dtype=torch.float64,
        )
        self.register_buffer("anneal_state", state)

    # ---------------------------------------------------------------- interface
    def selection_metric(self) -> tuple[str, str]:
        """Checkpoint selection: the lowest validation MSE of the found structures."""
        return "val/mse", "min"

    def optimizer_groups(self) -> list[dict[str, Any]]:
        """Adam groups: the modules at ``lr``, the proposal at ``encoder_lr``."""
        groups: list[dict[str, Any]] = [{"params": list(self.decoder.parameters())}]
        if self.encoder is not None:
            groups.append(
                {
                    "params": list(self.encoder.parameters()),
                    "lr": self.config.encoder_lr,
                }
            )
        return groups

    def start_epoch(self, epoch: int) -> None:
        """Set the target acceptance rate of the epoch (called by nri.training)."""
        c = self.config
        progress = epoch / c.anneal_epochs
        self.anneal_state[_TARGET] = sa.target_rate(c.initial_log_acceptance, progress)

    @property
    def temperature(self) -> float:
        """The current annealing temperature (in units of the MSE)."""
        return float(self.anneal_state[_T])

    def _check_x(self, x: Tensor, min_frames: int) -> None:
        check_frames("ModularMeta", x, self.config.n_features, min_frames)

    # ------------------------------------------------------------- composition
    def one_hot(self, s: Tensor) -> Tensor:
        """``[B, E]`` structures -> ``[B, E, K]`` float one-hot edge weights."""
        return F.one_hot(s.long(), self.config.n_edge_types).float()

    def predict(self, x: Tensor, z: Tensor, pred_steps: int) -> Tensor:
        """Teacher forcing every ``pred_steps`` frames (segments as a batch axis).

        Shapes:
            x ``[B, N, L, F]``, z ``[B, E, K]`` -> ``[B, N, L-1, F]``.
        """
        self._check_x(x, pred_steps + 1)
        return ro.rollout(self.decoder.step, x, z, pred_steps)

    def forecast(self, x_hist: Tensor, z: Tensor, n_steps: int) -> Tensor:
        """``n_steps`` frames after the last frame of ``x_hist`` (Markovian modules).

        Shapes:
            x_hist ``[B, N, T, F]``, z ``[B, E, K]`` -> ``[B, N, n_steps, F]``.
        """
        self._check_x(x_hist, 1)
        return ro.forecast(self.decoder.step, x_hist, z, n_steps, burn_in=False)

    def _mse(self, x: Tensor, z: Tensor) -> Tensor:
        """Per-sample rollout MSE ``[B]`` of the composition ``z`` on ``x``."""
        pred = self.predict(x, z, self.config.pred_steps)  # [B, N, L-1, F]
        return (pred.float() - x[:, :, 1:].float()).pow(2).mean(dim=(1, 2, 3))

    @torch.no_grad()
    def structure_loss(self, x: Tensor, s: Tensor) -> Tensor:
        """The search's objective: per-sample MSE of structures ``s`` on ``x``, in
        float32 (autocast off: acceptance compares close losses).

        Shapes:
            x ``[B, N, L, F]``, s ``[B, E]`` -> ``[B]``.
        """
        with torch.autocast(x.device.type, enabled=False):
            return self._mse(x.float(), self.one_hot(s))

    # ---------------------------------------------------------------- proposals
    def proposal_q(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The proposal distribution ``[B, E, K]`` (uniform without a learned one)."""
        if self.encoder is None:
            b, n = x.shape[:2]
            k = self.config.n_edge_types
            return x.new_full((b, n * (n - 1), k), 1.0 / k, dtype=torch.float32)
        return self.encoder(x, generator).q.float()

    def propose(
        self, s: Tensor, q: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """One proposal per sample (``proposal_move``; :mod:`nri.baselines.anneal`)."""
        if self.config.proposal_move == "edge":
            return sa.propose_edge(s, q, generator)
        n = graph.n_nodes(s.shape[1])
        _, recv = graph.fully_connected(n, s.device)
        return sa.propose_node(s, q, recv, n, generator)

    def _random(self, shape: tuple[int, int], device: Any, gen: Any) -> Tensor:
        k = self.config.n_edge_types
        return torch.randint(0, k, shape, generator=gen, device=device)

    def initial_structures(
        self, q: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Start of a search: the proposal's most likely structure, or uniform."""
        if self.config.search_init == "proposal":
            return q.argmax(-1)
        return self._random(tuple(q.shape[:2]), q.device, generator)

    # ----------------------------------------------------------------- training
    def _stored(self, idx: Tensor, e: int, gen: Any) -> Tensor:
        """The stored structures of samples ``idx`` (uniform at a first visit)."""
        buf = self.train_structures
        need = int(idx.max()) + 1
        if buf.shape[1] != e or buf.shape[0] < need:
            grown = buf.new_full((max(need, buf.shape[0]), e), -1)
            if buf.shape[1] == e:
                grown[: buf.shape[0]] = buf
            self.train_structures = grown
        s = self.train_structures[idx].long()  # [B, E]
        fresh = s < 0
        if bool(fresh.any()):
            s = torch.where(fresh, self._random(tuple(s.shape), s.device, gen), s)
        return s

    def _acceptance_update(self, old: Tensor, new: Tensor, ok: Tensor) -> None:
        st = self.anneal_state
        rate, factor = sa.update_acceptance(
            float(st[_RATE]), float(st[_FACTOR]), old < new, ok
        )
        st[_RATE], st[_FACTOR] = rate, factor

    def _anneal_steps(
        self, x: Tensor, s: Tensor, q: Tensor, gen: torch.Generator | None
    ) -> tuple[Tensor, Tensor]:
        """``train_search_steps`` Metropolis steps on a training batch, the controller
        adapting the temperature before each; returns the kept structures and which
        samples accepted a proposal."""
        c, st = self.config, self.anneal_state
        old = self.structure_loss(x, s)  # [B]
        any_ok = torch.zeros_like(old, dtype=torch.bool)
        for _ in range(c.train_search_steps):
            st[_T] = sa.adapt_temperature(
                float(st[_T]), float(st[_RATE]), float(st[_FACTOR]),
                float(st[_TARGET]), c.min_temperature,
            )  # fmt: skip
            new = self.propose(s, q, gen)
            new_loss = self.structure_loss(x, new)
            u = torch.rand(s.shape[0], generator=gen, device=s.device)
            ok = sa.metropolis_accept(old, new_loss, self.temperature, u)
            self._acceptance_update(old, new_loss, ok)
            s = torch.where(ok[:, None], new, s)  # [B, E]
            old = torch.where(ok, new_loss, old)
            any_ok |= ok
        return s, any_ok

    def loss(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edge_types: Tensor | None = None,
        sample_index: Tensor | None = None,
    ) -> LossOutput:
        """One BounceGrad step on a batch (see the class docstring). Without
        ``sample_index`` nothing is stored: the structures start from
        ``search_init`` in every call. Logs ``mse``, ``accept`` (fraction accepted),
        ``temperature``, ``proposal_ce`` and, with labels, ``acc`` (raw agreement of
        the kept structures with the labels).

        Shapes:
            x ``[B, N, T, F]``, edge_types ``[B, E]``, sample_index ``[B]`` -> scalar.
        """
        c = self.config
        self._check_x(x, c.pred_steps + 1)
        b, n = x.shape[:2]
        e = n * (n - 1)
        logits = None if self.encoder is None else self.encoder(x, generator).logits
        q = self.proposal_q(x) if logits is None else torch.softmax(logits.float(), -1)
        q = q.detach()
        if sample_index is None:
            s = self.initial_structures(q, generator)
        else:
            s = self._stored(sample_index.to(x.device).long(), e, generator)
        x_dec, _ = ro.random_window(x, c.decoder_window, generator)
        kept, ok = self._anneal_steps(x_dec, s, q, generator)
        if sample_index is not None:
            self.train_structures[sample_index.to(x.device).long()] = kept.to(
                torch.int8
            )
        mse = self._mse(x_dec, self.one_hot(kept)).mean()
        loss = mse
        logs = {"mse": mse.detach(), "accept": ok.float().mean()}
        if logits is not None:
            ce = F.cross_entropy(
                logits[ok].reshape(-1, c.n_edge_types).float(), kept[ok].reshape(-1)
            ) if bool(ok.any()) else logits.sum() * 0.0  # fmt: skip
            enc_loss = ce * ok.float().mean()
            loss = loss + enc_loss
            logs["proposal_ce"] = enc_loss.detach()
        logs["temperature"] = self.anneal_state[_T].float()
        if edge_types is not None:
            logs["acc"] = raw_accuracy(kept, edge_types)
        return LossOutput(loss, logs, None)

    # --------------------------------------------------------------- checkpoints
    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        # the stored structures grow with the data: take the checkpoint's shape
        saved = state_dict.get(prefix + "train_structures")
        if saved is not None:
            self.train_structures = torch.empty_like(
                saved, device=self.train_structures.device
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

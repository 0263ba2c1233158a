"""Settings of the NRI and NRI-MPM models: every field is a documented switch, checked
when the config is built (one ValueError naming the field). Defaults are the papers'
and the reference codes' with our fixes; the reference value of each fixed quirk or
defect is given in its comment (spec/nri.md 12, spec/nri-mpm.md 9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nri.models.candidates import check_settings as check_candidate_settings
from nri.models.validation import check_fields, check_graph_and_rollout, check_parts

__all__ = ["MPMConfig", "NRIConfig"]


@dataclass(frozen=True)
class NRIConfig:
    """NRI settings; defaults are the reference's (spec/nri.md 8) with our quirk fixes.

    Each reference quirk (spec/nri.md 12) is one switch away; the reference value is
    given in the comment.
    """

    # data
    n_features: int = 4  # F: (x, y, vx, vy) for springs / charged, 3 for Kuramoto
    n_timesteps: int = 49  # T frames read by the encoder (MLP encoder: tied to it)
    # model: the parts (nri.models.parts: ENCODERS, DECODERS, PRIORS)
    n_edge_types: int = 2  # K
    encoder: str = "mlp"  # mlp, cnn (NRI) or relation_interaction (NRI-MPM's)
    decoder: str = "mlp"  # mlp, rnn (NRI) or st, st_attention, gnn (NRI-MPM's)
    priors: tuple[str, ...] = ("kl",)  # + symmetric_kl (NRI-MPM), degree (SUGAR)
    # training scheme: "supervised" = encoder only with labels (NRI's train_enc.py;
    # test graph: the argmax), "true_graph" = decoder only with z = one_hot(labels)
    # (train_dec.py); the models nri_supervised / nri_true_graph are these
    scheme: Literal["vae", "supervised", "true_graph"] = "vae"
    encoder_hidden_dim: int = 256
    decoder_hidden_dim: int = 256  # message, hidden and output widths of the decoder
    encoder_dropout: float = 0.0
    decoder_dropout: float = 0.0
    factor: bool = True  # factor-graph encoder (edge -> node -> edge)
    skip_first: bool = False  # type 0 = "no interaction" (advised: springs, Kuramoto)
    # sampling and loss
    tau: float = 0.5  # Gumbel-softmax temperature
    hard: bool = False  # straight-through hard samples in training (val/test: hard)
    variance: float = 5e-5  # sigma^2 of the Gaussian likelihood
    prior: tuple[float, ...] | None = None  # length-K prior; None = uniform (Q10)
    sym_lambda: float = 100.0  # weight of the symmetric_kl prior (when named)
    degree_lambda: float = 1.0  # weight of the degree prior (when named); 0 = off
    degree_prior_p: float = 0.5  # the degree prior's Binomial(N - 1, p)
    hard_sym: bool = False  # z_ij = z_ji: logits (and q) of i<-j tied to j<-i
    hard_sym_shared_sample: bool = True  # one Gumbel sample per unordered pair
    pred_steps: int = 10  # P: teacher forcing every P steps; RNN: burn-in T - P
    # training recipe: the decoder predicts a random stretch of this many frames
    # (None, or >= n_timesteps: the whole window, the reference); docs/training.md
    decoder_window: int | None = None
    # evaluation
    val_pred_steps: int = 10  # Q4, reference: 1 (one-step validation and selection)
    eval_graph: Literal["sample", "argmax"] = "sample"  # Q13 test graph; "sample" = ref
    test_horizon: int = 20  # rollout length of the test protocol
    dynamic_graph: bool = False  # Q14, RNN decoder, test only: re-infer z every step
    # candidate edges (docs/scale.md): "all" pairs (the papers), "knn" (the
    # candidates_k nearest neighbours of each receiver over the encoder window) or
    # a .npy/.csv file of one [N, N] 0/1 matrix [receiver, sender]; the other edges
    # are "no interaction" with probability 1
    candidates: str = "all"
    candidates_k: int = 10
    # decoder messages of at most this many edges at a time, recomputed in the
    # backward pass (bounds a step's memory; None: all at once)
    edge_chunk: int | None = None
    # reference quirks (spec/nri.md 12)
    edge_to_node_norm: Literal["n_in", "n_nodes"] = "n_in"  # Q1, reference: "n_nodes"
    rnn_agg_norm: Literal["n_in", "n_features"] = "n_in"  # Q2, reference: "n_features"
    decoder_dropout_in_eval: bool = False  # Q6, reference: True
    kl_add_const: bool = True  # Q7, reference: False (negative "KL" logged)
    # optimisation (read by nri.training; the model does not use them)
    lr: float = 5e-4  # Adam, betas (0.9, 0.999), eps 1e-8, no weight decay
    lr_decay_step: int = 200  # StepLR step in epochs
    lr_decay_gamma: float = 0.5
    # epoch of the first decay (None: lr_decay_step, plain StepLR); docs/training.md
    lr_decay_start: int | None = None
    lr_step_before_epoch: bool = False  # Q3, reference: True (halves at 199, 399)

    def __post_init__(self) -> None:
        check_fields(
            self,
            positive_ints=(
                "n_features n_timesteps n_edge_types encoder_hidden_dim decoder_hidden_dim "
                "pred_steps val_pred_steps test_horizon lr_decay_step"
            ).split(),
            choices={
                "scheme": ("vae", "supervised", "true_graph"),
                "eval_graph": ("sample", "argmax"),
                "edge_to_node_norm": ("n_in", "n_nodes"),
                "rnn_agg_norm": ("n_in", "n_features"),
            },
            fractions=("encoder_dropout", "decoder_dropout"),
            positive=("tau", "variance", "lr", "lr_decay_gamma"),
            optional_counts=("lr_decay_start",),
        )
        if self.dynamic_graph and self.decoder != "rnn":
            raise ValueError(
                f"dynamic_graph needs the RNN decoder, got decoder={self.decoder!r}"
            )
        check_parts(self)
        check_graph_and_rollout(self)
        check_candidate_settings(self)


@dataclass(frozen=True)
class MPMConfig:
    """NRI-MPM settings; defaults are the paper's / reference code's (spec/nri-mpm.md
    2-6) with our fixes of the reference defects (spec 9; the reference value is in
    the comment). Every Table 3 ablation is one switch (spec 8)."""

    # data
    n_features: int = 4  # D: 4 springs / charged, 3 Kuramoto
    n_timesteps: int = 49  # T frames read by the encoder (MLP reducer: tied to it)
    # encoder (spec 2); the parts are named as in NRIConfig (nri.models.parts)
    n_edge_types: int = 2  # K
    encoder: str = "relation_interaction"  # or NRI's mlp, cnn
    hidden_dim: int = 256  # H of encoder and decoder
    reducer: Literal["mlp", "cnn"] = "mlp"  # springs: mlp; charged, Kuramoto: cnn
    # "both" = NRI-MPM; "intra" = w/o inter-RI; "inter" = w/o intra-RI; "none" = w/o RI
    relation_interaction: Literal["both", "intra", "inter", "none"] = "both"
    ri_sequence: Literal["gru", "attention", "transformer"] = "gru"  # attention=AttENC
    ri_eval_samples: int = 1  # average q over this many RI orders in eval (GRU)
    ri_transformer_heads: int = 4  # heads of the "transformer" extension
    inter_only_reference: bool = False  # D1, reference: True (degenerate w/o intra-RI)
    ri_output: Literal["linear", "mlp"] = "linear"  # Eq. 17: code Linear, paper "MLP"
    ri_orders_seeded: bool = True  # D3, reference: False (fresh OS-entropy orders)
    encoder_dropout: float = 0.0
    # decoder (spec 4): "st" = RNNDEC, "st_attention" = AttDEC, "gnn" = w/o ST
    # (or NRI's mlp, rnn)
    decoder: str = "st"
    st_parts: Literal["both", "edge", "node"] = "both"  # RNNDEC(option=...)
    decoder_dropout: float = 0.0
    skip_first: bool = False  # type 0 silent (Kuramoto presets)
    # training scheme: "supervised" = encoder only with labels (paper's Supervised
    # row), "true_graph" = decoder only with z = one_hot(labels)
    scheme: Literal["vae", "supervised", "true_graph"] = "vae"
    supervised_double_softmax: bool = False  # D2, reference: True
    # sampling and loss (spec 3, 5)
    tau: float = 0.5
    hard: bool = False  # straight-through samples in training (val/test: hard)
    variance: float = 5e-5
    prior: tuple[float, ...] | None = None  # None = uniform
    kl_add_const: bool = True  # reference: False (negative entropy logged)
    priors: tuple[str, ...] = ("kl", "symmetric_kl")  # + degree (SUGAR's)
    degree_lambda: float = 1.0  # weight of the degree prior (when named)
    degree_prior_p: float = 0.5
    sym_lambda: float = (
        100.0  # paper 1e2; Kuramoto 1 (5 objects), 1e3 (10); 0 = w/o Sym
    )
    hard_sym: bool = False  # "w/ hard Sym": q from symmetrised logits
    hard_sym_shared_sample: bool = True  # D7, reference: False (asymmetric z)
    loss_scale: float = (
        1.0  # D8: reference 1e-5 with adam_eps 1e-8 (training loss only)
    )
    pred_steps: int = 10  # M: teacher forcing every M steps, hidden states reset
    # training recipe: the decoder predicts a random stretch of this many frames
    # (None, or >= n_timesteps: the whole window, the reference); docs/training.md
    decoder_window: int | None = None
    val_pred_steps: int = 10
    # evaluation
    eval_graph: Literal["sample", "argmax"] = "sample"
    eval_encode_twice: bool = False  # D6, reference: True (rollout graph re-encoded)
    test_horizon: int = 20
    # candidate edges (docs/scale.md): "all" pairs (the papers), "knn" (the
    # candidates_k nearest neighbours of each receiver over the encoder window) or
    # a .npy/.csv file of one [N, N] 0/1 matrix [receiver, sender]; the other edges
    # are "no interaction" with probability 1
    candidates: str = "all"
    candidates_k: int = 10
    # decoder messages of at most this many edges at a time, recomputed in the
    # backward pass (bounds a step's memory; None: all at once)
    edge_chunk: int | None = None
    # optimisation (read by nri.training)
    lr: float = 2.5e-4
    adam_eps: float = 1e-3  # = the reference's loss scale 1e-5 with eps 1e-8 (spec 5)
    lr_decay_step: int = 200
    lr_decay_gamma: float = 0.5
    lr_decay_start: int | None = None  # first decay; None: lr_decay_step (StepLR)
    lr_step_before_epoch: bool = False  # the reference steps after each epoch

    def __post_init__(self) -> None:
        check_fields(
            self,
            positive_ints=(
                "n_features n_timesteps n_edge_types hidden_dim ri_eval_samples "
                "ri_transformer_heads pred_steps val_pred_steps test_horizon lr_decay_step"
            ).split(),
            choices={
                "reducer": ("mlp", "cnn"),
                "relation_interaction": ("both", "intra", "inter", "none"),
                "ri_sequence": ("gru", "attention", "transformer"),
                "st_parts": ("both", "edge", "node"),
                "scheme": ("vae", "supervised", "true_graph"),
                "eval_graph": ("sample", "argmax"),
                "ri_output": ("linear", "mlp"),
            },
            fractions=("encoder_dropout", "decoder_dropout"),
            positive=("tau", "variance", "lr", "lr_decay_gamma", "adam_eps"),
            optional_counts=("lr_decay_start",),
        )
        if not (self.sym_lambda >= 0 and self.loss_scale > 0):
            raise ValueError(
                f"MPMConfig needs sym_lambda >= 0 and loss_scale > 0, got "
                f"{self.sym_lambda!r} and {self.loss_scale!r}"
            )
        if (
            self.ri_sequence == "transformer"
            and self.hidden_dim % self.ri_transformer_heads
        ):
            raise ValueError(
                f"hidden_dim {self.hidden_dim} must be divisible by "
                f"ri_transformer_heads {self.ri_transformer_heads}"
            )
        check_parts(self)
        check_graph_and_rollout(self)
        check_candidate_settings(self)

    @property
    def encoder_hidden_dim(self) -> int:
        """H of the encoder (the parts' name for it; NRI-MPM has one H)."""
        return self.hidden_dim

    @property
    def decoder_hidden_dim(self) -> int:
        """H of the decoder."""
        return self.hidden_dim

"""The one LightningModule: trains any model exposing ``loss`` / ``validation_loss``."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import Tensor

from nri.config import RunConfig, from_dict
from nri.data.augment import BoxSymmetry
from nri.metrics import EdgeMetrics
from nri.registry import MODELS
from nri.training.distributed import loss_weight, rank_seed, use_global_batch_norm
from nri.training.gather import gather_edge_metrics
from nri.training.schedule import anneal_of, lr_factor

__all__ = ["NRILightning", "NonFiniteLossError", "lr_factor", "step_seed"]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def step_seed(seed: int, step: int) -> int:
    """Seed of the Gumbel noise of one training step: a function of (seed, step) only, so
    a resumed run draws exactly the noise of an uninterrupted one."""
    return (seed * 1_000_003 + step * 7_919 + 1) % (2**63 - 1)


class NRILightning(L.LightningModule):
    """Training and validation of a model from :data:`nri.registry.MODELS`.

    Logs ``train/loss``, ``train/nll``, ``train/kl``, ``train/acc`` per step and
    ``val/nll``, ``val/kl``, ``val/mse``, ``val/acc``, ``val/acc_perm``, ``val/auroc``,
    ``val/asym`` per epoch (sample-weighted means over the whole split). Model
    selection monitors the model's ``selection_metric()``.

    Distributed (``trainer.world_size`` W > 1, docs/distributed.md): BatchNorm uses
    the global batch's statistics, each process's loss is weighted so that the
    averaged gradient is the global batch's, process r > 0 draws its noise from its
    own stream (:func:`~nri.training.distributed.rank_seed`), and the validation
    metrics are exact over the whole split (sums and counts over processes; the
    edge metrics gathered).

    ``use_labels`` (set by ``fit``): False for data without true edges; the edge labels
    are then not passed to the model and no edge accuracy is logged.

    Args:
        config: the resolved run configuration as a plain dict (``RunConfig.to_dict()``);
            it is stored in every checkpoint.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.run_config: RunConfig = from_dict(config)
        model_cls, _ = MODELS[self.run_config.model]
        self.model = model_cls(self.run_config.model_config)
        # created at the first validation batch with edge logits: models without an
        # inferred graph (LSTM, true-graph decoders) log no edge metrics
        self._val_edges: EdgeMetrics | None = None
        self.use_labels = True
        # set by ``fit`` from the data's normaliser when train.augment is "box"
        self.augmentation: BoxSymmetry | None = None

    def setup(self, stage: str) -> None:
        if self.trainer.world_size > 1:  # BatchNorm over the global batch
            use_global_batch_norm(self.model)

    # ---------------------------------------------------------------------- training
    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        x, edges, *index = batch  # index: models with per-sample state (ModularMeta)
        extra = {"sample_index": index[0]} if index else {}
        world = self.trainer.world_size
        gen = torch.Generator(device=x.device)
        seed = step_seed(self.run_config.train.seed, self.global_step)
        gen.manual_seed(rank_seed(seed, self.global_rank) if world > 1 else seed)
        if self.augmentation is not None:
            x = self.augmentation.random(x, gen)  # [B, N, T, F], exact symmetries
        out = self.model.loss(
            x, generator=gen, edge_types=edges if self.use_labels else None, **extra
        )
        if not torch.isfinite(out.loss):
            raise NonFiniteLossError(
                f"training loss is {out.loss.item()} at epoch {self.current_epoch}, step "
                f"{self.global_step}; stopped. The last checkpoint (end of the previous "
                "epoch) is kept: lower the learning rate or check the data, then --resume"
            )
        b = x.shape[0]
        if world > 1:  # the mean over the global batch (logged: its exact means)
            w = loss_weight(b, world, self.trainer.strategy, x.device)
            self.log("train/loss", out.loss.detach() * w, prog_bar=True, sync_dist=True)
            for key, value in out.logs.items():
                self.log(f"train/{key}", value * w, sync_dist=True)
            return out.loss * w
        self.log("train/loss", out.loss.detach(), batch_size=b, prog_bar=True)
        for key, value in out.logs.items():
            self.log(f"train/{key}", value, batch_size=b)
        return out.loss

    def on_train_epoch_start(self) -> None:
        start = getattr(self.model, "start_epoch", None)
        if start is not None:  # per-epoch schedules of the model (ModularMeta)
            start(self.current_epoch)

    # -------------------------------------------------------------------- validation
    def on_validation_epoch_start(self) -> None:
        self._val_edges = None
        self._val_sums: dict[str, Tensor] = {}
        self._val_count = 0
        self._val_gen = torch.Generator(device=self.device)
        self._val_gen.manual_seed(
            rank_seed(self.run_config.train.eval_seed, self.global_rank)
        )

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        x, edges = batch
        labels = edges if self.use_labels else None
        out = self.model.validation_loss(x, generator=self._val_gen, edge_types=labels)
        b = x.shape[0]
        if self.trainer.world_size > 1:  # exact sums over processes at the epoch end
            for key, value in {"loss": out.loss, **out.logs}.items():
                total = self._val_sums.get(key, 0.0)
                self._val_sums[key] = total + value.detach().double() * b
            self._val_count += b
        else:
            self.log("val/loss", out.loss, batch_size=b)
            for key, value in out.logs.items():
                self.log(f"val/{key}", value, batch_size=b, prog_bar=key == "acc")
        if out.logits is None:
            return  # no inferred graph: no edge metrics
        if self._val_edges is None:
            skip_first = getattr(self.run_config.model_config, "skip_first", False)
            self._val_edges = EdgeMetrics(out.logits.shape[-1], skip_first=skip_first)
        if self.use_labels:
            self._val_edges.update(out.logits.float(), edges)

    def _log_val_means(self) -> None:
        """DDP: every validation mean over the whole split, from sums and counts
        all-reduced over processes (Lightning's ``sync_dist`` mean truncates an odd
        total of batch sizes on gloo)."""
        if not self._val_sums:
            return
        keys = list(self._val_sums)
        count = torch.tensor([float(self._val_count)], dtype=torch.float64)
        packed = torch.cat(
            [torch.stack([self._val_sums[k] for k in keys]).cpu(), count]
        )
        packed = self.trainer.strategy.reduce(packed.to(self.device), reduce_op="sum")
        for i, key in enumerate(keys):
            value = float(packed[i] / packed[-1])
            self.log(f"val/{key}", value, prog_bar=key == "acc")

    def on_validation_epoch_end(self) -> None:
        if self.trainer.world_size > 1:
            self._log_val_means()
        if not self.use_labels:
            return
        if self._val_edges is None:
            return
        if self.trainer.world_size > 1:
            self._val_edges = gather_edge_metrics(self._val_edges)
        acc_perm, _ = self._val_edges.permutation()
        self.log("val/acc_perm", acc_perm, prog_bar=True)
        metrics = self._val_edges.compute()
        shared = self.trainer.world_size > 1  # AUROC: of the whole split on rank 0
        for key in ("auroc", "asym"):
            if shared and key == "auroc" and self.global_rank != 0:
                continue
            if key in metrics and not math.isnan(metrics[key]):
                self.log(f"val/{key}", metrics[key], rank_zero_only=shared)

    # --------------------------------------------------------------------- optimiser
    def configure_optimizers(self) -> dict[str, Any]:
        mc = self.run_config.model_config
        groups = getattr(self.model, "optimizer_groups", None)
        params = groups() if groups is not None else self.model.parameters()
        opt = torch.optim.Adam(params, lr=mc.lr, eps=getattr(mc, "adam_eps", 1e-8))
        # Reference quirk Q3: the original steps the scheduler at the start of each
        # epoch, so the rate halves one epoch early (199, 399, ...). With
        # train.max_batch_size the first decays grow the batch instead (schedule.py).
        anneal = anneal_of(self.run_config)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, anneal.lr_factor)
        return {
            "optimizer": opt,
            "lr_scheduler": {"scheduler": sched, "interval": "epoch"},
        }

    # ------------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["nri_rng_state"] = torch.get_rng_state()  # dropout etc.

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get("hyper_parameters", {}).get("config", {})
        if saved.get("model", {}).get("name") != self.run_config.model:
            from nri.training.checkpoint import CheckpointError

            raise CheckpointError(
                f"checkpoint is for model {saved.get('model', {}).get('name')!r}, "
                f"this run is {self.run_config.model!r}"
            )
        if "nri_rng_state" in checkpoint:
            torch.set_rng_state(checkpoint["nri_rng_state"])

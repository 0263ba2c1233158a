"""Lightning data module: the loaders at the end of the data path (docs/data.md).

Readers give :class:`~nri.data.series.Series`, :func:`nri.data.splits.prepare`
normalises them into :class:`~nri.data.loaded.LoadedData`; this module batches its
splits. Any form of a data set is accepted (:func:`nri.data.dataset.as_loaded`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Sampler, Subset, TensorDataset

from nri.data.dataset import as_loaded
from nri.data.loaded import LoadedData
from nri.data.series import Series
from nri.data.splits import SeriesSet
from nri.training.distributed import ShardedBatchSampler, check_same_data, shard


class EpochShuffleSampler(Sampler[int]):
    """A permutation per epoch that depends only on (seed, epoch).

    Lightning calls :meth:`set_epoch` before every epoch, so a run resumed at epoch e
    sees exactly the batches an uninterrupted run sees (unlike ``RandomSampler``, whose
    generator state would have to be checkpointed).
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=gen).tolist())

    def __len__(self) -> int:
        return self.n


class NRIDataModule(L.LightningDataModule):
    """Train/valid/test loaders of one data set (normalised with training statistics).

    Batches are ``(x [B, N, T, F], edges [B, E])``.

    Args:
        data: a loaded data set, a :class:`SeriesSet` or :class:`Series` in physical
            units (normalised on its training split), or a directory or file to load.
        suffix: which data set in the directory.
        batch_size: samples per batch.
        shuffle: reshuffle the training set every epoch (seeded); False = the original
            NRI order (quirk Q8).
        seed: shuffling seed.
        n_train, n_valid: use only the first samples of a split (None = all).
        num_workers: DataLoader workers (0: the data are in memory already).
        n_frames: training and validation read the first ``n_frames`` frames of each
            trajectory (the encoder window, ``model.n_timesteps``; None = all); the
            test loader keeps whole trajectories.
        val_batch_size: samples per validation batch (None = ``batch_size``).
        sample_index: training batches are ``(x, edges, index [B])`` with each
            sample's position in the training split (models that keep per-sample
            state, ModularMeta's structures); validation and test batches are not.
        max_val_batch: at most this many samples per validation batch (the
            evaluation batch of N, :mod:`nri.eval_batch`; None = no bound).
        batch_of_epoch: the training batch of each epoch (0-based), for a growing
            batch (:meth:`nri.training.schedule.Anneal.batch_size`; None: always
            ``batch_size``). Validation batches keep ``val_batch_size``.

    Distributed (a trainer with ``world_size`` W > 1): ``batch_size`` is the global
    batch; process r takes part r of every global batch of the one-process order
    (:class:`~nri.training.distributed.ShardedBatchSampler`) and part r of the
    validation split (:func:`~nri.training.distributed.shard`), in batches of the
    validation batch size.
    """

    def __init__(
        self,
        data: LoadedData | SeriesSet | Series | str | Path,
        suffix: str | None = None,
        batch_size: int = 128,
        shuffle: bool = True,
        seed: int = 42,
        n_train: int | None = None,
        n_valid: int | None = None,
        num_workers: int = 0,
        n_frames: int | None = None,
        val_batch_size: int | None = None,
        sample_index: bool = False,
        max_val_batch: int | None = None,
        batch_of_epoch: Callable[[int], int] | None = None,
    ) -> None:
        super().__init__()
        self.data = as_loaded(data, suffix)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.n_train = n_train
        self.n_valid = n_valid
        self.num_workers = num_workers
        self.n_frames = n_frames
        self.val_batch_size = val_batch_size
        self.sample_index = sample_index
        self.max_val_batch = max_val_batch
        self.batch_of_epoch = batch_of_epoch

    def _world(self) -> tuple[int, int]:
        """(processes, this process's rank) of the attached trainer; (1, 0) without."""
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 1, 0
        return int(trainer.world_size), int(trainer.global_rank)

    def setup(self, stage: str) -> None:
        if self._world()[0] > 1 and stage == "fit":  # the same normalised data
            check_same_data(self.data.splits["train"].x)

    def _dataset(
        self, split: str, limit: int | None = None, crop: bool = True
    ) -> TensorDataset:
        s = self.data.splits[split]
        x, edges = (s.x, s.edges) if limit is None else (s.x[:limit], s.edges[:limit])
        if crop and self.n_frames is not None and x.shape[2] > self.n_frames:
            x = x[:, :, : self.n_frames].contiguous()  # [S, N, n_frames, F]
        return TensorDataset(x, edges)

    def _loader(
        self,
        ds: TensorDataset,
        sampler: Sampler[int] | None,
        batch_size: int | None = None,
    ) -> DataLoader:
        return DataLoader(
            ds,
            batch_size=batch_size or self.batch_size,
            sampler=sampler,
            shuffle=False,
            drop_last=False,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_batch(self) -> int:
        """Samples per training batch in the trainer's current epoch: ``batch_size``,
        or what ``batch_of_epoch`` gives for that epoch (a growing batch; the trainer
        then reloads the loader every epoch)."""
        if self.batch_of_epoch is None:
            return self.batch_size
        trainer = getattr(self, "trainer", None)
        return self.batch_of_epoch(int(trainer.current_epoch) if trainer else 0)

    def train_dataloader(self) -> DataLoader:
        ds = self._dataset("train", self.n_train)
        if self.sample_index:  # (x, edges, index): the model's per-sample state
            x, edges = ds.tensors
            ds = TensorDataset(x, edges, torch.arange(x.shape[0]))
        sampler = EpochShuffleSampler(len(ds), self.seed) if self.shuffle else None
        world, rank = self._world()
        if world == 1:
            return self._loader(ds, sampler, self.train_batch())
        batches = ShardedBatchSampler(sampler, len(ds), self.train_batch(), world, rank)
        return DataLoader(
            ds,
            batch_sampler=batches,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def val_batch(self) -> int:
        """Samples per validation batch: ``val_batch_size`` (None: ``batch_size``),
        at most ``max_val_batch``."""
        size = self.val_batch_size or self.batch_size
        return size if self.max_val_batch is None else min(size, self.max_val_batch)

    def val_dataloader(self) -> DataLoader:
        ds: TensorDataset | Subset = self._dataset("valid", self.n_valid)
        world, rank = self._world()
        if world > 1:
            part = shard(len(ds), world, rank)
            ds = Subset(ds, list(range(part.start, part.stop)))
        return self._loader(ds, None, self.val_batch())  # type: ignore[arg-type]

    def test_dataloader(self) -> DataLoader:
        return self._loader(self._dataset("test", crop=False), None)

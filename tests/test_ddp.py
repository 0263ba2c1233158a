"""Distributed training (``--strategy ddp``, issue 16 item 5; docs/distributed.md).

Two CPU processes (gloo, Lightning's launcher re-running ``nri train``) train the
model of one process with the same global batch: the same samples per step, BatchNorm
over the global batch, losses weighted so that the averaged gradient is the global
batch's. The supervised NRI encoder draws no noise, so the weights must agree to
float rounding; the VAE's noise differs on ranks > 0 by design (tests/test_training.py
runs it on two processes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nri.cli import main
from nri.sim.io import DatasetConfig, write_dataset
from nri.training.datamodule import EpochShuffleSampler
from nri.training.distributed import ShardedBatchSampler, rank_seed, shard


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ddp") / "data"
    write_dataset(
        DatasetConfig(n_objects=3, n_train=29, n_valid=15, n_test=8, seed=3), root
    )
    return root


def _args(data: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return ["train", "--preset", "springs5", "--preset", "nri_supervised",
            "--set", "data.suffix=springs3", "--data", str(data), "--out", str(out),
            "--accelerator", "cpu", "--precision", "32-true", "--epochs", str(epochs),
            "--set", "train.batch_size=8", "--set", "model.encoder_hidden_dim=32",
            "--set", "train.progress_bar=false", "--set", "train.threads=1",
            "--set", "train.log_every_n_steps=1", "--no-eval", *extra]  # fmt: skip


def _ddp(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "nri.cli",
        *args,
        "--devices",
        "2",
        "--strategy",
        "ddp",
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _weights(run: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    return ckpt["state_dict"]


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert set(a) == set(b)
    return max(
        float((a[k].double() - b[k].double()).abs().max())
        for k in a
        if a[k].is_floating_point()
    )


def _rows(run: Path) -> list[dict[str, str]]:
    import csv

    with (run / "logs" / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def _files(run: Path) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*") if "tfevents" not in p.name}


# ------------------------------------------------------------------ unit: batches


def test_sharded_batches_are_the_one_process_batches():
    n, b = 29, 8  # global batches 8, 8, 8, 5 (the last split 3 / 2)
    for epoch in (0, 1):
        order = EpochShuffleSampler(n, seed=7)
        order.set_epoch(epoch)
        one = list(order)
        ranks = []
        for r in range(2):
            s = EpochShuffleSampler(n, seed=7)
            s.set_epoch(epoch)
            ranks.append(list(ShardedBatchSampler(s, n, b, 2, r)))
        assert len(ranks[0]) == len(ranks[1]) == 4
        for step in range(4):
            assert ranks[0][step] + ranks[1][step] == one[step * b : (step + 1) * b]
        assert [len(x) for x in ranks[0]] == [4, 4, 4, 3]
        assert [len(x) for x in ranks[1]] == [4, 4, 4, 2]
    # a last global batch smaller than the processes is left out (every process steps)
    three = [list(ShardedBatchSampler(None, 17, 8, 3, r)) for r in range(3)]
    assert all(len(x) == 2 for x in three)
    assert sorted(i for r in three for batch in r for i in batch) == list(range(16))


def test_shard_splits_evenly_and_contiguously():
    parts = [shard(15, 2, r) for r in range(2)]
    assert parts == [slice(0, 8), slice(8, 15)]
    assert [shard(10, 3, r) for r in range(3)] == [
        slice(0, 4),
        slice(4, 7),
        slice(7, 10),
    ]


def test_rank_zero_keeps_the_one_process_noise():
    assert rank_seed(123, 0) == 123
    assert len({rank_seed(123, r) for r in range(4)}) == 4


def _bn_worker(rank: int, init: str, rows: torch.Tensor, out: str) -> None:
    """Process ``rank`` of 2: its rows through a GlobalBatchNorm1d, a loss, backward."""
    from nri.training.distributed import GlobalBatchNorm1d

    torch.distributed.init_process_group(
        "gloo", init_method=init, rank=rank, world_size=2
    )
    bn = GlobalBatchNorm1d(3)
    torch.manual_seed(0)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.5, 0.5)
    part = rows[:5] if rank == 0 else rows[5:]  # uneven: 5 + 2 rows
    x = part.clone().requires_grad_(True)
    y = bn(x)
    (y.pow(3).sum() / 7).backward()  # one loss over all 7 rows, split by rank
    torch.distributed.all_reduce(bn.weight.grad)  # what DDP sums (before its mean)
    from nri.data.dataset import DataError
    from nri.training.distributed import check_same_data

    check_same_data(rows)  # the same on both: passes
    try:
        check_same_data(rows + rank)  # process 1 reads other data: both refuse
        refused = ""
    except DataError as err:
        refused = str(err)
    torch.save({"y": y.detach(), "gx": x.grad, "gw": bn.weight.grad,
                "rm": bn.running_mean, "rv": bn.running_var, "refused": refused},
               f"{out}.{rank}")  # fmt: skip
    torch.distributed.destroy_process_group()


def test_global_batch_norm_and_the_same_data_check_on_two_processes(tmp_path):
    import torch.multiprocessing as mp

    rows = torch.randn(7, 3, generator=torch.Generator().manual_seed(1)) * 2 + 1
    init = f"file://{tmp_path / 'rendezvous'}"
    mp.spawn(_bn_worker, args=(init, rows, str(tmp_path / "out")), nprocs=2)
    got = [torch.load(tmp_path / f"out.{r}", weights_only=True) for r in range(2)]
    bn = torch.nn.BatchNorm1d(3)
    torch.manual_seed(0)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.5, 0.5)
    x = rows.clone().requires_grad_(True)
    y = bn(x)
    (y.pow(3).sum() / 7).backward()
    torch.testing.assert_close(torch.cat([got[0]["y"], got[1]["y"]]), y.detach())
    torch.testing.assert_close(torch.cat([got[0]["gx"], got[1]["gx"]]), x.grad)
    for g in got:
        assert g["refused"].startswith("process 1 read other training data")
        torch.testing.assert_close(g["gw"], bn.weight.grad)
        torch.testing.assert_close(g["rm"], bn.running_mean)
        torch.testing.assert_close(g["rv"], bn.running_var)


# -------------------------------------------------- two processes = one process


def test_two_processes_train_the_one_process_model(data, tmp_path, capsys):
    """29 samples, global batch 8 (the last step 3 + 2 samples), 2 epochs: weights,
    BatchNorm running statistics and every logged mean agree to float rounding."""
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(_args(data, one, 2)) == 0
    capsys.readouterr()
    cwd = tmp_path / "cwd"
    proc = _ddp(_args(data, two, 2), cwd)
    assert "distributed_backend=gloo" in proc.stderr + proc.stdout  # CPU processes
    assert _max_diff(_weights(one), _weights(two)) < 1e-5
    r1, r2 = _rows(one), _rows(two)
    assert len(r1) == len(r2) == 2 * 4 + 2  # 4 steps per epoch, a validation row each
    for a, b in zip(r1, r2, strict=True):
        for key in a:
            if a[key]:
                assert float(a[key]) == pytest.approx(
                    float(b[key]), rel=1e-5, abs=1e-6
                ), key
    # only rank 0 wrote: the same files as one process, nothing in the working dir
    assert _files(one) == _files(two)
    assert not any(cwd.iterdir())


@pytest.mark.slow
def test_a_resumed_two_process_run_is_the_uninterrupted_one(data, tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(_args(data, one, 3)) == 0
    capsys.readouterr()
    _ddp(_args(data, two, 1), tmp_path / "cwd")
    _ddp(_args(data, two, 3, "--resume"), tmp_path / "cwd")
    assert _max_diff(_weights(one), _weights(two)) < 1e-5
    assert [r["step"] for r in _rows(one)] == [r["step"] for r in _rows(two)]


# ------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--devices", "3", "--strategy", "ddp", "--set", "train.n_valid=2"],
         "3 processes need at least 3 validation samples, got 2"),
        (["--devices", "2", "--strategy", "ddp", "--set", "train.batch_size=1"],
         "2 processes need at least 2 train.batch_size, got 1"),
        (["--strategy", "fsdp"], "train.strategy must be one of auto, ddp, got 'fsdp'"),
        (["--devices", "x2", "--strategy", "ddp"], "cannot set up training"),
    ],
)  # fmt: skip
def test_refused_combinations_are_one_line(data, tmp_path, capsys, extra, fragment):
    rc = main(_args(data, tmp_path / "run", 1, *extra))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err and "Traceback" not in err
    assert not (tmp_path / "run" / "checkpoints").exists()

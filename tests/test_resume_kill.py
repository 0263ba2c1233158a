"""A training run killed with SIGKILL at random moments resumes to the same result."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from nri.training.checkpoint import safe_load

ARGS = ["--preset", "springs5", "--preset", "cpu", "--epochs", "4", "--no-eval",
        "--set", "train.n_train=192", "--set", "train.n_valid=32",
        "--set", "train.batch_size=32", "--set", "train.threads=1",
        "--set", "train.progress_bar=false"]  # fmt: skip


def _train(data, out, resume=False, kill_after=None):
    cmd = [sys.executable, "-m", "nri.cli", "train", "--data", str(data), "--out", str(out),
           *ARGS, *(["--resume"] if resume else [])]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        return True
    try:
        proc.wait(timeout=kill_after)
        return proc.returncode == 0  # finished before the kill
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return False


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_matches(tmp_path, reference_dir):
    _train(reference_dir, tmp_path / "clean")
    rng = random.Random(int(time.time()))
    out = tmp_path / "killed"
    done = _train(reference_dir, out, kill_after=rng.uniform(1.5, 5.0))
    kills = 0
    while not done:
        kills += 1
        assert kills < 12, "the run never finished"
        kill_after = rng.uniform(3.0, 9.0) if kills < 4 else None
        done = _train(reference_dir, out, resume=True, kill_after=kill_after)
    clean = safe_load(tmp_path / "clean" / "checkpoints" / "last.ckpt")
    resumed = safe_load(out / "checkpoints" / "last.ckpt")
    assert resumed["epoch"] == clean["epoch"] == 3
    for key, value in clean["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][key]), key
    assert kills >= 1, "no kill happened; lower the kill times"


def test_sigterm_stops_with_exit_143_and_resume_finishes(tmp_path, reference_dir):
    # Lightning turns SIGTERM into SystemExit(0); a preempted job must not look finished
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "nri.cli", "train", "--data", str(reference_dir),
           "--out", str(out), *ARGS]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    last = out / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 240
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before its first checkpoint"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 143, lines[-5:]
    assert lines[-1].startswith("nri: stopped: training stopped by SIGTERM")
    assert "--resume" in lines[-1] and str(last) in lines[-1]
    assert safe_load(last)["epoch"] < 3  # not the end of the 4 epochs
    assert _train(reference_dir, out, resume=True)
    assert safe_load(last)["epoch"] == 3

"""The probe scripts behind docs/training.md still run against the library's API.

They are not part of the library, so nothing else imports them; these runs on a tiny
data set (seconds) catch a renamed or removed method before a benchmark session does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nri.sim.io import DatasetConfig, write_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("springs5")
    cfg = DatasetConfig(system="springs", n_objects=5, n_train=32, n_valid=16,
                        n_test=16, seed=3)  # fmt: skip
    write_dataset(cfg, path)
    return path


def _run(script: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_step_cost_prints_a_row_per_setting(tiny: Path) -> None:
    text = _run("step_cost.py", "--data", str(tiny), "--threads", "1",
                "--batches", "8", "--windows", "11", "--samples", "16")  # fmt: skip
    rows = [
        r for r in text.splitlines() if r.startswith("| bf16") or r.startswith("| fp32")
    ]
    assert len(rows) == 2  # one precision each
    assert all(float(r.split("|")[4]) > 0 for r in rows)  # ms per step


@pytest.mark.parametrize("extra", [[], ["--win", "11", "--bf16", "1"]])
def test_plain_loop_records_a_curve(
    tiny: Path, tmp_path: Path, extra: list[str]
) -> None:
    out = tmp_path / "curve.json"
    _run("plain_loop.py", "--data", str(tiny), "--epochs", "2", "--batch", "16",
         "--shuffle", "1", "--noise", "step", "--out", str(out), "--win", "11",
         "--bf16", "1")  # fmt: skip
    curve = json.loads(out.read_text())["curve"]
    assert [r["epoch"] for r in curve] == [1, 2]
    assert all(0.0 <= r["acc"] <= 1.0 and r["cpu"] > 0 for r in curve)


def test_accuracy_vs_cpu_merges_the_seeds_of_concatenated_records(
    tmp_path: Path,
) -> None:
    def record(seed: int, accs: list[float]) -> str:
        curve = [{"epoch": i + 1, "cpu_s": 10.0 * (i + 1), "val/acc_perm": a}
                 for i, a in enumerate(accs)]  # fmt: skip
        return json.dumps({"results": [{"seed": seed, "hit": None, "curve": curve}]})

    runs = tmp_path / "runs.jsonl"
    lines = [record(2, [0.5]), record(1, [0.5, 0.6]), record(2, [0.55, 0.7])]
    runs.write_text("\n".join(lines) + "\n")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from accuracy_vs_cpu import read_runs
    finally:
        sys.path.pop(0)
    assert read_runs(runs) == [[(10.0, 0.5), (20.0, 0.6)], [(10.0, 0.55), (20.0, 0.7)]]
    out = tmp_path / "fig.png"
    _run("accuracy_vs_cpu.py", "--run", f"x={runs}", "--ylim", "0.4", "0.8",
         "--out", str(out))  # fmt: skip
    assert out.stat().st_size > 10_000

"""Own data as users bring it, the results side (issue 14 items 1, 7, 11-13):
``nri evaluate``, ``nri train`` and ``nri report``.

The refusals are in the bad-input catalogue (``RESULTS_CASES`` in test_bad_input.py);
here they run again and must leave every file as it was. The rest are value checks
through the command line: features matched by name, K = 3 edge types scored, type 0
kept as "no edge" by the permutation-invariant score, runs that work from any
directory, evaluation batches and memory, ``nri evaluate --help``. ``nri infer`` and
``nri forecast`` on own files are in test_own_data_results.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from _own_data import (
    check_refusal,
    long_csv,
    run_cli,
    strict_json,
    tiny_npz,
    tiny_run,
)
from nri.cli import main
from nri.eval_batch import auto_eval_batch
from nri.models import NRIConfig
from nri.models.nri import NRI
from nri.sim.io import DatasetConfig, write_dataset
from test_bad_input import RESULTS_CASES, TINY, Env, base  # noqa: F401 - fixture


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """The tiny run of _own_data (the tests that need its .npz call tiny_npz)."""
    return tiny_run(tmp_path_factory)


@pytest.mark.parametrize("case", RESULTS_CASES, ids=[c.name for c in RESULTS_CASES])
def test_refusals_write_nothing(case, base, tmp_path, capsys):  # noqa: F811
    env = Env(tmp_path, tmp_path / "data", tmp_path / "run", tmp_path / "mpm_run")
    shutil.copytree(base.data, env.data)
    shutil.copytree(base.run, env.run)
    check_refusal(case, env, capsys, ".tmp")


# ------------------------------------------------------------------ item 1: names


def test_evaluate_matches_features_by_name(run, tmp_path_factory, tmp_path, capsys):
    npz = tiny_npz(tmp_path_factory)
    with np.load(npz) as z:
        x, edges = z["x"], z["edges"]
    order = [2, 0, 3, 1]  # vx, x, vy, y
    np.savez(tmp_path / "mixed.npz", x=x[..., order], edges=edges,
             feature_names=np.array(["vx", "x", "vy", "y"]))  # fmt: skip
    rc = main(
        [
            "import",
            str(tmp_path / "mixed.npz"),
            "--out",
            str(tmp_path / "d"),
            "--name",
            "own",
        ]
    )  # fmt: skip  (the same split as the run's data)
    assert rc == 0
    metrics = []
    for name, data in (("a", run.parent / "data"), ("b", tmp_path / "d")):
        rc, _, err = run_cli(["evaluate", str(run), "--data", str(data), "--out",
                           str(tmp_path / f"{name}.json")], capsys)  # fmt: skip
        assert rc == 0, err
        metrics.append(json.loads((tmp_path / f"{name}.json").read_text()))
    assert metrics[0]["mse"] == pytest.approx(metrics[1]["mse"], rel=1e-5)
    assert metrics[0]["acc"] == metrics[1]["acc"]


# --------------------------------------------------------------- item 7: K types


def _springs3(root: Path) -> Path:
    write_dataset(
        DatasetConfig(n_objects=3, n_train=16, n_valid=8, n_test=8, seed=5), root
    )
    return root


def _k3_sets(tmp_path: Path) -> tuple[Path, Path]:
    """Two imported sets of the same 99-frame springs: labels 0/1, and 0/1/2 (half the
    springs relabelled 2)."""
    sim = tmp_path / "sim"
    write_dataset(DatasetConfig(n_objects=3, n_train=30, n_valid=1, n_test=1, seed=5,
                                length=10000), sim)  # fmt: skip
    loc, vel = (np.load(sim / f"{k}_train_springs3.npy") for k in ("loc", "vel"))
    x = np.concatenate([loc, vel], axis=2).transpose(0, 3, 1, 2)  # [S, 3, 99, 4]
    adj = np.load(sim / "edges_train_springs3.npy").astype(np.int64)  # [S, 3, 3]
    strong = np.random.default_rng(0).random(adj.shape) < 0.5
    names = np.array(["x", "y", "vx", "vy"])
    out = []
    for name, e in (("k2", adj), ("k3", np.where((adj > 0) & strong, 2, adj))):
        np.savez(tmp_path / f"{name}.npz", x=x, edges=e, feature_names=names)
        rc = main(["import", str(tmp_path / f"{name}.npz"), "--out",
                   str(tmp_path / name), "--name", "s3", "--test-frac", "0.2"])  # fmt: skip
        assert rc == 0
        out.append(tmp_path / name)
    return out[0], out[1]


def test_three_edge_types_are_scored(tmp_path, capsys):
    data01, data012 = _k3_sets(tmp_path)
    out = tmp_path / "run"
    rc, _, err = run_cli(["train", "--preset", "springs5", "--set", "data.suffix=s3",
                       "--data", str(data012), "--out", str(out), "--set",
                       "model.n_edge_types=3", "--set", "model.skip_first=true",
                       *TINY], capsys)  # fmt: skip
    assert rc == 0, err
    rc, text, err = run_cli(["evaluate", str(out), "--batch-size", "4"], capsys)
    assert rc == 0, err
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_label_classes"] == 3 and m["headline"] == "acc_perm"
    assert 0 <= m["acc_perm"] <= 1 and "perm.-invariant" in text
    # the same 3-type model against 0/1 labels: type 0 = no edge, never an interaction
    rc, text, err = run_cli(["evaluate", str(out), "--data", str(data01), "--batch-size",
                          "4", "--out", str(tmp_path / "m01.json")], capsys)  # fmt: skip
    assert rc == 0, err
    m = json.loads((tmp_path / "m01.json").read_text())
    assert m["headline"] == "acc_interaction" and m["n_label_classes"] == 2
    assert m["perm_mapping"][0] == 0 and all(c >= 1 for c in m["perm_mapping"][1:])
    assert "type 0 = none vs any interaction) [headline]" in text
    assert "trivial baselines" in text
    assert m["acc_all_no_edge"] + m["acc_all_edge"] == pytest.approx(1.0)


def test_skip_first_permutation_keeps_type_0_no_edge(
    run, tmp_path_factory, tmp_path, capsys
):
    """K = 2 with skip_first: the permutation-invariant score is the raw one, even
    against a truth the model gets mostly wrong (the complement of its own graph),
    where swapping the types would score better."""
    from nri import graph

    npz = tiny_npz(tmp_path_factory)
    path = long_csv(tmp_path / "d.csv", np.load(npz)["x"][:6])
    rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--out",
                       str(tmp_path / "own")], capsys)  # fmt: skip
    assert rc == 0, err
    with np.load(tmp_path / "own" / "edges.npz") as z:
        own = z["mean_probs"].argmax(-1)  # [E] the mean graph's types
    flipped = graph.to_dense_np(1 - own[None], fill=0)[0]  # [N, N] its complement
    np.save(tmp_path / "flipped.npy", flipped)
    rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--edges",
                       str(tmp_path / "flipped.npy"), "--out", str(tmp_path / "i")],
                      capsys)  # fmt: skip
    assert rc == 0, err
    m = strict_json(tmp_path / "i" / "edges.json")["metrics"]
    assert m["acc"] < 0.5  # a free relabelling would swap the types here
    assert m["perm_mapping"] == [0, 1]
    assert m["acc_perm"] == pytest.approx(m["acc"])
    assert m["acc"] == pytest.approx(m["acc_interaction"])
    out = tmp_path / "m.json"
    rc, text, err = run_cli(["evaluate", str(run), "--out", str(out)], capsys)
    assert rc == 0, err
    m = strict_json(out)
    assert m["perm_mapping"] == [0, 1] and m["acc_perm"] == pytest.approx(m["acc"])


# ----------------------------------------------------------- item 11: portability


def test_a_run_trained_with_a_relative_path_works_from_anywhere(
    tmp_path, capsys, monkeypatch
):
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    _springs3(project / "data")
    rc, _, err = run_cli(["train", "--preset", "springs5", "--set", "data.suffix=springs3",
                       "--data", "data", "--out", "runs/r", *TINY], capsys)  # fmt: skip
    assert rc == 0, err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    rc, _, err = run_cli(["evaluate", str(project / "runs" / "r"), "--batch-size", "4"],
                      capsys)  # fmt: skip
    assert rc == 0, err
    # a run that stored a relative path (Python's fit, older runs): found from the run
    cfg = project / "runs" / "r" / "config.yaml"
    raw = yaml.safe_load(cfg.read_text())
    raw["data"]["path"] = "data"
    cfg.write_text(yaml.safe_dump(raw))
    rc, _, err = run_cli(["evaluate", str(project / "runs" / "r"), "--batch-size", "4"],
                      capsys)  # fmt: skip
    assert rc == 0, err
    # the report finds the same data (its graph section is not dropped)
    rc, _, err = run_cli(
        ["report", str(project / "runs" / "r"), "--out", "r.html"], capsys
    )
    assert rc == 0, err
    assert "no inferred edges" not in (elsewhere / "r.html").read_text()


# ------------------------------------------------------ item 13: memory, batches


def test_evaluation_batches_are_sized_from_n():
    mc, gib = NRIConfig(), 2**30  # more in tests/test_eval_batch.py
    assert auto_eval_batch(mc, 5, 2 * gib) == 256  # the papers' sets: unchanged
    assert auto_eval_batch(mc, 10, 2 * gib) == 256
    assert auto_eval_batch(mc, 50, 2 * gib) == 2  # 0.67 GiB per sample (estimate)
    assert auto_eval_batch(mc, 100, 2 * gib) == 1


def test_out_of_memory_is_one_line_naming_the_option(
    base,  # noqa: F811 - the fixture of test_bad_input
    tmp_path,
    capsys,
    monkeypatch,
):
    def no_memory(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")

    monkeypatch.setattr(NRI, "evaluate_batch", no_memory)
    run = tmp_path / "run"
    shutil.copytree(base.run, run)
    before = (
        (run / "metrics.json").read_text() if (run / "metrics.json").exists() else None
    )
    rc, _, err = run_cli(["evaluate", str(run)], capsys)
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert (
        "ran out of memory" in err and "--batch-size" in err and "Traceback" not in err
    )
    after = (
        (run / "metrics.json").read_text() if (run / "metrics.json").exists() else None
    )
    assert after == before
    rc, _, err = run_cli(
        [
            "train",
            "--preset",
            "springs5",
            "--set",
            "data.suffix=springs3",
            "--data",
            str(base.data),
            "--out",
            str(tmp_path / "new"),
            *TINY[:-1],
        ],
        capsys,
    )  # fmt: skip  (with the final evaluation)
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert f"nri evaluate {tmp_path / 'new'} --batch-size" in err
    assert (tmp_path / "new" / "checkpoints" / "best.ckpt").exists()  # the run is kept


def test_evaluate_help_names_the_run_settings(capsys):
    rc, text, _ = run_cli(["evaluate", "--help"], capsys)
    assert rc == 0
    flat = " ".join(text.split())
    assert "model.n_timesteps" in flat and "model.test_horizon" in flat
    assert "0..48" not in flat and "--any-objects" in flat

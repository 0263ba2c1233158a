"""Candidates from the linear interaction score (nri.linear_candidates, nri candidates)."""

import numpy as np
import pytest
import torch

from nri import graph
from nri.linear_candidates import linear_candidates, linear_scores, top_k_senders


def _brute_scores(x: torch.Tensor, ridge: float) -> torch.Tensor:
    """The regression of the module docstring, one design matrix row per frame."""
    s, n, t, f = x.shape
    xd = x.double()
    out = torch.full((n, n), float("-inf"), dtype=torch.float64)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        rows, ys = [], []
        for a in range(s):
            for b in range(t - 1):
                parts = [xd[a, i, b]] + [xd[a, j, b] - xd[a, i, b] for j in others]
                rows.append(torch.cat(parts))
                ys.append(xd[a, i, b + 1] - xd[a, i, b])
        design, target = torch.stack(rows), torch.stack(ys)
        gram = design.T @ design
        lam = ridge * torch.diagonal(gram).mean()
        coef = torch.linalg.solve(gram + lam * torch.eye(gram.shape[0]).double(),
                                  design.T @ target)  # fmt: skip
        out[i, others] = coef[f:].view(n - 1, f, f).square().sum((1, 2)).sqrt()
    return out


def test_scores_equal_the_regression_written_out_row_by_row():
    x = torch.randn(3, 5, 7, 2, generator=torch.Generator().manual_seed(0))
    for ridge in (1e-3, 0.5):
        torch.testing.assert_close(linear_scores(x, ridge), _brute_scores(x, ridge))


def test_scores_are_equivariant_under_relabelling_the_objects():
    x = torch.randn(4, 6, 9, 3, generator=torch.Generator().manual_seed(1))
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    want = linear_scores(x)[perm][:, perm]
    torch.testing.assert_close(linear_scores(x[:, perm]), want)


def test_linear_coupling_is_found_exactly():
    """dx_i = sum_j w_ij (x_j - x_i) with a sparse w: the top senders are w's."""
    gen = torch.Generator().manual_seed(2)
    n, f, t = 7, 2, 60
    w = torch.zeros(n, n)
    for i, js in {
        0: [1, 2],
        1: [3],
        2: [0, 5],
        3: [6],
        4: [5, 6],
        5: [4],
        6: [2],
    }.items():
        w[i, js] = 0.05
    x = torch.zeros(8, n, t, f)
    x[:, :, 0] = torch.randn(8, n, f, generator=gen)
    for step in range(t - 1):
        now = x[:, :, step]
        drive = torch.einsum("ij,bjf->bif", w, now) - w.sum(1)[None, :, None] * now
        noise = 0.05 * torch.randn(8, n, f, generator=gen)  # keeps the states apart
        x[:, :, step + 1] = now + drive + noise
    cand = top_k_senders(linear_scores(x), 2)
    true = w > 0
    assert bool((cand | ~true).all())  # every true sender is among the 2 best
    labels = graph.to_edges(true).long()[None].expand(8, -1)
    found = linear_candidates(x, 2, labels)
    assert found.recall == 1.0 and found.shared_truth is True


def test_top_k_and_errors_in_one_line():
    scores = torch.tensor([[-np.inf, 1.0, 2.0, 2.0], [3.0, -np.inf, 1.0, 0.0],
                           [0.0, 0.0, -np.inf, 1.0], [1.0, 5.0, 4.0, -np.inf]])  # fmt: skip
    assert top_k_senders(scores, 2).int().tolist() == [
        [0, 0, 1, 1], [1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0]]  # fmt: skip
    with pytest.raises(ValueError, match=r"k must be in 1 \.\. N - 2 = 2"):
        top_k_senders(scores, 3)
    with pytest.raises(ValueError, match="ridge must be > 0"):
        linear_scores(torch.zeros(1, 4, 3, 2), ridge=0.0)
    with pytest.raises(ValueError, match="3 objects and 2 frames"):
        linear_scores(torch.zeros(1, 4, 1, 2))
    bad = torch.zeros(1, 4, 3, 2)
    bad[0, 1, 1, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        linear_scores(bad)


def test_cli_writes_the_graph_that_trains_and_refuses_bad_output(tmp_path, capsys):
    from nri.cli import main

    data = tmp_path / "data"
    assert main(["simulate", "springs", "--graph", "er:p=0.3", "--graph-seed", "3",
                 "--objects", "8", "--train", "30", "--valid", "4", "--test", "4",
                 "--out", str(data), "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    out = tmp_path / "cand.csv"
    assert main(["candidates", str(data), "--k", "3", "--out", str(out), "--scores",
                 str(tmp_path / "s.npy")]) == 0  # fmt: skip
    text = capsys.readouterr().out
    adj = np.loadtxt(out, delimiter=",", dtype=int)
    assert adj.shape == (8, 8) and (adj.sum(1) == 3).all() and not adj.diagonal().any()
    truth = np.load(data / "edges_train_springs8.npy")[0] != 0
    bound = np.minimum(truth.sum(1), 3).sum() / truth.sum()
    recall = (truth & (adj != 0)).sum() / truth.sum()
    assert f"hold {recall:.1%} of the true edges of the train split" in text
    assert recall >= bound - 1 / truth.sum()  # springs: at most one miss of the bound
    scores = np.load(tmp_path / "s.npy")
    assert np.isneginf(scores.diagonal()).all()
    run = tmp_path / "run"
    assert main(["train", "--preset", "springs5", "--preset", "cpu", "--data",
                 str(data), "--set", "train.progress_bar=false", "--epochs", "1",
                 "--set", "data.suffix=springs8", "--no-eval", "--set",
                 f"model.candidates={out}", "--out",
                 str(run)]) == 0  # fmt: skip
    assert f"hold {recall:.1%} of the true edges" in capsys.readouterr().err
    for argv, msg in [
        (["--k", "3", "--out", str(tmp_path / "c.txt")], "written as .npy or .csv"),
        (["--k", "7", "--out", str(tmp_path / "c.npy")], "k must be in 1 .. N - 2 = 6"),
        (["--k", "3", "--out", str(tmp_path / "no" / "c.npy")], "no such folder"),
    ]:
        assert main(["candidates", str(data), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("nri: error:") and msg in err and "\n" not in err
    assert not (tmp_path / "c.npy").exists()


def test_samples_with_their_own_graphs_get_a_notice(tmp_path, capsys):
    from nri.cli import main

    data = tmp_path / "data"
    assert main(["simulate", "springs", "--objects", "6", "--train", "10", "--valid",
                 "4", "--test", "4", "--out", str(data), "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["candidates", str(data), "--k", "2", "--out",
                 str(tmp_path / "c.npy")]) == 0  # fmt: skip
    assert "nri: notice: the train split's samples have different true graphs" in (
        capsys.readouterr().err
    )

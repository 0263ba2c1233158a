"""One graph per data set (nri.aggregate, EdgeInference.aggregate/graph_matrix,
write_graph): pools, the per-sample AUROC and exports, against hand computations."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from nri import graph
from nri.aggregate import (
    aggregate_probs,
    aggregate_scores,
    graph_level_metrics,
    per_sample_auroc,
    shared_labels,
)
from nri.edge_inference import EdgeInference
from nri.exports import write_graph
from nri.infer_export import to_networkx
from nri.metrics import auroc


def _result(probs: np.ndarray, truth: np.ndarray | None) -> EdgeInference:
    s, e, _ = probs.shape
    n = 3
    assert e == n * (n - 1)
    send, recv = graph.fully_connected_np(n)
    return EdgeInference(
        probs=probs, mean_probs=probs.mean(0), send=send, recv=recv, no_edge_type=0,
        true_edges=truth, frames=(0, 10), object_names=("a", "b", "c"),
        sample_names=tuple(str(i) for i in range(s)), source="test", run="run",
    )  # fmt: skip


def _probs(rng: np.random.Generator, s: int = 4, e: int = 6) -> np.ndarray:
    p1 = rng.uniform(0.02, 0.98, size=(s, e))
    return np.stack([1 - p1, p1], axis=-1)  # [S, E, 2]


def test_auroc_hand_made_case():
    # pairs (positive, negative): (0.35, 0.1) ok, (0.35, 0.4) wrong, (0.8, *) ok
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    # a tie between a positive and a negative counts one half
    assert auroc(np.array([0.5, 0.5, 0.9]), np.array([0, 1, 1])) == 0.75
    try:  # the same against scikit-learn where it is installed
        from sklearn.metrics import roc_auc_score
    except ImportError:
        return
    rng = np.random.default_rng(0)
    s, y = rng.random(50), rng.integers(0, 2, 50)
    assert auroc(s, y) == pytest.approx(roc_auc_score(y, s))


def test_per_sample_auroc_is_the_mean_of_each_samples():
    scores = np.array([[0.1, 0.4, 0.35, 0.8], [0.9, 0.2, 0.3, 0.1]])
    labels = np.array([[0, 0, 1, 1], [1, 0, 1, -1]])  # -1 unknown, skipped
    assert per_sample_auroc(scores, labels) == pytest.approx((0.75 + 1.0) / 2)
    one_class = np.array([[0, 0, 0, 0], [1, 0, 1, -1]])
    assert per_sample_auroc(scores, one_class) == 1.0  # sample 0 has no positive


def test_pools():
    rng = np.random.default_rng(1)
    p = _probs(rng)
    np.testing.assert_allclose(aggregate_probs(p, "mean"), p.mean(0))
    logit = np.log(p[..., 1] / p[..., 0]).mean(0)  # the mean log-odds (K = 2)
    np.testing.assert_allclose(
        aggregate_probs(p, "logit")[:, 1], 1 / (1 + np.exp(-logit))
    )
    np.testing.assert_allclose(
        aggregate_scores(p[..., 1], "logit"), 1 / (1 + np.exp(-logit))
    )
    # the logit pool ranks like the product of experts prod_s q_s
    poe = np.prod(p[..., 1], 0) / (np.prod(p[..., 1], 0) + np.prod(p[..., 0], 0))
    assert (np.argsort(poe) == np.argsort(aggregate_probs(p, "logit")[:, 1])).all()
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate_probs(p, "median")


def test_graph_level_metrics_need_one_shared_graph():
    rng = np.random.default_rng(2)
    p1 = rng.random((5, 6))
    y = np.array([1, 0, 0, 1, 1, 0])
    m = graph_level_metrics(p1, np.tile(y, (5, 1)))
    assert m["auroc_aggregate"] == auroc(p1.mean(0), y)
    assert m["auroc_aggregate_logit"] == auroc(aggregate_scores(p1, "logit"), y)
    other = np.tile(y, (5, 1))
    other[2, 0] = 0
    assert shared_labels(other) is None
    assert np.isnan(graph_level_metrics(p1, other)["auroc_aggregate"])


def test_edge_inference_graph_is_the_mean_of_the_posteriors(tmp_path):
    rng = np.random.default_rng(3)
    p = _probs(rng, s=7)
    truth = np.tile(np.array([1, 0, 0, 1, 1, 0]), (7, 1))
    r = _result(p, truth)
    mat = r.graph_matrix()
    send, recv = graph.fully_connected_np(3)
    want = np.zeros((3, 3))
    want[recv, send] = (1 - p[..., 0]).mean(0)  # [receiver, sender]
    np.testing.assert_allclose(mat, want)
    assert (np.diagonal(mat) == 0).all()
    np.testing.assert_allclose(r.graph_matrix("logit")[recv, send],
                               aggregate_probs(p, "logit")[:, 1])  # fmt: skip
    m = r.metrics()
    assert m["auroc_aggregate"] == auroc(want[recv, send], truth[0])
    assert m["auroc_per_sample"] == per_sample_auroc(p[..., 1], truth)
    paths = write_graph(r, tmp_path, "mean")
    np.testing.assert_allclose(np.load(paths["npy"]), want)
    csv = np.loadtxt(paths["csv"], delimiter=",", skiprows=1, usecols=(1, 2, 3))
    np.testing.assert_allclose(csv, want, rtol=1e-9)
    g = nx.read_graphml(paths["graphml"])
    assert g.number_of_edges() == 6
    assert float(g.edges["1", "0"]["weight"]) == pytest.approx(want[0, 1])  # 1 -> 0
    h = to_networkx(r, aggregate="logit")
    assert h.edges[1, 0]["weight"] == pytest.approx(r.graph_matrix("logit")[0, 1])

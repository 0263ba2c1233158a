"""Simulators on a given graph (nri.sim.graphs, nri.sim.netsims, --graph) and the
default simulations kept bit for bit."""

from __future__ import annotations

import hashlib

import networkx as nx
import numpy as np
import pytest

from nri.cli import main
from nri.sim.graphs import GraphError, make_graph
from nri.sim.io import SPLITS, DatasetConfig, file_names, write_dataset
from nri.sim.netsims import NetSimConfig, growth_rate, simulate_netsims
from nri.sim.particles import simulate
from nri.sim.springs import SpringsConfig

# sha256 of every array of a small default set, computed before --graph existed
DEFAULT_DIGESTS = {
    "springs": "694bfae9301ef1df459337d6dd7ce311d6fb43a17b4dc3d66c30d8a4b87f5ee4",
    "kuramoto": "94e4c7b6797437ae0a47645d328228e3af285a5f697ec17723e214bd3f33316d",
}


@pytest.mark.parametrize("system", sorted(DEFAULT_DIGESTS))
def test_default_simulations_unchanged(tmp_path, system):
    cfg = DatasetConfig(system=system, n_objects=4, n_train=12, n_valid=3, n_test=3,
                        length=1000, length_test=2000, frames=9, frames_test=19,
                        seed=3)  # fmt: skip
    write_dataset(cfg, tmp_path)
    h = hashlib.sha256()
    for split in SPLITS:
        for _, name in sorted(file_names(system, cfg.suffix, split).items()):
            h.update(np.load(tmp_path / name).tobytes())
    assert h.hexdigest() == DEFAULT_DIGESTS[system]


@pytest.mark.parametrize(
    "spec",
    [
        "er:p=0.3",
        "er:p=0.3,directed=true",
        "ba:m=2",
        "ws:k=4,p=0.1",
        "sbm:sizes=4+6,p_in=0.6,p_out=0.05",
    ],  # fmt: skip
)
def test_generators_seeded_and_in_our_convention(spec):
    a = make_graph(spec, 10, seed=7)
    assert a.shape == (10, 10) and set(np.unique(a)) <= {0.0, 1.0}
    assert not np.diagonal(a).any()
    np.testing.assert_array_equal(a, make_graph(spec, 10, seed=7))  # reproducible
    assert any(
        not np.array_equal(a, make_graph(spec, 10, seed=s)) for s in range(8, 12)
    )
    if "directed" not in spec:
        np.testing.assert_array_equal(a, a.T)


def test_directed_generator_is_transposed_to_receiver_sender():
    g = nx.gnp_random_graph(8, 0.3, seed=5, directed=True)
    a = make_graph("er:p=0.3,directed=true", 8, seed=5)
    for u, v in g.edges():  # networkx u -> v: v receives from u
        assert a[v, u] == 1.0
    assert a.sum() == g.number_of_edges()


def test_ba_graph_matches_networkx():
    a = make_graph("ba:m=2", 50, seed=0)
    g = nx.barabasi_albert_graph(50, 2, seed=0)
    assert a.sum() == 2 * g.number_of_edges() == 2 * 2 * 48


def test_bad_specs(tmp_path):
    with pytest.raises(GraphError, match="unknown setting"):
        make_graph("ba:q=2", 10, 0)
    with pytest.raises(GraphError, match="give m="):
        make_graph("ba:", 10, 0)
    with pytest.raises(GraphError, match="sum to the 10 objects"):
        make_graph("sbm:sizes=4+4,p_in=0.5,p_out=0.1", 10, 0)
    np.save(tmp_path / "g.npy", np.eye(3))
    with pytest.raises(GraphError, match="diagonal must be 0"):
        make_graph(str(tmp_path / "g.npy"), None, 0)
    np.save(tmp_path / "w.npy", np.full((3, 3), 0.5))
    with pytest.raises(GraphError, match="0 or 1"):
        make_graph(str(tmp_path / "w.npy"), None, 0)


def test_springs_on_a_directed_graph_forces_follow_rows():
    """Object 0 driven by 1 only (adj[0, 1] = 1): 1 moves in a straight line."""
    adj = np.zeros((3, 3))
    adj[0, 1] = 1.0
    cfg = SpringsConfig(n_objects=3, box_size=50.0)
    res = simulate("springs", cfg, 4, 1000, np.random.default_rng(0), graph=adj)
    assert (res.edges == adj).all()
    vel = res.vel  # [S, T, 2, n]
    np.testing.assert_allclose(vel[:, :, :, 1], vel[:, :1, :, 1].repeat(9, 1))
    assert np.abs(np.diff(vel[:, :, :, 0], axis=1)).max() > 1e-4  # 0 is pulled


def test_cli_edges_file_equals_the_given_graph(tmp_path, capsys):
    adj = make_graph("er:p=0.4,directed=true", 6, seed=1)
    np.savetxt(tmp_path / "g.csv", adj, delimiter=",", fmt="%d")
    for system in ("springs", "netsims"):
        assert main(["simulate", system, "--graph", str(tmp_path / "g.csv"),
                     "--train", "6", "--valid", "2", "--test", "2", "--length",
                     "1000", "--length-test", "2000", "--interaction-strength", "0.3",
                     "--out", str(tmp_path / "d"), "--quiet"]) == 0  # fmt: skip
        for split in SPLITS:
            edges = np.load(tmp_path / "d" / f"edges_{split}_{system}6.npy")
            assert (edges == adj[None]).all()
    bold = np.load(tmp_path / "d" / "bold_test_netsims6.npy")
    assert bold.shape == (2, 19, 1, 6)
    assert main(["simulate", "springs", "--graph", "ba:m=2", "--objects", "9",
                 "--graph-seed", "4", "--train", "3", "--valid", "2", "--test", "2",
                 "--length", "1000", "--length-test", "2000", "--out",
                 str(tmp_path / "b"), "--quiet"]) == 0  # fmt: skip
    edges = np.load(tmp_path / "b" / "edges_train_springs9.npy")
    assert (edges == make_graph("ba:m=2", 9, seed=4)[None]).all()
    assert main(["simulate", "charged", "--graph", "ba:m=2", "--out",
                 str(tmp_path / "c")]) == 2  # fmt: skip
    assert "springs and netsims" in capsys.readouterr().err


def test_netsims_matches_the_benchmarks_euler_loop():
    """Our vectorised model against a literal per-simulation transcription of the
    benchmark's loop (state before the step stored every sample_freq steps)."""
    adj = make_graph("er:p=0.3,directed=true", 5, seed=2)
    cfg = NetSimConfig(n_objects=5, sample_freq=10, coupling=0.5)
    out = simulate_netsims(cfg, adj, 3, 200, np.random.default_rng(9))
    z0 = np.random.default_rng(9).standard_normal((3, 5))
    a = 0.5 * adj.copy()
    np.fill_diagonal(a, -1.0)
    for s in range(3):
        z, frames = z0[s].copy(), []
        for i in range(1, 200):
            nxt = z + cfg.dt * cfg.sigma * a @ z
            if i % 10 == 0:
                frames.append(z.copy())
            z = nxt
        np.testing.assert_allclose(out[s, :, 0], np.array(frames), rtol=1e-12)
    assert out.shape == (3, 19, 1, 5)
    assert growth_rate(cfg, adj) < 0 < growth_rate(NetSimConfig(n_objects=5),
                                                   make_graph("ba:m=2", 5, 0))  # fmt: skip


def test_fast_and_reference_agree_on_a_directed_graph():
    adj = make_graph("er:p=0.4,directed=true", 6, seed=3)
    assert not np.array_equal(adj, adj.T)
    cfg = SpringsConfig(n_objects=6)
    fast = simulate("springs", cfg, 5, 2000, np.random.default_rng(1), "fast", adj)
    ref = simulate("springs", cfg, 5, 2000, np.random.default_rng(1), "reference", adj)
    np.testing.assert_allclose(fast.loc, ref.loc, rtol=0, atol=1e-12)

"""ModularMeta (Alet et al. 2019): the annealing search, its acceptance rule and
temperature controller, one BounceGrad step, relabelling invariance, checkpoints and a
short CPU run through `nri train` / `nri evaluate` (docs/baselines.md, ModularMeta)."""

import json
import math

import pytest
import torch

from nri import graph
from nri.baselines import anneal as sa
from nri.baselines.modular_meta import ModularMeta, ModularMetaConfig
from nri.config import resolve
from nri.data.dataset import load_dataset
from nri.evaluate import evaluate_run
from nri.training.checkpoint import safe_load
from nri.training.fit import fit, load_run

QUIET = ["train.progress_bar=false", "train.threads=1", "train.precision=32-true"]
DT, K_SPRING = 0.05, 1.0


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -------------------------------------------- a problem whose modules are the physics
def spring_trajectories(adj: torch.Tensor, steps: int, seed: int) -> torch.Tensor:
    """Springs by explicit Euler, ``adj [B, N, N]`` (receiver, sender) symmetric 0/1:
    ``[B, N, T, 4]`` (x, y, vx, vy)."""
    g = gen(seed)
    b, n, _ = adj.shape
    p = torch.randn(b, n, 2, generator=g, dtype=torch.float64)
    v = torch.randn(b, n, 2, generator=g, dtype=torch.float64) * 0.5
    frames = []
    for _ in range(steps):
        frames.append(torch.cat([p, v], -1))
        force = -K_SPRING * (adj[..., None] * (p[:, :, None] - p[:, None])).sum(2)
        p, v = p + DT * v, v + DT * force
    return torch.stack(frames, dim=2)  # [B, N, T, 4]


def exact_modules_loss(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """The loss of structure ``s [B, E]`` when the edge modules are the exact physics
    (type 0: no force, type 1: a unit spring) and the node module is the Euler step:
    one-step MSE of the velocities, ``[B]``."""
    adj = graph.to_dense(s.double())  # [B, N, N] receiver, sender
    p, v = x[:, :, :-1, :2], x[:, :, :-1, 2:]  # [B, N, T-1, 2]
    diff = p[:, :, None] - p[:, None]  # [B, N(recv), N(send), T-1, 2]
    force = -K_SPRING * (adj[..., None, None] * diff).sum(2)
    return (v + DT * force - x[:, :, 1:, 2:]).pow(2).mean(dim=(1, 2, 3))


def random_symmetric(b: int, n: int, seed: int) -> torch.Tensor:
    a = (torch.rand(b, n, n, generator=gen(seed)) < 0.5).double()
    a = torch.triu(a, 1)
    return a + a.transpose(1, 2)  # [B, N, N]


def permute_edges(s: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Edge values after relabelling objects: new object i is old object perm[i]."""
    dense = graph.to_dense(s)
    return graph.to_edges(dense[:, perm][:, :, perm])


def test_search_finds_the_true_springs_structure_with_exact_modules():
    adj = random_symmetric(6, 5, seed=1)
    x = spring_trajectories(adj, 12, seed=2)
    truth = graph.to_edges(adj).long()  # [B, E]
    _, recv = graph.fully_connected(5)
    q = torch.full((6, 20, 2), 0.5)  # a blind (uniform) proposal

    def propose(s, g):  # the authors' node move: redraw one receiver's edges
        return sa.propose_node(s, q, recv, 5, g)

    s0 = torch.randint(0, 2, truth.shape, generator=gen(3))
    assert (s0 == truth).float().mean() < 0.9
    # greedy (T = 0): a receiver's error depends on its incoming edges only, and a
    # node move searches all 16 of them (single-edge moves can stall in a local
    # minimum of this quadratic objective)
    found, loss = sa.anneal(
        lambda s: exact_modules_loss(x, s), s0, propose, 800, 0.0, gen(4)
    )
    assert (found == truth).float().mean().item() == 1.0
    assert torch.all(loss < 1e-20)
    # relabelling the objects permutes the structure the search finds
    perm = torch.tensor([3, 0, 4, 1, 2])
    found_p, _ = sa.anneal(
        lambda s: exact_modules_loss(x[:, perm], s), s0, propose, 800, 0.0, gen(5)
    )
    assert torch.equal(found_p, permute_edges(found, perm))


def test_acceptance_rule_and_controller_by_hand():
    old = torch.tensor([1.0, 1.0, 1.0, 1.0])
    new = torch.tensor([1.1, 1.1, 0.9, 1.0])
    u = torch.tensor([0.36, 0.37, 0.99, 0.99])
    # T = 0.1: a loss 0.1 worse is accepted with probability exp(-1) = 0.3679
    ok = sa.metropolis_accept(old, new, 0.1, u)
    assert ok.tolist() == [True, False, True, True]  # better / equal: always
    assert sa.metropolis_accept(old, new, 0.0, u).tolist() == [False, False, True, True]
    # running rate of accepted worse proposals: w = min(0.01, 1e-9 / 1e-9) = 0.01,
    # worse proposals 0 (accepted) then 1 (rejected), in batch order
    rate, factor = sa.update_acceptance(1e-9, 1e-9, old < new, ok)
    f1, r1 = 0.99 * 1e-9 + 0.01, 0.99 * 1e-9 + 0.01
    f2, r2 = 0.99 * f1 + 0.01, 0.99 * r1
    assert (rate, factor) == pytest.approx((r2, f2), rel=1e-12)
    assert rate / factor == pytest.approx(0.0099 / 0.0199, rel=1e-6)
    # controller: heat by 1.1 below the target, cool by 1.1 above it (floor min_temp)
    assert sa.adapt_temperature(1.0, rate, factor, 0.6, 1e-3) == pytest.approx(1.1)
    assert sa.adapt_temperature(1.0, rate, factor, 0.4, 1e-3) == pytest.approx(1 / 1.1)
    assert sa.adapt_temperature(1e-3, rate, factor, 0.4, 1e-3) == 1e-3
    assert sa.target_rate(-1.0, 0.0) == pytest.approx(math.exp(-1))
    assert sa.target_rate(-1.0, 1.0) == pytest.approx(math.exp(-6))


def small_model(**kw) -> ModularMeta:
    settings = dict(n_timesteps=12, decoder_hidden_dim=16, encoder_hidden_dim=16)
    return ModularMeta(ModularMetaConfig(**{**settings, **kw}))


def test_one_meta_training_step_changes_modules_and_stores_structures():
    torch.manual_seed(0)
    m = small_model(train_search_steps=1)  # the authors' one proposal per visit
    x = spring_trajectories(random_symmetric(8, 5, 1), 12, 2).float()
    opt = torch.optim.Adam(m.optimizer_groups(), lr=1e-2)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    idx = torch.tensor([3, 0, 7, 5, 1, 2, 6, 4])
    out = m.loss(x, gen(0), sample_index=idx)
    out.loss.backward()
    opt.step()
    after = m.state_dict()
    for name in ("decoder.msg.w1", "decoder.msg.w2", "decoder.out_fc3.weight"):
        assert not torch.equal(before[name], after[name]), name
    if out.logs["accept"] > 0:  # the proposal learns from the accepted structures
        assert not torch.equal(before["encoder.fc_out.weight"], m.encoder.fc_out.weight)
    assert m.train_structures.shape == (8, 20) and (m.train_structures >= 0).all()
    assert m.temperature == pytest.approx(math.exp(-9.8) / 1.1)  # rate 1 > target
    # a second step on the same samples starts from the stored structures
    stored = m.train_structures.clone()
    m.loss(x[:2], gen(1), sample_index=torch.tensor([0, 1]))
    changed = (m.train_structures[2:] != stored[2:]).any()
    assert not changed  # the other samples keep theirs
    # checkpoints carry the structures and the annealing state
    fresh = small_model()
    fresh.load_state_dict(m.state_dict())
    assert torch.equal(fresh.train_structures, m.train_structures)
    assert fresh.temperature == m.temperature


def test_structure_loss_and_initial_search_follow_the_objects():
    torch.manual_seed(0)
    m = small_model().eval()
    x = spring_trajectories(random_symmetric(3, 5, 4), 12, 5).float()
    perm = torch.tensor([2, 4, 0, 1, 3])
    s = torch.randint(0, 2, (3, 20), generator=gen(6))
    a = m.structure_loss(x, s)
    b = m.structure_loss(x[:, perm], permute_edges(s, perm))
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)
    s0, _, _ = m.search(x, gen(7), steps=0)  # the proposal's most likely structure
    s0p, _, _ = m.search(x[:, perm], gen(7), steps=0)
    assert torch.equal(s0p, permute_edges(s0, perm))
    with pytest.raises(ValueError, match="search_init=random"):
        ModularMetaConfig(proposal="uniform")


@pytest.fixture(scope="module")
def springs(reference_dir):
    return load_dataset(reference_dir, "springs5")


@pytest.mark.slow
def test_short_cpu_run_learns_above_chance_and_resumes(tmp_path, springs):
    sets = [*QUIET, "train.epochs=3", "train.n_train=1000", "train.n_valid=64",
            "train.batch_size=16", "model.decoder_window=21",
            "model.val_search_steps=2", "model.test_search_steps=3"]  # fmt: skip
    cfg = resolve(["modular_meta_springs5"], sets)
    res = fit(cfg, tmp_path / "mm", data=springs)
    assert res.monitor == "val/mse" and math.isfinite(res.best_score)
    ckpt = safe_load(res.last_checkpoint)  # weights_only, with the structures
    stored = ckpt["state_dict"]["model.train_structures"]
    assert stored.shape == (1000, 20) and int(stored.min()) >= 0
    m = evaluate_run(res.run_dir, springs)
    assert json.loads((res.run_dir / "metrics.json").read_text())["acc_perm"] == (
        pytest.approx(m["acc_perm"])
    )
    assert m["acc_perm"] > 0.55, m["acc_perm"]  # chance: 0.5 (+- 0.008 on 4000 edges)
    assert all(math.isfinite(v) for v in m["mse"])
    # deterministic: the same search again gives the same metrics
    again = evaluate_run(res.run_dir, springs, write=False)
    assert again["acc_perm"] == m["acc_perm"] and again["mse"] == m["mse"]
    # resume continues from the stored structures and annealing state
    more = resolve(
        ["modular_meta_springs5"],
        [v.replace("train.epochs=3", "train.epochs=4") for v in sets],
    )
    res2 = fit(more, tmp_path / "mm", data=springs, resume=True)
    assert load_run(res2.run_dir, "last").model.train_structures.shape == (1000, 20)


def test_presets_resolve_for_every_data_set():
    for s in (
        "springs5",
        "charged5",
        "kuramoto5",
        "springs10",
        "charged10",
        "kuramoto10",
    ):
        cfg = resolve([f"modular_meta_{s}"], [])
        assert (cfg.model, cfg.data.suffix) == ("modular_meta", s)
        assert cfg.model_config.n_features == (3 if s.startswith("kuramoto") else 4)
    with pytest.raises(ValueError, match="train_search_steps"):
        resolve(["modular_meta_springs5"], ["model.train_search_steps=0"])

"""Tests of nri.data.augment: D4 symmetries of the box systems, exact in normalised units."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nri.data.augment import INVERSE, BoxSymmetry
from nri.data.normalize import Normalizer
from nri.sim.particles import (
    ParticleConfig,
    ParticleInit,
    integrate_reference,
    sample_init,
)

# The numbering documented in nri.data.augment, written out independently here.
MATS = np.array(
    [
        [[1, 0], [0, 1]],  # identity
        [[0, -1], [1, 0]],  # rotate +90
        [[-1, 0], [0, -1]],  # rotate 180
        [[0, 1], [-1, 0]],  # rotate 270
        [[-1, 0], [0, 1]],  # x -> -x
        [[1, 0], [0, -1]],  # y -> -y
        [[0, 1], [1, 0]],  # swap
        [[0, -1], [-1, 0]],  # anti-swap
    ],
    dtype=np.float64,
)  # [8, 2, 2]

# Training ranges deliberately asymmetric about 0, so the affine shift matters.
ASYM = Normalizer(
    groups=(0, 0, 1, 1),
    mins=(-1.5, -0.4),
    maxs=(3.0, 1.1),
    names=("x", "y", "vx", "vy"),
)


def _generic(b: int = 3, n: int = 5, t: int = 7, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(b, n, t, 4, generator=gen, dtype=torch.float64) * 2 - 1


def _to_x(loc: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """Simulator layout ``[S, T, 2, n]`` x2 -> model layout ``[S, n, T, 4]``."""
    return np.concatenate(
        [loc.transpose(0, 3, 1, 2), vel.transpose(0, 3, 1, 2)], axis=-1
    )  # [S, n, T, 4]


def _physical_apply(norm: Normalizer, x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Reference: undo the normalisation, apply M to (x, y) and (vx, vy), redo it."""
    p = norm.inverse(x)  # [B, N, T, 4]
    m = torch.from_numpy(MATS).to(x.dtype)[k]  # [B, 2, 2]
    pos = torch.einsum("bij,bntj->bnti", m, p[..., :2])
    vel = torch.einsum("bij,bntj->bnti", m, p[..., 2:])
    return norm.transform(torch.cat([pos, vel], dim=-1))


# --------------------------------------------------------------------------------------
# The key test: an augmented trajectory is an exact solution of the same system

# Small boxes and fast particles, so that the walls are hit (checked in the test).
BOX = {"box_size": 1.0, "vel_norm": 2.0, "sample_freq": 10}
SYSTEMS = {
    "springs": (ParticleConfig(interaction_strength=0.1, **BOX), 2000),
    "charged": (ParticleConfig(interaction_strength=1.0, **BOX), 500),
}


@pytest.mark.parametrize("system", ["springs", "charged"])
def test_augmented_trajectory_is_a_solution_of_the_same_system(system):
    cfg, n_steps = SYSTEMS[system]
    s = 16
    init = sample_init(system, cfg, s, cfg.n_frames(n_steps), np.random.default_rng(3))
    element = np.arange(s) % 8  # every element, twice, on different systems
    m = MATS[element]  # [S, 2, 2]
    moved = ParticleInit(
        edges=init.edges,  # same springs / charges: objects keep their identities
        loc=np.einsum("sij,sjn->sin", m, init.loc),
        vel=np.einsum("sij,sjn->sin", m, init.vel),
        loc_noise=None,
        vel_noise=None,
    )
    loc, vel = integrate_reference(system, cfg, init, n_steps)  # [S, T, 2, n]
    loc2, vel2 = integrate_reference(system, cfg, moved, n_steps)

    # the walls matter: each element acts on at least one simulation that bounces
    free = dataclasses.replace(cfg, box_size=100.0)
    loc_free, _ = integrate_reference(system, free, init, n_steps)
    bounced = np.abs(loc_free - loc).max(axis=(1, 2, 3)) > 1e-2  # [S]
    assert set(element[bounced].tolist()) == set(range(8))

    # physical units: simulate(M x0) == M simulate(x0), to 1e-8 of the largest value
    for got, orig in ((loc2, loc), (vel2, vel)):
        want = np.einsum("sij,stjn->stin", m, orig)  # [S, T, 2, n]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-8 * np.abs(orig).max())

    # normalised units, through BoxSymmetry: with the normaliser fitted on the original,
    # and with one whose ranges are far from symmetric about 0 (as a training split
    # with other extremes could give), so that the affine shift matters
    x, x2 = _to_x(loc, vel), _to_x(loc2, vel2)  # [S, n, T, 4]
    fit = Normalizer.fit_particles(loc, vel)
    skew = dataclasses.replace(
        fit,
        mins=(1.7 * fit.mins[0], 0.6 * fit.mins[1]),
        maxs=(0.8 * fit.maxs[0], 1.9 * fit.maxs[1]),
    )
    for norm in (fit, skew):
        sym = BoxSymmetry.from_normalizer(norm)
        got = sym.apply(torch.from_numpy(norm.transform(x)), torch.tensor(element))
        want = torch.from_numpy(norm.transform(x2))
        torch.testing.assert_close(got, want, rtol=0, atol=1e-8)


# --------------------------------------------------------------------------------------
# The normalised map against its physical definition


def test_apply_matches_the_physical_definition_and_the_reflection_formula():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic(b=8)
    k = torch.arange(8)
    torch.testing.assert_close(
        sym.apply(x, k), _physical_apply(ASYM, x, k), rtol=0, atol=1e-12
    )
    # x -> -x in physical units is x' -> -x' - 2 (max + min) / (max - min)
    out = sym.apply(x, torch.full((8,), 4))
    shift = -2 * (3.0 - 1.5) / (3.0 + 1.5)
    torch.testing.assert_close(out[..., 0], -x[..., 0] + shift, rtol=0, atol=1e-12)
    torch.testing.assert_close(out[..., 1], x[..., 1], rtol=0, atol=0)
    shift_v = -2 * (1.1 - 0.4) / (1.1 + 0.4)
    torch.testing.assert_close(out[..., 2], -x[..., 2] + shift_v, rtol=0, atol=1e-12)
    # the physical origin is a fixed point of every element
    zero = ASYM.transform(torch.zeros(1, 1, 1, 4, dtype=torch.float64)).expand(
        8, 1, 1, 4
    )
    torch.testing.assert_close(sym.apply(zero, k), zero, rtol=0, atol=1e-15)


def test_dtype_shape_and_new_tensor():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic().float()
    out = sym.apply(x, torch.tensor([1, 6, 0]))
    assert out.shape == x.shape and out.dtype == torch.float32
    assert out.data_ptr() != x.data_ptr()
    torch.testing.assert_close(
        out.double(), _physical_apply(ASYM, x.double(), torch.tensor([1, 6, 0])),
        rtol=0, atol=1e-6,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Group properties


def test_identity_is_exact_and_elements_are_distinct():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic(b=1)
    assert torch.equal(sym.apply(x, torch.zeros(1, dtype=torch.int64)), x)
    outs = [sym.apply(x, torch.tensor([k])) for k in range(8)]
    for a in range(8):
        for b in range(a + 1, 8):
            assert (outs[a] - outs[b]).abs().max() > 1e-3, (a, b)


def test_involutions_and_inverses():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic(b=8)
    k = torch.arange(8)
    back = sym.apply(sym.apply(x, k), torch.tensor(INVERSE))
    torch.testing.assert_close(back, x, rtol=0, atol=1e-14)
    for r in (2, 4, 5, 6, 7):  # every reflection and the half turn are involutions
        twice = sym.apply(sym.apply(x, torch.full((8,), r)), torch.full((8,), r))
        torch.testing.assert_close(twice, x, rtol=0, atol=1e-14)
    # rotations: +90 four times is the identity, +90 then 270 is the identity
    y = x
    for _ in range(4):
        y = sym.apply(y, torch.full((8,), 1))
    torch.testing.assert_close(y, x, rtol=0, atol=1e-14)
    assert INVERSE[1] == 3 and INVERSE[3] == 1


def test_composition_follows_matrix_products():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic(b=1)
    for a in range(8):
        for b in range(8):
            prod = MATS[b] @ MATS[a]
            c = int(np.flatnonzero((MATS == prod).all(axis=(1, 2)))[0])
            ab = sym.apply(sym.apply(x, torch.tensor([a])), torch.tensor([b]))
            torch.testing.assert_close(
                ab, sym.apply(x, torch.tensor([c])), rtol=0, atol=1e-14
            )


def test_pairwise_distances_and_speeds_are_preserved():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic(b=8)
    out = sym.apply(x, torch.arange(8))
    p, q = ASYM.inverse(x), ASYM.inverse(out)  # physical units
    d_before = torch.cdist(
        p[..., :2].transpose(1, 2), p[..., :2].transpose(1, 2)
    )  # [B, T, N, N]
    d_after = torch.cdist(q[..., :2].transpose(1, 2), q[..., :2].transpose(1, 2))
    torch.testing.assert_close(d_after, d_before, rtol=0, atol=1e-12)
    torch.testing.assert_close(
        q[..., 2:].norm(dim=-1), p[..., 2:].norm(dim=-1), rtol=0, atol=1e-12
    )
    # and the transform is not trivial: positions moved
    assert (q[1:, ..., :2] - p[1:, ..., :2]).abs().amax(dim=(1, 2, 3)).min() > 1e-2


# --------------------------------------------------------------------------------------
# Random draws


def test_random_is_reproducible_and_uses_all_elements():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic(b=1).expand(400, -1, -1, -1)
    a = sym.random(x, torch.Generator().manual_seed(5))
    b = sym.random(x, torch.Generator().manual_seed(5))
    c = sym.random(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    candidates = torch.cat(
        [sym.apply(x[:1], torch.tensor([k])) for k in range(8)]
    )  # [8, ...]
    err = (a[:, None] - candidates[None]).abs().amax(dim=(2, 3, 4))  # [400, 8]
    assert (err.min(dim=1).values == 0).all()  # every output is exactly one of the 8
    counts = torch.bincount(err.argmin(dim=1), minlength=8)
    assert counts.min() >= 20, counts  # expected 50 each
    assert sym.random(x[:3], None).shape == (3, *x.shape[1:])


# --------------------------------------------------------------------------------------
# Errors


def test_refuses_kuramoto_style_normaliser():
    feat = np.random.default_rng(0).normal(size=(10, 5, 4))
    kuramoto = Normalizer.fit_per_feature(
        feat, names=("dphi_dt", "sin_phi", "omega", "phi")
    )
    with pytest.raises(ValueError, match="springs/charged") as info:
        BoxSymmetry.from_normalizer(kuramoto)
    assert "\n" not in str(info.value) and "'vx'" in str(info.value)
    unnamed = Normalizer(groups=(0, 0, 1, 1), mins=(-1.0, -1.0), maxs=(1.0, 1.0))
    with pytest.raises(ValueError, match="springs/charged"):
        BoxSymmetry.from_normalizer(unnamed)


@pytest.mark.parametrize("groups", [(0, 1, 2, 2), (0, 0, 1, 2), (0, 1, 2, 3)])
def test_refuses_x_and_y_in_different_groups(groups):
    n_groups = max(groups) + 1
    norm = Normalizer(
        groups=groups,
        mins=(-1.0,) * n_groups,
        maxs=(1.0,) * n_groups,
        names=("x", "y", "vx", "vy"),
    )
    with pytest.raises(ValueError, match="fit_particles") as info:
        BoxSymmetry.from_normalizer(norm)
    assert "\n" not in str(info.value) and str(groups) in str(info.value)


def test_apply_rejects_bad_inputs():
    sym = BoxSymmetry.from_normalizer(ASYM)
    x = _generic(b=2)
    with pytest.raises(ValueError, match=r"\[B, N, T, 4\]"):
        sym.apply(x[..., :3], torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\[B, N, T, 4\]"):
        sym.apply(x.long(), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="int64"):
        sym.apply(x, torch.tensor([0, 1], dtype=torch.int32))
    with pytest.raises(ValueError, match="B=2"):
        sym.apply(x, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="0..7"):
        sym.apply(x, torch.tensor([0, 8]))

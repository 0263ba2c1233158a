"""The fused GRU cell computes nn.GRUCell's function and gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nri.nn.gru import FusedGRUCell


def _pair(n_in: int, h: int) -> tuple[nn.GRUCell, FusedGRUCell]:
    torch.manual_seed(0)
    ref = nn.GRUCell(n_in, h)
    fused = FusedGRUCell(n_in, h)
    fused.load_state_dict(ref.state_dict())  # same parameter names
    return ref, fused


def _run(cell: nn.Module, x: torch.Tensor, h: torch.Tensor, bf16: bool):
    x = x.clone().requires_grad_()
    h = h.clone().requires_grad_()
    cell.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        y = cell(x, h)
    weight = torch.linspace(-1.0, 2.0, y.shape[1])
    (y.float() * weight).sum().backward()
    grads = [x.grad, h.grad] + [p.grad for p in cell.parameters()]
    return y, grads


def test_float32_matches_grucell_values_and_gradients():
    ref, fused = _pair(24, 16)
    x, h = torch.randn(200, 24) * 2, torch.randn(200, 16)
    y_ref, g_ref = _run(ref, x, h, bf16=False)
    y, g = _run(fused, x, h, bf16=False)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, y_ref, atol=1e-6, rtol=1e-5)
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_matches_hand_written_equations():
    _, fused = _pair(3, 2)
    x, h = torch.randn(5, 3), torch.randn(5, 2)
    gi = x @ fused.weight_ih.T + fused.bias_ih
    gh = h @ fused.weight_hh.T + fused.bias_hh
    r = torch.sigmoid(gi[:, :2] + gh[:, :2])
    z = torch.sigmoid(gi[:, 2:4] + gh[:, 2:4])
    n = torch.tanh(gi[:, 4:] + r * gh[:, 4:])
    expected = (1 - z) * n + z * h
    torch.testing.assert_close(fused(x, h), expected, atol=1e-6, rtol=1e-6)


def test_bf16_autocast_agrees_with_grucell_to_bf16_rounding():
    ref, fused = _pair(32, 32)
    x, h = torch.randn(300, 32), torch.randn(300, 32).bfloat16()
    y_ref, g_ref = _run(ref, x, h, bf16=True)
    y, g = _run(fused, x, h, bf16=True)
    assert y.dtype == y_ref.dtype == torch.bfloat16
    torch.testing.assert_close(y.float(), y_ref.float(), atol=2e-2, rtol=2e-2)
    for a, b in zip(g, g_ref, strict=True):
        scale = b.float().abs().max()
        assert (a.float() - b.float()).abs().max() <= 2e-2 * scale


def test_result_dtype_follows_grucell_for_a_float32_hidden_under_autocast():
    ref, fused = _pair(8, 8)
    x, h = torch.randn(4, 8), torch.randn(4, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert fused(x, h).dtype == ref(x, h).dtype


def test_falls_back_for_float64_and_missing_hidden():
    ref, fused = _pair(6, 5)
    x = torch.randn(7, 6, dtype=torch.float64)
    h = torch.randn(7, 5, dtype=torch.float64)
    ref, fused = ref.double(), fused.double()
    torch.testing.assert_close(fused(x, h), ref(x, h))
    torch.testing.assert_close(fused(x), ref(x))


def test_fused_cell_is_deterministic():
    _, fused = _pair(16, 16)
    x, h = torch.randn(500, 16), torch.randn(500, 16)
    a, ga = _run(fused, x, h, bf16=False)
    b, gb = _run(fused, x, h, bf16=False)
    assert torch.equal(a, b)
    assert all(torch.equal(u, v) for u, v in zip(ga, gb, strict=True))


@pytest.mark.parametrize("rows", [1, 63, 64, 65, 129])
def test_chunk_boundaries(rows):
    ref, fused = _pair(4, 8)
    x, h = torch.randn(rows, 4), torch.randn(rows, 8)
    torch.testing.assert_close(fused(x, h), ref(x, h), atol=1e-6, rtol=1e-5)


def test_saturated_gates_stay_finite_and_exact():
    # pre-activations far beyond the clamp of the vectorised exp (|a| up to ~1e3)
    ref, fused = _pair(8, 8)
    x, h = torch.randn(64, 8) * 300, torch.randn(64, 8) * 300
    y_ref, g_ref = _run(ref, x, h, bf16=False)
    y, g = _run(fused, x, h, bf16=False)
    assert torch.isfinite(y).all() and all(torch.isfinite(t).all() for t in g)
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("bf16", [False, True])
def test_serial_and_parallel_kernels_are_bit_identical(bf16):
    # one thread runs the serial build (no OpenMP pool to spin); both must agree exactly
    from nri.nn import gru

    rows, hid = 200, 8  # four chunks, the last one partial
    dtype = torch.bfloat16 if bf16 else torch.float32
    gen = torch.Generator().manual_seed(3)
    gi, gh = (torch.randn(rows, 3 * hid, generator=gen).to(dtype) for _ in range(2))
    h, grad = (torch.randn(rows, hid, generator=gen).to(dtype) for _ in range(2))
    b_ih, b_hh = (
        torch.randn(3 * hid, generator=gen),
        torch.randn(3 * hid, generator=gen),
    )
    results = []
    for fwd, bwd in ((gru._forward_serial, gru._backward_serial),
                     (gru._forward_parallel, gru._backward_parallel)):  # fmt: skip
        out = torch.empty_like(h)
        fwd(gru._np(gi), gru._np(gh), b_ih.numpy(), b_hh.numpy(), gru._np(h),
            gru._np(out), bf16)  # fmt: skip
        d_gi, d_gh, d_h = (
            torch.empty_like(gi),
            torch.empty_like(gh),
            torch.empty_like(h),
        )
        db = torch.empty(gru._n_chunks(rows), 4 * hid)
        bwd(gru._np(grad), gru._np(gi), gru._np(gh), b_ih.numpy(), b_hh.numpy(),
            gru._np(h), gru._np(d_gi), gru._np(d_gh), gru._np(d_h), db.numpy(), bf16)  # fmt: skip
        results.append((out, d_gi, d_gh, d_h, db))
    assert all(torch.equal(a, b) for a, b in zip(*results, strict=True))
    assert results[0][0].abs().sum() > 0 and results[0][4].abs().sum() > 0


def test_one_thread_uses_the_serial_kernels():
    from nri.nn import gru

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert gru._kernels() == (gru._forward_serial, gru._backward_serial)
        torch.set_num_threads(2)
        assert gru._kernels() == (gru._forward_parallel, gru._backward_parallel)
    finally:
        torch.set_num_threads(before)

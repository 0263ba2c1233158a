"""A GRU cell whose gate arithmetic runs in one fused pass on the CPU.

:class:`FusedGRUCell` is a drop-in ``nn.GRUCell`` (same parameters, names,
initialisation and function) for the NRI-MPM decoder's edge GRU, which runs on
``B * E * S`` rows (12,800 for springs5 at batch 128) at every rollout step. PyTorch's
CPU ``gru_cell`` computes the gates with about ten element-wise passes over ``[R, H]``
tensors and autograd adds about fifteen more (plus a ``cat`` of the three gate
gradients); on a memory-bound CPU those passes cost about as much as the two matrix
products. Here the two products are PyTorch's (``mm``, bf16 under CPU autocast) and
everything between them is one numba kernel forward and one backward, parallel over
chunks of rows: the biases are added inside the kernel (``addmm`` would first copy the
broadcast bias into its output), the backward recomputes ``r, z, n`` from the saved
products instead of storing them, and it sums the bias gradients per chunk as it goes.
``sigmoid`` and ``tanh`` use a vectorisable ``exp`` (a degree-6 polynomial for the
fraction and the exponent bits for the integer part; relative error < 2e-7, inputs
clamped to [-87, 88]), since numba's scalar ``np.exp`` is a libm call per element:
the forward kernel takes 5 ms for 12,800 x 256 bf16 rows instead of 50 ms.

Gate equations (PyTorch's and the NRI-MPM reference's, spec/nri-mpm.md 4.1)::

    gi = x W_ih^T + b_ih,  gh = h W_hh^T + b_hh          [R, 3H], blocks (r, z, n)
    r = sigmoid(gi_r + gh_r),  z = sigmoid(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n)
    h' = (1 - z) * n + z * h

Arithmetic inside the kernels is float32; bfloat16 tensors are read and written
through their bit patterns (round to nearest even), so under bf16 autocast the result
equals PyTorch's to bf16 rounding. On other devices, or when numba is unavailable, the
cell falls back to ``nn.GRUCell.forward``.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["FusedGRUCell", "fused_gru_cell"]


# --------------------------------------------------------------------------------------
# numba kernels. Every array is 2-D [R, *] and C-contiguous; bf16 arrays arrive as
# uint16 bit patterns and are widened to float32 row by row.


_CHUNK = 64  # rows per work item: the row buffers are allocated once per chunk


@numba.njit(inline="always")
def _load_row(src, dst_f32, dst_u32, bf16):  # noqa: ANN001, ANN202
    if bf16:
        for j in range(src.shape[0]):
            dst_u32[j] = np.uint32(src[j]) << np.uint32(16)
    else:
        for j in range(src.shape[0]):
            dst_f32[j] = src[j]


@numba.njit(inline="always")
def _store_row(dst, src_f32, src_u32, bf16):  # noqa: ANN001, ANN202
    if bf16:  # round to nearest even
        for j in range(dst.shape[0]):
            b = src_u32[j]
            b = b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))
            dst[j] = b >> np.uint32(16)
    else:
        for j in range(dst.shape[0]):
            dst[j] = src_f32[j]


_F = np.float32
_LOG2E, _LO, _HI = _F(1.4426950408889634), _F(-87.0), _F(88.0)
# Taylor coefficients of 2**f = exp(f ln 2) on [-0.5, 0.5]: relative error < 2e-7
_C1, _C2, _C3 = _F(0.6931471805599453), _F(0.2402265069591007), _F(0.05550410866482158)
_C4, _C5, _C6 = _F(0.009618129107628477), _F(0.0013333558146428443), _F(1.54035e-4)
_ONE, _TWO, _HALF = _F(1.0), _F(2.0), _F(0.5)


@numba.njit(inline="always")
def _vsigmoid(a, out, ibuf):  # noqa: ANN001, ANN202
    """``out = 1 / (1 + exp(-a))`` on float32 rows, written so that LLVM vectorises
    it (scalar ``np.exp`` is a libm call per element): ``exp(y) = 2**n * 2**f`` with a
    polynomial for ``2**f`` and ``2**n`` built in the exponent bits (``ibuf``: int32
    scratch of the same length)."""
    m = a.shape[0]
    for j in range(m):
        y = min(max(-a[j], _LO), _HI) * _LOG2E
        n = np.floor(y + _HALF)
        f = y - n
        out[j] = _ONE + f * (
            _C1 + f * (_C2 + f * (_C3 + f * (_C4 + f * (_C5 + f * _C6))))
        )
        ibuf[j] = (np.int32(n) + np.int32(127)) << np.int32(23)
    scale = ibuf.view(np.float32)
    for j in range(m):
        out[j] = _ONE / (_ONE + out[j] * scale[j])


@numba.njit(inline="always")
def _forward_chunk(c, gi, gh, b_ih, b_hh, h, out, bf16):  # noqa: ANN001, ANN202
    """Rows ``c * _CHUNK`` to ``(c + 1) * _CHUNK`` of the forward pass."""
    rows, hid = h.shape
    gi_u = np.empty(3 * hid, np.uint32)
    gh_u = np.empty(3 * hid, np.uint32)
    h_u = np.empty(hid, np.uint32)
    o_u = np.empty(hid, np.uint32)
    pre = np.empty(2 * hid, np.float32)
    rz = np.empty(2 * hid, np.float32)
    ibuf = np.empty(2 * hid, np.int32)
    gi_f, gh_f = gi_u.view(np.float32), gh_u.view(np.float32)
    h_f, o_f = h_u.view(np.float32), o_u.view(np.float32)
    for r0 in range(c * _CHUNK, min(rows, (c + 1) * _CHUNK)):
        _load_row(gi[r0], gi_f, gi_u, bf16)
        _load_row(gh[r0], gh_f, gh_u, bf16)
        _load_row(h[r0], h_f, h_u, bf16)
        for j in range(2 * hid):  # r and z pre-activations
            pre[j] = gi_f[j] + b_ih[j] + gh_f[j] + b_hh[j]
        _vsigmoid(pre, rz, ibuf)
        for j in range(hid):  # tanh(a) = 2 sigmoid(2a) - 1
            k = 2 * hid + j
            pre[j] = _TWO * (gi_f[k] + b_ih[k] + rz[j] * (gh_f[k] + b_hh[k]))
        _vsigmoid(pre[:hid], o_f, ibuf)
        for j in range(hid):
            n = _TWO * o_f[j] - _ONE
            o_f[j] = n + rz[hid + j] * (h_f[j] - n)
        _store_row(out[r0], o_f, o_u, bf16)


@numba.njit(inline="always")
def _backward_chunk(c, grad, gi, gh, b_ih, b_hh, h, d_gi, d_gh, d_h, db, bf16):  # noqa: ANN001, ANN202
    """Chunk ``c`` of the backward pass: gate gradients ``d_gi, d_gh [R, 3H]``,
    ``d_h [R, H]`` (the direct path), and the chunk's bias-gradient sums ``db[c]``
    (``sum d_gi`` then ``sum d_gh_n``; ``d_gh``'s r and z parts equal ``d_gi``'s)."""
    rows, hid = h.shape
    gi_u = np.empty(3 * hid, np.uint32)
    gh_u = np.empty(3 * hid, np.uint32)
    h_u = np.empty(hid, np.uint32)
    g_u = np.empty(hid, np.uint32)
    dgi_u = np.empty(3 * hid, np.uint32)
    dgh_u = np.empty(3 * hid, np.uint32)
    dh_u = np.empty(hid, np.uint32)
    pre = np.empty(2 * hid, np.float32)
    rz = np.empty(2 * hid, np.float32)
    sn = np.empty(hid, np.float32)
    ibuf = np.empty(2 * hid, np.int32)
    gi_f, gh_f = gi_u.view(np.float32), gh_u.view(np.float32)
    h_f, g_f = h_u.view(np.float32), g_u.view(np.float32)
    dgi_f, dgh_f = dgi_u.view(np.float32), dgh_u.view(np.float32)
    dh_f = dh_u.view(np.float32)
    acc = db[c]
    acc[:] = 0.0
    for r0 in range(c * _CHUNK, min(rows, (c + 1) * _CHUNK)):
        _load_row(gi[r0], gi_f, gi_u, bf16)
        _load_row(gh[r0], gh_f, gh_u, bf16)
        _load_row(h[r0], h_f, h_u, bf16)
        _load_row(grad[r0], g_f, g_u, bf16)
        for j in range(2 * hid):
            pre[j] = gi_f[j] + b_ih[j] + gh_f[j] + b_hh[j]
        _vsigmoid(pre, rz, ibuf)
        for j in range(hid):
            k = 2 * hid + j
            pre[j] = _TWO * (gi_f[k] + b_ih[k] + rz[j] * (gh_f[k] + b_hh[k]))
        _vsigmoid(pre[:hid], sn, ibuf)
        for j in range(hid):
            r, z = rz[j], rz[hid + j]
            ghn = gh_f[2 * hid + j] + b_hh[2 * hid + j]
            n = _TWO * sn[j] - _ONE
            g = g_f[j]
            dn = g * (_ONE - z) * (_ONE - n * n)  # through tanh
            dz = g * (h_f[j] - n) * z * (_ONE - z)  # through sigmoid
            dr = dn * ghn * r * (_ONE - r)
            dgi_f[j] = dr
            dgh_f[j] = dr
            dgi_f[hid + j] = dz
            dgh_f[hid + j] = dz
            dgi_f[2 * hid + j] = dn
            dgh_f[2 * hid + j] = dn * r
            dh_f[j] = g * z
        for j in range(hid):
            acc[j] += dgi_f[j]
            acc[hid + j] += dgi_f[hid + j]
            acc[2 * hid + j] += dgi_f[2 * hid + j]
            acc[3 * hid + j] += dgh_f[2 * hid + j]
        _store_row(d_gi[r0], dgi_f, dgi_u, bf16)
        _store_row(d_gh[r0], dgh_f, dgh_u, bf16)
        _store_row(d_h[r0], dh_f, dh_u, bf16)


def _n_chunks(rows: int) -> int:
    return (rows + _CHUNK - 1) // _CHUNK


@numba.njit(parallel=True, cache=True)
def _forward_parallel(gi, gh, b_ih, b_hh, h, out, bf16):  # noqa: ANN001, ANN202
    for c in numba.prange((h.shape[0] + _CHUNK - 1) // _CHUNK):
        _forward_chunk(c, gi, gh, b_ih, b_hh, h, out, bf16)


@numba.njit(cache=True)
def _forward_serial(gi, gh, b_ih, b_hh, h, out, bf16):  # noqa: ANN001, ANN202
    for c in range((h.shape[0] + _CHUNK - 1) // _CHUNK):
        _forward_chunk(c, gi, gh, b_ih, b_hh, h, out, bf16)


@numba.njit(parallel=True, cache=True)
def _backward_parallel(grad, gi, gh, b_ih, b_hh, h, d_gi, d_gh, d_h, db, bf16):  # noqa: ANN001, ANN202
    for c in numba.prange((h.shape[0] + _CHUNK - 1) // _CHUNK):
        _backward_chunk(c, grad, gi, gh, b_ih, b_hh, h, d_gi, d_gh, d_h, db, bf16)


@numba.njit(cache=True)
def _backward_serial(grad, gi, gh, b_ih, b_hh, h, d_gi, d_gh, d_h, db, bf16):  # noqa: ANN001, ANN202
    for c in range((h.shape[0] + _CHUNK - 1) // _CHUNK):
        _backward_chunk(c, grad, gi, gh, b_ih, b_hh, h, d_gi, d_gh, d_h, db, bf16)


def _kernels():  # noqa: ANN202
    """The forward and backward kernels for PyTorch's thread count (``train.threads``).

    With one thread they are the serial builds: numba's OpenMP pool is never entered,
    since its idle worker would spin at a barrier and take a core from other jobs.
    Otherwise the parallel builds run on as many threads as PyTorch, never more
    (numba's setting is per calling thread). Chunks are fixed, so both builds give
    bit-identical results."""
    threads = torch.get_num_threads()
    if threads == 1:
        return _forward_serial, _backward_serial
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return _forward_parallel, _backward_parallel


def _np(t: Tensor) -> np.ndarray:
    """A NumPy view of a contiguous 2-D float32 or bfloat16 (as uint16) tensor."""
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()


# --------------------------------------------------------------------------------------


class _FusedGRUFunction(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx,  # noqa: ANN001
        x: Tensor,
        h: Tensor,
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor,
        b_hh: Tensor,
        compute_dtype: torch.dtype,
    ) -> Tensor:
        cd = compute_dtype
        xc, hc = x.to(cd).contiguous(), h.to(cd).contiguous()
        w_ih_c, w_hh_c = w_ih.to(cd), w_hh.to(cd)
        gi = xc @ w_ih_c.t()  # [R, 3H], biases added in the kernel
        gh = hc @ w_hh_c.t()  # [R, 3H]
        b_ih_f = b_ih.detach().float().contiguous()
        b_hh_f = b_hh.detach().float().contiguous()
        out = torch.empty_like(hc)
        bf16 = cd == torch.bfloat16
        forward_kernel, _ = _kernels()
        forward_kernel(_np(gi), _np(gh), b_ih_f.numpy(), b_hh_f.numpy(), _np(hc),
                        _np(out), bf16)  # fmt: skip
        ctx.save_for_backward(xc, hc, w_ih_c, w_hh_c, gi, gh, b_ih_f, b_hh_f)
        ctx.dtypes = (x.dtype, h.dtype, w_ih.dtype, w_hh.dtype, b_ih.dtype, b_hh.dtype)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]  # noqa: ANN001, ANN205
        xc, hc, w_ih_c, w_hh_c, gi, gh, b_ih_f, b_hh_f = ctx.saved_tensors
        x_dt, h_dt, wi_dt, wh_dt, bi_dt, bh_dt = ctx.dtypes
        grad = grad.to(hc.dtype).contiguous()
        rows, hid = hc.shape
        d_gi, d_gh, d_h = (
            torch.empty_like(gi),
            torch.empty_like(gh),
            torch.empty_like(hc),
        )
        db = torch.empty((_n_chunks(rows), 4 * hid), dtype=torch.float32)
        _, backward_kernel = _kernels()
        backward_kernel(_np(grad), _np(gi), _np(gh), b_ih_f.numpy(), b_hh_f.numpy(),
                         _np(hc), _np(d_gi), _np(d_gh), _np(d_h), db.numpy(),
                         gi.dtype == torch.bfloat16)  # fmt: skip
        needs = ctx.needs_input_grad
        dx = (d_gi @ w_ih_c).to(x_dt) if needs[0] else None
        dh = torch.addmm(d_h, d_gh, w_hh_c).to(h_dt) if needs[1] else None
        dw_ih = (d_gi.t() @ xc).to(wi_dt) if needs[2] else None
        dw_hh = (d_gh.t() @ hc).to(wh_dt) if needs[3] else None
        db = db.sum(0)  # [4H]: fixed chunking, so deterministic
        db_ih = db[: 3 * hid].to(bi_dt) if needs[4] else None
        db_hh = (
            torch.cat([db[: 2 * hid], db[3 * hid :]]).to(bh_dt) if needs[5] else None
        )
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh, None


def fused_gru_cell(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
) -> Tensor:
    """One GRU step on CPU tensors: ``x [R, I]``, ``h [R, H]`` -> ``h' [R, H]``.

    Weights as ``nn.GRUCell``: ``w_ih [3H, I]``, ``w_hh [3H, H]``, biases ``[3H]``.
    Under CPU autocast the products and the gate arithmetic are in the autocast dtype
    (bfloat16), otherwise in the promoted input dtype; the result has
    ``nn.GRUCell``'s dtype (the promotion of that dtype with ``h``'s).
    """
    if torch.is_autocast_enabled("cpu"):
        cd = torch.get_autocast_dtype("cpu")
    else:
        cd = torch.promote_types(x.dtype, h.dtype)
    if cd not in (torch.float32, torch.bfloat16):
        raise TypeError(f"fused_gru_cell supports float32 and bfloat16, got {cd}")
    with torch.autocast("cpu", enabled=False):
        out = _FusedGRUFunction.apply(x, h, w_ih, w_hh, b_ih, b_hh, cd)
    return out.to(torch.promote_types(cd, h.dtype))  # nn.GRUCell's result dtype


class FusedGRUCell(nn.GRUCell):
    """``nn.GRUCell`` with the fused CPU kernels (same parameters and state dict).

    Shapes: input ``[R, I]``, hidden ``[R, H]`` -> ``[R, H]`` (2-D only; the decoder
    flattens its leading axes). Falls back to ``nn.GRUCell.forward`` on non-CPU
    tensors, without bias, or for other dtypes.
    """

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        usable = (
            input.device.type == "cpu"
            and hx is not None
            and input.dim() == 2
            and self.bias
            and input.dtype in (torch.float32, torch.bfloat16)
            and hx.dtype in (torch.float32, torch.bfloat16)
            and input.shape[0] > 0
        )
        if not usable:
            return super().forward(input, hx)
        return fused_gru_cell(
            input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )

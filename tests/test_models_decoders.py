"""Decoders: parameter counts, equality with a naive per-type reference, switches."""

import pytest
import torch
import torch.nn.functional as F_

from nri import graph
from nri.models.decoders import MLPDecoder, RNNDecoder

B, N, S, F = 2, 5, 3, 4
E = N * (N - 1)


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def one_hot_rel(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference's dense rel_send, rel_rec [E, N] one-hot matrices."""
    send, recv = graph.fully_connected(n)
    eye = torch.eye(n, dtype=torch.float64)
    return eye[send], eye[recv]


def naive_messages(mlp, h, z, act):  # noqa: ANN001, ANN201
    """Straightforward formulation: per type, cat([h_s, h_r]) on edges, then 2 Linears."""
    rel_send, rel_rec = one_hot_rel(h.shape[1])
    hs = torch.einsum("en,bn...->be...", rel_send.to(h.dtype), h)
    hr = torch.einsum("en,bn...->be...", rel_rec.to(h.dtype), h)
    pre = torch.cat([hs, hr], dim=-1)  # [B, E, *, 2D]
    total = 0.0
    for k in range(mlp.first_type, mlp.w1.shape[0]):
        m = act(pre @ mlp.w1[k] + mlp.b1[k])
        m = act(m @ mlp.w2[k] + mlp.b2[k])
        zk = z[:, :, k].reshape(z.shape[0], z.shape[1], *([1] * (m.ndim - 2)))
        total = total + m * zk
    agg = torch.einsum("en,be...->bn...", rel_rec.to(h.dtype), total)  # sum at recv
    return total, agg


def naive_mlp_step(dec: MLPDecoder, x, z):  # noqa: ANN001, ANN201
    _, agg = naive_messages(dec.msg, x, z, torch.relu)
    h = torch.relu(dec.out_fc1(torch.cat([x, agg], -1)))
    h = torch.relu(dec.out_fc2(h))
    return x + dec.out_fc3(h)


def naive_rnn_step(dec: RNNDecoder, x, z, hidden):  # noqa: ANN001, ANN201
    k_used = dec.n_edge_types - dec.msg.first_type
    _, agg = naive_messages(dec.msg, hidden, z, torch.tanh)
    norm = x.shape[1] - 1 if dec.rnn_agg_norm == "n_in" else x.shape[-1]
    agg = agg / k_used / norm
    wi_r, wi_u, wi_c = dec.input_fc.weight.chunk(3)
    bi_r, bi_u, bi_c = dec.input_fc.bias.chunk(3)
    wh_r, wh_u, wh_c = dec.hidden_fc.weight.chunk(3)
    r = torch.sigmoid(F_.linear(x, wi_r, bi_r) + F_.linear(agg, wh_r))
    u = torch.sigmoid(F_.linear(x, wi_u, bi_u) + F_.linear(agg, wh_u))
    c = torch.tanh(F_.linear(x, wi_c, bi_c) + r * F_.linear(agg, wh_c))
    hidden = (1 - u) * c + u * hidden
    h = torch.relu(dec.out_fc1(hidden))
    h = torch.relu(dec.out_fc2(h))
    return x + dec.out_fc3(h), hidden


def test_parameter_counts_match_the_spec() -> None:
    assert n_params(MLPDecoder(4, 2, 256, 256, 256)) == 269_828
    assert n_params(RNNDecoder(4, 2, 256)) == 727_300


@pytest.mark.parametrize("skip_first", [False, True])
@pytest.mark.parametrize("segments", [False, True])
def test_fast_mlp_decoder_equals_naive(skip_first: bool, segments: bool) -> None:
    torch.manual_seed(0)
    dec = MLPDecoder(F, 3, 32, 24, 16, skip_first=skip_first).double()
    shape = (B, N, S, F) if segments else (B, N, F)
    x = torch.randn(shape, dtype=torch.float64)
    z = torch.softmax(torch.randn(B, E, 3, dtype=torch.float64), -1)
    out, state = dec.step(x, z, None)
    assert state is None and out.shape == shape
    torch.testing.assert_close(out, naive_mlp_step(dec, x, z), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("skip_first", [False, True])
@pytest.mark.parametrize("agg_norm", ["n_in", "n_features"])
def test_fast_rnn_decoder_equals_naive(skip_first: bool, agg_norm: str) -> None:
    torch.manual_seed(1)
    dec = RNNDecoder(F, 3, 16, skip_first=skip_first, rnn_agg_norm=agg_norm)
    dec = dec.double()
    z = torch.softmax(torch.randn(B, N * (N - 1), 3, dtype=torch.float64), -1)
    state, ref_state = None, torch.zeros(B, N, 16, dtype=torch.float64)
    for _ in range(3):  # a few steps, so the hidden state is not zero
        x = torch.randn(B, N, F, dtype=torch.float64)
        out, state = dec.step(x, z, state)
        ref, ref_state = naive_rnn_step(dec, x, z, ref_state)
        torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(state, ref_state, rtol=1e-10, atol=1e-10)


def test_rnn_agg_norm_q2_coincides_for_5_objects_and_4_features_only() -> None:
    torch.manual_seed(2)
    ours = RNNDecoder(F, 2, 16, rnn_agg_norm="n_in")
    ref = RNNDecoder(F, 2, 16, rnn_agg_norm="n_features")
    ref.load_state_dict(ours.state_dict())
    for n, equal in ((5, True), (4, False)):
        x = torch.randn(B, n, F)
        z = torch.softmax(torch.randn(B, n * (n - 1), 2), -1)
        h0 = torch.randn(B, n, 16)
        a, _ = ours.step(x, z, h0)
        b, _ = ref.step(x, z, h0)
        assert torch.allclose(a, b) == equal


def test_mlp_decoder_gradients_and_skip_first_leaves_type_0_unused() -> None:
    torch.manual_seed(3)
    for skip_first in (False, True):
        dec = MLPDecoder(F, 2, 16, 16, 16, skip_first=skip_first)
        z = torch.softmax(torch.randn(B, E, 2), -1).requires_grad_()
        out, _ = dec.step(torch.randn(B, N, S, F), z)
        out.pow(2).sum().backward()
        for name, p in dec.named_parameters():
            g = p.grad
            assert g is not None, name
            if name.startswith("msg."):
                assert (g[0].abs().sum() == 0) == skip_first, name
                assert g[1].abs().sum() > 0, name
            else:
                assert g.abs().sum() > 0, name
        assert (z.grad[..., 0].abs().sum() == 0) == skip_first


def test_rnn_decoder_gradients_reach_every_parameter() -> None:
    torch.manual_seed(4)
    dec = RNNDecoder(F, 2, 16)
    z = torch.softmax(torch.randn(B, E, 2), -1)
    x = torch.randn(B, N, F)
    out, h = dec.step(x, z, None)
    out, h = dec.step(out, z, h)  # messages need a non-zero hidden state
    out.pow(2).sum().backward()
    for name, p in dec.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_state_none_means_zeros() -> None:
    dec = RNNDecoder(F, 2, 16)
    x, z = torch.randn(B, N, S, F), torch.softmax(torch.randn(B, E, 2), -1)
    a, ha = dec.step(x, z, None)
    b, hb = dec.step(x, z, torch.zeros(B, N, S, 16))
    assert ha.shape == (B, N, S, 16)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(ha, hb)


@pytest.mark.parametrize("cls", [MLPDecoder, RNNDecoder])
def test_decoder_dropout_in_eval_q6(cls: type) -> None:
    x, z = torch.randn(B, N, F), torch.softmax(torch.randn(B, E, 2), -1)
    h0 = torch.randn(B, N, 256) if cls is RNNDecoder else None
    ours = cls(F, 2, dropout=0.5).eval()
    assert torch.equal(ours.step(x, z, h0)[0], ours.step(x, z, h0)[0])
    ref = cls(F, 2, dropout=0.5, dropout_in_eval=True).eval()
    assert not torch.equal(ref.step(x, z, h0)[0], ref.step(x, z, h0)[0])


@pytest.mark.parametrize("cls", [MLPDecoder, RNNDecoder])
def test_decoders_are_equivariant(cls: type) -> None:
    torch.manual_seed(5)
    dec = cls(F, 2).double().eval()
    x = torch.randn(B, N, F, dtype=torch.float64)
    z = torch.softmax(torch.randn(B, E, 2, dtype=torch.float64), -1)
    h0 = torch.randn(B, N, 256, dtype=torch.float64) if cls is RNNDecoder else None
    perm = torch.tensor([2, 4, 0, 1, 3])
    idx = graph.to_dense(torch.arange(E))
    eperm = graph.to_edges(idx[perm][:, perm])
    out = dec.step(x, z, h0)[0]
    hp = h0[:, perm] if h0 is not None else None
    out_p = dec.step(x[:, perm], z[:, eperm], hp)[0]
    torch.testing.assert_close(out_p, out[:, perm], rtol=0, atol=1e-10)


def test_step_input_errors() -> None:
    dec = MLPDecoder(F, 2, 8, 8, 8)
    with pytest.raises(ValueError, match="x_t must be"):
        dec.step(torch.randn(B, N, 3), torch.randn(B, E, 2))
    with pytest.raises(ValueError, match="z must be"):
        dec.step(torch.randn(B, N, F), torch.randn(B, E, 3))


def test_bf16_autocast() -> None:
    dec = MLPDecoder(F, 2, 16, 16, 16)
    rnn = RNNDecoder(F, 2, 16)
    x, z = torch.randn(B, N, S, F), torch.softmax(torch.randn(B, E, 2), -1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = dec.step(x, z)
        out2, h = rnn.step(x, z, None)
        out2, h = rnn.step(out2, z, h)
    ref, _ = dec.step(x, z)
    assert torch.isfinite(out).all() and torch.isfinite(out2).all()
    torch.testing.assert_close(out.float(), ref, atol=0.05, rtol=0.05)
    (out.float().sum() + out2.float().sum()).backward()

import pytest
import torch

from nri import rollout as ro
from nri.models.decoders import MLPDecoder, RNNDecoder

B, N, T, F = 2, 5, 12, 4
E = N * (N - 1)


@pytest.fixture
def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(B, N, T, F, generator=g, dtype=torch.float64)
    z = torch.softmax(torch.randn(B, E, 2, generator=g, dtype=torch.float64), -1)
    return x, z


def mlp() -> MLPDecoder:
    torch.manual_seed(0)
    return MLPDecoder(F, 2, 16, 16, 16).double().eval()


def rnn() -> RNNDecoder:
    torch.manual_seed(0)
    return RNNDecoder(F, 2, 16).double().eval()


def test_pred_steps_1_is_one_step_prediction(data) -> None:  # noqa: ANN001
    x, z = data
    dec = mlp()
    out = ro.rollout(dec.step, x, z, pred_steps=1)
    assert out.shape == (B, N, T - 1, F)
    by_frame = torch.stack([dec.step(x[:, :, t], z)[0] for t in range(T - 1)], 2)
    torch.testing.assert_close(out, by_frame, rtol=1e-12, atol=1e-12)


def test_full_horizon_equals_feeding_back_by_hand(data) -> None:  # noqa: ANN001
    x, z = data
    dec = mlp()
    out = ro.rollout(dec.step, x, z, pred_steps=T - 1)
    cur, preds = x[:, :, 0], []
    for _ in range(T - 1):
        cur = dec.step(cur, z)[0]
        preds.append(cur)
    torch.testing.assert_close(out, torch.stack(preds, 2), rtol=1e-12, atol=1e-12)
    # a longer horizon changes nothing: there is only one segment
    torch.testing.assert_close(ro.rollout(dec.step, x, z, pred_steps=50), out)


def test_segments_restart_from_ground_truth_every_p_frames(data) -> None:  # noqa: ANN001
    x, z = data
    dec = mlp()
    p = 5  # T = 12: segments start at 0, 5, 10; 11 outputs = 5 + 5 + 1
    out = ro.rollout(dec.step, x, z, pred_steps=p)
    expected = []
    for start in range(0, T - 1, p):
        cur = x[:, :, start]
        for _ in range(min(p, T - 1 - start)):
            cur = dec.step(cur, z)[0]
            expected.append(cur)
    torch.testing.assert_close(out, torch.stack(expected, 2), rtol=1e-12, atol=1e-12)


def test_sequential_burn_in_and_periodic_modes(data) -> None:  # noqa: ANN001
    x, z = data
    dec = rnn()
    burn = 6
    out = ro.rollout_sequential(dec.step, x, z, burn_in_steps=burn)
    state, preds = None, []
    for s in range(T - 1):
        x_in = x[:, :, s] if s <= burn else preds[-1]
        y, state = dec.step(x_in, z, state)
        preds.append(y)
    torch.testing.assert_close(out, torch.stack(preds, 2), rtol=1e-12, atol=1e-12)
    # periodic teacher forcing with the state carried: truth at s = 0, 4, 8
    out = ro.rollout_sequential(dec.step, x, z, pred_steps=4)
    state, preds = None, []
    for s in range(T - 1):
        y, state = dec.step(x[:, :, s] if s % 4 == 0 else preds[-1], z, state)
        preds.append(y)
    torch.testing.assert_close(out, torch.stack(preds, 2), rtol=1e-12, atol=1e-12)
    # all steps teacher forced: burn-in through the end == pred_steps 1
    torch.testing.assert_close(
        ro.rollout_sequential(dec.step, x, z, burn_in_steps=T - 1),
        ro.rollout_sequential(dec.step, x, z, pred_steps=1),
    )


def test_forecast_with_and_without_burn_in(data) -> None:  # noqa: ANN001
    x, z = data
    dec = rnn()
    hist = 7
    fc = ro.forecast(dec.step, x[:, :, :hist], z, n_steps=T - hist, burn_in=True)
    assert fc.shape == (B, N, T - hist, F)
    seq = ro.rollout_sequential(dec.step, x, z, burn_in_steps=hist - 1)
    torch.testing.assert_close(fc, seq[:, :, hist - 1 :], rtol=1e-12, atol=1e-12)
    dec = mlp()
    fc = ro.forecast(dec.step, x[:, :, :hist], z, n_steps=T - hist, burn_in=False)
    window = x[:, :, hist - 1 :]
    expected = ro.rollout(dec.step, window, z, pred_steps=T - hist)
    torch.testing.assert_close(fc, expected, rtol=1e-12, atol=1e-12)


def test_errors(data) -> None:  # noqa: ANN001
    x, z = data
    dec = mlp()
    with pytest.raises(ValueError, match="pred_steps"):
        ro.rollout(dec.step, x, z, 0)
    with pytest.raises(ValueError, match=r"\[B, N, T, F\]"):
        ro.rollout(dec.step, x[:, :, 0], z, 2)
    with pytest.raises(ValueError, match="n_steps"):
        ro.forecast(dec.step, x, z, 0, burn_in=False)


def test_dynamic_graph_switches_graph_after_burn_in(data) -> None:  # noqa: ANN001
    x, z = data
    dec = rnn()
    z2 = torch.softmax(torch.randn_like(z), -1)
    burn = 5
    asked = []

    def graph_at(s: int) -> torch.Tensor:
        asked.append(s)
        return z2

    out = ro.rollout_sequential(dec.step, x, z, burn_in_steps=burn, graph_at=graph_at)
    assert asked == list(range(burn, T - 1))
    state, preds = None, []
    for s in range(T - 1):
        x_in = x[:, :, s] if s <= burn else preds[-1]
        y, state = dec.step(x_in, z if s < burn else z2, state)
        preds.append(y)
    torch.testing.assert_close(out, torch.stack(preds, 2), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="burn_in_steps"):
        ro.rollout_sequential(dec.step, x, z, graph_at=graph_at)

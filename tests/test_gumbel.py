import pytest
import torch

from nri.nn.gumbel import gumbel_softmax, sample_gumbel


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_soft_sample_is_a_distribution_in_float32() -> None:
    logits = torch.randn(2, 20, 3, dtype=torch.bfloat16)
    y = gumbel_softmax(logits, tau=0.5, generator=_gen())
    assert y.shape == (2, 20, 3) and y.dtype == torch.float32
    torch.testing.assert_close(y.sum(-1), torch.ones(2, 20))


def test_hard_sample_is_exactly_one_hot_and_matches_soft_argmax() -> None:
    logits = torch.randn(4, 20, 3)
    soft = gumbel_softmax(logits, tau=0.5, hard=False, generator=_gen(3))
    hard = gumbel_softmax(logits, tau=0.5, hard=True, generator=_gen(3))
    assert set(hard.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(hard.sum(-1), torch.ones(4, 20))
    assert torch.equal(hard.argmax(-1), soft.argmax(-1))


def test_hard_sample_has_the_soft_gradient() -> None:
    logits = torch.randn(2, 6, 2, requires_grad=True)
    w = torch.randn(2, 6, 2)
    (gumbel_softmax(logits, 0.5, True, _gen(1)) * w).sum().backward()
    g_hard = logits.grad.clone()
    logits.grad = None
    (gumbel_softmax(logits, 0.5, False, _gen(1)) * w).sum().backward()
    torch.testing.assert_close(g_hard, logits.grad)


def test_noise_comes_from_the_generator() -> None:
    a = sample_gumbel((1000,), generator=_gen(5))
    b = sample_gumbel((1000,), generator=_gen(5))
    c = sample_gumbel((1000,), generator=_gen(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    # standard Gumbel: mean = Euler-Mascheroni constant
    assert abs(sample_gumbel((200_000,), generator=_gen(7)).mean() - 0.5772) < 0.01


def test_gumbel_max_frequencies_follow_softmax() -> None:
    logits = torch.tensor([1.0, 0.0, -1.0]).expand(40_000, 3)
    hard = gumbel_softmax(logits, tau=0.5, hard=True, generator=_gen(2))
    freq = hard.mean(0)
    torch.testing.assert_close(freq, torch.softmax(logits[0], -1), atol=0.01, rtol=0)


def test_bad_tau() -> None:
    with pytest.raises(ValueError, match="tau"):
        gumbel_softmax(torch.zeros(1, 2), tau=0.0)

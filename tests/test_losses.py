import math

import pytest
import torch

from nri.losses import gaussian_nll, kl_categorical, kl_categorical_uniform

B, N, E = 3, 5, 20


def test_nll_scale_is_1e4_48_4_mse() -> None:
    g = torch.Generator().manual_seed(0)
    target = torch.randn(B, N, 48, 4, generator=g)
    pred = target + 0.3 * torch.randn(B, N, 48, 4, generator=g)
    mse = (pred - target).pow(2).mean()
    nll = gaussian_nll(pred, target, variance=5e-5)
    torch.testing.assert_close(nll, 1e4 * 48 * 4 * mse, rtol=1e-5, atol=0)
    # the constant: 0.5 log(2 pi var) per element, 48 * 4 elements per object
    with_const = gaussian_nll(pred, target, variance=5e-5, add_const=True)
    const = 0.5 * math.log(2 * math.pi * 5e-5) * 48 * 4
    torch.testing.assert_close(with_const - nll, torch.tensor(const), rtol=1e-4, atol=0)


def test_nll_is_float32_for_bf16_inputs() -> None:
    pred = torch.randn(B, N, 4, 4, dtype=torch.bfloat16)
    assert gaussian_nll(pred, torch.zeros_like(pred)).dtype == torch.float32
    with pytest.raises(ValueError, match="same shape"):
        gaussian_nll(pred, pred[:, :, 1:])


def test_kl_uniform_q_is_zero_with_the_constant() -> None:
    q = torch.full((B, E, 3), 1 / 3)
    torch.testing.assert_close(kl_categorical_uniform(q), torch.tensor(0.0))
    # reference (Q7): the negative entropy, -log K per edge, / N
    expected = torch.tensor(-E * math.log(3) / N)
    torch.testing.assert_close(kl_categorical_uniform(q, add_const=False), expected)


def test_kl_is_nonnegative_and_matches_the_general_form() -> None:
    q = torch.softmax(torch.randn(B, E, 2) * 3, -1)
    kl = kl_categorical_uniform(q)
    assert kl > 0
    log_prior = torch.log(torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(kl_categorical(q, log_prior), kl)


def test_kl_to_a_prior_hand_case() -> None:
    q = torch.zeros(1, 2, 2)  # N = 2, E = 2
    q[0, :, 0] = 1.0  # every edge certain of type 0
    log_prior = torch.log(torch.tensor([0.9, 0.1]))
    # per edge: 1 * (log 1 - log 0.9); 2 edges / (B N = 2)
    torch.testing.assert_close(
        kl_categorical(q, log_prior), torch.tensor(-math.log(0.9))
    )
    with pytest.raises(ValueError, match="log_prior"):
        kl_categorical(q, torch.zeros(3))
    with pytest.raises(ValueError, match="E = N"):
        kl_categorical_uniform(torch.full((1, 7, 2), 0.5))

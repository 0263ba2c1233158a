import pytest
import torch

from nri.nn.cnn import CNN
from nri.nn.mlp import MLP


def test_mlp_shapes_init_and_batchnorm_over_all_positions() -> None:
    torch.manual_seed(0)
    mlp = MLP(7, 32, 16)
    assert torch.all(mlp.fc1.bias == 0.1) and torch.all(mlp.fc2.bias == 0.1)
    x = torch.randn(2, 5, 3, 7)  # [B, N, S, in]
    y = mlp(x)
    assert y.shape == (2, 5, 3, 16)
    flat = y.reshape(-1, 16)  # statistics over B*N*S positions
    torch.testing.assert_close(flat.mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    mlp.eval()
    assert mlp(x).shape == (2, 5, 3, 16)


def test_cnn_shapes_and_min_length() -> None:
    cnn = CNN(8, 16, 12)
    assert cnn(torch.randn(6, 8, 49)).shape == (6, 12)
    assert cnn(torch.randn(6, 8, 14)).shape == (6, 12)
    with pytest.raises(ValueError, match="T >= 14"):
        cnn(torch.randn(6, 8, 13))
    assert torch.all(cnn.conv1.bias == 0.1)

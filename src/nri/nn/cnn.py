"""The NRI temporal CNN reducer (spec/nri.md section 2.2)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MIN_TIMESTEPS = 14  # 14 -> 10 (conv 5) -> 5 (pool 2) -> 1 (conv 5)


class CNN(nn.Module):
    """Two 1-d convolutions, max-pooling and attention-weighted mean over time.

    ``Conv1d(k=5) -> ReLU -> BatchNorm -> Dropout -> MaxPool(2) -> Conv1d(k=5) -> ReLU
    -> BatchNorm``, then ``pred = Conv1d(k=1)``, ``att = softmax_t Conv1d(hid, 1, k=1)``
    and the output is the mean over time of ``pred * att`` (as the reference code:
    a mean, not a sum, of the attention-weighted values). Conv weights
    ``N(0, sqrt(2 / (kernel * out_channels)))``, bias 0.1.

    Args:
        in_channels: input channels (2 * features for the NRI edge encoder).
        hidden_dim: channels of both convolutions.
        out_dim: output width.
        dropout: dropout probability after the first BatchNorm.

    Shapes:
        x ``[M, in_channels, T]`` with ``T >= 14`` -> ``[M, out_dim]``.
    """

    def __init__(
        self, in_channels: int, hidden_dim: int, out_dim: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, hidden_dim, kernel_size=5)
        self.bn1 = nn.BatchNorm1d(hidden_dim)
        self.conv2 = nn.Conv1d(hidden_dim, hidden_dim, kernel_size=5)
        self.bn2 = nn.BatchNorm1d(hidden_dim)
        self.conv_predict = nn.Conv1d(hidden_dim, out_dim, kernel_size=1)
        self.conv_attention = nn.Conv1d(hidden_dim, 1, kernel_size=1)
        self.dropout = dropout
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                n = m.kernel_size[0] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
                nn.init.constant_(m.bias, 0.1)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[2] < MIN_TIMESTEPS:
            raise ValueError(
                f"CNN input must be [M, C, T] with T >= {MIN_TIMESTEPS}, "
                f"got {tuple(x.shape)}"
            )
        h = self.bn1(F.relu(self.conv1(x)))  # [M, H, T-4]
        h = F.dropout(h, self.dropout, training=self.training)
        h = F.max_pool1d(h, kernel_size=2)  # [M, H, (T-4)//2]
        h = self.bn2(F.relu(self.conv2(h)))  # [M, H, T'']
        pred = self.conv_predict(h)  # [M, out, T'']
        att = torch.softmax(self.conv_attention(h), dim=2)  # [M, 1, T'']
        return (pred * att).mean(dim=2)  # [M, out]

"""The NRI MLP block (spec/nri.md section 2.1)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class MLP(nn.Module):
    """``Linear -> ELU -> Dropout -> Linear -> ELU -> BatchNorm1d`` (Kipf et al. 2018).

    BatchNorm normalises over all leading positions flattened together (batch and the
    node or edge axis, and any further axes), as in the reference code. Weights are
    Xavier-normal with bias 0.1; BatchNorm weight 1, bias 0.

    Args:
        in_dim: input width.
        hidden_dim: width after the first Linear.
        out_dim: output width.
        dropout: dropout probability after the first ELU (respects train/eval).

    Shapes:
        x ``[..., in_dim]`` -> ``[..., out_dim]``.
    """

    def __init__(
        self, in_dim: int, hidden_dim: int, out_dim: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.dropout = dropout
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for fc in (self.fc1, self.fc2):
            nn.init.xavier_normal_(fc.weight)
            nn.init.constant_(fc.bias, 0.1)
        nn.init.ones_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)

    def forward(self, x: Tensor) -> Tensor:
        h = F.elu(self.fc1(x))  # [..., H]
        h = F.dropout(h, self.dropout, training=self.training)
        h = F.elu(self.fc2(h))  # [..., out]
        flat = h.reshape(-1, h.shape[-1])  # [..., out] -> [prod(...), out]
        return self.bn(flat).view(h.shape)  # -> [..., out]

"""The NRI MLP block (spec/nri.md 2.1) and NRI-MPM's variant (spec/nri-mpm.md 2.1)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class MLP(nn.Module):
    """``Linear -> ELU -> Dropout -> Linear -> ELU -> BatchNorm1d`` (Kipf et al. 2018).

    With ``hidden_batch_norm=True`` it is NRI-MPM's block (Chen et al. 2021; spec/nri-mpm.md
    2.1): ``Linear -> ELU -> BatchNorm1d -> Dropout -> Linear -> ELU -> BatchNorm1d``, one
    more BatchNorm (``bn_hidden``) after the first layer.

    BatchNorm normalises over all leading positions flattened together (batch and the
    node or edge axis, and any further axes), as in the reference code. Weights are
    Xavier-normal with bias 0.1; BatchNorm weight 1, bias 0.

    Args:
        in_dim: input width.
        hidden_dim: width after the first Linear.
        out_dim: output width.
        dropout: dropout probability after the first ELU (respects train/eval).
        hidden_batch_norm: add the MPM BatchNorm after the first ELU.

    Shapes:
        x ``[..., in_dim]`` -> ``[..., out_dim]``.
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        out_dim: int,
        dropout: float = 0.0,
        hidden_batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.bn_hidden = nn.BatchNorm1d(hidden_dim) if hidden_batch_norm else None
        self.fc2 = nn.Linear(hidden_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.dropout = dropout
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for fc in (self.fc1, self.fc2):
            nn.init.xavier_normal_(fc.weight)
            nn.init.constant_(fc.bias, 0.1)
        for bn in (self.bn, self.bn_hidden):
            if bn is not None:
                nn.init.ones_(bn.weight)
                nn.init.zeros_(bn.bias)

    def forward(self, x: Tensor) -> Tensor:
        h = F.elu(self.fc1(x))  # [..., H]
        if self.bn_hidden is not None:
            flat = h.reshape(-1, h.shape[-1])  # [..., H] -> [prod(...), H]
            h = self.bn_hidden(flat).view(h.shape)
        h = F.dropout(h, self.dropout, training=self.training)
        h = F.elu(self.fc2(h))  # [..., out]
        flat = h.reshape(-1, h.shape[-1])  # [..., out] -> [prod(...), out]
        return self.bn(flat).view(h.shape)  # -> [..., out]

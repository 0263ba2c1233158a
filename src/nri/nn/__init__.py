"""Leaf blocks with explicit integer sizes: MLP, CNN, Gumbel-softmax."""

from nri.nn.cnn import CNN
from nri.nn.gumbel import gumbel_softmax, sample_gumbel
from nri.nn.mlp import MLP

__all__ = ["CNN", "MLP", "gumbel_softmax", "sample_gumbel"]
